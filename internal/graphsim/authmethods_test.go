package graphsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// withState runs fn with the simulator's state lock held, as handlers do.
func withState(s *Server, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// methodUsers returns two source users: one registered for Authenticator exactly once and
// one with no registration, so tests do not depend on the seed's random draw.
func methodUsers(t *testing.T, s *Server) (registered, bare *User) {
	t.Helper()
	src := tenant(t, s, "source")
	withState(s, func() {
		registered, bare = src.users[src.userOrder[0]], src.users[src.userOrder[1]]
		if len(registered.Authenticators) == 0 {
			s.addAuthenticator(registered, s.clock.Now())
		}
		registered.Authenticators = registered.Authenticators[:1]
		bare.Authenticators = nil
	})
	return registered, bare
}

// items returns the value array of a collection response.
func items(t *testing.T, r graphResponse) []map[string]any {
	t.Helper()
	raw, ok := r.Body["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %s", r.Raw)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

func expectStatus(t *testing.T, r graphResponse, status int, code string) {
	t.Helper()
	if r.Status != status || r.errorCode() != code {
		t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.errorCode(), status, code, r.Raw)
	}
}

func TestListAuthenticationMethods(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	u, bare := methodUsers(t, s)
	tok := token(t, s, "source", "cutover-readonly")
	base := "/users/" + u.ID + "/authentication/methods"

	r := do(t, s, tok, http.MethodGet, base, nil)
	expectStatus(t, r, http.StatusOK, "")
	got := items(t, r)
	if len(got) != 2 {
		t.Fatalf("got %d methods, want password and Authenticator: %s", len(got), r.Raw)
	}
	pw := got[0]
	if pw["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" ||
		pw["id"] != passwordMethodID || pw["password"] != nil {
		t.Errorf("password method = %v", pw)
	}
	if _, ok := pw["password"]; !ok {
		t.Error("password property missing; Graph returns it as null")
	}
	auth := got[1]
	if auth["@odata.type"] != "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod" ||
		auth["id"] != u.Authenticators[0].ID || auth["displayName"] != u.Authenticators[0].DisplayName {
		t.Errorf("authenticator method = %v", auth)
	}
	if !strings.HasSuffix(r.Body["@odata.context"].(string),
		"$metadata#users('"+u.ID+"')/authentication/methods") {
		t.Errorf("context = %v", r.Body["@odata.context"])
	}

	// A user without registrations still has a password; query options change nothing.
	r = do(t, s, tok, http.MethodGet, "/users/"+bare.UPN+"/authentication/methods?$top=1", nil)
	if got := items(t, r); len(got) != 1 || got[0]["id"] != passwordMethodID {
		t.Errorf("bare user methods = %s", r.Raw)
	}

	r = do(t, s, tok, http.MethodGet, base+"/"+passwordMethodID, nil)
	expectStatus(t, r, http.StatusOK, "")
	if r.Body["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod" {
		t.Errorf("get password method = %s", r.Raw)
	}
	expectStatus(t, do(t, s, tok, http.MethodGet, base+"/"+bare.ID, nil),
		http.StatusNotFound, "itemNotFound")
	expectStatus(t, do(t, s, tok, http.MethodGet, "/users/nobody@contoso.com/authentication/methods", nil),
		http.StatusNotFound, "Request_ResourceNotFound")
}

func TestMethodsListShowsPassWithoutSecret(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	_, u := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")

	created := do(t, s, tok, http.MethodPost, "/users/"+u.ID+"/authentication/temporaryAccessPassMethods",
		map[string]any{"lifetimeInMinutes": 60})
	expectStatus(t, created, http.StatusCreated, "")

	r := do(t, s, tok, http.MethodGet, "/users/"+u.ID+"/authentication/methods", nil)
	got := items(t, r)
	if len(got) != 2 {
		t.Fatalf("got %d methods, want password and pass: %s", len(got), r.Raw)
	}
	tap := got[1]
	if tap["@odata.type"] != "#microsoft.graph.temporaryAccessPassAuthenticationMethod" ||
		tap["id"] != created.Body["id"] || tap["temporaryAccessPass"] != nil {
		t.Errorf("pass in methods = %v", tap)
	}
}

func TestAuthenticatorGetAndDelete(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	u, _ := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")
	ro := token(t, s, "source", "cutover-readonly")
	base := "/users/" + u.ID + "/authentication/microsoftAuthenticatorMethods"
	id := u.Authenticators[0].ID

	r := do(t, s, ro, http.MethodGet, base, nil)
	expectStatus(t, r, http.StatusOK, "")
	if got := items(t, r); len(got) != 1 || got[0]["id"] != id || got[0]["phoneAppVersion"] == nil {
		t.Fatalf("list = %s", r.Raw)
	}
	r = do(t, s, ro, http.MethodGet, base+"/"+id, nil)
	expectStatus(t, r, http.StatusOK, "")
	if r.Body["deviceTag"] != "SoftwareTokenActivated" ||
		!strings.HasSuffix(r.Body["@odata.context"].(string), "microsoftAuthenticatorMethods/$entity") {
		t.Errorf("get = %s", r.Raw)
	}

	// The read-only app may read but not delete.
	expectStatus(t, do(t, s, ro, http.MethodDelete, base+"/"+id, nil),
		http.StatusForbidden, "Authorization_RequestDenied")
	withState(s, func() {
		if len(u.Authenticators) != 1 {
			t.Fatal("a refused delete removed the registration")
		}
	})

	r = do(t, s, tok, http.MethodDelete, base+"/"+id, nil)
	expectStatus(t, r, http.StatusNoContent, "")
	if len(r.Raw) != 0 {
		t.Errorf("204 with a body: %s", r.Raw)
	}
	withState(s, func() {
		if len(u.Authenticators) != 0 || u.MethodsUpdated.IsZero() {
			t.Errorf("after delete: %d registrations, updated %v", len(u.Authenticators), u.MethodsUpdated)
		}
	})
	expectStatus(t, do(t, s, tok, http.MethodDelete, base+"/"+id, nil), http.StatusNotFound, "itemNotFound")
	expectStatus(t, do(t, s, tok, http.MethodGet, base+"/"+id, nil), http.StatusNotFound, "itemNotFound")
	if got := items(t, do(t, s, tok, http.MethodGet, base, nil)); len(got) != 0 {
		t.Errorf("list after delete has %d items", len(got))
	}
}

func TestTAPShownOnlyAtCreation(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	_, u := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")
	base := "/users/" + u.ID + "/authentication/temporaryAccessPassMethods"

	expectStatus(t, do(t, s, tok, http.MethodGet, base, nil), http.StatusOK, "")
	r := do(t, s, tok, http.MethodPost, base, map[string]any{
		"lifetimeInMinutes": 480, "isUsableOnce": true})
	expectStatus(t, r, http.StatusCreated, "")
	secret, _ := r.Body["temporaryAccessPass"].(string)
	if len(secret) != 8 {
		t.Errorf("pass %q, want the policy's default length 8", secret)
	}
	id, _ := r.Body["id"].(string)
	if r.Body["lifetimeInMinutes"] != 480.0 || r.Body["isUsableOnce"] != true ||
		r.Body["isUsable"] != true || r.Body["methodUsabilityReason"] != "EnabledByPolicy" {
		t.Errorf("created = %s", r.Raw)
	}
	if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, base+"/"+id) {
		t.Errorf("Location = %q", loc)
	}

	// Every read shows the pass without its secret.
	for _, path := range []string{base, base + "/" + id} {
		r := do(t, s, tok, http.MethodGet, path, nil)
		expectStatus(t, r, http.StatusOK, "")
		if strings.Contains(string(r.Raw), secret) {
			t.Errorf("GET %s reveals the pass: %s", path, r.Raw)
		}
		got := r.Body
		if v, ok := r.Body["value"]; ok {
			list := v.([]any)
			if len(list) != 1 {
				t.Fatalf("GET %s: %d passes, want 1", path, len(list))
			}
			got = list[0].(map[string]any)
		}
		if p, ok := got["temporaryAccessPass"]; !ok || p != nil || got["id"] != id {
			t.Errorf("GET %s: %v", path, got)
		}
	}
}

func TestTAPReplacementAndDelete(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	_, u := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")
	base := "/users/" + u.ID + "/authentication/temporaryAccessPassMethods"

	first := do(t, s, tok, http.MethodPost, base, map[string]any{})
	second := do(t, s, tok, http.MethodPost, base, map[string]any{"lifetimeInMinutes": 120})
	expectStatus(t, first, http.StatusCreated, "")
	expectStatus(t, second, http.StatusCreated, "")
	oldID, newID := first.Body["id"].(string), second.Body["id"].(string)
	if oldID == newID || first.Body["temporaryAccessPass"] == second.Body["temporaryAccessPass"] {
		t.Fatalf("second pass did not get a new id and secret: %s / %s", first.Raw, second.Raw)
	}
	list := items(t, do(t, s, tok, http.MethodGet, base, nil))
	if len(list) != 1 || list[0]["id"] != newID || list[0]["lifetimeInMinutes"] != 120.0 {
		t.Fatalf("after replacement: %v", list)
	}
	expectStatus(t, do(t, s, tok, http.MethodGet, base+"/"+oldID, nil), http.StatusNotFound, "itemNotFound")
	expectStatus(t, do(t, s, tok, http.MethodDelete, base+"/"+oldID, nil), http.StatusNotFound, "itemNotFound")

	expectStatus(t, do(t, s, tok, http.MethodDelete, base+"/"+newID, nil), http.StatusNoContent, "")
	expectStatus(t, do(t, s, tok, http.MethodDelete, base+"/"+newID, nil), http.StatusNotFound, "itemNotFound")
	if list := items(t, do(t, s, tok, http.MethodGet, base, nil)); len(list) != 0 {
		t.Errorf("after delete: %v", list)
	}
	withState(s, func() {
		if u.TAP != nil {
			t.Error("pass still held after delete")
		}
	})
}

func TestTAPCreateValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy func(p *TAPPolicy)
		body   map[string]any
		status int
		code   string
	}{
		{name: "below service minimum", body: map[string]any{"lifetimeInMinutes": 9},
			status: http.StatusBadRequest, code: "badRequest"},
		{name: "service minimum", body: map[string]any{"lifetimeInMinutes": 10}, status: http.StatusCreated},
		{name: "service maximum", body: map[string]any{"lifetimeInMinutes": 43200}, status: http.StatusCreated},
		{name: "above service maximum", body: map[string]any{"lifetimeInMinutes": 43201},
			status: http.StatusBadRequest, code: "badRequest"},
		{name: "above policy maximum", policy: func(p *TAPPolicy) { p.MaximumLifetimeInMinutes = 480 },
			body: map[string]any{"lifetimeInMinutes": 481}, status: http.StatusBadRequest, code: "badRequest"},
		{name: "below policy minimum", policy: func(p *TAPPolicy) { p.MinimumLifetimeInMinutes = 60 },
			body: map[string]any{"lifetimeInMinutes": 59}, status: http.StatusBadRequest, code: "badRequest"},
		{name: "lifetime not a number", body: map[string]any{"lifetimeInMinutes": "sixty"},
			status: http.StatusBadRequest, code: "BadRequest"},
		{name: "start not a date", body: map[string]any{"startDateTime": "tomorrow"},
			status: http.StatusBadRequest, code: "badRequest"},
		{name: "policy disabled", policy: func(p *TAPPolicy) { p.Enabled = false },
			body: map[string]any{}, status: http.StatusBadRequest, code: "badRequest"},
		{name: "multi-use against one-time policy", policy: func(p *TAPPolicy) { p.IsUsableOnce = true },
			body: map[string]any{"isUsableOnce": false}, status: http.StatusBadRequest, code: "badRequest"},
		{name: "one-time policy default", policy: func(p *TAPPolicy) { p.IsUsableOnce = true },
			body: map[string]any{}, status: http.StatusCreated},
	}
	s := startSim(t, Options{})
	_, u := methodUsers(t, s)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	base := "/users/" + u.ID + "/authentication/temporaryAccessPassMethods"
	defaults := src.tapPolicy

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withState(s, func() {
				src.tapPolicy = defaults
				if tc.policy != nil {
					tc.policy(&src.tapPolicy)
				}
				u.TAP = nil
			})
			r := do(t, s, tok, http.MethodPost, base, tc.body)
			expectStatus(t, r, tc.status, tc.code)
			withState(s, func() {
				if created := u.TAP != nil; created != (tc.status == http.StatusCreated) {
					t.Errorf("pass stored = %v after %d", created, r.Status)
				}
				if u.TAP != nil && u.TAP.IsUsableOnce != src.tapPolicy.IsUsableOnce {
					t.Errorf("isUsableOnce = %v, want the policy's %v", u.TAP.IsUsableOnce,
						src.tapPolicy.IsUsableOnce)
				}
			})
		})
	}
}

func TestTAPDefaultsAndUsability(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 5, 7, 0, 0, 0, time.UTC)
	s := startSim(t, Options{Start: start})
	_, u := methodUsers(t, s)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	base := "/users/" + u.ID + "/authentication/temporaryAccessPassMethods"
	withState(s, func() { src.tapPolicy.DefaultLength = 12 })

	// An empty body takes the policy's defaults and starts now.
	r := do(t, s, tok, http.MethodPost, base, nil, "Content-Type", "application/json")
	expectStatus(t, r, http.StatusCreated, "")
	if p, _ := r.Body["temporaryAccessPass"].(string); len(p) != 12 {
		t.Errorf("pass %q, want the policy length 12", p)
	}
	if r.Body["lifetimeInMinutes"] != 60.0 || r.Body["isUsableOnce"] != false {
		t.Errorf("defaults = %s", r.Raw)
	}
	began, err := time.Parse(time.RFC3339, r.Body["startDateTime"].(string))
	if err != nil || began.Sub(start) < 0 || began.Sub(start) > time.Minute {
		t.Errorf("startDateTime = %v, want about %v", r.Body["startDateTime"], start)
	}

	// A pass that starts tomorrow is not yet valid, then valid, then expired.
	tomorrow := start.Add(24 * time.Hour).Format(time.RFC3339)
	r = do(t, s, tok, http.MethodPost, base, map[string]any{"startDateTime": tomorrow, "lifetimeInMinutes": 60})
	expectStatus(t, r, http.StatusCreated, "")
	id := r.Body["id"].(string)
	// Tokens expire on the simulated clock, so each look takes a fresh one.
	reason := func() any {
		tok := token(t, s, "source", "cutover")
		return do(t, s, tok, http.MethodGet, base+"/"+id, nil).Body["methodUsabilityReason"]
	}
	if got := reason(); got != "NotYetValid" {
		t.Errorf("before start: %v", got)
	}
	s.Advance(24*time.Hour + time.Minute)
	if got := reason(); got != "EnabledByPolicy" {
		t.Errorf("during lifetime: %v", got)
	}
	s.Advance(time.Hour)
	if got := reason(); got != "Expired" {
		t.Errorf("after lifetime: %v", got)
	}
	withState(s, func() { src.tapPolicy.Enabled = false })
	if got := reason(); got != "DisabledByPolicy" {
		t.Errorf("policy disabled: %v", got)
	}
}

func TestTAPPermissionsAndContentType(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	_, u := methodUsers(t, s)
	src := tenant(t, s, "source")
	base := "/users/" + u.ID + "/authentication/temporaryAccessPassMethods"

	// The TAP-only permission GRAPH.md 6.3 prefers is enough to create a pass, and no more.
	withState(s, func() { app(t, src, "cutover-2").Roles = []string{"UserAuthMethod-TAP.ReadWrite.All"} })
	tapOnly := token(t, s, "source", "cutover-2")
	r := do(t, s, tapOnly, http.MethodPost, base, map[string]any{})
	expectStatus(t, r, http.StatusCreated, "")
	expectStatus(t, do(t, s, tapOnly, http.MethodGet, base, nil), http.StatusOK, "")
	expectStatus(t, do(t, s, tapOnly, http.MethodGet, "/users/"+u.ID+"/authentication/methods", nil),
		http.StatusForbidden, "Authorization_RequestDenied")

	ro := token(t, s, "source", "cutover-readonly")
	expectStatus(t, do(t, s, ro, http.MethodGet, base, nil), http.StatusOK, "")
	expectStatus(t, do(t, s, ro, http.MethodPost, base, map[string]any{}),
		http.StatusForbidden, "Authorization_RequestDenied")
	expectStatus(t, do(t, s, ro, http.MethodDelete, base+"/"+r.Body["id"].(string), nil),
		http.StatusForbidden, "Authorization_RequestDenied")

	full := token(t, s, "source", "cutover")
	expectStatus(t, do(t, s, full, http.MethodPost, base, nil), http.StatusUnsupportedMediaType,
		"UnsupportedMediaType")
	expectStatus(t, do(t, s, full, http.MethodPatch, base+"/"+r.Body["id"].(string), map[string]any{}),
		http.StatusMethodNotAllowed, "Request_BadRequest")
	withState(s, func() {
		if u.TAP == nil || u.TAP.ID != r.Body["id"] {
			t.Error("a refused call changed the pass")
		}
	})
}

func TestTAPPolicyConfiguration(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	path := "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass"
	withState(s, func() { src.tapPolicy.MaximumLifetimeInMinutes = 480 })

	r := do(t, s, tok, http.MethodGet, path, nil)
	expectStatus(t, r, http.StatusOK, "")
	want := map[string]any{
		"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
		"id":          "TemporaryAccessPass", "state": "enabled", "defaultLifetimeInMinutes": 60.0,
		"minimumLifetimeInMinutes": 10.0, "maximumLifetimeInMinutes": 480.0, "defaultLength": 8.0,
		"isUsableOnce": false,
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.Body[k], v)
		}
	}

	withState(s, func() { src.tapPolicy.Enabled = false })
	if r := do(t, s, tok, http.MethodGet, path, nil); r.Body["state"] != "disabled" {
		t.Errorf("state after disabling = %v", r.Body["state"])
	}
	expectStatus(t, do(t, s, tok, http.MethodGet,
		"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms", nil),
		http.StatusNotFound, "itemNotFound")
	expectStatus(t, do(t, s, token(t, s, "source", "cutover-readonly"), http.MethodGet, path, nil),
		http.StatusForbidden, "Authorization_RequestDenied")
}
