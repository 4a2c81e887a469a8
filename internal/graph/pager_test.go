package graph

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPagerFollowsLinksVerbatim serves pages whose next links carry odd encodings and an
// empty page, and checks that each link is requested exactly as given, with the
// ConsistencyLevel header on every page.
func TestPagerFollowsLinksVerbatim(t *testing.T) {
	var base string
	links := []string{
		"/v1.0/users?$skiptoken=RFNwdAIAAQAAAD8%2bNjQ6MGIw%3d&$select=id",
		"/v1.0/users?$skiptoken=page+three%20x&$select=id",
		"/v1.0/users?$skiptoken=" + strings.Repeat("a", 9000),
	}
	fg, c := newFakeGraph(t, func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		switch n {
		case 0:
			return 200, nil, fmt.Sprintf(`{"@odata.count":4,"value":[{"id":"1"},{"id":"2"}],`+
				`"@odata.nextLink":%q}`, base+links[0])
		case 1: // an empty page that still has a next link
			return 200, nil, fmt.Sprintf(`{"value":[],"@odata.nextLink":%q}`, base+links[1])
		case 2:
			return 200, nil, fmt.Sprintf(`{"value":[{"id":"3"}],"@odata.nextLink":%q}`, base+links[2])
		}
		return 200, nil, `{"value":[{"id":"4","surprise":{"nested":true}}],"@odata.type":"x"}`
	}, nil)
	base = fg.srv.URL

	var ids []string
	var counts []int64
	for page, err := range Pages[User](t.Context(), c, ListUsersRequest(ListOptions{Count: true, Advanced: true})) {
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		counts = append(counts, page.Count)
		for _, u := range page.Items {
			ids = append(ids, u.ID)
		}
	}
	if strings.Join(ids, ",") != "1,2,3,4" {
		t.Errorf("ids %v, want 1,2,3,4", ids)
	}
	if counts[0] != 4 || counts[1] != -1 {
		t.Errorf("counts %v, want 4 on the first page only", counts)
	}
	reqs := fg.requests()
	if len(reqs) != 4 {
		t.Fatalf("sent %d requests, want 4", len(reqs))
	}
	for i, l := range links {
		if got := reqs[i+1].URI; got != l {
			t.Errorf("page %d requested %.80s, want the link verbatim %.80s", i+2, got, l)
		}
	}
	for i, r := range reqs {
		if r.Header.Get("ConsistencyLevel") != "eventual" {
			t.Errorf("page %d lacks ConsistencyLevel: eventual", i+1)
		}
	}
}

func TestItemsStopsEarlyAndReportsErrors(t *testing.T) {
	fg, c := newFakeGraph(t, func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
		if n == 0 {
			return 200, nil, `{"value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"/never"}`
		}
		return 403, nil, graphError("Authorization_RequestDenied", "no")
	}, nil)
	for u, err := range c.ListUsers(t.Context(), ListOptions{}) {
		if err != nil || u.ID != "1" {
			t.Fatalf("first item %+v %v", u, err)
		}
		break
	}
	if n := len(fg.requests()); n != 1 {
		t.Errorf("breaking after one item sent %d requests, want 1", n)
	}

	var base string
	fg2, c2 := newFakeGraph(t, func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
		if n == 0 {
			return 200, nil, fmt.Sprintf(`{"value":[{"id":"1"}],"@odata.nextLink":"%s/v1.0/users?$skiptoken=2"}`,
				base)
		}
		return 403, nil, graphError("Authorization_RequestDenied", "no")
	}, nil)
	base = fg2.srv.URL
	var got []string
	var last error
	for u, err := range c2.ListUsers(t.Context(), ListOptions{}) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, u.ID)
	}
	if len(got) != 1 || !hasStatus(last, 403) {
		t.Errorf("items %v, last error %v; want one item then the 403", got, last)
	}
}

func TestDeltaLink(t *testing.T) {
	var base string
	fg, c := newFakeGraph(t, func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		switch {
		case n == 0:
			return 200, nil, fmt.Sprintf(`{"value":[{"id":"1"}],"@odata.nextLink":"%s/v1.0/users/delta?$skiptoken=x"}`, base)
		case n == 1:
			return 200, nil, fmt.Sprintf(`{"value":[{"id":"2","@removed":{"reason":"deleted"}}],`+
				`"@odata.deltaLink":"%s/v1.0/users/delta?$deltatoken=d1"}`, base)
		case strings.Contains(r.URL.RawQuery, "deltatoken=d1"):
			return 200, nil, fmt.Sprintf(`{"value":[],"@odata.deltaLink":"%s/v1.0/users/delta?$deltatoken=d2"}`, base)
		}
		return 400, nil, graphError("resyncRequired", "resync")
	}, nil)
	base = fg.srv.URL

	p := c.UsersDelta("", "id", "accountEnabled")
	var removed []string
	for page, err := range p.All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			if u.Removed != nil {
				removed = append(removed, u.ID+":"+u.Removed.Reason)
			}
		}
	}
	if p.DeltaLink() != base+"/v1.0/users/delta?$deltatoken=d1" {
		t.Fatalf("delta link %q", p.DeltaLink())
	}
	if len(removed) != 1 || removed[0] != "2:deleted" {
		t.Errorf("removed %v, want 2:deleted", removed)
	}
	if q := fg.requests()[0].RawQuery; q != "$select=id,accountEnabled" {
		t.Errorf("first delta query %q, want only $select", q)
	}

	next := c.UsersDelta(p.DeltaLink())
	for _, err := range next.All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if next.DeltaLink() != base+"/v1.0/users/delta?$deltatoken=d2" {
		t.Errorf("second round delta link %q", next.DeltaLink())
	}

	dead := c.UsersDelta(base + "/v1.0/users/delta?$deltatoken=dead")
	if _, err := dead.Next(t.Context()); err == nil || !strings.Contains(err.Error(), "resyncRequired") {
		t.Errorf("dead link: %v, want resyncRequired", err)
	}
}
