package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// batchResult is a decoded $batch response.
type batchResult struct {
	graphResponse
	items map[string]batchItemResponse
	order []string
}

// postBatch sends requests as one $batch and decodes the responses by id.
func postBatch(t *testing.T, s *Server, tok string, requests []map[string]any) batchResult {
	t.Helper()
	r := do(t, s, tok, http.MethodPost, "/$batch", map[string]any{"requests": requests})
	out := batchResult{graphResponse: r, items: map[string]batchItemResponse{}}
	if r.Status != http.StatusOK {
		return out
	}
	var body struct {
		Responses []batchItemResponse `json:"responses"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatalf("decode batch response: %v", err)
	}
	for _, it := range body.Responses {
		if _, dup := out.items[it.ID]; dup {
			t.Fatalf("batch response has id %s twice", it.ID)
		}
		out.items[it.ID] = it
		out.order = append(out.order, it.ID)
	}
	return out
}

func revokeItem(id, userID string) map[string]any {
	return map[string]any{"id": id, "method": "POST", "url": "/users/" + userID + "/revokeSignInSessions",
		"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{}}
}

func patchItem(id, userID string, body map[string]any) map[string]any {
	return map[string]any{"id": id, "method": "PATCH", "url": "/users/" + userID,
		"headers": map[string]string{"Content-Type": "application/json"}, "body": body}
}

// sessionsValidFrom returns each user's signInSessionsValidFromDateTime.
func sessionsValidFrom(s *Server, tn *Tenant, ids []string) map[string]time.Time {
	out := map[string]time.Time{}
	locked(s, func() {
		for _, id := range ids {
			out[id] = tn.users[id].SessionsValidFrom
		}
	})
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	t.Run("twenty revokes", func(t *testing.T) { testBatchTwentyRevokes(t, s) })
	t.Run("envelope rules", func(t *testing.T) { testBatchEnvelopeRules(t, s) })
	t.Run("item rules", func(t *testing.T) { testBatchItemRules(t, s) })
	t.Run("dependsOn", func(t *testing.T) { testBatchDependsOn(t, s) })
	t.Run("reads and errors", func(t *testing.T) { testBatchReads(t, s) })
	t.Run("shuffled", func(t *testing.T) { testBatchShuffled(t, s) })
	t.Run("long URL", func(t *testing.T) { testBatchLongURL(t, s) })
}

func testBatchTwentyRevokes(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)[:20]
	s.Advance(time.Hour)
	tok := token(t, s, "source", "cutover")
	sent := s.clock.Now().Truncate(time.Second)
	seq := lastSeq(s)

	var reqs []map[string]any
	for i, id := range ids {
		reqs = append(reqs, revokeItem(fmt.Sprint(i+1), id))
	}
	res := postBatch(t, s, tok, reqs)
	if res.Status != 200 || len(res.items) != 20 {
		t.Fatalf("batch = %d with %d responses: %s", res.Status, len(res.items), res.Raw)
	}
	for i := range ids {
		it := res.items[fmt.Sprint(i+1)]
		var body map[string]any
		_ = json.Unmarshal(it.Body, &body)
		if it.Status != 200 || body["value"] != true || !strings.Contains(it.Headers["Content-Type"], "json") {
			t.Errorf("item %d = %d %s %v", i+1, it.Status, it.Body, it.Headers)
		}
	}
	for id, at := range sessionsValidFrom(s, src, ids) {
		if at.Before(sent) {
			t.Errorf("user %s: signInSessionsValidFromDateTime %v, want at or after %v", id, at, sent)
		}
	}

	// Every item is in the request log, tied to the envelope.
	var outer string
	items := map[string]bool{}
	for _, e := range s.Requests(seq) {
		switch {
		case e.Route == "batch":
			outer = e.RequestID
		case e.Batch != "":
			items[e.BatchItem] = e.Route == "users.revokeSignInSessions" && e.Status == 200
		}
	}
	for _, e := range s.Requests(seq) {
		if e.Batch != "" && e.Batch != outer {
			t.Errorf("item %s logged with batch %q, want the envelope's request id %q", e.BatchItem, e.Batch, outer)
		}
	}
	for i := range ids {
		if !items[fmt.Sprint(i+1)] {
			t.Errorf("item %d missing from the request log or not a successful revoke", i+1)
		}
	}
}

func lastSeq(s *Server) uint64 {
	all := s.Requests(0)
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Seq
}

func testBatchEnvelopeRules(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)
	s.Advance(time.Minute)
	tok := token(t, s, "source", "cutover")
	before := sessionsValidFrom(s, src, ids)

	var twentyOne []map[string]any
	for i := range 21 {
		twentyOne = append(twentyOne, revokeItem(fmt.Sprint(i+1), ids[i]))
	}
	tests := []struct {
		name    string
		reqs    []map[string]any
		message string
	}{
		{"21 requests", twentyOne, "exceeds the limit of 20"},
		{"duplicate ids", []map[string]any{revokeItem("a", ids[0]), revokeItem("A", ids[1])}, "unique"},
		{"missing id", []map[string]any{revokeItem("", ids[0])}, "needs an id"},
		{"no requests", []map[string]any{}, "no requests"},
		{"unknown dependency", []map[string]any{revokeItem("1", ids[0]),
			withDeps(revokeItem("2", ids[1]), "9")}, "unknown request id '9'"},
		{"cycle", []map[string]any{withDeps(revokeItem("1", ids[0]), "2"),
			withDeps(revokeItem("2", ids[1]), "1")}, "cycle"},
		{"missing url", []map[string]any{{"id": "1", "method": "GET"}}, "needs a method and a url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := postBatch(t, s, tok, tc.reqs)
			if res.Status != 400 || res.errorCode() != "BadRequest" ||
				!strings.Contains(string(res.Raw), tc.message) {
				t.Errorf("batch = %d %s, want 400 BadRequest saying %q", res.Status, res.Raw, tc.message)
			}
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.GraphURL()+"/$batch", strings.NewReader(`{"requests": [`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("malformed batch = %d, want 400", resp.StatusCode)
		}
	})
	t.Run("no token", func(t *testing.T) {
		if r := do(t, s, "", http.MethodPost, "/$batch", map[string]any{"requests": []any{}}); r.Status != 401 {
			t.Errorf("anonymous batch = %d, want 401", r.Status)
		}
	})
	after := sessionsValidFrom(s, src, ids)
	for _, id := range ids {
		if !after[id].Equal(before[id]) {
			t.Errorf("a refused batch changed user %s", id)
		}
	}
}

func withDeps(item map[string]any, deps ...string) map[string]any {
	item["dependsOn"] = deps
	return item
}

func testBatchItemRules(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)
	s.Advance(time.Minute)
	tok := token(t, s, "source", "cutover")
	sent := s.clock.Now().Truncate(time.Second)

	noType := map[string]any{"id": "no-type", "method": "POST", "url": "/users/" + ids[0] + "/revokeSignInSessions"}
	noBody := map[string]any{"id": "no-body", "method": "POST", "url": "users/" + ids[1] + "/revokeSignInSessions",
		"headers": map[string]string{"Content-Type": "application/json"}}
	patchNoType := map[string]any{"id": "patch-no-type", "method": "PATCH", "url": "/users/" + ids[2],
		"body": map[string]any{"accountEnabled": false}}
	absolute := revokeItem("absolute", ids[3])
	absolute["url"] = s.GraphURL() + "/users/" + ids[3] + "/revokeSignInSessions"
	nested := map[string]any{"id": "nested", "method": "POST", "url": "/$batch",
		"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"requests": []any{}}}
	res := postBatch(t, s, tok, []map[string]any{noType, noBody, patchNoType, absolute, nested,
		revokeItem("ok-1", ids[4]), revokeItem("ok-2", ids[5])})
	if res.Status != 200 {
		t.Fatalf("batch = %d %s", res.Status, res.Raw)
	}
	for _, id := range []string{"no-type", "no-body", "patch-no-type"} {
		it := res.items[id]
		if it.Status != 400 || !strings.Contains(string(it.Body), "Write request id : "+id+
			" does not contain Content-Type header or body") {
			t.Errorf("item %s = %d %s", id, it.Status, it.Body)
		}
	}
	for _, id := range []string{"absolute", "nested"} {
		if it := res.items[id]; it.Status != 400 {
			t.Errorf("item %s = %d %s, want 400", id, it.Status, it.Body)
		}
	}
	for _, id := range []string{"ok-1", "ok-2"} {
		if it := res.items[id]; it.Status != 200 {
			t.Errorf("item %s = %d %s, want 200", id, it.Status, it.Body)
		}
	}
	at := sessionsValidFrom(s, src, ids[:6])
	for i, id := range ids[:4] {
		if !at[id].Before(sent) {
			t.Errorf("refused item %d still revoked user %s", i, id)
		}
	}
	if u := stateUser(s, src, ids[2]); !u.AccountEnabled {
		t.Error("PATCH item without Content-Type was applied")
	}
	for _, id := range ids[4:6] {
		if at[id].Before(sent) {
			t.Errorf("valid item did not revoke user %s", id)
		}
	}
}

func testBatchDependsOn(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)
	tok := token(t, s, "source", "cutover")

	res := postBatch(t, s, tok, []map[string]any{
		patchItem("bad", ids[6], map[string]any{"usageLocation": "nowhere"}),
		withDeps(patchItem("after-bad", ids[6], map[string]any{"accountEnabled": false}), "BAD"),
		withDeps(patchItem("after-after", ids[7], map[string]any{"accountEnabled": false}), "after-bad"),
		withDeps(patchItem("second", ids[8], map[string]any{"jobTitle": "Second"}), "first"),
		patchItem("first", ids[8], map[string]any{"jobTitle": "First"}),
	})
	if res.Status != 200 || len(res.items) != 5 {
		t.Fatalf("batch = %d %s", res.Status, res.Raw)
	}
	want := map[string]int{"bad": 400, "after-bad": 424, "after-after": 424, "first": 204, "second": 204}
	for id, status := range want {
		if got := res.items[id].Status; got != status {
			t.Errorf("item %s = %d %s, want %d", id, got, res.items[id].Body, status)
		}
	}
	pos := func(id string) int {
		for i, v := range res.order {
			if v == id {
				return i
			}
		}
		return -1
	}
	if pos("second") < pos("first") || pos("after-bad") < pos("bad") {
		t.Errorf("response order %v does not follow dependsOn", res.order)
	}
	if u := stateUser(s, src, ids[6]); !u.AccountEnabled {
		t.Error("an item whose prerequisite failed was applied")
	}
	if u := stateUser(s, src, ids[8]); u.JobTitle != "Second" {
		t.Errorf("jobTitle = %q, want the dependant's value applied last", u.JobTitle)
	}
}

func testBatchReads(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)
	tok := token(t, s, "source", "cutover-readonly")

	res := postBatch(t, s, tok, []map[string]any{
		{"id": "list", "method": "GET", "url": "/users?$select=id&$top=5&$filter=accountEnabled eq true&$count=true",
			"headers": map[string]string{"ConsistencyLevel": "eventual"}},
		{"id": "count", "method": "GET", "url": "users/$count",
			"headers": map[string]string{"ConsistencyLevel": "eventual"}},
		{"id": "missing", "method": "GET", "url": "/users/nobody@contoso.com"},
		{"id": "forbidden", "method": "PATCH", "url": "/users/" + ids[0],
			"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"accountEnabled": false}},
		{"id": "unknown", "method": "GET", "url": "/widgets"},
	})
	if res.Status != 200 {
		t.Fatalf("batch = %d %s", res.Status, res.Raw)
	}
	var list map[string]any
	_ = json.Unmarshal(res.items["list"].Body, &list)
	if v, _ := list["value"].([]any); res.items["list"].Status != 200 || len(v) != 5 || list["@odata.nextLink"] == nil ||
		list["@odata.count"] == nil {
		t.Errorf("list item = %d %s", res.items["list"].Status, res.items["list"].Body)
	}
	var count string
	_ = json.Unmarshal(res.items["count"].Body, &count)
	if count != fmt.Sprint(len(ids)) {
		t.Errorf("count item body = %s, want %q", res.items["count"].Body, fmt.Sprint(len(ids)))
	}
	for id, want := range map[string]int{"missing": 404, "forbidden": 403, "unknown": 400} {
		it := res.items[id]
		var body map[string]any
		_ = json.Unmarshal(it.Body, &body)
		if it.Status != want || body["error"] == nil {
			t.Errorf("item %s = %d %s, want %d with an error body", id, it.Status, it.Body, want)
		}
	}
	if u := stateUser(s, src, ids[0]); !u.AccountEnabled {
		t.Error("a forbidden item was applied")
	}
}

func testBatchShuffled(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	ids := userIDs(s, src)
	tok := token(t, s, "source", "cutover")
	var reqs []map[string]any
	var inOrder []string
	for i := range 10 {
		id := fmt.Sprint(i)
		reqs = append(reqs, map[string]any{"id": id, "method": "GET", "url": "/users/" + ids[i] + "?$select=id"})
		inOrder = append(inOrder, id)
	}
	for range 3 {
		if res := postBatch(t, s, tok, reqs); strings.Join(res.order, ",") != strings.Join(inOrder, ",") {
			return
		}
	}
	t.Error("three batches of ten all answered in request order; want an arbitrary order")
}

// testBatchLongURL sends an item whose URL is far longer than a request line comfortably
// carries, with a lower-case method, which Graph accepts.
func testBatchLongURL(t *testing.T, s *Server) {
	tok := token(t, s, "source", "cutover")
	long := "/users?$select=id&$filter=startsWith(displayName,'" + strings.Repeat("z", 100) + "')" +
		strings.Repeat("&x=1", 2500)
	body, _ := json.Marshal(map[string]any{"requests": []map[string]any{{"id": "1", "method": "get", "url": long}}})
	req, _ := http.NewRequest(http.MethodPost, s.GraphURL()+"/$batch", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"status":200`) {
		t.Errorf("long URL in a batch = %d %s", resp.StatusCode, raw)
	}
}
