package graphsim

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// locked runs fn with the simulator's state locked, so a test reads or arranges state
// without racing the server.
func locked(s *Server, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// stateUser returns a copy of a user's true state (by id or sign-in name), or nil.
func stateUser(s *Server, tn *Tenant, key string) *User {
	var out *User
	locked(s, func() {
		if u := tn.userByKey(key); u != nil {
			cp := *u
			out = &cp
		}
	})
	return out
}

// userIDs returns the tenant's user ids in listing order.
func userIDs(s *Server, tn *Tenant) []string {
	var ids []string
	locked(s, func() { ids = slices.Clone(tn.userOrder) })
	return ids
}

// setRoles replaces an app's granted permissions; tokens issued afterwards carry them.
func setRoles(s *Server, tn *Tenant, name string, roles ...string) {
	locked(s, func() {
		for _, a := range tn.apps {
			if a.Name == name {
				a.Roles = roles
			}
		}
	})
}

// pages follows @odata.nextLink from path until it is absent and returns every item and
// the number of pages.
func pages(t *testing.T, s *Server, tok, path string, headers ...string) ([]map[string]any, int) {
	t.Helper()
	var items []map[string]any
	n := 0
	for path != "" {
		r := do(t, s, tok, http.MethodGet, path, nil, headers...)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		n++
		if n > 1 && r.Body["@odata.count"] != nil {
			t.Errorf("page %d carries @odata.count; only the first page may", n)
		}
		for _, v := range r.Body["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		path, _ = r.Body["@odata.nextLink"].(string)
	}
	return items, n
}

// The simulator takes about a second to start (key generation), so tests share one per
// group: read-only checks, paging, and writes on distinct users.

func TestUsersRead(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	t.Run("list query rules", func(t *testing.T) { testListQueryRules(t, s) })
	t.Run("count", func(t *testing.T) { testCountUsers(t, s) })
	t.Run("get", func(t *testing.T) { testGetUser(t, s) })
}

func TestUsersPaging(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{EmptyPageRate: 0.2})
	t.Run("every user once", func(t *testing.T) { testPagingVisitsEveryUserOnce(t, s) })
	t.Run("filter across pages", func(t *testing.T) { testFilterAcrossPages(t, s) })
}

func TestUsersWrite(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	t.Run("create", func(t *testing.T) { testCreateUser(t, s) })
	t.Run("update", func(t *testing.T) { testUpdateUser(t, s) })
	t.Run("delete", func(t *testing.T) { testDeleteUser(t, s) })
	// Last: it moves the clock two hours, past the other subtests' tokens.
	t.Run("revoke", func(t *testing.T) { testRevokeSignInSessions(t, s) })
}

func testPagingVisitsEveryUserOnce(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	want := userIDs(s, src)

	items, n := pages(t, s, tok, "/users?$select=id,userPrincipalName&$top=7")
	if wantPages := (len(want) + 6) / 7; n < wantPages {
		t.Errorf("got %d pages, want at least %d", n, wantPages)
	}
	seen := map[string]int{}
	for _, it := range items {
		seen[it["id"].(string)]++
		if len(it) != 2 {
			t.Errorf("item has properties %v, want only id and userPrincipalName", it)
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("user %s listed %d times, want once", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d distinct users, want %d", len(seen), len(want))
	}
}

// testFilterAcrossPages checks that a filter with spaces, sent form-encoded ('+' for a
// space, as Go's url.Values does), survives the round trip through @odata.nextLink.
func testFilterAcrossPages(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var disabled []string
	locked(s, func() {
		for i, id := range src.userOrder {
			if i%3 == 0 {
				src.users[id].AccountEnabled = false
				disabled = append(disabled, id)
			}
		}
	})

	q := url.Values{"$filter": {"accountEnabled eq false"}, "$select": {"id,accountEnabled"},
		"$top": {"2"}, "$count": {"true"}}
	r := do(t, s, tok, http.MethodGet, "/users?"+q.Encode(), nil, "ConsistencyLevel", "eventual")
	if got := r.Body["@odata.count"]; got != float64(len(disabled)) {
		t.Fatalf("@odata.count = %v, want %d (%s)", got, len(disabled), r.Raw)
	}
	items, _ := pages(t, s, tok, "/users?"+q.Encode(), "ConsistencyLevel", "eventual")
	var got []string
	for _, it := range items {
		got = append(got, it["id"].(string))
	}
	if !slices.Equal(got, disabled) {
		t.Errorf("filtered listing = %v, want %v", got, disabled)
	}
}

func testListQueryRules(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	ids := userIDs(s, src)
	first := stateUser(s, src, ids[0])
	eventual := []string{"ConsistencyLevel", "eventual"}

	many := make([]string, 16)
	for i := range many {
		many[i] = "'" + ids[i] + "'"
	}
	tests := []struct {
		name     string
		query    string
		headers  []string
		status   int
		code     string
		wantIDs  []string                  // exact result, when set
		eachItem func(map[string]any) bool // holds for every item, when set
		minItems int
	}{
		{name: "top at the maximum", query: "$top=999", status: 200, minItems: len(ids)},
		{name: "top above the maximum", query: "$top=1000", status: 400, code: "Request_BadRequest"},
		{name: "top zero", query: "$top=0", status: 400, code: "Request_BadRequest"},
		{name: "signInActivity caps top at 500", query: "$select=id,signInActivity&$top=501",
			status: 400, code: "Request_BadRequest"},
		{name: "signInActivity with top 500", query: "$select=id,signInActivity&$top=500",
			status: 200, minItems: len(ids)},
		{name: "skip is refused", query: "$skip=5", status: 400, code: "Request_BadRequest"},
		{name: "unknown select", query: "$select=id,shoeSize", status: 400, code: "Request_BadRequest"},
		{name: "upn eq", query: "$filter=userPrincipalName eq '" + strings.ToUpper(first.UPN) + "'",
			status: 200, wantIDs: []string{first.ID}},
		{name: "startsWith upn", query: "$filter=startsWith(userPrincipalName,'breakglass')",
			status: 200, minItems: 1, eachItem: func(m map[string]any) bool {
				return strings.HasPrefix(m["userPrincipalName"].(string), "breakglass")
			}},
		{name: "mail eq", query: "$filter=mail eq '" + first.Mail + "'", status: 200,
			wantIDs: []string{first.ID}},
		{name: "employeeId eq", query: "$filter=employeeId eq '" + first.EmployeeID + "'", status: 200,
			eachItem: func(m map[string]any) bool { return m["id"] != "" }, minItems: 1},
		{name: "accountEnabled eq true", query: "$filter=accountEnabled eq true", status: 200,
			minItems: len(ids)},
		{name: "id in", query: "$filter=id in ('" + ids[1] + "','" + ids[2] + "')", status: 200,
			wantIDs: []string{ids[1], ids[2]}},
		{name: "id in with 16 values", query: "$filter=id in (" + strings.Join(many, ",") + ")",
			status: 400, code: "Request_UnsupportedQuery"},
		{name: "endsWith needs advanced query", query: "$filter=endsWith(mail,'@contoso.com')",
			status: 400, code: "Request_UnsupportedQuery"},
		{name: "endsWith needs $count too", query: "$filter=endsWith(mail,'@contoso.com')",
			headers: eventual, status: 400, code: "Request_UnsupportedQuery"},
		{name: "endsWith as advanced query", query: "$filter=endsWith(mail,'@contoso.com')&$count=true",
			headers: eventual, status: 200, minItems: 20, eachItem: func(m map[string]any) bool {
				return strings.HasSuffix(m["mail"].(string), "@contoso.com")
			}},
		{name: "ne needs advanced query", query: "$filter=accountEnabled ne true", status: 400,
			code: "Request_UnsupportedQuery"},
		{name: "not needs advanced query", query: "$filter=not(accountEnabled eq true)", status: 400,
			code: "Request_UnsupportedQuery"},
		{name: "ne as advanced query", query: "$filter=userPrincipalName ne '" + first.UPN + "'&$count=true",
			headers: eventual, status: 200, minItems: len(ids) - 1,
			eachItem: func(m map[string]any) bool { return m["id"] != first.ID }},
		{name: "count without the header", query: "$count=true", status: 400, code: "Request_BadRequest"},
		{name: "bad filter syntax", query: "$filter=userPrincipalName eq", status: 400,
			code: "Request_UnsupportedQuery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := strings.ReplaceAll(tc.query, " ", "%20")
			if !strings.Contains(q, "$select") && tc.status == 200 {
				q += "&$select=id,userPrincipalName,mail,accountEnabled"
			}
			r := do(t, s, tok, http.MethodGet, "/users?"+q, nil, tc.headers...)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.errorCode(), tc.status, tc.code, r.Raw)
			}
			if tc.status != 200 {
				return
			}
			var got []string
			for _, v := range r.Body["value"].([]any) {
				m := v.(map[string]any)
				got = append(got, m["id"].(string))
				if tc.eachItem != nil && !tc.eachItem(m) {
					t.Errorf("item %v does not satisfy the filter", m)
				}
			}
			if tc.wantIDs != nil && !slices.Equal(got, tc.wantIDs) {
				t.Errorf("got ids %v, want %v", got, tc.wantIDs)
			}
			if len(got) < tc.minItems {
				t.Errorf("got %d items, want at least %d", len(got), tc.minItems)
			}
		})
	}
}

func testCountUsers(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	total := len(userIDs(s, src))

	r := do(t, s, tok, http.MethodGet, "/users/$count", nil, "ConsistencyLevel", "eventual")
	if r.Status != 200 || string(r.Raw) != fmt.Sprint(total) {
		t.Fatalf("GET /users/$count = %d %q, want 200 %q", r.Status, r.Raw, fmt.Sprint(total))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	r = do(t, s, tok, http.MethodGet, "/users/$count?$filter=endsWith(userPrincipalName,'%40contoso.onmicrosoft.com')",
		nil, "ConsistencyLevel", "eventual")
	if r.Status != 200 || string(r.Raw) != "3" {
		t.Errorf("count of admins on the initial domain = %d %q, want 200 \"3\"", r.Status, r.Raw)
	}
	r = do(t, s, tok, http.MethodGet, "/users/$count", nil)
	if r.Status != 400 || r.errorCode() != "Request_BadRequest" {
		t.Errorf("$count without ConsistencyLevel = %d %q, want 400 Request_BadRequest", r.Status, r.errorCode())
	}
}

func testGetUser(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	u := stateUser(s, src, userIDs(s, src)[0])

	for _, key := range []string{u.ID, u.UPN, strings.ToUpper(u.UPN)} {
		r := do(t, s, tok, http.MethodGet, "/users/"+key, nil)
		if r.Status != 200 || r.Body["id"] != u.ID {
			t.Fatalf("GET /users/%s = %d %s", key, r.Status, r.Raw)
		}
		if _, ok := r.Body["accountEnabled"]; ok {
			t.Errorf("accountEnabled returned without $select: %s", r.Raw)
		}
	}
	r := do(t, s, tok, http.MethodGet, "/users/"+u.ID+"?$select=id,accountEnabled,signInSessionsValidFromDateTime", nil)
	if r.Body["accountEnabled"] != true || r.Body["signInSessionsValidFromDateTime"] == nil {
		t.Errorf("selected properties missing: %s", r.Raw)
	}
	if !strings.HasSuffix(r.Body["@odata.context"].(string), "#users/$entity") {
		t.Errorf("@odata.context = %v", r.Body["@odata.context"])
	}
	r = do(t, s, tok, http.MethodGet, "/users/00000000-0000-0000-0000-000000000001", nil)
	if r.Status != 404 || r.errorCode() != "Request_ResourceNotFound" {
		t.Errorf("unknown user = %d %q, want 404 Request_ResourceNotFound", r.Status, r.errorCode())
	}
}

func testCreateUser(t *testing.T, s *Server) {
	tgt := tenant(t, s, "target")
	tok := token(t, s, "target", "cutover")
	readOnly := token(t, s, "target", "cutover-readonly")
	existing := stateUser(s, tgt, userIDs(s, tgt)[0])

	valid := func(upn string) map[string]any {
		return map[string]any{"accountEnabled": true, "displayName": "Mary Major",
			"mailNickname": "mary.major", "userPrincipalName": upn, "usageLocation": "GB",
			"passwordProfile": map[string]any{"password": "Xq7!mPz2#Lr", "forceChangePasswordNextSignIn": true}}
	}
	without := func(prop string) map[string]any {
		b := valid("new.person@fabrikam.onmicrosoft.com")
		delete(b, prop)
		return b
	}
	with := func(prop string, v any) map[string]any {
		b := valid("new.person@fabrikam.onmicrosoft.com")
		b[prop] = v
		return b
	}
	tests := []struct {
		name    string
		tok     string
		body    map[string]any
		status  int
		message string
	}{
		{name: "missing accountEnabled", body: without("accountEnabled"), status: 400, message: "accountEnabled"},
		{name: "missing displayName", body: without("displayName"), status: 400, message: "displayName"},
		{name: "missing mailNickname", body: without("mailNickname"), status: 400, message: "mailNickname"},
		{name: "missing passwordProfile", body: without("passwordProfile"), status: 400, message: "passwordProfile"},
		{name: "missing userPrincipalName", body: without("userPrincipalName"), status: 400,
			message: "userPrincipalName"},
		{name: "password missing", body: with("passwordProfile", map[string]any{"forceChangePasswordNextSignIn": true}),
			status: 400, message: "password must be specified"},
		{name: "weak password", body: with("passwordProfile", map[string]any{"password": "password"}),
			status: 400, message: "complexity"},
		{name: "unverified domain", body: valid("new.person@contoso.com"), status: 400,
			message: "verified domain names"},
		{name: "accented alias", body: valid("zoë@fabrikam.com"), status: 400, message: "userPrincipalName"},
		{name: "duplicate sign-in name", body: valid(strings.ToUpper(existing.UPN)), status: 400,
			message: "Another object with the same value for property userPrincipalName already exists."},
		{name: "unknown property", body: with("favouriteColour", "teal"), status: 400, message: "favouriteColour"},
		{name: "read-only property", body: with("createdDateTime", "2020-01-01T00:00:00Z"), status: 400,
			message: "read-only"},
		{name: "read-only app", tok: readOnly, body: valid("new.person@fabrikam.com"), status: 403},
	}
	before := len(userIDs(s, tgt))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tok == "" {
				tc.tok = tok
			}
			r := do(t, s, tc.tok, http.MethodPost, "/users", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if r.Status == 400 && (r.errorCode() != "Request_BadRequest" || !strings.Contains(string(r.Raw), tc.message)) {
				t.Errorf("error %s, want Request_BadRequest mentioning %q", r.Raw, tc.message)
			}
		})
	}
	if n := len(userIDs(s, tgt)); n != before {
		t.Fatalf("refused creations changed the user count from %d to %d", before, n)
	}

	r := do(t, s, tok, http.MethodPost, "/users", valid("mary.major@fabrikam.com"))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id, _ := r.Body["id"].(string)
	if r.Body["userPrincipalName"] != "mary.major@fabrikam.com" || id == "" ||
		!strings.HasSuffix(r.Body["@odata.context"].(string), "#users/$entity") {
		t.Errorf("create response %s", r.Raw)
	}
	if strings.Contains(string(r.Raw), "Xq7!mPz2#Lr") {
		t.Error("create response echoes the password")
	}
	u := stateUser(s, tgt, id)
	if u == nil || !u.AccountEnabled || u.UsageLocation != "GB" || u.MailNickname != "mary.major" ||
		!u.Created.Equal(u.PasswordSet) || u.Created.IsZero() {
		t.Fatalf("created user state %+v", u)
	}
	if got := do(t, s, tok, http.MethodGet, "/users/mary.major@fabrikam.com", nil); got.Body["id"] != id {
		t.Errorf("new user not found by sign-in name: %s", got.Raw)
	}
}

func testUpdateUser(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	// cutover-2 holds User.ReadWrite.All only: enough for everything but a password.
	setRoles(s, src, "cutover-2", "User.Read.All", "User.ReadWrite.All")
	// cutover-3 may only enable and disable accounts.
	setRoles(s, src, "cutover-3", "User.Read.All", "User.EnableDisableAccount.All")
	full := token(t, s, "source", "cutover")
	rw := token(t, s, "source", "cutover-2")
	enable := token(t, s, "source", "cutover-3")
	readOnly := token(t, s, "source", "cutover-readonly")
	ids := userIDs(s, src)
	other := stateUser(s, src, ids[1])

	tests := []struct {
		name   string
		tok    string
		body   map[string]any
		status int
		code   string
		check  func(t *testing.T, before, after *User)
	}{
		{name: "disable", tok: enable, body: map[string]any{"accountEnabled": false}, status: 204,
			check: func(t *testing.T, _, u *User) {
				if u.AccountEnabled {
					t.Error("account still enabled")
				}
			}},
		{name: "enable with full permissions", tok: full, body: map[string]any{"accountEnabled": true}, status: 204,
			check: func(t *testing.T, _, u *User) {
				if !u.AccountEnabled {
					t.Error("account still disabled")
				}
			}},
		{name: "sign-in name needs the update permission", tok: enable,
			body: map[string]any{"userPrincipalName": "x.y@contoso.onmicrosoft.com"}, status: 403,
			code: "Authorization_RequestDenied"},
		{name: "folded write refused as a unit", tok: enable,
			body:   map[string]any{"accountEnabled": false, "userPrincipalName": "x.y@contoso.onmicrosoft.com"},
			status: 403, code: "Authorization_RequestDenied",
			check: func(t *testing.T, b, u *User) {
				if !u.AccountEnabled || u.UPN != b.UPN {
					t.Error("a refused PATCH changed the user")
				}
			}},
		{name: "password needs its own permission", tok: rw,
			body: map[string]any{"passwordProfile": map[string]any{"password": "Gh5$kLm9!pQ"}}, status: 403,
			code: "Authorization_RequestDenied"},
		{name: "read-only app", tok: readOnly, body: map[string]any{"accountEnabled": false}, status: 403,
			code: "Authorization_RequestDenied"},
		{name: "move to the initial domain", tok: rw,
			body: map[string]any{"userPrincipalName": "moved.user@contoso.onmicrosoft.com"}, status: 204,
			check: func(t *testing.T, b, u *User) {
				if u.UPN != "moved.user@contoso.onmicrosoft.com" {
					t.Errorf("UPN = %s", u.UPN)
				}
				if stateUser(s, src, b.UPN) != nil {
					t.Error("old sign-in name still resolves")
				}
			}},
		{name: "unverified domain", tok: full, body: map[string]any{"userPrincipalName": "a.b@contoso-legacy.com"},
			status: 400, code: "Request_BadRequest"},
		{name: "unknown domain", tok: full, body: map[string]any{"userPrincipalName": "a.b@example.org"},
			status: 400, code: "Request_BadRequest"},
		{name: "space in alias", tok: full, body: map[string]any{"userPrincipalName": "a b@contoso.com"},
			status: 400, code: "Request_BadRequest"},
		{name: "accented alias", tok: full, body: map[string]any{"userPrincipalName": "renée@contoso.com"},
			status: 400, code: "Request_BadRequest"},
		{name: "two at signs", tok: full, body: map[string]any{"userPrincipalName": "a@b@contoso.com"},
			status: 400, code: "Request_BadRequest"},
		{name: "leading period", tok: full, body: map[string]any{"userPrincipalName": ".ab@contoso.com"},
			status: 400, code: "Request_BadRequest"},
		{name: "allowed symbols", tok: full, body: map[string]any{"userPrincipalName": "o'neil_x-1!#^~@contoso.com"},
			status: 204},
		{name: "name held by another user", tok: full, body: map[string]any{"userPrincipalName": other.UPN},
			status: 400, code: "Request_BadRequest"},
		{name: "id is read-only", tok: full, body: map[string]any{"id": "x"}, status: 400, code: "Request_BadRequest"},
		{name: "sessions time is read-only", tok: full,
			body: map[string]any{"signInSessionsValidFromDateTime": "2030-01-01T00:00:00Z"}, status: 400,
			code: "Request_BadRequest"},
		{name: "createdDateTime is read-only", tok: full,
			body: map[string]any{"createdDateTime": "2030-01-01T00:00:00Z"}, status: 400, code: "Request_BadRequest"},
		{name: "unknown property", tok: full, body: map[string]any{"shoeSize": 44}, status: 400,
			code: "Request_BadRequest"},
		{name: "usage location", tok: full, body: map[string]any{"usageLocation": "us"}, status: 204,
			check: func(t *testing.T, _, u *User) {
				if u.UsageLocation != "US" {
					t.Errorf("usageLocation = %q, want US", u.UsageLocation)
				}
			}},
		{name: "bad usage location", tok: full, body: map[string]any{"usageLocation": "USA"}, status: 400,
			code: "Request_BadRequest"},
		{name: "wrong type", tok: full, body: map[string]any{"accountEnabled": "no"}, status: 400,
			code: "Request_BadRequest"},
		{name: "all or nothing", tok: full, body: map[string]any{"accountEnabled": false, "usageLocation": "XYZ"},
			status: 400, code: "Request_BadRequest",
			check: func(t *testing.T, _, u *User) {
				if !u.AccountEnabled {
					t.Error("the valid half of a refused PATCH was applied")
				}
			}},
		{name: "password reset", tok: full,
			body: map[string]any{"passwordProfile": map[string]any{"password": "Gh5$kLm9!pQ",
				"forceChangePasswordNextSignIn": true}},
			status: 204,
			check: func(t *testing.T, b, u *User) {
				if !u.PasswordSet.After(b.PasswordSet) {
					t.Errorf("lastPasswordChangeDateTime not moved: %v", u.PasswordSet)
				}
			}},
		{name: "weak password", tok: full, body: map[string]any{"passwordProfile": map[string]any{"password": "abc"}},
			status: 400, code: "Request_BadRequest"},
	}
	id := ids[0]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Advance(time.Minute)
			before := stateUser(s, src, id)
			r := do(t, s, tc.tok, http.MethodPatch, "/users/"+id, tc.body)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.errorCode(), tc.status, tc.code, r.Raw)
			}
			after := stateUser(s, src, id)
			if tc.status == 204 && after.lastChange <= before.lastChange {
				t.Error("the change is not in the delta log")
			}
			if tc.status != 204 && after.lastChange != before.lastChange {
				t.Error("a refused PATCH touched the delta log")
			}
			if tc.check != nil {
				tc.check(t, before, after)
			}
		})
	}
	t.Run("message names the property", func(t *testing.T) {
		r := do(t, s, full, http.MethodPatch, "/users/"+id, map[string]any{"shoeSize": 44})
		if !strings.Contains(string(r.Raw), "'shoeSize'") {
			t.Errorf("error does not name the property: %s", r.Raw)
		}
		r = do(t, s, full, http.MethodPatch, "/users/"+id, map[string]any{"userPrincipalName": other.UPN})
		const taken = "Another object with the same value for property userPrincipalName already exists."
		if !strings.Contains(string(r.Raw), taken) {
			t.Errorf("duplicate name message: %s", r.Raw)
		}
	})
	t.Run("password is never echoed", func(t *testing.T) {
		res, err := s.HTTPClient().Get(s.URL() + "/_sim/tenants/" + src.ID + "/users/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || strings.Contains(string(b), "Gh5$kLm9!pQ") {
			t.Errorf("inspection API: %d, shows the password: %v", res.StatusCode, strings.Contains(string(b), "Gh5$"))
		}
	})
	t.Run("synced user", func(t *testing.T) {
		locked(s, func() { src.users[ids[2]].OnPremisesSync = true })
		r := do(t, s, full, http.MethodPatch, "/users/"+ids[2], map[string]any{"displayName": "Changed"})
		if r.Status != 400 || !strings.Contains(string(r.Raw), "on-premises mastered") {
			t.Errorf("synced displayName = %d %s, want 400", r.Status, r.Raw)
		}
		r = do(t, s, full, http.MethodPatch, "/users/"+ids[2], map[string]any{"usageLocation": "FR"})
		if r.Status != 204 {
			t.Errorf("synced usageLocation = %d %s, want 204", r.Status, r.Raw)
		}
	})
	t.Run("content type required", func(t *testing.T) {
		r := do(t, s, full, http.MethodPatch, "/users/"+id, nil)
		if r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("PATCH without Content-Type = %d, want 415", r.Status)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		r := do(t, s, full, http.MethodPatch, "/users/nobody@contoso.com", map[string]any{"accountEnabled": false})
		if r.Status != 404 || r.errorCode() != "Request_ResourceNotFound" {
			t.Errorf("unknown user = %d %q", r.Status, r.errorCode())
		}
	})
}

func testRevokeSignInSessions(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	id := userIDs(s, src)[3]

	s.Advance(2 * time.Hour)
	tok := token(t, s, "source", "cutover")
	sent := s.clock.Now().Truncate(time.Second)
	r := do(t, s, tok, http.MethodPost, "/users/"+id+"/revokeSignInSessions", nil)
	if r.Status != 200 || r.Body["value"] != true ||
		!strings.HasSuffix(r.Body["@odata.context"].(string), "#Edm.Boolean") {
		t.Fatalf("revoke = %d %s", r.Status, r.Raw)
	}
	if u := stateUser(s, src, id); u.SessionsValidFrom.Before(sent) {
		t.Errorf("signInSessionsValidFromDateTime = %v, want at or after %v", u.SessionsValidFrom, sent)
	}
	r = do(t, s, tok, http.MethodGet, "/users/"+id+"?$select=signInSessionsValidFromDateTime", nil)
	got, _ := time.Parse(time.RFC3339, r.Body["signInSessionsValidFromDateTime"].(string))
	if got.Before(sent) {
		t.Errorf("served signInSessionsValidFromDateTime %v is before the revoke at %v", got, sent)
	}
}

func testDeleteUser(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	id := userIDs(s, src)[4]
	var consumed int
	locked(s, func() { consumed = src.skus[0].Consumed })

	if r := do(t, s, token(t, s, "source", "cutover-readonly"), http.MethodDelete, "/users/"+id, nil); r.Status != 403 {
		t.Errorf("delete with read-only app = %d, want 403", r.Status)
	}
	if r := do(t, s, tok, http.MethodDelete, "/users/"+id, nil); r.Status != 204 {
		t.Fatalf("delete = %d %s", r.Status, r.Raw)
	}
	if r := do(t, s, tok, http.MethodGet, "/users/"+id, nil); r.Status != 404 {
		t.Errorf("GET after delete = %d, want 404", r.Status)
	}
	if slices.Contains(userIDs(s, src), id) {
		t.Error("deleted user still listed")
	}
	locked(s, func() {
		if src.skus[0].Consumed != consumed-1 {
			t.Errorf("consumed units %d, want %d", src.skus[0].Consumed, consumed-1)
		}
	})
}
