package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs a tiny plan end to end against real simulators: every contender kind that
// is cheap, every result checked against the simulator's true state.
func TestSmoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	var out, errOut bytes.Buffer
	args := []string{"-users", "150", "-devices", "300", "-seq-users", "10", "-seq-devices", "10",
		"-scale", "200", "-check-scale", "0", "-workloads", "W5", "-variants", "default",
		"-contenders", "sequential,cutover,cutover-batch,oracle", "-json", path}
	if code := run(t.Context(), args, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, errOut.String())
	}
	var rep report
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 {
		t.Fatalf("%d results, want 4", len(rep.Results))
	}
	for _, r := range rep.Results {
		name := r.Workload + " " + r.Contender
		if r.Lost != 0 || r.Completed != r.Ops {
			t.Errorf("%s: %d of %d completed, %d lost", name, r.Completed, r.Ops, r.Lost)
		}
		if r.Requests < r.Ops || r.WallSeconds <= 0 || r.MaxInFlight < 1 {
			t.Errorf("%s: %d requests, %.1f s, max in flight %d", name, r.Requests, r.WallSeconds,
				r.MaxInFlight)
		}
		if len(r.Warnings) > 0 {
			t.Errorf("%s: %v", name, r.Warnings)
		}
		// 300 retires against 200 burst and 10/s: 10 s from full buckets.
		if !r.Reduced && math.Abs(r.IdealSeconds-10) > 1e-9 {
			t.Errorf("%s: ideal %.3f s, want 10", name, r.IdealSeconds)
		}
	}
	for _, want := range []string{"#### W5, published limits",
		"| cutover |", "sequential (smaller N)", "#### Targets"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, out.String())
		}
	}
	if !strings.HasPrefix(rep.Command, "go run ./bench/graphbench -users 150 ") {
		t.Errorf("command recorded as %q", rep.Command)
	}

	// -tables reprints the same tables from the saved report without running anything.
	var again, errAgain bytes.Buffer
	if code := run(t.Context(), []string{"-tables", path}, &again, &errAgain); code != 0 {
		t.Fatalf("-tables: exit code %d:\n%s", code, errAgain.String())
	}
	if again.String() != out.String() {
		t.Errorf("-tables printed\n%s\nwant\n%s", again.String(), out.String())
	}
	if code := run(t.Context(), []string{"-tables", filepath.Join(t.TempDir(), "none.json")},
		&again, &errAgain); code != 1 || !strings.Contains(errAgain.String(), "none.json") {
		t.Errorf("-tables of a missing file: exit code %d, %q", code, errAgain.String())
	}
}

func TestIdealTime(t *testing.T) {
	buckets := map[string]trueBucket{
		"entra-ru":            {name: "entra-ru", per: "app+tenant", capacity: 8000, refill: 800},
		"entra-writes":        {name: "entra-writes", per: "app+tenant", capacity: 3000, refill: 20},
		"entra-tenant-writes": {name: "entra-tenant-writes", per: "tenant", capacity: 18000, refill: 60},
		"entra-app-ru":        {name: "entra-app-ru", per: "app", capacity: 150000, refill: 7500},
		"entra-app-writes":    {name: "entra-app-writes", per: "app", capacity: 35000, refill: 116.7},
		"global":              {name: "global", per: "app", capacity: 130000, refill: 13000},
	}
	revokes := func(n, apps int) []op {
		var ops []op
		for i := range n {
			ops = append(ops, op{kind: revoke, app: i % apps})
		}
		return ops
	}
	tests := []struct {
		name    string
		ops     []op
		level   float64
		want    float64
		binding string
	}{
		// PERFORMANCE.md 1.2: 100,000 revokes with one app, 4,850 s.
		{"OneAppFull", revokes(100_000, 1), 1, 4850, "entra-writes@cutover"},
		{"OneAppDrained", revokes(30_000, 1), 0, 1500, "entra-writes@cutover"},
		{"WithinTheBurst", revokes(2_000, 1), 1, 0, ""},
		// Three apps: each app's bucket binds from full, the tenant's from drained (a tie).
		{"ThreeAppsFull", revokes(30_000, 3), 1, 350, "entra-writes@cutover"},
		{"ThreeAppsDrained", revokes(30_000, 3), 0, 500, "entra-tenant-writes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, binding := idealTime(tc.ops, buckets, tc.level)
			if math.Abs(got-tc.want) > 1e-6 || (tc.binding != "" && binding != tc.binding) {
				t.Errorf("ideal %.3f s bound by %q, want %.3f s by %q", got, binding, tc.want, tc.binding)
			}
		})
	}
}

func TestBuildOpsInterleavesInProportion(t *testing.T) {
	users := []string{"u1", "u2", "u3", "u4", "u5", "u6"}
	devices := []string{"d1", "d2", "d3"}
	var got []string
	for _, o := range buildOps(users, devices, 2) {
		got = append(got, o.id)
	}
	if want := "u1 d1 u2 u3 d2 u4 u5 d3 u6"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if ops := buildOps(users, nil, 3); ops[4].app != 1 || ops[5].app != 2 {
		t.Errorf("users are not dealt to apps in turn: %+v", ops)
	}
}

func TestParseOpPath(t *testing.T) {
	tests := []struct {
		method, path string
		kind         opKind
		id           string
		ok           bool
	}{
		{"POST", "/v1.0/users/abc/revokeSignInSessions", revoke, "abc", true},
		{"POST", "/v1.0/deviceManagement/managedDevices/d1/retire", retire, "d1", true},
		{"GET", "/v1.0/deviceManagement/managedDevices/d1", 0, "", false},
		{"POST", "/v1.0/deviceManagement/managedDevices/d1/wipe", 0, "", false},
		{"POST", "/v1.0/$batch", 0, "", false},
	}
	for _, tc := range tests {
		kind, id, ok := parseOpPath(tc.method, tc.path)
		if ok != tc.ok || (ok && (kind != tc.kind || id != tc.id)) {
			t.Errorf("%s %s: %v %q %v", tc.method, tc.path, kind, id, ok)
		}
	}
}

func TestRetryAfterReadsEveryForm(t *testing.T) {
	date := time.Date(2025, 6, 7, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"0.25", 250 * time.Millisecond},
		{"2", 2 * time.Second},
		// An HTTP-date 50 simulated seconds after Date is one real second at k = 50.
		{date.Add(50 * time.Second).Format(http.TimeFormat), time.Second},
	}
	for _, tc := range tests {
		h := http.Header{"Retry-After": {tc.value}, "Date": {date.Format(http.TimeFormat)}}
		if got, ok := retryAfter(h, 50); !ok || got != tc.want {
			t.Errorf("Retry-After %q: %v %v, want %v", tc.value, got, ok, tc.want)
		}
	}
}

// TestSeeds runs a tiny plan over two seeds, then merges two single-seed reports with
// -tables: both show the spread over seeds, and the detailed tables keep the first seed.
func TestSeeds(t *testing.T) {
	dir := t.TempDir()
	base := []string{"-users", "60", "-devices", "250", "-scale", "200", "-check-scale", "0",
		"-workloads", "W3", "-variants", "default", "-contenders", "cutover"}
	runJSON := func(path string, extra ...string) (string, report) {
		t.Helper()
		var out, errOut bytes.Buffer
		args := append(append(append([]string{}, base...), extra...), "-json", path)
		if code := run(t.Context(), args, &out, &errOut); code != 0 {
			t.Fatalf("exit code %d:\n%s", code, errOut.String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return out.String(), rep
	}

	both, rep := runJSON(filepath.Join(dir, "both.json"), "-seeds", "7,8")
	if len(rep.Results) != 2 || rep.Results[0].Seed != 7 || rep.Results[1].Seed != 8 {
		t.Fatalf("runs: %+v", rep.Results)
	}
	if rep.Options.Seed != 7 || len(rep.Options.Seeds) != 2 {
		t.Errorf("options record seed %d and seeds %v", rep.Options.Seed, rep.Options.Seeds)
	}
	for _, want := range []string{"#### Over seeds", "| W3 | default | cutover | 2 |",
		"every one of 2 seeds"} {
		if !strings.Contains(both, want) {
			t.Errorf("tables lack %q:\n%s", want, both)
		}
	}
	if n := strings.Count(both, "\n| cutover | 250 |"); n != 1 {
		t.Errorf("the detailed table has %d cutover rows, want the first seed's only:\n%s", n, both)
	}

	// The same runs as two reports, merged by -tables, give the same tables.
	runJSON(filepath.Join(dir, "7.json"), "-seeds", "7")
	runJSON(filepath.Join(dir, "8.json"), "-seeds", "8")
	var merged, errOut bytes.Buffer
	files := filepath.Join(dir, "7.json") + "," + filepath.Join(dir, "8.json")
	if code := run(t.Context(), []string{"-tables", files}, &merged, &errOut); code != 0 {
		t.Fatalf("-tables: exit code %d:\n%s", code, errOut.String())
	}
	if !strings.Contains(merged.String(), "#### Over seeds") ||
		!strings.Contains(merged.String(), "| W3 | default | cutover | 2 |") {
		t.Errorf("merged tables lack the spread over seeds:\n%s", merged.String())
	}

	var bad bytes.Buffer
	if code := run(t.Context(), []string{"-seeds", "1,x"}, &bad, &bad); code != 2 ||
		!strings.Contains(bad.String(), `"x" is not a seed`) {
		t.Errorf("-seeds 1,x: exit code %d, %q", code, bad.String())
	}
}
