package graphsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// simModel is the simulator's throttling, fault and latency model. Its state is guarded by
// its own lock, taken inside s.mu by admit and alone by delivery and inspection.
type simModel struct {
	mu    sync.Mutex
	st    *settings
	defs  map[string]*bucketDef
	bk    buckets
	rng   *rand.Rand
	scale float64
	// outlook counts the requests in flight per application and mailbox.
	outlook map[bucketKey]int

	inFlight, maxInFlight atomic.Int64
}

func newSimModel(m Model, seed uint64, scale float64, epoch time.Time) (*simModel, error) {
	st, err := m.compile()
	if err != nil {
		return nil, err
	}
	sm := &simModel{st: st, defs: map[string]*bucketDef{}, scale: scale,
		rng:     rand.New(rand.NewPCG(seed^0x5bd1e995, seed^0x27d4eb2f165667c5)),
		outlook: map[bucketKey]int{}}
	for _, d := range st.defs {
		sm.defs[d.name] = d
	}
	sm.bk = buckets{st: st, epoch: epoch, origin: epoch, start: st.start, all: map[bucketKey]*bucket{},
		phase: 2 * math.Pi * sm.rng.Float64()}
	return sm, nil
}

// admission is what the model decided for one call, carried from admit (under the lock) to
// delivery (after it).
type admission struct {
	cost    cost
	charges []charge
	touched []*bucket
	// held buffers the response so that latency and connection faults apply after s.mu is
	// released; out is the real writer. Both are nil for $batch items.
	held *heldResponse
	out  http.ResponseWriter
	// latency is simulated; delivery waits latency / time scale.
	latency     time.Duration
	fault       string
	afterEffect bool
	slot        *bucketKey // an Outlook concurrency slot to give back
}

// refusal is why a request is throttled.
type refusal struct {
	first   *bucket
	lacking []*bucket
	early   bool // an early retry under the penalty
	busy    bool // Outlook concurrency
}

// admit decides whether a call may run: throttling, injected faults and latency. It runs
// with s.mu held, after routing and authorisation, and answers the call itself when it
// refuses it. Waiting (latency, hangs) happens later, in deliver, without the lock.
func (s *Server) admit(c *call) bool {
	sm := s.sm
	sm.mu.Lock()
	defer sm.mu.Unlock()
	now := s.clock.Now()
	a := &admission{}
	c.adm = a
	if !c.inBatch {
		a.out, a.held = c.w, newHeldResponse()
		c.w = a.held
	}
	a.cost = classify(c)
	if a.cost.family == familyOutlook {
		a.cost.mailbox = mailboxKey(c)
	}
	a.charges = sm.charges(c, a.cost)
	a.touched = sm.instances(c, a, now)
	c.entry.Family = a.cost.family
	c.entry.ResourceUnits, c.entry.Writes = a.cost.ru, a.cost.writes

	if sm.drawFault(c, a) && !a.afterEffect {
		s.failEarly(c, a, now)
		return false
	}
	if r := sm.check(c, a, now); r != nil {
		s.throttle(c, a, r, now)
		return false
	}
	sm.take(a, now)
	a.latency = sm.latency(c, sm.busiest(a, now))
	s.admitted(c, a, now)
	return true
}

// settle runs after a handler has answered, with s.mu held: a 504 that comes after the
// effect replaces the handler's answer.
func (s *Server) settle(c *call) {
	a := c.adm
	if a == nil || a.fault != fault504 || a.held == nil {
		return
	}
	a.held.reset()
	c.entry.Decision = "fault"
	c.fail(http.StatusGatewayTimeout, "GatewayTimeout",
		"The gateway did not receive a response from the service in time.")
}

// mailboxKey is the user id of the mailbox a mail request addresses.
func mailboxKey(c *call) string {
	key := c.param("id")
	if c.tenant != nil {
		if u := c.tenant.userByKey(key); u != nil {
			return u.ID
		}
	}
	return strings.ToLower(key)
}

// instances returns the bucket instances a call's charges fall on.
func (sm *simModel) instances(c *call, a *admission, now time.Time) []*bucket {
	appID, tenantID := "", ""
	if c.app != nil {
		appID = c.app.ClientID
	}
	if c.tenant != nil {
		tenantID = c.tenant.ID
	}
	out := make([]*bucket, len(a.charges))
	for i, ch := range a.charges {
		key := bucketKey{def: ch.def}
		switch ch.def.per {
		case perAppTenant:
			key.app, key.target = appID, tenantID
		case perTenant:
			key.target = tenantID
		case perApp:
			key.app = appID
		case perAppMailbox:
			key.app, key.target = appID, a.cost.mailbox
		}
		out[i] = sm.bk.get(key, c.tenant, now)
	}
	return out
}

// check returns why the call must be refused, or nil. Buckets are checked in order and the
// first that lacks tokens (or is closed, or was told to wait) names the scope.
func (sm *simModel) check(c *call, a *admission, now time.Time) *refusal {
	if sm.st.Unthrottled {
		return nil
	}
	var r *refusal
	app := ""
	if c.app != nil {
		app = c.app.ClientID
	}
	for i, b := range a.touched {
		need := math.Min(a.charges[i].amount, b.capacity)
		if n, ok := b.notices[app]; ok && sm.st.EarlyRetryPenalty && now.Before(n.until) {
			if r == nil {
				return &refusal{first: b, lacking: []*bucket{b}, early: true}
			}
		}
		closed := sm.st.retryMode == modeWindow && now.Before(b.blockedUntil)
		if closed || b.level < need {
			if r == nil {
				r = &refusal{first: b}
			}
			r.lacking = append(r.lacking, b)
		}
	}
	if b := mailboxBucket(a); r == nil && b != nil && sm.outlook[b.key] >= sm.st.concurrency {
		return &refusal{first: b, lacking: []*bucket{b}, busy: true}
	}
	return r
}

// mailboxBucket is the Outlook bucket of an app and mailbox a call touches, which also
// carries the limit of 4 concurrent requests.
func mailboxBucket(a *admission) *bucket {
	for _, b := range a.touched {
		if b.key.def.per == perAppMailbox {
			return b
		}
	}
	return nil
}

// take charges an admitted call on every bucket it touches.
func (sm *simModel) take(a *admission, now time.Time) {
	for i, b := range a.touched {
		amt := a.charges[i].amount
		b.level -= amt
		b.usage.add(now, amt, amt)
		b.admitted++
	}
	if b := mailboxBucket(a); b != nil {
		key := b.key
		sm.outlook[key]++
		a.slot = &key
	}
}

// busiest is the use of the busiest bucket a call touches, over its last window.
func (sm *simModel) busiest(a *admission, now time.Time) float64 {
	u := 0.0
	for _, b := range a.touched {
		u = math.Max(u, b.use(now))
	}
	return u
}

// admitted sets the headers of an admitted call and records the decision.
func (s *Server) admitted(c *call, a *admission, now time.Time) {
	sm := s.sm
	if a.cost.family == familyIdentity {
		c.header("x-ms-resource-unit", strconv.Itoa(a.cost.ru))
		sm.limitPercentage(c, a, now)
	}
	sm.record(c, a)
}

// limitPercentage sends x-ms-throttle-limit-percentage when the knob is on and a bucket is
// above 0.8 of its limit.
func (sm *simModel) limitPercentage(c *call, a *admission, now time.Time) {
	if !sm.st.LimitPercentageHeader {
		return
	}
	p := 0.0
	for _, b := range a.touched {
		p = math.Max(p, b.pressure(now))
	}
	if p > 0.8 {
		c.header("x-ms-throttle-limit-percentage", strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64))
	}
}

// record writes bucket levels, latency and fault into the request log entry.
func (sm *simModel) record(c *call, a *admission) {
	c.entry.Buckets = make([]BucketLevel, len(a.touched))
	for i, b := range a.touched {
		c.entry.Buckets[i] = BucketLevel{Name: b.key.def.name, Level: round3(b.level)}
	}
	c.entry.LatencyMS = float64(a.latency.Microseconds()) / 1000
	if a.fault != "" {
		c.entry.Fault = a.fault
		c.entry.FaultAfterEffect = a.afterEffect
		c.entry.Decision = "fault"
	}
}

// throttle refuses a call with 429: it charges the refused request as configured, works out
// the wait, and answers with Graph's headers and error body.
func (s *Server) throttle(c *call, a *admission, r *refusal, now time.Time) {
	sm := s.sm
	a.fault, a.afterEffect = "", false // the limit wins over a fault that would come later
	wait := sm.refuse(c, a, r, now)
	def := r.first.key.def
	c.entry.ThrottleInfo = def.info
	if r.busy {
		c.entry.ThrottleInfo = infoConcurrency
	}
	c.entry.Scope = sm.scopeHeader(c, a, r.first)
	c.header("x-ms-throttle-scope", c.entry.Scope)
	c.header("x-ms-throttle-information", c.entry.ThrottleInfo)
	if def.intune && sm.rng.Float64() < sm.st.intuneMissing {
		wait = 0 // Intune often sends no Retry-After: nothing is announced
	}
	var announced time.Duration
	if wait > 0 {
		c.entry.RetryAfter, announced = sm.retryAfter(wait, now)
		c.header("Retry-After", c.entry.RetryAfter)
		for _, b := range r.lacking {
			b.notices[appID(c)] = notice{until: now.Add(announced), wait: announced}
		}
	}
	if a.cost.family == familyIdentity {
		sm.limitPercentage(c, a, now)
	}
	a.latency = sm.latency(c, 0)
	sm.record(c, a)
	c.fail(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
	// The Date header is the reference for an HTTP-date Retry-After: pin it to the instant
	// the wait was computed from.
	c.header("Date", now.Format(http.TimeFormat))
}

func appID(c *call) string {
	if c.app == nil {
		return ""
	}
	return c.app.ClientID
}

// refuse charges a refused request and returns the simulated wait to announce.
func (sm *simModel) refuse(c *call, a *admission, r *refusal, now time.Time) time.Duration {
	f := sm.st.ThrottledCost
	for i, b := range a.touched {
		amt := a.charges[i].amount
		b.usage.add(now, 0, amt)
		if f > 0 {
			b.level = math.Max(-b.capacity, b.level-f*amt)
		}
	}
	r.first.refused++
	switch {
	case r.early:
		// The wait restarts from now.
		return r.first.notices[appID(c)].wait
	case r.busy:
		return time.Second
	case sm.st.retryMode == modeFixed:
		return sm.st.fixedWait
	case sm.st.retryMode == modeWindow:
		var wait time.Duration
		for _, b := range r.lacking {
			if !now.Before(b.blockedUntil) {
				b.blockedUntil = now.Add(b.key.def.window)
			}
			wait = max(wait, b.blockedUntil.Sub(now))
		}
		return wait
	}
	var wait time.Duration
	for i, b := range a.touched {
		if !containsBucket(r.lacking, b) {
			continue
		}
		deficit := math.Min(a.charges[i].amount, b.capacity) - b.level
		secs := deficit / sm.bk.effectiveRate(b, now)
		wait = max(wait, time.Duration(secs*float64(time.Second)))
	}
	return max(wait, time.Millisecond)
}

func containsBucket(bs []*bucket, b *bucket) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// scopeHeader formats x-ms-throttle-scope: <Scope>/<Limit>/<ApplicationId>/<TenantId>, with
// the mailbox's id in place of the tenant for Outlook.
func (sm *simModel) scopeHeader(c *call, a *admission, b *bucket) string {
	def := b.key.def
	target := ""
	if c.tenant != nil {
		target = c.tenant.ID
	}
	if def.per == perAppMailbox {
		target = a.cost.mailbox
	}
	return fmt.Sprintf("%s/%s/%s/%s", def.scope, def.limit, appID(c), target)
}

// retryAfter formats a simulated wait as a Retry-After value in real time (wait divided by
// the time scale) and returns the simulated wait a client honouring it will observe, which
// is never shorter than wait: values are rounded up.
func (sm *simModel) retryAfter(wait time.Duration, now time.Time) (string, time.Duration) {
	realSecs := wait.Seconds() / sm.scale
	format := sm.st.RetryAfterFormat
	if format == formatMix {
		format = []string{formatDecimal, formatInteger, formatHTTPDate}[sm.rng.IntN(3)]
	}
	var value string
	var announced float64 // real seconds
	switch format {
	case formatInteger:
		announced = math.Max(1, math.Ceil(realSecs))
		value = strconv.Itoa(int(announced))
	case formatHTTPDate:
		// Relative to the Date header, which carries simulated time truncated to the second.
		announced = math.Max(1, math.Ceil(realSecs))
		value = now.Truncate(time.Second).Add(time.Duration(announced) * time.Second).
			Format(http.TimeFormat)
	default:
		announced = math.Max(0.001, math.Ceil(realSecs*1000)/1000)
		value = strconv.FormatFloat(announced, 'f', -1, 64)
	}
	return value, time.Duration(announced * sm.scale * float64(time.Second))
}

// release gives back what a call held until its response was delivered.
func (sm *simModel) release(a *admission) {
	if a.slot == nil {
		return
	}
	sm.mu.Lock()
	if sm.outlook[*a.slot]--; sm.outlook[*a.slot] <= 0 {
		delete(sm.outlook, *a.slot)
	}
	sm.mu.Unlock()
	a.slot = nil
}

// enter counts a request in flight and returns how many are, this one included.
func (sm *simModel) enter() int {
	n := sm.inFlight.Add(1)
	for {
		m := sm.maxInFlight.Load()
		if n <= m || sm.maxInFlight.CompareAndSwap(m, n) {
			return int(n)
		}
	}
}

func (sm *simModel) leave() { sm.inFlight.Add(-1) }
