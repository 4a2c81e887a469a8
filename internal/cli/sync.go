package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/inventory"
	"github.com/cutoverhq/cutover/internal/store"
)

type syncOptions struct {
	output    string
	tenants   []string
	resources []store.Resource
	full      bool
	project   func() (*Project, error)
	now       func() time.Time
}

func newSyncCmd(s Streams) *cobra.Command {
	opts := syncOptions{}
	var tenant string
	var resources []string
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Read users, devices, MFA registrations and domains of both tenants into the store",
		Long: `Read from both tenants, through Microsoft Graph, everything later steps plan from: users,
Intune managed devices, Entra device objects, the authentication methods registration report
(MFA) and domains. Every listing streams page by page into the project's store (cutover.db)
and all of them run at once, within Graph's throttling budget.

The first sync lists users in full; later syncs ask Graph only for the users changed since
(delta query), and fall back to a full listing when Graph has expired the delta link. The
other resources are listed again, and rows Graph no longer returns are marked deleted.

Progress goes to standard error (a live display on a terminal, plain lines otherwise); the
summary, one row per tenant and resource, goes to standard output. Interrupting keeps every
page already stored; the next sync starts those listings again. See docs/sync.md.`,
		Example: `  cutover sync
  cutover sync --resources users,domains --tenant target
  cutover sync --full --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(opts.output); err != nil {
				return err
			}
			var err error
			if opts.tenants, err = parseTenantFlag(tenant); err != nil {
				return err
			}
			if opts.resources, err = parseResources(resources); err != nil {
				return err
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return syncRun(cmd.Context(), s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "both", "tenant to sync: source, target or both")
	f.StringSliceVar(&resources, "resources", nil, "resources to sync (default all): "+
		strings.Join(resourceNames(), ", "))
	f.BoolVar(&opts.full, "full", false, "list users in full even when a delta link is stored")
	addOutputFlag(cmd, &opts.output)
	return cmd
}

// parseTenantFlag turns --tenant into the tenant roles to sync.
func parseTenantFlag(v string) ([]string, error) {
	switch v {
	case "both":
		return []string{store.Source, store.Target}, nil
	case store.Source, store.Target:
		return []string{v}, nil
	}
	return nil, usageError{fmt.Errorf("--tenant must be source, target or both, not %q", v)}
}

// parseResources turns --resources into store resources; hyphens and underscores are
// interchangeable ("managed-devices" or "managed_devices").
func parseResources(names []string) ([]store.Resource, error) {
	var out []store.Resource
	for _, n := range names {
		r := store.Resource(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(n)), "-", "_"))
		if !slices.Contains(store.Resources, r) {
			return nil, usageError{fmt.Errorf("--resources: unknown resource %q; want %s", n,
				strings.Join(resourceNames(), ", "))}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func resourceNames() []string {
	names := make([]string, len(store.Resources))
	for i, r := range store.Resources {
		names[i] = resourceName(r)
	}
	return names
}

func syncRun(ctx context.Context, s Streams, opts syncOptions) error {
	now := opts.now
	if now == nil {
		now = time.Now
	}
	p, err := opts.project()
	if err != nil {
		return err
	}
	tenants, err := syncTenants(p, opts.tenants)
	if err != nil {
		return err
	}
	st, err := p.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	// Sync, drawing progress on standard error.
	resources := opts.resources
	if len(resources) == 0 {
		resources = store.Resources
	}
	progress := newSyncProgress(s, opts.tenants, resources)
	fmt.Fprintf(s.Err, "syncing %s into %s\n", describeTenants(p, opts.tenants), p.StorePath)
	start := now()
	results, syncErr := inventory.New(st).Sync(ctx, tenants, inventory.Options{
		Resources: opts.resources, Full: opts.full, Progress: progress})
	progress.Wait()
	elapsed := now().Sub(start)

	// Summarise on standard output, even after a failure: it says what was stored.
	if err := syncSummary(results).write(s.Out, opts.output,
		syncReport(results, elapsed)); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	for _, r := range results {
		if r.Err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.Err, "%s %s: %v\n", r.Tenant, resourceName(r.Resource), r.Err)
		}
	}
	if syncErr != nil {
		return syncErr
	}
	fmt.Fprintf(s.Err, "synced %d rows in %s\n", totalRows(results), elapsed.Round(100*time.Millisecond))
	return nil
}

// syncTenants builds the tenants to read: every listing through the first app registration,
// the registration report through all of them in turn (each has its own report budget).
func syncTenants(p *Project, roles []string) ([]inventory.Tenant, error) {
	var out []inventory.Tenant
	for _, role := range roles {
		clients, err := p.GraphClients(role)
		if err != nil {
			return nil, err
		}
		t := inventory.Tenant{Role: role, Graph: clients[0]}
		for _, c := range clients {
			t.Reports = append(t.Reports, c)
		}
		out = append(out, t)
	}
	return out, nil
}

func describeTenants(p *Project, roles []string) string {
	parts := make([]string, len(roles))
	for i, role := range roles {
		parts[i] = fmt.Sprintf("%s (%s)", p.Config.Tenant(role).Tenant, role)
	}
	return strings.Join(parts, " and ")
}

// resourceName is how commands spell a resource: "managed-devices".
func resourceName(r store.Resource) string { return strings.ReplaceAll(string(r), "_", "-") }

func totalRows(results []inventory.Result) int {
	n := 0
	for _, r := range results {
		n += r.Count
	}
	return n
}

// syncSummary is the summary table: one row per tenant and resource.
func syncSummary(results []inventory.Result) resultTable {
	t := resultTable{Headers: []string{"tenant", "resource", "mode", "rows", "read", "deleted",
		"pages", "seconds", "status"}}
	for _, r := range results {
		t.Rows = append(t.Rows, []string{r.Tenant, resourceName(r.Resource),
			string(r.Mode), fmt.Sprint(r.Count), fmt.Sprint(r.Items), fmt.Sprint(r.Deleted),
			fmt.Sprint(r.Pages), fmt.Sprintf("%.1f", r.Duration.Seconds()), resultStatus(r)})
	}
	return t
}

func resultStatus(r inventory.Result) string {
	switch {
	case r.Err != nil:
		return "failed"
	case r.Resynced:
		return "ok (delta link expired: full resync)"
	}
	return "ok"
}

// syncJSON is the JSON form of the summary.
type syncJSON struct {
	Seconds float64          `json:"seconds"`
	Rows    int              `json:"rows"`
	Results []syncResultJSON `json:"results"`
}

type syncResultJSON struct {
	Tenant   string  `json:"tenant"`
	Resource string  `json:"resource"`
	Mode     string  `json:"mode"`
	Rows     int     `json:"rows"`
	Read     int     `json:"read"`
	Deleted  int     `json:"deleted"`
	Pages    int     `json:"pages"`
	Seconds  float64 `json:"seconds"`
	Resynced bool    `json:"resynced,omitempty"`
	Error    string  `json:"error,omitempty"`
}

func syncReport(results []inventory.Result, elapsed time.Duration) syncJSON {
	rep := syncJSON{Seconds: elapsed.Seconds(), Rows: totalRows(results),
		Results: []syncResultJSON{}}
	for _, r := range results {
		j := syncResultJSON{Tenant: r.Tenant, Resource: resourceName(r.Resource),
			Mode: string(r.Mode), Rows: r.Count, Read: r.Items, Deleted: r.Deleted, Pages: r.Pages,
			Seconds: r.Duration.Seconds(), Resynced: r.Resynced}
		if r.Err != nil {
			j.Error = r.Err.Error()
		}
		rep.Results = append(rep.Results, j)
	}
	return rep
}
