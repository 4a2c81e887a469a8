package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// peopleConfig is the part of cutover.yaml the people tests add: both break-glass accounts
// excluded, one declared wave, times shown in London.
const peopleConfig = `policies:
  notifications: {senders: [it-migration@contoso.com], timeZone: Europe/London}
exclusions:
  users: [breakglass1@contoso.onmicrosoft.com, breakglass1@fabrikam.onmicrosoft.com]
waves:
  - {name: wave-1, windowStart: "2026-06-06T18:00:00+01:00", windowEnd: "2026-06-08T06:00:00+01:00", graceDays: 14}
`

// syncedProject is a simulator project whose inventory `cutover sync` has stored.
func syncedProject(t *testing.T, extra string) *simProject {
	t.Helper()
	sp := newSimProject(t, graphsim.Options{Preset: "small", Seed: 7}, "cutover", extra)
	sp.mustRun(t, "", "sync")
	return sp
}

// run runs cutover in the project with stdin and returns exit code, stdout and stderr.
func (sp *simProject) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--project", sp.Dir}, args...)
	code := Run(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func (sp *simProject) mustRun(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := sp.run(t, stdin, args...)
	if code != ExitOK {
		t.Fatalf("cutover %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return recs
}

// TestPeopleFlow goes the way the README does: sync, match, review, import, import again,
// list with each filter, all against the simulator.
func TestPeopleFlow(t *testing.T) {
	sp := syncedProject(t, peopleConfig)

	// Match by employee id: the staging accounts of the target share the HR number.
	proposal, unmatched := sp.mustRun(t, "", "people", "match", "--by", "employeeId")
	recs := readCSV(t, proposal)
	if strings.Join(recs[0], ",") != "source,target,final,wave,note" || len(recs) < 10 {
		t.Fatalf("proposal:\n%s", proposal)
	}
	for _, r := range recs[1:] {
		if !strings.HasSuffix(r[0], "@contoso.com") || !strings.HasSuffix(r[1], "@fabrikam.onmicrosoft.com") ||
			r[2] != r[0] {
			t.Errorf("odd pair %v", r)
		}
	}
	if !strings.Contains(unmatched, "unmatched it.admin@contoso.onmicrosoft.com: no value to match by") ||
		strings.Contains(unmatched, "breakglass1") {
		t.Errorf("stderr: %s", unmatched)
	}
	pairs := len(recs) - 1

	// Import it from stdin, then the same again: nothing changes the second time.
	out, _ := sp.mustRun(t, proposal, "people", "import", "-")
	if want := "imported " + itoa(pairs) + " people from stdin\n"; out != want {
		t.Errorf("import: %q, want %q", out, want)
	}
	out, _ = sp.mustRun(t, proposal, "people", "import", "-")
	if !strings.Contains(out, "imported 0 people from stdin; "+itoa(pairs)+" already imported as is") {
		t.Errorf("re-import: %q", out)
	}

	// A file with one bad row imports nothing; with --skip-invalid, the rest.
	unpaired := unmatchedUser(t, unmatched)
	bad := "source,target,final\n" + unpaired + ",nobody@fabrikam.onmicrosoft.com,\n" +
		recs[1][0] + ",,\n"
	file := filepath.Join(sp.Dir, "bad.csv")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := sp.run(t, "", "people", "import", file)
	if code != ExitError || !strings.Contains(errOut, "bad.csv:2: target: no account nobody@fabrikam.onmicrosoft.com in the target tenant") ||
		!strings.Contains(errOut, "bad.csv:3: source: "+recs[1][0]+" is already imported (person 1)") ||
		!strings.Contains(errOut, "cutover: 5 problems in bad.csv; nothing was imported") {
		t.Errorf("bad import: exit %d\n%s", code, errOut)
	}
	code, out, errOut = sp.run(t, "", "people", "import", "--skip-invalid", file)
	if code != ExitOK || !strings.Contains(out, "imported 0 people from bad.csv; skipped 2 rows of 2") ||
		!strings.Contains(errOut, "skipped bad.csv:2: target:") {
		t.Errorf("skip-invalid: exit %d\n%s\n%s", code, out, errOut)
	}

	// List: everyone, then JSON, then a search.
	out, _ = sp.mustRun(t, "", "people", "list", "--output", "csv")
	if got := len(readCSV(t, out)) - 1; got != pairs {
		t.Errorf("list has %d people, want %d", got, pairs)
	}
	out, _ = sp.mustRun(t, "", "people", "list", "--output", "json", "--search", strings.ToUpper(recs[2][0][:6]))
	var people []personJSON
	if err := json.Unmarshal([]byte(out), &people); err != nil || len(people) == 0 {
		t.Fatalf("search: %v\n%s", err, out)
	}
	for _, p := range people {
		if !strings.Contains(strings.ToLower(p.Source+p.Target+p.Final+p.DisplayName), strings.ToLower(recs[2][0][:6])) {
			t.Errorf("search returned %+v", p)
		}
	}
	out, _ = sp.mustRun(t, "", "people", "list", "--unassigned", "--output", "csv")
	if got := len(readCSV(t, out)) - 1; got != pairs {
		t.Errorf("%d unassigned, want %d", got, pairs)
	}
	out, _ = sp.mustRun(t, "", "people", "list", "--excluded", "--output", "csv")
	if got := len(readCSV(t, out)) - 1; got != 0 {
		t.Errorf("%d excluded, want 0", got)
	}

	// An exclusion added to cutover.yaml after the import reaches the person.
	cfg := filepath.Join(sp.Dir, "cutover.yaml")
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("users: ["), []byte("users: ["+recs[1][0]+", "), 1)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = sp.mustRun(t, "", "people", "list", "--excluded", "--output", "csv")
	if got := readCSV(t, out); len(got) != 2 || got[1][1] != recs[1][0] {
		t.Errorf("excluded after config change: %v", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// unmatchedUser returns the first user name of the unmatched lines on stderr.
func unmatchedUser(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(l, "unmatched "); ok {
			name, _, _ := strings.Cut(rest, ":")
			return name
		}
	}
	t.Fatalf("no unmatched line in %s", stderr)
	return ""
}

func TestPeopleUsageErrors(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{}, "cutover", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"people", "import"}, "takes FILE.csv"},
		{[]string{"people", "match"}, "--by must be mail, employeeId, upn-prefix"},
		{[]string{"people", "match", "--by", "department"}, `not "department"`},
		{[]string{"people", "list", "--output", "xml"}, "--output must be table, json or csv"},
		{[]string{"people", "list", "--wave", "w", "--unassigned"}, "exclude each other"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := sp.run(t, "", tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, ExitUsage, tc.want)
			}
		})
	}
}
