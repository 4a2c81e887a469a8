package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/identity"
)

type statusOptions struct {
	peopleOptions
	person string
	output string
}

func newStatusCmd(s Streams) *cobra.Command {
	opts := statusOptions{}
	cmd := &cobra.Command{
		Use:   "status PERSON",
		Short: "Everything known about one person, by any of their names or ids",
		Long: `Show one person on one screen: the person record, the wave and where its window stands,
the source and target accounts (enabled, sessions valid from, last sign-in), their Intune
devices with the Entra device objects, and Authenticator registration in both tenants, as of
the last sync. PERSON is any of: source, staging or final sign-in name, either account's
object id or mail, or the person id.`,
		Example: `  cutover status mary.major@contoso.com
  cutover status mary.major@fabrikam.onmicrosoft.com --output json`,
		Args: argsExactly(1, "one PERSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.output != outputTable && opts.output != outputJSON {
				return usageError{fmt.Errorf("--output must be table or json, not %q", opts.output)}
			}
			opts.person = args[0]
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return statusRun(cmd.Context(), s, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.output, "output", "o", outputTable, "output format: table or json")
	return cmd
}

func statusRun(ctx context.Context, s Streams, opts statusOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	st, err := identity.Lookup(ctx, is.store, opts.person, is.now)
	if err != nil {
		return err
	}
	if opts.output == outputJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return writeStatus(s.Out, st, is.location())
}

// writeStatus lays a person's status out for a terminal: a few labelled blocks.
func writeStatus(w io.Writer, st *identity.Status, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(label, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", label, fmt.Sprintf(format, args...))
	}
	name := st.Person.SourceUPN
	if st.Source != nil && st.Source.DisplayName != "" {
		name = st.Source.DisplayName
	}
	fmt.Fprintf(tw, "%s (person %d)\n", name, st.Person.ID)
	line("Use", "%s", st.Use)
	line("Names", "source %s, staging %s, final %s", st.Person.SourceUPN,
		dash(st.Person.StagingUPN), st.Person.FinalUPN)
	if st.Person.Excluded {
		line("Excluded", "yes (exclusions.users in cutover.yaml)")
	}
	if st.Wave == nil {
		line("Wave", "none")
	} else {
		wv := st.Wave
		line("Wave", "%s: %s → %s (%s)", wv.Name, showTime(wv.WindowStart, loc),
			showTime(wv.WindowEnd, loc), wv.Phase)
		line("Grace", "%d days: source account blocked from %s", wv.GraceDays,
			showTime(wv.GraceEnd, loc))
	}
	line("Imported", "%s", showTime(st.Person.ImportedAt, loc))
	for _, a := range []*identity.AccountInfo{st.Source, st.Target} {
		fmt.Fprintln(tw)
		writeAccount(tw, a, loc, st)
	}
	return tw.Flush()
}

func writeAccount(tw io.Writer, a *identity.AccountInfo, loc *time.Location, st *identity.Status) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", label, fmt.Sprintf(format, args...))
	}
	if a == nil {
		fmt.Fprintf(tw, "Target account\tnone yet: to be provisioned as %s\n", dash(st.Person.StagingUPN))
		return
	}
	title := "Source account"
	if a.Tenant == "target" {
		title = "Target account"
	}
	if a.Missing {
		fmt.Fprintf(tw, "%s\t%s: not in the inventory (run cutover sync)\n", title, a.ID)
		return
	}
	state := "enabled"
	switch {
	case a.Deleted:
		state = "deleted"
	case a.Enabled == nil:
		state = "enabled: unknown"
	case !*a.Enabled:
		state = "disabled"
	}
	fmt.Fprintf(tw, "%s\t%s (%s)\n", title, a.UPN, state)
	line("Object id", "%s", a.ID)
	if a.Mail != "" {
		line("Mail", "%s", a.Mail)
	}
	line("Sessions valid from", "%s", showTimePtr(a.SessionsValidFrom, loc))
	if a.LastSignIn != nil || a.LastSuccessfulSignIn != nil {
		line("Last sign-in", "%s (successful: %s)", showTimePtr(a.LastSignIn, loc),
			showTimePtr(a.LastSuccessfulSignIn, loc))
	} else {
		line("Last sign-in", "not in the inventory")
	}
	line("Authenticator", "%s", describeMethods(a.Authenticator))
	if len(a.Devices) == 0 {
		line("Devices", "none in Intune")
	}
	for i, d := range a.Devices {
		label := ""
		if i == 0 {
			label = fmt.Sprintf("Devices (%d)", len(a.Devices))
		}
		line(label, "%s", describeDevice(d, loc))
	}
}

func describeMethods(m *identity.MethodsInfo) string {
	if m == nil {
		return "not in the registration report"
	}
	state := "not registered"
	if m.Authenticator {
		state = "registered"
	}
	methods := "no methods"
	if len(m.Methods) > 0 {
		methods = strings.Join(m.Methods, ", ")
	}
	return fmt.Sprintf("%s (%s)", state, methods)
}

func describeDevice(d identity.DeviceInfo, loc *time.Location) string {
	s := fmt.Sprintf("%s, %s %s, %s, %s, last sync %s", d.Name, d.OS, d.OSVersion, d.Ownership,
		dash(d.Compliance), showTimePtr(d.LastSyncAt, loc))
	switch {
	case d.Deleted:
		s += ", removed from Intune"
	case d.EntraID == "":
		s += ", no Entra device object"
	case d.EntraEnabled != nil && !*d.EntraEnabled:
		s += ", Entra device disabled"
	}
	return s
}

func showTimePtr(t *time.Time, loc *time.Location) string {
	if t == nil {
		return "-"
	}
	return showTime(*t, loc)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
