package cli

import (
	"context"

	"github.com/cutoverhq/cutover/internal/store"
)

// OpenStore opens (creating it on first use) the project's store, cutover.db, and brings
// its schema up to date. The caller closes it.
func (p *Project) OpenStore(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, p.StorePath)
}
