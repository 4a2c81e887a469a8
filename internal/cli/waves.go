package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/identity"
	"github.com/cutoverhq/cutover/internal/store"
)

func newWavesCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "waves",
		Short: "Create waves, set their windows and assign people to them",
		Long: `A wave is a named group of people with a migration window (start and end) and a grace
period: the source accounts are blocked grace days after the window starts. Waves declared in
cutover.yaml are copied into the project's store whenever a command runs and can be changed
only in the file; waves created here live in the store only.`,
		Args: noArgs,
	}
	cmd.AddCommand(newWavesCreateCmd(s), newWavesSetCmd(s), newWavesAssignCmd(s),
		newWavesListCmd(s))
	return cmd
}

// waveTimeLayouts are the forms --start and --end accept; those without an offset are read
// in the notifications time zone of cutover.yaml.
var waveTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04"}

// parseWaveTime reads a window time.
func parseWaveTime(flag, v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range waveTimeLayouts[1:] {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("--%s %q: use 2026-06-06T18:00:00+01:00, or "+
		"2026-06-06T18:00 in the notifications time zone (%s)", flag, v, loc)}
}

// waveFlags are the window flags of create and set, kept as text until the time zone of the
// project is known.
type waveFlags struct {
	start, end string
	grace      int
}

func (f *waveFlags) register(cmd *cobra.Command, graceDefault string) {
	fl := cmd.Flags()
	fl.StringVar(&f.start, "start", "", "window start (2026-06-06T18:00:00+01:00, or 2026-06-06T18:00 in the notifications time zone)")
	fl.StringVar(&f.end, "end", "", "window end, same forms as --start")
	fl.IntVar(&f.grace, "grace", -1, "days from the window start until the source accounts are blocked ("+graceDefault+")")
}

type wavesCreateOptions struct {
	peopleOptions
	name string
	waveFlags
}

func newWavesCreateCmd(s Streams) *cobra.Command {
	opts := wavesCreateOptions{}
	cmd := &cobra.Command{
		Use:     "create NAME --start TIME --end TIME [--grace DAYS]",
		Short:   "Create a wave in the project's store",
		Example: `  cutover waves create wave-2 --start 2026-06-13T18:00 --end 2026-06-15T06:00 --grace 14`,
		Args:    argsExactly(1, "the wave's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.start == "" || opts.end == "" {
				return usageError{errors.New("--start and --end are required")}
			}
			opts.name = args[0]
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return wavesCreateRun(cmd.Context(), s, opts)
		},
	}
	opts.register(cmd, "default: policies.graceDays")
	return cmd
}

func wavesCreateRun(ctx context.Context, s Streams, opts wavesCreateOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	w := store.Wave{Name: opts.name, GraceDays: opts.grace}
	if w.WindowStart, err = parseWaveTime("start", opts.start, is.location()); err != nil {
		return err
	}
	if w.WindowEnd, err = parseWaveTime("end", opts.end, is.location()); err != nil {
		return err
	}
	if w.GraceDays < 0 {
		w.GraceDays = is.project.Config.Policies.GraceDays
	}
	if err := identity.CreateWave(ctx, is.store, w, is.now); err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "created wave %s: %s\n", w.Name, describeWindow(w, is.location()))
	return nil
}

// describeWindow says when a wave runs and when its grace ends, in loc.
func describeWindow(w store.Wave, loc *time.Location) string {
	return fmt.Sprintf("%s → %s, grace %d days (source accounts blocked from %s)",
		showTime(w.WindowStart, loc), showTime(w.WindowEnd, loc), w.GraceDays,
		showTime(identity.GraceEnd(w), loc))
}

func showTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

type wavesSetOptions struct {
	peopleOptions
	name   string
	change func(loc *time.Location) (identity.WaveChange, error)
}

func newWavesSetCmd(s Streams) *cobra.Command {
	opts := wavesSetOptions{}
	var flags waveFlags
	cmd := &cobra.Command{
		Use:   "set NAME [--start TIME] [--end TIME] [--grace DAYS]",
		Short: "Change a wave's window or grace period",
		Long: `Change the window start, window end or grace period of a wave created with cutover
waves create. A wave declared in cutover.yaml is changed in the file.`,
		Example: `  cutover waves set wave-2 --start 2026-06-20T18:00 --end 2026-06-22T06:00`,
		Args:    argsExactly(1, "the wave's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if !fl.Changed("start") && !fl.Changed("end") && !fl.Changed("grace") {
				return usageError{errors.New("nothing to change: give --start, --end or --grace")}
			}
			opts.name = args[0]
			opts.change = func(loc *time.Location) (identity.WaveChange, error) {
				return flags.change(fl.Changed, loc)
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return wavesSetRun(cmd.Context(), s, opts)
		},
	}
	flags.register(cmd, "unchanged when not given")
	return cmd
}

// change turns the flags that were given into a wave change.
func (f waveFlags) change(changed func(string) bool, loc *time.Location) (identity.WaveChange, error) {
	var ch identity.WaveChange
	for _, x := range []struct {
		flag, value string
		dst         **time.Time
	}{{"start", f.start, &ch.Start}, {"end", f.end, &ch.End}} {
		if changed(x.flag) {
			t, err := parseWaveTime(x.flag, x.value, loc)
			if err != nil {
				return ch, err
			}
			*x.dst = &t
		}
	}
	if changed("grace") {
		g := f.grace
		ch.GraceDays = &g
	}
	return ch, nil
}

func wavesSetRun(ctx context.Context, s Streams, opts wavesSetOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	ch, err := opts.change(is.location())
	if err != nil {
		return err
	}
	w, err := identity.SetWave(ctx, is.store, opts.name, ch)
	if errors.Is(err, identity.ErrConfigWave) {
		return fmt.Errorf("wave %s is declared in cutover.yaml; change it there", w.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "wave %s: %s\n", w.Name, describeWindow(w, is.location()))
	return nil
}

type wavesAssignOptions struct {
	peopleOptions
	wave    string
	people  []string
	filter  string
	csvFile string
	move    bool
}

func newWavesAssignCmd(s Streams) *cobra.Command {
	opts := wavesAssignOptions{}
	cmd := &cobra.Command{
		Use:   "assign WAVE [PERSON...] [--filter EXPR] [--from-people-csv FILE]",
		Short: "Put people in a wave: by name, by filter or from a CSV",
		Long: `Put people in a wave, all or none. People are named by any of their names or ids, by a
filter, or by a people CSV (its source column). A filter is field=value or field!=value
conditions joined by commas, all of which must hold; values may use * and ignore case.
Fields: ` + strings.Join(store.MatchFields, ", ") + ` (of the source account unless named
otherwise). People already in another wave are refused unless --move; excluded people are
always refused.`,
		Example: `  cutover waves assign wave-1 --filter 'domain=contoso.com,displayName=M*'
  cutover waves assign wave-2 --from-people-csv finance.csv
  cutover waves assign wave-2 mary.major@contoso.com --move`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s takes the WAVE and whom to assign", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.wave, opts.people = args[0], args[1:]
			if len(opts.people) == 0 && opts.filter == "" && opts.csvFile == "" {
				return usageError{errors.New("name people, or give --filter or --from-people-csv")}
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return wavesAssignRun(cmd.Context(), s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.filter, "filter", "", "select people by attributes, e.g. 'domain=contoso.com,upn=a*'")
	f.StringVar(&opts.csvFile, "from-people-csv", "", "select the people of a people CSV (source column; - for stdin)")
	f.BoolVar(&opts.move, "move", false, "take people out of the wave they are in")
	return cmd
}

func wavesAssignRun(ctx context.Context, s Streams, opts wavesAssignOptions) error {
	var matches []store.Match
	if opts.filter != "" {
		var err error
		if matches, err = identity.ParseFilter(opts.filter); err != nil {
			return usageError{fmt.Errorf("--filter: %w", err)}
		}
	}
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	ao := identity.AssignOptions{Filter: matches, People: opts.people, Move: opts.move,
		Exclusions: is.exclusions()}
	if opts.csvFile != "" {
		var closeIn func()
		var in io.Reader
		if in, ao.CSVName, closeIn, err = openInput(s, opts.csvFile); err != nil {
			return err
		}
		defer closeIn()
		ao.CSV = in
	}
	res, err := identity.Assign(ctx, is.store, opts.wave, ao)
	var probs identity.Problems
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintln(s.Err, p)
		}
		return fmt.Errorf("%s; nobody was assigned", countNoun(len(probs), "problem"))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "assigned %s to %s", countNoun(res.Assigned, "person"), res.Wave)
	if res.Moved > 0 {
		fmt.Fprintf(s.Out, " (%d moved from other waves)", res.Moved)
	}
	if res.Already > 0 {
		fmt.Fprintf(s.Out, "; %d already in it", res.Already)
	}
	fmt.Fprintln(s.Out)
	return nil
}

type wavesListOptions struct {
	peopleOptions
	output string
}

func newWavesListCmd(s Streams) *cobra.Command {
	opts := wavesListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List waves with their windows, phase and number of people",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(opts.output); err != nil {
				return err
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return wavesListRun(cmd.Context(), s, opts)
		},
	}
	addOutputFlag(cmd, &opts.output)
	return cmd
}

// waveJSON is a wave in waves list --output json.
type waveJSON struct {
	Name        string `json:"name"`
	WindowStart string `json:"windowStart"`
	WindowEnd   string `json:"windowEnd"`
	GraceDays   int    `json:"graceDays"`
	GraceEnd    string `json:"graceEnd"`
	Phase       string `json:"phase"`
	People      int    `json:"people"`
	DeclaredIn  string `json:"declaredIn"`
}

func wavesListRun(ctx context.Context, s Streams, opts wavesListOptions) error {
	is, err := openIdentityState(ctx, opts.project, opts.now)
	if err != nil {
		return err
	}
	defer is.close()
	waves, err := is.store.Waves(ctx)
	if err != nil {
		return err
	}
	unassigned, err := is.store.CountPeople(ctx, store.PeopleFilter{Unassigned: true})
	if err != nil {
		return err
	}
	loc := is.location()
	t := resultTable{Headers: []string{"name", "window start", "window end", "grace days",
		"grace end", "phase", "people", "declared in"}}
	js := make([]waveJSON, 0, len(waves))
	for _, w := range waves {
		j := waveJSON{Name: w.Name, WindowStart: w.WindowStart.In(loc).Format(time.RFC3339),
			WindowEnd: w.WindowEnd.In(loc).Format(time.RFC3339), GraceDays: w.GraceDays,
			GraceEnd: identity.GraceEnd(w).In(loc).Format(time.RFC3339),
			Phase:    identity.WavePhase(w, is.now), People: w.People, DeclaredIn: "store"}
		if w.FromConfig {
			j.DeclaredIn = "cutover.yaml"
		}
		js = append(js, j)
		start, end, grace := j.WindowStart, j.WindowEnd, j.GraceEnd
		if opts.output == outputTable {
			start, end = showTime(w.WindowStart, loc), showTime(w.WindowEnd, loc)
			grace = showTime(identity.GraceEnd(w), loc)
		}
		t.Rows = append(t.Rows, []string{j.Name, start, end, strconv.Itoa(j.GraceDays), grace,
			j.Phase, strconv.Itoa(j.People), j.DeclaredIn})
	}
	if err := t.write(s.Out, opts.output, js); err != nil {
		return fmt.Errorf("write waves: %w", err)
	}
	if opts.output == outputTable {
		fmt.Fprintf(s.Err, "%s; %s in no wave\n", countNoun(len(waves), "wave"),
			countNoun(unassigned, "person"))
	}
	return nil
}
