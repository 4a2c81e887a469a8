package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/identity"
	"github.com/cutoverhq/cutover/internal/store"
)

// identityState is what the people, waves and status commands work on: the project and its
// store, with the configuration's waves and exclusions already mirrored into the store.
type identityState struct {
	project *Project
	store   *store.Store
	now     time.Time
}

// openIdentityState opens the project's store and brings it in line with cutover.yaml: the
// declared waves are written over their store copies, and the excluded flag of every person
// follows exclusions.users. The caller closes the store.
func openIdentityState(ctx context.Context, project func() (*Project, error),
	now func() time.Time) (*identityState, error) {
	p, err := project()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	st, err := p.OpenStore(ctx)
	if err != nil {
		return nil, err
	}
	is := &identityState{project: p, store: st, now: now()}
	if err := is.mirrorConfig(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return is, nil
}

func (is *identityState) mirrorConfig(ctx context.Context) error {
	cfg := is.project.Config
	waves := make([]store.Wave, len(cfg.Waves))
	for i, w := range cfg.Waves {
		waves[i] = store.Wave{Name: w.Name, WindowStart: w.WindowStart, WindowEnd: w.WindowEnd,
			GraceDays: w.GraceDays}
	}
	if err := identity.MirrorWaves(ctx, is.store, waves, is.now); err != nil {
		return fmt.Errorf("mirror waves of %s: %w", is.project.ConfigPath, err)
	}
	if _, err := identity.RefreshExclusions(ctx, is.store, is.exclusions()); err != nil {
		return err
	}
	return nil
}

func (is *identityState) exclusions() identity.Exclusions {
	return identity.NewExclusions(is.project.Config.Exclusions.Users)
}

// location is the time zone times are shown in: the notifications' zone.
func (is *identityState) location() *time.Location {
	if loc := is.project.Config.Policies.Notifications.Location; loc != nil {
		return loc
	}
	return time.UTC
}

func (is *identityState) close() { is.store.Close() }

// peopleOptions are shared by the people subcommands.
type peopleOptions struct {
	project func() (*Project, error)
	now     func() time.Time
}

func newPeopleCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "people",
		Short: "Import, match and list the people who move",
		Long: `A person pairs a source account with a target account, with a staging sign-in name
(the target account's name before the domain moves), a final sign-in name and a wave.
See docs/people-and-waves.md for the CSV format and the validation rules.`,
		Args: noArgs,
	}
	cmd.AddCommand(newPeopleImportCmd(s), newPeopleMatchCmd(s), newPeopleListCmd(s))
	return cmd
}

type peopleImportOptions struct {
	peopleOptions
	file        string
	skipInvalid bool
}

func newPeopleImportCmd(s Streams) *cobra.Command {
	opts := peopleImportOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Validate a people CSV and import it (all or nothing)",
		Long: `Validate every row of a people CSV against the synced inventory, cutover.yaml and the
people already imported, then import it in one transaction. Columns (header required, any
order, any case): source, target, final, wave, note. Every problem is reported with its line
and column; with any problem nothing is imported, unless --skip-invalid, which imports the
valid rows and reports the rows it skipped. Rows identical to people already imported are
left as they are, so importing the same file twice is harmless. FILE - reads stdin.`,
		Example: `  cutover people import people.csv
  cutover people match --by employeeId > people.csv && cutover people import people.csv`,
		Args: argsExactly(1, "FILE.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return peopleImportRun(cmd.Context(), s, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.skipInvalid, "skip-invalid", false,
		"import the valid rows and report the others, instead of importing nothing")
	return cmd
}

func peopleImportRun(ctx context.Context, s Streams, opts peopleImportOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	in, name, closeIn, err := openInput(s, opts.file)
	if err != nil {
		return err
	}
	defer closeIn()

	res, err := identity.Import(ctx, is.store, in, identity.ImportOptions{File: name,
		Provision: is.project.Config.Policies.Steps.Provision, Exclusions: is.exclusions(),
		SkipInvalid: opts.skipInvalid, Now: is.now})
	var probs identity.Problems
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintln(s.Err, p)
		}
		return fmt.Errorf("%s in %s; nothing was imported (fix them, or import the valid "+
			"rows with --skip-invalid)", countNoun(len(probs), "problem"), name)
	}
	if err != nil {
		return err
	}
	for _, p := range res.Skipped {
		fmt.Fprintf(s.Err, "skipped %s\n", p)
	}
	fmt.Fprintf(s.Out, "imported %s from %s", countNoun(len(res.Imported), "person"), name)
	if res.Unchanged > 0 {
		fmt.Fprintf(s.Out, "; %d already imported as is", res.Unchanged)
	}
	if res.SkippedRows > 0 {
		fmt.Fprintf(s.Out, "; skipped %s of %d with problems", countNoun(res.SkippedRows, "row"), res.Rows)
	}
	fmt.Fprintln(s.Out)
	return nil
}

// openInput opens a file argument, "-" meaning stdin.
func openInput(s Streams, path string) (io.Reader, string, func(), error) {
	if path == "-" {
		return s.In, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, filepath.Base(path), func() { f.Close() }, nil
}

// countNoun formats "1 person", "3 people", "2 problems".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "person" {
		return strconv.Itoa(n) + " people"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

type peopleMatchOptions struct {
	peopleOptions
	by string
}

func newPeopleMatchCmd(s Streams) *cobra.Command {
	opts := peopleMatchOptions{}
	cmd := &cobra.Command{
		Use:   "match --by mail|employeeId|upn-prefix",
		Short: "Propose source-to-target pairs from the inventory as a people CSV",
		Long: `Pair every source member who is not a person yet with the one target account that has
the same mail, employee id or user name (the part before the @), and write the pairs to
stdout in the import format for review. A pair is proposed only when exactly one target
account fits; among several, the one on the target's initial domain (the staging account) is
taken when it is the only one there. Unmatched source users are listed on stderr with the
reason. Excluded accounts and guests are left out.`,
		Example: `  cutover people match --by employeeId > people.csv`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(identity.MatchAttributes, opts.by) {
				return usageError{fmt.Errorf("--by must be %s, not %q",
					strings.Join(identity.MatchAttributes, ", "), opts.by)}
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return peopleMatchRun(cmd.Context(), s, opts)
		},
	}
	cmd.Flags().StringVar(&opts.by, "by", "", "attribute to match by: mail, employeeId or upn-prefix")
	return cmd
}

// argsExactly requires n positional arguments, described by what in the usage error.
func argsExactly(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %s (got %d arguments)", cmd.CommandPath(),
				what, len(args))}
		}
		return nil
	}
}

func peopleMatchRun(ctx context.Context, s Streams, opts peopleMatchOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	res, err := identity.Match(ctx, is.store, opts.by, is.exclusions())
	if err != nil {
		return err
	}
	if err := identity.WriteCSV(s.Out, res.Pairs); err != nil {
		return err
	}
	for _, u := range res.Unmatched {
		fmt.Fprintf(s.Err, "unmatched %s: %s\n", u.Source.UPN, u.Reason)
	}
	fmt.Fprintf(s.Err, "proposed %s by %s; %d source users unmatched; passed over %d already "+
		"imported, %d excluded, %d guests\n", countNoun(len(res.Pairs), "pair"), opts.by,
		len(res.Unmatched), res.Imported, res.Excluded, res.Guests)
	return nil
}

type peopleListOptions struct {
	peopleOptions
	output     string
	wave       string
	excluded   bool
	unassigned bool
	search     string
}

func newPeopleListCmd(s Streams) *cobra.Command {
	opts := peopleListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List people, with filters",
		Long: `List the imported people with both accounts' names, the final name and the wave.
Filters combine: --wave NAME, --unassigned (in no wave), --excluded (only people whose
accounts cutover.yaml excludes), --search TEXT (any name, mail, employee id or object id
containing TEXT, without regard to case).`,
		Example: `  cutover people list --wave wave-1
  cutover people list --search major --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(opts.output); err != nil {
				return err
			}
			if opts.wave != "" && opts.unassigned {
				return usageError{errors.New("--wave and --unassigned exclude each other")}
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return peopleListRun(cmd.Context(), s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.wave, "wave", "", "only people in this wave")
	f.BoolVar(&opts.unassigned, "unassigned", false, "only people in no wave")
	f.BoolVar(&opts.excluded, "excluded", false, "only people whose accounts are excluded")
	f.StringVar(&opts.search, "search", "", "only people with a name or id containing this text")
	addOutputFlag(cmd, &opts.output)
	return cmd
}

// personJSON is a person in people list --output json.
type personJSON struct {
	ID           int64  `json:"id"`
	Source       string `json:"source"`
	SourceUserID string `json:"sourceUserId"`
	DisplayName  string `json:"displayName"`
	Target       string `json:"target"`
	TargetUserID string `json:"targetUserId"`
	Final        string `json:"final"`
	Wave         string `json:"wave"`
	Excluded     bool   `json:"excluded"`
	ImportedAt   string `json:"importedAt"`
}

func peopleListRun(ctx context.Context, s Streams, opts peopleListOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	f := store.PeopleFilter{Wave: opts.wave, Unassigned: opts.unassigned, Search: opts.search}
	if opts.wave != "" {
		if _, ok, err := is.store.WaveNamed(ctx, opts.wave); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("no wave named %s (see cutover waves list)", opts.wave)
		}
	}
	if opts.excluded {
		f.Excluded = &opts.excluded
	}
	people, err := is.store.People(ctx, f)
	if err != nil {
		return err
	}
	t := resultTable{Headers: []string{"id", "source", "name", "target", "final", "wave", "excluded"}}
	js := make([]personJSON, 0, len(people))
	for _, p := range people {
		j := personJSON{ID: p.ID, Source: orID(p.Source.UPN, p.SourceUserID),
			SourceUserID: p.SourceUserID, DisplayName: p.Source.DisplayName,
			Target: orID(p.Target.UPN, p.StagingUPN), TargetUserID: p.TargetUserID,
			Final: p.FinalUPN, Wave: p.Wave, Excluded: p.Excluded,
			ImportedAt: p.ImportedAt.UTC().Format(time.RFC3339)}
		js = append(js, j)
		t.Rows = append(t.Rows, []string{strconv.FormatInt(j.ID, 10), j.Source, j.DisplayName,
			j.Target, j.Final, j.Wave, yesNo(j.Excluded)})
	}
	if err := t.write(s.Out, opts.output, js); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	if opts.output == outputTable {
		fmt.Fprintf(s.Err, "%s\n", countNoun(len(people), "person"))
	}
	return nil
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
