package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// Bulk behaviour against the simulator: paging at scale and through empty pages, $batch,
// tokens that expire during a run, and cancellation.

func TestSimulatorEmptyPages(t *testing.T) {
	env := startSim(t, graphsim.Options{EmptyPageRate: 0.3})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	ctx := t.Context()

	for _, tc := range []struct {
		name string
		req  Request
		want []string
	}{
		{"users", ListUsersRequest(ListOptions{Top: 2}), ids(env.collection(t, src, "users"))},
		{"managed devices", ListManagedDevicesRequest(ListOptions{Top: 3}),
			ids(env.collection(t, src, "managedDevices"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]int{}
			pages, empty := 0, 0
			for page, err := range Pages[struct {
				ID string `json:"id"`
			}](ctx, c, tc.req) {
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				pages++
				if len(page.Items) == 0 {
					empty++
				}
				for _, it := range page.Items {
					seen[it.ID]++
				}
			}
			var got []string
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s listed %d times", id, n)
				}
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed %d items, the tenant has %d", len(got), len(tc.want))
			}
			if empty == 0 {
				t.Errorf("none of %d pages was empty; the test proves nothing", pages)
			}
		})
	}
}

// TestSimulatorListsTwentyThousandUsers pages through a large tenant at 999 a page.
func TestSimulatorListsTwentyThousandUsers(t *testing.T) {
	env := startSim(t, graphsim.Options{Preset: "merger", Users: 20000})
	tn, _ := env.app(t, "source", "cutover")
	c := env.fastClient(t, "source", "cutover")
	seq := env.lastSeq()

	seen := make(map[string]bool, tn.Users)
	pages := 0
	for page, err := range Pages[User](t.Context(), c, ListUsersRequest(ListOptions{})) {
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(page.Items) > 999 {
			t.Errorf("page %d holds %d users", pages, len(page.Items))
		}
		for _, u := range page.Items {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
	}
	if tn.Users < 20000 || len(seen) != tn.Users {
		t.Errorf("listed %d users, the tenant has %d", len(seen), tn.Users)
	}
	if want := (tn.Users + 998) / 999; pages != want || want != 21 {
		t.Errorf("%d pages, want %d (21)", pages, want)
	}
	if log, _ := env.logSince(seq); len(log) != pages {
		t.Errorf("the simulator served %d requests for %d pages", len(log), pages)
	}
}

// batchLog splits the simulator's log of one $batch run into envelopes and items.
func batchLog(log []graphsim.LogEntry) (envelopes []graphsim.LogEntry, items map[string][]graphsim.LogEntry) {
	items = map[string][]graphsim.LogEntry{}
	for _, e := range log {
		if e.Batch != "" {
			items[e.Batch] = append(items[e.Batch], e)
		} else if e.Path == "/v1.0/$batch" {
			envelopes = append(envelopes, e)
		}
	}
	return envelopes, items
}

func TestSimulatorBatchOfTwentyRevokes(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")[:20]
	var items []BatchItem
	for _, u := range users {
		items = append(items, BatchItem{Request: RevokeSignInSessionsRequest(u["id"].(string))})
	}
	seq, sent := env.lastSeq(), c.Stats().Requests

	results := c.Batch(t.Context(), items)
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		valid := timeOf(t, env.object(t, src, "users", users[i]["id"].(string))["signInSessionsValidFromDateTime"])
		if valid.Before(r.Response.Date) {
			t.Errorf("user %d: sessions valid from %v, before the batch's Date %v", i, valid, r.Response.Date)
		}
	}
	log, _ := env.logSince(seq)
	envelopes, inner := batchLog(log)
	if len(envelopes) != 1 || c.Stats().Requests-sent != 1 {
		t.Fatalf("%d envelopes logged, %d sent; want one", len(envelopes), c.Stats().Requests-sent)
	}
	got := inner[envelopes[0].RequestID]
	if len(got) != 20 {
		t.Fatalf("the envelope carried %d items, want 20", len(got))
	}
	for _, e := range got {
		if e.Route != "users.revokeSignInSessions" || e.Status/100 != 2 {
			t.Errorf("item %s: route %s status %d", e.BatchItem, e.Route, e.Status)
		}
	}
}

// TestSimulatorBatchMatchesShuffledResponses reads twenty users in one batch: the simulator
// answers in a shuffled order, and each result must still belong to its own item.
func TestSimulatorBatchMatchesShuffledResponses(t *testing.T) {
	env := sharedSim(t)
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")[:20]
	var items []BatchItem
	for _, u := range users {
		items = append(items, BatchItem{Request: GetUserRequest(u["id"].(string), "id", "userPrincipalName")})
	}
	seq := env.lastSeq()
	for i, r := range c.Batch(t.Context(), items) {
		var u User
		if r.Err != nil || r.Response.Decode(&u) != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		if u.ID != users[i]["id"] || u.UserPrincipalName != users[i]["userPrincipalName"] {
			t.Errorf("item %d answered with user %s, want %s", i, u.ID, users[i]["id"])
		}
	}
	log, _ := env.logSince(seq)
	envelopes, inner := batchLog(log)
	if len(envelopes) != 1 {
		t.Fatalf("%d envelopes, want one", len(envelopes))
	}
	var order []int
	for _, e := range inner[envelopes[0].RequestID] {
		n, _ := strconv.Atoi(e.BatchItem)
		order = append(order, n)
	}
	if slices.IsSorted(order) {
		t.Errorf("the simulator ran the items in order %v; the test proves nothing", order)
	}
}

func TestSimulatorBatchPartialFailure(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")
	unknown := map[int]bool{3: true, 7: true, 11: true, 15: true, 19: true}
	var items []BatchItem
	for i := range 20 {
		id := users[i]["id"].(string)
		if unknown[i] {
			id = fmt.Sprintf("0badc0de-0000-4000-8000-%012d", i)
		}
		items = append(items, BatchItem{Request: RevokeSignInSessionsRequest(id)})
	}
	seq := env.lastSeq()
	results := c.Batch(t.Context(), items)

	log, _ := env.logSince(seq)
	envelopes, inner := batchLog(log)
	if len(envelopes) != 1 || len(inner[envelopes[0].RequestID]) != 20 {
		t.Fatalf("%d envelopes; a 404 item must not be retried", len(envelopes))
	}
	byItem := map[string]graphsim.LogEntry{}
	for _, e := range inner[envelopes[0].RequestID] {
		byItem[e.BatchItem] = e
	}
	for i, r := range results {
		if !unknown[i] {
			if r.Err != nil {
				t.Errorf("item %d: %v", i, r.Err)
			} else if v := timeOf(t, env.object(t, src, "users", users[i]["id"].(string))["signInSessionsValidFromDateTime"]); v.Before(r.Response.Date) {
				t.Errorf("item %d succeeded but the user was not revoked", i)
			}
			continue
		}
		var ge *Error
		if !errors.As(r.Err, &ge) || !IsNotFound(r.Err) || !IsPermanent(r.Err) || ge.Attempts != 1 {
			t.Errorf("item %d: %v, want one permanent 404", i, r.Err)
			continue
		}
		logged := byItem[strconv.Itoa(i)]
		if ge.Code != "Request_ResourceNotFound" || ge.RequestID != logged.RequestID ||
			ge.ClientRequestID != envelopes[0].ClientRequestID || ge.Date.IsZero() {
			t.Errorf("item %d: code %s ids %s / %s date %v; logged %s, envelope %s", i, ge.Code,
				ge.RequestID, ge.ClientRequestID, ge.Date, logged.RequestID, envelopes[0].ClientRequestID)
		}
	}
}

// TestSimulatorBatchDependsOn runs two chains in one envelope: one whose prerequisite fails
// (its dependant gets a final 424 and never runs) and one whose prerequisite succeeds.
func TestSimulatorBatchDependsOn(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")
	blocked, renamed := users[0]["id"].(string), users[1]["id"].(string)
	validBefore := env.object(t, src, "users", blocked)["signInSessionsValidFromDateTime"]
	name := "Renamed First"
	items := []BatchItem{
		{Key: "missing", Request: GetUserRequest("0badc0de-0000-4000-8000-000000000001")},
		{Key: "blocked", Request: RevokeSignInSessionsRequest(blocked), DependsOn: []string{"missing"}},
		{Key: "rename", Request: UpdateUserRequest(renamed, UserPatch{DisplayName: &name})},
		{Key: "revoke", Request: RevokeSignInSessionsRequest(renamed), DependsOn: []string{"rename"}},
	}
	seq := env.lastSeq()
	results := c.Batch(t.Context(), items)

	if !IsNotFound(results[0].Err) {
		t.Errorf("missing: %v, want 404", results[0].Err)
	}
	var ge *Error
	if !errors.As(results[1].Err, &ge) || ge.Status != http.StatusFailedDependency || ge.Transient ||
		results[1].Key != "blocked" {
		t.Errorf("blocked: %v, want a final 424", results[1].Err)
	}
	if v := env.object(t, src, "users", blocked)["signInSessionsValidFromDateTime"]; v != validBefore {
		t.Errorf("the dependant of a failed item ran: sessions valid from %v, was %v", v, validBefore)
	}
	if results[2].Err != nil || results[3].Err != nil {
		t.Fatalf("rename, revoke: %v, %v", results[2].Err, results[3].Err)
	}
	got := env.object(t, src, "users", renamed)
	if got["displayName"] != name || timeOf(t, got["signInSessionsValidFromDateTime"]).Before(results[3].Response.Date) {
		t.Errorf("after the chain: displayName %v, sessions valid from %v", got["displayName"],
			got["signInSessionsValidFromDateTime"])
	}

	log, _ := env.logSince(seq)
	envelopes, inner := batchLog(log)
	if len(envelopes) != 1 {
		t.Fatalf("%d envelopes, want one: dependants travel with their prerequisites", len(envelopes))
	}
	pos := map[string]int{}
	for i, e := range inner[envelopes[0].RequestID] {
		pos[e.BatchItem] = i
		if e.BatchItem == "1" && (e.Status != http.StatusFailedDependency || e.Route != "") {
			t.Errorf("the blocked item reached route %q with status %d", e.Route, e.Status)
		}
	}
	if pos["3"] < pos["2"] {
		t.Errorf("the revoke ran before the rename it depends on: %v", pos)
	}
}

// TestSimulatorTokenExpiresMidRun issues two-second tokens and keeps several workers busy for
// more than twice that: the client renews tokens as it goes and no request fails.
func TestSimulatorTokenExpiresMidRun(t *testing.T) {
	env := startSim(t, graphsim.Options{TokenLifetime: 2 * time.Second})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")
	seq := env.lastSeq()

	deadline := time.Now().Add(4 * time.Second)
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; time.Now().Before(deadline); i++ {
				id := users[i%len(users)]["id"].(string)
				var err error
				if i%2 == 0 {
					_, err = c.RevokeSignInSessions(t.Context(), id)
				} else {
					_, err = c.GetUser(t.Context(), id, "id")
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					ok.Add(1)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()

	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed, first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if gen := tokensFetched(c); gen < 2 {
		t.Errorf("the client fetched %d tokens in 4 s of two-second tokens", gen)
	}
	log, _ := env.logSince(seq)
	refused := 0
	for _, e := range log {
		if e.Status == http.StatusUnauthorized {
			refused++
		}
	}
	t.Logf("%d requests, %d tokens, %d refused and renewed", ok.Load(), tokensFetched(c), refused)
	if refused > 0 {
		t.Errorf("%d requests went out with an expired token: renewal must come before expiry", refused)
	}
}

// flat checks that neither the client nor the simulator sees another request after a run
// has returned.
func flat(t *testing.T, env *simEnv, c *Client) {
	t.Helper()
	returned, sent := time.Now(), c.Stats().Requests
	time.Sleep(400 * time.Millisecond)
	if c.Stats().Requests != sent {
		t.Errorf("the client sent requests after the run returned: %d → %d", sent,
			c.Stats().Requests)
	}
	// A request sent just before the return may be logged after it (the simulator logs on
	// completion, and a $batch logs its items as it runs them), so compare arrival times of
	// requests, not log positions; and the simulator stamps arrival once it has read the
	// body, which on a busy machine can lag the send by a few milliseconds.
	const lag = 100 * time.Millisecond
	log, _ := env.logSince(0)
	for _, e := range log {
		if e.Batch == "" && e.Time.After(returned.Add(lag)) {
			t.Errorf("request %s %s arrived %v after the run returned", e.Method, e.Path,
				e.Time.Sub(returned))
		}
	}
	if n := c.Stats().InFlight; n != 0 {
		t.Errorf("%d requests still in flight", n)
	}
}

// TestSimulatorCancelBulkRevokes runs many revokes through sixteen workers sharing a client
// capped at four requests in flight and paced at the published write rate, cancels the
// context mid-run, and checks that every worker returns at once with context.Canceled and
// that nothing more is sent.
func TestSimulatorCancelBulkRevokes(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Limits = Limits{MaxInFlight: 4}
	c := env.client(t, cfg)
	users := env.collection(t, src, "users")
	seq, sent := env.lastSeq(), c.Stats().Requests

	// The queue never runs dry while workers run, so every worker is inside a revoke (or
	// about to start one) when the context ends.
	jobs, stop := make(chan string), make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case jobs <- users[i%len(users)]["id"].(string):
			case <-stop:
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const workers = 16
	var revoked atomic.Int64
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for id := range jobs {
				if _, err := c.RevokeSignInSessions(ctx, id); err != nil {
					errs <- err
					return
				}
				revoked.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return revoked.Load() >= 20 })
	cancel()

	deadline := time.After(time.Second)
	for i := range workers {
		select {
		case err := <-errs:
			// A revoke cut off on its way is reported as possibly applied; any other Graph
			// error would mean the cancel was taken for a failure.
			var ge *Error
			if !errors.Is(err, context.Canceled) ||
				errors.As(err, &ge) && (ge.Code != "canceledInFlight" || !ge.Ambiguous) {
				t.Errorf("worker: %v, want context.Canceled", err)
			}
		case <-deadline:
			t.Fatalf("only %d of %d workers returned within a second of cancel", i, workers)
		}
	}
	flat(t, env, c)
	if log, _ := env.logSince(seq); int64(len(log)) > c.Stats().Requests-sent {
		t.Errorf("the simulator saw %d requests, the client sent %d", len(log), c.Stats().Requests-sent)
	}
}

// TestSimulatorCancelBatch cancels a paced $batch run after its first envelope: BatchFunc
// returns at once, every item has a result, and nothing more is sent.
func TestSimulatorCancelBatch(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Limits = Limits{MaxInFlight: 2}
	c := env.client(t, cfg)
	users := env.collection(t, src, "users")
	var items []BatchItem
	for i := range 200 {
		items = append(items, BatchItem{Request: RevokeSignInSessionsRequest(users[i%len(users)]["id"].(string))})
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	results := make([]*BatchResult, len(items))
	var once sync.Once
	var canceledAt time.Time
	c.BatchFunc(ctx, items, func(i int, r BatchResult) {
		results[i] = &r
		if r.Err == nil {
			once.Do(func() { cancel(); canceledAt = time.Now() })
		}
	})
	if canceledAt.IsZero() {
		t.Fatal("no item succeeded before the run ended")
	}
	if d := time.Since(canceledAt); d > time.Second {
		t.Errorf("BatchFunc returned %v after cancel", d)
	}
	var ok, canceled int
	for i, r := range results {
		switch {
		case r == nil:
			t.Fatalf("item %d has no result", i)
		case r.Err == nil:
			ok++
		case errors.Is(r.Err, context.Canceled):
			canceled++
		default:
			t.Errorf("item %d: %v", i, r.Err)
		}
	}
	if ok == 0 || canceled == 0 || ok+canceled != len(items) {
		t.Errorf("%d succeeded, %d canceled of %d", ok, canceled, len(items))
	}
	flat(t, env, c)
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not reached in 10 s")
		}
	}
}

func tokensFetched(c *Client) uint64 {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.gen
}

// TestSimulatorBatchOfMixedWrites sends the typed calls' requests through $batch: alternate
// keys, bodiless actions, action parameters and PATCH bodies must survive the envelope.
func TestSimulatorBatchOfMixedWrites(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")
	managed := env.collection(t, src, "managedDevices")
	entra := env.collection(t, src, "devices")
	uid, gone := users[0]["id"].(string), entra[0]["deviceId"].(string)
	retired, wiped := managed[0]["id"].(string), managed[1]["id"].(string)
	skus := collect(t, c.ListSubscribedSKUs(t.Context()))
	no, yes := false, true

	results := c.Batch(t.Context(), []BatchItem{
		{Request: UpdateUserRequest(uid, UserPatch{AccountEnabled: &no})},
		{Request: DeleteDeviceByDeviceIDRequest(gone)},
		{Request: RetireDeviceRequest(retired)},
		{Request: WipeDeviceRequest(wiped, WipeOptions{KeepEnrollmentData: &yes})},
		{Request: AssignLicenseRequest(uid, nil, []string{skus[0].SkuID})},
	})
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
	}
	u := env.object(t, src, "users", uid)
	if u["accountEnabled"] != false || jsonText(u["assignedLicenses"]) != "[]" {
		t.Errorf("user after the batch: enabled %v, licences %v", u["accountEnabled"], u["assignedLicenses"])
	}
	for _, d := range env.collection(t, src, "devices") {
		if d["deviceId"] == gone {
			t.Errorf("device %s still there", gone)
		}
	}
	if st := env.object(t, src, "managedDevices", retired)["managementState"]; st != "retirePending" {
		t.Errorf("retired device: %v", st)
	}
	w := env.object(t, src, "managedDevices", wiped)
	if opts, _ := w["wipeOptions"].(map[string]any); opts["keepEnrollmentData"] != true {
		t.Errorf("wiped device options %v", w["wipeOptions"])
	}
}

// TestSimulatorConcurrentRenewal moves the simulator's clock past every token's expiry while
// eight workers are busy: each refused request renews once (the first renewal serves the
// others) and succeeds.
func TestSimulatorConcurrentRenewal(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.client(t, func() Config {
		cfg := env.config(t, "source", "cutover", CredentialCertificate)
		cfg.Limits = unpaced()
		return cfg
	}())
	users := env.collection(t, src, "users")
	seq := env.lastSeq()

	var done atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				if _, err := c.GetUser(t.Context(), users[(w+i)%len(users)]["id"].(string), "id"); err != nil {
					errs <- err
					return
				}
				if done.Add(1) == 100 {
					once.Do(func() { env.s.Advance(3 * time.Hour) })
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("worker: %v", err)
	}
	log, _ := env.logSince(seq)
	refused := 0
	for _, e := range log {
		if e.Status == http.StatusUnauthorized {
			refused++
		}
	}
	if refused == 0 || refused > 8 || done.Load() != 320 {
		t.Errorf("%d requests refused, %d succeeded; want 1 to 8 refusals and 320 successes",
			refused, done.Load())
	}
}
