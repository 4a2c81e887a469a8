package graphsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fixture is a started simulator with a token for the source tenant's cutover app, one
// pooled client and one user to act on.
type fixture struct {
	s      *Server
	tok    string
	client *http.Client
	user   *User
	app    *App
	tenant *Tenant
}

// frozen makes simulated time move only through Advance: refills become exact.
func frozen(opts Options) Options {
	at := time.Date(2025, 6, 7, 8, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return at }
	opts.Start = at
	return opts
}

// newFixture starts a simulator; register, when set, adds test-only routes before it serves.
func newFixture(t testing.TB, opts Options, register func(s *Server)) *fixture {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("new simulator: %v", err)
	}
	if register != nil {
		register(s)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	src := tenant(t, s, "source")
	f := &fixture{s: s, client: s.HTTPClient(), user: src.users[src.userOrder[0]],
		app: app(t, src, "cutover"), tenant: src}
	// Runs before Close: an open HTTP/2 connection would hold the shutdown for a second.
	t.Cleanup(f.client.CloseIdleConnections)
	f.tok = f.token(t, f.app)
	return f
}

// token obtains an access token for a, over the fixture's own client.
func (f *fixture) token(t testing.TB, a *App) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID},
		"client_secret": {a.Secret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := f.client.PostForm(f.s.URL()+"/"+a.tenant.ID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token request: status %d, %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// send sends a Graph request with the fixture's client and token; it returns the transport
// error instead of failing, for fault tests.
func (f *fixture) send(method, path string, body any, headers ...string) (graphResponse, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.s.GraphURL()+path, rd)
	if err != nil {
		return graphResponse{}, err
	}
	req.Header.Set("Authorization", "Bearer "+f.tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return graphResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	out := graphResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err != nil {
		return out, err
	}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out, nil
}

// must sends a request and fails the test on a transport error.
func (f *fixture) must(t testing.TB, method, path string) graphResponse {
	t.Helper()
	r, err := f.send(method, path, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// revoke revokes the fixture user's sessions.
func (f *fixture) revoke(t testing.TB) graphResponse {
	t.Helper()
	return f.must(t, http.MethodPost, "/users/"+f.user.ID+"/revokeSignInSessions")
}

// last returns the newest request log entry.
func (f *fixture) last(t testing.TB) LogEntry {
	t.Helper()
	es := f.s.Requests(0)
	if len(es) == 0 {
		t.Fatal("request log is empty")
	}
	return es[len(es)-1]
}

// level returns the level of the named bucket for the fixture's app and tenant.
func (f *fixture) level(t testing.TB, name string) BucketState {
	t.Helper()
	for _, b := range f.s.Buckets().Buckets {
		if b.Name == name && (b.App == "" || b.App == f.app.ClientID) &&
			(b.Tenant == "" || b.Tenant == f.tenant.ID) {
			return b
		}
	}
	t.Fatalf("no bucket %s", name)
	return BucketState{}
}

// smallWrites is a model whose per-app write bucket holds 5 writes and refills 1 a second.
func smallWrites(m Model) Model {
	if m.Buckets == nil {
		m.Buckets = map[string]BucketConfig{}
	}
	m.Buckets[bEntraWrites] = BucketConfig{Capacity: 5, Window: Duration(5 * time.Second)}
	return m
}

// probeRoutes registers test-only endpoints in each limit family, on paths no real route
// uses, so that families can be tested before their endpoints exist.
func probeRoutes(s *Server) {
	ok := func(c *call) { c.noContent(http.StatusNoContent) }
	s.handle("test.intune", http.MethodPost, "deviceManagement/simProbes/{id}", nil, ok)
	s.handle("test.intuneRead", http.MethodGet, "deviceManagement/simProbes/{id}", nil, ok)
	s.handle("test.enrollment", http.MethodPost,
		"deviceManagement/windowsAutopilotDeviceIdentities/{id}/simProbe", nil, ok)
	s.handle("test.outlook", http.MethodPost, "users/{id}/mailFolders/{folder}/simProbe", nil, ok)
	s.handle("test.reports", http.MethodGet, "reports/simProbe", nil, ok)
	s.handle("test.device", http.MethodPost, "devices/{id}/simProbe", nil, ok)
}
