package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/cutoverhq/cutover/internal/store"
)

// Exclusions is the set of accounts the configuration excludes, by sign-in name or object id
// in either tenant, compared without regard to case.
type Exclusions map[string]bool

// NewExclusions builds the set from configuration entries.
func NewExclusions(entries []string) Exclusions {
	ex := make(Exclusions, len(entries))
	for _, e := range entries {
		if e = strings.TrimSpace(e); e != "" {
			ex[strings.ToLower(e)] = true
		}
	}
	return ex
}

// Has reports whether any of names (sign-in names or ids) is excluded.
func (ex Exclusions) Has(names ...string) bool {
	for _, n := range names {
		if n != "" && ex[strings.ToLower(n)] {
			return true
		}
	}
	return false
}

// excludesUser reports whether the user is excluded by its id or sign-in name.
func (ex Exclusions) excludesUser(u store.InventoryUser) bool {
	return ex.Has(u.ID, u.UPN)
}

// ExclusionStore is what RefreshExclusions needs.
type ExclusionStore interface {
	FindPeople(ctx context.Context, key string) ([]store.PersonView, error)
	SetExcluded(ctx context.Context, ids []int64) error
}

// RefreshExclusions marks exactly the people whose source or target account the
// configuration excludes, so that an exclusion added after the import still protects the
// account. It returns how many people are excluded.
func RefreshExclusions(ctx context.Context, st ExclusionStore, ex Exclusions) (int, error) {
	var ids []int64
	seen := map[int64]bool{}
	for entry := range ex {
		ps, err := st.FindPeople(ctx, entry)
		if err != nil {
			return 0, fmt.Errorf("refresh exclusions: %w", err)
		}
		for _, p := range ps {
			if !seen[p.ID] && personExcluded(p, ex) {
				seen[p.ID] = true
				ids = append(ids, p.ID)
			}
		}
	}
	if err := st.SetExcluded(ctx, ids); err != nil {
		return 0, fmt.Errorf("refresh exclusions: %w", err)
	}
	return len(ids), nil
}

// personExcluded checks the person's accounts themselves: FindPeople also matches mail and
// final names, which an exclusion entry does not name.
func personExcluded(p store.PersonView, ex Exclusions) bool {
	return ex.Has(p.SourceUserID, p.TargetUserID, p.Source.UPN, p.Target.UPN, p.StagingUPN)
}
