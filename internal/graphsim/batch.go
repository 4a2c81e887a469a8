package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxBatchItems is Graph's limit on requests in one $batch.
const maxBatchItems = 20

func (s *Server) batchRoutes() {
	s.handleUnlocked("batch", http.MethodPost, "$batch", nil, s.postBatch)
}

// batchItem is one request of a JSON batch.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchItemResponse is one response of a JSON batch.
type batchItemResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// postBatch serves POST /$batch. The envelope is checked as a whole (400 if malformed);
// then every item goes through dispatch on its own, exactly like a top-level request with
// the caller's token: routing, permissions and admission, so throttling charges items one
// by one. Items run one at a time in a shuffled order that respects dependsOn, and their
// responses come back in that order. The handler runs without s.mu; each item takes it.
func (s *Server) postBatch(c *call) {
	if c.inBatch {
		c.fail(http.StatusBadRequest, "BadRequest", "Nested batch requests are not supported.")
		return
	}
	if !c.requireJSONContentType() {
		return
	}
	var env struct {
		Requests []batchItem `json:"requests"`
	}
	if !c.decodeBody(&env) {
		return
	}
	order, err := s.batchOrder(env.Requests)
	if err != nil {
		c.fail(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}

	statuses := make(map[string]int, len(order))
	responses := make([]batchItemResponse, 0, len(order))
	for _, it := range order {
		var resp batchItemResponse
		if dep := failedDependency(it, statuses); dep != "" {
			resp = s.refuseBatchItem(c, it, http.StatusFailedDependency, "FailedDependency",
				fmt.Sprintf("The request depends on request '%s', which failed.", dep))
		} else {
			resp = s.runBatchItem(c, it)
		}
		statuses[strings.ToLower(it.ID)] = resp.Status
		responses = append(responses, resp)
	}
	c.json(http.StatusOK, map[string]any{"responses": responses})
}

// batchOrder validates the envelope's items and returns them in the order to run them:
// shuffled, except that an item comes after every item it depends on.
func (s *Server) batchOrder(items []batchItem) ([]batchItem, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("Invalid batch payload format: the batch contains no requests.")
	}
	if len(items) > maxBatchItems {
		return nil, fmt.Errorf("Number of requests inside batch exceeds the limit of %d.", maxBatchItems)
	}
	ids := make(map[string]bool, len(items))
	for _, it := range items {
		key := strings.ToLower(it.ID)
		switch {
		case it.ID == "":
			return nil, fmt.Errorf("Invalid batch payload format: every request needs an id.")
		case ids[key]:
			return nil, fmt.Errorf("Batch request ids must be unique: id '%s' is used twice.", it.ID)
		case it.Method == "" || it.URL == "":
			return nil, fmt.Errorf("Invalid batch payload format: request id '%s' needs a method "+
				"and a url.", it.ID)
		}
		ids[key] = true
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if !ids[strings.ToLower(d)] {
				return nil, fmt.Errorf("Request id '%s' depends on unknown request id '%s'.", it.ID, d)
			}
		}
	}

	s.mu.Lock()
	perm := s.rng.Perm(len(items))
	s.mu.Unlock()
	placed := make(map[string]bool, len(items))
	order := make([]batchItem, 0, len(items))
	for len(order) < len(items) {
		progressed := false
		for _, i := range perm {
			it := items[i]
			if placed[strings.ToLower(it.ID)] || !allPlaced(it.DependsOn, placed) {
				continue
			}
			placed[strings.ToLower(it.ID)] = true
			order = append(order, it)
			progressed = true
		}
		if !progressed {
			return nil, fmt.Errorf("Invalid batch payload format: dependsOn forms a cycle.")
		}
	}
	return order, nil
}

func allPlaced(deps []string, placed map[string]bool) bool {
	for _, d := range deps {
		if !placed[strings.ToLower(d)] {
			return false
		}
	}
	return true
}

// failedDependency returns the id of a prerequisite of it that did not succeed, if any.
func failedDependency(it batchItem, statuses map[string]int) string {
	for _, d := range it.DependsOn {
		if st := statuses[strings.ToLower(d)]; st < 200 || st > 299 {
			return d
		}
	}
	return ""
}

// runBatchItem checks what Graph's batch front end checks for one item, then dispatches it.
func (s *Server) runBatchItem(outer *call, it batchItem) batchItemResponse {
	if strings.Contains(it.URL, "://") {
		return s.refuseBatchItem(outer, it, http.StatusBadRequest, "BadRequest",
			"Invalid request URL: URLs in a batch must be relative to the version root, "+
				"such as /users/{id}.")
	}
	// A body needs a Content-Type, and a write needs both: the known trap is a bodiless
	// POST action such as revokeSignInSessions (GRAPH.md 3.4).
	hasType, hasBody := it.header("Content-Type") != "", itemBody(it) != nil
	m := strings.ToUpper(it.Method)
	write := m == http.MethodPost || m == http.MethodPatch || m == http.MethodPut
	if (hasBody && !hasType) || (write && (!hasType || !hasBody)) {
		return s.refuseBatchItem(outer, it, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Write request id : %s does not contain Content-Type header or body.", it.ID))
	}
	ic, rec := s.batchCall(outer, it)
	s.dispatch(ic)
	// The items run side by side at Graph, so the envelope answers after the slowest.
	outer.absorbLatency(ic)
	s.reqlog.add(ic.entry)
	return rec.response(it.ID)
}

// refuseBatchItem answers one item with an error without dispatching it, and logs it.
func (s *Server) refuseBatchItem(outer *call, it batchItem, status int, code, msg string) batchItemResponse {
	ic, rec := s.batchCall(outer, it)
	ic.fail(status, code, msg)
	s.reqlog.add(ic.entry)
	return rec.response(it.ID)
}

// batchCall builds the call for one item: its own method, URL, headers and body, with the
// outer caller's identity, recorded rather than written to the connection.
func (s *Server) batchCall(outer *call, it batchItem) (*call, *itemRecorder) {
	rel := strings.TrimPrefix(it.URL, "/")
	path, rawQuery, _ := strings.Cut(rel, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	r := outer.r.Clone(outer.r.Context())
	r.Method = strings.ToUpper(it.Method)
	r.URL = &url.URL{Path: "/v1.0/" + path, RawQuery: rawQuery}
	r.RequestURI = ""
	r.Body = http.NoBody
	r.Header = http.Header{}
	for k, v := range it.Headers {
		r.Header.Set(k, v)
	}
	// Throttling priority belongs to the whole request unless an item says otherwise.
	if r.Header.Get("x-ms-throttle-priority") == "" {
		if p := outer.r.Header.Get("x-ms-throttle-priority"); p != "" {
			r.Header.Set("x-ms-throttle-priority", p)
		}
	}

	rec := &itemRecorder{header: http.Header{}}
	ic := s.newCall(rec, r, itemBody(it))
	ic.inBatch = true
	ic.tenant, ic.app, ic.roles, ic.rawToken = outer.tenant, outer.app, outer.roles, outer.rawToken
	ic.entry.Tenant, ic.entry.App = outer.entry.Tenant, outer.entry.App
	ic.entry.Batch, ic.entry.BatchItem = outer.entry.RequestID, it.ID
	return ic, rec
}

// header returns an item header, matching the name case-insensitively.
func (it batchItem) header(name string) string {
	for k, v := range it.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// itemBody returns the item's body as the inner request's bytes, nil when there is none.
func itemBody(it batchItem) []byte {
	b := bytes.TrimSpace(it.Body)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	return b
}

// itemRecorder captures the response to one batch item.
type itemRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *itemRecorder) Header() http.Header { return r.header }

func (r *itemRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *itemRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// response turns the recording into the item's entry in the batch response: every header a
// top-level response would carry, and the body as JSON (text, such as a $count, as a JSON
// string).
func (r *itemRecorder) response(id string) batchItemResponse {
	resp := batchItemResponse{ID: id, Status: r.status, Headers: map[string]string{}}
	for k, v := range r.header {
		if len(v) > 0 {
			resp.Headers[k] = v[0]
		}
	}
	b := bytes.TrimSpace(r.body.Bytes())
	switch {
	case len(b) == 0:
	case strings.Contains(r.header.Get("Content-Type"), "json") && json.Valid(b):
		resp.Body = json.RawMessage(b)
	default:
		resp.Body, _ = json.Marshal(string(b))
	}
	return resp
}
