package graphsim

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// deltaSync follows a delta round from path to its delta link and returns the items, the
// number of pages and the delta link.
func deltaSync(t *testing.T, s *Server, tok, path string, headers ...string) ([]map[string]any, int, string) {
	t.Helper()
	var items []map[string]any
	for n := 1; ; n++ {
		r := do(t, s, tok, http.MethodGet, path, nil, headers...)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		for _, v := range r.Body["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		next, _ := r.Body["@odata.nextLink"].(string)
		delta, _ := r.Body["@odata.deltaLink"].(string)
		switch {
		case next != "" && delta != "":
			t.Fatalf("page %d has both a next link and a delta link", n)
		case delta != "":
			return items, n, delta
		case next == "":
			t.Fatalf("page %d has neither a next link nor a delta link: %s", n, r.Raw)
		}
		path = next
	}
}

func itemIDs(items []map[string]any) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

func TestUserDelta(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	t.Run("round trip", func(t *testing.T) { testDeltaRoundTrip(t, s) })
	t.Run("removed and created", func(t *testing.T) { testDeltaRemovedAndCreated(t, s) })
	t.Run("id filter and latest", func(t *testing.T) { testDeltaFilterAndLatest(t, s) })
	t.Run("refused tokens", func(t *testing.T) { testDeltaRefusedTokens(t, s) })
}

func testDeltaRoundTrip(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	ids := userIDs(s, src)

	// Initial sync: every user exactly once, with the selected properties only.
	items, n, deltaLink := deltaSync(t, s, tok, "/users/delta?$select=displayName,accountEnabled",
		"Prefer", "odata.maxpagesize=10")
	if n < 3 {
		t.Errorf("initial sync took %d pages of 10 for %d users", n, len(ids))
	}
	want := slices.Sorted(slices.Values(ids))
	if got := itemIDs(items); !slices.Equal(got, want) {
		t.Fatalf("initial sync returned %d ids, want each of the %d users once", len(got), len(want))
	}
	for _, it := range items {
		if len(it) != 3 || it["displayName"] == nil || it["accountEnabled"] == nil {
			t.Fatalf("item %v, want id, displayName and accountEnabled only", it)
		}
	}
	if len(deltaLink) < 40 || strings.Contains(deltaLink, "displayName") {
		t.Errorf("delta link %q is not opaque", deltaLink)
	}

	// Nothing changed: the delta link returns nothing, and a fresh link.
	items, _, again := deltaSync(t, s, tok, deltaLink)
	if len(items) != 0 {
		t.Errorf("unchanged tenant: delta returned %v", items)
	}

	// Change two users (one of them twice): exactly those two come back, once each, as
	// they are now.
	do(t, s, tok, http.MethodPatch, "/users/"+ids[3], map[string]any{"accountEnabled": false})
	do(t, s, tok, http.MethodPost, "/users/"+ids[7]+"/revokeSignInSessions", nil)
	do(t, s, tok, http.MethodPatch, "/users/"+ids[3], map[string]any{"displayName": "Renamed Person"})
	items, _, next := deltaSync(t, s, tok, again)
	if got, want := itemIDs(items), slices.Sorted(slices.Values([]string{ids[3], ids[7]})); !slices.Equal(got, want) {
		t.Fatalf("delta after two changes = %v, want %v", got, want)
	}
	for _, it := range items {
		if it["id"] == ids[3] && (it["accountEnabled"] != false || it["displayName"] != "Renamed Person") {
			t.Errorf("changed user shows %v, want its current state", it)
		}
	}
	if items, _, _ := deltaSync(t, s, tok, next); len(items) != 0 {
		t.Errorf("second delta link returned %v, want nothing", items)
	}
}

func testDeltaRemovedAndCreated(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	_, _, link := deltaSync(t, s, tok, "/users/delta()")
	gone := userIDs(s, src)[5]

	if r := do(t, s, tok, http.MethodDelete, "/users/"+gone, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	r := do(t, s, tok, http.MethodPost, "/users", map[string]any{"accountEnabled": true,
		"displayName": "New Starter", "mailNickname": "new.starter",
		"userPrincipalName": "new.starter@contoso.com",
		"passwordProfile":   map[string]any{"password": "Vb8#nQe4!tZ"}})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	created := r.Body["id"].(string)

	items, _, _ := deltaSync(t, s, tok, link)
	if len(items) != 2 {
		t.Fatalf("delta = %v, want the removal and the new user", items)
	}
	for _, it := range items {
		switch it["id"] {
		case gone:
			removed, _ := it["@removed"].(map[string]any)
			if removed["reason"] != "changed" {
				t.Errorf("removed user = %v, want @removed reason changed", it)
			}
		case created:
			if it["userPrincipalName"] != "new.starter@contoso.com" || it["@removed"] != nil {
				t.Errorf("created user = %v", it)
			}
		default:
			t.Errorf("unexpected item %v", it)
		}
	}

	// A fresh initial sync does not mention the deleted user at all.
	items, _, _ = deltaSync(t, s, tok, "/users/delta?$select=id")
	if slices.Contains(itemIDs(items), gone) {
		t.Error("initial sync lists a deleted user")
	}
}

func testDeltaFilterAndLatest(t *testing.T, s *Server) {
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	ids := userIDs(s, src)

	path := "/users/delta?$filter=" + "id eq '" + ids[1] + "' or id eq '" + ids[2] + "'"
	items, _, link := deltaSync(t, s, tok, strings.ReplaceAll(path, " ", "%20"))
	if got := itemIDs(items); !slices.Equal(got, slices.Sorted(slices.Values(ids[1:3]))) {
		t.Fatalf("filtered initial sync = %v", got)
	}
	do(t, s, tok, http.MethodPatch, "/users/"+ids[1], map[string]any{"usageLocation": "DE"})
	do(t, s, tok, http.MethodPatch, "/users/"+ids[9], map[string]any{"usageLocation": "DE"})
	if items, _, _ := deltaSync(t, s, tok, link); !slices.Equal(itemIDs(items), []string{ids[1]}) {
		t.Errorf("filtered delta = %v, want only %s", itemIDs(items), ids[1])
	}

	r := do(t, s, tok, http.MethodGet, "/users/delta?$filter=startsWith(displayName,'A')", nil)
	if r.Status != 400 {
		t.Errorf("unsupported delta filter = %d, want 400", r.Status)
	}

	// $deltatoken=latest: no initial sync, only what happens afterwards.
	items, n, link := deltaSync(t, s, tok, "/users/delta?$deltatoken=latest")
	if len(items) != 0 || n != 1 {
		t.Errorf("latest = %d items on %d pages, want an empty page", len(items), n)
	}
	do(t, s, tok, http.MethodPatch, "/users/"+ids[8], map[string]any{"jobTitle": "Lead"})
	if items, _, _ := deltaSync(t, s, tok, link); !slices.Equal(itemIDs(items), []string{ids[8]}) {
		t.Errorf("delta after latest = %v, want only %s", itemIDs(items), ids[8])
	}
}

func testDeltaRefusedTokens(t *testing.T, s *Server) {
	tok := token(t, s, "source", "cutover")
	_, _, link := deltaSync(t, s, tok, "/users/delta?$select=id")
	_, _, targetLink := deltaSync(t, s, token(t, s, "target", "cutover"), "/users/delta?$select=id")
	_, tgtToken, _ := strings.Cut(targetLink, "$deltatoken=")
	_, srcToken, _ := strings.Cut(link, "$deltatoken=")

	tests := []struct{ name, path string }{
		{"garbage", "/users/delta?$deltatoken=not-a-token"},
		{"edited", "/users/delta?$deltatoken=" + flipChar(srcToken, len(srcToken)/2)},
		{"another tenant's", "/users/delta?$deltatoken=" + tgtToken},
		{"garbage skip token", "/users/delta?$skiptoken=abc"},
		{"very long", "/users/delta?$deltatoken=" + strings.Repeat("x", 9000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tok, http.MethodGet, tc.path, nil)
			if r.Status != 400 || r.errorCode() != "syncStateNotFound" {
				t.Errorf("status %d code %q, want 400 syncStateNotFound", r.Status, r.errorCode())
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		s.Advance(8 * 24 * time.Hour)
		tok := token(t, s, "source", "cutover")
		r := do(t, s, tok, http.MethodGet, link, nil)
		if r.Status != 400 || r.errorCode() != "syncStateNotFound" {
			t.Errorf("eight-day-old link = %d %q, want 400 syncStateNotFound", r.Status, r.errorCode())
		}
	})
}

// flipChar changes the character at i to a different base64url character.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
