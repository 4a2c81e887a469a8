package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Domains are the heart of a tenant-to-tenant migration weekend: a custom domain can be
// verified in only one tenant at a time, so the source must rename every reference off it and
// remove it (DELETE, or the asynchronous forceDelete) before the target can verify it with the
// TXT record published in DNS. GRAPH.md section 7 describes the endpoints.
//
// Where Graph's errors are not documented (GRAPH.md marks them UNCERTAIN) the simulator answers
// 400 with the directory's generic code Request_BadRequest and a message that names the cause;
// clients branch on status and code, never on the message.

// maxForceDeleteObjects is the documented ceiling of objects forceDelete renames.
const maxForceDeleteObjects = 1000

// forceDelete timing: Microsoft quotes "as little as 5 minutes" with few references and hours
// with many. The job starts a minute after it is accepted and takes a second per reference.
const (
	forceDeleteStart     = time.Minute
	forceDeleteBase      = 5 * time.Minute
	forceDeletePerObject = time.Second
)

// domainOp is an asynchronous operation on a domain, shown as the domain's state property
// (metadata complex type domainState).
type domainOp struct {
	operation string // ForceDelete
	status    string // Scheduled, InProgress or Failed
	last      time.Time
}

// domainSelectable lists the properties of the metadata domain type that the simulator emits.
var domainSelectable = stringSet("id", "authenticationType", "availabilityStatus", "isAdminManaged",
	"isDefault", "isInitial", "isRoot", "isVerified", "manufacturer", "model",
	"passwordNotificationWindowInDays", "passwordValidityPeriodInDays", "state", "supportedServices")

// dnsRecordSelectable lists the properties of domainDnsRecord and the two derived types served.
var dnsRecordSelectable = stringSet("id", "isOptional", "label", "recordType", "supportedService",
	"ttl", "text", "mailExchange", "preference")

// domainNamePattern is a DNS name of at least two labels, lowercase, with an alphabetic start
// to the top-level label (which also admits punycode such as xn--p1ai).
var domainNamePattern = regexp.MustCompile(
	`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])$`)

func (s *Server) domainRoutes() {
	s.handle("domains.list", http.MethodGet, "domains", permDomainRead, s.listDomains)
	s.handle("domains.create", http.MethodPost, "domains", permDomainRW, s.createDomain)
	s.handle("domains.get", http.MethodGet, "domains/{id}", permDomainRead, s.getDomain)
	s.handle("domains.delete", http.MethodDelete, "domains/{id}", permDomainRW, s.deleteDomain)
	s.handle("domains.verificationDnsRecords", http.MethodGet, "domains/{id}/verificationDnsRecords",
		permDomainRead, s.verificationRecords)
	s.handle("domains.verify", http.MethodPost, "domains/{id}/verify", permDomainRW, s.verifyDomain)
	s.handle("domains.forceDelete", http.MethodPost, "domains/{id}/forceDelete", permDomainRW,
		s.forceDeleteDomain)
	for _, cast := range []string{"", "microsoft.graph.user", "microsoft.graph.group"} {
		pattern, name := "domains/{id}/domainNameReferences", "domains.domainNameReferences"
		if cast != "" {
			pattern, name = pattern+"/"+cast, name+"."+strings.TrimPrefix(cast, "microsoft.graph.")
		}
		s.handle(name, http.MethodGet, pattern, permDomainRead, s.domainReferences(cast))
	}
}

// props returns every property of the domain that the simulator serves.
func (d *Domain) props(t *Tenant) map[string]any {
	services := d.Services
	if services == nil {
		services = []string{}
	}
	var state any
	if d.op != nil {
		state = map[string]any{"operation": d.op.operation, "status": d.op.status,
			"lastActionDateTime": timeString(d.op.last)}
	}
	return map[string]any{
		"id":                               d.Name,
		"authenticationType":               d.AuthType,
		"availabilityStatus":               nil,
		"isAdminManaged":                   true,
		"isDefault":                        d.Default,
		"isInitial":                        d.Initial,
		"isRoot":                           d.Verified && t.parentDomain(d.Name) == nil,
		"isVerified":                       d.Verified,
		"manufacturer":                     nil,
		"model":                            nil,
		"passwordNotificationWindowInDays": 14,
		"passwordValidityPeriodInDays":     2147483647,
		"state":                            state,
		"supportedServices":                services,
	}
}

func domainSpec() listSpec {
	return listSpec{context: "domains", typeName: "Microsoft.DirectoryServices.Domain",
		known: domainSelectable}
}

// listDomains serves GET /domains. A known issue of Graph: $top, $filter and $search are
// ignored on this collection, so the simulator ignores them too and always returns every
// domain in one page; clients filter on their side.
func (s *Server) listDomains(c *call) {
	sel, ok := c.selectList(domainSpec())
	if !ok {
		return
	}
	value := make([]map[string]any, 0, len(c.tenant.domains))
	for _, d := range c.tenant.domains {
		value = append(value, project(d.props(c.tenant), sel))
	}
	c.json(http.StatusOK, map[string]any{"@odata.context": c.contextURL("domains"), "value": value})
}

// findDomain resolves {id} (a domain name, any case) or answers 404.
func (c *call) findDomain() *Domain {
	d := c.tenant.domain(c.param("id"))
	if d == nil {
		c.fail(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+c.param("id")+
			"' does not exist or one of its queried reference-property objects are not present.")
	}
	return d
}

func (s *Server) getDomain(c *call) {
	if d := c.findDomain(); d != nil {
		c.getOne(domainSpec(), d.props(c.tenant))
	}
}

// createDomain serves POST /domains. Only id is settable; other properties of the domain type
// are ignored and names the type does not have are refused, as OData deserialisation does.
// Adding a name the tenant already has is refused with 400 Request_BadRequest, the answer the
// directory gives for a duplicate key elsewhere (GRAPH.md: UNCERTAIN). A name verified in
// another tenant may be added: it stays unverified until that tenant lets it go.
func (s *Server) createDomain(c *call) {
	if !c.requireJSONContentType() {
		return
	}
	var body map[string]json.RawMessage
	if !c.decodeBody(&body) {
		return
	}
	name, ok := c.newDomainName(body)
	if !ok {
		return
	}
	t := c.tenant
	if t.domain(name) != nil {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"Another object with the same value for property id already exists.")
		return
	}

	// A subdomain of a root this tenant has verified is verified at once.
	d := &Domain{Name: name, AuthType: "Managed", VerifyCode: s.newVerifyCode()}
	if p := t.parentDomain(name); p != nil && p.Verified && !p.deleting {
		d.Verified = true
	}
	t.domains = append(t.domains, d)
	out := d.props(t)
	out["@odata.context"] = c.contextURL("domains/$entity")
	c.json(http.StatusCreated, out)
}

// newDomainName validates the body of POST /domains and returns the lowercase domain name.
func (c *call) newDomainName(body map[string]json.RawMessage) (string, bool) {
	for k := range body {
		if !domainSelectable[k] && !strings.HasPrefix(k, "@odata.") {
			c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("The property '%s' "+
				"does not exist on type 'microsoft.graph.domain'. Make sure to only use property "+
				"names that are defined by the type.", k))
			return "", false
		}
	}
	var name string
	if raw, ok := body["id"]; !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"The domain name is required: set the id property, for example {\"id\": \"contoso.com\"}.")
		return "", false
	}
	name = strings.ToLower(name)
	if len(name) > 255 || !domainNamePattern.MatchString(name) {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			fmt.Sprintf("Invalid value specified for property 'id' of resource 'Domain': '%s' "+
				"is not a valid domain name.", name))
		return "", false
	}
	if name == "onmicrosoft.com" || strings.HasSuffix(name, ".onmicrosoft.com") {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"Domains under onmicrosoft.com are reserved for initial domains and cannot be added.")
		return "", false
	}
	return name, true
}

// newVerifyCode draws the MS=msNNNNNNNN value a tenant asks to see in the domain's TXT record.
// Callers hold s.mu.
func (s *Server) newVerifyCode() string {
	return fmt.Sprintf("MS=ms%08d", s.rng.IntN(100_000_000))
}

// verificationRecords serves GET /domains/{id}/verificationDnsRecords: the TXT record to
// publish, and the MX alternative Entra offers for DNS hosts that cannot publish TXT.
func (s *Server) verificationRecords(c *call) {
	d := c.findDomain()
	if d == nil {
		return
	}
	spec := listSpec{known: dnsRecordSelectable,
		typeName: "Microsoft.DirectoryServices.DomainDnsRecord"}
	sel, ok := c.selectList(spec)
	if !ok {
		return
	}
	code := strings.TrimPrefix(d.VerifyCode, "MS=")
	records := []map[string]any{
		{"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": recordID(d, "txt"),
			"isOptional": false, "label": d.Name, "recordType": "Txt", "supportedService": "Email",
			"ttl": 3600, "text": d.VerifyCode},
		{"@odata.type": "#microsoft.graph.domainDnsMxRecord", "id": recordID(d, "mx"),
			"isOptional": false, "label": d.Name, "recordType": "Mx", "supportedService": "Email",
			"ttl": 3600, "mailExchange": code + ".msv1.invalid", "preference": 32767},
	}
	value := make([]map[string]any, 0, len(records))
	for _, r := range records {
		value = append(value, project(r, sel))
	}
	c.json(http.StatusOK, map[string]any{
		"@odata.context": c.contextURL("domains('" + d.Name + "')/verificationDnsRecords"),
		"value":          value,
	})
}

// recordID derives a stable GUID for one of a domain's DNS records, so that repeated reads
// agree without drawing from the simulator's random source.
func recordID(d *Domain, kind string) string {
	h := fnv.New64a()
	h.Write([]byte(d.Name + "|" + d.VerifyCode + "|" + kind))
	a := h.Sum64()
	h.Write([]byte("|low"))
	return formatGUID(a, h.Sum64())
}

// verifyDomain serves POST /domains/{id}/verify. It succeeds only when no other tenant holds
// the domain verified (a forceDelete still running there counts as holding it) and the TXT
// record with this tenant's code is published in the simulated DNS. Failures are 400
// Request_BadRequest with a message naming the cause (GRAPH.md: UNCERTAIN); verifying a
// domain that is already verified is refused too, since the action is only for unverified
// domains.
func (s *Server) verifyDomain(c *call) {
	d := c.findDomain()
	if d == nil {
		return
	}
	t := c.tenant
	var reason string
	switch {
	case d.Verified:
		reason = fmt.Sprintf("Domain '%s' is already verified.", d.Name)
	case d.deleting:
		reason = fmt.Sprintf("Domain '%s' is being deleted and cannot be verified.", d.Name)
	case s.heldElsewhere(t, d.Name):
		reason = fmt.Sprintf("Domain verification failed: '%s' is already verified in another "+
			"tenant. It must be removed there before it can be verified here.", d.Name)
	case !s.txtPublished(d.Name, d.VerifyCode):
		reason = fmt.Sprintf("Domain verification failed: the TXT record '%s' was not found in "+
			"the DNS zone of '%s'. DNS changes can take time to propagate.", d.VerifyCode, d.Name)
	}
	if reason != "" {
		c.fail(http.StatusBadRequest, "Request_BadRequest", reason)
		return
	}

	// Verifying a root verifies the subdomains this tenant has already added under it.
	d.Verified = true
	for _, sub := range t.domains {
		if !sub.Verified && isSubdomain(sub.Name, d.Name) && !s.heldElsewhere(t, sub.Name) {
			sub.Verified = true
		}
	}
	out := d.props(t)
	out["availabilityStatus"] = "AvailableImmediately"
	out["@odata.context"] = c.contextURL("domains/$entity")
	c.json(http.StatusOK, out)
}

// heldElsewhere reports whether a tenant other than t has name, a parent of it or a subdomain
// of it verified. Callers hold s.mu.
func (s *Server) heldElsewhere(t *Tenant, name string) bool {
	for _, other := range s.tenants {
		if other == t {
			continue
		}
		for _, d := range other.domains {
			if d.Verified && (strings.EqualFold(d.Name, name) || isSubdomain(name, d.Name) ||
				isSubdomain(d.Name, name)) {
				return true
			}
		}
	}
	return false
}

// txtPublished reports whether the simulated public DNS has the TXT record text for name.
// Callers hold s.mu.
func (s *Server) txtPublished(name, text string) bool {
	for _, v := range s.dns()[strings.ToLower(name)] {
		if v == text {
			return true
		}
	}
	return false
}

// isSubdomain reports whether name lies strictly under root.
func isSubdomain(name, root string) bool {
	return strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(root))
}

// parentDomain returns the nearest domain of t that name lies under, or nil.
func (t *Tenant) parentDomain(name string) *Domain {
	for rest := name; ; {
		_, after, ok := strings.Cut(rest, ".")
		if !ok || !strings.Contains(after, ".") {
			return nil
		}
		if d := t.domain(after); d != nil {
			return d
		}
		rest = after
	}
}

// hasSubdomains reports whether t holds a domain under name.
func (t *Tenant) hasSubdomains(name string) bool {
	for _, d := range t.domains {
		if isSubdomain(d.Name, name) {
			return true
		}
	}
	return false
}

// domainReferences serves GET /domains/{id}/domainNameReferences and its type casts. The
// simulator's directory has users only, so the group cast is always empty. Items are listed
// in the users' creation order and paged like any directory collection.
func (s *Server) domainReferences(cast string) func(c *call) {
	context := "directoryObjects"
	switch cast {
	case "microsoft.graph.user":
		context = "users"
	case "microsoft.graph.group":
		context = "groups"
	}
	return func(c *call) {
		d := c.findDomain()
		if d == nil {
			return
		}
		t := c.tenant
		spec := listSpec{context: context, typeName: "Microsoft.DirectoryServices.DirectoryObject",
			defaults: userDefaults, known: userSelectable,
			item: func(i int) map[string]any {
				u := t.users[t.userOrder[i]]
				if u == nil || !userReferences(u, d.Name) {
					return nil
				}
				m := u.props()
				m["@odata.type"] = "#microsoft.graph.user"
				return m
			}}
		if cast != "microsoft.graph.group" {
			spec.total = len(t.userOrder)
		}
		c.list(spec)
	}
}

// userReferences reports whether the user's sign-in name, mail or any proxy address is on
// the domain.
func userReferences(u *User, domain string) bool {
	if addressOn(u.UPN, domain) || addressOn(u.Mail, domain) {
		return true
	}
	for _, p := range u.ProxyAddresses {
		if addressOn(proxyAddress(p), domain) {
			return true
		}
	}
	return false
}

// referencingUsers returns the users that reference domain, in creation order.
func (t *Tenant) referencingUsers(domain string) []*User {
	var out []*User
	for _, id := range t.userOrder {
		if u := t.users[id]; u != nil && userReferences(u, domain) {
			out = append(out, u)
		}
	}
	return out
}

// addressOn reports whether an address such as mary@contoso.com is on domain.
func addressOn(addr, domain string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at >= 0 && strings.EqualFold(addr[at+1:], domain)
}

// proxyAddress strips the type prefix (SMTP:, smtp:, SIP:) from a proxy address.
func proxyAddress(p string) string {
	if _, addr, ok := strings.Cut(p, ":"); ok {
		return addr
	}
	return p
}

// deleteDomain serves DELETE /domains/{id}. Refusals are 400 Request_BadRequest, as GRAPH.md
// lists for invalid requests: the initial domain, a domain with subdomains or a forceDelete
// in progress, and a domain still referenced by any object (the message points at
// domainNameReferences and forceDelete).
func (s *Server) deleteDomain(c *call) {
	d := c.findDomain()
	if d == nil {
		return
	}
	t := c.tenant
	if reason := deleteRefusal(t, d); reason != "" {
		c.fail(http.StatusBadRequest, "Request_BadRequest", reason)
		return
	}
	if n := len(t.referencingUsers(d.Name)); n > 0 {
		c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Unable to delete domain "+
			"'%s': %d objects still reference it. List them with domainNameReferences and move "+
			"them to another domain, or use forceDelete.", d.Name, n))
		return
	}
	t.removeDomain(d)
	c.noContent(http.StatusNoContent)
}

// deleteRefusal names why neither DELETE nor forceDelete may remove d, or returns "".
func deleteRefusal(t *Tenant, d *Domain) string {
	switch {
	case d.Initial:
		return fmt.Sprintf("Domain '%s' is the initial domain of the tenant and cannot be deleted.",
			d.Name)
	case d.deleting:
		return fmt.Sprintf("A forceDelete operation on domain '%s' is already in progress.", d.Name)
	case t.hasSubdomains(d.Name):
		return fmt.Sprintf("Domain '%s' has subdomains. Delete them before deleting the domain.",
			d.Name)
	}
	return ""
}

// removeDomain deletes d from t. When the default domain goes, the initial domain becomes the
// default, as new users would otherwise have no domain to be created on.
func (t *Tenant) removeDomain(d *Domain) {
	for i, v := range t.domains {
		if v == d {
			t.domains = append(t.domains[:i], t.domains[i+1:]...)
			break
		}
	}
	if d.Default {
		for _, v := range t.domains {
			v.Default = v.Initial
		}
	}
}

// forceDeleteDomain serves POST /domains/{id}/forceDelete. The request is checked and
// accepted with 204 at once; the renames and the removal happen later in simulated time (see
// completeForceDelete), and the domain keeps listing with its state until then. A repeat while
// the job runs answers 204 again without starting a second job, so a client that lost the
// first answer can resend safely (GRAPH.md: UNCERTAIN).
func (s *Server) forceDeleteDomain(c *call) {
	d := c.findDomain()
	if d == nil {
		return
	}
	disable, ok := c.forceDeleteParams()
	if !ok {
		return
	}
	t := c.tenant
	if d.deleting {
		c.noContent(http.StatusNoContent)
		return
	}
	if reason := deleteRefusal(t, d); reason != "" {
		c.fail(http.StatusBadRequest, "Request_BadRequest", reason)
		return
	}
	n := len(t.referencingUsers(d.Name))
	if n > maxForceDeleteObjects {
		c.fail(http.StatusBadRequest, "Request_BadRequest", tooManyReferences(d.Name, n))
		return
	}

	// Accept: the job is scheduled, starts a minute later and takes longer with more objects.
	d.deleting = true
	d.deleteAfter = c.now.Add(forceDeleteBase + time.Duration(n)*forceDeletePerObject)
	d.op = &domainOp{operation: "ForceDelete", status: "Scheduled", last: c.now}
	start := c.now.Add(forceDeleteStart)
	s.schedule(start, func() {
		if d.op != nil && d.op.status == "Scheduled" {
			d.op.status, d.op.last = "InProgress", start
		}
	})
	done := d.deleteAfter
	s.schedule(done, func() { s.completeForceDelete(t, d, disable, done) })
	c.noContent(http.StatusNoContent)
}

func tooManyReferences(domain string, n int) string {
	return fmt.Sprintf("Unable to force delete domain '%s': %d objects would be renamed, more "+
		"than the limit of %d. Rename objects off the domain first.", domain, n, maxForceDeleteObjects)
}

// forceDeleteParams reads the action's only parameter, disableUserAccounts, which defaults to
// true when the body or the parameter is absent or null.
func (c *call) forceDeleteParams() (disable, ok bool) {
	disable = true
	if len(bytes.TrimSpace(c.body)) == 0 {
		return disable, true
	}
	var body map[string]json.RawMessage
	if !c.requireJSONContentType() || !c.decodeBody(&body) {
		return false, false
	}
	for k, raw := range body {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if !strings.EqualFold(k, "disableUserAccounts") {
			c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("The parameter '%s' in "+
				"the request payload is not a valid parameter for the operation 'forceDelete'.", k))
			return false, false
		}
		var v *bool
		if err := json.Unmarshal(raw, &v); err != nil {
			c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Cannot convert the "+
				"literal '%s' to the expected type 'Edm.Boolean'.", raw))
			return false, false
		}
		if v != nil {
			disable = *v
		}
	}
	return disable, true
}

// completeForceDelete runs the accepted forceDelete job: every user still referencing the
// domain is renamed onto the tenant's initial domain (sign-in name, mail and proxy addresses),
// disabled if asked, and recorded in the delta log; then the domain is removed. If references
// grew past the limit while the job waited, the job fails and the domain stays, as Graph
// reports through the domain's state. It runs with s.mu held.
func (s *Server) completeForceDelete(t *Tenant, d *Domain, disable bool, at time.Time) {
	if t.domain(d.Name) != d {
		return
	}
	users := t.referencingUsers(d.Name)
	if len(users) > maxForceDeleteObjects {
		d.deleting = false
		d.op.status, d.op.last = "Failed", at
		return
	}
	initial := t.InitialDomain()
	taken := t.addressOwners()
	for _, u := range users {
		t.renameOffDomain(u, d.Name, initial, taken)
		if disable {
			u.AccountEnabled = false
		}
		t.touchUser(u)
	}
	t.removeDomain(d)
}

// addressOwners maps every address in use in t (sign-in names, mail, proxy addresses),
// lowercase, to the id of the user holding it.
func (t *Tenant) addressOwners() map[string]string {
	owners := make(map[string]string, 3*len(t.users))
	for _, id := range t.userOrder {
		u := t.users[id]
		if u == nil {
			continue
		}
		owners[strings.ToLower(u.UPN)] = u.ID
		if u.Mail != "" {
			owners[strings.ToLower(u.Mail)] = u.ID
		}
		for _, p := range u.ProxyAddresses {
			owners[strings.ToLower(proxyAddress(p))] = u.ID
		}
	}
	return owners
}

// renameOffDomain moves every address of u on domain to the same local part on initial,
// appending a number when another user already holds that address. The same old address
// maps to the same new one everywhere it appears, so a user whose mail equals the sign-in
// name keeps them equal.
func (t *Tenant) renameOffDomain(u *User, domain, initial string, owners map[string]string) {
	moved := map[string]string{}
	move := func(addr string) string {
		if !addressOn(addr, domain) {
			return addr
		}
		key := strings.ToLower(addr)
		if n, ok := moved[key]; ok {
			return n
		}
		local := addr[:strings.LastIndexByte(addr, '@')]
		n := freeAddress(local, initial, u.ID, owners)
		moved[key] = n
		owners[strings.ToLower(n)] = u.ID
		return n
	}
	if upn := move(u.UPN); upn != u.UPN {
		t.setUPN(u, upn)
	}
	u.Mail = move(u.Mail)
	u.ProxyAddresses = renameProxies(u.ProxyAddresses, move)
}

// freeAddress returns local@domain, or local2@domain, local3@domain and so on, whichever is
// first not held by a user other than owner.
func freeAddress(local, domain, owner string, owners map[string]string) string {
	addr := local + "@" + domain
	for n := 2; ; n++ {
		if id, ok := owners[strings.ToLower(addr)]; !ok || id == owner {
			return addr
		}
		addr = fmt.Sprintf("%s%d@%s", local, n, domain)
	}
}

// renameProxies applies move to each proxy address and drops the duplicates a rename can
// create (a user often already has a secondary smtp: address on the initial domain); when a
// primary SMTP: and a secondary smtp: address coincide, the primary is kept.
func renameProxies(proxies []string, move func(string) string) []string {
	if proxies == nil {
		return nil
	}
	out := make([]string, 0, len(proxies))
	seen := map[string]int{}
	for _, p := range proxies {
		if prefix, addr, ok := strings.Cut(p, ":"); ok {
			p = prefix + ":" + move(addr)
		}
		key := strings.ToLower(p)
		if i, dup := seen[key]; dup {
			if strings.HasPrefix(p, "SMTP:") {
				out[i] = p
			}
			continue
		}
		seen[key] = len(out)
		out = append(out, p)
	}
	return out
}
