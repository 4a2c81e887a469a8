package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

// MaxGraceDays bounds a wave's grace period, as the configuration does.
const MaxGraceDays = 90

// WaveStore is what the wave services need from the store.
type WaveStore interface {
	Waves(ctx context.Context) ([]store.Wave, error)
	WaveNamed(ctx context.Context, name string) (store.Wave, bool, error)
	CreateWave(ctx context.Context, w store.Wave, now time.Time) error
	UpdateWave(ctx context.Context, w store.Wave) error
	MirrorConfigWaves(ctx context.Context, waves []store.Wave, now time.Time) error
	People(ctx context.Context, f store.PeopleFilter) ([]store.PersonView, error)
	FindPeople(ctx context.Context, key string) ([]store.PersonView, error)
	AssignWave(ctx context.Context, wave string, ids []int64) error
}

var _ WaveStore = (*store.Store)(nil)

var waveName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CheckWave validates a wave's name, window and grace period.
func CheckWave(w store.Wave) error {
	switch {
	case !waveName.MatchString(w.Name):
		return fmt.Errorf("wave name %q: use 1 to 63 letters, digits, dots, dashes or "+
			"underscores, starting with a letter or digit", w.Name)
	case w.WindowStart.IsZero() || w.WindowEnd.IsZero():
		return fmt.Errorf("wave %s: the window needs a start and an end", w.Name)
	case !w.WindowEnd.After(w.WindowStart):
		return fmt.Errorf("wave %s: the window ends (%s) before it starts (%s)", w.Name,
			w.WindowEnd.Format(time.RFC3339), w.WindowStart.Format(time.RFC3339))
	case w.GraceDays < 0 || w.GraceDays > MaxGraceDays:
		return fmt.Errorf("wave %s: grace must be 0 to %d days, not %d", w.Name, MaxGraceDays,
			w.GraceDays)
	}
	return nil
}

// ErrConfigWave is returned when a command tries to change a wave declared in cutover.yaml.
var ErrConfigWave = errors.New("declared in cutover.yaml")

// CreateWave adds a store wave after checking it.
func CreateWave(ctx context.Context, st WaveStore, w store.Wave, now time.Time) error {
	if err := CheckWave(w); err != nil {
		return err
	}
	if err := st.CreateWave(ctx, w, now); err != nil {
		if errors.Is(err, store.ErrWaveExists) {
			return fmt.Errorf("wave %s already exists: change it with cutover waves set", w.Name)
		}
		return err
	}
	return nil
}

// WaveChange is a change to a wave's window or grace; nil fields stay as they are.
type WaveChange struct {
	Start, End *time.Time
	GraceDays  *int
}

// SetWave changes a store wave. A wave declared in cutover.yaml is refused: the file is the
// truth for it, and the next command would put it back.
func SetWave(ctx context.Context, st WaveStore, name string, ch WaveChange) (store.Wave, error) {
	w, ok, err := st.WaveNamed(ctx, name)
	switch {
	case err != nil:
		return w, err
	case !ok:
		return w, fmt.Errorf("no wave named %s", name)
	case w.FromConfig:
		return w, fmt.Errorf("wave %s is declared in cutover.yaml; change it there: %w", w.Name,
			ErrConfigWave)
	}
	if ch.Start != nil {
		w.WindowStart = *ch.Start
	}
	if ch.End != nil {
		w.WindowEnd = *ch.End
	}
	if ch.GraceDays != nil {
		w.GraceDays = *ch.GraceDays
	}
	if err := CheckWave(w); err != nil {
		return w, err
	}
	return w, st.UpdateWave(ctx, w)
}

// MirrorWaves writes the waves declared in the configuration into the store; the
// configuration wins over a store wave of the same name.
func MirrorWaves(ctx context.Context, st WaveStore, declared []store.Wave, now time.Time) error {
	for _, w := range declared {
		if err := CheckWave(w); err != nil {
			return fmt.Errorf("cutover.yaml: %w", err)
		}
	}
	return st.MirrorConfigWaves(ctx, declared, now)
}

// ParseFilter reads a people filter such as "department=Sales,domain=contoso.com": conditions
// joined by commas (all must hold), each field=value or field!=value, where value may use *
// as a wildcard and comparisons ignore case.
func ParseFilter(expr string) ([]store.Match, error) {
	var ms []store.Match
	for _, term := range strings.Split(expr, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		field, value, ok := strings.Cut(term, "=")
		m := store.Match{Field: strings.TrimSpace(field), Value: strings.TrimSpace(value)}
		if strings.HasSuffix(m.Field, "!") {
			m.Field, m.Negate = strings.TrimSpace(strings.TrimSuffix(m.Field, "!")), true
		}
		if !ok || m.Field == "" {
			return nil, fmt.Errorf("filter %q: want field=value or field!=value", term)
		}
		canon, ok := filterField(m.Field)
		if !ok {
			return nil, fmt.Errorf("filter %q: unknown field %s (fields: %s)", term, m.Field,
				strings.Join(store.MatchFields, ", "))
		}
		m.Field = canon
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, errors.New("the filter is empty")
	}
	return ms, nil
}

// filterField finds a filter field without regard to case.
func filterField(name string) (string, bool) {
	for _, f := range store.MatchFields {
		if strings.EqualFold(f, name) {
			return f, true
		}
	}
	return "", false
}

// AssignOptions say whom to put in a wave.
type AssignOptions struct {
	// Filter selects people by attributes (ParseFilter).
	Filter []store.Match
	// People names people one by one, by any of their names or ids (Lookup's keys).
	People []string
	// CSV is a people file (its source column names the people); CSVName names it in problems.
	CSV     io.Reader
	CSVName string
	// Move allows taking people out of another wave; without it they are refused.
	Move bool
	// Exclusions: excluded people are never assigned.
	Exclusions Exclusions
}

// AssignResult says what an assignment did.
type AssignResult struct {
	Wave     string
	Assigned int
	// Already counts people who were in the wave already.
	Already int
	// Moved counts people taken from another wave (Move only).
	Moved int
}

// Assign puts the selected people in wave, all or none: any person who cannot be assigned
// (unknown, excluded, in another wave without Move) stops it, with every problem listed.
func Assign(ctx context.Context, st WaveStore, wave string, opts AssignOptions) (AssignResult, error) {
	w, ok, err := st.WaveNamed(ctx, wave)
	if err != nil {
		return AssignResult{}, err
	}
	if !ok {
		return AssignResult{}, fmt.Errorf("no wave named %s", wave)
	}
	people, probs, err := selectPeople(ctx, st, opts)
	if err != nil {
		return AssignResult{}, err
	}
	res := AssignResult{Wave: w.Name}
	var ids []int64
	for _, p := range people {
		switch {
		case p.Excluded || opts.Exclusions.Has(p.SourceUserID, p.TargetUserID, p.Source.UPN):
			probs = append(probs, Problem{File: opts.CSVName, Message: fmt.Sprintf(
				"%s is excluded in cutover.yaml (exclusions.users)", personName(p))})
		case strings.EqualFold(p.Wave, w.Name):
			res.Already++
		case p.Wave != "" && !opts.Move:
			probs = append(probs, Problem{File: opts.CSVName, Message: fmt.Sprintf(
				"%s is in wave %s (use --move to move them)", personName(p), p.Wave)})
		default:
			if p.Wave != "" {
				res.Moved++
			}
			ids = append(ids, p.ID)
		}
	}
	if len(probs) > 0 {
		return AssignResult{}, probs
	}
	if err := st.AssignWave(ctx, w.Name, ids); err != nil {
		return AssignResult{}, err
	}
	res.Assigned = len(ids)
	return res, nil
}

// personName is how messages name a person: the source sign-in name, or the person id.
func personName(p store.PersonView) string {
	if p.Source.UPN != "" {
		return p.Source.UPN
	}
	return fmt.Sprintf("person %d", p.ID)
}

// selectPeople gathers the people the options name, once each.
func selectPeople(ctx context.Context, st WaveStore, opts AssignOptions) ([]store.PersonView, Problems, error) {
	var out []store.PersonView
	var probs Problems
	seen := map[int64]bool{}
	add := func(ps ...store.PersonView) {
		for _, p := range ps {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	if len(opts.Filter) > 0 {
		ps, err := st.People(ctx, store.PeopleFilter{Match: opts.Filter})
		if err != nil {
			return nil, nil, err
		}
		add(ps...)
	}
	for _, key := range opts.People {
		p, err := lookupOne(ctx, st, key)
		if err != nil {
			probs = append(probs, Problem{File: "", Message: err.Error()})
			continue
		}
		add(p)
	}
	if opts.CSV != nil {
		ps, csvProbs, err := peopleFromCSV(ctx, st, opts.CSVName, opts.CSV)
		if err != nil {
			return nil, nil, err
		}
		probs = append(probs, csvProbs...)
		add(ps...)
	}
	return out, probs, nil
}

// peopleFromCSV resolves each row of a people file to a person by its source column.
func peopleFromCSV(ctx context.Context, st WaveStore, name string, r io.Reader) ([]store.PersonView, Problems, error) {
	rows, probs, err := ReadCSV(name, r)
	if err != nil {
		return nil, nil, err
	}
	var out []store.PersonView
	for _, row := range rows {
		if row.Source == "" {
			probs = append(probs, Problem{File: name, Line: row.Line, Column: ColSource,
				Message: "required: the person's source sign-in name or id"})
			continue
		}
		p, err := lookupOne(ctx, st, row.Source)
		if err != nil {
			probs = append(probs, Problem{File: name, Line: row.Line, Column: ColSource,
				Message: err.Error()})
			continue
		}
		out = append(out, p)
	}
	return out, probs, nil
}

// lookupOne finds exactly one person by key.
func lookupOne(ctx context.Context, st interface {
	FindPeople(ctx context.Context, key string) ([]store.PersonView, error)
}, key string) (store.PersonView, error) {
	ps, err := st.FindPeople(ctx, key)
	if err != nil {
		return store.PersonView{}, err
	}
	switch len(ps) {
	case 0:
		return store.PersonView{}, fmt.Errorf("no person is known as %s", key)
	case 1:
		return ps[0], nil
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%d (%s)", p.ID, personName(p))
	}
	return store.PersonView{}, fmt.Errorf("%s names %d people: %s; use a person id", key,
		len(ps), strings.Join(names, ", "))
}

// WavePhase says where a wave is in its timeline at a given time.
func WavePhase(w store.Wave, now time.Time) string {
	switch graceEnd := GraceEnd(w); {
	case now.Before(w.WindowStart):
		return "planned"
	case now.Before(w.WindowEnd):
		return "in window"
	case now.Before(graceEnd):
		return "grace"
	default:
		return "grace over"
	}
}

// GraceEnd is when the wave's source accounts are due to be blocked: grace days after the
// window starts.
func GraceEnd(w store.Wave) time.Time {
	return w.WindowStart.AddDate(0, 0, w.GraceDays)
}
