package graph

import (
	"math"
	"net/http"
	"testing"
	"time"
)

// TestLimiterTicketsFollowTheBucket: a ticket's wait follows the bucket's rate when a 429
// lowers it, and draining takes only the tokens nobody holds a ticket for.
func TestLimiterTicketsFollowTheBucket(t *testing.T) {
	t0 := newFakeClock().Now()
	l := newLimiter(10, 5)
	for range 5 {
		tk := l.take(t0, 1)
		if d := l.delay(t0, tk); d != 0 {
			t.Fatalf("a ticket within the burst waits %v", d)
		}
		l.use(tk)
	}
	next := l.take(t0, 1)
	if d := l.delay(t0, next); d != 100*time.Millisecond {
		t.Errorf("the first ticket past the burst waits %v, want 100ms at 10/s", d)
	}
	l.setRate(t0, 5)
	if d := l.delay(t0, next); d != 200*time.Millisecond {
		t.Errorf("after the rate halves the same ticket waits %v, want 200ms", d)
	}

	// One second later 5 tokens came in: one for the ticket, four free. Draining takes the
	// four, not the ticket's.
	t1 := t0.Add(time.Second)
	l.drain(t1)
	if d := l.delay(t1, next); d != 0 {
		t.Errorf("draining delayed a ticket that was due: %v", d)
	}
	if got := l.TokensAt(t1); got != 0 {
		t.Errorf("tokens after draining %v, want 0", got)
	}
}

// TestLimiterHoldsOneBurstAcrossAPause: tickets that come due while their scope is paused go
// together only up to one burst, as Graph's bucket refilled only that much meanwhile.
func TestLimiterHoldsOneBurstAcrossAPause(t *testing.T) {
	t0 := newFakeClock().Now()
	l := newLimiter(10, 5)
	var tickets []ticket
	for range 30 {
		tickets = append(tickets, l.take(t0, 1))
	}
	for _, tk := range tickets[:5] {
		l.use(tk)
	}
	// A pause of ten seconds: at 10/s, 100 tokens' worth of time, but nothing was sent.
	t1 := t0.Add(10 * time.Second)
	due := 0
	for _, tk := range tickets[5:] {
		if l.delay(t1, tk) == 0 {
			due++
		}
	}
	if due != 5 {
		t.Errorf("%d waiting tickets came due over the pause, want one burst (5)", due)
	}
}

// simulatedBucket is Graph's side of one bucket for TestBucketMeasuresTheRealCeiling.
type simulatedBucket struct {
	level, capacity, rate float64
	at                    time.Time
}

func (s *simulatedBucket) admit(now time.Time) bool {
	s.level = math.Min(s.capacity, s.level+s.rate*now.Sub(s.at).Seconds())
	s.at = now
	if s.level < 1 {
		return false
	}
	s.level--
	return true
}

// TestBucketMeasuresTheRealCeiling: a client paced at the published 20/s against a bucket
// that really refills at 12/s moves to 12/s at the first 429, measured from what Graph
// admitted since the start, instead of cutting by 30%; afterwards it keeps Graph busy with
// few refusals (probing above 12/s now and then).
func TestBucketMeasuresTheRealCeiling(t *testing.T) {
	clock := newFakeClock()
	l := DefaultLimits()
	l.Measure = 2 * time.Second
	p := NewPacer(clock)
	b := p.get(bucketSpec{name: "entra-writes/app/tenant", kind: kindEntraWrites, published: 20,
		burst: 100, limits: l, scale: 1})
	t0 := clock.Now()
	server := &simulatedBucket{level: 100, capacity: 100, rate: 12, at: t0}
	var refusals, admitted int
	var first float64 // the rate right after the first 429
	for now := t0; now.Before(t0.Add(300 * time.Second)); {
		// The workers cannot send faster than 30/s (latency and concurrency), so the burst
		// lasts a few seconds, as it does against Graph.
		if err := clock.Sleep(t.Context(), now.Add(time.Second/30).Sub(clock.Now())); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t.Context(), []charge{{b: b, n: 1}}); err != nil {
			t.Fatal(err)
		}
		now = clock.Now()
		m := b.markSend(now, 1)
		arrival := now.Add(5 * time.Millisecond)
		b.answered(arrival)
		switch {
		case server.admit(arrival):
			if arrival.After(t0.Add(60 * time.Second)) {
				admitted++
			}
		default:
			refusals++
			b.refused(m, 1, true)
			b.throttledAt(arrival, m, time.Millisecond)
			if first == 0 {
				first = b.lim.Limit()
			}
		}
	}
	// Over the last 240 s Graph could admit 12/s; a client that keeps it busy gets nearly all.
	if use := float64(admitted) / (12 * 240); use < 0.98 {
		t.Errorf("the client used %.1f%% of the real ceiling after the first minute, want ≥ 98%%", 100*use)
	}
	if math.Abs(first-12) > 0.3 {
		t.Errorf("after the first 429 the rate is %.2f/s, want the real 12/s at once", first)
	}
	if refusals == 0 || refusals > 60 {
		t.Errorf("%d refusals in 300 s; want a few (one episode per recovery period)", refusals)
	}
}

// TestServiceLoad429KeepsTheRate: a 429 that Graph sends for its own load
// (CPULimitExceeded) pauses the scope but does not lower the bucket's rate.
func TestServiceLoad429KeepsTheRate(t *testing.T) {
	_, c := newFakeGraph(t, func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
		if n == 0 {
			return 429, hdr("Retry-After", "1", "x-ms-throttle-information", "CPULimitExceeded",
					"x-ms-throttle-scope", "Tenant_Application/Write/app-1/tenant-1"),
				graphError("TooManyRequests", "Please retry again later.")
		}
		return 204, nil, ""
	}, nil)
	if _, err := c.Do(t.Context(), UpdateUserRequest("u1", UserPatch{})); err != nil {
		t.Fatal(err)
	}
	for _, b := range c.Stats().Buckets {
		if b.Rate != b.Ceiling {
			t.Errorf("bucket %s runs at %v after a service-load 429, want its seed %v", b.Name,
				b.Rate, b.Ceiling)
		}
	}
}

// TestAttemptTimeoutGivesUpOnAHang: an attempt that gets no answer is abandoned after the
// attempt timeout and retried, instead of holding its operation for minutes.
func TestAttemptTimeoutGivesUpOnAHang(t *testing.T) {
	fg, c := newFakeGraph(t, func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		if n == 0 {
			<-r.Context().Done() // never answers; the client must give up
		}
		return 200, nil, `{"id":"u1"}`
	}, func(cfg *Config) { cfg.Retry.AttemptTimeout = 100 * time.Millisecond })
	start := time.Now()
	resp, err := c.Do(t.Context(), GetUserRequest("u1"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 || len(fg.requests()) != 2 {
		t.Errorf("attempts %d, requests %d; want the hang abandoned and one retry", resp.Attempts,
			len(fg.requests()))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the hang held the request for %v", d)
	}
}
