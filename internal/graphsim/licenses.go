package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

var (
	permLicenseAssign = []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All",
		"Directory.ReadWrite.All"}
	permOrgRead = []string{"Organization.Read.All", "Organization.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All"}
)

func (s *Server) licenseRoutes() {
	s.handle("users.assignLicense", http.MethodPost, "users/{id}/assignLicense", permLicenseAssign,
		s.assignLicense)
	s.handle("subscribedSkus.list", http.MethodGet, "subscribedSkus", permOrgRead, s.listSKUs)
}

// props returns the subscribedSku properties the simulator serves. Service plans are not
// modelled, so servicePlans is empty.
func (k *SKU) props(t *Tenant) map[string]any {
	return map[string]any{
		"id":               t.ID + "_" + k.SkuID,
		"accountId":        t.ID,
		"accountName":      t.DisplayName,
		"skuId":            k.SkuID,
		"skuPartNumber":    k.SkuPartNumber,
		"appliesTo":        "User",
		"capabilityStatus": "Enabled",
		"consumedUnits":    k.Consumed,
		"prepaidUnits": map[string]any{"enabled": k.Enabled, "lockedOut": 0, "suspended": 0,
			"warning": 0},
		"servicePlans":    []any{},
		"subscriptionIds": []string{},
	}
}

// listSKUs serves GET /subscribedSkus: $select only, no $filter, not countable.
func (s *Server) listSKUs(c *call) {
	t := c.tenant
	c.list(listSpec{
		context: "subscribedSkus", typeName: "Microsoft.DirectoryServices.SubscribedSku",
		total: len(t.skus),
		known: stringSet("id", "accountId", "accountName", "skuId", "skuPartNumber", "appliesTo",
			"capabilityStatus", "consumedUnits", "prepaidUnits", "servicePlans", "subscriptionIds"),
		item: func(i int) map[string]any { return t.skus[i].props(t) },
	})
}

func (t *Tenant) sku(id string) *SKU {
	for _, k := range t.skus {
		if strings.EqualFold(k.SkuID, id) {
			return k
		}
	}
	return nil
}

// assignLicense serves POST /users/{id}/assignLicense. Both parameters are required (send an
// empty list when unused); a licence needs the user's usageLocation and a free seat. Adding
// a licence the user already holds succeeds and takes no further seat.
func (s *Server) assignLicense(c *call) {
	u := c.findUser()
	if u == nil || !c.requireJSONContentType() {
		return
	}
	var body map[string]json.RawMessage
	if !c.decodeBody(&body) {
		return
	}
	add, remove, err := parseAssignLicense(body)
	if err != nil {
		c.fail(http.StatusBadRequest, "Request_BadRequest", err.Error())
		return
	}
	if err := c.tenant.checkLicenseChange(u, add, remove); err != nil {
		c.fail(http.StatusBadRequest, "Request_BadRequest", err.Error())
		return
	}
	c.tenant.changeLicenses(u, add, remove)
	out := project(u.props(), userDefaults)
	out["@odata.context"] = c.contextURL("users/$entity")
	c.json(http.StatusOK, out)
}

// parseAssignLicense reads the two parameters of assignLicense, naming those missing as
// Graph does.
func parseAssignLicense(body map[string]json.RawMessage) (add, remove []string, err error) {
	var missing []string
	for _, p := range []string{"addLicenses", "removeLicenses"} {
		if raw, ok := body[p]; !ok || isJSONNull(raw) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("One or more parameters of the operation 'assignLicense' are "+
			"missing from the request payload. The missing parameters are: %s.",
			strings.Join(missing, ", "))
	}
	var adds []struct {
		SkuID         string   `json:"skuId"`
		DisabledPlans []string `json:"disabledPlans"`
	}
	if json.Unmarshal(body["addLicenses"], &adds) != nil {
		return nil, nil, fmt.Errorf("Invalid value specified for property 'addLicenses'.")
	}
	if json.Unmarshal(body["removeLicenses"], &remove) != nil {
		return nil, nil, fmt.Errorf("Invalid value specified for property 'removeLicenses'.")
	}
	for _, a := range adds {
		add = append(add, a.SkuID)
	}
	return add, remove, nil
}

// checkLicenseChange validates an assignLicense call against the tenant's subscriptions and
// the user, before anything changes.
func (t *Tenant) checkLicenseChange(u *User, add, remove []string) error {
	for _, id := range slices.Concat(add, remove) {
		if t.sku(id) == nil {
			return fmt.Errorf("License %s does not correspond to a valid company License.", id)
		}
	}
	for _, id := range remove {
		if !slices.ContainsFunc(u.Licenses, func(l string) bool { return strings.EqualFold(l, id) }) {
			return fmt.Errorf("User does not have a corresponding license.")
		}
	}
	if len(add) > 0 && u.UsageLocation == "" {
		return fmt.Errorf("License assignment cannot be done for user with invalid usage location.")
	}
	for _, id := range add {
		k := t.sku(id)
		if !slices.Contains(u.Licenses, k.SkuID) && k.Consumed >= k.Enabled {
			return fmt.Errorf("Subscription %s does not have any available licenses.", k.SkuID)
		}
	}
	return nil
}

func (t *Tenant) changeLicenses(u *User, add, remove []string) {
	for _, id := range remove {
		k := t.sku(id)
		if i := slices.Index(u.Licenses, k.SkuID); i >= 0 {
			u.Licenses = slices.Delete(u.Licenses, i, i+1)
			k.Consumed--
		}
	}
	for _, id := range add {
		k := t.sku(id)
		if !slices.Contains(u.Licenses, k.SkuID) {
			u.Licenses = append(u.Licenses, k.SkuID)
			k.Consumed++
		}
	}
	t.touchUser(u)
}
