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

// walk sends req and follows @odata.nextLink verbatim until the last page, handing each
// page's items to fn before the next page is asked for: only one page is held at a time.
// Pages are read by doers in turn (one doer reads them all when there is one). req's
// headers are sent with every page, as Graph does not carry them in its links. walk
// returns the last page's @odata.deltaLink, if any.
func walk[T any](ctx context.Context, doers []Doer, req graph.Request,
	fn func(items []T) error) (string, error) {
	for n := 0; ; n++ {
		resp, err := doers[n%len(doers)].Do(ctx, req)
		if err != nil {
			return "", fmt.Errorf("read page %d: %w", n+1, err)
		}
		var p page[T]
		if err := resp.Decode(&p); err != nil {
			return "", fmt.Errorf("read page %d: %w", n+1, err)
		}
		if err := fn(p.Value); err != nil {
			return "", fmt.Errorf("store page %d: %w", n+1, err)
		}
		if p.NextLink == "" {
			return p.DeltaLink, nil
		}
		req = graph.Request{Method: http.MethodGet, Path: p.NextLink, Header: req.Header}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
