package graph

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCostTable(t *testing.T) {
	sel := url.Values{"$select": {"id"}}
	tests := []struct {
		name   string
		method string
		path   string
		query  url.Values
		want   cost
	}{
		{"ListUsers", "GET", "/users", nil, cost{family: familyIdentity, ru: 2}},
		{"ListUsersSelected", "GET", "/users", url.Values{"$select": {"id"}, "$top": {"999"}},
			cost{family: familyIdentity, ru: 1}},
		{"GetUser", "GET", "/users/u1", nil, cost{family: familyIdentity, ru: 1}},
		{"GetUserSelectedFloorsAtOne", "GET", "/users/u1", sel, cost{family: familyIdentity, ru: 1}},
		{"ExpandAddsOne", "GET", "/users/u1", url.Values{"$expand": {"manager"}}, cost{family: familyIdentity, ru: 2}},
		{"SmallTopSubtractsOne", "GET", "/groups/g1/transitiveMembers", url.Values{"$top": {"10"}},
			cost{family: familyIdentity, ru: 4}},
		{"DomainReferencesCast", "GET", "/domains/contoso.com/domainNameReferences/microsoft.graph.user", nil,
			cost{family: familyIdentity, ru: 4}},
		{"SubscribedSkusSelected", "GET", "/subscribedSkus", sel, cost{family: familyIdentity, ru: 2}},
		{"Revoke", "POST", "/users/u1/revokeSignInSessions", nil, cost{family: familyIdentity, ru: 1, write: true}},
		{"PatchUser", "PATCH", "/users/u1", nil, cost{family: familyIdentity, ru: 1, write: true}},
		{"DeleteDeviceByDeviceID", "DELETE", "/devices(deviceId='d1')", nil,
			cost{family: familyIdentity, ru: 1, write: true}},
		{"GetByIds", "POST", "/directoryObjects/getByIds", nil, cost{family: familyIdentity, ru: 5}},
		{"GetByIdsSelected", "POST", "/directoryObjects/getByIds", sel, cost{family: familyIdentity, ru: 2}},
		{"Retire", "POST", "/deviceManagement/managedDevices/m1/retire", nil, cost{family: familyIntune, write: true}},
		{"ListManagedDevices", "GET", "/deviceManagement/managedDevices", nil, cost{family: familyIntune}},
		{"UserManagedDevices", "GET", "/users/u1/managedDevices", nil, cost{family: familyIntune}},
		{"SendMail", "POST", "/users/Sender@Contoso.com/sendMail", nil,
			cost{family: familyOutlook, write: true, mailbox: "sender@contoso.com"}},
		{"RegistrationDetails", "GET", "/reports/authenticationMethods/userRegistrationDetails", nil,
			cost{family: familyReports, ru: 1}},
		{"Batch", "POST", "/$batch", nil, cost{family: familyNone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := costOf(tc.method, tc.path, tc.query); got != tc.want {
				t.Errorf("costOf(%s %s) = %+v, want %+v", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func testBucket(clock *fakeClock) (*Pacer, *bucket) {
	p := NewPacer(clock)
	l := DefaultLimits()
	l.SeedFactor = 0.92 // a seed below the published rate, so that recovery has a ceiling to reach
	return p, p.get(bucketSpec{name: "entra-writes/app/tenant", kind: kindEntraWrites, published: 20,
		burst: 5, limits: l, scale: 1})
}

func TestBucketDecreasesAndRecovers(t *testing.T) {
	clock := newFakeClock()
	_, b := testBucket(clock)
	seeded := 20 * 0.92
	if math.Abs(b.current-seeded) > 1e-9 {
		t.Fatalf("seeded rate %v, want %v", b.current, seeded)
	}
	t0 := clock.Now()
	b.throttled(t0, t0.Add(-time.Millisecond), 2*time.Second)
	if want := seeded * 0.7; math.Abs(b.current-want) > 1e-9 || float64(b.lim.Limit()) != b.current {
		t.Fatalf("after a 429: rate %v (limiter %v), want %v", b.current, b.lim.Limit(), want)
	}
	if b.pauseEnd() != t0.Add(2*time.Second) {
		t.Errorf("pause ends %v, want %v", b.pauseEnd(), t0.Add(2*time.Second))
	}

	// A 429 for a request sent before the decrease is the same congestion: it may extend the
	// pause but not cut the rate again.
	b.throttled(t0.Add(time.Second), t0.Add(-time.Millisecond), 5*time.Second)
	if want := seeded * 0.7; math.Abs(b.current-want) > 1e-9 {
		t.Errorf("a stale 429 cut the rate to %v", b.current)
	}
	if b.pauseEnd() != t0.Add(6*time.Second) {
		t.Errorf("pause ends %v, want the later one %v", b.pauseEnd(), t0.Add(6*time.Second))
	}
	// An earlier end never shortens the pause.
	b.throttled(t0.Add(time.Second), t0.Add(-time.Millisecond), time.Second)
	if b.pauseEnd() != t0.Add(6*time.Second) {
		t.Errorf("a shorter Retry-After shortened the pause to %v", b.pauseEnd())
	}

	// Recovery: concave back to the throttled rate over one period, then convex up to the seed.
	half := b.recovery / 2
	b.adapt(t0.Add(half))
	mid := b.current
	if mid <= seeded*0.7 || mid >= seeded || mid < seeded*0.9 {
		t.Errorf("half-way through recovery rate %v, want most of the way back (concave)", mid)
	}
	b.adapt(t0.Add(b.recovery))
	if math.Abs(b.current-seeded) > 1e-9 {
		t.Errorf("after one recovery period rate %v, want %v", b.current, seeded)
	}
}

func TestBucketProbesAboveTheThrottledRate(t *testing.T) {
	clock := newFakeClock()
	_, b := testBucket(clock)
	t0 := clock.Now()
	b.throttled(t0, t0, 0)
	t1 := t0.Add(b.recovery / 2)
	b.throttled(t1, t1, 0) // the rate that failed is now lower than the seed
	wmax := b.wmax
	if wmax >= b.ceiling {
		t.Fatalf("wmax %v should be below the ceiling %v", wmax, b.ceiling)
	}
	b.adapt(t1.Add(b.recovery))
	if math.Abs(b.current-wmax) > 1e-9 {
		t.Errorf("after one period: %v, want the throttled rate %v", b.current, wmax)
	}
	b.adapt(t1.Add(b.recovery * 3 / 2))
	probe := b.current
	if probe <= wmax || probe >= b.ceiling {
		t.Errorf("probing rate %v, want between %v and %v", probe, wmax, b.ceiling)
	}
	b.adapt(t1.Add(3 * b.recovery))
	if b.current != b.ceiling {
		t.Errorf("rate %v never returned to the ceiling %v", b.current, b.ceiling)
	}
}

func TestBucketFloor(t *testing.T) {
	clock := newFakeClock()
	_, b := testBucket(clock)
	now := clock.Now()
	for range 50 {
		now = now.Add(time.Millisecond)
		b.throttled(now, now, 0)
	}
	if want := 20 * 0.05; b.current != want {
		t.Errorf("rate after many 429s %v, want the floor %v", b.current, want)
	}
}

func TestScopeBuckets(t *testing.T) {
	clock := newFakeClock()
	_, c := newFakeGraph(t, nil, func(cfg *Config) { cfg.Clock = clock })
	write := c.charges(cost{family: familyIdentity, ru: 1, write: true})
	read := c.charges(cost{family: familyIdentity, ru: 1})
	intune := c.charges(cost{family: familyIntune, write: true})
	names := func(bs []*bucket) string {
		var s []string
		for _, b := range bs {
			s = append(s, b.name)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name    string
		scope   string
		charges []charge
		write   bool
		want    string
	}{
		{"AppWrite", "Tenant_Application/Write/app-1/tenant-1", write, true, "entra-writes/app-1/tenant-1"},
		{"AppReadWrite", "Tenant_Application/ReadWrite/app-1/tenant-1", write, true, "entra-ru/app-1/tenant-1"},
		{"TenantWrite", "Tenant/Write/app-1/tenant-1", write, true, "entra-tenant-writes/tenant-1"},
		{"NoHeaderWrite", "", write, true, "entra-writes/app-1/tenant-1"},
		{"NoHeaderRead", "", read, false, "entra-ru/app-1/tenant-1"},
		{"UnreadableHeader", "garbage", read, false, "entra-ru/app-1/tenant-1"},
		{"IntuneNoHeader", "", intune, true, "intune-writes/app-1/tenant-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(scopeBuckets(tc.scope, tc.charges, tc.write)); got != tc.want {
				t.Errorf("scope %q paused %q, want %q", tc.scope, got, tc.want)
			}
		})
	}
}

// TestThrottleScopePausesEveryWorker: a 429 naming the app's write limit stops every other
// write of the app until Retry-After, while reads go on; a 429 naming the tenant's write limit
// also stops the writes of another app registration on the same pacer.
func TestThrottleScopePausesEveryWorker(t *testing.T) {
	clock := newFakeClock()
	pacer := NewPacer(clock)
	throttle := map[string]string{
		"/v1.0/users/first":  "Tenant_Application/Write/app-1/tenant-1",
		"/v1.0/users/tenant": "Tenant/Write/app-1/tenant-1",
	}
	handler := func(_ int, r *http.Request, _ []byte) (int, http.Header, string) {
		if scope, ok := throttle[r.URL.Path]; ok {
			return 429, hdr("Retry-After", "30", "x-ms-throttle-scope", scope),
				graphError("TooManyRequests", "Please retry again later.")
		}
		return 204, nil, ""
	}
	setup := func(app string) func(*Config) {
		return func(c *Config) {
			c.Clock, c.Pacer, c.ClientID, c.Retry.MaxAttempts = clock, pacer, app, 1
		}
	}
	fg, c1 := newFakeGraph(t, handler, setup("app-1"))
	_, c2 := newFakeGraph(t, handler, setup("app-2"))
	c2.base = c1.base // both talk to fg
	ctx := t.Context()
	patch := func(c *Client, id string) error {
		_, err := c.Do(ctx, Request{Method: http.MethodPatch, Path: "/users/" + id, Body: UserPatch{}})
		return err
	}

	t0 := clock.Now()
	if err := patch(c1, "first"); !IsThrottled(err) {
		t.Fatalf("first write: %v, want 429", err)
	}
	if _, err := c1.Do(ctx, Request{Path: "/users/reader"}); err != nil {
		t.Fatal(err)
	}
	if err := patch(c2, "other-app"); err != nil {
		t.Fatal(err)
	}
	if err := patch(c1, "second"); err != nil {
		t.Fatal(err)
	}
	at := arrivals(fg)
	if at["/v1.0/users/reader"].Sub(t0) >= time.Second || at["/v1.0/users/other-app"].Sub(t0) >= time.Second {
		t.Errorf("a read or another app's write waited for the app's write pause: %v", at)
	}
	if got := at["/v1.0/users/second"].Sub(t0); got < 30*time.Second {
		t.Errorf("the next write of the throttled app went after %v, want ≥ 30s", got)
	}

	// Now the tenant-wide limit: the other app's writes wait too, its reads do not.
	t1 := clock.Now()
	if err := patch(c1, "tenant"); !IsThrottled(err) {
		t.Fatalf("tenant write: %v, want 429", err)
	}
	if _, err := c2.Do(ctx, Request{Path: "/users/reader2"}); err != nil {
		t.Fatal(err)
	}
	if err := patch(c2, "other-app-2"); err != nil {
		t.Fatal(err)
	}
	at = arrivals(fg)
	if got := at["/v1.0/users/reader2"].Sub(t1); got >= time.Second {
		t.Errorf("another app's read waited %v for the tenant write pause", got)
	}
	if got := at["/v1.0/users/other-app-2"].Sub(t1); got < 30*time.Second {
		t.Errorf("another app's write went after %v, want ≥ 30s (tenant pause)", got)
	}
	if s := c1.Stats(); s.Throttled != 2 {
		t.Errorf("client 1 counted %d 429s, want 2", s.Throttled)
	}
}

func arrivals(fg *fakeGraph) map[string]time.Time {
	out := map[string]time.Time{}
	for _, r := range fg.requests() {
		out[r.Path] = r.At
	}
	return out
}

// TestPacingFollowsPublishedRateAndTimeScale sends writes through a client whose clock never
// sleeps: the pacer's waits add up to what the seeded rate and burst allow.
func TestPacingFollowsPublishedRateAndTimeScale(t *testing.T) {
	for _, scale := range []float64{1, 60} {
		clock := newFakeClock()
		_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
			return 204, nil, ""
		}, func(cfg *Config) {
			cfg.Clock, cfg.TimeScale = clock, scale
			cfg.Limits = Limits{EntraWrites: Bucket{Rate: 10, Burst: 2}, SeedFactor: 0.9}
		})
		const n = 20
		for i := range n {
			if _, err := c.Do(t.Context(), Request{Method: http.MethodPatch, Path: "/users/u" + string(rune('a'+i)),
				Body: UserPatch{}}); err != nil {
				t.Fatal(err)
			}
		}
		// The first Burst writes pass at once; the rest come at 9 per second × scale.
		want := time.Duration(float64(n-2) / (9 * scale) * float64(time.Second))
		if got := clock.Now().Sub(newFakeClock().now); math.Abs(float64(got-want)) > float64(want)/50 {
			t.Errorf("scale %v: %d writes took %v, want %v", scale, n, got, want)
		}
	}
}

func TestCanceledWaitGivesTokensBack(t *testing.T) {
	clock := newFakeClock()
	p, b := testBucket(clock)
	ctx, cancel := contextWithCancel(t)
	cancel()
	if err := p.wait(ctx, []charge{{b: b, n: 3}}); err == nil {
		t.Fatal("wait with a done context succeeded")
	}
	if got := b.lim.TokensAt(clock.Now()); got != 5 {
		t.Errorf("tokens after a canceled wait %v, want the full burst 5", got)
	}
	if !errors.Is(p.wait(ctx, nil), ctx.Err()) {
		t.Error("wait with no charges ignored the done context")
	}
}

// TestConcurrencyCaps: at most MaxInFlight requests of the client are in flight, and at most
// MailboxConcurrency (4) per mailbox.
func TestConcurrencyCaps(t *testing.T) {
	tests := []struct {
		name string
		req  func(i int) Request
		want int64
	}{
		{"Client", func(i int) Request { return Request{Path: fmt.Sprintf("/users/u%d", i)} }, 6},
		{"Mailbox", func(int) Request {
			return SendMailRequest("it@contoso.com", Message{Subject: "s"}, false)
		}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur, peak atomic.Int64
			_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				cur.Add(-1)
				return 202, nil, ""
			}, func(cfg *Config) { cfg.Limits.MaxInFlight = 6 })
			var wg sync.WaitGroup
			for i := range 24 {
				wg.Go(func() {
					if _, err := c.Do(t.Context(), tc.req(i)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if got := peak.Load(); got > tc.want || got < 2 {
				t.Errorf("peak concurrency %d, want 2 to %d", got, tc.want)
			}
		})
	}
}

// TestChargeAboveBurstIsPaidInFull: a batch of 20 writes through a bucket with a burst of 5
// waits for all 20 tokens, not 5.
func TestChargeAboveBurstIsPaidInFull(t *testing.T) {
	clock := newFakeClock()
	p, b := testBucket(clock) // 18.4 writes/s, burst 5
	for range 2 {
		if err := p.wait(t.Context(), []charge{{b: b, n: 20}}); err != nil {
			t.Fatal(err)
		}
	}
	rate := 20 * 0.92
	want := time.Duration(float64(40-5) / rate * float64(time.Second))
	if got := clock.Now().Sub(newFakeClock().now); math.Abs(float64(got-want)) > float64(10*time.Millisecond) {
		t.Errorf("40 writes took %v, want %v", got, want)
	}
}
