package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is one page of a collection.
type Page[T any] struct {
	// Items are the page's entities, possibly none: Graph may send an empty page that still
	// has a next link.
	Items []T
	// NextLink is @odata.nextLink: the URL of the next page, to be followed verbatim. Store
	// it to resume a listing later.
	NextLink string
	// DeltaLink is @odata.deltaLink, on the last page of a delta query: calling it later
	// returns the changes since this listing.
	DeltaLink string
	// Count is @odata.count (first page only, when $count=true), or -1.
	Count int64
	// Response is the page's HTTP response (ids, Date).
	Response *Response
}

// Pager walks a collection one page at a time, holding only the current page. Use it
// directly to store next links as it goes; most callers want Pages or Items.
type Pager[T any] struct {
	c      *Client
	req    Request
	next   string
	delta  string
	header http.Header
	done   bool
}

// NewPager starts a listing with req, a GET with every query option it needs (options go
// in the first request only; Graph encodes them into its next links).
func NewPager[T any](c *Client, req Request) *Pager[T] {
	req.Method = http.MethodGet
	return &Pager[T]{c: c, req: req, header: req.Header}
}

// ResumePager continues a listing from a stored next link or delta link. header is re-sent
// with every page (ConsistencyLevel is not carried by the link).
func ResumePager[T any](c *Client, link string, header http.Header) *Pager[T] {
	return &Pager[T]{c: c, req: Request{Method: http.MethodGet, Path: link, Header: header},
		header: header}
}

// More reports whether another page remains.
func (p *Pager[T]) More() bool { return !p.done }

// DeltaLink is the delta link of the last page, once a delta query has been read to its end.
func (p *Pager[T]) DeltaLink() string { return p.delta }

// Next fetches the next page. After the last page More reports false.
func (p *Pager[T]) Next(ctx context.Context) (*Page[T], error) {
	if p.done {
		return nil, errors.New("list: no more pages")
	}
	req := p.req
	if p.next != "" {
		req = Request{Method: http.MethodGet, Path: p.next, Header: p.header, Budget: p.req.Budget,
			Priority: p.req.Priority}
	}
	resp, err := p.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	page, err := decodePage[T](resp)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", pathOf(req.Path), err)
	}
	p.next = page.NextLink
	if page.DeltaLink != "" {
		p.delta = page.DeltaLink
	}
	p.done = page.NextLink == ""
	return page, nil
}

// pageBody is a collection response. Items stay raw and are decoded one by one, so that a
// failure names the item that caused it.
type pageBody struct {
	Value     []json.RawMessage `json:"value"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
	Count     *json.Number      `json:"@odata.count"`
}

func decodePage[T any](resp *Response) (*Page[T], error) {
	var body pageBody
	if err := resp.Decode(&body); err != nil {
		return nil, err
	}
	page := &Page[T]{NextLink: body.NextLink, DeltaLink: body.DeltaLink, Count: -1,
		Response: resp, Items: make([]T, 0, len(body.Value))}
	if body.Count != nil {
		if n, err := body.Count.Int64(); err == nil {
			page.Count = n
		}
	}
	for i, raw := range body.Value {
		var item T
		if err := json.Unmarshal(raw, &item); err != nil {
			return nil, fmt.Errorf("decode item %d: %w", i, err)
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

// Pages streams the pages of a listing started by req, following @odata.nextLink verbatim
// and re-sending req.Header (ConsistencyLevel) on every page. It stops after the first
// error, which it yields. Nothing is accumulated: each page is dropped once yielded.
func Pages[T any](ctx context.Context, c *Client, req Request) iter.Seq2[*Page[T], error] {
	return NewPager[T](c, req).All(ctx)
}

// All streams the remaining pages of the pager.
func (p *Pager[T]) All(ctx context.Context) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		for p.More() {
			page, err := p.Next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) {
				return
			}
		}
	}
}

// Items streams the items of every page of a listing started by req.
func Items[T any](ctx context.Context, c *Client, req Request) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range Pages[T](ctx, c, req) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// ListOptions are the query options of a listing. Select is required by the typed calls:
// selecting lowers the cost and the payload.
type ListOptions struct {
	// Select lists the properties to return; the typed calls default it.
	Select []string
	// Filter is an OData $filter.
	Filter string
	// Top is the page size; 0 asks for the endpoint's maximum (999 for directory objects).
	Top int
	// Count adds $count=true; with Advanced it makes an advanced query.
	Count bool
	// Advanced sends ConsistencyLevel: eventual on every page. Advanced queries read a
	// separate index that lags writes: never use them to verify a write.
	Advanced bool
	// Search is an OData $search (advanced queries only).
	Search string
	// OrderBy is an OData $orderby.
	OrderBy string
}

// request builds the listing request for path with these options; top is the page size
// used when Top is 0 (0 sends no $top, for endpoints that do not take one).
func (o ListOptions) request(path string, defaultSelect []string, top int) Request {
	q := url.Values{}
	sel := o.Select
	if len(sel) == 0 {
		sel = defaultSelect
	}
	if len(sel) > 0 {
		q.Set("$select", strings.Join(sel, ","))
	}
	if o.Top > 0 {
		top = o.Top
	}
	if top > 0 {
		q.Set("$top", strconv.Itoa(top))
	}
	if o.Filter != "" {
		q.Set("$filter", o.Filter)
	}
	if o.Count {
		q.Set("$count", "true")
	}
	if o.Search != "" {
		q.Set("$search", o.Search)
	}
	if o.OrderBy != "" {
		q.Set("$orderby", o.OrderBy)
	}
	req := Request{Method: http.MethodGet, Path: path, Query: q}
	if o.Advanced || o.Search != "" {
		req.Header = http.Header{"ConsistencyLevel": {"eventual"}}
	}
	return req
}

// pathOf strips the query and host from a path or link, for error messages.
func pathOf(p string) string {
	if u, err := url.Parse(p); err == nil {
		return u.Path
	}
	return p
}
