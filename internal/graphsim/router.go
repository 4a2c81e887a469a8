package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// route is one Graph endpoint: a method, a path pattern relative to /v1.0, the application
// permissions any one of which grants access, and the handler.
type route struct {
	name    string
	method  string
	segs    []string
	perms   []string
	handler func(c *call)
	// unlocked routes run their handler without s.mu: $batch dispatches its items, each of
	// which takes the lock itself.
	unlocked bool
}

// handle registers a route. A pattern segment is a literal (matched case-insensitively, as
// Graph does), "{name}" for a whole segment, or text around one "{name}", as in
// "devices(deviceId='{deviceId}')".
func (s *Server) handle(name, method, pattern string, perms []string, h func(c *call)) {
	segs := strings.Split(strings.Trim(pattern, "/"), "/")
	s.routes = append(s.routes, &route{name: name, method: method, segs: segs, perms: perms, handler: h})
}

// handleUnlocked registers a route whose handler runs without s.mu held (see route.unlocked).
func (s *Server) handleUnlocked(name, method, pattern string, perms []string, h func(c *call)) {
	s.handle(name, method, pattern, perms, h)
	s.routes[len(s.routes)-1].unlocked = true
}

// match reports whether the path segments match r, filling params.
func (r *route) match(segs []string, params map[string]string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, p := range r.segs {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			if !strings.EqualFold(p, segs[i]) {
				return false
			}
			continue
		}
		end := strings.IndexByte(p, '}')
		prefix, suffix := p[:open], p[end+1:]
		seg := segs[i]
		if len(seg) < len(prefix)+len(suffix) ||
			!strings.EqualFold(seg[:len(prefix)], prefix) ||
			!strings.EqualFold(seg[len(seg)-len(suffix):], suffix) {
			return false
		}
		v := seg[len(prefix) : len(seg)-len(suffix)]
		if v == "" {
			return false
		}
		params[p[open+1:end]] = v
	}
	return true
}

// literals counts the pattern's literal segments, which rank overlapping routes.
func (r *route) literals() int {
	n := 0
	for _, p := range r.segs {
		if !strings.Contains(p, "{") {
			n++
		}
	}
	return n
}

// call is one Graph request being served, or one item of a $batch.
type call struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	route    *route
	params   map[string]string
	query    url.Values
	body     []byte
	tenant   *Tenant
	app      *App
	roles    map[string]bool
	now      time.Time
	entry    LogEntry
	status   int
	inBatch  bool
	rawToken string
	// adm is the throttling model's decision (throttle.go), honoured after s.mu is released.
	adm *admission
}

// param returns a path parameter, unescaped.
func (c *call) param(name string) string {
	v := c.params[name]
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	return v
}

// serveGraph serves one request under /v1.0.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20+1))
	if err != nil {
		return
	}
	c := s.newCall(w, r, body)
	c.entry.InFlight = s.sm.enter()
	defer s.sm.leave()
	// Logged in a deferred call: a connection fault ends the handler with a panic.
	defer func() { s.reqlog.add(c.entry) }()
	s.dispatch(c)
}

func (s *Server) newCall(w http.ResponseWriter, r *http.Request, body []byte) *call {
	c := &call{s: s, w: w, r: r, body: body, params: map[string]string{}}
	c.entry = LogEntry{
		Time:            time.Now(),
		SimTime:         s.clock.Now(),
		Method:          r.Method,
		Path:            r.URL.Path,
		Query:           r.URL.RawQuery,
		RequestID:       newRequestID(),
		ClientRequestID: r.Header.Get("client-request-id"),
		Priority:        r.Header.Get("x-ms-throttle-priority"),
	}
	c.now = c.entry.SimTime
	return c
}

// dispatch authenticates, routes, authorises, admits and runs one call.
func (s *Server) dispatch(c *call) {
	c.query = parseQuery(c.r.URL.RawQuery)
	if len(c.body) > 4<<20 {
		c.fail(http.StatusRequestEntityTooLarge, "Request_EntityTooLarge",
			"The request body exceeds the maximum size of 4 MB.")
		return
	}

	// Authenticate before anything else: Graph answers 401 to an anonymous caller whatever
	// the path.
	if !c.inBatch && !s.authenticate(c) {
		return
	}

	rel := strings.TrimPrefix(c.r.URL.Path, "/v1.0")
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	// The most specific route wins: "users/delta" before "users/{id}".
	var pathMatched bool
	best := -1
	for _, rt := range s.routes {
		params := map[string]string{}
		if !rt.match(segs, params) {
			continue
		}
		pathMatched = true
		if rt.method == c.r.Method && rt.literals() > best {
			c.route, c.params, best = rt, params, rt.literals()
		}
	}
	if c.route == nil {
		if pathMatched {
			c.fail(http.StatusMethodNotAllowed, "Request_BadRequest",
				"Specified HTTP method is not allowed for the request target.")
			return
		}
		c.fail(http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Resource not found for the segment '%s'.", unknownSegment(segs)))
		return
	}
	c.entry.Route = c.route.name

	if !c.authorized() {
		c.fail(http.StatusForbidden, "Authorization_RequestDenied",
			"Insufficient privileges to complete the operation.")
		return
	}

	if c.route.unlocked {
		s.dispatchUnlocked(c)
	} else {
		s.serveLocked(c)
	}
	// Latency and connection faults play out without the lock (deliver, delivery.go).
	s.deliver(c)
}

// serveLocked runs due events, admits and runs a call with s.mu held.
func (s *Server) serveLocked(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDue()
	if !s.admit(c) {
		return
	}
	c.route.handler(c)
	s.settle(c)
}

// dispatchUnlocked admits and settles the call under s.mu, as dispatch does, but runs the
// handler without it. admit sees the route, so a throttler can charge a $batch envelope
// nothing or one request, as it chooses.
func (s *Server) dispatchUnlocked(c *call) {
	s.mu.Lock()
	s.runDue()
	ok := s.admit(c)
	s.mu.Unlock()
	if !ok {
		return
	}
	c.route.handler(c)
	s.mu.Lock()
	s.settle(c)
	s.mu.Unlock()
}

// unknownSegment names the first segment no route knows, for the error message.
func unknownSegment(segs []string) string {
	if len(segs) == 0 || segs[0] == "" {
		return ""
	}
	return segs[len(segs)-1]
}

func (c *call) authorized() bool {
	if len(c.route.perms) == 0 {
		return true
	}
	for _, p := range c.route.perms {
		if c.roles[p] {
			return true
		}
	}
	return false
}

// serveUnknownVersion answers paths outside /v1.0, /_sim and the token service.
func (s *Server) serveUnknownVersion(w http.ResponseWriter, r *http.Request) {
	c := s.newCall(w, r, nil)
	version := strings.SplitN(strings.Trim(r.URL.Path, "/"), "/", 2)[0]
	c.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid version: %s", version))
	s.reqlog.add(c.entry)
}

// header sets a response header.
func (c *call) header(k, v string) { c.w.Header().Set(k, v) }

func (c *call) commonHeaders() {
	h := c.w.Header()
	h.Set("request-id", c.entry.RequestID)
	if c.entry.ClientRequestID != "" {
		h.Set("client-request-id", c.entry.ClientRequestID)
	}
	// Date carries simulated time: the server's own clock, which a client compares with
	// timestamps such as signInSessionsValidFromDateTime.
	h.Set("Date", c.s.clock.Now().Format(http.TimeFormat))
	h.Set("Strict-Transport-Security", "max-age=31536000")
}

// json writes a JSON response.
func (c *call) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.fail(http.StatusInternalServerError, "generalException", "encode response: "+err.Error())
		return
	}
	c.commonHeaders()
	c.header("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	c.w.WriteHeader(status)
	c.w.Write(buf.Bytes())
	c.done(status, "")
}

// noContent writes a 204 (or another bodiless status such as 202).
func (c *call) noContent(status int) {
	c.commonHeaders()
	c.w.WriteHeader(status)
	c.done(status, "")
}

// fail writes Graph's error body.
func (c *call) fail(status int, code, message string) {
	body := map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]any{
			"date":              c.s.clock.Now().Format("2006-01-02T15:04:05"),
			"request-id":        c.entry.RequestID,
			"client-request-id": c.entry.ClientRequestID,
		},
	}}
	b, _ := json.Marshal(body)
	c.commonHeaders()
	c.header("Content-Type", "application/json")
	c.w.WriteHeader(status)
	c.w.Write(b)
	c.done(status, code)
}

func (c *call) done(status int, code string) {
	c.status = status
	c.entry.Status = status
	if code != "" {
		c.entry.Code = code
	}
	if c.entry.Decision == "" {
		switch {
		case status == http.StatusUnauthorized:
			c.entry.Decision = "unauthenticated"
		case status == http.StatusForbidden:
			c.entry.Decision = "forbidden"
		case status == http.StatusTooManyRequests:
			c.entry.Decision = "throttled"
		case status >= 400:
			c.entry.Decision = "error"
		default:
			c.entry.Decision = "ok"
		}
	}
}

// decodeBody decodes the JSON request body into v, answering 400 when it is not JSON.
func (c *call) decodeBody(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.fail(http.StatusBadRequest, "BadRequest", "Empty Payload. JSON content expected.")
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. "+
			"Please ensure Content-Type header is set and payload is of valid JSON format.")
		return false
	}
	return true
}

// requireJSONContentType enforces Content-Type on requests that carry a body, as Graph's
// front door does.
func (c *call) requireJSONContentType() bool {
	ct := c.r.Header.Get("Content-Type")
	if ct == "" || !strings.Contains(strings.ToLower(ct), "json") {
		c.fail(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"A supported MIME type could not be found that matches the content type of the response. "+
				"Content-Type application/json is required.")
		return false
	}
	return true
}

// contextURL is the @odata.context for a fragment such as "users" or "users/$entity".
func (c *call) contextURL(fragment string) string {
	return c.s.GraphURL() + "/$metadata#" + fragment
}

// parseQuery parses a query string as Graph does: '+' reads as a space (so a literal plus,
// as in a date-time offset or an address like a+b@contoso.com, must be sent as %2B), and a
// component that is not valid percent-encoding is kept as sent rather than dropped.
func parseQuery(raw string) url.Values {
	v := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(val); err == nil {
			val = dv
		}
		v.Add(k, val)
	}
	return v
}

func newRequestID() string {
	var b [16]byte
	randRead(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
