package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"
)

// Client sends requests to Microsoft Graph for one app registration in one tenant. It is
// safe for concurrent use by many workers, which share its token, its throttle buckets and its
// concurrency cap.
type Client struct {
	base     *url.URL // the version root, e.g. https://graph.microsoft.com/v1.0
	hc       *http.Client
	tokens   *tokenSource
	pacer    *Pacer
	limits   Limits
	retry    RetryConfig // already time-scaled
	scale    float64
	clock    Clock
	log      *slog.Logger
	priority string
	app      string // bucket keys
	tenant   string
	inflight chan struct{}

	jitterMu sync.Mutex
	jitterFn func() float64

	latency latencyMeter
	stats   counters
}

// New builds a client and its credential from cfg. Graph and token requests share one HTTP
// client, so that a credential rebuilt after a refused token reuses its connections.
func New(cfg Config) (*Client, error) {
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	cred, err := NewCredential(cfg)
	if err != nil {
		return nil, err
	}
	c, err := NewWithCredential(cfg, cred)
	if err != nil {
		return nil, err
	}
	// Secret and certificate credentials can be rebuilt with an empty cache, which forces a
	// new token after Graph refused a cached one.
	if k := cfg.Credential.Kind; k == CredentialSecret || k == CredentialCertificate {
		c.tokens.fresh = func() (azcore.TokenCredential, error) { return NewCredential(cfg) }
	}
	return c, nil
}

// NewWithCredential builds a client that obtains its tokens from cred; cfg.Credential is
// ignored.
func NewWithCredential(cfg Config, cred azcore.TokenCredential) (*Client, error) {
	_, graphURL, scope, err := cfg.endpoints()
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(graphURL)
	if err != nil {
		return nil, fmt.Errorf("parse graph URL: %w", err)
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, hc: hc, clock: cfg.Clock, log: cfg.Logger, jitterFn: cfg.Jitter,
		scale: cfg.TimeScale, priority: cfg.Priority, pacer: cfg.Pacer,
		app: strings.ToLower(cfg.ClientID), tenant: strings.ToLower(cfg.TenantID)}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.jitterFn == nil {
		c.jitterFn = defaultJitter
	}
	if c.scale <= 0 {
		c.scale = 1
	}
	switch strings.ToLower(c.priority) {
	case "":
		c.priority = "Low"
	case "none":
		c.priority = ""
	}
	if c.pacer == nil {
		c.pacer = NewPacer(c.clock)
	}
	c.limits = cfg.Limits.withDefaults()
	c.retry = cfg.Retry.withDefaults().scaled(c.scale)
	c.inflight = make(chan struct{}, c.limits.MaxInFlight)
	c.tokens = &tokenSource{cred: cred, scope: scope, now: time.Now}
	return c, nil
}

// CloseIdleConnections closes the client's idle connections, for example once a run against
// one tenant is over. The client stays usable.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Request is one Graph request. Its retry rules travel with it as data.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is relative to the version root ("/users/{id}"), or an absolute URL on the same
	// host, such as an @odata.nextLink, which is sent verbatim.
	Path string
	// Query holds query options such as $select; it is added to a relative Path.
	Query url.Values
	// Header holds extra headers, such as ConsistencyLevel or Prefer.
	Header http.Header
	// Body is encoded as JSON; nil sends no body. POST actions without a body still get
	// Content-Type: application/json, which Graph requires of them.
	Body any
	// Idempotent says the request may be resent after an ambiguous failure (a reset or a
	// timeout after sending, a 500 or 504). GET, PUT, PATCH and DELETE always are; a POST is
	// only when it says so (revoke, verify), never a create, a wipe or a send.
	Idempotent bool
	// RetryOn404 retries a 404 with backoff: right after our own write, a missing object is
	// usually replication lag (eventual consistency), not absence.
	RetryOn404 bool
	// Budget overrides the client's retry budget for this request.
	Budget time.Duration
	// Priority overrides the client's x-ms-throttle-priority.
	Priority string
}

func (r *Request) idempotent() bool {
	return r.Idempotent || r.Method != http.MethodPost
}

// Response is a successful (2xx) Graph response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// RequestID and ClientRequestID identify the successful attempt; Date is the server's
	// Date header, the clock to judge timestamps such as signInSessionsValidFromDateTime by.
	RequestID, ClientRequestID string
	Date                       time.Time
	// ResourceUnits is x-ms-resource-unit, when present.
	ResourceUnits int
	// Attempts is how many times the request was sent.
	Attempts int

	// marks are where the attempt's units went in each charged bucket (a $batch envelope's
	// items settle against them).
	marks []sendMark
}

// Decode decodes the JSON body into v, ignoring unknown properties and annotations. An
// empty body (a 204) decodes to nothing and is not an error: success never requires a body.
func (r *Response) Decode(v any) error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// prepared is a Request resolved for sending: its URL, encoded body and charges.
type prepared struct {
	req     Request
	url     string
	logPath string
	body    []byte
	cost    cost
	charges []charge
}

// prepare resolves the URL, encodes the body and prices the request.
func (c *Client) prepare(req Request) (*prepared, error) {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	u, rel, q, err := c.resolve(req.Path, req.Query)
	if err != nil {
		return nil, err
	}
	p := &prepared{req: req, url: u, logPath: rel}
	if req.Body != nil {
		if p.body, err = encodeJSON(req.Body); err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", req.Method, rel, err)
		}
	}
	p.cost = costOf(req.Method, rel, q)
	p.charges = c.charges(p.cost)
	return p, nil
}

// encodeJSON encodes v without escaping HTML, which message bodies are full of.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// resolve turns a path or an absolute URL into the URL to send, the path relative to the
// version root (for pricing and logs) and the query. An absolute URL must point at the Graph
// host: the token is never sent elsewhere.
func (c *Client) resolve(path string, query url.Values) (full, rel string, q url.Values, err error) {
	if strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://") {
		u, err := url.Parse(path)
		if err != nil {
			return "", "", nil, fmt.Errorf("parse link: %w", err)
		}
		if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) {
			return "", "", nil, fmt.Errorf("link %s leaves the Graph host %s", u.Redacted(), c.base.Host)
		}
		rel = strings.TrimPrefix(u.Path, c.base.Path)
		q = parseQuery(u.RawQuery)
		full = path
		if len(query) > 0 {
			full += sep(path) + encodeQuery(query)
		}
		return full, rel, q, nil
	}
	rel = "/" + strings.TrimLeft(path, "/")
	full = c.base.String() + rel
	if len(query) > 0 {
		full += "?" + encodeQuery(query)
	}
	return full, rel, query, nil
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// encodeQuery encodes query options in a stable order, leaving the characters OData uses
// ($ , ' ( ) : /) readable and encoding spaces as %20: Graph does not read '+' as a space in
// every filter.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escapeQuery(k) + "=" + escapeQuery(v))
		}
	}
	return b.String()
}

func escapeQuery(s string) string {
	const keep = "-_.~$,'():/*@"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			strings.IndexByte(keep, ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

// parseQuery parses a raw query without turning '+' into spaces.
func parseQuery(raw string) url.Values {
	v := url.Values{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k, _ = url.PathUnescape(k)
		if dv, err := url.PathUnescape(val); err == nil {
			val = dv
		}
		v.Add(k, val)
	}
	return v
}

// charges lists the buckets a request of this cost draws on.
func (c *Client) charges(k cost) []charge {
	l := c.limits
	app := c.app + "/" + c.tenant
	var out []charge
	add := func(kind bucketKind, key string, bk Bucket, n, conc int) {
		out = append(out, charge{n: n, b: c.pacer.get(bucketSpec{
			name: kindNames[kind] + "/" + key, kind: kind, published: bk.Rate * c.scale,
			burst: bk.Burst, concurrency: conc, limits: l, scale: c.scale})})
	}
	switch k.family {
	case familyIdentity:
		add(kindEntraRU, app, l.EntraRU, k.ru, 0)
		if k.write {
			add(kindEntraWrites, app, l.EntraWrites, 1, 0)
			add(kindEntraTenantWrites, c.tenant, l.EntraTenantWrites, 1, 0)
		}
	case familyReports:
		add(kindReports, app, l.Reports, 1, 0)
	case familyIntune:
		add(kindIntuneAny, app, l.IntuneAny, 1, 0)
		if k.write {
			add(kindIntuneWrites, app, l.IntuneWrites, 1, 0)
			add(kindIntuneTenantWrites, c.tenant, l.IntuneTenantWrites, 1, 0)
		}
	case familyOutlook:
		add(kindOutlook, c.app+"/"+k.mailbox, l.OutlookMailbox, 1, l.MailboxConcurrency)
		add(kindExchange, k.mailbox, l.ExchangeMailbox, 1, 0)
	}
	return out
}

// acquire waits for the pacer and for a concurrency slot (the client's, and the mailbox's
// for Outlook), and returns the function that gives the slots back.
func (c *Client) acquire(ctx context.Context, charges []charge) (func(), error) {
	if err := c.pacer.wait(ctx, charges); err != nil {
		return nil, err
	}
	var held []chan struct{}
	release := func() {
		for _, s := range held {
			<-s
		}
		c.stats.inFlight.Add(-1)
	}
	c.stats.inFlight.Add(1)
	sems := []chan struct{}{c.inflight}
	for _, ch := range charges {
		if ch.b.sem != nil {
			sems = append(sems, ch.b.sem)
		}
	}
	for _, s := range sems {
		select {
		case s <- struct{}{}:
			held = append(held, s)
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

// Do sends one request, retrying transient failures within the retry budget, and returns the
// 2xx response or an error: an *Error, or the context's error once ctx is done. No retry
// starts after ctx is done.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	p, err := c.prepare(req)
	if err != nil {
		return nil, err
	}
	defer c.stats.items.Add(1)
	return c.run(ctx, p, c.attempt)
}

// sendFunc makes one attempt of a prepared request.
type sendFunc func(ctx context.Context, p *prepared, attempt int) (*Response, error)

// run drives the attempts of one request: token renewal on 401, retries and the budget.
func (c *Client) run(ctx context.Context, p *prepared, send sendFunc) (*Response, error) {
	budget := c.retry.Budget
	if p.req.Budget > 0 {
		budget = scaleDuration(p.req.Budget, c.scale)
	}
	start := c.clock.Now()
	renewed := false
	mayHaveActed := false // an attempt reached Graph and its outcome is unknown
	for attempt := 1; ; attempt++ {
		resp, err := send(ctx, p, attempt)
		if err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		mayHaveActed = mayHaveActed || IsAmbiguous(err)
		var ge *Error
		if ctx.Err() != nil || !errors.As(err, &ge) {
			return nil, c.canceled(ctx, p, err, mayHaveActed, attempt)
		}
		ge.Attempts = attempt
		if ge.Status == http.StatusUnauthorized && !renewed {
			// An expired or revoked token: renew it once, then treat a 401 as permanent.
			renewed = true
			if terr := c.tokens.renew(ctx, ge.tokenGen); terr != nil {
				return nil, terr
			}
			continue
		}
		wait, retry := c.retryWait(p, ge, attempt)
		if !retry {
			return nil, ge
		}
		if c.clock.Now().Add(max(wait, ge.RetryAfter)).Sub(start) > budget ||
			(c.retry.MaxAttempts > 0 && attempt >= c.retry.MaxAttempts) {
			return nil, ge
		}
		c.stats.retries.Add(1)
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return nil, c.canceled(ctx, p, err, mayHaveActed, attempt)
		}
	}
}

// canceled returns err unchanged while ctx is live, and the cancellation error once it is
// done (see canceledError).
func (c *Client) canceled(ctx context.Context, p *prepared, err error, mayHaveActed bool,
	attempts int) error {
	if ctx.Err() == nil {
		return err
	}
	return canceledError(p.req.Method, p.logPath, ctx.Err(), mayHaveActed, attempts)
}

// retryWait decides whether a failed attempt is retried and after how long. A 429 has
// already paused its scope, so the pacer does the waiting and the delay here is zero.
func (c *Client) retryWait(p *prepared, e *Error, attempt int) (time.Duration, bool) {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return 0, true
	case e.Status == http.StatusNotFound:
		e.Transient = p.req.RetryOn404
		return c.backoff(attempt), p.req.RetryOn404
	case e.Status == http.StatusPreconditionFailed || e.Status == http.StatusLocked:
		return c.backoff(attempt), attempt < 3
	case !e.Transient:
		return 0, false
	case e.Ambiguous && !p.req.idempotent():
		// The request may have taken effect; resending a create, a wipe or a send could
		// repeat it. The caller must read state first.
		return 0, false
	case e.RetryAfter > 0:
		return e.RetryAfter, true
	default:
		return c.backoff(attempt), true
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	return backoff(attempt, c.retry.BaseDelay, c.retry.MaxDelay, c.jitter)
}

func (c *Client) jitter() float64 {
	c.jitterMu.Lock()
	defer c.jitterMu.Unlock()
	return c.jitterFn()
}

// attempt sends a prepared request once.
func (c *Client) attempt(ctx context.Context, p *prepared, attempt int) (*Response, error) {
	release, err := c.acquire(ctx, p.charges)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.send(ctx, p, attempt)
}

// send makes one HTTP attempt: token, headers, request, and the classification of the answer.
// On a 429 it pauses the throttled scope for every worker. The attempt has its own deadline
// (attemptTimeout), so that a request Graph never answers is given up and retried instead of
// holding its worker.
func (c *Client) send(ctx context.Context, p *prepared, attempt int) (*Response, error) {
	tok, gen, err := c.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout())
	defer cancel()
	var body io.Reader
	if p.body != nil {
		body = bytes.NewReader(p.body)
	}
	hreq, err := http.NewRequestWithContext(actx, p.req.Method, p.url, body)
	if err != nil {
		return nil, &Error{Method: p.req.Method, Path: p.logPath, Code: "invalidRequest",
			Message: err.Error(), Err: err}
	}
	crid := uuid.NewString()
	c.setHeaders(hreq, p, tok, crid)

	sent := c.clock.Now()
	marks := make([]sendMark, len(p.charges))
	for i, ch := range p.charges {
		marks[i] = ch.b.markSend(sent, ch.n)
	}
	c.stats.requests.Add(1)
	resp, err := c.hc.Do(hreq)
	if err != nil {
		ge := transportError(err)
		ge.Method, ge.Path, ge.ClientRequestID = p.req.Method, p.logPath, crid
		c.logAttempt(p, attempt, 0, crid, "", sent, ge)
		return nil, ge
	}
	defer resp.Body.Close()
	for _, ch := range p.charges {
		ch.b.answered(c.clock.Now())
	}
	raw, rerr := io.ReadAll(resp.Body)
	if rerr != nil {
		ge := transportError(rerr)
		ge.Method, ge.Path, ge.Status, ge.ClientRequestID = p.req.Method, p.logPath, 0, crid
		ge.RequestID = resp.Header.Get("request-id")
		c.logAttempt(p, attempt, resp.StatusCode, crid, ge.RequestID, sent, ge)
		return nil, ge
	}
	c.latency.observe(c.clock.Now().Sub(sent))
	ru, _ := strconv.Atoi(resp.Header.Get("x-ms-resource-unit"))
	c.stats.ru.Add(int64(ru))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw,
			RequestID: resp.Header.Get("request-id"), ClientRequestID: crid, ResourceUnits: ru,
			marks: marks}
		out.Date, _ = http.ParseTime(resp.Header.Get("Date"))
		c.logAttempt(p, attempt, resp.StatusCode, crid, out.RequestID, sent, nil)
		return out, nil
	}
	ge := responseError(resp.StatusCode, resp.Header, raw)
	ge.Method, ge.Path, ge.tokenGen = p.req.Method, p.logPath, gen
	if ge.ClientRequestID == "" {
		ge.ClientRequestID = crid
	}
	c.noteFailure(ge, resp.Header, p.charges, marks, p.cost.write, attempt)
	c.logAttempt(p, attempt, resp.StatusCode, crid, ge.RequestID, sent, ge)
	return nil, ge
}

// noteFailure reads Retry-After and, on a 429, pauses the scope it names. marks say where
// the refused units went in each charged bucket, which lets the bucket measure the rate
// Graph admitted. A 429 Graph sends for its own load (x-ms-throttle-information
// CPULimitExceeded) pauses the scope but says nothing about the bucket's ceiling.
func (c *Client) noteFailure(ge *Error, h http.Header, charges []charge, marks []sendMark,
	write bool, attempt int) {
	now := c.clock.Now()
	if d, ok := retryAfter(h, now, c.retry.MaxRetryAfter, c.scale); ok {
		ge.RetryAfter = d
	}
	if ge.Status != http.StatusTooManyRequests {
		return
	}
	c.stats.throttled.Add(1)
	pause := ge.RetryAfter
	if pause == 0 {
		pause = c.backoff(attempt)
	}
	service := strings.EqualFold(h.Get("x-ms-throttle-information"), serviceLoad)
	named := scopeBuckets(ge.ThrottleScope, charges, write)
	for i, ch := range charges {
		own := !service && slices.Contains(named, ch.b)
		ch.b.refused(marks[i], ch.n, own)
	}
	for _, b := range named {
		if service {
			b.pause(now, pause)
			continue
		}
		b.throttledAt(now, markOf(b, charges, marks), pause)
	}
}

// serviceLoad is the x-ms-throttle-information of a 429 Graph sends under its own load,
// below any quota.
const serviceLoad = "CPULimitExceeded"

// markOf returns the send mark of bucket b among charges.
func markOf(b *bucket, charges []charge, marks []sendMark) sendMark {
	for i, ch := range charges {
		if ch.b == b && i < len(marks) {
			return marks[i]
		}
	}
	return sendMark{pos: -1}
}

// attemptTimeout is how long one attempt may wait for its answer: five times the smoothed
// latency of answered attempts, at least 5 s and at most Retry.AttemptTimeout, in real time
// at TimeScale 1. Graph's latency varies about log-normally (p99 near 2.6 times the median)
// and grows when a bucket is busy, which the smoothed mean follows; five times the mean
// gives up on fewer than one attempt in 10,000 that would still have been answered, while a
// request that never answers holds its operation back by seconds rather than minutes.
func (c *Client) attemptTimeout() time.Duration {
	limit := c.retry.AttemptTimeout
	floor := min(limit, scaleDuration(5*time.Second, c.scale))
	if l, ok := c.latency.mean(); ok {
		return min(limit, max(floor, 5*l))
	}
	return limit
}

// latencyMeter is an exponentially weighted mean of attempt latency.
type latencyMeter struct {
	mu  sync.Mutex
	n   int
	avg time.Duration
}

func (m *latencyMeter) observe(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	if m.n == 1 {
		m.avg = d
		return
	}
	m.avg += (d - m.avg) / 10
}

// mean returns the smoothed latency once a few attempts were answered.
func (m *latencyMeter) mean() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.avg, m.n >= 5
}

func (c *Client) setHeaders(hreq *http.Request, p *prepared, tok, crid string) {
	h := hreq.Header
	for k, vs := range p.req.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Authorization", "Bearer "+tok)
	h.Set("client-request-id", crid)
	h.Set("Accept", "application/json")
	if p.body != nil || p.req.Method == http.MethodPost {
		h.Set("Content-Type", "application/json")
	}
	priority := c.priority
	if p.req.Priority != "" {
		priority = p.req.Priority
	}
	if priority != "" {
		h.Set("x-ms-throttle-priority", priority)
	}
}

// logAttempt logs one attempt at debug level: ids, status and timing, never headers, tokens
// or bodies.
func (c *Client) logAttempt(p *prepared, attempt, status int, crid, rid string, sent time.Time,
	ge *Error) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []any{"method", p.req.Method, "path", p.logPath, "attempt", attempt,
		"status", status, "request_id", rid, "client_request_id", crid,
		"duration", c.clock.Now().Sub(sent)}
	if ge != nil {
		attrs = append(attrs, "code", ge.Code, "transient", ge.Transient)
		if ge.RetryAfter > 0 {
			attrs = append(attrs, "retry_after", ge.RetryAfter)
		}
		if ge.ThrottleScope != "" {
			attrs = append(attrs, "throttle_scope", ge.ThrottleScope)
		}
		if ge.Err != nil {
			attrs = append(attrs, "err", ge.Err.Error())
		}
	}
	c.log.Debug("graph request", attrs...)
}

// counters are the client's running totals.
type counters struct {
	requests, items, throttled, ru, retries, inFlight atomic.Int64
}

// Stats is a snapshot of a client's counters.
type Stats struct {
	// Requests is HTTP attempts sent; a $batch envelope counts once.
	Requests int64
	// Items is operations finished, successfully or not: single requests and batch items.
	Items int64
	// Throttled is 429 answers, batch items included.
	Throttled int64
	// ResourceUnits is the sum of x-ms-resource-unit over every response and batch item.
	ResourceUnits int64
	// Retries is attempts repeated after a failure.
	Retries int64
	// InFlight is requests holding a concurrency slot or waiting for one now.
	InFlight int64
	// Buckets are the pacer's buckets with their current rates and pauses.
	Buckets []BucketStats
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.stats.requests.Load(), Items: c.stats.items.Load(),
		Throttled: c.stats.throttled.Load(), ResourceUnits: c.stats.ru.Load(),
		Retries: c.stats.retries.Load(), InFlight: c.stats.inFlight.Load(),
		Buckets: c.pacer.Buckets()}
}
