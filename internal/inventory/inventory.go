// Package inventory reads what cutover needs to know about both tenants from Microsoft
// Graph into the store: users, Intune managed devices, Entra device objects, the
// authentication methods registration report and domains (`cutover sync`).
//
// Every listing streams page by page: each page is written in one transaction as soon as
// it arrives and then dropped, so memory does not grow with the tenant. The ten listings
// (five resources, two tenants) run at the same time, each paced by the Graph client's
// buckets; the registration report has by far the smallest budget (5 requests per 10 s
// per app registration), so it runs beside the others rather than after them, and its
// pages rotate over every app registration the tenant has.
//
// Users are read through delta: the first sync lists them in full and keeps a delta link,
// later syncs ask only for the changes since. The other resources have no delta query
// (managed devices, the report, domains) or none that GRAPH.md covers (devices), so they
// are listed again and rows the listing no longer returns are marked deleted.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/store"
)

// Doer sends one Graph request. *graph.Client satisfies it.
type Doer interface {
	Do(ctx context.Context, req graph.Request) (*graph.Response, error)
}

// Writer is the part of the store a sync writes to. *store.Store satisfies it.
type Writer interface {
	BeginSync(ctx context.Context, role string, res store.Resource) (store.SyncStart, error)
	PutUsers(ctx context.Context, role string, gen int64, rows []store.User) error
	PutManagedDevices(ctx context.Context, role string, gen int64, rows []store.ManagedDevice) error
	PutEntraDevices(ctx context.Context, role string, gen int64, rows []store.EntraDevice) error
	PutRegistrations(ctx context.Context, role string, gen int64, rows []store.Registration) error
	PutDomains(ctx context.Context, role string, gen int64, rows []store.Domain) error
	MarkDeleted(ctx context.Context, role string, res store.Resource, gen int64, ids []string) error
	FinishSync(ctx context.Context, role string, res store.Resource, gen int64, full bool,
		deltaLink string) (store.SyncResult, error)
}

var _ Writer = (*store.Store)(nil)
var _ Doer = (*graph.Client)(nil)

// Progress receives the progress of a sync. Calls come from several goroutines at once.
type Progress interface {
	// Started is called when a listing begins.
	Started(role string, res store.Resource)
	// Advanced is called after each page is stored, with the number of items it held.
	Advanced(role string, res store.Resource, items int)
	// Finished is called once per listing, with its result.
	Finished(r Result)
}

// Tenant is one tenant to sync.
type Tenant struct {
	// Role is store.Source or store.Target.
	Role string
	// Graph reads every listing.
	Graph Doer
	// Reports read the registration report, one page each in turn, so that every app
	// registration's report budget is used. Empty means Graph alone.
	Reports []Doer
}

// Options adjust a sync.
type Options struct {
	// Resources limits the sync to these resources; empty means all.
	Resources []store.Resource
	// Full ignores stored delta links and lists users in full.
	Full bool
	// Progress receives progress; nil discards it.
	Progress Progress
}

// Mode says how a listing was read.
type Mode string

// Listing modes.
const (
	Full  Mode = "full"  // every item listed; rows not listed are marked deleted
	Delta Mode = "delta" // only changes since the stored delta link
)

// Result is the outcome of one listing of one tenant.
type Result struct {
	Tenant   string
	Resource store.Resource
	Mode     Mode
	// Items is the number of items Graph returned (for delta: changes, removals included).
	Items int
	// Pages is the number of pages read.
	Pages int
	// Count is the number of live rows of the resource after the sync.
	Count int
	// Deleted is the number of rows marked deleted by this sync.
	Deleted int
	// Resynced is set when a stored delta link had expired and users were listed in full.
	Resynced bool
	Duration time.Duration
	// Err is why the listing did not complete; its rows from completed pages are kept, and
	// the resource's sync state is the previous sync's.
	Err error
}

// Service syncs tenants into a store. It is safe for concurrent use.
type Service struct {
	w   Writer
	now func() time.Time
}

// New returns a Service writing to w.
func New(w Writer) *Service {
	return &Service{w: w, now: time.Now}
}

// Sync reads every selected resource of every tenant into the store, all listings at once,
// and returns one result per tenant and resource in a stable order (tenants as given, then
// resources as in opts.Resources, or store.Resources). A listing that fails does not stop the others. The
// error is ctx's error when the sync was interrupted, or says how many listings failed.
func (s *Service) Sync(ctx context.Context, tenants []Tenant, opts Options) ([]Result, error) {
	if opts.Progress == nil {
		opts.Progress = nopProgress{}
	}
	resources := opts.Resources
	if len(resources) == 0 {
		resources = store.Resources
	}

	// Run every listing at once; each writes its own result slot.
	results := make([]Result, len(tenants)*len(resources))
	var wg sync.WaitGroup
	for ti, t := range tenants {
		for ri, res := range resources {
			j := &job{s: s, t: t, res: res, opts: opts}
			wg.Go(func() { results[ti*len(resources)+ri] = j.run(ctx) })
		}
	}
	wg.Wait()

	// Report interruption first: then every failure is a consequence of it.
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("sync interrupted: %w", err)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if failed > 0 {
		return results, fmt.Errorf("%d of %d listings failed", failed, len(results))
	}
	return results, nil
}

// job is one listing: one resource of one tenant.
type job struct {
	s    *Service
	t    Tenant
	res  store.Resource
	opts Options
	r    Result
}

func (j *job) run(ctx context.Context) Result {
	start := j.s.now()
	j.r = Result{Tenant: j.t.Role, Resource: j.res, Mode: Full}
	j.opts.Progress.Started(j.t.Role, j.res)
	if err := j.sync(ctx); err != nil {
		j.r.Err = fmt.Errorf("sync %s %s: %w", j.t.Role, j.res, err)
	}
	j.r.Duration = j.s.now().Sub(start)
	j.opts.Progress.Finished(j.r)
	return j.r
}

func (j *job) sync(ctx context.Context) error {
	w, role := j.s.w, j.t.Role
	switch j.res {
	case store.Users:
		return j.users(ctx)
	case store.ManagedDevices:
		return relist(ctx, j, []Doer{j.t.Graph},
			listRequest("/deviceManagement/managedDevices", managedDeviceSelect, 0),
			managedDeviceItem.row, w.PutManagedDevices)
	case store.EntraDevices:
		return relist(ctx, j, []Doer{j.t.Graph},
			listRequest("/devices", entraDeviceSelect, 999),
			entraDeviceItem.row, w.PutEntraDevices)
	case store.RegistrationDetails:
		doers := j.t.Reports
		if len(doers) == 0 {
			doers = []Doer{j.t.Graph}
		}
		return relist(ctx, j, doers,
			listRequest("/reports/authenticationMethods/userRegistrationDetails",
				registrationSelect, 999),
			registrationItem.row, w.PutRegistrations)
	case store.Domains:
		return relist(ctx, j, []Doer{j.t.Graph}, listRequest("/domains", domainSelect, 0),
			domainItem.row, w.PutDomains)
	}
	return fmt.Errorf("unknown resource %q of %s", j.res, role)
}

// relist lists a resource in full, storing each page as it arrives, then marks rows the
// listing did not return as deleted.
func relist[T, R any](ctx context.Context, j *job, doers []Doer, req graph.Request,
	row func(T) R, put func(context.Context, string, int64, []R) error) error {
	start, err := j.s.w.BeginSync(ctx, j.t.Role, j.res)
	if err != nil {
		return err
	}
	rows := make([]R, 0, 1000)
	_, err = walk(ctx, doers, req, func(items []T) error {
		rows = rows[:0]
		for _, it := range items {
			rows = append(rows, row(it))
		}
		if err := put(ctx, j.t.Role, start.Generation, rows); err != nil {
			return err
		}
		j.advanced(len(items))
		return nil
	})
	if err != nil {
		return err
	}
	return j.finish(ctx, start.Generation, true, "")
}

// finish records a completed listing in the store and in the result.
func (j *job) finish(ctx context.Context, gen int64, full bool, deltaLink string) error {
	sr, err := j.s.w.FinishSync(ctx, j.t.Role, j.res, gen, full, deltaLink)
	if err != nil {
		return err
	}
	j.r.Count, j.r.Deleted = sr.Count, j.r.Deleted+sr.Deleted
	return nil
}

func (j *job) advanced(items int) {
	j.r.Items += items
	j.r.Pages++
	j.opts.Progress.Advanced(j.t.Role, j.res, items)
}

// deltaExpired reports whether err says a stored delta link can no longer be used, so the
// sync must start over (GRAPH.md 3.2).
func deltaExpired(err error) bool {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return false
	}
	return ge.Code == "syncStateNotFound" || ge.Code == "resyncRequired" ||
		ge.InnerCode == "syncStateNotFound" || ge.InnerCode == "resyncRequired"
}

type nopProgress struct{}

func (nopProgress) Started(string, store.Resource)       {}
func (nopProgress) Advanced(string, store.Resource, int) {}
func (nopProgress) Finished(Result)                      {}
