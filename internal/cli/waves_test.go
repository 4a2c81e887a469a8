package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// importedProject is a synced simulator project with the employee id pairs imported.
func importedProject(t *testing.T) (*simProject, [][]string) {
	t.Helper()
	sp := syncedProject(t, peopleConfig)
	proposal, _ := sp.mustRun(t, "", "people", "match", "--by", "employeeId")
	sp.mustRun(t, proposal, "people", "import", "-")
	return sp, readCSV(t, proposal)[1:]
}

func TestWavesFlow(t *testing.T) {
	sp, pairs := importedProject(t)

	// Create a store wave; times without an offset are London time (BST in June).
	out, _ := sp.mustRun(t, "", "waves", "create", "wave-2", "--start", "2026-06-13T18:00",
		"--end", "2026-06-15T06:00", "--grace", "7")
	want := "created wave wave-2: 2026-06-13 18:00 BST → 2026-06-15 06:00 BST, grace 7 days " +
		"(source accounts blocked from 2026-06-20 18:00 BST)\n"
	if out != want {
		t.Errorf("create: %q\nwant %q", out, want)
	}
	code, _, errOut := sp.run(t, "", "waves", "create", "WAVE-2", "--start", "2026-06-13T18:00", "--end", "2026-06-15T06:00")
	if code != ExitError || !strings.Contains(errOut, "wave WAVE-2 already exists") {
		t.Errorf("duplicate create: %d %s", code, errOut)
	}
	code, _, errOut = sp.run(t, "", "waves", "create", "wave-3", "--start", "2026-06-13T18:00", "--end", "2026-06-12T06:00")
	if code != ExitError || !strings.Contains(errOut, "ends (2026-06-12T06:00:00+01:00) before it starts") {
		t.Errorf("backwards window: %d %s", code, errOut)
	}

	// The declared wave cannot be set here; the store wave can.
	code, _, errOut = sp.run(t, "", "waves", "set", "wave-1", "--grace", "3")
	if code != ExitError || !strings.Contains(errOut, "cutover: wave wave-1 is declared in cutover.yaml; change it there\n") {
		t.Errorf("set config wave: %d %q", code, errOut)
	}
	out, _ = sp.mustRun(t, "", "waves", "set", "wave-2", "--start", "2026-06-13T20:00:00+01:00")
	if !strings.Contains(out, "wave wave-2: 2026-06-13 20:00 BST → 2026-06-15 06:00 BST, grace 7 days") {
		t.Errorf("set: %q", out)
	}

	// Assign by filter, by name and from a CSV; moving needs --move.
	first, second := pairs[0][0], pairs[1][0]
	prefix := first[:3] + "*"
	out, _ = sp.mustRun(t, "", "waves", "assign", "wave-1", "--filter", "upn="+prefix)
	if !strings.HasPrefix(out, "assigned ") || !strings.Contains(out, " to wave-1") {
		t.Errorf("assign by filter: %q", out)
	}
	code, _, errOut = sp.run(t, "", "waves", "assign", "wave-2", first)
	if code != ExitError || !strings.Contains(errOut, first+" is in wave wave-1 (use --move to move them)") {
		t.Errorf("assign without --move: %d %s", code, errOut)
	}
	out, _ = sp.mustRun(t, "", "waves", "assign", "wave-2", first, "--move")
	if out != "assigned 1 person to wave-2 (1 moved from other waves)\n" {
		t.Errorf("assign --move: %q", out)
	}
	csvFile := filepath.Join(sp.Dir, "two.csv")
	os.WriteFile(csvFile, []byte("Source\n"+second+"\nnobody@contoso.com\n"), 0o600)
	code, _, errOut = sp.run(t, "", "waves", "assign", "wave-2", "--from-people-csv", csvFile)
	if code != ExitError || !strings.Contains(errOut, "two.csv:3: source: no person is known as nobody@contoso.com") {
		t.Errorf("assign from csv with an unknown person: %d %s", code, errOut)
	}
	os.WriteFile(csvFile, []byte("Source\n"+second+"\n"), 0o600)
	sp.mustRun(t, "", "waves", "assign", "wave-2", "--from-people-csv", csvFile, "--move")
	code, _, errOut = sp.run(t, "", "waves", "assign", "wave-2", "--filter", "shoeSize=12")
	if code != ExitUsage || !strings.Contains(errOut, "unknown field shoeSize") {
		t.Errorf("unknown filter field: %d %s", code, errOut)
	}

	// The list counts people per wave and says where each wave is declared.
	out, _ = sp.mustRun(t, "", "waves", "list", "--output", "json")
	var waves []waveJSON
	if err := json.Unmarshal([]byte(out), &waves); err != nil || len(waves) != 2 {
		t.Fatalf("list: %v\n%s", err, out)
	}
	listed, _ := sp.mustRun(t, "", "people", "list", "--wave", "wave-2", "--output", "csv")
	if waves[1].Name != "wave-2" || waves[1].People != 2 || len(readCSV(t, listed)) != 3 ||
		waves[1].DeclaredIn != "store" || waves[0].DeclaredIn != "cutover.yaml" ||
		waves[0].WindowStart != "2026-06-06T18:00:00+01:00" || waves[0].GraceEnd != "2026-06-20T18:00:00+01:00" {
		t.Errorf("waves: %+v\nwave-2 people: %s", waves, listed)
	}
	table, errOut := sp.mustRun(t, "", "waves", "list")
	if !strings.Contains(table, "NAME") || !strings.Contains(table, "2026-06-13 20:00 BST") ||
		!strings.Contains(errOut, "2 waves;") {
		t.Errorf("table:\n%s\n%s", table, errOut)
	}

	// By department, as synced from the source directory: exactly the Sales people move.
	sp.mustRun(t, "", "waves", "create", "sales", "--start", "2026-06-20T18:00", "--end", "2026-06-22T06:00")
	out, _ = sp.mustRun(t, "", "waves", "assign", "sales", "--filter", "department=Sales", "--move")
	listed, _ = sp.mustRun(t, "", "people", "list", "--wave", "sales", "--output", "csv")
	rows := readCSV(t, listed)[1:]
	sales := 0
	for _, tn := range sp.Desc.Tenants {
		if tn.Role != "source" {
			continue
		}
		for _, p := range pairs {
			if sourceDepartment(t, sp, tn.ID, p[0]) == "Sales" {
				sales++
			}
		}
	}
	if sales == 0 || len(rows) != sales {
		t.Errorf("assign by department: %q; %d people in the wave, %d Sales people imported", out, len(rows), sales)
	}
}

// TestConfigWavesAreMirrored changes the declared wave in cutover.yaml: the store follows,
// and a wave removed from the file keeps its people as a store wave.
func TestConfigWavesAreMirrored(t *testing.T) {
	sp, pairs := importedProject(t)
	sp.mustRun(t, "", "waves", "assign", "wave-1", pairs[0][0])
	cfg := filepath.Join(sp.Dir, "cutover.yaml")
	b, _ := os.ReadFile(cfg)
	changed := strings.Replace(string(b), "graceDays: 14}", "graceDays: 21}", 1)
	os.WriteFile(cfg, []byte(changed), 0o644)
	out, _ := sp.mustRun(t, "", "waves", "list", "--output", "csv")
	if !strings.Contains(out, "wave-1,2026-06-06T18:00:00+01:00,2026-06-08T06:00:00+01:00,21,") {
		t.Errorf("after editing the file:\n%s", out)
	}
	removed := changed[:strings.Index(changed, "waves:")]
	os.WriteFile(cfg, []byte(removed), 0o644)
	out, _ = sp.mustRun(t, "", "waves", "list", "--output", "csv")
	if !strings.Contains(out, ",1,store\n") {
		t.Errorf("after removing the wave from the file:\n%s", out)
	}
	sp.mustRun(t, "", "waves", "set", "wave-1", "--grace", "3")
}

func TestParseWaveTime(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	cases := []struct {
		in   string
		want string
		err  bool
	}{
		{in: "2026-06-06T18:00:00+01:00", want: "2026-06-06T17:00:00Z"},
		{in: "2026-06-06T18:00:00Z", want: "2026-06-06T18:00:00Z"},
		{in: "2026-06-06T18:00", want: "2026-06-06T17:00:00Z"},
		{in: "2026-12-06 18:00", want: "2026-12-06T18:00:00Z"},
		{in: "next friday", err: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseWaveTime("start", tc.in, london)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "Europe/London") {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if err != nil || got.UTC().Format(time.RFC3339) != tc.want {
				t.Errorf("got %v, %v; want %s", got.UTC(), err, tc.want)
			}
		})
	}
}

// sourceDepartment reads a source user's department from the simulator's true state.
func sourceDepartment(t *testing.T, sp *simProject, tenantID, upn string) string {
	t.Helper()
	resp, err := sp.Sim.HTTPClient().Get(sp.Sim.URL() + "/_sim/tenants/" + tenantID + "/users/" + upn)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		Department string `json:"department"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		t.Fatal(err)
	}
	return u.Department
}
