package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBatchItems is the most requests one $batch may carry.
const MaxBatchItems = 20

// BatchItem is one request to send through $batch.
type BatchItem struct {
	// Key names the item for DependsOn. Keys must be unique when set.
	Key string
	// Request is the item's request. Its Path is relative to the version root; its retry
	// rules (Idempotent, RetryOn404, Budget) apply to the item on its own.
	Request Request
	// DependsOn lists keys of items that must succeed before this one runs. Graph allows
	// dependencies only inside one envelope, so an item travels with its prerequisites; a
	// group of dependent items may not exceed 20.
	DependsOn []string
}

// BatchResult is the outcome of one item: a 2xx Response, or an Err as Do would return it.
type BatchResult struct {
	Key      string
	Response *Response
	Err      error
}

// Batch sends items through $batch, at most 20 per envelope and several envelopes at a time,
// and returns one result per item, in the order of items. The envelope's 200 only means it
// parsed: every item's own status decides its result. Throttled and transient items are
// retried on their own, each after its own Retry-After (which also pauses its scope for every
// worker), within each item's budget.
func (c *Client) Batch(ctx context.Context, items []BatchItem) []BatchResult {
	out := make([]BatchResult, len(items))
	c.BatchFunc(ctx, items, func(i int, r BatchResult) { out[i] = r })
	return out
}

// BatchFunc is Batch with each result handed to done as soon as it is final (from one
// goroutine at a time), so that the caller can journal it at once. It returns when every
// item has a result; once ctx is done, unsent items get the context's error.
func (c *Client) BatchFunc(ctx context.Context, items []BatchItem, done func(i int, r BatchResult)) {
	b, err := c.newBatchRun(items, done)
	if err != nil {
		for i := range items {
			done(i, BatchResult{Key: items[i].Key, Err: err})
		}
		return
	}
	b.run(ctx)
}

// batchItem is the state of one item across envelopes.
type batchItem struct {
	index    int
	p        *prepared
	deps     []int // indexes of prerequisites still unfinished
	attempts int
	// mayHaveActed records an attempt that reached Graph without a clear answer.
	mayHaveActed bool
	first        time.Time // first send, for the budget
	retryAt      time.Time // when a retried item may go again
	done         bool
	ok           bool
}

// batchGroup is items that must share an envelope, ready from notBefore.
type batchGroup struct {
	items     []*batchItem
	notBefore time.Time
}

type batchRun struct {
	c       *Client
	items   []*batchItem
	keys    []string
	pending []*batchGroup
	left    int
	done    func(int, BatchResult)
}

func (c *Client) newBatchRun(items []BatchItem, done func(int, BatchResult)) (*batchRun, error) {
	b := &batchRun{c: c, done: done, left: len(items)}
	byKey := map[string]int{}
	for i, it := range items {
		if it.Key == "" {
			continue
		}
		if _, dup := byKey[it.Key]; dup {
			return nil, fmt.Errorf("batch: key %q used twice", it.Key)
		}
		byKey[it.Key] = i
	}
	for i, it := range items {
		p, err := c.prepare(it.Request)
		if err != nil {
			return nil, fmt.Errorf("batch item %d: %w", i, err)
		}
		bi := &batchItem{index: i, p: p}
		for _, k := range it.DependsOn {
			j, ok := byKey[k]
			if !ok || j == i {
				return nil, fmt.Errorf("batch item %d: depends on unknown key %q", i, k)
			}
			bi.deps = append(bi.deps, j)
		}
		b.items = append(b.items, bi)
		b.keys = append(b.keys, it.Key)
	}
	groups := b.groups(b.items)
	for _, g := range groups {
		if len(g.items) > MaxBatchItems {
			return nil, fmt.Errorf("batch: %d items depend on each other; at most %d may",
				len(g.items), MaxBatchItems)
		}
	}
	b.pending = groups
	return b, nil
}

// groups splits items into the connected groups their dependencies form (union-find).
func (b *batchRun) groups(items []*batchItem) []*batchGroup {
	parent := map[int]int{}
	var find func(int) int
	find = func(i int) int {
		if p, ok := parent[i]; ok && p != i {
			r := find(p)
			parent[i] = r
			return r
		}
		parent[i] = i
		return i
	}
	in := map[int]bool{}
	for _, it := range items {
		in[it.index] = true
	}
	for _, it := range items {
		for _, d := range it.deps {
			if in[d] {
				parent[find(it.index)] = find(d)
			}
		}
	}
	byRoot := map[int]*batchGroup{}
	var out []*batchGroup
	for _, it := range items {
		r := find(it.index)
		g := byRoot[r]
		if g == nil {
			g = &batchGroup{}
			byRoot[r] = g
			out = append(out, g)
		}
		g.items = append(g.items, it)
	}
	return out
}

// envelopeOutcome is what came back for one envelope.
type envelopeOutcome struct {
	items   []*batchItem
	charges []charge // the envelope's, merged per bucket
	resp    *Response
	err     error
	inner   map[string]batchResponse
	// tails is, per bucket, where the envelope's refused units start in the bucket's stream
	// of sends: Graph admits items until a bucket runs dry and refuses the rest, so the
	// refused units are the tail of the envelope's share.
	tails map[*bucket]sendMark
}

func (b *batchRun) run(ctx context.Context) {
	c := b.c
	// An envelope carries up to 20 requests: keep about MaxInFlight requests in flight, not
	// MaxInFlight envelopes. More would only put more items in the way of a 429 at once.
	workers := max(2, (c.limits.MaxInFlight+MaxBatchItems-1)/MaxBatchItems)
	results := make(chan envelopeOutcome)
	inflight := 0
	for b.left > 0 || inflight > 0 {
		// Launch every envelope that is ready, up to the worker limit.
		for inflight < workers && ctx.Err() == nil {
			env := b.take(c.clock.Now())
			if len(env) == 0 {
				break
			}
			inflight++
			go func() { results <- b.send(ctx, env) }()
		}
		if inflight > 0 {
			b.settle(ctx, <-results)
			inflight--
			continue
		}
		if b.left == 0 {
			break
		}
		if ctx.Err() != nil {
			b.failPending(ctx.Err())
			break
		}
		// Nothing ready: wait for the earliest group.
		if err := c.clock.Sleep(ctx, b.earliest().Sub(c.clock.Now())); err != nil {
			b.failPending(err)
			break
		}
	}
}

// take removes ready groups from the queue, up to 20 items.
func (b *batchRun) take(now time.Time) []*batchItem {
	var env []*batchItem
	rest := b.pending[:0]
	for _, g := range b.pending {
		if g.notBefore.After(now) || len(env)+len(g.items) > MaxBatchItems {
			rest = append(rest, g)
			continue
		}
		env = append(env, g.items...)
	}
	b.pending = rest
	return env
}

func (b *batchRun) earliest() time.Time {
	var t time.Time
	for i, g := range b.pending {
		if i == 0 || g.notBefore.Before(t) {
			t = g.notBefore
		}
	}
	return t
}

func (b *batchRun) failPending(err error) {
	for _, g := range b.pending {
		for _, it := range g.items {
			b.finish(it, nil, canceledItem(it, err))
		}
	}
	b.pending = nil
}

// canceledItem is the result of an item the run gives up on because its context ended.
func canceledItem(it *batchItem, ctxErr error) error {
	return canceledError(it.p.req.Method, it.p.logPath, ctxErr, it.mayHaveActed, it.attempts)
}

func (b *batchRun) finish(it *batchItem, resp *Response, err error) {
	if it.done {
		return
	}
	it.done, it.ok = true, err == nil
	b.left--
	b.c.stats.items.Add(1)
	if resp != nil {
		resp.Attempts = it.attempts
	}
	var ge *Error
	if errors.As(err, &ge) {
		ge.Attempts = it.attempts
	}
	b.done(it.index, BatchResult{Key: b.keys[it.index], Response: resp, Err: err})
}

// batchRequest and batchResponse are the JSON shapes of one $batch item.
type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// send posts one envelope. The envelope is paced by the sum of its items' costs (Graph
// charges each item on its own) and takes one concurrency slot.
func (b *batchRun) send(ctx context.Context, env []*batchItem) envelopeOutcome {
	c := b.c
	now := c.clock.Now()
	body := struct {
		Requests []batchRequest `json:"requests"`
	}{}
	idempotent := true
	var charges []charge
	for _, it := range env {
		it.attempts++
		if it.first.IsZero() {
			it.first = now
		}
		idempotent = idempotent && it.p.req.idempotent()
		charges = append(charges, it.p.charges...)
		body.Requests = append(body.Requests, b.itemRequest(it))
	}
	p, err := c.prepare(Request{Method: http.MethodPost, Path: "/$batch", Body: body,
		Idempotent: idempotent})
	if err != nil {
		return envelopeOutcome{items: env, err: err}
	}
	p.charges = mergeCharges(charges)
	out := envelopeOutcome{items: env, charges: p.charges}
	out.resp, out.err = c.run(ctx, p, c.attempt)
	if out.err != nil {
		return out
	}
	var decoded struct {
		Responses []batchResponse `json:"responses"`
	}
	if err := out.resp.Decode(&decoded); err != nil {
		out.err = &Error{Method: http.MethodPost, Path: "/$batch", Status: out.resp.Status,
			Code: "invalidBatchResponse", Message: err.Error(), Transient: true, Ambiguous: true,
			RequestID: out.resp.RequestID}
		return out
	}
	out.inner = make(map[string]batchResponse, len(decoded.Responses))
	for _, r := range decoded.Responses {
		out.inner[strings.ToLower(r.ID)] = r
	}
	return out
}

// itemRequest encodes one item. Graph needs Content-Type and a body on every item that has
// a body and on bodiless POST actions, which get {}; dependencies still pending travel as
// dependsOn.
func (b *batchRun) itemRequest(it *batchItem) batchRequest {
	p := it.p
	r := batchRequest{ID: strconv.Itoa(it.index), Method: p.req.Method, URL: b.relativeURL(p)}
	for k, vs := range p.req.Header {
		if len(vs) > 0 {
			if r.Headers == nil {
				r.Headers = map[string]string{}
			}
			r.Headers[k] = vs[0]
		}
	}
	if p.body != nil || p.req.Method == http.MethodPost {
		if r.Headers == nil {
			r.Headers = map[string]string{}
		}
		r.Headers["Content-Type"] = "application/json"
		r.Body = p.body
		if r.Body == nil {
			r.Body = json.RawMessage("{}")
		}
	}
	for _, d := range it.deps {
		if !b.items[d].done {
			r.DependsOn = append(r.DependsOn, strconv.Itoa(d))
		}
	}
	return r
}

// relativeURL is the item's URL relative to the version root, as $batch wants it.
func (b *batchRun) relativeURL(p *prepared) string {
	return strings.TrimPrefix(p.url, b.c.base.String())
}

// mergeCharges sums the charges of several items per bucket.
func mergeCharges(charges []charge) []charge {
	var out []charge
	idx := map[*bucket]int{}
	for _, ch := range charges {
		if i, ok := idx[ch.b]; ok {
			out[i].n += ch.n
			continue
		}
		idx[ch.b] = len(out)
		out = append(out, ch)
	}
	return out
}

// settle turns an envelope's outcome into final results and retries. Items that failed on
// a prerequisite (424) are settled last, once it is known whether the prerequisite will be
// retried.
func (b *batchRun) settle(ctx context.Context, o envelopeOutcome) {
	if o.err != nil {
		b.settleEnvelopeError(ctx, o)
		return
	}
	o.tails = refusedTails(o)
	var retry, dependants []*batchItem
	for _, it := range o.items {
		r, ok := o.inner[strconv.Itoa(it.index)]
		if ok && r.Status == http.StatusFailedDependency {
			dependants = append(dependants, it)
			continue
		}
		if b.settleItem(ctx, o, it, r, ok) {
			retry = append(retry, it)
		}
	}
	for _, it := range dependants {
		if b.settleItem(ctx, o, it, o.inner[strconv.Itoa(it.index)], true) {
			retry = append(retry, it)
		}
	}
	b.requeue(retry)
}

// settleItem finishes one item of a parsed envelope, or reports that it is to be retried.
func (b *batchRun) settleItem(ctx context.Context, o envelopeOutcome, it *batchItem, r batchResponse,
	found bool) bool {
	c := b.c
	if !found {
		ge := &Error{Method: it.p.req.Method, Path: it.p.logPath, Code: "missingBatchResponse",
			Message: "the batch response has no result for this item", Transient: true,
			Ambiguous: true, RequestID: o.resp.RequestID, ClientRequestID: o.resp.ClientRequestID,
			Date: o.resp.Date}
		return b.retryItem(ctx, it, ge)
	}
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	ru, _ := strconv.Atoi(h.Get("x-ms-resource-unit"))
	c.stats.ru.Add(int64(ru))
	if r.Status >= 200 && r.Status < 300 {
		resp := &Response{Status: r.Status, Header: h, Body: r.Body, ResourceUnits: ru,
			RequestID:       firstNonEmpty(h.Get("request-id"), o.resp.RequestID),
			ClientRequestID: o.resp.ClientRequestID, Date: o.resp.Date}
		b.finish(it, resp, nil)
		return false
	}
	ge := responseError(r.Status, h, r.Body)
	ge.Method, ge.Path = it.p.req.Method, it.p.logPath
	if ge.RequestID == "" {
		ge.RequestID = o.resp.RequestID
	}
	if ge.ClientRequestID == "" {
		// Items carry no client-request-id of their own: the envelope's names the attempt.
		ge.ClientRequestID = o.resp.ClientRequestID
	}
	if ge.Date.IsZero() {
		ge.Date = o.resp.Date
	}
	marks := make([]sendMark, len(it.p.charges))
	for i, ch := range it.p.charges {
		m, ok := o.tails[ch.b]
		if !ok {
			m = sendMark{pos: -1}
		}
		marks[i] = m
	}
	c.noteFailure(ge, h, it.p.charges, marks, it.p.cost.write, it.attempts)
	return b.retryItem(ctx, it, ge)
}

// refusedTails works out, for each bucket the envelope charged, where its refused (429)
// items start in the bucket's stream of sends.
func refusedTails(o envelopeOutcome) map[*bucket]sendMark {
	refused := map[*bucket]int{}
	for _, it := range o.items {
		if r, ok := o.inner[strconv.Itoa(it.index)]; ok && r.Status == http.StatusTooManyRequests {
			for _, ch := range it.p.charges {
				refused[ch.b] += ch.n
			}
		}
	}
	tails := make(map[*bucket]sendMark, len(o.charges))
	for i, ch := range o.charges {
		m := sendMark{pos: -1}
		if i < len(o.resp.marks) {
			m = o.resp.marks[i]
			m.pos += int64(ch.n - refused[ch.b])
		}
		tails[ch.b] = m
	}
	return tails
}

// retryItem decides whether an item is retried; if not, it finishes the item with ge.
func (b *batchRun) retryItem(ctx context.Context, it *batchItem, ge *Error) bool {
	c := b.c
	if ge.Ambiguous {
		it.mayHaveActed = true
	}
	var wait time.Duration
	retry := false
	switch {
	case ge.Status == http.StatusFailedDependency:
		// The prerequisite failed. Retry alongside it if it is being retried; otherwise the
		// failure is final.
		retry = b.prerequisiteRetrying(it)
		ge.Transient = retry
	default:
		wait, retry = c.retryWait(it.p, ge, it.attempts)
		if ge.Status == http.StatusTooManyRequests && ge.RetryAfter > 0 {
			wait = ge.RetryAfter
		}
	}
	budget := c.retry.Budget
	if it.p.req.Budget > 0 {
		budget = scaleDuration(it.p.req.Budget, c.scale)
	}
	now := c.clock.Now()
	if !retry || now.Add(wait).Sub(it.first) > budget ||
		(c.retry.MaxAttempts > 0 && it.attempts >= c.retry.MaxAttempts) {
		if it.mayHaveActed {
			ge.Ambiguous = true
		}
		b.finish(it, nil, ge)
		return false
	}
	if ctx.Err() != nil {
		b.finish(it, nil, canceledItem(it, ctx.Err()))
		return false
	}
	c.stats.retries.Add(1)
	it.retryAt = now.Add(wait)
	return true
}

// prerequisiteRetrying reports whether any unfinished prerequisite of it is still pending.
func (b *batchRun) prerequisiteRetrying(it *batchItem) bool {
	for _, d := range it.deps {
		if !b.items[d].done {
			return true
		}
	}
	return false
}

// settleEnvelopeError handles an envelope that failed as a whole: a permanent error fails
// every item; a transient one that survived the envelope's own retries is retried per item
// when the item may be resent, and fails the others as ambiguous.
func (b *batchRun) settleEnvelopeError(ctx context.Context, o envelopeOutcome) {
	var ge *Error
	if !errors.As(o.err, &ge) || ctx.Err() != nil {
		ambiguous := IsAmbiguous(o.err)
		for _, it := range o.items {
			it.mayHaveActed = it.mayHaveActed || ambiguous
			err := o.err
			if ctx.Err() != nil {
				err = canceledItem(it, ctx.Err())
			}
			b.finish(it, nil, err)
		}
		return
	}
	var retry []*batchItem
	for _, it := range o.items {
		ie := *ge
		ie.Method, ie.Path = it.p.req.Method, it.p.logPath
		if b.retryItem(ctx, it, &ie) {
			retry = append(retry, it)
		}
	}
	b.requeue(retry)
}

// requeue puts retried items back, grouped again by their remaining dependencies; a group
// waits for the latest Retry-After among its items. Dependencies on items that succeeded are
// dropped. Retried groups go ahead of the items never sent: they are older, and behind a long
// queue they would run out of their retry budget before their turn came.
func (b *batchRun) requeue(items []*batchItem) {
	if len(items) == 0 {
		return
	}
	for _, it := range items {
		kept := it.deps[:0]
		for _, d := range it.deps {
			if !b.items[d].ok {
				kept = append(kept, d)
			}
		}
		it.deps = kept
	}
	retried := b.groups(items)
	for _, g := range retried {
		for _, it := range g.items {
			if it.retryAt.After(g.notBefore) {
				g.notBefore = it.retryAt
			}
		}
	}
	b.pending = append(retried, b.pending...)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
