package identity

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

// ImportStore is what the importer needs from the store.
type ImportStore interface {
	InventoryUser(ctx context.Context, role, key string) (store.InventoryUser, bool, error)
	InventoryUsersNamed(ctx context.Context, role, name string) ([]store.InventoryUser, error)
	InventoryDomains(ctx context.Context, role string) ([]store.InventoryDomain, error)
	Waves(ctx context.Context) ([]store.Wave, error)
	PeopleSharing(ctx context.Context, p store.Person) ([]store.Person, error)
	AddPeople(ctx context.Context, people []store.Person) ([]int64, error)
}

var _ ImportStore = (*store.Store)(nil)

// ImportOptions configure an import.
type ImportOptions struct {
	// File names the input in problems ("people.csv").
	File string
	// Provision is true when the provision step is enabled: target accounts may then be
	// missing (cutover creates them), and a target column value is the name to create.
	Provision bool
	// Exclusions are the accounts the configuration excludes; they cannot be imported.
	Exclusions Exclusions
	// SkipInvalid imports the valid rows when others have problems, instead of nothing.
	SkipInvalid bool
	// Now stamps imported_at.
	Now time.Time
}

// ImportResult says what an import did.
type ImportResult struct {
	// Rows is the number of data rows read.
	Rows int
	// Imported are the people added, with their ids.
	Imported []store.Person
	// Unchanged counts rows identical to a person already imported.
	Unchanged int
	// Skipped are the problems of the rows left out (SkipInvalid only).
	Skipped Problems
	// SkippedRows counts the rows left out.
	SkippedRows int
}

// Import reads a people CSV, validates every row against the inventory, the configuration
// and the people already imported, and adds the valid people in one transaction. When any row
// has a problem it imports nothing and returns every problem as Problems, unless
// opts.SkipInvalid, which imports the valid rows and reports the others in the result.
// Problems with the file as a whole (header, encoding, an empty inventory) always stop it.
func Import(ctx context.Context, st ImportStore, r io.Reader, opts ImportOptions) (ImportResult, error) {
	rows, syntax, err := ReadCSV(opts.File, r)
	if err != nil {
		return ImportResult{}, err
	}
	if fileLevel(syntax) {
		return ImportResult{}, syntax
	}
	v, err := newValidator(ctx, st, opts)
	if err != nil {
		return ImportResult{}, err
	}
	if v.fileProblem != nil {
		return ImportResult{}, Problems{*v.fileProblem}
	}
	checked, err := v.checkAll(ctx, rows)
	if err != nil {
		return ImportResult{}, err
	}
	return commit(ctx, st, opts, len(rows)+countRows(syntax), syntax, checked)
}

// fileLevel reports whether the problems concern the file as a whole: nothing can be read
// from it row by row.
func fileLevel(ps Problems) bool {
	for _, p := range ps {
		if p.Line <= 1 {
			return true
		}
	}
	return false
}

// countRows counts the distinct lines with syntax problems: rows that were not read.
func countRows(ps Problems) int {
	lines := map[int]bool{}
	for _, p := range ps {
		lines[p.Line] = true
	}
	return len(lines)
}

// commit imports the valid rows, or nothing, as the options say.
func commit(ctx context.Context, st ImportStore, opts ImportOptions, total int,
	syntax Problems, checked []checkedRow) (ImportResult, error) {
	res := ImportResult{Rows: total, Skipped: syntax, SkippedRows: countRows(syntax)}
	var add []store.Person
	for _, c := range checked {
		switch {
		case len(c.problems) > 0:
			res.Skipped = append(res.Skipped, c.problems...)
			res.SkippedRows++
		case c.unchanged:
			res.Unchanged++
		default:
			add = append(add, c.person)
		}
	}
	sortProblems(res.Skipped)
	if len(res.Skipped) > 0 && !opts.SkipInvalid {
		return ImportResult{Rows: total}, res.Skipped
	}
	if len(add) == 0 {
		return res, nil
	}
	ids, err := st.AddPeople(ctx, add)
	if err != nil {
		return ImportResult{Rows: total}, fmt.Errorf("import %s: %w", opts.File, err)
	}
	for i := range add {
		add[i].ID = ids[i]
	}
	res.Imported = add
	return res, nil
}

func sortProblems(ps Problems) {
	order := map[string]int{"": 0, ColSource: 1, ColTarget: 2, ColFinal: 3, ColWave: 4}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return order[a.Column] - order[b.Column]
	})
}

// checkedRow is a row after validation: the person it would add, or its problems.
type checkedRow struct {
	row       Row
	person    store.Person
	problems  Problems
	unchanged bool
	// sourceUPN is the source account's sign-in name, for messages about duplicates.
	sourceUPN string
}

// validator holds what every row is checked against.
type validator struct {
	st      ImportStore
	opts    ImportOptions
	domains Domains
	waves   map[string]string // lowercased name → name
	// fileProblem is set when the inventory cannot support any check.
	fileProblem *Problem
}

func newValidator(ctx context.Context, st ImportStore, opts ImportOptions) (*validator, error) {
	src, err := st.InventoryDomains(ctx, store.Source)
	if err != nil {
		return nil, fmt.Errorf("read source domains: %w", err)
	}
	tgt, err := st.InventoryDomains(ctx, store.Target)
	if err != nil {
		return nil, fmt.Errorf("read target domains: %w", err)
	}
	waves, err := st.Waves(ctx)
	if err != nil {
		return nil, fmt.Errorf("read waves: %w", err)
	}
	v := &validator{st: st, opts: opts, domains: domainsFrom(src, tgt), waves: map[string]string{}}
	for _, w := range waves {
		v.waves[strings.ToLower(w.Name)] = w.Name
	}
	if len(src) == 0 || len(tgt) == 0 {
		v.fileProblem = &Problem{File: opts.File, Message: "the inventory has no domains for " +
			"the source or the target tenant: run cutover sync first"}
	}
	return v, nil
}

// checkAll checks each row on its own, then the rows against each other.
func (v *validator) checkAll(ctx context.Context, rows []Row) ([]checkedRow, error) {
	checked := make([]checkedRow, len(rows))
	for i, row := range rows {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("check %s: %w", v.opts.File, err)
		}
		c, err := v.check(ctx, row)
		if err != nil {
			return nil, fmt.Errorf("check %s line %d: %w", v.opts.File, row.Line, err)
		}
		checked[i] = c
	}
	v.checkDuplicates(checked)
	return checked, nil
}

// check validates one row and works out the person it describes.
func (v *validator) check(ctx context.Context, row Row) (checkedRow, error) {
	c := checkedRow{row: row}
	src, err := v.checkSource(ctx, &c)
	if err != nil {
		return c, err
	}
	tgt, err := v.checkTarget(ctx, &c)
	if err != nil {
		return c, err
	}
	if err := v.checkFinal(ctx, &c, src, tgt); err != nil {
		return c, err
	}
	v.checkWave(&c)
	c.person.ImportedAt = v.opts.Now
	if c.person.SourceUserID == "" {
		return c, nil
	}
	return c, v.checkExisting(ctx, &c)
}

// problem records a problem with column col of the row.
func (v *validator) problem(c *checkedRow, col, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: v.opts.File, Line: c.row.LineOf(col),
		Column: col, Message: fmt.Sprintf(format, args...)})
}

// checkSource resolves the source account; nil when it is unusable.
func (v *validator) checkSource(ctx context.Context, c *checkedRow) (*store.InventoryUser, error) {
	name := c.row.Source
	if name == "" {
		v.problem(c, ColSource, "required: the source account's sign-in name or object id")
		return nil, nil
	}
	u, ok, err := v.st.InventoryUser(ctx, store.Source, name)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		v.problem(c, ColSource, "no user %s in the source tenant", name)
		return nil, nil
	case u.Deleted:
		v.problem(c, ColSource, "user %s was deleted from the source tenant", name)
		return nil, nil
	case v.opts.Exclusions.excludesUser(u):
		v.problem(c, ColSource, "%s is excluded in cutover.yaml (exclusions.users)", u.UPN)
		return nil, nil
	}
	c.person.SourceUserID, c.sourceUPN = u.ID, u.UPN
	return &u, nil
}

// checkTarget resolves the target account or, with provisioning, the staging name of the
// account to create. It returns the target account when it exists.
func (v *validator) checkTarget(ctx context.Context, c *checkedRow) (*store.InventoryUser, error) {
	name := c.row.Target
	if name == "" {
		if !v.opts.Provision {
			v.problem(c, ColTarget, "required: the provision step is off "+
				"(policies.steps.provision), so the target account must exist")
		}
		return nil, nil
	}
	u, ok, err := v.st.InventoryUser(ctx, store.Target, name)
	switch {
	case err != nil:
		return nil, err
	case ok && u.Deleted:
		v.problem(c, ColTarget, "account %s was deleted from the target tenant", name)
		return nil, nil
	case ok && v.opts.Exclusions.excludesUser(u):
		v.problem(c, ColTarget, "%s is excluded in cutover.yaml (exclusions.users)", u.UPN)
		return nil, nil
	case ok:
		c.person.TargetUserID, c.person.StagingUPN = u.ID, u.UPN
		return &u, nil
	case !v.opts.Provision:
		v.problem(c, ColTarget, "no account %s in the target tenant (to have cutover create "+
			"it, enable policies.steps.provision)", name)
		return nil, nil
	}
	v.checkStagingName(c, name)
	return nil, nil
}

// checkStagingName checks the name of a target account to be provisioned.
func (v *validator) checkStagingName(c *checkedRow, name string) {
	switch {
	case checkSignInName(name) != "":
		v.problem(c, ColTarget, "no account %s in the target tenant, and it is not a sign-in "+
			"name to create: it %s", name, checkSignInName(name))
	case v.opts.Exclusions.Has(name):
		v.problem(c, ColTarget, "%s is excluded in cutover.yaml (exclusions.users)", name)
	case !slices.Contains(v.domains.Target, domainOf(name)):
		v.problem(c, ColTarget, "domain %s is not a verified domain of the target "+
			"(allowed: %s)", domainOf(name), strings.Join(v.domains.Target, ", "))
	default:
		c.person.StagingUPN = name
	}
}

// checkFinal checks the final sign-in name, which defaults to the source sign-in name (the
// usual case: the person keeps their name and the domain moves with them).
func (v *validator) checkFinal(ctx context.Context, c *checkedRow, src, tgt *store.InventoryUser) error {
	name := c.row.Final
	if name == "" {
		if src == nil {
			return nil
		}
		name = src.UPN
		if !slices.Contains(v.domains.Final, domainOf(name)) {
			v.problem(c, ColFinal, "required: the source sign-in name %s is on %s, which will "+
				"not belong to the target (allowed: %s)", name, domainOf(name),
				strings.Join(v.domains.Final, ", "))
			return nil
		}
	}
	if why := checkSignInName(name); why != "" {
		v.problem(c, ColFinal, "%s is not a valid sign-in name: it %s", name, why)
		return nil
	}
	if d := domainOf(name); !slices.Contains(v.domains.Final, d) {
		v.problem(c, ColFinal, "domain %s will not belong to the target (allowed: %s)", d,
			strings.Join(v.domains.Final, ", "))
		return nil
	}
	c.person.FinalUPN = name
	return v.checkFinalCollision(ctx, c, tgt)
}

// checkFinalCollision refuses a final name that another target account already uses as its
// sign-in name or mail: the rename at cutover would fail.
func (v *validator) checkFinalCollision(ctx context.Context, c *checkedRow, tgt *store.InventoryUser) error {
	others, err := v.st.InventoryUsersNamed(ctx, store.Target, c.person.FinalUPN)
	if err != nil {
		return err
	}
	for _, o := range others {
		if tgt != nil && o.ID == tgt.ID {
			continue
		}
		what := "sign-in name"
		if !strings.EqualFold(o.UPN, c.person.FinalUPN) {
			what = "mail"
		}
		v.problem(c, ColFinal, "%s is already the %s of target account %s (%s)",
			c.person.FinalUPN, what, o.UPN, o.ID)
		return nil
	}
	return nil
}

// checkWave resolves the wave to its stored name.
func (v *validator) checkWave(c *checkedRow) {
	if c.row.Wave == "" {
		return
	}
	name, ok := v.waves[strings.ToLower(c.row.Wave)]
	if !ok {
		known := slices.Sorted(mapValues(v.waves))
		hint := "no waves yet: create one with cutover waves create or declare it in cutover.yaml"
		if len(known) > 0 {
			hint = "waves: " + strings.Join(known, ", ")
		}
		v.problem(c, ColWave, "no wave named %s (%s)", c.row.Wave, hint)
		return
	}
	c.person.Wave = name
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// checkExisting compares the row with the people already imported: an identical person makes
// the row a no-op, so that importing the same file twice is harmless; anyone else holding
// one of its accounts or names is a duplicate.
func (v *validator) checkExisting(ctx context.Context, c *checkedRow) error {
	existing, err := v.st.PeopleSharing(ctx, c.person)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if samePerson(e, c.person) && len(c.problems) == 0 {
			c.unchanged = true
			continue
		}
		v.reportShared(c, e)
	}
	return nil
}

func samePerson(a, b store.Person) bool {
	return a.SourceUserID == b.SourceUserID && a.TargetUserID == b.TargetUserID &&
		strings.EqualFold(a.StagingUPN, b.StagingUPN) && strings.EqualFold(a.FinalUPN, b.FinalUPN) &&
		strings.EqualFold(a.Wave, b.Wave)
}

// reportShared names each account or name the row shares with an existing person e.
func (v *validator) reportShared(c *checkedRow, e store.Person) {
	p := c.person
	switch {
	case e.SourceUserID == p.SourceUserID && e.TargetUserID == p.TargetUserID &&
		strings.EqualFold(e.FinalUPN, p.FinalUPN):
		v.problem(c, ColWave, "%s is already imported (person %d) in wave %s; change "+
			"waves with cutover waves assign", c.sourceUPN, e.ID, orNone(e.Wave))
		return
	case e.SourceUserID == p.SourceUserID:
		v.problem(c, ColSource, "%s is already imported (person %d)", c.sourceUPN, e.ID)
	}
	if p.TargetUserID != "" && e.TargetUserID == p.TargetUserID ||
		p.StagingUPN != "" && strings.EqualFold(e.StagingUPN, p.StagingUPN) {
		v.problem(c, ColTarget, "%s is already the target of person %d", p.StagingUPN, e.ID)
	}
	if strings.EqualFold(e.FinalUPN, p.FinalUPN) {
		v.problem(c, ColFinal, "%s is already the final name of person %d", p.FinalUPN, e.ID)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// checkDuplicates reports accounts and names that several rows of the file claim. Every row
// involved gets the problem, naming the other lines: the file does not say which is right.
func (v *validator) checkDuplicates(checked []checkedRow) {
	lines := map[claim][]int{}
	add := func(i int, col, key string) {
		if key != "" {
			k := claim{col, strings.ToLower(key)}
			lines[k] = append(lines[k], i)
		}
	}
	for i, c := range checked {
		add(i, ColSource, c.person.SourceUserID)
		add(i, ColTarget, c.person.TargetUserID)
		add(i, ColTarget, c.person.StagingUPN)
		add(i, ColFinal, c.person.FinalUPN)
	}
	reported := map[[2]int]bool{} // row, column index: one duplicate problem each
	for _, k := range sortedClaims(lines) {
		idx := lines[k]
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			key := [2]int{i, slices.Index(Columns, k.col)}
			if reported[key] {
				continue
			}
			reported[key] = true
			c := &checked[i]
			v.problem(c, k.col, "%s is also on line %s", duplicateName(c, k.col),
				otherLines(checked, idx, i))
		}
	}
}

// claim is a column's value that a row claims for its person.
type claim struct{ col, key string }

// sortedClaims returns the keys of m in a stable order, so that problems come out the same
// on every run.
func sortedClaims(m map[claim][]int) []claim {
	keys := make([]claim, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b claim) int {
		if c := strings.Compare(a.col, b.col); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return keys
}

// duplicateName is the name to show for a duplicated column of a row.
func duplicateName(c *checkedRow, col string) string {
	switch col {
	case ColSource:
		return c.sourceUPN
	case ColTarget:
		return c.person.StagingUPN
	default:
		return c.person.FinalUPN
	}
}

// otherLines lists the lines of the rows idx other than self.
func otherLines(checked []checkedRow, idx []int, self int) string {
	var ls []string
	for _, i := range idx {
		if i != self {
			ls = append(ls, strconv.Itoa(checked[i].row.Line))
		}
	}
	return strings.Join(ls, ", ")
}
