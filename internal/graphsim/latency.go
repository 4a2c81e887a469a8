package graphsim

import (
	"math"
	"net/http"
	"time"
)

// Graph's response times are not published. The model is log-normal with a median of 200 ms
// for reads and 350 ms for writes and σ = 0.42 (p95 about twice the median), inside the ranges
// measured from PowerShell loops (GRAPH.md 12.8), inflated by (1 + 4·u²) where u is the use of
// the busiest bucket the request touches over its last window: at full use a 200 ms read
// takes about a second, as observed at 700 RU/s. Latency is simulated time; delivery waits
// latency divided by the time scale, without holding the simulator's lock.

// latency draws the simulated latency of a call at bucket use u.
func (sm *simModel) latency(c *call, u float64) time.Duration {
	l := sm.st.Latency
	if !l.Enabled {
		return 0
	}
	median := time.Duration(l.ReadMedian)
	if c.r.Method != http.MethodGet {
		median = time.Duration(l.WriteMedian)
	}
	d := float64(median) * math.Exp(l.Sigma*sm.rng.NormFloat64()) * (1 + sm.st.loadFactor*u*u)
	return time.Duration(d)
}

// absorbLatency makes a $batch envelope wait at least as long as one of its items: the
// items run side by side, so the envelope answers after the slowest. The batch handler
// calls it for every item it dispatched.
func (c *call) absorbLatency(item *call) {
	if c.adm == nil || item.adm == nil {
		return
	}
	c.adm.latency = max(c.adm.latency, item.adm.latency)
	c.entry.LatencyMS = float64(c.adm.latency.Microseconds()) / 1000
}

// sleep waits a simulated duration in real time; it reports false when the client or the
// server gave up first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(s.clock.ToReal(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}
