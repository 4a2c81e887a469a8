package graphsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// A batch whose items exceed the write budget still answers 200: each item is charged and
// throttled on its own, and each throttled item carries its own Retry-After and scope.
func TestBatchItemsThrottledOneByOne(t *testing.T) {
	f := newFixture(t, frozen(Options{Model: smallWrites(Model{})}), nil)
	var reqs []map[string]any
	for i, id := range f.tenant.userOrder[:20] {
		reqs = append(reqs, map[string]any{"id": strconv.Itoa(i + 1), "method": "POST",
			"url":     "/users/" + id + "/revokeSignInSessions",
			"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{}})
	}
	r, err := f.send(http.MethodPost, "/$batch", map[string]any{"requests": reqs})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("batch status %d, want 200: %s", r.Status, r.Raw)
	}

	var ok, throttled int
	for _, it := range r.Body["responses"].([]any) {
		item := it.(map[string]any)
		h, _ := item["headers"].(map[string]any)
		switch item["status"] {
		case float64(http.StatusOK):
			ok++
		case float64(http.StatusTooManyRequests):
			throttled++
			ra := fmt.Sprint(headerFold(h, "Retry-After"))
			if s, err := strconv.ParseFloat(ra, 64); err != nil || s <= 0 {
				t.Errorf("item %v: Retry-After %q, want positive seconds", item["id"], ra)
			}
			if headerFold(h, "x-ms-throttle-scope") == nil {
				t.Errorf("item %v: no x-ms-throttle-scope in %v", item["id"], h)
			}
			body, _ := item["body"].(map[string]any)
			if e, _ := body["error"].(map[string]any); e["code"] != "TooManyRequests" {
				t.Errorf("item %v: body %v", item["id"], body)
			}
		default:
			t.Errorf("item %v: status %v", item["id"], item["status"])
		}
	}
	// The per-app write bucket holds five writes: five items pass, fifteen are throttled.
	if ok != 5 || throttled != 15 {
		t.Errorf("%d items succeeded and %d were throttled, want 5 and 15", ok, throttled)
	}

	// The request log shows each item's own decision under the batch's request id.
	var logged int
	for _, e := range f.s.Requests(0) {
		if e.Batch != "" && e.Decision == "throttled" {
			logged++
		}
	}
	if logged != 15 {
		t.Errorf("request log has %d throttled batch items, want 15", logged)
	}
}

// headerFold reads a batch item header by name, ignoring case as clients must (GRAPH.md 9).
func headerFold(h map[string]any, name string) any {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}
