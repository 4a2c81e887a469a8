package graphsim

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A client that revokes 5,000 users as fast as it can, retrying every 429 at once, gets 429s
// with Graph's headers, and once the initial burst is spent its accepted write rate is the
// bucket's true refill: 20 writes a second, or 0.6 of it under a hidden ceiling of 0.6.
func TestHammeringClientGetsTheRefillRate(t *testing.T) {
	for _, factor := range []float64{1, 0.6} {
		t.Run(fmt.Sprintf("ceiling %g", factor), func(t *testing.T) {
			scale := 100.0
			if raceEnabled {
				scale = 20 // slow enough for the race detector to keep the bucket under pressure
			}
			f := newFixture(t, Options{Preset: "merger", Users: 5000, TimeScale: scale,
				Model: Model{CeilingFactor: factor}}, nil)
			ids := f.tenant.userOrder[:5000]
			var first429 atomic.Pointer[graphResponse]
			var wg sync.WaitGroup
			for g := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < len(ids); i += 64 {
						for {
							r, err := f.send(http.MethodPost, "/users/"+ids[i]+"/revokeSignInSessions", nil)
							if err != nil {
								t.Error(err)
								return
							}
							if r.Status != http.StatusTooManyRequests {
								break
							}
							first429.CompareAndSwap(nil, &r)
						}
					}
				}()
			}
			wg.Wait()

			r := first429.Load()
			if r == nil {
				t.Fatal("no 429 while hammering")
			}
			assertThrottleHeaders(t, f, *r, "Tenant_Application/Write/", infoWrites)
			rate := acceptedRateAfterBurst(t, f.s.Requests(0))
			want := 20 * factor
			if math.Abs(rate-want)/want > 0.05 {
				t.Errorf("accepted %.2f writes/s after the burst, want %.1f ± 5%%", rate, want)
			}
		})
	}
}

// assertThrottleHeaders checks a 429 against GRAPH.md 12.3.
func assertThrottleHeaders(t *testing.T, f *fixture, r graphResponse, scopePrefix, info string) {
	t.Helper()
	if r.errorCode() != "TooManyRequests" {
		t.Errorf("429 error code %q, want TooManyRequests", r.errorCode())
	}
	if msg := r.Body["error"].(map[string]any)["message"]; msg != "Please retry again later." {
		t.Errorf("429 message %q", msg)
	}
	if s, err := strconv.ParseFloat(r.Header.Get("Retry-After"), 64); err != nil || s <= 0 {
		t.Errorf("Retry-After %q, want positive decimal seconds", r.Header.Get("Retry-After"))
	}
	want := scopePrefix + f.app.ClientID + "/" + f.tenant.ID
	if got := r.Header.Get("x-ms-throttle-scope"); got != want {
		t.Errorf("x-ms-throttle-scope %q, want %q", got, want)
	}
	if got := r.Header.Get("x-ms-throttle-information"); got != info {
		t.Errorf("x-ms-throttle-information %q, want %q", got, info)
	}
}

// acceptedRateAfterBurst is the accepted writes per simulated second from the first 429 to
// the last accepted request.
func acceptedRateAfterBurst(t *testing.T, es []LogEntry) float64 {
	t.Helper()
	var first time.Time
	for _, e := range es {
		if e.Status == http.StatusTooManyRequests && (first.IsZero() || e.SimTime.Before(first)) {
			first = e.SimTime
		}
	}
	var ok []time.Time
	for _, e := range es {
		if e.Status == http.StatusOK && e.SimTime.After(first) {
			ok = append(ok, e.SimTime)
		}
	}
	if len(ok) < 100 {
		t.Fatalf("only %d writes accepted after the first 429", len(ok))
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].Before(ok[j]) })
	return float64(len(ok)) / ok[len(ok)-1].Sub(first).Seconds()
}

// A client that paces at 90% of the refill and honours Retry-After writes more than the
// bucket holds (so the refill is what carries it) without a single 429.
func TestPacedClientIsNeverThrottled(t *testing.T) {
	f := newFixture(t, Options{TimeScale: 100}, nil)
	const rate, n = 18.0, 4000 // writes per simulated second; 3,000 fit in the bucket
	start := f.s.clock.Now()
	var next, throttled atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				time.Sleep(f.s.clock.ToReal(due.Sub(f.s.clock.Now())))
				for {
					r, err := f.send(http.MethodPost, "/users/"+f.user.ID+"/revokeSignInSessions", nil)
					if err != nil {
						t.Error(err)
						return
					}
					if r.Status != http.StatusTooManyRequests {
						break
					}
					throttled.Add(1)
					secs, _ := strconv.ParseFloat(r.Header.Get("Retry-After"), 64)
					time.Sleep(time.Duration(secs * float64(time.Second)))
				}
			}
		}()
	}
	wg.Wait()
	if throttled.Load() != 0 {
		t.Errorf("a client pacing below the refill got %d 429s", throttled.Load())
	}
	if used := f.level(t, bEntraWrites); used.Admitted != n {
		t.Errorf("write bucket admitted %d, want %d", used.Admitted, n)
	}
}

// Every family meets its own limits and names them in x-ms-throttle-scope.
func TestThrottleScopesPerFamily(t *testing.T) {
	one := BucketConfig{Capacity: 1, Window: Duration(time.Hour)}
	cases := []struct {
		name, method, path, bucket string
		scope, info                string
		target                     func(f *fixture) string
	}{
		{"identity RU", http.MethodGet, "/users?$select=id", bEntraRU,
			"Tenant_Application/ReadWrite", infoResourceUnits, nil},
		{"identity writes", http.MethodPost, "/users/{user}/revokeSignInSessions", bEntraWrites,
			"Tenant_Application/Write", infoWrites, nil},
		{"tenant writes", http.MethodPost, "/users/{user}/revokeSignInSessions", bEntraTenantWrites,
			"Tenant/Write", infoWrites, nil},
		{"app writes", http.MethodPost, "/users/{user}/revokeSignInSessions", bEntraAppWrites,
			"Application/Write", infoWrites, nil},
		{"device operations", http.MethodPost, "/devices/d1/simProbe", bDeviceWrites,
			"Tenant_Application/Write", infoWrites, nil},
		{"sign-in activity", http.MethodGet, "/users?$select=id,signInActivity", bSignIn,
			"Tenant_Application/Read", infoRequests, nil},
		{"reports", http.MethodGet, "/reports/simProbe", bReports,
			"Tenant_Application/Read", infoRequests, nil},
		{"intune writes", http.MethodPost, "/deviceManagement/simProbes/m1", bIntuneWrites,
			"Tenant_Application/Write", infoWrites, nil},
		{"intune any", http.MethodGet, "/deviceManagement/simProbes/m1", bIntuneAny,
			"Tenant_Application/ReadWrite", infoRequests, nil},
		{"intune tenant", http.MethodPost, "/deviceManagement/simProbes/m1", bIntuneTenantW,
			"Tenant/Write", infoWrites, nil},
		{"enrollment", http.MethodPost, "/deviceManagement/windowsAutopilotDeviceIdentities/a1/simProbe",
			bEnrollWrites, "Tenant_Application/Write", infoWrites, nil},
		{"outlook", http.MethodPost, "/users/{user}/mailFolders/inbox/simProbe", bOutlook,
			"Tenant_Application/ReadWrite", infoRequests, func(f *fixture) string { return f.user.ID }},
		{"global", http.MethodGet, "/users/{user}", bGlobal, "Application/ReadWrite", infoRequests, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zero := 0.0
			f := newFixture(t, frozen(Options{Model: Model{IntuneMissingRetryAfter: &zero,
				Buckets: map[string]BucketConfig{tc.bucket: one}}}), probeRoutes)
			path := strings.ReplaceAll(tc.path, "{user}", f.user.UPN)
			if r := f.must(t, tc.method, path); r.Status >= 400 {
				t.Fatalf("first request: %d %s", r.Status, r.Raw)
			}
			r := f.must(t, tc.method, path)
			if r.Status != http.StatusTooManyRequests {
				t.Fatalf("second request: %d, want 429", r.Status)
			}
			target := f.tenant.ID
			if tc.target != nil {
				target = tc.target(f)
			}
			if got, want := r.Header.Get("x-ms-throttle-scope"),
				tc.scope+"/"+f.app.ClientID+"/"+target; got != want {
				t.Errorf("scope %q, want %q", got, want)
			}
			if got := r.Header.Get("x-ms-throttle-information"); got != tc.info {
				t.Errorf("information %q, want %q", got, tc.info)
			}
			if e := f.last(t); e.Decision != "throttled" || e.Scope != r.Header.Get("x-ms-throttle-scope") {
				t.Errorf("log entry decision %q scope %q", e.Decision, e.Scope)
			}
		})
	}
}
