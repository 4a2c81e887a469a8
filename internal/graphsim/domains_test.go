package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// publishTXT publishes a TXT record through the inspection API, as an administrator editing
// the DNS zone would.
func publishTXT(t *testing.T, s *Server, domain, text string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"domain": domain, "text": text})
	resp, err := s.HTTPClient().Post(s.URL()+"/_sim/dns", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("publish DNS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish DNS: status %d", resp.StatusCode)
	}
}

// wantStatus fails the test when r does not have the wanted status (and error code, if set).
func wantStatus(t *testing.T, what string, r graphResponse, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.errorCode() != code) {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.Status, r.Raw, status, code)
	}
}

// usersOn returns copies, read under the lock, of the users whose sign-in name is on domain.
func usersOn(s *Server, tn *Tenant, domain string) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, id := range tn.userOrder {
		if u := tn.users[id]; addressOn(u.UPN, domain) {
			out = append(out, *u)
		}
	}
	return out
}

func TestDomainMigrationWeekend(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	src, tgt := tenant(t, s, "source"), tenant(t, s, "target")
	srcTok, tgtTok := token(t, s, "source", "cutover"), token(t, s, "target", "cutover")
	moving := usersOn(s, src, "contoso.com")
	if len(moving) != 20 {
		t.Fatalf("source users on contoso.com: got %d, want 20", len(moving))
	}
	changesBefore := len(src.changes)

	// The target adds the domain: created, unverified, with a TXT record to publish.
	r := do(t, s, tgtTok, http.MethodPost, "/domains", map[string]any{"id": "contoso.com"})
	wantStatus(t, "add domain to target", r, http.StatusCreated, "")
	if r.Body["id"] != "contoso.com" || r.Body["isVerified"] != false || r.Body["isDefault"] != false {
		t.Fatalf("added domain: %s", r.Raw)
	}
	r = do(t, s, tgtTok, http.MethodGet, "/domains/contoso.com/verificationDnsRecords", nil)
	wantStatus(t, "verification records", r, http.StatusOK, "")
	txt := r.Body["value"].([]any)[0].(map[string]any)
	code, _ := txt["text"].(string)
	if txt["@odata.type"] != "#microsoft.graph.domainDnsTxtRecord" ||
		!strings.HasPrefix(code, "MS=ms") ||
		txt["label"] != "contoso.com" || txt["recordType"] != "Txt" || txt["ttl"] != float64(3600) {
		t.Fatalf("TXT record: %v", txt)
	}

	// Verification fails while the source holds the domain, even with the record published.
	publishTXT(t, s, "contoso.com", code)
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify while source holds it", r, http.StatusBadRequest, "Request_BadRequest")

	// The source force-deletes it, keeping accounts enabled; the domain lists until done.
	r = do(t, s, srcTok, http.MethodPost, "/domains/contoso.com/forceDelete",
		map[string]any{"disableUserAccounts": false})
	wantStatus(t, "forceDelete", r, http.StatusNoContent, "")
	r = do(t, s, srcTok, http.MethodGet, "/domains/contoso.com", nil)
	wantStatus(t, "get deleting domain", r, http.StatusOK, "")
	st, _ := r.Body["state"].(map[string]any)
	if st["operation"] != "ForceDelete" || st["status"] != "Scheduled" {
		t.Fatalf("deleting domain state: %s", r.Raw)
	}
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify during source forceDelete", r, http.StatusBadRequest, "Request_BadRequest")

	// Once simulated time passes, the domain is gone and its users are on the initial domain.
	s.Advance(2 * time.Minute)
	r = do(t, s, srcTok, http.MethodGet, "/domains/contoso.com?$select=id,state", nil)
	if st, _ := r.Body["state"].(map[string]any); st["status"] != "InProgress" {
		t.Fatalf("state after the job started: %s", r.Raw)
	}
	s.Advance(30 * time.Minute)
	r = do(t, s, srcTok, http.MethodGet, "/domains/contoso.com", nil)
	wantStatus(t, "get removed domain", r, http.StatusNotFound, "Request_ResourceNotFound")
	r = do(t, s, srcTok, http.MethodGet, "/domains/contoso.onmicrosoft.com", nil)
	if r.Body["isDefault"] != true {
		t.Fatalf("initial domain after default removed: %s", r.Raw)
	}
	checkRenamed(t, s, src, srcTok, moving, true)
	if got := len(src.changes) - changesBefore; got != len(moving) {
		t.Errorf("delta log entries for the renames: got %d, want %d", got, len(moving))
	}

	// The target still needs the TXT record with its own code; then verify succeeds, once.
	publishTXT(t, s, "contoso.com", "")
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify without the record", r, http.StatusBadRequest, "Request_BadRequest")
	publishTXT(t, s, "contoso.com", "MS=ms00000000")
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify with a wrong record", r, http.StatusBadRequest, "Request_BadRequest")
	publishTXT(t, s, "contoso.com", code)
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify with the record", r, http.StatusOK, "")
	if r.Body["isVerified"] != true || r.Body["isRoot"] != true {
		t.Fatalf("verified domain: %s", r.Raw)
	}
	if d := tgt.domain("contoso.com"); d == nil || !d.Verified {
		t.Fatal("target state: contoso.com not verified")
	}
	r = do(t, s, tgtTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "verify again", r, http.StatusBadRequest, "Request_BadRequest")

	// Now the source cannot take it back.
	r = do(t, s, srcTok, http.MethodPost, "/domains", map[string]any{"id": "contoso.com"})
	wantStatus(t, "source re-adds", r, http.StatusCreated, "")
	r = do(t, s, srcTok, http.MethodPost, "/domains/contoso.com/verify", nil)
	wantStatus(t, "source re-verifies", r, http.StatusBadRequest, "Request_BadRequest")
}

// checkRenamed asserts that every user in before now signs in on the initial domain, with
// mail and proxy addresses moved too, the old name unresolvable, and the account enabled or
// not as wanted.
func checkRenamed(t *testing.T, s *Server, tn *Tenant, tok string, before []User, enabled bool) {
	t.Helper()
	for _, old := range before {
		alias := strings.TrimSuffix(old.UPN, "@contoso.com")
		want := alias + "@contoso.onmicrosoft.com"
		r := do(t, s, tok, http.MethodGet, "/users/"+want+
			"?$select=id,userPrincipalName,mail,proxyAddresses,accountEnabled", nil)
		wantStatus(t, "get renamed user", r, http.StatusOK, "")
		if r.Body["id"] != old.ID || r.Body["mail"] != want || r.Body["accountEnabled"] != enabled {
			t.Fatalf("renamed user: %s", r.Raw)
		}
		proxies := fmt.Sprint(r.Body["proxyAddresses"])
		if proxies != "[SMTP:"+want+"]" {
			t.Errorf("proxy addresses of %s: %s", want, proxies)
		}
		r = do(t, s, tok, http.MethodGet, "/users/"+old.UPN, nil)
		wantStatus(t, "get by old sign-in name", r, http.StatusNotFound, "")
	}
}

func TestForceDeleteDisableUserAccounts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		body        any
		wantEnabled bool
	}{
		{"false keeps accounts enabled", map[string]any{"disableUserAccounts": false}, true},
		{"true disables", map[string]any{"disableUserAccounts": true}, false},
		{"absent body disables", nil, false},
		{"null parameter disables", map[string]any{"disableUserAccounts": nil}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, Options{Preset: "small"})
			src := tenant(t, s, "source")
			tok := token(t, s, "source", "cutover")
			moving := usersOn(s, src, "contoso.com")
			r := do(t, s, tok, http.MethodPost, "/domains/contoso.com/forceDelete", tc.body,
				"Content-Type", "application/json")
			wantStatus(t, "forceDelete", r, http.StatusNoContent, "")
			s.Advance(6 * time.Minute)
			checkRenamed(t, s, src, tok, moving, tc.wantEnabled)
		})
	}
}

func TestForceDeleteRequests(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	tok := token(t, s, "source", "cutover")
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"unknown parameter", "/domains/contoso.com/forceDelete", map[string]any{"disable": false},
			http.StatusBadRequest, "Request_BadRequest"},
		{"wrong type", "/domains/contoso.com/forceDelete", map[string]any{"disableUserAccounts": "no"},
			http.StatusBadRequest, "Request_BadRequest"},
		{"initial domain", "/domains/contoso.onmicrosoft.com/forceDelete", nil,
			http.StatusBadRequest, "Request_BadRequest"},
		{"unknown domain", "/domains/example.org/forceDelete", nil,
			http.StatusNotFound, "Request_ResourceNotFound"},
		{"accepted", "/domains/contoso.com/forceDelete", map[string]any{"disableUserAccounts": false},
			http.StatusNoContent, ""},
		{"repeat while running", "/domains/contoso.com/forceDelete", nil, http.StatusNoContent, ""},
		{"DELETE while running", "/domains/contoso.com", nil, http.StatusBadRequest, "Request_BadRequest"},
	}
	for _, tc := range cases {
		method := http.MethodPost
		if !strings.HasSuffix(tc.path, "forceDelete") {
			method = http.MethodDelete
		}
		r := do(t, s, tok, method, tc.path, tc.body)
		wantStatus(t, tc.name, r, tc.status, tc.code)
	}

	// The repeat did not change the job: accounts stay enabled as the first request asked.
	s.Advance(30 * time.Minute)
	r := do(t, s, tok, http.MethodPost, "/domains/contoso.com/forceDelete", nil)
	wantStatus(t, "forceDelete when gone", r, http.StatusNotFound, "")
	for _, u := range usersOn(s, tenant(t, s, "source"), "contoso.onmicrosoft.com") {
		if !u.AccountEnabled {
			t.Fatalf("%s disabled by the repeated request", u.UPN)
		}
	}
}

func TestForceDeleteKeepsNamesUnique(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")

	// Another account already holds the name the first contoso.com user would be renamed to.
	s.mu.Lock()
	victim := src.users[src.userOrder[0]]
	alias := strings.TrimSuffix(victim.UPN, "@contoso.com")
	victim.ProxyAddresses = victim.ProxyAddresses[:1]
	holder := &User{ID: s.newID(), UPN: alias + "@contoso.onmicrosoft.com", DisplayName: "Holder",
		AccountEnabled: true}
	src.addUser(holder)
	s.mu.Unlock()

	r := do(t, s, tok, http.MethodPost, "/domains/contoso.com/forceDelete",
		map[string]any{"disableUserAccounts": false})
	wantStatus(t, "forceDelete", r, http.StatusNoContent, "")
	s.Advance(30 * time.Minute)

	want := alias + "2@contoso.onmicrosoft.com"
	r = do(t, s, tok, http.MethodGet, "/users/"+victim.ID+"?$select=userPrincipalName,mail", nil)
	if r.Body["userPrincipalName"] != want || r.Body["mail"] != want {
		t.Fatalf("renamed user with a taken name: %s, want %s", r.Raw, want)
	}
	r = do(t, s, tok, http.MethodGet, "/users/"+holder.UPN+"?$select=id", nil)
	if r.Body["id"] != holder.ID {
		t.Fatalf("holder of the name: %s", r.Raw)
	}
}

func TestForceDeleteRefusesOverThousandReferences(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "merger", Users: 1100, DevicesPerUser: 0.01})
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")

	r := do(t, s, tok, http.MethodPost, "/domains/contoso.com/forceDelete",
		map[string]any{"disableUserAccounts": false})
	wantStatus(t, "forceDelete of 1,100 references", r, http.StatusBadRequest, "Request_BadRequest")
	s.Advance(45 * time.Minute)
	r = do(t, s, tok, http.MethodGet, "/domains/contoso.com", nil)
	if r.Status != http.StatusOK || r.Body["state"] != nil || r.Body["isVerified"] != true {
		t.Fatalf("domain after refused forceDelete: %d %s", r.Status, r.Raw)
	}
	if n := len(usersOn(s, src, "contoso.com")); n != 1100 {
		t.Fatalf("users still on contoso.com: got %d, want 1100", n)
	}
}

func TestDeleteDomain(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	tok := token(t, s, "source", "cutover")
	cases := []struct {
		name, domain string
		status       int
		code         string
	}{
		{"referenced", "contoso.com", http.StatusBadRequest, "Request_BadRequest"},
		{"initial", "contoso.onmicrosoft.com", http.StatusBadRequest, "Request_BadRequest"},
		{"unreferenced", "contoso-legacy.com", http.StatusNoContent, ""},
		{"already gone", "contoso-legacy.com", http.StatusNotFound, "Request_ResourceNotFound"},
		{"never added", "example.org", http.StatusNotFound, "Request_ResourceNotFound"},
	}
	for _, tc := range cases {
		r := do(t, s, tok, http.MethodDelete, "/domains/"+tc.domain, nil)
		wantStatus(t, tc.name, r, tc.status, tc.code)
	}
	r := do(t, s, tok, http.MethodGet, "/domains", nil)
	var names []string
	for _, v := range r.Body["value"].([]any) {
		names = append(names, v.(map[string]any)["id"].(string))
	}
	if got := strings.Join(names, ","); got != "contoso.onmicrosoft.com,contoso.com" {
		t.Fatalf("domains after deletes: %s", got)
	}
}

func TestAddDomain(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	tok := token(t, s, "source", "cutover")
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"new root", map[string]any{"id": "Contoso.org"}, http.StatusCreated},
		{"subdomain of a verified root", map[string]any{"id": "eu.contoso.com"}, http.StatusCreated},
		{"duplicate", map[string]any{"id": "contoso.com"}, http.StatusBadRequest},
		{"duplicate, other case", map[string]any{"id": "CONTOSO.ORG"}, http.StatusBadRequest},
		{"single label", map[string]any{"id": "contoso"}, http.StatusBadRequest},
		{"space", map[string]any{"id": "con toso.com"}, http.StatusBadRequest},
		{"leading hyphen", map[string]any{"id": "-contoso.com"}, http.StatusBadRequest},
		{"empty label", map[string]any{"id": "contoso..com"}, http.StatusBadRequest},
		{"numeric top level", map[string]any{"id": "10.0.0.1"}, http.StatusBadRequest},
		{"onmicrosoft", map[string]any{"id": "other.onmicrosoft.com"}, http.StatusBadRequest},
		{"missing id", map[string]any{"isDefault": true}, http.StatusBadRequest},
		{"unknown property", map[string]any{"id": "contoso.net", "colour": "blue"}, http.StatusBadRequest},
		{"read-only property ignored", map[string]any{"id": "contoso.net", "isVerified": true},
			http.StatusCreated},
	}
	for _, tc := range cases {
		r := do(t, s, tok, http.MethodPost, "/domains", tc.body)
		wantStatus(t, tc.name, r, tc.status, "")
		if tc.status == http.StatusBadRequest && r.errorCode() != "Request_BadRequest" {
			t.Errorf("%s: code %s", tc.name, r.errorCode())
		}
	}
	checks := map[string]bool{"contoso.org": false, "eu.contoso.com": true, "contoso.net": false}
	for name, verified := range checks {
		r := do(t, s, tok, http.MethodGet, "/domains/"+name, nil)
		if r.Body["id"] != name || r.Body["isVerified"] != verified || r.Body["isRoot"] != false {
			t.Errorf("domain %s: %s", name, r.Raw)
		}
	}
	r := do(t, s, tok, http.MethodPost, "/domains", map[string]any{"id": "contoso.info"},
		"Content-Type", "text/plain")
	wantStatus(t, "text content type", r, http.StatusUnsupportedMediaType, "")
}

func TestListDomainsIgnoresQueryOptions(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	tok := token(t, s, "source", "cutover")
	r := do(t, s, tok, http.MethodGet, "/domains?$top=1&$filter=isVerified%20eq%20true&$search=x", nil)
	wantStatus(t, "list", r, http.StatusOK, "")
	value := r.Body["value"].([]any)
	if len(value) != 3 || r.Body["@odata.nextLink"] != nil {
		t.Fatalf("domains with ignored options: %s", r.Raw)
	}
	legacy := value[2].(map[string]any)
	want := map[string]any{"id": "contoso-legacy.com", "isVerified": false, "isInitial": false,
		"isRoot": false, "authenticationType": "Managed", "isAdminManaged": true}
	for k, v := range want {
		if legacy[k] != v {
			t.Errorf("%s: got %v, want %v", k, legacy[k], v)
		}
	}
	r = do(t, s, tok, http.MethodGet, "/domains?$select=id,isDefault", nil)
	if first := r.Body["value"].([]any)[0].(map[string]any); len(first) != 2 {
		t.Fatalf("selected domain: %v", first)
	}
	r = do(t, s, tok, http.MethodGet, "/domains?$select=colour", nil)
	wantStatus(t, "select unknown", r, http.StatusBadRequest, "Request_BadRequest")
}

func TestDomainNameReferences(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	tok := token(t, s, "source", "cutover")
	want := map[string]bool{}
	for _, u := range usersOn(s, tenant(t, s, "source"), "contoso.com") {
		want[u.ID] = true
	}

	for _, path := range []string{"/domainNameReferences", "/domainNameReferences/microsoft.graph.user"} {
		got := map[string]bool{}
		next := "/domains/contoso.com" + path + "?$top=7"
		for pages := 0; next != ""; pages++ {
			if pages > 10 {
				t.Fatalf("%s: too many pages", path)
			}
			r := do(t, s, tok, http.MethodGet, next, nil)
			wantStatus(t, path, r, http.StatusOK, "")
			for _, v := range r.Body["value"].([]any) {
				item := v.(map[string]any)
				if item["@odata.type"] != "#microsoft.graph.user" || item["displayName"] == nil ||
					!addressOn(item["userPrincipalName"].(string), "contoso.com") {
					t.Fatalf("%s item: %v", path, item)
				}
				got[item["id"].(string)] = true
			}
			next, _ = r.Body["@odata.nextLink"].(string)
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %d references, want %d", path, len(got), len(want))
		}
	}

	groups := "/domains/contoso.com/domainNameReferences/microsoft.graph.group"
	r := do(t, s, tok, http.MethodGet, groups, nil)
	if r.Status != http.StatusOK || len(r.Body["value"].([]any)) != 0 {
		t.Fatalf("group references: %d %s", r.Status, r.Raw)
	}
	r = do(t, s, tok, http.MethodGet, "/domains/contoso-legacy.com/domainNameReferences", nil)
	if len(r.Body["value"].([]any)) != 0 {
		t.Fatalf("references of an unused domain: %s", r.Raw)
	}
}

func TestDomainPermissions(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Preset: "small"})
	ro := token(t, s, "target", "cutover-readonly")
	cases := []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodGet, "/domains", nil, http.StatusOK},
		{http.MethodGet, "/domains/fabrikam.com/verificationDnsRecords", nil, http.StatusOK},
		{http.MethodGet, "/domains/fabrikam.com/domainNameReferences", nil, http.StatusOK},
		{http.MethodPost, "/domains", map[string]any{"id": "contoso.com"}, http.StatusForbidden},
		{http.MethodPost, "/domains/fabrikam.com/verify", nil, http.StatusForbidden},
		{http.MethodPost, "/domains/fabrikam.com/forceDelete", nil, http.StatusForbidden},
		{http.MethodDelete, "/domains/fabrikam.com", nil, http.StatusForbidden},
	}
	for _, tc := range cases {
		r := do(t, s, ro, tc.method, tc.path, tc.body)
		code := ""
		if tc.status == http.StatusForbidden {
			code = "Authorization_RequestDenied"
		}
		wantStatus(t, tc.method+" "+tc.path, r, tc.status, code)
	}
	if d := tenant(t, s, "target").domain("fabrikam.com"); d == nil || d.deleting {
		t.Fatal("read-only app changed fabrikam.com")
	}
}
