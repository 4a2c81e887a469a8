package graphsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userDefaults is the property set Graph v1.0 returns for a user without $select.
var userDefaults = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

// userSelectable lists the user properties the simulator can return.
var userSelectable = stringSet("id", "userPrincipalName", "displayName", "givenName", "surname",
	"mail", "mailNickname", "employeeId", "jobTitle", "department", "usageLocation", "accountEnabled",
	"onPremisesSyncEnabled", "createdDateTime", "signInSessionsValidFromDateTime", "proxyAddresses",
	"assignedLicenses", "licenseAssignmentStates", "businessPhones", "mobilePhone", "officeLocation",
	"preferredLanguage", "userType", "signInActivity", "lastPasswordChangeDateTime")

// permUserPatch admits a PATCH /users/{id} caller who may change at least one property;
// updateUser then checks every property sent against its own permissions.
var permUserPatch = unionPerms(permUserUpdate, permUserEnable, permUserPwd)

// timeString formats a time as Graph does; the zero time is null.
func timeString(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// nullable turns an unset string property into JSON null, as Graph shows it.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// props returns every property of the user that the simulator serves.
func (u *User) props() map[string]any {
	licenses := make([]any, 0, len(u.Licenses))
	states := make([]any, 0, len(u.Licenses))
	for _, sku := range u.Licenses {
		licenses = append(licenses, map[string]any{"skuId": sku, "disabledPlans": []string{}})
		states = append(states, map[string]any{"skuId": sku, "assignedByGroup": nil, "state": "Active",
			"error": "None", "disabledPlans": []string{}, "lastUpdatedDateTime": timeString(u.Created)})
	}
	proxies := u.ProxyAddresses
	if proxies == nil {
		proxies = []string{}
	}
	var sync any
	if u.OnPremisesSync {
		sync = true
	}
	return map[string]any{
		"id":                              u.ID,
		"userPrincipalName":               u.UPN,
		"displayName":                     u.DisplayName,
		"givenName":                       nullable(u.GivenName),
		"surname":                         nullable(u.Surname),
		"mail":                            nullable(u.Mail),
		"mailNickname":                    u.MailNickname,
		"employeeId":                      nullable(u.EmployeeID),
		"jobTitle":                        nullable(u.JobTitle),
		"department":                      nullable(u.Department),
		"usageLocation":                   nullable(u.UsageLocation),
		"accountEnabled":                  u.AccountEnabled,
		"onPremisesSyncEnabled":           sync,
		"createdDateTime":                 timeString(u.Created),
		"signInSessionsValidFromDateTime": timeString(u.SessionsValidFrom),
		"lastPasswordChangeDateTime":      timeString(u.PasswordSet),
		"proxyAddresses":                  proxies,
		"assignedLicenses":                licenses,
		"licenseAssignmentStates":         states,
		"businessPhones":                  []string{},
		"mobilePhone":                     nil,
		"officeLocation":                  nil,
		"preferredLanguage":               "en-GB",
		"userType":                        "Member",
		"signInActivity": map[string]any{
			"lastSignInDateTime":                timeString(u.SignIns.LastSignIn),
			"lastSignInRequestId":               nil,
			"lastNonInteractiveSignInDateTime":  timeString(u.SignIns.LastNonInteractiveSignIn),
			"lastNonInteractiveSignInRequestId": nil,
			"lastSuccessfulSignInDateTime":      timeString(u.SignIns.LastSuccessfulSignIn),
			"lastSuccessfulSignInRequestId":     nil,
		},
	}
}

// userRoutes registers the user endpoints. Literal segments ($count, delta) come before
// users/{id}, which would otherwise take them for an id.
func (s *Server) userRoutes() {
	s.handle("users.list", http.MethodGet, "users", permUserRead, s.listUsers)
	s.handle("users.create", http.MethodPost, "users", permUserWrite, s.createUser)
	s.handle("users.count", http.MethodGet, "users/$count", permUserRead, s.countUsers)
	s.handle("users.delta", http.MethodGet, "users/delta", permUserRead, s.userDelta)
	s.handle("users.delta", http.MethodGet, "users/delta()", permUserRead, s.userDelta)
	s.handle("users.get", http.MethodGet, "users/{id}", permUserRead, s.getUser)
	s.handle("users.update", http.MethodPatch, "users/{id}", permUserPatch, s.updateUser)
	s.handle("users.delete", http.MethodDelete, "users/{id}", permUserWrite, s.deleteUser)
	s.handle("users.revokeSignInSessions", http.MethodPost, "users/{id}/revokeSignInSessions",
		permUserRevoke, s.revokeSessions)
	s.licenseRoutes()
}

func (s *Server) userSpec(c *call) listSpec {
	t := c.tenant
	return listSpec{
		context: "users", typeName: "Microsoft.DirectoryServices.User",
		total: len(t.userOrder), defaults: userDefaults, known: userSelectable,
		item: func(i int) map[string]any {
			u := t.users[t.userOrder[i]]
			if u == nil {
				return nil
			}
			return u.props()
		},
		filterable: true, countable: true,
	}
}

func (s *Server) listUsers(c *call) {
	spec := s.userSpec(c)
	// Selecting or filtering on signInActivity caps the page at 500.
	if containsFold(c.query.Get("$select"), "signInActivity") ||
		containsFold(c.query.Get("$filter"), "signInActivity") {
		spec.maxTop = 500
	}
	c.list(spec)
}

// countUsers serves GET /users/$count: the number of users, optionally filtered, as a plain
// number. Counting is an advanced query, so it needs ConsistencyLevel: eventual, and with
// the header the advanced filter forms (ne, not, endsWith) are allowed too.
func (s *Server) countUsers(c *call) {
	if !c.eventual() {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"$count is not currently supported without the ConsistencyLevel: eventual header.")
		return
	}
	f := c.query.Get("$filter")
	if f == "" {
		c.text(http.StatusOK, strconv.Itoa(len(c.tenant.users)))
		return
	}
	expr, err := parseFilter(f)
	if err != nil {
		c.fail(http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	n := 0
	for _, id := range c.tenant.userOrder {
		if u := c.tenant.users[id]; u != nil && expr.eval(u.props()) {
			n++
		}
	}
	c.text(http.StatusOK, strconv.Itoa(n))
}

// text writes a text/plain response, as Graph does for $count segments.
func (c *call) text(status int, body string) {
	c.commonHeaders()
	c.header("Content-Type", "text/plain")
	c.w.WriteHeader(status)
	c.w.Write([]byte(body))
	c.done(status, "")
}

// findUser resolves {id} (object id or sign-in name) or answers 404.
func (c *call) findUser() *User {
	u := c.tenant.userByKey(c.param("id"))
	if u == nil {
		c.fail(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+c.param("id")+
			"' does not exist or one of its queried reference-property objects are not present.")
	}
	return u
}

func (s *Server) getUser(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	c.getOne(s.userSpec(c), u.props())
}

// createUser serves POST /users. Graph requires five properties, checks the sign-in name
// like an update does, and answers 201 with the new user's default properties.
func (s *Server) createUser(c *call) {
	if !c.requireJSONContentType() {
		return
	}
	body, ok := c.decodeUserBody()
	if !ok {
		return
	}
	for _, name := range []string{"accountEnabled", "displayName", "mailNickname", "passwordProfile",
		"userPrincipalName"} {
		if raw, ok := body[name]; !ok || isJSONNull(raw) {
			c.fail(http.StatusBadRequest, "Request_BadRequest", invalidUserValue(name).Error())
			return
		}
	}
	if pp, err := parsePasswordProfile(body["passwordProfile"]); err != nil || pp.Password == nil {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"A password must be specified to create a new user.")
		return
	}

	u := &User{ID: s.newID(), Created: c.now, SessionsValidFrom: c.now, PasswordSet: c.now}
	if !c.applyUserBody(u, body) {
		return
	}
	c.tenant.addUser(u)
	out := project(u.props(), userDefaults)
	out["@odata.context"] = c.contextURL("users/$entity")
	c.json(http.StatusCreated, out)
}

// updateUser serves PATCH /users/{id}: only the properties sent change, all or none.
func (s *Server) updateUser(c *call) {
	u := c.findUser()
	if u == nil || !c.requireJSONContentType() {
		return
	}
	body, ok := c.decodeUserBody()
	if !ok {
		return
	}
	// Authorise property by property: the route admitted anyone who may change something.
	for _, name := range sortedKeys(body) {
		if !c.granted(userWritable[name].perms) {
			c.fail(http.StatusForbidden, "Authorization_RequestDenied",
				"Insufficient privileges to complete the operation.")
			return
		}
	}
	// Attributes mastered in on-premises Active Directory change there, not in the cloud.
	if u.OnPremisesSync {
		for name := range body {
			if userWritable[name].synced {
				c.fail(http.StatusBadRequest, "Request_BadRequest", "Unable to update the specified "+
					"properties for on-premises mastered Directory Sync objects or objects currently "+
					"undergoing migration.")
				return
			}
		}
	}
	if !c.applyUserBody(u, body) {
		return
	}
	if len(body) > 0 {
		c.tenant.touchUser(u)
	}
	c.noContent(http.StatusNoContent)
}

// deleteUser serves DELETE /users/{id}. Graph moves the user to deleted items, where it can
// be restored for 30 days; delta reports it as removed with reason "changed". The simulator
// does not keep deleted items, and frees the user's licences at once.
func (s *Server) deleteUser(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	t := c.tenant
	for _, sku := range t.skus {
		if slices.Contains(u.Licenses, sku.SkuID) {
			sku.Consumed--
		}
	}
	t.removeUser(u)
	c.noContent(http.StatusNoContent)
}

// removeUser deletes u from t and records the removal in the delta log.
func (t *Tenant) removeUser(u *User) {
	delete(t.users, u.ID)
	delete(t.upnIndex, strings.ToLower(u.UPN))
	t.userOrder = removeID(t.userOrder, u.ID)
	seq := int64(len(t.changes)) + 1
	t.changes = append(t.changes, userChange{seq: seq, userID: u.ID, removed: true})
}

// revokeSessions invalidates every refresh token and session cookie issued to the user
// before now, by moving signInSessionsValidFromDateTime.
func (s *Server) revokeSessions(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	u.SessionsValidFrom = c.now
	c.tenant.touchUser(u)
	s.onRevoke(c.tenant, u, c.now)
	c.json(http.StatusOK, map[string]any{"@odata.context": c.contextURL("Edm.Boolean"), "value": true})
}

// granted reports whether the caller holds any of perms.
func (c *call) granted(perms []string) bool {
	for _, p := range perms {
		if c.roles[p] {
			return true
		}
	}
	return false
}

// unionPerms merges permission lists, keeping the first occurrence of each.
func unionPerms(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, p := range l {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
