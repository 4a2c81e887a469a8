package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBatch answers $batch envelopes item by item, in reverse order (Graph promises no
// order), and records every envelope it saw.
type fakeBatch struct {
	mu        sync.Mutex
	envelopes [][]batchRequest
	item      func(env int, r batchRequest) (int, map[string]string, string)
}

func (fb *fakeBatch) handler(_ int, r *http.Request, body []byte) (int, http.Header, string) {
	if r.URL.Path != "/v1.0/$batch" || r.Method != http.MethodPost {
		return 400, nil, graphError("BadRequest", "not a batch")
	}
	var in struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.Requests) > MaxBatchItems {
		return 400, nil, graphError("BadRequest", "Invalid batch payload.")
	}
	fb.mu.Lock()
	env := len(fb.envelopes)
	fb.envelopes = append(fb.envelopes, in.Requests)
	fb.mu.Unlock()
	var out []map[string]any
	for _, it := range slices.Backward(in.Requests) {
		status, h, b := fb.item(env, it)
		r := map[string]any{"id": it.ID, "status": status, "headers": h}
		if b != "" {
			r["body"] = json.RawMessage(b)
		}
		out = append(out, r)
	}
	resp, _ := json.Marshal(map[string]any{"responses": out})
	return 200, hdr("request-id", fmt.Sprintf("envelope-%d", env)), string(resp)
}

func (fb *fakeBatch) seen() [][]batchRequest {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return slices.Clone(fb.envelopes)
}

func revokeItems(n int) []BatchItem {
	items := make([]BatchItem, n)
	for i := range items {
		items[i] = BatchItem{Key: fmt.Sprintf("u%d", i), Request: RevokeSignInSessionsRequest(fmt.Sprintf("u%d", i))}
	}
	return items
}

func TestBatchCorrelatesOutOfOrderResponses(t *testing.T) {
	fb := &fakeBatch{item: func(_ int, r batchRequest) (int, map[string]string, string) {
		return 200, map[string]string{"Content-Type": "application/json", "x-ms-resource-unit": "1"},
			fmt.Sprintf(`{"url":%q}`, r.URL)
	}}
	_, c := newFakeGraph(t, fb.handler, nil)
	items := revokeItems(45)
	results := c.Batch(t.Context(), items)

	envs := fb.seen()
	var sizes []int
	for _, e := range envs {
		sizes = append(sizes, len(e))
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{5, 20, 20}) {
		t.Errorf("envelope sizes %v, want 20, 20 and 5", sizes)
	}
	for i, r := range results {
		if r.Err != nil || r.Key != items[i].Key {
			t.Fatalf("item %d: key %q err %v", i, r.Key, r.Err)
		}
		var body struct{ URL string }
		if err := json.Unmarshal(r.Response.Body, &body); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("/users/u%d/revokeSignInSessions", i); body.URL != want {
			t.Errorf("item %d got the response for %s", i, body.URL)
		}
	}
	// Bodiless POST items carry Content-Type and an empty object, as Graph requires.
	for _, it := range envs[0] {
		if it.Headers["Content-Type"] != "application/json" || string(it.Body) != "{}" {
			t.Errorf("item %s: headers %v body %s, want Content-Type and {}", it.ID, it.Headers, it.Body)
		}
	}
	if s := c.Stats(); s.Requests != 3 || s.Items != 45 || s.ResourceUnits != 45 {
		t.Errorf("stats %+v, want 3 requests, 45 items, 45 RU", s)
	}
}

func TestBatchPartialFailure(t *testing.T) {
	fb := &fakeBatch{item: func(_ int, r batchRequest) (int, map[string]string, string) {
		switch {
		case strings.Contains(r.URL, "/u1/"):
			return 404, nil, graphError("Request_ResourceNotFound", "gone")
		case strings.Contains(r.URL, "/u2/"):
			return 403, nil, graphError("Authorization_RequestDenied", "no")
		case strings.Contains(r.URL, "/u3/"):
			return 400, nil, graphError("Request_BadRequest", "bad")
		}
		return 204, nil, ""
	}}
	_, c := newFakeGraph(t, fb.handler, nil)
	results := c.Batch(t.Context(), revokeItems(5))
	wantStatus := []int{0, 404, 403, 400, 0}
	for i, r := range results {
		if wantStatus[i] == 0 {
			if r.Err != nil || r.Response.Status != 204 {
				t.Errorf("item %d: %v, want 204", i, r.Err)
			}
			continue
		}
		var ge *Error
		if !errors.As(r.Err, &ge) || ge.Status != wantStatus[i] || ge.Transient || ge.Attempts != 1 {
			t.Errorf("item %d: %v, want one permanent %d", i, r.Err, wantStatus[i])
		}
		if ge != nil && (ge.RequestID == "" || ge.Path != fmt.Sprintf("/users/u%d/revokeSignInSessions", i)) {
			t.Errorf("item %d error lacks its request id or path: %+v", i, ge)
		}
	}
	if n := len(fb.seen()); n != 1 {
		t.Errorf("sent %d envelopes, want 1 (permanent failures are not retried)", n)
	}
}

// TestBatchRetriesThrottledItemsOnTheirOwn: two inner 429s with different Retry-After values
// are retried alone, each no earlier than its own delay, and the scope is paused.
func TestBatchRetriesThrottledItemsOnTheirOwn(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	firstSeen := map[string]time.Time{}
	retriedAt := map[string]time.Time{}
	fb := &fakeBatch{}
	fb.item = func(env int, r batchRequest) (int, map[string]string, string) {
		mu.Lock()
		defer mu.Unlock()
		if env > 0 {
			retriedAt[r.URL] = clock.Now()
			return 204, nil, ""
		}
		firstSeen[r.URL] = clock.Now()
		switch {
		case strings.Contains(r.URL, "/u3/"):
			return 429, map[string]string{"retry-after": "0.249",
				"x-ms-throttle-scope": "Tenant_Application/Write/app-1/tenant-1"}, graphError("TooManyRequests", "later")
		case strings.Contains(r.URL, "/u7/"):
			return 429, map[string]string{"Retry-After": "2"}, graphError("TooManyRequests", "later")
		case strings.Contains(r.URL, "/u8/"):
			return 503, nil, graphError("serviceNotAvailable", "busy")
		}
		return 204, nil, ""
	}
	_, c := newFakeGraph(t, fb.handler, func(cfg *Config) { cfg.Clock = clock })
	results := c.Batch(t.Context(), revokeItems(10))
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		want := 1
		if i == 3 || i == 7 || i == 8 {
			want = 2
		}
		if r.Response.Attempts != want {
			t.Errorf("item %d: %d attempts, want %d", i, r.Response.Attempts, want)
		}
	}
	envs := fb.seen()
	var retried []string
	for _, e := range envs[1:] {
		for _, it := range e {
			retried = append(retried, it.URL)
		}
	}
	slices.Sort(retried)
	want := []string{"/users/u3/revokeSignInSessions", "/users/u7/revokeSignInSessions",
		"/users/u8/revokeSignInSessions"}
	if !slices.Equal(retried, want) {
		t.Errorf("retried %v, want only %v", retried, want)
	}
	for url, d := range map[string]time.Duration{want[0]: 249 * time.Millisecond, want[1]: 2 * time.Second} {
		if got := retriedAt[url].Sub(firstSeen[url]); got < d {
			t.Errorf("%s retried after %v, want ≥ %v", url, got, d)
		}
	}
	if s := c.Stats(); s.Throttled != 2 {
		t.Errorf("counted %d 429s, want 2", s.Throttled)
	}
	if clock.slept() == 0 {
		t.Error("the batcher never waited")
	}
	var paused bool
	for _, b := range c.Stats().Buckets {
		if b.Name == "entra-writes/app-1/tenant-1" && b.Throttles > 0 && !b.PausedUntil.IsZero() {
			paused = true
		}
	}
	if !paused {
		t.Error("the inner 429 did not pause the app's write bucket")
	}
}

func TestBatchDependsOn(t *testing.T) {
	fb := &fakeBatch{}
	fb.item = func(env int, r batchRequest) (int, map[string]string, string) {
		switch {
		case env == 0 && r.ID == "0":
			return 429, map[string]string{"Retry-After": "1"}, graphError("TooManyRequests", "later")
		case env == 0 && len(r.DependsOn) > 0:
			return 424, nil, graphError("FailedDependency", "prerequisite failed")
		}
		return 204, nil, ""
	}
	_, c := newFakeGraph(t, fb.handler, nil)
	items := []BatchItem{
		{Key: "disable", Request: UpdateUserRequest("u1", UserPatch{AccountEnabled: new(bool)})},
		{Key: "revoke", Request: RevokeSignInSessionsRequest("u1"), DependsOn: []string{"disable"}},
		{Key: "other", Request: RevokeSignInSessionsRequest("u2")},
	}
	results := c.Batch(t.Context(), items)
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("item %d: %v", i, r.Err)
		}
	}
	envs := fb.seen()
	if len(envs) != 2 {
		t.Fatalf("sent %d envelopes, want 2", len(envs))
	}
	if dep := envs[0][1].DependsOn; !slices.Equal(dep, []string{"0"}) {
		t.Errorf("first envelope: revoke dependsOn %v, want [0]", dep)
	}
	if len(envs[1]) != 2 || envs[1][0].ID != "0" || !slices.Equal(envs[1][1].DependsOn, []string{"0"}) {
		t.Errorf("retry envelope %+v, want the prerequisite and its dependant together", envs[1])
	}
}

func TestBatchDependantFailsWithItsPrerequisite(t *testing.T) {
	fb := &fakeBatch{item: func(_ int, r batchRequest) (int, map[string]string, string) {
		if r.ID == "0" {
			return 403, nil, graphError("Authorization_RequestDenied", "no")
		}
		return 424, nil, graphError("FailedDependency", "prerequisite failed")
	}}
	_, c := newFakeGraph(t, fb.handler, nil)
	results := c.Batch(t.Context(), []BatchItem{
		{Key: "a", Request: UpdateUserRequest("u1", UserPatch{})},
		{Key: "b", Request: RevokeSignInSessionsRequest("u1"), DependsOn: []string{"a"}},
	})
	if !hasStatus(results[0].Err, 403) || !hasStatus(results[1].Err, 424) || !IsPermanent(results[1].Err) {
		t.Errorf("results %v / %v, want 403 and a final 424", results[0].Err, results[1].Err)
	}
	if n := len(fb.seen()); n != 1 {
		t.Errorf("sent %d envelopes, want 1", n)
	}
}

func TestBatchEnvelopeFailures(t *testing.T) {
	t.Run("MalformedFailsEveryItem", func(t *testing.T) {
		_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
			return 400, nil, graphError("BadRequest", "Invalid batch payload.")
		}, nil)
		for i, r := range c.Batch(t.Context(), revokeItems(3)) {
			if !hasStatus(r.Err, 400) || !IsPermanent(r.Err) {
				t.Errorf("item %d: %v, want a permanent 400", i, r.Err)
			}
		}
	})
	t.Run("AmbiguousKeepsNonIdempotentItems", func(t *testing.T) {
		calls := 0
		fg, c := newFakeGraph(t, func(_ int, _ *http.Request, body []byte) (int, http.Header, string) {
			calls++
			if calls == 1 {
				return 504, nil, ""
			}
			return (&fakeBatch{item: func(int, batchRequest) (int, map[string]string, string) {
				return 201, nil, `{"id":"new"}`
			}}).handler(0, &http.Request{Method: "POST", URL: mustURL("/v1.0/$batch")}, body)
		}, nil)
		items := []BatchItem{
			{Request: CreateUserRequest(NewUser{DisplayName: "Mary"})},
			{Request: RevokeSignInSessionsRequest("u1")},
		}
		results := c.Batch(t.Context(), items)
		if !IsAmbiguous(results[0].Err) {
			t.Errorf("create after a 504 envelope: %v, want an ambiguous error (never resent)", results[0].Err)
		}
		if results[1].Err != nil {
			t.Errorf("revoke after a 504 envelope: %v, want a retried success", results[1].Err)
		}
		reqs := fg.requests()
		if len(reqs) != 2 || strings.Contains(string(reqs[1].Body), `"/users"`) {
			t.Errorf("second envelope %s must not carry the create", reqs[len(reqs)-1].Body)
		}
	})
}

func TestBatchRejectsBadInput(t *testing.T) {
	_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		return 500, nil, ""
	}, nil)
	chain := make([]BatchItem, 21)
	for i := range chain {
		chain[i] = BatchItem{Key: fmt.Sprint(i), Request: RevokeSignInSessionsRequest("u")}
		if i > 0 {
			chain[i].DependsOn = []string{fmt.Sprint(i - 1)}
		}
	}
	for name, items := range map[string][]BatchItem{
		"DuplicateKey": {{Key: "a", Request: RevokeSignInSessionsRequest("u")},
			{Key: "a", Request: RevokeSignInSessionsRequest("v")}},
		"UnknownKey":     {{Key: "a", Request: RevokeSignInSessionsRequest("u"), DependsOn: []string{"zz"}}},
		"ChainTooLong":   chain,
		"BadLinkInBatch": {{Request: Request{Path: "https://evil.example/v1.0/users"}}},
	} {
		t.Run(name, func(t *testing.T) {
			for i, r := range c.Batch(t.Context(), items) {
				if r.Err == nil {
					t.Errorf("item %d succeeded", i)
				}
			}
		})
	}
}

func TestBatchCancel(t *testing.T) {
	ctx, cancel := contextWithCancel(t)
	fb := &fakeBatch{item: func(int, batchRequest) (int, map[string]string, string) {
		cancel()
		return 429, map[string]string{"Retry-After": "10"}, graphError("TooManyRequests", "later")
	}}
	_, c := newFakeGraph(t, fb.handler, nil)
	for i, r := range c.Batch(ctx, revokeItems(25)) {
		if r.Err == nil {
			t.Errorf("item %d succeeded after cancel", i)
		}
	}
	if n := len(fb.seen()); n > 2 {
		t.Errorf("sent %d envelopes after cancel, want at most the 2 already under way", n)
	}
}
