package graphsim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// registrationProps lists the userRegistrationDetails properties, all returned by default.
var registrationProps = stringSet("id", "userPrincipalName", "userDisplayName", "userType",
	"isAdmin", "isMfaRegistered", "isMfaCapable", "isPasswordlessCapable", "isSsprRegistered",
	"isSsprEnabled", "isSsprCapable", "isSystemPreferredAuthenticationMethodEnabled",
	"systemPreferredAuthenticationMethods", "userPreferredMethodForSecondaryAuthentication",
	"methodsRegistered", "lastUpdatedDateTime")

// registrationMaxTop is the largest page the report serves. Microsoft does not publish it
// (GRAPH.md 15.7); 999 is the common Entra ceiling, and the default page is 100.
const registrationMaxTop = 999

func (s *Server) reportRoutes() {
	const base = "reports/authenticationMethods/userRegistrationDetails"
	s.handle("reports.userRegistrationDetails.list", http.MethodGet, base, permReports,
		s.listRegistrations)
	s.handle("reports.userRegistrationDetails.get", http.MethodGet, base+"/{userId}", permReports,
		s.getRegistration)
}

// registration computes the user's row of the registration report from the methods the
// simulator holds, so the report follows every registration and deletion immediately (no
// reporting lag is modelled).
//
// Only Microsoft Authenticator counts as an MFA method here: the password is not one, and a
// Temporary Access Pass is a bootstrap credential that the report does not list among
// methodsRegistered. Authenticator push also serves self-service password reset, and
// passwordless phone sign-in is not modelled, so no user is passwordless capable.
func registration(u *User) map[string]any {
	methods := []string{}
	preferred := "none"
	system := []string{}
	if len(u.Authenticators) > 0 {
		methods = append(methods, "microsoftAuthenticatorPush")
		preferred = "push"
		system = append(system, "push")
	}
	mfa := len(methods) > 0
	return map[string]any{
		"id":                    u.ID,
		"userPrincipalName":     u.UPN,
		"userDisplayName":       u.DisplayName,
		"userType":              "member",
		"isAdmin":               u.IsAdmin,
		"isMfaRegistered":       mfa,
		"isMfaCapable":          mfa,
		"isPasswordlessCapable": false,
		"isSsprRegistered":      mfa,
		"isSsprEnabled":         true,
		"isSsprCapable":         mfa,
		"isSystemPreferredAuthenticationMethodEnabled":  true,
		"systemPreferredAuthenticationMethods":          system,
		"userPreferredMethodForSecondaryAuthentication": preferred,
		"methodsRegistered":                             methods,
		"lastUpdatedDateTime":                           timeString(registrationUpdated(u)),
	}
}

// registrationUpdated is when the user's registrations last changed: the last change made
// through Graph, else the newest seeded registration, else the account's creation.
func registrationUpdated(u *User) time.Time {
	if !u.MethodsUpdated.IsZero() {
		return u.MethodsUpdated
	}
	last := u.Created
	for _, a := range u.Authenticators {
		if a.Created.After(last) {
			last = a.Created
		}
	}
	return last
}

// requirePremium refuses the report in a tenant without Microsoft Entra ID P1 or P2, with
// the code and message Entra's reporting service uses.
func (c *call) requirePremium() bool {
	if c.tenant.premium {
		return true
	}
	c.fail(http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
		"Neither tenant is B2C or tenant doesn't have premium license")
	return false
}

func registrationSpec(users []*User) listSpec {
	return listSpec{
		context:  "reports/authenticationMethods/userRegistrationDetails",
		typeName: "microsoft.graph.userRegistrationDetails",
		total:    len(users),
		item:     func(i int) map[string]any { return registration(users[i]) },
		known:    registrationProps, maxTop: registrationMaxTop, filterable: true,
	}
}

// listRegistrations serves the report with $filter, $select, $top, $orderby and paging.
func (s *Server) listRegistrations(c *call) {
	if !c.requirePremium() {
		return
	}
	users, ok := c.registrationOrder()
	if !ok {
		return
	}
	c.list(registrationSpec(users))
}

// registrationOrder lists the tenant's users in the order $orderby asks for: one clause on
// userPrincipalName or userDisplayName, ascending or descending. Without it the order is the
// directory's, which keeps skip tokens stable between pages.
func (c *call) registrationOrder() ([]*User, bool) {
	t := c.tenant
	users := make([]*User, 0, len(t.userOrder))
	for _, id := range t.userOrder {
		if u := t.users[id]; u != nil {
			users = append(users, u)
		}
	}
	raw := strings.TrimSpace(c.query.Get("$orderby"))
	if raw == "" {
		return users, true
	}
	fields := strings.Fields(raw)
	desc := len(fields) == 2 && strings.EqualFold(fields[1], "desc")
	var key func(u *User) string
	switch {
	case len(fields) > 2 || (len(fields) == 2 && !desc && !strings.EqualFold(fields[1], "asc")):
	case strings.EqualFold(fields[0], "userPrincipalName"):
		key = func(u *User) string { return strings.ToLower(u.UPN) }
	case strings.EqualFold(fields[0], "userDisplayName"):
		key = func(u *User) string { return strings.ToLower(u.DisplayName) }
	}
	if key == nil {
		c.fail(http.StatusBadRequest, "Request_UnsupportedQuery",
			"Unsupported $orderby clause '"+raw+"': sort by userPrincipalName or userDisplayName.")
		return nil, false
	}
	sort.SliceStable(users, func(i, j int) bool {
		if desc {
			return key(users[i]) > key(users[j])
		}
		return key(users[i]) < key(users[j])
	})
	return users, true
}

// getRegistration serves one user's row; the key is the user's object id.
func (s *Server) getRegistration(c *call) {
	if !c.requirePremium() {
		return
	}
	u := c.tenant.users[strings.ToLower(c.param("userId"))]
	if u == nil {
		c.fail(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+c.param("userId")+
			"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	c.getOne(registrationSpec(nil), registration(u))
}
