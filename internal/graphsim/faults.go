package graphsim

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Graph fails now and then below its limits (GRAPH.md 12.1, 11): a 429 under service load,
// 500, 503 and 504, dropped connections, requests that never answer, responses cut short.
// Faults are drawn per request at Model.Faults.Rate, independent of load, so that a
// client's retry paths run even when it paces perfectly. A 504, reset or hang may come after
// the request took effect, which is what makes them ambiguous for calls that are not
// idempotent; a cut response always comes after the effect.

// drawFault decides whether a call meets a fault and which. $batch items only meet the
// faults that a batch can report per item (statuses, not connection failures).
func (sm *simModel) drawFault(c *call, a *admission) bool {
	f := sm.st.Faults
	if f.Rate <= 0 || sm.rng.Float64() >= f.Rate {
		return false
	}
	total := 0.0
	for _, k := range faultKinds {
		if eligibleFault(c, k) {
			total += sm.st.faultWeights[k]
		}
	}
	if total <= 0 {
		return false
	}
	x := sm.rng.Float64() * total
	for _, k := range faultKinds {
		if !eligibleFault(c, k) {
			continue
		}
		if x -= sm.st.faultWeights[k]; x < 0 || k == faultKinds[len(faultKinds)-1] {
			a.fault = k
			break
		}
	}
	switch a.fault {
	case faultCut:
		a.afterEffect = true
	case fault504, faultReset, faultHang:
		a.afterEffect = !c.inBatch && sm.rng.Float64() < sm.st.afterEffect
	}
	return a.fault != ""
}

func eligibleFault(c *call, kind string) bool {
	if !c.inBatch {
		return true
	}
	switch kind {
	case fault429, fault500, fault503, fault504:
		return true
	}
	return false
}

// failEarly answers a call with a fault before it takes effect. Connection faults answer
// nothing here: deliver drops the connection.
func (s *Server) failEarly(c *call, a *admission, now time.Time) {
	sm := s.sm
	a.latency = sm.latency(c, 0)
	sm.record(c, a)
	switch a.fault {
	case fault429:
		// Below-the-limit throttling under service load: Retry-After of one second.
		scope := scopeApp + "/" + limitReadWrite + "/" + appID(c) + "/"
		if c.tenant != nil {
			scope += c.tenant.ID
		}
		if len(a.touched) > 0 {
			scope = sm.scopeHeader(c, a, a.touched[0])
		}
		c.entry.Scope, c.entry.ThrottleInfo = scope, infoServiceLoad
		c.entry.RetryAfter, _ = sm.retryAfter(time.Second, now)
		c.header("Retry-After", c.entry.RetryAfter)
		c.header("x-ms-throttle-scope", scope)
		c.header("x-ms-throttle-information", infoServiceLoad)
		c.fail(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
		c.header("Date", now.Format(http.TimeFormat))
	case fault500:
		c.fail(http.StatusInternalServerError, "generalException",
			"An unexpected error occurred. Please retry the request.")
	case fault503:
		if sm.rng.IntN(2) == 0 {
			c.entry.RetryAfter, _ = sm.retryAfter(2*time.Second, now)
			c.header("Retry-After", c.entry.RetryAfter)
		}
		c.fail(http.StatusServiceUnavailable, "serviceNotAvailable",
			"The service is temporarily unavailable. Please retry later.")
	case fault504:
		c.fail(http.StatusGatewayTimeout, "GatewayTimeout",
			"The gateway did not receive a response from the service in time.")
	default:
		// reset and hang: no answer at all.
		c.entry.Status = 0
	}
	c.entry.Decision = "fault"
}

// abort drops the client's connection. Over HTTP/1.1 the TCP connection is closed, with a
// reset when rst is set; HTTP/2 cannot hand its connection over, so the stream is reset
// instead (http.ErrAbortHandler, which net/http turns into RST_STREAM without logging).
func abort(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok && rst {
		// Close beneath TLS so that no close_notify softens the reset.
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok && rst {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// hang holds a request until the client gives up, the server stops, or the cap passes.
func (s *Server) hang(r *http.Request) {
	t := time.NewTimer(s.clock.ToReal(s.sm.st.hangCap))
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-s.done:
	case <-t.C:
	}
}
