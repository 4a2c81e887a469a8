package inventory

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/store"
)

// deltaPageSize is the page size asked of users/delta through Prefer: odata.maxpagesize
// (delta takes no $top). Graph may send fewer.
const deltaPageSize = 999

// users syncs the tenant's users: through the stored delta link when there is one, else
// (or when the link has expired) by a full listing.
func (j *job) users(ctx context.Context) error {
	start, err := j.s.w.BeginSync(ctx, j.t.Role, store.Users)
	if err != nil {
		return err
	}
	if start.DeltaLink == "" || j.opts.Full {
		return j.usersFull(ctx, start.Generation)
	}
	err = j.usersDelta(ctx, start)
	if !deltaExpired(err) {
		return err
	}
	// The link is dead. Changes already applied from it are current states, so they stay;
	// the full listing takes a new generation so that a user the dead round wrote and the
	// listing no longer finds is still marked deleted.
	j.r.Resynced = true
	if start, err = j.s.w.BeginSync(ctx, j.t.Role, store.Users); err != nil {
		return err
	}
	return j.usersFull(ctx, start.Generation)
}

// usersFull lists every user with $top=999 (1 RU a page), which is cheaper than paging a
// first delta round, and takes the delta link for the next sync beforehand with
// $deltatoken=latest: a change made while the listing runs is then replayed by the next
// sync rather than missed.
func (j *job) usersFull(ctx context.Context, gen int64) error {
	j.r.Mode = Full
	link, err := j.latestDeltaLink(ctx)
	if err != nil {
		return err
	}
	rows := make([]store.User, 0, 999)
	_, err = walk(ctx, []Doer{j.t.Graph}, listRequest("/users", userSelect, 999),
		func(items []userItem) error {
			rows = rows[:0]
			for _, u := range items {
				rows = append(rows, u.row())
			}
			if err := j.s.w.PutUsers(ctx, j.t.Role, gen, rows); err != nil {
				return err
			}
			j.advanced(len(items))
			return nil
		})
	if err != nil {
		return err
	}
	return j.finish(ctx, gen, true, link)
}

// latestDeltaLink asks users/delta for a link to the changes from now on, without listing.
func (j *job) latestDeltaLink(ctx context.Context) (string, error) {
	req := graph.Request{Method: http.MethodGet, Path: "/users/delta",
		Query: url.Values{"$select": {strings.Join(userSelect, ",")}, "$deltatoken": {"latest"}}}
	link, err := walk(ctx, []Doer{j.t.Graph}, req, func([]userItem) error { return nil })
	if err != nil {
		return "", err
	}
	if link == "" {
		return "", errNoDeltaLink
	}
	return link, nil
}

// usersDelta applies the changes since the stored delta link. Graph returns each changed
// user with every selected property (unchanged ones with their current value, never-set
// ones absent, which is null), so a changed user's row is replaced whole; removed users
// are marked deleted.
func (j *job) usersDelta(ctx context.Context, start store.SyncStart) error {
	j.r.Mode = Delta
	req := graph.Request{Method: http.MethodGet, Path: start.DeltaLink,
		Header: http.Header{"Prefer": {"odata.maxpagesize=" + itoa(deltaPageSize)}}}
	rows := make([]store.User, 0, 100)
	var removed []string
	link, err := walk(ctx, []Doer{j.t.Graph}, req, func(items []userItem) error {
		rows, removed = rows[:0], removed[:0]
		for _, u := range items {
			if u.Removed != nil {
				removed = append(removed, u.ID)
				continue
			}
			rows = append(rows, u.row())
		}
		if err := j.s.w.PutUsers(ctx, j.t.Role, start.Generation, rows); err != nil {
			return err
		}
		if err := j.s.w.MarkDeleted(ctx, j.t.Role, store.Users, start.Generation,
			removed); err != nil {
			return err
		}
		j.r.Deleted += len(removed)
		j.advanced(len(items))
		return nil
	})
	if err != nil {
		return err
	}
	if link == "" {
		return errNoDeltaLink
	}
	return j.finish(ctx, start.Generation, false, link)
}
