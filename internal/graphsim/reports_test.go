package graphsim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

const registrationPath = "/reports/authenticationMethods/userRegistrationDetails"

// registrationIDs follows every page of a report query and returns the user ids in order.
func registrationIDs(t *testing.T, s *Server, tok, query string) []string {
	t.Helper()
	var ids []string
	next := registrationPath + "?" + query
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			t.Fatal("report paging does not end")
		}
		r := do(t, s, tok, http.MethodGet, next, nil)
		expectStatus(t, r, http.StatusOK, "")
		for _, it := range items(t, r) {
			ids = append(ids, it["id"].(string))
		}
		next, _ = r.Body["@odata.nextLink"].(string)
	}
	return ids
}

// expectedIDs lists the source users that match, in directory order.
func expectedIDs(s *Server, src *Tenant, match func(u *User) bool) []string {
	var ids []string
	withState(s, func() {
		for _, id := range src.userOrder {
			if match(src.users[id]) {
				ids = append(ids, id)
			}
		}
	})
	return ids
}

func TestRegistrationReportRow(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Model: Model{Unthrottled: true}}) // this test is not about the reports limit
	u, bare := methodUsers(t, s)
	tok := token(t, s, "source", "cutover-readonly")

	r := do(t, s, tok, http.MethodGet, registrationPath+"/"+u.ID, nil)
	expectStatus(t, r, http.StatusOK, "")
	want := map[string]any{
		"id": u.ID, "userPrincipalName": u.UPN, "userDisplayName": u.DisplayName, "userType": "member",
		"isAdmin": false, "isMfaRegistered": true, "isMfaCapable": true, "isPasswordlessCapable": false,
		"isSsprRegistered": true, "userPreferredMethodForSecondaryAuthentication": "push",
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.Body[k], v)
		}
	}
	if m, _ := r.Body["methodsRegistered"].([]any); len(m) != 1 || m[0] != "microsoftAuthenticatorPush" {
		t.Errorf("methodsRegistered = %v", r.Body["methodsRegistered"])
	}
	if r.Body["lastUpdatedDateTime"] == nil {
		t.Error("lastUpdatedDateTime is null; the metadata makes it non-nullable")
	}
	for k := range r.Body {
		if k != "@odata.context" && !registrationProps[k] {
			t.Errorf("unexpected property %s", k)
		}
	}

	r = do(t, s, tok, http.MethodGet, registrationPath+"/"+bare.ID+"?$select=isMfaRegistered,methodsRegistered", nil)
	expectStatus(t, r, http.StatusOK, "")
	if r.Body["isMfaRegistered"] != false || len(r.Body["methodsRegistered"].([]any)) != 0 ||
		r.Body["userPrincipalName"] != nil {
		t.Errorf("bare user selected row = %s", r.Raw)
	}
	expectStatus(t, do(t, s, tok, http.MethodGet, registrationPath+"/"+passwordMethodID, nil),
		http.StatusNotFound, "Request_ResourceNotFound")
}

func TestRegistrationReportFollowsAuthenticatorDelete(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Model: Model{Unthrottled: true}}) // this test is not about the reports limit
	u, _ := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")
	registered := "$filter=" + url.PathEscape("methodsRegistered/any(m:m eq 'microsoftAuthenticatorPush')")

	before := registrationIDs(t, s, tok, registered)
	if !contains(before, u.ID) {
		t.Fatal("registered user missing from the Authenticator filter")
	}
	expectStatus(t, do(t, s, tok, http.MethodDelete, "/users/"+u.ID+
		"/authentication/microsoftAuthenticatorMethods/"+u.Authenticators[0].ID, nil), http.StatusNoContent, "")

	after := registrationIDs(t, s, tok, registered)
	if contains(after, u.ID) || len(after) != len(before)-1 {
		t.Errorf("after delete %d registered (was %d), user still listed: %v",
			len(after), len(before), contains(after, u.ID))
	}
	r := do(t, s, tok, http.MethodGet, registrationPath+"/"+u.ID, nil)
	if r.Body["isMfaRegistered"] != false || r.Body["userPreferredMethodForSecondaryAuthentication"] != "none" {
		t.Errorf("row after delete = %s", r.Raw)
	}
	if got := timeString(u.MethodsUpdated); r.Body["lastUpdatedDateTime"] != got {
		t.Errorf("lastUpdatedDateTime = %v, want the delete time %v", r.Body["lastUpdatedDateTime"], got)
	}
}

func TestRegistrationReportFilters(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Model: Model{Unthrottled: true}}) // this test is not about the reports limit
	methodUsers(t, s)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var first *User
	withState(s, func() { first = src.users[src.userOrder[0]] })
	prefix := strings.ToUpper(first.UPN[:3])

	cases := []struct {
		name   string
		filter string
		match  func(u *User) bool
	}{
		{"mfa registered", "isMfaRegistered eq true", func(u *User) bool { return len(u.Authenticators) > 0 }},
		{"mfa not registered", "isMfaRegistered eq false", func(u *User) bool { return len(u.Authenticators) == 0 }},
		{"admins", "isAdmin eq true", func(u *User) bool { return u.IsAdmin }},
		{"upn eq", "userPrincipalName eq '" + strings.ToUpper(first.UPN) + "'",
			func(u *User) bool { return u.ID == first.ID }},
		{"upn startsWith", "startsWith(userPrincipalName,'" + prefix + "')",
			func(u *User) bool { return strings.HasPrefix(strings.ToUpper(u.UPN), prefix) }},
		{"display name eq", "userDisplayName eq '" + first.DisplayName + "'",
			func(u *User) bool { return strings.EqualFold(u.DisplayName, first.DisplayName) }},
		{"display name startsWith", "startsWith(userDisplayName,'Admin')",
			func(u *User) bool { return strings.HasPrefix(u.DisplayName, "Admin") }},
		{"method any", "methodsRegistered/any(m:m eq 'microsoftAuthenticatorPush')",
			func(u *User) bool { return len(u.Authenticators) > 0 }},
		{"combined", "isMfaRegistered eq false and isAdmin eq false",
			func(u *User) bool { return len(u.Authenticators) == 0 && !u.IsAdmin }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := expectedIDs(s, src, tc.match)
			got := registrationIDs(t, s, tok, "$top=5&$filter="+url.PathEscape(tc.filter))
			if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("filter %q: got %d users, want %d", tc.filter, len(got), len(want))
			}
		})
	}
}

func TestRegistrationReportPagingAndOrder(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Model: Model{Unthrottled: true}}) // this test is not about the reports limit
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	all := expectedIDs(s, src, func(*User) bool { return true })

	if got := registrationIDs(t, s, tok, "$top=7"); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("paged listing returned %d of %d users, or out of order", len(got), len(all))
	}
	r := do(t, s, tok, http.MethodGet, registrationPath+"?$top=7", nil)
	if n := len(items(t, r)); n != 7 || r.Body["@odata.nextLink"] == nil {
		t.Errorf("first page: %d items, next link %v", n, r.Body["@odata.nextLink"])
	}

	// $orderby sorts by name, descending when asked.
	var upns []string
	withState(s, func() {
		for _, id := range all {
			upns = append(upns, strings.ToLower(src.users[id].UPN))
		}
	})
	sort.Sort(sort.Reverse(sort.StringSlice(upns)))
	r = do(t, s, tok, http.MethodGet, registrationPath+"?$orderby=userPrincipalName%20desc&$top=999", nil)
	expectStatus(t, r, http.StatusOK, "")
	var got []string
	for _, it := range items(t, r) {
		got = append(got, strings.ToLower(it["userPrincipalName"].(string)))
	}
	if strings.Join(got, ",") != strings.Join(upns, ",") {
		t.Errorf("orderby desc: %v", got)
	}

	for _, q := range []string{"$top=1000", "$top=0", "$skip=5", "$orderby=isAdmin",
		"$orderby=userPrincipalName%20sideways", "$filter=" + url.PathEscape("isAdmin ne true")} {
		if r := do(t, s, tok, http.MethodGet, registrationPath+"?"+q, nil); r.Status != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", q, r.Status)
		}
	}
}

func TestRegistrationReportNeedsPremium(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{Model: Model{Unthrottled: true}}) // this test is not about the reports limit
	u, _ := methodUsers(t, s)
	src := tenant(t, s, "source")
	withState(s, func() { src.premium = false })

	for _, path := range []string{registrationPath, registrationPath + "/" + u.ID} {
		expectStatus(t, do(t, s, token(t, s, "source", "cutover"), http.MethodGet, path, nil),
			http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
	}
	// The other tenant keeps its licence, and the permission check still comes first.
	expectStatus(t, do(t, s, token(t, s, "target", "cutover"), http.MethodGet, registrationPath, nil),
		http.StatusOK, "")
	withState(s, func() { app(t, src, "cutover-2").Roles = []string{"User.Read.All"} })
	expectStatus(t, do(t, s, token(t, s, "source", "cutover-2"), http.MethodGet, registrationPath, nil),
		http.StatusForbidden, "Authorization_RequestDenied")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
