package graphsim

import (
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// drain spends the fixture's small write bucket (smallWrites) and checks the next write is
// refused; it returns that 429.
func drain(t *testing.T, f *fixture, n int) graphResponse {
	t.Helper()
	for i := range n {
		if r := f.revoke(t); r.Status != http.StatusOK {
			t.Fatalf("write %d of the burst: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := f.revoke(t)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("write after the burst: %d, want 429", r.Status)
	}
	return r
}

func TestRetryAfterModes(t *testing.T) {
	// Time scale 10: announced values are simulated waits divided by 10.
	cases := []struct {
		mode       string
		first      string // Retry-After of the first refusal
		afterOne   string // Retry-After after one more simulated second
		openAfter1 bool   // whether the bucket admits after that second
	}{
		// One token short at 1 write/s: 1 s simulated, 0.1 s real.
		{"time-to-tokens", "0.1", "", true},
		// The window (5 s) stays closed after a refusal, though tokens came back.
		{"window", "0.5", "0.4", false},
		{"fixed:7", "0.7", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			f := newFixture(t, frozen(Options{TimeScale: 10,
				Model: smallWrites(Model{RetryAfter: tc.mode})}), nil)
			r := drain(t, f, 5)
			if got := r.Header.Get("Retry-After"); got != tc.first {
				t.Errorf("Retry-After %q, want %q", got, tc.first)
			}
			f.s.Advance(time.Second)
			r = f.revoke(t)
			if open := r.Status == http.StatusOK; open != tc.openAfter1 {
				t.Fatalf("after one second: status %d, want open=%v", r.Status, tc.openAfter1)
			}
			if !tc.openAfter1 && r.Header.Get("Retry-After") != tc.afterOne {
				t.Errorf("Retry-After later in the window %q, want %q", r.Header.Get("Retry-After"), tc.afterOne)
			}
			if tc.mode == "window" {
				f.s.Advance(4 * time.Second)
				if r := f.revoke(t); r.Status != http.StatusOK {
					t.Errorf("after the window: %d, want 200", r.Status)
				}
			}
		})
	}
}

func TestRetryAfterFormats(t *testing.T) {
	cases := []struct {
		format string
		check  func(t *testing.T, r graphResponse)
	}{
		{"decimal", func(t *testing.T, r graphResponse) {
			if got := r.Header.Get("Retry-After"); got != "0.1" {
				t.Errorf("decimal Retry-After %q, want 0.1", got)
			}
		}},
		{"integer", func(t *testing.T, r graphResponse) {
			if got := r.Header.Get("Retry-After"); got != "1" {
				t.Errorf("integer Retry-After %q, want 1 (0.1 rounded up)", got)
			}
		}},
		{"http-date", func(t *testing.T, r graphResponse) {
			at, err := http.ParseTime(r.Header.Get("Retry-After"))
			date, derr := http.ParseTime(r.Header.Get("Date"))
			if err != nil || derr != nil {
				t.Fatalf("Retry-After %q, Date %q: not HTTP-dates", r.Header.Get("Retry-After"), r.Header.Get("Date"))
			}
			if d := at.Sub(date); d != time.Second {
				t.Errorf("Retry-After is %v after Date, want 1s", d)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			f := newFixture(t, frozen(Options{TimeScale: 10,
				Model: smallWrites(Model{RetryAfterFormat: tc.format})}), nil)
			tc.check(t, drain(t, f, 5))
		})
	}
	t.Run("mix", func(t *testing.T) {
		f := newFixture(t, frozen(Options{TimeScale: 10,
			Model: smallWrites(Model{RetryAfterFormat: "mix"})}), nil)
		drain(t, f, 5)
		seen := map[string]bool{}
		for range 30 {
			v := f.revoke(t).Header.Get("Retry-After")
			switch {
			case strings.Contains(v, "GMT"):
				seen["http-date"] = true
			case strings.Contains(v, "."):
				seen["decimal"] = true
			default:
				seen["integer"] = true
			}
		}
		if len(seen) != 3 {
			t.Errorf("mix produced only %v", seen)
		}
	})
}

func TestEarlyRetryPenalty(t *testing.T) {
	for _, penalty := range []bool{false, true} {
		t.Run("penalty="+strconv.FormatBool(penalty), func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: smallWrites(Model{EarlyRetryPenalty: penalty})}), nil)
			if got := drain(t, f, 5).Header.Get("Retry-After"); got != "1" {
				t.Fatalf("Retry-After %q, want 1", got)
			}
			// Half the wait later: refused either way, but the penalty restarts the wait.
			f.s.Advance(500 * time.Millisecond)
			r := f.revoke(t)
			want := "0.5"
			if penalty {
				want = "1"
			}
			if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != want {
				t.Fatalf("early retry: %d Retry-After %q, want 429 with %s", r.Status, r.Header.Get("Retry-After"), want)
			}
			// Honouring the latest announcement is admitted.
			f.s.Advance(time.Second)
			if r := f.revoke(t); r.Status != http.StatusOK {
				t.Errorf("retry on time: %d, want 200", r.Status)
			}
		})
	}
	t.Run("tokens back but retried early", func(t *testing.T) {
		f := newFixture(t, frozen(Options{Model: smallWrites(Model{EarlyRetryPenalty: true,
			RetryAfter: "fixed:10"})}), nil)
		drain(t, f, 5)
		f.s.Advance(5 * time.Second) // the bucket is full again, the announced 10 s are not over
		if r := f.revoke(t); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "10" {
			t.Errorf("early retry with tokens: %d %q, want 429 with the wait restarted",
				r.Status, r.Header.Get("Retry-After"))
		}
	})
}

func TestThrottledRequestCost(t *testing.T) {
	for _, tc := range []struct {
		cost      float64
		wantLevel float64
		wantWait  string
	}{
		{0, 0, "1"},
		// Ten refused writes at cost 1 drive the bucket to its floor of minus its capacity, and
		// the wait grows with the debt.
		{1, -5, "6"},
	} {
		t.Run(strconv.FormatFloat(tc.cost, 'f', -1, 64), func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: smallWrites(Model{ThrottledCost: tc.cost})}), nil)
			drain(t, f, 5)
			var r graphResponse
			for range 9 {
				r = f.revoke(t)
			}
			if got := f.level(t, bEntraWrites).Level; got != tc.wantLevel {
				t.Errorf("level after refusals %v, want %v", got, tc.wantLevel)
			}
			if got := r.Header.Get("Retry-After"); got != tc.wantWait {
				t.Errorf("Retry-After %q, want %q", got, tc.wantWait)
			}
			if e := f.last(t); e.Buckets[1].Name != bEntraWrites || e.Buckets[1].Level != tc.wantLevel {
				t.Errorf("logged levels %+v", e.Buckets)
			}
		})
	}
}

func TestIntuneMissingRetryAfter(t *testing.T) {
	for _, p := range []float64{0, 0.5, 1} {
		t.Run(strconv.FormatFloat(p, 'f', -1, 64), func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: Model{IntuneMissingRetryAfter: &p,
				Buckets: map[string]BucketConfig{bIntuneWrites: {Capacity: 1, Window: Duration(time.Hour)}}}}),
				probeRoutes)
			f.must(t, http.MethodPost, "/deviceManagement/simProbes/m1")
			missing := 0
			const n = 400
			for range n {
				r := f.must(t, http.MethodPost, "/deviceManagement/simProbes/m1")
				if r.Status != http.StatusTooManyRequests || r.Header.Get("x-ms-throttle-scope") == "" {
					t.Fatalf("intune write over the limit: %d scope %q", r.Status, r.Header.Get("x-ms-throttle-scope"))
				}
				if r.Header.Get("Retry-After") == "" {
					missing++
				}
			}
			if got := float64(missing) / n; math.Abs(got-p) > 0.1 {
				t.Errorf("%.2f of Intune 429s lack Retry-After, want %.2f", got, p)
			}
		})
	}
	t.Run("identity always announces", func(t *testing.T) {
		one := 1.0
		f := newFixture(t, frozen(Options{Model: smallWrites(Model{IntuneMissingRetryAfter: &one})}), nil)
		if r := drain(t, f, 5); r.Header.Get("Retry-After") == "" {
			t.Error("identity 429 without Retry-After")
		}
	})
}

func TestOutlookConcurrency(t *testing.T) {
	// Each admitted request holds its slot for 2 s of latency (0.2 s real at scale 10).
	lf := 0.0
	f := newFixture(t, Options{TimeScale: 10, Model: Model{Latency: LatencyConfig{Enabled: true,
		ReadMedian: Duration(2 * time.Second), WriteMedian: Duration(2 * time.Second), Sigma: 1e-9,
		LoadFactor: &lf}}}, probeRoutes)
	path := "/users/" + f.user.ID + "/mailFolders/inbox/simProbe"
	statuses := make([]int, 6)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = f.must(t, http.MethodPost, path).Status
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusNoContent] != 4 || count[http.StatusTooManyRequests] != 2 {
		t.Errorf("six concurrent requests to one mailbox: %v, want 4 admitted and 2 refused", count)
	}
	for _, e := range f.s.Requests(0) {
		if e.Status == http.StatusTooManyRequests && e.ThrottleInfo != infoConcurrency {
			t.Errorf("concurrency 429 logged with %q", e.ThrottleInfo)
		}
	}
	// Slots come back once responses are delivered.
	if r := f.must(t, http.MethodPost, path); r.Status != http.StatusNoContent {
		t.Errorf("after the burst: %d, want 204", r.Status)
	}
}

func TestSizeClassSetsResourceUnitBudget(t *testing.T) {
	for class, want := range map[string]float64{"": 8000, "S": 3500, "M": 5000, "L": 8000} {
		t.Run("class "+class, func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: Model{SizeClass: class}}), nil)
			f.must(t, http.MethodGet, "/users/"+f.user.ID)
			if b := f.level(t, bEntraRU); b.Capacity != want || b.PublishedRefill != want/10 {
				t.Errorf("RU bucket capacity %v refill %v, want %v per 10 s", b.Capacity, b.PublishedRefill, want)
			}
		})
	}
}

func TestStartLevel(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  float64 // write bucket level after one write
	}{{"full", 2999}, {"0.5", 1499}, {"drained", 0}} {
		t.Run(tc.level, func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: Model{StartLevel: tc.level}}), nil)
			r := f.revoke(t)
			if tc.level == "drained" {
				if r.Status != http.StatusTooManyRequests {
					t.Fatalf("first write into a drained bucket: %d, want 429", r.Status)
				}
				// One write's worth of refill (1/20 s) later it passes.
				f.s.Advance(50 * time.Millisecond)
				r = f.revoke(t)
			}
			if r.Status != http.StatusOK {
				t.Fatalf("write: %d %s", r.Status, r.Raw)
			}
			if got := f.level(t, bEntraWrites).Level; got != tc.want {
				t.Errorf("write bucket at %v, want %v", got, tc.want)
			}
		})
	}
}

// The ceiling factor and background load scale the true refill; the drift moves it.
func TestEffectiveRefill(t *testing.T) {
	drained := BucketConfig{StartLevel: "drained"}
	buckets := map[string]BucketConfig{bEntraWrites: drained, bEntraTenantWrites: drained,
		bIntuneTenantW: drained}
	cases := []struct {
		name                      string
		model                     Model
		writes, tenantW, intuneTW float64 // levels after 10 s
	}{
		{"published", Model{}, 200, 600, 200},
		{"ceiling 0.55", Model{CeilingFactor: 0.55}, 110, 330, 110},
		{"background 30%", Model{BackgroundLoad: 0.3}, 200, 420, 200},
		{"intune background 50%", Model{BackgroundIntuneLoad: 0.5}, 200, 600, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.model.Buckets = buckets
			f := newFixture(t, frozen(Options{TimeScale: 10, Model: tc.model}), probeRoutes)
			f.s.Advance(10 * time.Second)
			f.revoke(t)
			f.must(t, http.MethodPost, "/deviceManagement/simProbes/m1")
			for name, want := range map[string]float64{bEntraWrites: tc.writes - 1,
				bEntraTenantWrites: tc.tenantW - 1, bIntuneTenantW: tc.intuneTW - 1} {
				b := f.level(t, name)
				if math.Abs(b.Level-want) > 1e-6 {
					t.Errorf("%s at %v after 10 s, want %v", name, b.Level, want)
				}
				if got := b.RealRefillPerSecond; math.Abs(got-b.RefillPerSecond*10) > 1e-3 {
					t.Errorf("%s real refill %v, want 10 × %v", name, got, b.RefillPerSecond)
				}
			}
		})
	}
	t.Run("drift", func(t *testing.T) {
		f := newFixture(t, frozen(Options{Model: Model{Buckets: buckets,
			CeilingDrift: Drift{Amplitude: 0.5, Period: Duration(time.Hour)}}}), nil)
		lo, hi := 2.0, 0.0
		for range 12 {
			c := f.s.Buckets().CeilingFactor
			lo, hi = math.Min(lo, c), math.Max(hi, c)
			f.s.Advance(5 * time.Minute)
		}
		if lo > 0.55 || hi < 1.45 || lo < 0.5 || hi > 1.5 {
			t.Errorf("ceiling drifted between %v and %v, want about 0.5 to 1.5", lo, hi)
		}
		// A drained bucket refills at the drifting rate: between half and one and a half times
		// the published 20 writes a second.
		f.s.ResetBuckets("drained")
		f.s.Advance(time.Minute)
		f.revoke(t)
		got := f.level(t, bEntraWrites).Level + 1
		if got < 600 || got > 1800 {
			t.Errorf("one drifting minute refilled %v writes, want within 20/s × 60 s × (1 ± 0.5)", got)
		}
	})
}

func TestLimitPercentageHeader(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(strconv.FormatBool(on), func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: Model{LimitPercentageHeader: on,
				Buckets: map[string]BucketConfig{bEntraWrites: {Capacity: 10,
					Window: Duration(10 * time.Second)}}}}), nil)
			var got []string
			for range 12 {
				got = append(got, f.revoke(t).Header.Get("x-ms-throttle-limit-percentage"))
			}
			want := []string{"", "", "", "", "", "", "", "", "0.9", "1", "1.1", "1.2"}
			if !on {
				want = make([]string, 12)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("limit percentages %q, want %q", got, want)
			}
		})
	}
}

func TestUnthrottledAndDisabledBuckets(t *testing.T) {
	t.Run("unthrottled", func(t *testing.T) {
		f := newFixture(t, frozen(Options{Model: Model{Unthrottled: true, StartLevel: "drained"}}), nil)
		r := f.revoke(t)
		if r.Status != http.StatusOK || r.Header.Get("x-ms-resource-unit") != "1" {
			t.Errorf("unthrottled write into drained buckets: %d RU %q", r.Status, r.Header.Get("x-ms-resource-unit"))
		}
	})
	t.Run("disabled", func(t *testing.T) {
		f := newFixture(t, frozen(Options{Model: Model{Buckets: map[string]BucketConfig{
			bEntraWrites: {Disabled: true}, bEntraRU: {StartLevel: "drained"}}}}), nil)
		if r := f.revoke(t); r.Status != http.StatusTooManyRequests ||
			!strings.HasPrefix(r.Header.Get("x-ms-throttle-scope"), "Tenant_Application/ReadWrite/") {
			t.Fatalf("write with drained RU: %d %q", r.Status, r.Header.Get("x-ms-throttle-scope"))
		}
		for _, b := range f.s.Buckets().Buckets {
			if b.Name == bEntraWrites {
				t.Error("disabled bucket is still kept")
			}
		}
	})
}

func TestModelValidation(t *testing.T) {
	neg := -1.0
	bad := []Model{
		{SizeClass: "XL"}, {StartLevel: "half"}, {CeilingFactor: -1}, {ThrottledCost: 2},
		{RetryAfter: "sometimes"}, {RetryAfter: "fixed:0"}, {RetryAfterFormat: "roman"},
		{IntuneMissingRetryAfter: &neg}, {BackgroundLoad: 1}, {CeilingDrift: Drift{Amplitude: 1}},
		{Buckets: map[string]BucketConfig{"nope": {}}}, {Faults: FaultConfig{Rate: 2}},
		{Faults: FaultConfig{Weights: map[string]float64{"meteor": 1}}},
		{Latency: LatencyConfig{LoadFactor: &neg}},
	}
	for _, m := range bad {
		if _, err := New(Options{Model: m}); err == nil {
			t.Errorf("model %+v accepted", m)
		}
	}
}

func TestLoadModelFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json")
	body := `{"ceilingFactor": 0.55, "retryAfter": "window", "retryAfterFormat": "mix",
		"intuneMissingRetryAfter": 0, "buckets": {"entra-writes": {"capacity": 100, "window": "10s"}},
		"faults": {"rate": 0.01, "weights": {"503": 1}, "hangCap": 30},
		"latency": {"readMedian": "150ms"}}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path, DefaultModel())
	if err != nil {
		t.Fatalf("load model: %v", err)
	}
	if m.CeilingFactor != 0.55 || m.RetryAfter != "window" || *m.IntuneMissingRetryAfter != 0 ||
		m.Buckets[bEntraWrites].Capacity != 100 ||
		time.Duration(m.Buckets[bEntraWrites].Window) != 10*time.Second ||
		m.Faults.Rate != 0.01 || time.Duration(m.Faults.HangCap) != 30*time.Second ||
		time.Duration(m.Latency.ReadMedian) != 150*time.Millisecond {
		t.Errorf("loaded %+v", m)
	}
	if !m.Latency.Enabled {
		t.Error("a file that does not mention latency.enabled turned the default off")
	}
	base := Model{Buckets: map[string]BucketConfig{bGlobal: {Capacity: 7}}}
	if _, err := LoadModel(path, base); err != nil || len(base.Buckets) != 1 {
		t.Errorf("loading over a base changed it: %v %+v", err, base.Buckets)
	}
	for _, bad := range []string{`{"ceilingFactr": 1}`, `{"retryAfter": "soon"}`,
		`{"faults": {"hangCap": "forever"}}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := LoadModel(path, DefaultModel()); err == nil {
			t.Errorf("model file %s accepted", bad)
		}
	}
}
