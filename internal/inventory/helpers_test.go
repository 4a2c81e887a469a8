package inventory

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/graphsim"
	"github.com/cutoverhq/cutover/internal/store"
)

// env is a running simulator, a client per tenant and app, and a store.
type env struct {
	sim     *graphsim.Server
	desc    *graphsim.Description
	st      *store.Store
	clients map[string]map[string]*graph.Client // role → app name → client
	scale   float64
}

func newEnv(t *testing.T, opts graphsim.Options) *env {
	t.Helper()
	if opts.TimeScale == 0 {
		// Time scaling shortens the report budget's waits (5 requests per 10 s) in step
		// with the simulator, so tests with several report pages stay fast.
		opts.TimeScale = 50
	}
	sim, err := graphsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := sim.WriteCA(caFile); err != nil {
		t.Fatal(err)
	}
	desc, err := sim.Describe(dir, caFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(dir, "cutover.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{sim: sim, desc: desc, st: st, clients: map[string]map[string]*graph.Client{},
		scale: opts.TimeScale}
	for _, tn := range desc.Tenants {
		e.clients[tn.Role] = map[string]*graph.Client{}
		for _, app := range tn.Apps {
			secret := app.ClientSecret
			c, err := graph.New(graph.Config{Cloud: "custom", AuthorityHost: desc.AuthorityURL,
				GraphURL: desc.BaseURL, TenantID: tn.ID, ClientID: app.ClientID,
				Credential: graph.CredentialConfig{Kind: "secret", SecretEnv: "SECRET"},
				Getenv:     func(string) string { return secret }, CAFile: caFile,
				TimeScale: opts.TimeScale})
			if err != nil {
				t.Fatal(err)
			}
			e.clients[tn.Role][app.Name] = c
		}
	}
	return e
}

// tenants returns both tenants read through the "cutover" app.
func (e *env) tenants() []Tenant {
	return []Tenant{
		{Role: store.Source, Graph: e.clients[store.Source]["cutover"]},
		{Role: store.Target, Graph: e.clients[store.Target]["cutover"]},
	}
}

func (e *env) counts(t *testing.T) map[string]graphsim.Counts {
	t.Helper()
	out := map[string]graphsim.Counts{}
	for _, ts := range e.sim.Tenants() {
		out[ts.Role] = ts.Counts
	}
	return out
}

// sync runs a sync and fails the test on error.
func (e *env) sync(t *testing.T, tenants []Tenant, opts Options) map[string]Result {
	t.Helper()
	results, err := New(e.st).Sync(t.Context(), tenants, opts)
	if err != nil {
		for _, r := range results {
			if r.Err != nil {
				t.Error(r.Err)
			}
		}
		t.Fatal(err)
	}
	return byKey(results)
}

func byKey(results []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range results {
		m[r.Tenant+"/"+string(r.Resource)] = r
	}
	return m
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// do sends one request through the tenant's cutover app and fails the test on error.
func (e *env) do(t *testing.T, role, method, path string, body any) {
	t.Helper()
	_, err := e.clients[role]["cutover"].Do(t.Context(),
		graph.Request{Method: method, Path: path, Body: body})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// countingDoer counts the requests it passes on.
type countingDoer struct {
	Doer
	calls atomic.Int64
}

func (d *countingDoer) Do(ctx context.Context, req graph.Request) (*graph.Response, error) {
	d.calls.Add(1)
	return d.Doer.Do(ctx, req)
}

// hookWriter is the store with a hook after each successful PutUsers.
type hookWriter struct {
	*store.Store
	afterPutUsers func(role string)
}

func (w *hookWriter) PutUsers(ctx context.Context, role string, gen int64,
	rows []store.User) error {
	if err := w.Store.PutUsers(ctx, role, gen, rows); err != nil {
		return err
	}
	w.afterPutUsers(role)
	return nil
}
