package graphsim

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Microsoft documents its limits as "N per window"; the simulator models each as a token
// bucket whose capacity is the quota of one window and whose refill is the quota divided by
// the window (PERFORMANCE.md 2.2, an assumption: the algorithm is not published). Buckets
// run on simulated time, so at time scale k they refill k times faster in real time while
// capacities stay the same.

// Who a bucket is kept for.
const (
	perAppTenant  = "app+tenant"
	perTenant     = "tenant"
	perApp        = "app"
	perAppMailbox = "app+mailbox"
)

// Throttle scopes and limits as x-ms-throttle-scope names them (GRAPH.md 12.3).
const (
	scopeTenantApp = "Tenant_Application"
	scopeTenant    = "Tenant"
	scopeApp       = "Application"

	limitRead      = "Read"
	limitWrite     = "Write"
	limitReadWrite = "ReadWrite"
)

// Values of x-ms-throttle-information.
const (
	infoResourceUnits = "ResourceUnitLimitExceeded"
	infoWrites        = "WriteLimitExceeded"
	infoRequests      = "RequestLimitExceeded"
	infoConcurrency   = "ConcurrencyLimitExceeded"
	infoServiceLoad   = "CPULimitExceeded"
)

// Which background load a bucket carries.
const (
	backgroundNone = iota
	backgroundEntra
	backgroundIntune
)

// bucketDef is one documented limit.
type bucketDef struct {
	name     string
	per      string
	scope    string
	limit    string
	info     string
	unit     string             // what it counts: RU, writes or requests
	capacity float64            // quota per window
	bySize   map[string]float64 // capacity by tenant size class, when it depends on it
	window   time.Duration
	refill   float64 // per simulated second; 0 means capacity/window
	start    *float64
	bg       int
	intune   bool // a 429 from it may lack Retry-After
}

// rate is the published refill per simulated second for a bucket of the given capacity.
func (d *bucketDef) rate(capacity float64) float64 {
	if d.refill > 0 {
		return d.refill
	}
	return capacity / d.window.Seconds()
}

// capacityFor returns the capacity for a tenant size class.
func (d *bucketDef) capacityFor(size string) float64 {
	if c, ok := d.bySize[size]; ok {
		return c
	}
	return d.capacity
}

// Bucket names, which are also the keys of Model.Buckets.
const (
	bEntraRU           = "entra-ru"
	bEntraWrites       = "entra-writes"
	bEntraTenantWrites = "entra-tenant-writes"
	bEntraAppRU        = "entra-app-ru"
	bEntraAppWrites    = "entra-app-writes"
	bDeviceWrites      = "entra-device-writes"
	bReports           = "reports"
	bReportsApp        = "reports-app"
	bSignIn            = "sign-in-activity"
	bSignInApp         = "sign-in-activity-app"
	bIntuneWrites      = "intune-writes"
	bIntuneTenantW     = "intune-tenant-writes"
	bIntuneAny         = "intune-any"
	bIntuneTenantAny   = "intune-tenant-any"
	bEnrollWrites      = "enrollment-writes"
	bEnrollTenantW     = "enrollment-tenant-writes"
	bEnrollAny         = "enrollment-any"
	bEnrollTenantAny   = "enrollment-tenant-any"
	bOutlook           = "outlook"
	bGlobal            = "global"
)

// defaultBucketDefs returns the published limits of GRAPH.md 12 (PERFORMANCE.md 2.2).
func defaultBucketDefs() []*bucketDef {
	sec := time.Second
	return []*bucketDef{
		{name: bEntraRU, per: perAppTenant, scope: scopeTenantApp, limit: limitReadWrite,
			info: infoResourceUnits, unit: "RU", capacity: 8000, window: 10 * sec,
			bySize: map[string]float64{"S": 3500, "M": 5000, "L": 8000}},
		{name: bEntraWrites, per: perAppTenant, scope: scopeTenantApp, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 3000, window: 150 * sec},
		{name: bDeviceWrites, per: perAppTenant, scope: scopeTenantApp, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 3000, window: 150 * sec},
		{name: bSignIn, per: perAppTenant, scope: scopeTenantApp, limit: limitRead,
			info: infoRequests, unit: "requests", capacity: 10, window: 60 * sec},
		{name: bEntraTenantWrites, per: perTenant, scope: scopeTenant, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 18000, window: 300 * sec, bg: backgroundEntra},
		{name: bEntraAppRU, per: perApp, scope: scopeApp, limit: limitReadWrite,
			info: infoResourceUnits, unit: "RU", capacity: 150000, window: 20 * sec},
		{name: bEntraAppWrites, per: perApp, scope: scopeApp, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 35000, window: 300 * sec},
		{name: bSignInApp, per: perApp, scope: scopeApp, limit: limitRead,
			info: infoRequests, unit: "requests", capacity: 10, window: 60 * sec},
		{name: bReports, per: perAppTenant, scope: scopeTenantApp, limit: limitRead,
			info: infoRequests, unit: "requests", capacity: 5, window: 10 * sec},
		{name: bReportsApp, per: perApp, scope: scopeApp, limit: limitRead,
			info: infoRequests, unit: "requests", capacity: 122, window: 10 * sec},
		{name: bIntuneWrites, per: perAppTenant, scope: scopeTenantApp, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 200, window: 20 * sec, intune: true},
		{name: bIntuneAny, per: perAppTenant, scope: scopeTenantApp, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 2000, window: 20 * sec, intune: true},
		{name: bIntuneTenantW, per: perTenant, scope: scopeTenant, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 400, window: 20 * sec, intune: true,
			bg: backgroundIntune},
		{name: bIntuneTenantAny, per: perTenant, scope: scopeTenant, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 4000, window: 20 * sec, intune: true,
			bg: backgroundIntune},
		{name: bEnrollWrites, per: perAppTenant, scope: scopeTenantApp, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 100, window: 20 * sec, intune: true},
		{name: bEnrollAny, per: perAppTenant, scope: scopeTenantApp, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 1000, window: 20 * sec, intune: true},
		{name: bEnrollTenantW, per: perTenant, scope: scopeTenant, limit: limitWrite,
			info: infoWrites, unit: "writes", capacity: 200, window: 20 * sec, intune: true,
			bg: backgroundIntune},
		{name: bEnrollTenantAny, per: perTenant, scope: scopeTenant, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 2000, window: 20 * sec, intune: true,
			bg: backgroundIntune},
		{name: bOutlook, per: perAppMailbox, scope: scopeTenantApp, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 10000, window: 600 * sec},
		{name: bGlobal, per: perApp, scope: scopeApp, limit: limitReadWrite,
			info: infoRequests, unit: "requests", capacity: 130000, window: 10 * sec},
	}
}

// compileBuckets applies the model's overrides to the default buckets.
func compileBuckets(over map[string]BucketConfig) ([]*bucketDef, []error) {
	defs := defaultBucketDefs()
	byName := map[string]*bucketDef{}
	for _, d := range defs {
		byName[d.name] = d
	}
	var errs []error
	for name, o := range over {
		d := byName[name]
		if d == nil {
			errs = append(errs, fmt.Errorf("buckets: unknown bucket %q", name))
			continue
		}
		if o.Disabled {
			delete(byName, name)
			continue
		}
		if o.Capacity < 0 || o.Window < 0 || o.RefillPerSecond < 0 {
			errs = append(errs, fmt.Errorf("buckets.%s: values must not be negative", name))
			continue
		}
		if o.Capacity > 0 {
			d.capacity, d.bySize = o.Capacity, nil
		}
		if o.Window > 0 {
			d.window = time.Duration(o.Window)
		}
		if o.RefillPerSecond > 0 {
			d.refill = o.RefillPerSecond
		}
		if o.StartLevel != "" {
			v, err := parseLevel(o.StartLevel)
			if err != nil {
				errs = append(errs, fmt.Errorf("buckets.%s.startLevel: %w", name, err))
			}
			d.start = &v
		}
	}
	out := defs[:0]
	for _, d := range defs {
		if byName[d.name] == d {
			out = append(out, d)
		}
	}
	return out, errs
}

// bucketKey identifies one bucket instance: a limit for one application and one tenant (or
// mailbox), one tenant, or one application.
type bucketKey struct {
	def    *bucketDef
	app    string // client id, empty for tenant buckets
	target string // tenant id, or the mailbox's user id
}

// bucket is one token bucket. Levels are in the bucket's unit and may go negative when
// refused requests are charged.
type bucket struct {
	key      bucketKey
	tenant   string // tenant id, for the scope header
	capacity float64
	rate     float64 // published refill per simulated second, before ceiling and background
	level    float64
	at       time.Time
	// blockedUntil keeps the bucket closed in window mode after a refusal.
	blockedUntil time.Time
	// notices are the waits announced to each application, for the early-retry penalty.
	notices map[string]notice
	usage   usageWindow

	admitted, refused int
}

// notice is a wait announced in a Retry-After: until when, and how long it was.
type notice struct {
	until time.Time
	wait  time.Duration
}

// usageWindow sums what a bucket admitted and what was asked of it over its last window,
// in ten slots.
type usageWindow struct {
	slot             time.Duration
	index            [10]int64
	admitted, demand [10]float64
}

func (u *usageWindow) add(now time.Time, admitted, demand float64) {
	i := now.UnixNano() / int64(u.slot)
	k := i % int64(len(u.index))
	if u.index[k] != i {
		u.index[k], u.admitted[k], u.demand[k] = i, 0, 0
	}
	u.admitted[k] += admitted
	u.demand[k] += demand
}

// sums returns what was admitted and asked over the last window.
func (u *usageWindow) sums(now time.Time) (admitted, demand float64) {
	i := now.UnixNano() / int64(u.slot)
	for k := range u.index {
		if u.index[k] > i-int64(len(u.index)) && u.index[k] <= i {
			admitted += u.admitted[k]
			demand += u.demand[k]
		}
	}
	return admitted, demand
}

// use is the share of one window's quota admitted over the last window, at most 1.
func (b *bucket) use(now time.Time) float64 {
	a, _ := b.usage.sums(now)
	return math.Min(1, a/b.capacity)
}

// pressure is what was asked of the bucket over its last window relative to its quota:
// what x-ms-throttle-limit-percentage reports (1.0 = throttling starts).
func (b *bucket) pressure(now time.Time) float64 {
	_, d := b.usage.sums(now)
	return d / b.capacity
}

// buckets is the set of bucket instances of a simulator. Callers hold the model's lock.
type buckets struct {
	st    *settings
	epoch time.Time // start, or the last reset
	start float64   // start level as a fraction, unless a bucket overrides it
	// The ceiling drift is a function of time since origin (the simulator's start), so that
	// resetting buckets does not move it.
	origin time.Time
	phase  float64
	all    map[bucketKey]*bucket
}

// get returns the bucket instance for key, creating it at the start level as of the epoch
// and refilling it to now, as if it had existed since then.
func (bs *buckets) get(key bucketKey, tenant *Tenant, now time.Time) *bucket {
	if b := bs.all[key]; b != nil {
		bs.refill(b, now)
		return b
	}
	size := bs.st.SizeClass
	if size == "" && tenant != nil {
		size = tenant.SizeClass
	}
	capacity := key.def.capacityFor(size)
	level := bs.start
	if key.def.start != nil {
		level = *key.def.start
	}
	b := &bucket{key: key, capacity: capacity, rate: key.def.rate(capacity),
		level: level * capacity, at: bs.epoch, notices: map[string]notice{},
		usage: usageWindow{slot: max(key.def.window/10, time.Millisecond)}}
	if tenant != nil {
		b.tenant = tenant.ID
	}
	bs.all[key] = b
	bs.refill(b, now)
	return b
}

// ceiling is the ceiling factor at t.
func (bs *buckets) ceiling(t time.Time) float64 {
	d := bs.st.CeilingDrift
	f := bs.st.CeilingFactor
	if d.Amplitude == 0 {
		return f
	}
	w := 2 * math.Pi / time.Duration(d.Period).Seconds()
	return f * (1 + d.Amplitude*math.Sin(w*t.Sub(bs.origin).Seconds()+bs.phase))
}

// ceilingIntegral is the integral of the ceiling factor over [t0, t1] in seconds: how many
// seconds of published refill the bucket received.
func (bs *buckets) ceilingIntegral(t0, t1 time.Time) float64 {
	d := bs.st.CeilingDrift
	f := bs.st.CeilingFactor
	secs := t1.Sub(t0).Seconds()
	if d.Amplitude == 0 {
		return f * secs
	}
	w := 2 * math.Pi / time.Duration(d.Period).Seconds()
	x0 := w*t0.Sub(bs.origin).Seconds() + bs.phase
	x1 := w*t1.Sub(bs.origin).Seconds() + bs.phase
	return f * (secs + d.Amplitude*(math.Cos(x0)-math.Cos(x1))/w)
}

// background is the share of a bucket's refill left after other applications' load.
func (bs *buckets) background(b *bucket) float64 {
	switch b.key.def.bg {
	case backgroundEntra:
		return 1 - bs.st.BackgroundLoad
	case backgroundIntune:
		return 1 - bs.st.BackgroundIntuneLoad
	}
	return 1
}

// effectiveRate is the true refill per simulated second at t: published × ceiling ×
// what background load leaves.
func (bs *buckets) effectiveRate(b *bucket, t time.Time) float64 {
	return b.rate * bs.ceiling(t) * bs.background(b)
}

// refill brings a bucket's level up to now.
func (bs *buckets) refill(b *bucket, now time.Time) {
	if !now.After(b.at) {
		return
	}
	if b.level < b.capacity {
		add := b.rate * bs.background(b) * bs.ceilingIntegral(b.at, now)
		b.level = math.Min(b.capacity, b.level+add)
	}
	b.at = now
}

// BucketState is one bucket as the inspection API shows it.
type BucketState struct {
	Name     string  `json:"name"`
	Scope    string  `json:"scope"`
	Limit    string  `json:"limit"`
	Unit     string  `json:"unit"`
	App      string  `json:"app,omitempty"`
	Tenant   string  `json:"tenant,omitempty"`
	Mailbox  string  `json:"mailbox,omitempty"`
	Level    float64 `json:"level"`
	Capacity float64 `json:"capacity"`
	// RefillPerSecond is the effective refill per simulated second (ceiling factor, drift and
	// background load applied); RealRefillPerSecond is the same per real second.
	RefillPerSecond     float64    `json:"refillPerSecond"`
	RealRefillPerSecond float64    `json:"realRefillPerSecond"`
	PublishedRefill     float64    `json:"publishedRefillPerSecond"`
	Use                 float64    `json:"use"`
	Admitted            int        `json:"admitted"`
	Refused             int        `json:"refused"`
	BlockedUntil        *time.Time `json:"blockedUntil,omitempty"`
}

// BucketLevel is a bucket's level after a request, as the request log records it.
type BucketLevel struct {
	Name  string  `json:"name"`
	Level float64 `json:"level"`
}

func (bs *buckets) state(b *bucket, now time.Time, scale float64) BucketState {
	bs.refill(b, now)
	eff := bs.effectiveRate(b, now)
	out := BucketState{Name: b.key.def.name, Scope: b.key.def.scope, Limit: b.key.def.limit,
		Unit: b.key.def.unit, App: b.key.app, Tenant: b.tenant, Level: round3(b.level),
		Capacity: b.capacity, RefillPerSecond: round3(eff), RealRefillPerSecond: round3(eff * scale),
		PublishedRefill: round3(b.rate), Use: round3(b.use(now)), Admitted: b.admitted,
		Refused: b.refused}
	if b.key.def.per == perAppMailbox {
		out.Mailbox = b.key.target
	}
	if b.blockedUntil.After(now) {
		t := b.blockedUntil
		out.BlockedUntil = &t
	}
	return out
}

// states lists every bucket instance in a stable order.
func (bs *buckets) states(now time.Time, scale float64) []BucketState {
	out := make([]BucketState, 0, len(bs.all))
	for _, b := range bs.all {
		out = append(out, bs.state(b, now, scale))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		if a.App != b.App {
			return a.App < b.App
		}
		return a.Mailbox < b.Mailbox
	})
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
