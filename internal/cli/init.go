package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graphsim"
)

type initOptions struct {
	dir            string
	force          bool
	fromSim        string
	simApps        []string
	sourceTenant   string
	targetTenant   string
	sourceClientID string
	targetClientID string
	auth           string
	senders        []string
	timeZone       string
}

func newInitCmd(s Streams) *cobra.Command {
	opts := initOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented cutover.yaml",
		Long: `Write a commented cutover.yaml into the project folder (--project, default the current
folder), pre-filled from the flags. An existing file is kept unless --force is given.

With --from-sim, both tenants are filled from a simulator description (cutover sim
--describe sim.json): URLs, CA file, tenant ids and app registrations, with the secrets
referenced as CUTOVER_SOURCE_SECRET and CUTOVER_TARGET_SECRET. The export lines that set
them are printed on standard output, never written to a file:

  eval "$(cutover init --from-sim sim.json)"`,
		Example: `  cutover init --source-tenant contoso.onmicrosoft.com --source-client-id <guid> \
    --target-tenant fabrikam.onmicrosoft.com --target-client-id <guid>
  eval "$(cutover init --from-sim sim.json --force)"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.dir, _ = cmd.Flags().GetString(projectFlag)
			if err := opts.validate(); err != nil {
				return usageError{err}
			}
			return initRun(cmd.Context(), s, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.force, "force", false, "overwrite an existing cutover.yaml")
	f.StringVar(&opts.fromSim, "from-sim", "", "fill both tenants from a simulator description file")
	f.StringSliceVar(&opts.simApps, "sim-apps", []string{"cutover"},
		"with --from-sim: the simulator app registrations to configure, in order")
	f.StringVar(&opts.sourceTenant, "source-tenant", "", "source tenant id or verified domain")
	f.StringVar(&opts.targetTenant, "target-tenant", "", "target tenant id or verified domain")
	f.StringVar(&opts.sourceClientID, "source-client-id", "", "source app registration's client id")
	f.StringVar(&opts.targetClientID, "target-client-id", "", "target app registration's client id")
	f.StringVar(&opts.auth, "auth", config.AuthSecret,
		"credential kind: secret, managed-identity, azure-cli or device-code (certificate: edit the file)")
	f.StringSliceVar(&opts.senders, "sender", nil, "mailbox notices are sent from (repeatable)")
	f.StringVar(&opts.timeZone, "time-zone", "", "IANA time zone for notices, e.g. Europe/London")
	return cmd
}

func (o initOptions) validate() error {
	if o.fromSim != "" && (o.sourceTenant != "" || o.targetTenant != "" || o.sourceClientID != "" ||
		o.targetClientID != "") {
		return errors.New("--from-sim fills the tenants; do not combine it with --source-* or --target-*")
	}
	switch o.auth {
	case config.AuthSecret, config.AuthManagedIdentity, config.AuthAzureCLI, config.AuthDeviceCode:
	default:
		return fmt.Errorf("--auth must be secret, managed-identity, azure-cli or device-code, not %q", o.auth)
	}
	if len(o.simApps) == 0 {
		return errors.New("--sim-apps needs at least one app name")
	}
	return nil
}

// initRun renders the template, proves that it loads, and writes it. Nothing is written when
// the pre-filled values are wrong.
func initRun(_ context.Context, s Streams, opts initOptions) error {
	if opts.dir == "" {
		opts.dir = "."
	}
	path := filepath.Join(opts.dir, config.FileName)
	if _, err := os.Stat(path); err == nil && !opts.force {
		return fmt.Errorf("%s already exists; pass --force to overwrite it", path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check for an existing configuration: %w", err)
	}

	// Pre-fill the values.
	values := config.DefaultTemplateValues()
	var secrets []secretExport
	if opts.fromSim != "" {
		var err error
		if secrets, err = fillFromSim(&values, opts); err != nil {
			return err
		}
	} else {
		fillFromFlags(&values, opts)
	}
	if len(opts.senders) > 0 {
		values.Senders = opts.senders
	}
	if opts.timeZone != "" {
		values.TimeZone = opts.timeZone
	}

	// Render and check before anything touches the disk.
	data, err := config.Template(values)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.dir, 0o755); err != nil {
		return fmt.Errorf("create project folder: %w", err)
	}
	if err := checkRendered(path, values); err != nil {
		return renderedError(err)
	}
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	reportInit(s, path, values, secrets)
	return nil
}

// checkRendered loads the rendered template with any placeholder client id replaced, so
// that only the placeholders a person is expected to fill in may remain.
func checkRendered(path string, v config.TemplateValues) error {
	const stand = "11111111-1111-4111-8111-111111111111"
	for _, t := range []*config.TemplateTenant{&v.Source, &v.Target} {
		apps := append([]config.TemplateApp(nil), t.Apps...)
		for i := range apps {
			if apps[i].ClientID == placeholderGUID {
				apps[i].ClientID = stand
			}
		}
		t.Apps = apps
	}
	data, err := config.Template(v)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("resolve project folder: %w", err)
	}
	_, err = config.Parse(path, data, dir)
	return err
}

// renderedError turns problems in a configuration that was never written into a usage error
// naming the keys: their line numbers would point into no file.
func renderedError(err error) error {
	var es config.Errors
	if !errors.As(err, &es) {
		return err
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "  " + e.Key + ": " + e.Msg
	}
	return usageError{fmt.Errorf("the values given would make an invalid %s (nothing was written):\n%s",
		config.FileName, strings.Join(lines, "\n"))}
}

const placeholderGUID = "00000000-0000-0000-0000-000000000000"

func fillFromFlags(v *config.TemplateValues, opts initOptions) {
	for _, side := range []struct {
		t              *config.TemplateTenant
		tenant, client string
	}{{&v.Source, opts.sourceTenant, opts.sourceClientID}, {&v.Target, opts.targetTenant, opts.targetClientID}} {
		if side.tenant != "" {
			side.t.Tenant = side.tenant
		}
		if side.client != "" {
			side.t.Apps[0].ClientID = side.client
		}
		side.t.Apps[0].Auth = opts.auth
		if opts.auth != config.AuthSecret {
			side.t.Apps[0].SecretEnv = ""
		}
	}
}

// secretExport is one environment variable the user must set.
type secretExport struct{ name, value string }

// fillFromSim fills both tenants from a simulator description.
func fillFromSim(v *config.TemplateValues, opts initOptions) ([]secretExport, error) {
	raw, err := os.ReadFile(opts.fromSim)
	if err != nil {
		return nil, fmt.Errorf("read simulator description: %w", err)
	}
	var d graphsim.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("read simulator description %s: %w", opts.fromSim, err)
	}
	var secrets []secretExport
	for _, role := range []string{config.RoleSource, config.RoleTarget} {
		dt := describedTenant(&d, role)
		if dt == nil {
			return nil, fmt.Errorf("simulator description %s has no %s tenant", opts.fromSim, role)
		}
		t := v.Source
		if role == config.RoleTarget {
			t = v.Target
		}
		t.Tenant, t.Cloud = dt.ID, config.CloudCustom
		t.AuthorityHost, t.GraphBaseURL, t.CAFile, t.TimeScale = d.AuthorityURL, d.BaseURL, d.CAFile, d.TimeScale
		t.Apps = nil
		for i, name := range opts.simApps {
			a := findDescribedApp(dt, name)
			if a == nil {
				return nil, fmt.Errorf("simulator %s tenant has no app registration %q (have: %s)",
					role, name, describedAppNames(dt))
			}
			env := secretEnvName(role, i)
			t.Apps = append(t.Apps, config.TemplateApp{Name: a.Name, ClientID: a.ClientID,
				Auth: config.AuthSecret, SecretEnv: env})
			secrets = append(secrets, secretExport{env, a.ClientSecret})
		}
		if role == config.RoleSource {
			v.Source = t
			v.Senders = []string{"it-migration@" + mailDomain(dt)}
		} else {
			v.Target = t
		}
	}
	return secrets, nil
}

// secretEnvName is CUTOVER_SOURCE_SECRET for a tenant's first app, CUTOVER_SOURCE_SECRET_2
// for its second, and so on.
func secretEnvName(role string, i int) string {
	name := "CUTOVER_" + strings.ToUpper(role) + "_SECRET"
	if i > 0 {
		name += fmt.Sprintf("_%d", i+1)
	}
	return name
}

func describedTenant(d *graphsim.Description, role string) *graphsim.DescribedTenant {
	for i := range d.Tenants {
		if d.Tenants[i].Role == role {
			return &d.Tenants[i]
		}
	}
	return nil
}

func findDescribedApp(dt *graphsim.DescribedTenant, name string) *graphsim.DescribedApp {
	for i := range dt.Apps {
		if dt.Apps[i].Name == name {
			return &dt.Apps[i]
		}
	}
	return nil
}

func describedAppNames(dt *graphsim.DescribedTenant) string {
	names := make([]string, len(dt.Apps))
	for i, a := range dt.Apps {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// mailDomain picks the domain notices come from: the tenant's verified custom domain, else
// its initial one.
func mailDomain(dt *graphsim.DescribedTenant) string {
	for _, dm := range dt.Domains {
		if dm.Verified && !dm.Initial {
			return dm.Name
		}
	}
	return dt.InitialDomain
}

// reportInit prints the export lines on standard output (so that eval can run them) and the
// rest on standard error.
func reportInit(s Streams, path string, v config.TemplateValues, secrets []secretExport) {
	fmt.Fprintf(s.Err, "wrote %s\n", path)
	for _, e := range secrets {
		fmt.Fprintf(s.Out, "export %s=%s\n", e.name, shellQuote(e.value))
	}
	if len(secrets) > 0 {
		fmt.Fprintln(s.Err, "set the secrets with the export lines above (or eval \"$(cutover init ...)\"); "+
			"they are in no file cutover wrote")
	}
	var todo []string
	for _, t := range []config.TemplateTenant{v.Source, v.Target} {
		for _, a := range t.Apps {
			if a.ClientID == placeholderGUID {
				todo = append(todo, "set the client ids of the app registrations")
				break
			}
		}
		if len(todo) > 0 {
			break
		}
	}
	todo = append(todo, "review the device policy, exclusions and waves",
		"run cutover config validate, then cutover check")
	fmt.Fprintln(s.Err, "next: "+strings.Join(todo, "; "))
}

// shellQuote quotes a value for POSIX shells.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// writeFileAtomic writes data to a temporary file in the same folder, syncs it and renames
// it over path, so that a crash leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
