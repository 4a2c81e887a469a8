package graphsim

import (
	"math"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}

// The latency model: log-normal around 200 ms for reads and 350 ms for writes with p95 at
// twice the median, inflated to about five times at full bucket use.
func TestLatencyDistribution(t *testing.T) {
	sm, err := newSimModel(Model{Latency: LatencyConfig{Enabled: true}}, 1, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method string
		u      float64
		median time.Duration
	}{
		{http.MethodGet, 0, 200 * time.Millisecond},
		{http.MethodPost, 0, 350 * time.Millisecond},
		{http.MethodGet, 0.5, 400 * time.Millisecond},
		{http.MethodGet, 1, time.Second},
	}
	for _, tc := range cases {
		c := probeCall(tc.method, "users/{id}", "")
		var ds []time.Duration
		for range 4000 {
			ds = append(ds, sm.latency(c, tc.u))
		}
		med, p95 := percentile(ds, 0.5), percentile(ds, 0.95)
		if math.Abs(float64(med-tc.median))/float64(tc.median) > 0.05 {
			t.Errorf("%s at use %g: median %v, want %v", tc.method, tc.u, med, tc.median)
		}
		if r := float64(p95) / float64(med); r < 1.85 || r > 2.15 {
			t.Errorf("%s at use %g: p95 %v is %.2f × the median, want about 2", tc.method, tc.u, p95, r)
		}
	}
	off := 0.0
	sm, _ = newSimModel(Model{Latency: LatencyConfig{Enabled: true, LoadFactor: &off}}, 1, 1, time.Now())
	c := probeCall(http.MethodGet, "users/{id}", "")
	var ds []time.Duration
	for range 2000 {
		ds = append(ds, sm.latency(c, 1))
	}
	if med := percentile(ds, 0.5); med > 220*time.Millisecond {
		t.Errorf("load factor 0 still inflates: median %v", med)
	}
}

// steady is a latency model without spread.
func steady(read, write time.Duration, loadFactor float64) LatencyConfig {
	return LatencyConfig{Enabled: true, ReadMedian: Duration(read), WriteMedian: Duration(write),
		Sigma: 1e-9, LoadFactor: &loadFactor}
}

// Latency is simulated time, served in real time divided by the scale, and the simulator
// does not hold its lock while a response waits: concurrent requests overlap.
func TestLatencyIsScaledAndConcurrent(t *testing.T) {
	f := newFixture(t, Options{TimeScale: 10, Model: Model{Latency: steady(2*time.Second, 0, 0)}}, nil)
	const n = 8
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := f.must(t, http.MethodGet, "/users/"+f.user.ID); r.Status != http.StatusOK {
				t.Errorf("GET user: %d", r.Status)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// Each waits 2 s / 10 = 200 ms; in series they would take 1.6 s.
	if elapsed < 190*time.Millisecond || elapsed > 800*time.Millisecond {
		t.Errorf("%d concurrent requests with 200 ms latency took %v", n, elapsed)
	}
	for _, e := range f.s.Requests(0) {
		if e.LatencyMS < 1999 || e.LatencyMS > 2001 {
			t.Errorf("logged latency %v ms, want 2000 (simulated)", e.LatencyMS)
		}
	}
	maxIn := f.s.Buckets().MaxInFlight
	if maxIn < 2 {
		t.Errorf("max in flight %d, want the requests to overlap", maxIn)
	}
}

// Use of the busiest bucket over its window inflates latency: the tenth write into a
// ten-write window takes five times the median.
func TestLatencyLoadInflation(t *testing.T) {
	f := newFixture(t, frozen(Options{TimeScale: 100, Model: Model{Latency: steady(0, 100*time.Millisecond, 4),
		Buckets: map[string]BucketConfig{bEntraWrites: {Capacity: 10, Window: Duration(10 * time.Second)}}}}), nil)
	var got []float64
	for range 10 {
		f.revoke(t)
		got = append(got, f.last(t).LatencyMS)
	}
	// After k writes u = k/10, latency = 100 ms × (1 + 4u²).
	for k, ms := range got {
		u := float64(k+1) / 10
		if want := 100 * (1 + 4*u*u); math.Abs(ms-want) > 0.01 {
			t.Errorf("write %d: latency %v ms, want %v", k+1, ms, want)
		}
	}
}

func TestLatencyOffByDefault(t *testing.T) {
	f := newFixture(t, frozen(Options{}), nil)
	f.must(t, http.MethodGet, "/users/"+f.user.ID)
	if e := f.last(t); e.LatencyMS != 0 {
		t.Errorf("zero-value model added %v ms", e.LatencyMS)
	}
	if !DefaultModel().Latency.Enabled || DefaultModel().Faults.Rate != 0.001 {
		t.Error("DefaultModel must turn latency on and noise to 0.1%")
	}
}

// A $batch envelope waits for its slowest item.
func TestBatchEnvelopeAbsorbsItemLatency(t *testing.T) {
	env := &call{adm: &admission{latency: 10 * time.Millisecond}}
	for _, d := range []time.Duration{300, 120, 450, 80} {
		env.absorbLatency(&call{adm: &admission{latency: d * time.Millisecond}})
	}
	if env.adm.latency != 450*time.Millisecond || env.entry.LatencyMS != 450 {
		t.Errorf("envelope latency %v (logged %v ms), want the slowest item's 450ms",
			env.adm.latency, env.entry.LatencyMS)
	}
}
