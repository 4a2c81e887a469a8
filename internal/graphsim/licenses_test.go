package graphsim

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestLicenses(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	ids := userIDs(s, src)
	var skuID string
	var enabled, consumed int
	locked(s, func() {
		k := src.skus[0]
		skuID, enabled, consumed = k.SkuID, k.Enabled, k.Consumed
	})
	// The seed gives every source user the tenant's one SKU.
	holder := ids[0]
	// A user without usageLocation and without a licence.
	locked(s, func() {
		u := src.users[ids[1]]
		u.UsageLocation, u.Licenses = "", nil
		src.skus[0].Consumed--
	})
	consumed--
	seats := func() (c int) {
		locked(s, func() { c = src.skus[0].Consumed })
		return c
	}
	add := []map[string]any{{"skuId": skuID, "disabledPlans": []string{}}}

	t.Run("subscribedSkus", func(t *testing.T) {
		r := do(t, s, token(t, s, "source", "cutover-readonly"), http.MethodGet,
			"/subscribedSkus?$select=skuId,skuPartNumber,prepaidUnits,consumedUnits", nil)
		if r.Status != 200 {
			t.Fatalf("subscribedSkus = %d %s", r.Status, r.Raw)
		}
		v := r.Body["value"].([]any)
		k := v[0].(map[string]any)
		pre := k["prepaidUnits"].(map[string]any)
		if len(v) != 1 || k["skuId"] != skuID || k["skuPartNumber"] != "ENTERPRISEPACK" ||
			pre["enabled"] != float64(enabled) || k["consumedUnits"] != float64(consumed) {
			t.Errorf("subscribedSkus = %s", r.Raw)
		}
		if r := do(t, s, tok, http.MethodGet, "/subscribedSkus?$filter=skuPartNumber eq 'X'", nil); r.Status != 400 {
			t.Errorf("$filter on subscribedSkus = %d, want 400", r.Status)
		}
	})

	tests := []struct {
		name    string
		user    string
		body    map[string]any
		status  int
		message string
		seats   int // consumed units afterwards
	}{
		{name: "removeLicenses missing", user: holder, body: map[string]any{"addLicenses": add},
			status: 400, message: "The missing parameters are: removeLicenses.", seats: consumed},
		{name: "both missing", user: holder, body: map[string]any{}, status: 400,
			message: "The missing parameters are: addLicenses, removeLicenses.", seats: consumed},
		{name: "unknown sku", user: holder, status: 400, message: "valid company License", seats: consumed,
			body: map[string]any{"addLicenses": []map[string]any{{"skuId": "0b1b2c3d-0000-4000-8000-000000000000"}},
				"removeLicenses": []string{}}},
		{name: "no usage location", user: ids[1], body: map[string]any{"addLicenses": add, "removeLicenses": []string{}},
			status: 400, message: "invalid usage location", seats: consumed},
		{name: "remove one not held", user: ids[1], body: map[string]any{"addLicenses": []any{},
			"removeLicenses": []string{skuID}}, status: 400, message: "corresponding license", seats: consumed},
		{name: "remove", user: holder, body: map[string]any{"addLicenses": []any{}, "removeLicenses": []string{skuID}},
			status: 200, seats: consumed - 1},
		{name: "add back", user: holder, body: map[string]any{"addLicenses": add, "removeLicenses": []string{}},
			status: 200, seats: consumed},
		{name: "add again takes no seat", user: holder, body: map[string]any{"addLicenses": add,
			"removeLicenses": []string{}}, status: 200, seats: consumed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tok, http.MethodPost, "/users/"+tc.user+"/assignLicense", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 400 && (r.errorCode() != "Request_BadRequest" || !strings.Contains(string(r.Raw), tc.message)) {
				t.Errorf("error %s, want Request_BadRequest with %q", r.Raw, tc.message)
			}
			if tc.status == 200 && r.Body["id"] != tc.user {
				t.Errorf("response is not the user: %s", r.Raw)
			}
			if got := seats(); got != tc.seats {
				t.Errorf("consumed units %d, want %d", got, tc.seats)
			}
		})
	}

	t.Run("filter by licence", func(t *testing.T) {
		var want []string
		locked(s, func() {
			for _, id := range src.userOrder {
				if slices.Contains(src.users[id].Licenses, skuID) {
					want = append(want, id)
				}
			}
		})
		items, _ := pages(t, s, tok, "/users?$select=id&$top=5&$filter=assignedLicenses/any(x:x/skuId%20eq%20"+skuID+")")
		var got []string
		for _, it := range items {
			got = append(got, it["id"].(string))
		}
		if len(want) == len(ids) || !slices.Equal(got, want) {
			t.Errorf("licensed users = %v, want %v (of %d users)", got, want, len(ids))
		}
	})
	t.Run("no free seats", func(t *testing.T) {
		locked(s, func() { src.skus[0].Consumed = src.skus[0].Enabled })
		do(t, s, tok, http.MethodPatch, "/users/"+ids[1], map[string]any{"usageLocation": "GB"})
		r := do(t, s, tok, http.MethodPost, "/users/"+ids[1]+"/assignLicense",
			map[string]any{"addLicenses": add, "removeLicenses": []string{}})
		if r.Status != 400 || !strings.Contains(string(r.Raw), "available licenses") {
			t.Errorf("assign without seats = %d %s", r.Status, r.Raw)
		}
		if u := stateUser(s, src, ids[1]); slices.Contains(u.Licenses, skuID) {
			t.Error("licence assigned without a free seat")
		}
	})
	t.Run("read-only app", func(t *testing.T) {
		r := do(t, s, token(t, s, "source", "cutover-readonly"), http.MethodPost, "/users/"+holder+"/assignLicense",
			map[string]any{"addLicenses": add, "removeLicenses": []string{}})
		if r.Status != 403 {
			t.Errorf("assign with read-only app = %d, want 403", r.Status)
		}
	})
}
