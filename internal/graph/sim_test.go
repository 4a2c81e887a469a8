package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// simEnv is a running simulator and what a client needs to reach it.
type simEnv struct {
	s      *graphsim.Server
	desc   *graphsim.Description
	caFile string
}

func startSim(t *testing.T, opts graphsim.Options) *simEnv {
	t.Helper()
	env, err := newSimEnv(opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.s.Close() })
	return env
}

func newSimEnv(opts graphsim.Options, dir string) (*simEnv, error) {
	s, err := graphsim.New(opts)
	if err != nil {
		return nil, fmt.Errorf("new simulator: %w", err)
	}
	if err := s.Start(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := s.WriteCA(caFile); err != nil {
		s.Close()
		return nil, err
	}
	d, err := s.Describe(dir, caFile)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &simEnv{s: s, desc: d, caFile: caFile}, nil
}

// shared is one simulator for the tests that neither move its clock nor depend on state
// other tests change: starting one costs about a second.
var shared struct {
	once sync.Once
	env  *simEnv
	dir  string
	err  error
}

func sharedSim(t *testing.T) *simEnv {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "graph-sim-")
		if shared.err == nil {
			shared.env, shared.err = newSimEnv(graphsim.Options{}, shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		shared.env.s.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// app returns a tenant (by role) and one of its app registrations.
func (e *simEnv) app(t *testing.T, role, name string) (graphsim.DescribedTenant, graphsim.DescribedApp) {
	t.Helper()
	for _, tn := range e.desc.Tenants {
		if tn.Role != role {
			continue
		}
		for _, a := range tn.Apps {
			if a.Name == name {
				return tn, a
			}
		}
	}
	t.Fatalf("no app %s in the %s tenant", name, role)
	return graphsim.DescribedTenant{}, graphsim.DescribedApp{}
}

// config returns a client configuration for an app of the simulator, authenticating with
// its secret (read from a fake environment) or its certificate.
func (e *simEnv) config(t *testing.T, role, name, kind string) Config {
	t.Helper()
	tn, a := e.app(t, role, name)
	cfg := Config{Cloud: CloudCustom, AuthorityHost: e.desc.AuthorityURL, GraphURL: e.desc.BaseURL,
		TenantID: tn.ID, ClientID: a.ClientID, CAFile: e.caFile,
		Credential: CredentialConfig{Kind: kind}}
	switch kind {
	case CredentialSecret:
		cfg.Credential.SecretEnv = "SIM_SECRET"
		cfg.Getenv = func(k string) string {
			if k == "SIM_SECRET" {
				return a.ClientSecret
			}
			return ""
		}
	case CredentialCertificate:
		cfg.Credential.CertificateFile = a.CertificateFile
	}
	return cfg
}

func (e *simEnv) client(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	// Idle connections left open hold the simulator's graceful shutdown for a second.
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestSimulatorListUsersWithEachCredential(t *testing.T) {
	env := sharedSim(t)
	for _, kind := range []string{CredentialSecret, CredentialCertificate} {
		t.Run(kind, func(t *testing.T) {
			tn, _ := env.app(t, "source", "cutover")
			c := env.client(t, env.config(t, "source", "cutover", kind))

			// Small pages force several next links.
			seen := map[string]bool{}
			pages := 0
			for page, err := range Pages[User](t.Context(), c, ListUsersRequest(ListOptions{Top: 6})) {
				if err != nil {
					t.Fatalf("list users: %v", err)
				}
				pages++
				for _, u := range page.Items {
					if u.ID == "" || u.UserPrincipalName == "" || u.AccountEnabled == nil {
						t.Errorf("user %+v lacks selected properties", u)
					}
					if seen[u.ID] {
						t.Errorf("user %s listed twice", u.ID)
					}
					seen[u.ID] = true
				}
			}
			if len(seen) != tn.Users {
				t.Errorf("listed %d users, want %d", len(seen), tn.Users)
			}
			if want := (tn.Users + 5) / 6; pages < want {
				t.Errorf("got %d pages, want at least %d", pages, want)
			}
		})
	}
}

func TestSimulatorRequestHeaders(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	c := env.client(t, env.config(t, "source", "cutover", CredentialSecret))
	before := len(env.s.Requests(0))

	for _, err := range c.ListUsers(t.Context(), ListOptions{Top: 10}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	log := env.s.Requests(0)[before:]
	if len(log) < 2 {
		t.Fatalf("simulator saw %d requests, want at least 2 pages", len(log))
	}
	ids := map[string]bool{}
	for _, e := range log {
		if e.Priority != "Low" {
			t.Errorf("request %s: x-ms-throttle-priority %q, want Low", e.Path, e.Priority)
		}
		if len(e.ClientRequestID) != 36 || ids[e.ClientRequestID] {
			t.Errorf("request %s: client-request-id %q is not a fresh GUID", e.Path, e.ClientRequestID)
		}
		ids[e.ClientRequestID] = true
	}
	if first := log[0].Query; !strings.Contains(first, "$select=") || !strings.Contains(first, "$top=10") {
		t.Errorf("first page query %q lacks $select or $top", first)
	}
}

func TestSimulatorRevokeAndVerify(t *testing.T) {
	env := sharedSim(t)
	c := env.client(t, env.config(t, "source", "cutover", CredentialSecret))
	ctx := t.Context()

	var target User
	for u, err := range c.ListUsers(ctx, ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		target = u
		break
	}
	resp, err := c.RevokeSignInSessions(ctx, target.ID)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if resp.Date.IsZero() || resp.RequestID == "" {
		t.Errorf("revoke response lacks Date or request-id: %+v", resp)
	}
	u, err := c.GetUser(ctx, target.ID, "id", "signInSessionsValidFromDateTime")
	if err != nil {
		t.Fatalf("get user: %v", err)
	}
	if u.SignInSessionsValidFromDateTime == nil ||
		u.SignInSessionsValidFromDateTime.Before(resp.Date.Add(-time.Second)) {
		t.Errorf("signInSessionsValidFromDateTime = %v, want at or after the revoke's Date %v",
			u.SignInSessionsValidFromDateTime, resp.Date)
	}

	// A user that does not exist is a permanent 404 unless the request asks otherwise.
	_, err = c.GetUser(ctx, "00000000-0000-0000-0000-000000000000")
	var ge *Error
	if !errors.As(err, &ge) || !IsNotFound(err) || !IsPermanent(err) || ge.RequestID == "" {
		t.Errorf("get missing user: err %v, want a permanent 404 with a request id", err)
	}
}

func TestSimulatorPermissionDenied(t *testing.T) {
	env := sharedSim(t)
	c := env.client(t, env.config(t, "source", "cutover-readonly", CredentialSecret))
	var id string
	for u, err := range c.ListUsers(t.Context(), ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		id = u.ID
		break
	}
	_, err := c.RevokeSignInSessions(t.Context(), id)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusForbidden ||
		ge.Code != "Authorization_RequestDenied" || ge.Transient || ge.Attempts != 1 {
		t.Fatalf("revoke without permission: %#v, want one permanent 403", err)
	}
}

func TestSimulatorWrongSecretIsPermanent(t *testing.T) {
	env := sharedSim(t)
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Getenv = func(string) string { return "not-the-secret" }
	c := env.client(t, cfg)
	_, err := c.GetUser(t.Context(), "anyone")
	if err == nil || !IsPermanent(err) {
		t.Fatalf("wrong secret: err %v, want a permanent error", err)
	}
}

// TestSimulatorRenewsExpiredToken moves the simulator's clock past the token's expiry: Graph
// answers 401 to the cached token, and the client renews it once and succeeds.
func TestSimulatorRenewsExpiredToken(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	c := env.client(t, env.config(t, "source", "cutover", CredentialCertificate))
	ctx := t.Context()
	if _, err := c.GetUser(ctx, "mary.major@contoso.com"); err != nil && !IsNotFound(err) {
		t.Fatal(err)
	}
	env.s.Clock().Advance(3 * time.Hour)

	before := len(env.s.Requests(0))
	var id string
	for u, err := range c.ListUsers(ctx, ListOptions{Top: 1}) {
		if err != nil {
			t.Fatalf("list after expiry: %v", err)
		}
		id = u.ID
		break
	}
	if id == "" {
		t.Fatal("no user listed after renewal")
	}
	log := env.s.Requests(0)[before:]
	if len(log) != 2 || log[0].Status != http.StatusUnauthorized || log[1].Status != http.StatusOK {
		var got []int
		for _, e := range log {
			got = append(got, e.Status)
		}
		t.Errorf("statuses after expiry %v, want [401 200]", got)
	}
}

// TestSimulatorCancelReachesEveryWorker starts workers that all wait on a nearly empty
// bucket; cancelling the context must release every one of them promptly.
func TestSimulatorCancelReachesEveryWorker(t *testing.T) {
	env := sharedSim(t)
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Limits = Limits{EntraRU: Bucket{Rate: 0.01, Burst: 1}}
	c := env.client(t, cfg)

	ctx, cancel := context.WithCancel(t.Context())
	const workers = 8
	errs := make(chan error, workers)
	var started sync.WaitGroup
	for range workers {
		started.Add(1)
		go func() {
			started.Done()
			_, err := c.GetUser(ctx, "mary.major@contoso.com", "id")
			errs <- err
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them reach the limiter
	cancel()
	deadline := time.After(5 * time.Second)
	canceled := 0
	for range workers {
		select {
		case err := <-errs:
			if errors.Is(err, context.Canceled) {
				canceled++
			} else if err != nil && !IsNotFound(err) {
				t.Errorf("worker: %v", err)
			}
		case <-deadline:
			t.Fatalf("only %d of %d workers returned after cancel", canceled, workers)
		}
	}
	if canceled < workers-1 {
		t.Errorf("%d workers saw context.Canceled, want at least %d (one may have got the token)",
			canceled, workers-1)
	}
	if n := c.Stats().InFlight; n != 0 {
		t.Errorf("in flight after cancel = %d, want 0", n)
	}
}

func TestSimulatorDebugLogNeverHoldsTokens(t *testing.T) {
	env := sharedSim(t)
	var buf bytes.Buffer
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := env.client(t, cfg)
	ctx := t.Context()

	for _, err := range c.ListUsers(ctx, ListOptions{Top: 10}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.GetUser(ctx, "nobody@contoso.com")
	tok, _, err := c.tokens.token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "graph request") || !strings.Contains(out, "client_request_id") {
		t.Fatalf("debug log lacks request lines:\n%s", out)
	}
	for _, secret := range []string{tok, tok[:20], "Bearer", "Authorization", "authorization"} {
		if strings.Contains(out, secret) {
			t.Errorf("debug log contains %q", secret[:min(len(secret), 12)])
		}
	}
}
