package graphsim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeCall builds a call for a route pattern without serving it.
func probeCall(method, pattern, query string) *call {
	r := httptest.NewRequest(method, "https://sim.test/v1.0/"+pattern+"?"+query, nil)
	return &call{r: r, query: parseQuery(query), params: map[string]string{},
		route: &route{method: method, segs: strings.Split(pattern, "/")}}
}

// GRAPH.md 12.2: costs per path and method, with the query modifiers.
func TestCostTable(t *testing.T) {
	cases := []struct {
		method, pattern, query string
		family                 string
		ru, writes             int
	}{
		{"GET", "users", "", familyIdentity, 2, 0},
		{"GET", "users", "$select=id,userPrincipalName", familyIdentity, 1, 0},
		{"GET", "users", "$select=id&$top=999", familyIdentity, 1, 0},
		{"GET", "users", "$top=5", familyIdentity, 1, 0},
		{"GET", "users", "$select=id&$top=5", familyIdentity, 1, 0}, // never below 1
		{"GET", "users/{id}", "", familyIdentity, 1, 0},
		{"GET", "users/{id}", "$expand=manager", familyIdentity, 2, 0},
		{"GET", "users/{id}/licenseDetails", "", familyIdentity, 2, 0},
		{"GET", "users/delta", "", familyIdentity, 1, 0},
		{"GET", "domains/{id}/domainNameReferences", "", familyIdentity, 4, 0},
		{"GET", "subscribedSkus", "", familyIdentity, 3, 0},
		{"GET", "subscribedSkus", "$select=skuId", familyIdentity, 2, 0},
		{"GET", "groups/{id}/transitiveMembers", "$select=id", familyIdentity, 4, 0},
		{"GET", "groups/{id}/members", "", familyIdentity, 3, 0},
		{"POST", "directoryObjects/getByIds", "", familyIdentity, 5, 0},
		{"POST", "directoryObjects/getByIds", "$select=id", familyIdentity, 2, 0},
		{"POST", "users/{id}/revokeSignInSessions", "", familyIdentity, 1, 1},
		{"PATCH", "users/{id}", "", familyIdentity, 1, 1},
		{"DELETE", "devices/{id}", "", familyIdentity, 1, 1},
		{"POST", "deviceManagement/managedDevices/{id}/retire", "", familyIntune, 0, 1},
		{"GET", "deviceManagement/managedDevices", "", familyIntune, 0, 0},
		{"GET", "users/{id}/managedDevices", "", familyIntune, 0, 0},
		{"DELETE", "deviceManagement/windowsAutopilotDeviceIdentities/{id}", "", familyEnrollment, 0, 1},
		{"POST", "users/{id}/sendMail", "", familyOutlook, 0, 1},
		{"GET", "reports/authenticationMethods/userRegistrationDetails", "", familyReports, 0, 0},
		{"GET", "auditLogs/signIns", "", familyReports, 0, 0},
		{"POST", "$batch", "", familyBatch, 0, 0},
	}
	for _, tc := range cases {
		k := classify(probeCall(tc.method, tc.pattern, tc.query))
		if k.family != tc.family || k.ru != tc.ru || k.writes != tc.writes {
			t.Errorf("%s %s?%s: %s %d RU %d writes, want %s %d RU %d writes", tc.method, tc.pattern,
				tc.query, k.family, k.ru, k.writes, tc.family, tc.ru, tc.writes)
		}
	}
}

// Each request is charged on every bucket that meters it, most specific first; a $batch
// envelope costs nothing, or one request on the global bucket when configured.
func TestChargedBuckets(t *testing.T) {
	cases := []struct {
		method, pattern, query string
		model                  Model
		want                   string
	}{
		{"GET", "users", "", Model{},
			"entra-ru:2 entra-app-ru:2 global:1"},
		{"GET", "users", "$select=id,signInActivity", Model{},
			"entra-ru:1 sign-in-activity:1 entra-app-ru:1 sign-in-activity-app:1 global:1"},
		{"POST", "users/{id}/revokeSignInSessions", "", Model{},
			"entra-ru:1 entra-writes:1 entra-tenant-writes:1 entra-app-ru:1 entra-app-writes:1 global:1"},
		{"DELETE", "devices/{id}", "", Model{},
			"entra-ru:1 entra-writes:1 entra-device-writes:1 entra-tenant-writes:1 " +
				"entra-app-ru:1 entra-app-writes:1 global:1"},
		{"POST", "deviceManagement/managedDevices/{id}/wipe", "", Model{},
			"intune-writes:1 intune-any:1 intune-tenant-writes:1 intune-tenant-any:1 global:1"},
		{"GET", "deviceManagement/managedDevices", "", Model{},
			"intune-any:1 intune-tenant-any:1 global:1"},
		{"POST", "users/{id}/sendMail", "", Model{}, "outlook:1 global:1"},
		{"GET", "reports/authenticationMethods/userRegistrationDetails", "", Model{},
			"reports:1 reports-app:1 global:1"},
		{"POST", "$batch", "", Model{}, ""},
		{"POST", "$batch", "", Model{BatchEnvelopeGlobal: true}, "global:1"},
	}
	for _, tc := range cases {
		sm, err := newSimModel(tc.model, 1, 1, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c := probeCall(tc.method, tc.pattern, tc.query)
		var got []string
		for _, ch := range sm.charges(c, classify(c)) {
			got = append(got, ch.def.name+":"+strconv.FormatFloat(ch.amount, 'f', -1, 64))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s %s?%s charged %q, want %q", tc.method, tc.pattern, tc.query,
				strings.Join(got, " "), tc.want)
		}
	}
}

// Successful identity responses carry x-ms-resource-unit, and the log records the charge and
// the level of every bucket touched.
func TestResourceUnitHeaderAndLog(t *testing.T) {
	f := newFixture(t, frozen(Options{}), nil)
	for path, want := range map[string]string{"/users": "2", "/users?$select=id": "1",
		"/users/" + f.user.ID: "1"} {
		r := f.must(t, http.MethodGet, path)
		if r.Status != http.StatusOK || r.Header.Get("x-ms-resource-unit") != want {
			t.Errorf("GET %s: %d x-ms-resource-unit %q, want %s", path, r.Status,
				r.Header.Get("x-ms-resource-unit"), want)
		}
	}
	f.s.ResetBuckets("")
	f.revoke(t)
	e := f.last(t)
	if e.Family != familyIdentity || e.ResourceUnits != 1 || e.Writes != 1 || e.Decision != "ok" {
		t.Errorf("revoke logged as %s %d RU %d writes %s", e.Family, e.ResourceUnits, e.Writes, e.Decision)
	}
	want := []BucketLevel{{bEntraRU, 7999}, {bEntraWrites, 2999}, {bEntraTenantWrites, 17999},
		{bEntraAppRU, 149999}, {bEntraAppWrites, 34999}, {bGlobal, 129999}}
	if len(e.Buckets) != len(want) {
		t.Fatalf("logged buckets %+v, want %+v", e.Buckets, want)
	}
	for i := range want {
		if e.Buckets[i] != want[i] {
			t.Errorf("logged bucket %d: %+v, want %+v", i, e.Buckets[i], want[i])
		}
	}
	if e.InFlight < 1 {
		t.Errorf("in flight logged as %d", e.InFlight)
	}
}
