package graphsim

import (
	"net/http"
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

// timeString formats a time as Graph does; the zero time is null.
func timeString(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
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
	var mail any
	if u.Mail != "" {
		mail = u.Mail
	}
	var employeeID any
	if u.EmployeeID != "" {
		employeeID = u.EmployeeID
	}
	var sync any
	if u.OnPremisesSync {
		sync = true
	}
	return map[string]any{
		"id":                              u.ID,
		"userPrincipalName":               u.UPN,
		"displayName":                     u.DisplayName,
		"givenName":                       u.GivenName,
		"surname":                         u.Surname,
		"mail":                            mail,
		"mailNickname":                    u.MailNickname,
		"employeeId":                      employeeID,
		"jobTitle":                        u.JobTitle,
		"department":                      u.Department,
		"usageLocation":                   u.UsageLocation,
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

func (s *Server) userRoutes() {
	s.handle("users.list", http.MethodGet, "users", permUserRead, s.listUsers)
	s.handle("users.get", http.MethodGet, "users/{id}", permUserRead, s.getUser)
	s.handle("users.revokeSignInSessions", http.MethodPost, "users/{id}/revokeSignInSessions",
		permUserRevoke, s.revokeSessions)
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
	if containsFold(c.query.Get("$select"), "signInActivity") || containsFold(c.query.Get("$filter"), "signInActivity") {
		spec.maxTop = 500
	}
	c.list(spec)
}

// findUser resolves {id} (object id or sign-in name) or answers 404.
func (c *call) findUser() *User {
	u := c.tenant.userByKey(c.param("id"))
	if u == nil {
		c.fail(http.StatusNotFound, "Request_ResourceNotFound",
			"Resource '"+c.param("id")+"' does not exist or one of its queried reference-property objects are not present.")
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

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
