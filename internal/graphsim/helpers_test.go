package graphsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// startSim starts a simulator for one test and stops it when the test ends.
func startSim(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("new simulator: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tenant returns the tenant with the given role ("source" or "target").
func tenant(t testing.TB, s *Server, role string) *Tenant {
	t.Helper()
	for _, tn := range s.tenants {
		if tn.Role == role {
			return tn
		}
	}
	t.Fatalf("no %s tenant", role)
	return nil
}

// app returns the named app registration of a tenant.
func app(t testing.TB, tn *Tenant, name string) *App {
	t.Helper()
	for _, a := range tn.apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no app %s in tenant %s", name, tn.ID)
	return nil
}

// token obtains an access token through the token endpoint with the app's client secret.
func token(t testing.TB, s *Server, role, appName string) string {
	t.Helper()
	tn := tenant(t, s, role)
	a := app(t, tn, appName)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID},
		"client_secret": {a.Secret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := s.HTTPClient().PostForm(s.URL()+"/"+tn.ID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("token request: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode token: %v", err)
	}
	return body.AccessToken
}

// graphResponse is a decoded Graph response.
type graphResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// errorCode returns error.code of a Graph error body.
func (r graphResponse) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// do sends a Graph request. path is relative to /v1.0 unless it is a full URL; body is
// JSON-encoded unless it is nil.
func do(t testing.TB, s *Server, tok, method, path string, body any, headers ...string) graphResponse {
	t.Helper()
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = s.GraphURL() + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := graphResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return out
}
