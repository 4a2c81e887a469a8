package graphsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// passwordMethodID is the id Graph gives every user's password method: the same well-known
// GUID in every tenant, since a user has exactly one password.
const passwordMethodID = "28c10230-6103-485e-b985-444c60001490"

// Temporary Access Pass lifetimes the service accepts whatever the tenant policy says:
// ten minutes to thirty days.
const (
	tapMinLifetime = 10
	tapMaxLifetime = 43200
)

// tapAlphabet is what generated passes are made of. Real passes mix cases, digits and
// symbols; look-alike characters are left out so a pass read aloud over the phone survives.
const tapAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#$%&*+=?@"

// permPolicyRead grants reading the authentication methods policy.
var permPolicyRead = []string{"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"}

// props returns the Microsoft Authenticator method as Graph shows it.
func (a *AuthenticatorMethod) props() map[string]any {
	return map[string]any{
		"@odata.type":     "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
		"id":              a.ID,
		"displayName":     a.DisplayName,
		"deviceTag":       a.DeviceTag,
		"phoneAppVersion": a.PhoneAppVersion,
		"createdDateTime": timeString(a.Created),
	}
}

// props returns the Temporary Access Pass as Graph shows it on reads (the pass itself is
// null); now decides whether it is usable, or the zero time to skip that.
func (p *TAPMethod) props(now time.Time) map[string]any {
	usable, reason := true, "EnabledByPolicy"
	switch {
	case now.IsZero():
	case p.Used && p.IsUsableOnce:
		usable, reason = false, "OneTimeUsed"
	case now.Before(p.Start):
		usable, reason = false, "NotYetValid"
	case !now.Before(p.Start.Add(time.Duration(p.LifetimeInMinutes) * time.Minute)):
		usable, reason = false, "Expired"
	}
	return map[string]any{
		"@odata.type":           "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"id":                    p.ID,
		"createdDateTime":       timeString(p.Created),
		"startDateTime":         timeString(p.Start),
		"lifetimeInMinutes":     p.LifetimeInMinutes,
		"isUsableOnce":          p.IsUsableOnce,
		"isUsable":              usable,
		"methodUsabilityReason": reason,
		"temporaryAccessPass":   nil,
	}
}

// passwordProps returns the user's password method. Graph never returns the password.
func passwordProps(u *User) map[string]any {
	return map[string]any{
		"@odata.type":     "#microsoft.graph.passwordAuthenticationMethod",
		"id":              passwordMethodID,
		"password":        nil,
		"createdDateTime": timeString(u.PasswordSet),
	}
}

// tapProps is the pass as the tenant's policy lets it be used: a pass stops being usable
// when the policy disables the method, whatever its dates say.
func (t *Tenant) tapProps(p *TAPMethod, now time.Time) map[string]any {
	m := p.props(now)
	if !t.tapPolicy.Enabled {
		m["isUsable"], m["methodUsabilityReason"] = false, "DisabledByPolicy"
	}
	return m
}

func (s *Server) authMethodRoutes() {
	const base = "users/{id}/authentication/"
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	s.handle("authentication.methods.list", get, base+"methods", permMethodRead, s.listMethods)
	s.handle("authentication.methods.get", get, base+"methods/{methodId}", permMethodRead, s.getMethod)

	s.handle("authentication.microsoftAuthenticatorMethods.list", get,
		base+"microsoftAuthenticatorMethods", permMethodRead, s.listAuthenticators)
	s.handle("authentication.microsoftAuthenticatorMethods.get", get,
		base+"microsoftAuthenticatorMethods/{methodId}", permMethodRead, s.getAuthenticator)
	s.handle("authentication.microsoftAuthenticatorMethods.delete", del,
		base+"microsoftAuthenticatorMethods/{methodId}", permMethodWrite, s.deleteAuthenticator)

	s.handle("authentication.temporaryAccessPassMethods.list", get,
		base+"temporaryAccessPassMethods", permTAPRead, s.listTAPs)
	s.handle("authentication.temporaryAccessPassMethods.create", post,
		base+"temporaryAccessPassMethods", permTAPWrite, s.createTAP)
	s.handle("authentication.temporaryAccessPassMethods.get", get,
		base+"temporaryAccessPassMethods/{methodId}", permTAPRead, s.getTAP)
	s.handle("authentication.temporaryAccessPassMethods.delete", del,
		base+"temporaryAccessPassMethods/{methodId}", permTAPWrite, s.deleteTAP)

	s.handle("authenticationMethodsPolicy.authenticationMethodConfigurations.get", get,
		"policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{configId}",
		permPolicyRead, s.getMethodConfiguration)

	// routes.go knows nothing of the report, which derives from the methods above.
	s.reportRoutes()
}

// methodsContext is the @odata.context path of one of the user's method collections.
func methodsContext(u *User, collection string) string {
	return fmt.Sprintf("users('%s')/authentication/%s", u.ID, collection)
}

// values answers a collection that Graph serves whole, without paging or query options.
func (c *call) values(context string, items []map[string]any) {
	if items == nil {
		items = []map[string]any{}
	}
	c.json(http.StatusOK, map[string]any{"@odata.context": c.contextURL(context), "value": items})
}

// entity answers one entity of the collection named by context.
func (c *call) entity(status int, context string, props map[string]any) {
	props["@odata.context"] = c.contextURL(context + "/$entity")
	c.json(status, props)
}

// methodNotFound answers a method id the user does not have, in the authentication
// methods service's own lower-camel error style.
func (c *call) methodNotFound() {
	c.fail(http.StatusNotFound, "itemNotFound",
		"The requested authentication method '"+c.param("methodId")+"' was not found for the user.")
}

// allMethods is every method of the user in Graph's order: the password first.
// Query options are ignored, as the methods endpoint supports none.
func (c *call) allMethods(u *User) []map[string]any {
	out := []map[string]any{passwordProps(u)}
	for _, a := range u.Authenticators {
		out = append(out, a.props())
	}
	if u.TAP != nil {
		out = append(out, c.tenant.tapProps(u.TAP, c.now))
	}
	return out
}

func (s *Server) listMethods(c *call) {
	if u := c.findUser(); u != nil {
		c.values(methodsContext(u, "methods"), c.allMethods(u))
	}
}

func (s *Server) getMethod(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	for _, m := range c.allMethods(u) {
		if strings.EqualFold(m["id"].(string), c.param("methodId")) {
			c.entity(http.StatusOK, methodsContext(u, "methods"), m)
			return
		}
	}
	c.methodNotFound()
}

func (s *Server) listAuthenticators(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	items := make([]map[string]any, 0, len(u.Authenticators))
	for _, a := range u.Authenticators {
		items = append(items, a.props())
	}
	c.values(methodsContext(u, "microsoftAuthenticatorMethods"), items)
}

// authenticator finds {methodId} among the user's Authenticator registrations, answering
// 404 when the user or the method is unknown.
func (c *call) authenticator() (*User, int) {
	u := c.findUser()
	if u == nil {
		return nil, -1
	}
	for i, a := range u.Authenticators {
		if strings.EqualFold(a.ID, c.param("methodId")) {
			return u, i
		}
	}
	c.methodNotFound()
	return nil, -1
}

func (s *Server) getAuthenticator(c *call) {
	if u, i := c.authenticator(); u != nil {
		c.entity(http.StatusOK, methodsContext(u, "microsoftAuthenticatorMethods"),
			u.Authenticators[i].props())
	}
}

// deleteAuthenticator removes a registration. The phone keeps the account, but it no longer
// satisfies MFA: the user must register again, which is what a cutover wants on the source.
func (s *Server) deleteAuthenticator(c *call) {
	u, i := c.authenticator()
	if u == nil {
		return
	}
	u.Authenticators = append(u.Authenticators[:i], u.Authenticators[i+1:]...)
	u.MethodsUpdated = c.now
	c.noContent(http.StatusNoContent)
}

func (s *Server) listTAPs(c *call) {
	u := c.findUser()
	if u == nil {
		return
	}
	var items []map[string]any
	if u.TAP != nil {
		items = append(items, c.tenant.tapProps(u.TAP, c.now))
	}
	c.values(methodsContext(u, "temporaryAccessPassMethods"), items)
}

// userTAP finds the user's pass when its id is {methodId}, answering 404 otherwise.
func (c *call) userTAP() *User {
	u := c.findUser()
	if u == nil {
		return nil
	}
	if u.TAP == nil || !strings.EqualFold(u.TAP.ID, c.param("methodId")) {
		c.methodNotFound()
		return nil
	}
	return u
}

func (s *Server) getTAP(c *call) {
	if u := c.userTAP(); u != nil {
		c.entity(http.StatusOK, methodsContext(u, "temporaryAccessPassMethods"),
			c.tenant.tapProps(u.TAP, c.now))
	}
}

func (s *Server) deleteTAP(c *call) {
	u := c.userTAP()
	if u == nil {
		return
	}
	u.TAP = nil
	u.MethodsUpdated = c.now
	c.noContent(http.StatusNoContent)
}

// tapRequest is the body of a pass creation; every property is optional.
type tapRequest struct {
	StartDateTime     *string `json:"startDateTime"`
	LifetimeInMinutes *int    `json:"lifetimeInMinutes"`
	IsUsableOnce      *bool   `json:"isUsableOnce"`
}

// createTAP issues a new pass, replacing any pass the user has. The secret appears in this
// response only: the simulator keeps no copy, so no later read can return it.
func (s *Server) createTAP(c *call) {
	if !c.requireJSONContentType() {
		return
	}
	u := c.findUser()
	if u == nil {
		return
	}
	var req tapRequest
	if len(strings.TrimSpace(string(c.body))) > 0 && !c.decodeBody(&req) {
		return
	}
	pass, ok := c.newTAP(req)
	if !ok {
		return
	}
	pass.ID = s.newID()
	u.TAP = pass
	u.MethodsUpdated = c.now

	secret := s.tapSecret(c.tenant.tapPolicy.DefaultLength)
	out := c.tenant.tapProps(pass, c.now)
	out["temporaryAccessPass"] = secret
	c.header("Location", s.GraphURL()+"/users/"+u.ID+
		"/authentication/temporaryAccessPassMethods/"+pass.ID)
	c.entity(http.StatusCreated, methodsContext(u, "temporaryAccessPassMethods"), out)
}

// newTAP checks a creation request against the service's bounds and the tenant policy and
// returns the pass it describes (without an id), or answers 400.
func (c *call) newTAP(req tapRequest) (*TAPMethod, bool) {
	policy := c.tenant.tapPolicy
	if !policy.Enabled {
		c.fail(http.StatusBadRequest, "badRequest",
			"Temporary Access Pass is disabled by the authentication methods policy for this user.")
		return nil, false
	}

	p := &TAPMethod{Created: c.now, Start: c.now, LifetimeInMinutes: policy.DefaultLifetimeInMinutes,
		IsUsableOnce: policy.IsUsableOnce}
	if req.StartDateTime != nil {
		start, err := time.Parse(time.RFC3339Nano, *req.StartDateTime)
		if err != nil {
			c.fail(http.StatusBadRequest, "badRequest", fmt.Sprintf(
				"Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.",
				*req.StartDateTime))
			return nil, false
		}
		p.Start = start.UTC()
	}

	if req.LifetimeInMinutes != nil {
		p.LifetimeInMinutes = *req.LifetimeInMinutes
	}
	lo := max(tapMinLifetime, policy.MinimumLifetimeInMinutes)
	hi := min(tapMaxLifetime, policy.MaximumLifetimeInMinutes)
	if p.LifetimeInMinutes < lo || p.LifetimeInMinutes > hi {
		c.fail(http.StatusBadRequest, "badRequest", fmt.Sprintf(
			"The lifetimeInMinutes value %d is outside the range allowed by the Temporary Access "+
				"Pass policy: %d to %d minutes.", p.LifetimeInMinutes, lo, hi))
		return nil, false
	}

	// A tenant that demands one-time passes refuses a multi-use one rather than silently
	// issuing a one-time pass.
	if req.IsUsableOnce != nil {
		if policy.IsUsableOnce && !*req.IsUsableOnce {
			c.fail(http.StatusBadRequest, "badRequest",
				"The Temporary Access Pass policy allows only one-time use passes; "+
					"isUsableOnce must be true.")
			return nil, false
		}
		p.IsUsableOnce = *req.IsUsableOnce
	}
	return p, true
}

// tapSecret draws a pass of the policy's length (8 to 48 characters) from the simulator's
// random source, so a seeded run issues the same passes.
func (s *Server) tapSecret(length int) string {
	length = min(max(length, 8), 48)
	b := make([]byte, length)
	for i := range b {
		b[i] = tapAlphabet[s.rng.IntN(len(tapAlphabet))]
	}
	return string(b)
}

// getMethodConfiguration serves the tenant's method configurations. Only the Temporary
// Access Pass configuration is modelled; any other id is answered 404.
func (s *Server) getMethodConfiguration(c *call) {
	if !strings.EqualFold(c.param("configId"), "TemporaryAccessPass") {
		c.fail(http.StatusNotFound, "itemNotFound", "The authentication method configuration '"+
			c.param("configId")+"' was not found.")
		return
	}
	c.entity(http.StatusOK, "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
		c.tenant.tapPolicy.props())
}

// props returns the policy as a temporaryAccessPassAuthenticationMethodConfiguration. The
// method targets all users; includeTargets comes inline, as Graph returns it.
func (p TAPPolicy) props() map[string]any {
	state := "disabled"
	if p.Enabled {
		state = "enabled"
	}
	return map[string]any{
		"@odata.type":              "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
		"id":                       "TemporaryAccessPass",
		"state":                    state,
		"excludeTargets":           []any{},
		"defaultLifetimeInMinutes": p.DefaultLifetimeInMinutes,
		"defaultLength":            p.DefaultLength,
		"minimumLifetimeInMinutes": p.MinimumLifetimeInMinutes,
		"maximumLifetimeInMinutes": p.MaximumLifetimeInMinutes,
		"isUsableOnce":             p.IsUsableOnce,
		"includeTargets": []any{map[string]any{
			"targetType": "group", "id": "all_users", "isRegistrationRequired": false}},
	}
}
