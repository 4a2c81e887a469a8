package graph

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bucket is one published limit as a token bucket: a refill Rate per second and a Burst,
// the quota of one window (a count, so time scaling leaves it alone).
type Bucket struct {
	Rate  float64
	Burst int
}

// Limits are the published throttle limits the client paces itself by (GRAPH.md 12,
// PERFORMANCE.md 2.2). Microsoft says they change: keep them in configuration.
type Limits struct {
	// EntraRU is resource units per second per app and tenant: 800 for a tenant over 500
	// users, 500 for 50–500, 350 under 50.
	EntraRU Bucket
	// EntraWrites is identity writes per app and tenant: 3,000 per 150 s.
	EntraWrites Bucket
	// EntraTenantWrites is identity writes per tenant, all apps: 18,000 per 5 min. Shared by
	// every client of the tenant on one Pacer, and with writers cutover cannot see.
	EntraTenantWrites Bucket
	// Reports is identity report requests per app and tenant: 5 per 10 s.
	Reports Bucket
	// IntuneWrites and IntuneAny are Intune device requests per app and tenant: 200 writes
	// and 2,000 requests of any kind per 20 s. IntuneTenantWrites is 400 writes per 20 s for
	// the whole tenant.
	IntuneWrites, IntuneAny, IntuneTenantWrites Bucket
	// OutlookMailbox is Graph Outlook requests per app and mailbox: 10,000 per 10 min.
	OutlookMailbox Bucket
	// ExchangeMailbox is messages per sending mailbox: 30 per minute.
	ExchangeMailbox Bucket
	// MailboxConcurrency is the number of concurrent requests per mailbox (4).
	MailboxConcurrency int
	// MaxInFlight caps the client's concurrent requests ($batch envelopes count once). Pacing
	// sets the rate; the cap only has to let it through (Little's law): 20 writes/s at the
	// 1–2 s a write takes while its bucket is busy needs about 40 in flight, and Intune's 10/s
	// another 20 beside it (128).
	MaxInFlight int
	// SeedFactor is the share of each published rate the client starts at (1: the published
	// rate). Below 1 the client gives away that share of the budget for as long as it is not
	// throttled; adaptation (below) finds a lower real ceiling within one or two 429s.
	SeedFactor float64
	// Decrease multiplies a bucket's rate on a 429 for its scope when the rate Graph really
	// admitted cannot be measured yet (0.7).
	Decrease float64
	// Recovery is how long, in real time at TimeScale 1, a bucket holds the rate it settled on
	// after a 429 (or climbs back to the rate it had when throttled) before it probes up
	// toward the seeded rate again (60 s).
	Recovery time.Duration
	// Measure is the shortest stretch between two 429s of one bucket over which the client
	// measures the rate Graph really admitted, in real time at TimeScale 1 (20 s).
	Measure time.Duration
	// Floor is the lowest share of the published rate adaptation may reach (0.05).
	Floor float64
}

// DefaultLimits returns the published limits of a large tenant. Each burst is the quota of
// one window: Graph's buckets are taken to start full, so the client spends that quota at
// once and then paces at the refill, which is the fastest any client can finish
// (PERFORMANCE.md 1.1). When the bucket was not full after all, the first 429 empties the
// client's bucket too.
func DefaultLimits() Limits {
	return Limits{
		EntraRU:            Bucket{Rate: 800, Burst: 8000},
		EntraWrites:        Bucket{Rate: 20, Burst: 3000},
		EntraTenantWrites:  Bucket{Rate: 60, Burst: 18000},
		Reports:            Bucket{Rate: 0.5, Burst: 5},
		IntuneWrites:       Bucket{Rate: 10, Burst: 200},
		IntuneAny:          Bucket{Rate: 100, Burst: 2000},
		IntuneTenantWrites: Bucket{Rate: 20, Burst: 400},
		OutlookMailbox:     Bucket{Rate: 10000.0 / 600, Burst: 10000},
		ExchangeMailbox:    Bucket{Rate: 0.5, Burst: 30},
		MailboxConcurrency: 4,
		MaxInFlight:        128,
		SeedFactor:         1,
		Decrease:           0.7,
		Recovery:           time.Minute,
		Measure:            20 * time.Second,
		Floor:              0.05,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, def *Bucket }{
		{&l.EntraRU, &d.EntraRU}, {&l.EntraWrites, &d.EntraWrites},
		{&l.EntraTenantWrites, &d.EntraTenantWrites}, {&l.Reports, &d.Reports},
		{&l.IntuneWrites, &d.IntuneWrites}, {&l.IntuneAny, &d.IntuneAny},
		{&l.IntuneTenantWrites, &d.IntuneTenantWrites}, {&l.OutlookMailbox, &d.OutlookMailbox},
		{&l.ExchangeMailbox, &d.ExchangeMailbox},
	} {
		if p.v.Rate <= 0 {
			p.v.Rate = p.def.Rate
		}
		if p.v.Burst <= 0 {
			p.v.Burst = p.def.Burst
		}
	}
	if l.MailboxConcurrency <= 0 {
		l.MailboxConcurrency = d.MailboxConcurrency
	}
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = d.MaxInFlight
	}
	if l.SeedFactor <= 0 || l.SeedFactor > 1 {
		l.SeedFactor = d.SeedFactor
	}
	if l.Decrease <= 0 || l.Decrease >= 1 {
		l.Decrease = d.Decrease
	}
	if l.Recovery <= 0 {
		l.Recovery = d.Recovery
	}
	if l.Measure <= 0 {
		l.Measure = d.Measure
	}
	if l.Floor <= 0 || l.Floor >= 1 {
		l.Floor = d.Floor
	}
	return l
}

// bucketKind names what a client bucket meters, and so which x-ms-throttle-scope values
// point at it.
type bucketKind int

const (
	kindEntraRU bucketKind = iota
	kindEntraWrites
	kindEntraTenantWrites
	kindReports
	kindIntuneWrites
	kindIntuneAny
	kindIntuneTenantWrites
	kindOutlook
	kindExchange
)

var kindNames = [...]string{"entra-ru", "entra-writes", "entra-tenant-writes", "reports",
	"intune-writes", "intune-any", "intune-tenant-writes", "outlook", "exchange"}

// tenantWide reports whether the kind is shared by every app of a tenant.
func (k bucketKind) tenantWide() bool {
	return k == kindEntraTenantWrites || k == kindIntuneTenantWrites
}

// writeOnly reports whether the kind meters writes only.
func (k bucketKind) writeOnly() bool {
	return k == kindEntraWrites || k == kindEntraTenantWrites || k == kindIntuneWrites ||
		k == kindIntuneTenantWrites || k == kindExchange
}

// Pacer holds the throttle buckets, their pauses and their adapted rates. One Pacer may be
// shared by the clients of several app registrations, so that they share the tenant-wide
// buckets. It is safe for concurrent use.
type Pacer struct {
	clock Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

// NewPacer returns an empty Pacer; nil clock uses real time.
func NewPacer(clock Clock) *Pacer {
	if clock == nil {
		clock = realClock{}
	}
	return &Pacer{clock: clock, buckets: map[string]*bucket{}}
}

// bucket is one client-side token bucket with its pause and adaptation state. It mirrors
// one of Graph's buckets: same burst, same refill, full at start.
type bucket struct {
	name string
	kind bucketKind
	lim  *limiter
	sem  chan struct{} // per-mailbox concurrency, or nil

	mu           sync.Mutex
	ceiling      float64 // seeded rate: published × SeedFactor × TimeScale
	floor        float64
	current      float64
	wmax         float64 // rate when last throttled, or the rate measured then
	low          float64 // rate the recovery after the last throttle starts from
	lastThrottle time.Time
	recovery     time.Duration
	decrease     float64
	pausedUntil  time.Time
	throttles    int64
	// changed is closed (and replaced) when a 429 lowers the rate or empties the bucket, so
	// that workers holding reservations made at the old rate take them again.
	changed chan struct{}

	// The admitted-rate meter: units sent through the bucket in send order, when the first
	// went, and the recent refusals by position (see measured).
	sent     int64
	born     time.Time
	refusals []refusal
	measure  time.Duration
}

// refusal is n units that Graph refused, at position pos of the bucket's stream of sends.
// own is set when the 429 named this bucket, so that it was empty at that moment.
type refusal struct {
	at  time.Time
	pos int64
	n   int
	own bool
}

// bucketSpec is what a client needs to create a bucket it charges.
type bucketSpec struct {
	name        string
	kind        bucketKind
	published   float64 // per second, already time-scaled
	burst       int
	concurrency int
	limits      Limits // for adaptation parameters
	scale       float64
}

// get returns the named bucket, creating it from spec the first time.
func (p *Pacer) get(spec bucketSpec) *bucket {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.buckets[spec.name]; ok {
		return b
	}
	l := spec.limits
	ceiling := spec.published * l.SeedFactor
	measure := l.Measure
	if measure <= 0 {
		measure = DefaultLimits().Measure
	}
	b := &bucket{name: spec.name, kind: spec.kind, ceiling: ceiling, current: ceiling,
		floor: spec.published * l.Floor, recovery: scaleDuration(l.Recovery, spec.scale),
		decrease: l.Decrease, measure: scaleDuration(measure, spec.scale),
		changed: make(chan struct{})}
	b.lim = newLimiter(ceiling, max(spec.burst, 1))
	if spec.concurrency > 0 {
		b.sem = make(chan struct{}, spec.concurrency)
	}
	p.buckets[spec.name] = b
	return b
}

// charge is one bucket a request draws n tokens from.
type charge struct {
	b *bucket
	n int
}

// wait blocks until every bucket of the charges is out of its pause and has granted its
// tokens, or ctx is done. Tokens are given back if ctx ends first, so that other workers may
// use them. A 429 that lowers a bucket's rate meanwhile makes the wait longer.
func (p *Pacer) wait(ctx context.Context, charges []charge) error {
	if err := p.waitPauses(ctx, charges); err != nil {
		return err
	}
	now := p.clock.Now()
	tickets := make([]ticket, len(charges))
	for i, c := range charges {
		c.b.adapt(now)
		tickets[i] = c.b.lim.take(now, c.n)
	}
	for {
		now := p.clock.Now()
		var delay time.Duration
		changed := make([]chan struct{}, len(charges))
		for i, c := range charges {
			delay = max(delay, c.b.lim.delay(now, tickets[i]))
			changed[i] = c.b.changes()
		}
		if delay <= 0 {
			break
		}
		if err := p.sleepUnlessChanged(ctx, delay, changed); err != nil {
			now := p.clock.Now()
			for i, c := range charges {
				c.b.lim.giveBack(now, tickets[i])
			}
			return err
		}
	}
	// A 429 may have paused a scope while we waited for tokens.
	err := p.waitPauses(ctx, charges)
	now = p.clock.Now()
	for i, c := range charges {
		if err != nil {
			c.b.lim.giveBack(now, tickets[i])
		} else {
			c.b.lim.use(tickets[i])
		}
	}
	return err
}

// sleepUnlessChanged sleeps for d, or until one of the buckets' rates is lowered (nil), or
// until ctx is done (its error).
func (p *Pacer) sleepUnlessChanged(ctx context.Context, d time.Duration, changed []chan struct{}) error {
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		if waitAny(sctx, changed) {
			stop()
		}
	}()
	if err := p.clock.Sleep(sctx, d); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// waitAny blocks until one of chans is closed (true) or ctx is done (false).
func waitAny(ctx context.Context, chans []chan struct{}) bool {
	if len(chans) == 1 {
		select {
		case <-chans[0]:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fired := make(chan struct{}, len(chans))
	for _, ch := range chans {
		go func() {
			select {
			case <-ch:
				fired <- struct{}{}
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		return false
	}
}

// changes returns the channel that the next decrease of the bucket's rate closes.
func (b *bucket) changes() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// waitPauses sleeps until no bucket of the charges is paused.
func (p *Pacer) waitPauses(ctx context.Context, charges []charge) error {
	for {
		now := p.clock.Now()
		var until time.Time
		for _, c := range charges {
			if u := c.b.pauseEnd(); u.After(until) {
				until = u
			}
		}
		if !until.After(now) {
			return ctx.Err()
		}
		if err := p.clock.Sleep(ctx, until.Sub(now)); err != nil {
			return err
		}
	}
}

func (b *bucket) pauseEnd() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pausedUntil
}

// sendMark is where a request's units went in a bucket's stream of sends, and when.
type sendMark struct {
	at  time.Time
	pos int64
}

// markSend records that n units are sent now and returns their place.
func (b *bucket) markSend(now time.Time, n int) sendMark {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := sendMark{at: now, pos: b.sent}
	b.sent += int64(n)
	return m
}

// answered notes that Graph answered a request charged here. The first answer dates the
// start of Graph's bucket for the measurement: its refill began when our first request
// reached it, which the first answer bounds from above (the first send would bound it from
// below, but connections take their time to open).
func (b *bucket) answered(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.born.IsZero() {
		b.born = now
	}
}

// refused records n units Graph refused, sent at m; own says the 429 named this bucket.
func (b *bucket) refused(m sendMark, n int, own bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.pos < 0 {
		return
	}
	r := refusal{at: m.at, pos: m.pos, n: n, own: own}
	i := sort.Search(len(b.refusals), func(i int) bool { return b.refusals[i].pos > r.pos })
	b.refusals = slices.Insert(b.refusals, i, r)
	// Keep what a measurement can still use.
	horizon := m.at.Add(-maxMeasureFactor * b.measure)
	drop := 0
	for drop < len(b.refusals)-1 && b.refusals[drop].at.Before(horizon) {
		drop++
	}
	if drop > 0 || len(b.refusals) > maxRefusals {
		drop = max(drop, len(b.refusals)-maxRefusals)
		b.refusals = slices.Delete(b.refusals, 0, drop)
	}
}

const (
	// maxMeasureFactor bounds the stretch a measurement may cover, in Measure periods: older
	// history says little about the ceiling now.
	maxMeasureFactor = 30
	maxRefusals      = 4096
)

// pause stops every worker on the bucket until now+d (the later of the current pause and
// the new one), without touching its rate: a 429 Graph sent for its own load
// (CPULimitExceeded) says nothing about the bucket.
func (b *bucket) pause(now time.Time, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.throttles++
	if until := now.Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

// throttled records a 429 on the bucket: it pauses the bucket until now+d (the later of the
// current pause and the new one) and, unless the request was sent before the last decrease
// (its 429 reflects the rate that decrease already corrected), multiplies the rate by the
// decrease factor.
func (b *bucket) throttled(now, sent time.Time, d time.Duration) {
	b.throttledAt(now, sendMark{at: sent, pos: -1}, d)
}

// throttledAt is throttled for a request whose place in the stream of sends is known: the
// rate then becomes the rate Graph admitted since an earlier 429 (or since the start, when
// the bucket was full), which is the real ceiling, instead of a blind cut. Graph's bucket is
// empty now, so the client's bucket is emptied too.
func (b *bucket) throttledAt(now time.Time, m sendMark, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.throttles++
	if until := now.Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	if !b.lastThrottle.IsZero() && m.at.Before(b.lastThrottle) {
		return
	}
	b.lim.drain(now)
	b.currentLocked(now)
	old := b.current
	switch est, verdict := b.measured(m); verdict {
	case measuredRate:
		// A measured rate at or above the current one means the 429 came from timing (the
		// client's bucket ran a request ahead of Graph's), not from pacing too fast.
		b.wmax = math.Min(est, b.current)
		b.low = b.wmax
	case measureSoon:
		// The last 429 is too recent to measure against; it already emptied the bucket.
		return
	default:
		b.wmax, b.low = b.current, max(b.current*b.decrease, b.floor)
	}
	b.current = b.low
	b.lastThrottle = now
	b.lim.setRate(now, b.current)
	if b.current < old {
		close(b.changed)
		b.changed = make(chan struct{})
	}
}

// Verdicts of measured.
const (
	measuredRate = iota // the rate could be measured
	measureSoon         // an earlier 429 is too recent: measure at a later one
	unmeasurable        // nothing to measure against
)

// measured returns the rate Graph admitted on this bucket up to the refusal at m. Between
// two moments when Graph's bucket was empty (two 429s naming it), it admitted exactly what
// it refilled, give or take one request: the units sent in between minus those refused,
// over the time between. Before the first such 429 the start serves, when the bucket was
// full: admitted = burst + refill. The stretch must be at least Measure long, so that the
// uncertainty of one request (or of network jitter) stays small.
func (b *bucket) measured(m sendMark) (float64, int) {
	if m.pos < 0 {
		return 0, unmeasurable
	}
	maxSpan := maxMeasureFactor * b.measure
	from, fromPos, start := time.Time{}, int64(-1), 0.0
	earlier := false
	for _, r := range b.refusals {
		if !r.own || r.pos >= m.pos {
			continue
		}
		earlier = true
		if span := m.at.Sub(r.at); span >= b.measure && span <= maxSpan {
			from, fromPos = r.at, r.pos
			break // the oldest qualifying refusal gives the longest stretch
		}
	}
	if fromPos < 0 {
		if earlier {
			return 0, measureSoon
		}
		if b.born.IsZero() {
			return 0, unmeasurable
		}
		from, fromPos, start = b.born, 0, float64(b.lim.Burst())
	}
	span := m.at.Sub(from)
	if span < b.measure || span > maxSpan {
		return 0, unmeasurable
	}
	admitted := float64(m.pos - fromPos)
	for _, r := range b.refusals {
		if r.pos >= fromPos && r.pos < m.pos {
			admitted -= float64(r.n)
		}
	}
	est := (admitted - start) / span.Seconds()
	if est <= 0 {
		return 0, unmeasurable
	}
	return math.Min(math.Max(est, b.floor), b.ceiling), measuredRate
}

// adapt moves the rate along its recovery curve. The limiter follows in steps of 1%,
// measured from the rate it runs at (many small steps must add up).
func (b *bucket) adapt(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.currentLocked(now)
	if running := b.lim.Limit(); math.Abs(b.current-running) > running/100 {
		b.lim.setRate(now, b.current)
	}
}

// currentLocked computes the recovering rate, in the style of TCP CUBIC: for the recovery
// period after a throttle it climbs from the rate it restarted at back to wmax along a
// concave curve (fast at first, slow near the rate that failed; flat when the restart rate
// was measured), then probes beyond it along a convex one (slow at first) up to the seeded
// ceiling.
func (b *bucket) currentLocked(now time.Time) {
	if b.lastThrottle.IsZero() {
		return
	}
	t := now.Sub(b.lastThrottle).Seconds()
	period := b.recovery.Seconds()
	var r float64
	if t < period {
		r = b.wmax - (b.wmax-b.low)*math.Pow(1-t/period, 3)
	} else {
		x := math.Min(1, (t-period)/period)
		r = b.wmax + (b.ceiling-b.wmax)*x*x*x
	}
	b.current = math.Max(b.floor, math.Min(r, b.ceiling))
}

// BucketStats describes one client-side bucket.
type BucketStats struct {
	Name        string
	Rate        float64 // current adapted rate, per second
	Ceiling     float64 // seeded rate, per second
	PausedUntil time.Time
	Throttles   int64
}

// Buckets describes every bucket of the pacer, by name.
func (p *Pacer) Buckets() []BucketStats {
	p.mu.Lock()
	bs := make([]*bucket, 0, len(p.buckets))
	for _, b := range p.buckets {
		bs = append(bs, b)
	}
	p.mu.Unlock()
	now := p.clock.Now()
	out := make([]BucketStats, 0, len(bs))
	for _, b := range bs {
		b.adapt(now)
		b.mu.Lock()
		out = append(out, BucketStats{Name: b.name, Rate: b.current, Ceiling: b.ceiling,
			PausedUntil: b.pausedUntil, Throttles: b.throttles})
		b.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// throttleScope is a parsed x-ms-throttle-scope:
// <Scope>/<Limit>/<ApplicationId>/<TenantId|UserId|ResourceId>.
type throttleScope struct {
	scope, limit string
}

func parseThrottleScope(v string) (throttleScope, bool) {
	parts := strings.Split(strings.TrimSpace(v), "/")
	if len(parts) < 2 || parts[0] == "" {
		return throttleScope{}, false
	}
	return throttleScope{scope: strings.ToLower(parts[0]), limit: strings.ToLower(parts[1])}, true
}

// scopeBuckets picks the buckets of a throttled request that a 429 names. x-ms-throttle-scope
// says whether the tenant-wide or the per-app limit was hit, and whether it was the write
// limit or the one every request draws on. Without a usable header, the request's own most
// specific bucket is paused: the per-app write bucket for a write, the per-app request bucket
// for a read.
func scopeBuckets(header string, charges []charge, write bool) []*bucket {
	var out []*bucket
	if ts, ok := parseThrottleScope(header); ok {
		for _, c := range charges {
			if scopeMatches(ts, c.b.kind) {
				out = append(out, c.b)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, c := range charges {
		k := c.b.kind
		if k.tenantWide() {
			continue
		}
		if k.writeOnly() == write || k == kindOutlook || k == kindReports {
			out = append(out, c.b)
		}
	}
	if len(out) == 0 {
		for _, c := range charges {
			out = append(out, c.b)
		}
	}
	return out
}

func scopeMatches(ts throttleScope, k bucketKind) bool {
	tenantScope := ts.scope == "tenant"
	if tenantScope != k.tenantWide() {
		return false
	}
	if ts.limit == "write" {
		return k.writeOnly()
	}
	// Read and ReadWrite limits are the ones every request draws on.
	return !k.writeOnly() || tenantScope
}
