package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// checkGraphError asserts Graph's error body: code, message and innerError with both ids.
func checkGraphError(t *testing.T, r graphResponse, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Raw)
	}
	e, _ := r.Body["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %s", r.Raw)
	}
	if e["code"] != code {
		t.Errorf("error.code = %v, want %s", e["code"], code)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Error("error.message is empty")
	}
	inner, _ := e["innerError"].(map[string]any)
	if inner == nil || inner["request-id"] == "" || inner["date"] == "" {
		t.Errorf("innerError lacks request-id or date: %v", inner)
	}
	if r.Header.Get("request-id") == "" || r.Header.Get("request-id") != inner["request-id"] {
		t.Errorf("request-id header %q does not match innerError %v", r.Header.Get("request-id"), inner["request-id"])
	}
}

func TestGraphErrorsForUnknownRequests(t *testing.T) {
	s := startSim(t, Options{})
	tok := token(t, s, "source", "cutover")

	cases := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown segment", http.MethodGet, "/widgets", http.StatusBadRequest, "BadRequest"},
		{"unknown nested segment", http.MethodGet, "/users/x/widgets", http.StatusBadRequest, "BadRequest"},
		{"method not allowed", http.MethodPut, "/users", http.StatusMethodNotAllowed, "Request_BadRequest"},
		{"unknown user", http.MethodGet, "/users/00000000-0000-0000-0000-000000000000", http.StatusNotFound,
			"Request_ResourceNotFound"},
		{"top too large", http.MethodGet, "/users?$top=1000", http.StatusBadRequest, "Request_BadRequest"},
		{"unknown select", http.MethodGet, "/users?$select=shoeSize", http.StatusBadRequest, "Request_BadRequest"},
		{"bad skip token", http.MethodGet, "/users?$skiptoken=abc", http.StatusBadRequest, "Request_BadRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tok, tc.method, tc.path, nil, "client-request-id", "11111111-2222-3333-4444-555555555555")
			checkGraphError(t, r, tc.status, tc.code)
			if got := r.Header.Get("client-request-id"); got != "11111111-2222-3333-4444-555555555555" {
				t.Errorf("client-request-id echoed as %q", got)
			}
		})
	}

	t.Run("unknown version", func(t *testing.T) {
		r := do(t, s, tok, http.MethodGet, s.URL()+"/v2.0/users", nil)
		checkGraphError(t, r, http.StatusBadRequest, "BadRequest")
	})
}

func TestGraphAuthentication(t *testing.T) {
	s := startSim(t, Options{})
	other := startSim(t, Options{Seed: 99})
	src := tenant(t, s, "source")

	t.Run("no token", func(t *testing.T) {
		r := do(t, s, "", http.MethodGet, "/users", nil)
		checkGraphError(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("garbage token", func(t *testing.T) {
		r := do(t, s, "not-a-jwt", http.MethodGet, "/users", nil)
		checkGraphError(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
	})
	t.Run("token from another token service", func(t *testing.T) {
		r := do(t, s, token(t, other, "source", "cutover"), http.MethodGet, "/users", nil)
		checkGraphError(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
	})
	t.Run("token for a tenant this simulator does not hold", func(t *testing.T) {
		a := app(t, src, "cutover")
		now := s.clock.Now()
		claims := accessClaims{
			RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{graphResource},
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute))},
			TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", AppID: a.ClientID, Roles: a.Roles,
		}
		raw, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.tokens.key)
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, s, raw, http.MethodGet, "/users", nil)
		checkGraphError(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
	})
	t.Run("expired token", func(t *testing.T) {
		tok := token(t, s, "source", "cutover")
		if r := do(t, s, tok, http.MethodGet, "/users?$top=1", nil); r.Status != http.StatusOK {
			t.Fatalf("fresh token: %d %s", r.Status, r.Raw)
		}
		s.Advance(2 * time.Hour)
		r := do(t, s, tok, http.MethodGet, "/users?$top=1", nil)
		checkGraphError(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
		if !strings.Contains(string(r.Raw), "expired") {
			t.Errorf("message does not say the token expired: %s", r.Raw)
		}
	})
	t.Run("missing permission", func(t *testing.T) {
		tok := token(t, s, "source", "cutover-readonly")
		u := src.users[src.userOrder[0]]
		before := u.SessionsValidFrom
		r := do(t, s, tok, http.MethodPost, "/users/"+u.ID+"/revokeSignInSessions", map[string]any{})
		checkGraphError(t, r, http.StatusForbidden, "Authorization_RequestDenied")
		if !u.SessionsValidFrom.Equal(before) {
			t.Error("a refused revoke changed the user")
		}
	})
}

func TestTokenServiceErrors(t *testing.T) {
	s := startSim(t, Options{})
	src, tgt := tenant(t, s, "source"), tenant(t, s, "target")
	a := app(t, src, "cutover")
	post := func(tenantKey string, form url.Values) (int, map[string]any) {
		resp, err := s.HTTPClient().PostForm(s.URL()+"/"+tenantKey+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID},
			"client_secret": {a.Secret}, "scope": {graphResource + "/.default"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	cases := []struct {
		name, tenant string
		form         url.Values
		status       int
		errCode      string
	}{
		{"by tenant id", src.ID, form(), http.StatusOK, ""},
		{"by verified domain", "contoso.com", form(), http.StatusOK, ""},
		{"wrong secret", src.ID, form("client_secret", "nope"), http.StatusUnauthorized, "invalid_client"},
		{"app of another tenant", tgt.ID, form(), http.StatusBadRequest, "unauthorized_client"},
		{"unknown tenant", "nowhere.example", form(), http.StatusBadRequest, "invalid_request"},
		{"bad grant", src.ID, form("grant_type", "password"), http.StatusBadRequest, "unsupported_grant_type"},
		{"bad scope", src.ID, form("scope", "https://graph.microsoft.com/User.Read"), http.StatusBadRequest, "invalid_scope"},
		{"no credential", src.ID, form("client_secret", ""), http.StatusUnauthorized, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.tenant, tc.form)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %v", status, tc.status, body)
			}
			if tc.errCode == "" {
				if body["token_type"] != "Bearer" || body["access_token"] == "" {
					t.Errorf("token response %v", body)
				}
				return
			}
			if body["error"] != tc.errCode {
				t.Errorf("error = %v, want %s", body["error"], tc.errCode)
			}
			for _, k := range []string{"error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
				if _, ok := body[k]; !ok {
					t.Errorf("error body lacks %s", k)
				}
			}
		})
	}
}

func TestInspectionAPI(t *testing.T) {
	s := startSim(t, Options{})
	tok := token(t, s, "source", "cutover")
	src := tenant(t, s, "source")
	u := src.users[src.userOrder[3]]

	r := do(t, s, tok, http.MethodPost, "/users/"+u.ID+"/revokeSignInSessions", map[string]any{})
	if r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}

	get := func(path string) map[string]any {
		resp, err := s.HTTPClient().Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	user := get("/_sim/tenants/" + src.ID + "/users/" + u.ID)
	if user["signInSessionsValidFromDateTime"] != timeString(u.SessionsValidFrom) {
		t.Errorf("inspection shows %v, state has %v", user["signInSessionsValidFromDateTime"], u.SessionsValidFrom)
	}
	log := get("/_sim/requests")
	entries, _ := log["value"].([]any)
	var found bool
	for _, e := range entries {
		m := e.(map[string]any)
		if m["route"] == "users.revokeSignInSessions" && m["decision"] == "ok" && m["status"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Errorf("request log has no successful revoke: %v", entries)
	}

	before := s.clock.Now()
	resp, err := s.HTTPClient().Post(s.URL()+"/_sim/clock/advance", "application/json",
		strings.NewReader(`{"duration":"36h"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := s.clock.Now().Sub(before); d < 36*time.Hour || d > 37*time.Hour {
		t.Errorf("clock advanced by %v, want 36h", d)
	}
	sums := get("/_sim/tenants")
	if ts, _ := sums["tenants"].([]any); len(ts) != 2 {
		t.Errorf("tenants = %v", sums)
	}
}
