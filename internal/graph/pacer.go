package graph

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is one published limit as a token bucket: a refill Rate per second and a Burst the
// client allows itself (a count, so time scaling leaves it alone).
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
	// MaxInFlight caps the client's concurrent requests ($batch envelopes count once).
	MaxInFlight int
	// SeedFactor is the share of each published rate the client starts at (0.92): the
	// real ceiling is usually lower than published.
	SeedFactor float64
	// Decrease multiplies a bucket's rate on each 429 for its scope (0.7).
	Decrease float64
	// Recovery is how long, in real time at TimeScale 1, a bucket takes to climb back to the
	// rate it had when it was throttled (60 s); it then probes up toward the seeded rate.
	Recovery time.Duration
	// Floor is the lowest share of the published rate adaptation may reach (0.05).
	Floor float64
}

// DefaultLimits returns the published limits of a large tenant.
func DefaultLimits() Limits {
	return Limits{
		EntraRU:            Bucket{Rate: 800, Burst: 100},
		EntraWrites:        Bucket{Rate: 20, Burst: 5},
		EntraTenantWrites:  Bucket{Rate: 60, Burst: 10},
		Reports:            Bucket{Rate: 0.5, Burst: 1},
		IntuneWrites:       Bucket{Rate: 10, Burst: 5},
		IntuneAny:          Bucket{Rate: 100, Burst: 20},
		IntuneTenantWrites: Bucket{Rate: 20, Burst: 10},
		OutlookMailbox:     Bucket{Rate: 10000.0 / 600, Burst: 4},
		ExchangeMailbox:    Bucket{Rate: 0.5, Burst: 1},
		MailboxConcurrency: 4,
		MaxInFlight:        16,
		SeedFactor:         0.92,
		Decrease:           0.7,
		Recovery:           time.Minute,
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

// bucket is one client-side token bucket with its pause and adaptation state.
type bucket struct {
	name string
	kind bucketKind
	lim  *rate.Limiter
	sem  chan struct{} // per-mailbox concurrency, or nil

	mu           sync.Mutex
	ceiling      float64 // seeded rate: published × SeedFactor × TimeScale
	floor        float64
	current      float64
	wmax         float64 // rate when last throttled
	lastThrottle time.Time
	recovery     time.Duration
	decrease     float64
	pausedUntil  time.Time
	throttles    int64
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
	b := &bucket{name: spec.name, kind: spec.kind, ceiling: ceiling, current: ceiling,
		floor: spec.published * l.Floor, recovery: scaleDuration(l.Recovery, spec.scale),
		decrease: l.Decrease}
	b.lim = rate.NewLimiter(rate.Limit(ceiling), max(spec.burst, 1))
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
// tokens, or ctx is done. Reservations are given back if ctx ends first, so that other
// workers may use them.
func (p *Pacer) wait(ctx context.Context, charges []charge) error {
	if err := p.waitPauses(ctx, charges); err != nil {
		return err
	}
	now := p.clock.Now()
	reservations := make([]*rate.Reservation, 0, len(charges))
	var delay time.Duration
	for _, c := range charges {
		c.b.adapt(now)
		// A charge above the burst (a $batch of 20 writes) is reserved in burst-sized parts:
		// each part queues behind the previous one, so the whole cost is paid.
		for left := c.n; left > 0; {
			n := min(left, c.b.lim.Burst())
			r := c.b.lim.ReserveN(now, n)
			reservations = append(reservations, r)
			delay = max(delay, r.DelayFrom(now))
			left -= n
		}
	}
	if err := p.clock.Sleep(ctx, delay); err != nil {
		now := p.clock.Now()
		for _, r := range reservations {
			r.CancelAt(now)
		}
		return err
	}
	// A 429 may have paused a scope while we waited for tokens.
	return p.waitPauses(ctx, charges)
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

// throttled records a 429 on the bucket: it pauses the bucket until now+d (the later of the
// current pause and the new one) and, unless the request was sent before the last decrease
// (its 429 reflects the rate that decrease already corrected), multiplies the rate by the
// decrease factor.
func (b *bucket) throttled(now, sent time.Time, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.throttles++
	if until := now.Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	if !b.lastThrottle.IsZero() && sent.Before(b.lastThrottle) {
		return
	}
	b.currentLocked(now)
	b.wmax = b.current
	b.current = max(b.current*b.decrease, b.floor)
	b.lastThrottle = now
	b.lim.SetLimitAt(now, rate.Limit(b.current))
}

// adapt moves the rate along its recovery curve.
func (b *bucket) adapt(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.current
	b.currentLocked(now)
	if math.Abs(b.current-old) > old/100 {
		b.lim.SetLimitAt(now, rate.Limit(b.current))
	}
}

// currentLocked computes the recovering rate, in the style of TCP CUBIC: for the recovery
// period after a throttle it climbs from the decreased rate back to wmax along a concave curve
// (fast at first, slow near the rate that failed), then probes beyond it along a convex one
// (slow at first) up to the seeded ceiling.
func (b *bucket) currentLocked(now time.Time) {
	if b.lastThrottle.IsZero() {
		return
	}
	t := now.Sub(b.lastThrottle).Seconds()
	period := b.recovery.Seconds()
	var r float64
	if t < period {
		r = b.wmax * (1 - (1-b.decrease)*math.Pow(1-t/period, 3))
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
