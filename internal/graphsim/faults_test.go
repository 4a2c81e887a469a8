package graphsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// only injects one fault kind on every request.
func only(kind string, afterEffect float64) Model {
	return Model{Faults: FaultConfig{Rate: 1, Weights: map[string]float64{kind: 1},
		AfterEffect: &afterEffect, HangCap: Duration(time.Minute)}}
}

// revoked reports whether the fixture user's sessions were revoked at the frozen time.
func revoked(f *fixture) bool {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.user.SessionsValidFrom.Equal(f.s.clock.Now())
}

// faultEntry waits for the log entry of a request that ended in a fault (a hanging request
// is logged only when it ends).
func faultEntry(t *testing.T, f *fixture) LogEntry {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range f.s.Requests(0) {
			if e.Fault != "" {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no fault in the request log")
	return LogEntry{}
}

func TestStatusFaults(t *testing.T) {
	cases := []struct {
		kind        string
		afterEffect float64
		status      int
		code        string
	}{
		{fault429, 0, http.StatusTooManyRequests, "TooManyRequests"},
		{fault500, 0, http.StatusInternalServerError, "generalException"},
		{fault503, 0, http.StatusServiceUnavailable, "serviceNotAvailable"},
		{fault504, 0, http.StatusGatewayTimeout, "GatewayTimeout"},
		{fault504, 1, http.StatusGatewayTimeout, "GatewayTimeout"},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			f := newFixture(t, frozen(Options{Model: only(tc.kind, tc.afterEffect)}), nil)
			r := f.revoke(t)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %s", r.Status, r.errorCode(), tc.status, tc.code)
			}
			if got := revoked(f); got != (tc.afterEffect == 1) {
				t.Errorf("revoke took effect: %v, want %v", got, tc.afterEffect == 1)
			}
			e := f.last(t)
			if e.Decision != "fault" || e.Fault != tc.kind || e.FaultAfterEffect != (tc.afterEffect == 1) {
				t.Errorf("logged %s fault %q after effect %v", e.Decision, e.Fault, e.FaultAfterEffect)
			}
			if tc.kind == fault429 {
				if r.Header.Get("Retry-After") != "1" || r.Header.Get("x-ms-throttle-information") != infoServiceLoad ||
					r.Header.Get("x-ms-throttle-scope") != "Tenant_Application/ReadWrite/"+f.app.ClientID+"/"+f.tenant.ID {
					t.Errorf("noise 429 headers %v", r.Header)
				}
				if lvl := f.level(t, bEntraWrites).Level; lvl != 3000 {
					t.Errorf("noise 429 charged the write bucket: level %v", lvl)
				}
			}
		})
	}
}

// Connection faults, over HTTP/2 (the simulator's own client) and HTTP/1.1.
func TestConnectionFaults(t *testing.T) {
	for _, proto := range []string{"h2", "http/1.1"} {
		for _, tc := range []struct {
			kind        string
			afterEffect float64
		}{{faultReset, 0}, {faultReset, 1}, {faultCut, 0}} {
			t.Run(fmt.Sprintf("%s %s after effect %g", proto, tc.kind, tc.afterEffect), func(t *testing.T) {
				f := newFixture(t, frozen(Options{Model: only(tc.kind, tc.afterEffect)}), nil)
				if proto == "http/1.1" {
					f.client = &http.Client{Transport: &http.Transport{TLSClientConfig: f.s.TLSClientConfig()}}
					t.Cleanup(f.client.CloseIdleConnections)
				}
				r, err := f.send(http.MethodPost, "/users/"+f.user.ID+"/revokeSignInSessions", nil)
				if err == nil {
					t.Fatalf("%s: got %d %s, want a transport error", tc.kind, r.Status, r.Raw)
				}
				if tc.kind == faultCut && (r.Status != http.StatusOK || len(r.Raw) == 0) {
					t.Errorf("cut response: status %d with %d bytes, want 200 and part of the body", r.Status, len(r.Raw))
				}
				wantEffect := tc.kind == faultCut || tc.afterEffect == 1
				if revoked(f) != wantEffect {
					t.Errorf("took effect %v, want %v", revoked(f), wantEffect)
				}
				if e := faultEntry(t, f); e.Fault != tc.kind || e.FaultAfterEffect != wantEffect {
					t.Errorf("logged fault %q after effect %v", e.Fault, e.FaultAfterEffect)
				}
			})
		}
	}
}

func TestHangFault(t *testing.T) {
	t.Run("until the client gives up", func(t *testing.T) {
		f := newFixture(t, frozen(Options{Model: only(faultHang, 0)}), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost,
			f.s.GraphURL()+"/users/"+f.user.ID+"/revokeSignInSessions", nil)
		req.Header.Set("Authorization", "Bearer "+f.tok)
		start := time.Now()
		_, err := f.client.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hanging request: %v, want the client's deadline", err)
		}
		if time.Since(start) < 250*time.Millisecond {
			t.Errorf("request ended after %v, before the client's timeout", time.Since(start))
		}
		if e := faultEntry(t, f); e.Fault != faultHang || e.Status != 0 {
			t.Errorf("logged %q status %d", e.Fault, e.Status)
		}
	})
	t.Run("until the cap", func(t *testing.T) {
		m := only(faultHang, 0)
		m.Faults.HangCap = Duration(2 * time.Second) // 200 ms real at scale 10
		f := newFixture(t, frozen(Options{TimeScale: 10, Model: m}), nil)
		start := time.Now()
		r, err := f.send(http.MethodPost, "/users/"+f.user.ID+"/revokeSignInSessions", nil)
		if err == nil {
			t.Fatalf("got %d, want the connection dropped at the cap", r.Status)
		}
		if d := time.Since(start); d < 180*time.Millisecond || d > 2*time.Second {
			t.Errorf("dropped after %v, want about 200ms", d)
		}
	})
}

func TestFaultRateAndWeights(t *testing.T) {
	f := newFixture(t, frozen(Options{Model: Model{Faults: FaultConfig{Rate: 0.2,
		Weights: map[string]float64{fault500: 3, fault503: 1}}}}), nil)
	const n = 400
	counts := map[int]int{}
	for range n {
		counts[f.must(t, http.MethodGet, "/users/"+f.user.ID).Status]++
	}
	faults := counts[500] + counts[503]
	if faults < 55 || faults > 105 {
		t.Errorf("%d faults in %d requests at rate 0.2", faults, n)
	}
	if counts[500] < 2*counts[503] {
		t.Errorf("500s %d and 503s %d, want about three to one", counts[500], counts[503])
	}
	if counts[200]+faults != n {
		t.Errorf("statuses %v", counts)
	}
}

func TestNoFaultsByDefault(t *testing.T) {
	f := newFixture(t, frozen(Options{}), nil)
	for range 300 {
		if r := f.must(t, http.MethodGet, "/users/"+f.user.ID); r.Status != http.StatusOK {
			t.Fatalf("zero-value model: %d", r.Status)
		}
	}
}

// A $batch item can only fail with a status: its batch answers for the connection.
func TestBatchItemsOnlyMeetStatusFaults(t *testing.T) {
	for _, kind := range []string{faultReset, faultHang, faultCut} {
		sm, _ := newSimModel(only(kind, 1), 1, 1, time.Now())
		c := probeCall(http.MethodGet, "users/{id}", "")
		c.inBatch = true
		if sm.drawFault(c, &admission{}) {
			t.Errorf("batch item met a %s", kind)
		}
	}
	sm, _ := newSimModel(only(fault504, 1), 1, 1, time.Now())
	c := probeCall(http.MethodGet, "users/{id}", "")
	c.inBatch = true
	a := &admission{}
	if !sm.drawFault(c, a) || a.fault != fault504 || a.afterEffect {
		t.Errorf("batch item 504: fault %q after effect %v, want a 504 before the effect", a.fault, a.afterEffect)
	}
}
