package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cutoverhq/cutover/internal/graph"
)

var errNoDeltaLink = errors.New("users/delta ended without a delta link")

// page is one page of a Graph collection.
type page[T any] struct {
	Value     []T    `json:"value"`
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
}

// fetched is a page read ahead, or the error that ended the reading.
type fetched[T any] struct {
	n   int
	p   page[T]
	err error
}

// walk sends req and follows @odata.nextLink verbatim until the last page, handing each
// page's items to fn in order. The next page is read while fn stores the current one, so
// at most two pages are held at a time. Pages are read by doers in turn (one doer reads
// them all when there is one). req's headers are sent with every page, as Graph does not
// carry them in its links. walk returns the last page's @odata.deltaLink, if any.
func walk[T any](ctx context.Context, doers []Doer, req graph.Request,
	fn func(items []T) error) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan fetched[T], 1)
	go readPages(ctx, doers, req, pages)

	for f := range pages {
		if f.err != nil {
			return "", fmt.Errorf("read page %d: %w", f.n, f.err)
		}
		if err := fn(f.p.Value); err != nil {
			return "", fmt.Errorf("store page %d: %w", f.n, err)
		}
		if f.p.NextLink == "" {
			return f.p.DeltaLink, nil
		}
	}
	// readPages closes the channel only after the last page or an error, both returned
	// above, or when ctx ends.
	return "", ctx.Err()
}

// readPages reads pages into out until the last page, an error, or the end of ctx, then
// closes out.
func readPages[T any](ctx context.Context, doers []Doer, req graph.Request,
	out chan<- fetched[T]) {
	defer close(out)
	for n := 1; ; n++ {
		f := fetched[T]{n: n}
		resp, err := doers[(n-1)%len(doers)].Do(ctx, req)
		if err == nil {
			err = resp.Decode(&f.p)
		}
		f.err = err
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if err != nil || f.p.NextLink == "" {
			return
		}
		req = graph.Request{Method: http.MethodGet, Path: f.p.NextLink, Header: req.Header}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
