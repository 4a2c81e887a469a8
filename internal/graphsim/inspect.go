package graphsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The inspection API lives under /_sim/, never under /v1.0, and needs no token: it exists
// for tests, benchmarks and demos on the same machine, to read the simulator's true state
// and to do what in real life happens outside Graph (publishing a DNS record, time passing).
// docs/simulator.md documents every call.
func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim/"), "/"), "/")
	route := r.Method + " " + parts[0]
	switch {
	case route == "GET tenants" && len(parts) == 1:
		s.inspectTenants(w)
	case route == "GET tenants" && len(parts) >= 2:
		s.inspectTenant(w, r, parts[1:])
	case route == "GET requests":
		s.inspectRequests(w, r)
	case route == "GET clock":
		s.inspectClock(w)
	case route == "POST clock" && len(parts) == 2 && parts[1] == "advance":
		s.inspectAdvance(w, r)
	case route == "POST dns":
		s.inspectPublishDNS(w, r)
	case route == "GET buckets" && len(parts) == 1:
		s.inspectBuckets(w)
	case route == "POST buckets" && len(parts) == 2 && parts[1] == "reset":
		s.inspectResetBuckets(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "notFound", "message": "unknown inspection call " + r.Method + " " + r.URL.Path}})
	}
}

// TenantSummary is a tenant as the inspection API and describe show it.
type TenantSummary struct {
	ID            string          `json:"id"`
	Role          string          `json:"role,omitempty"`
	DisplayName   string          `json:"displayName"`
	InitialDomain string          `json:"initialDomain"`
	Domains       []DomainSummary `json:"domains"`
	Counts        Counts          `json:"counts"`
}

// DomainSummary is one domain of a tenant.
type DomainSummary struct {
	Name       string `json:"name"`
	Verified   bool   `json:"verified"`
	Default    bool   `json:"default,omitempty"`
	Initial    bool   `json:"initial,omitempty"`
	Deleting   bool   `json:"deleting,omitempty"`
	VerifyCode string `json:"verificationRecord"`
}

func (t *Tenant) summary() TenantSummary {
	ts := TenantSummary{ID: t.ID, Role: t.Role, DisplayName: t.DisplayName,
		InitialDomain: t.InitialDomain(), Counts: t.counts()}
	for _, d := range t.domains {
		ts.Domains = append(ts.Domains, DomainSummary{Name: d.Name, Verified: d.Verified,
			Default: d.Default, Initial: d.Initial, Deleting: d.deleting, VerifyCode: d.VerifyCode})
	}
	return ts
}

// Tenants returns a summary of every tenant.
func (s *Server) Tenants() []TenantSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDue()
	out := make([]TenantSummary, 0, len(s.tenants))
	for _, t := range s.tenants {
		out = append(out, t.summary())
	}
	return out
}

func (s *Server) inspectTenants(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"tenants": s.Tenants()})
}

// inspectTenant serves /_sim/tenants/{id}[/users|/managedDevices|/releasedManagedDevices|/devices|
// /mail][/{objectId}].
func (s *Server) inspectTenant(w http.ResponseWriter, r *http.Request, parts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDue()
	t := s.tenantByKey(parts[0])
	if t == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "notFound", "message": "no tenant " + parts[0]}})
		return
	}
	if len(parts) == 1 {
		writeJSON(w, http.StatusOK, t.summary())
		return
	}
	var items []map[string]any
	switch parts[1] {
	case "users":
		for _, id := range t.userOrder {
			items = append(items, t.users[id].inspect())
		}
	case "managedDevices":
		for _, id := range t.managedOrd {
			items = append(items, t.managed[id].inspect())
		}
	case "releasedManagedDevices":
		for _, d := range t.released {
			items = append(items, d.inspect())
		}
	case "devices":
		for _, id := range t.deviceOrd {
			items = append(items, t.devices[id].props())
		}
	case "mail":
		for _, m := range t.sent {
			b, _ := json.Marshal(m)
			var v map[string]any
			_ = json.Unmarshal(b, &v)
			items = append(items, v)
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "notFound", "message": "unknown collection " + parts[1]}})
		return
	}
	if len(parts) == 3 {
		for _, it := range items {
			if it["id"] == parts[2] || strings.EqualFold(str(it["userPrincipalName"]), parts[2]) {
				writeJSON(w, http.StatusOK, it)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "notFound", "message": "no object " + parts[2]}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "value": items})
}

// inspect is the user's full state, including what Graph never shows (such as whether the
// account is an administrator and every authentication method).
func (u *User) inspect() map[string]any {
	m := u.props()
	m["isAdmin"] = u.IsAdmin
	var auths []map[string]any
	for _, a := range u.Authenticators {
		auths = append(auths, a.props())
	}
	m["authenticatorMethods"] = auths
	if u.TAP != nil {
		m["temporaryAccessPass"] = u.TAP.props(time.Time{})
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (s *Server) inspectRequests(w http.ResponseWriter, r *http.Request) {
	since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	entries := s.reqlog.since(since, limit)
	if entries == nil {
		entries = []LogEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(entries), "value": entries})
}

func (s *Server) inspectClock(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"now": s.clock.Now(), "timeScale": s.clock.Scale()})
}

// inspectAdvance moves simulated time: body {"duration": "36h"}.
func (s *Server) inspectAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Duration string `json:"duration"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "badRequest", "message": `body must be {"duration": "36h"}`}})
		return
	}
	d, err := time.ParseDuration(body.Duration)
	if err != nil || d < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "badRequest", "message": "duration must be a positive Go duration such as 90m or 36h"}})
		return
	}
	s.Advance(d)
	s.inspectClock(w)
}

// inspectPublishDNS publishes a TXT record: body {"domain": "contoso.com", "text": "MS=ms123"}.
// Publishing an empty text removes every record of the domain.
func (s *Server) inspectPublishDNS(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Domain string `json:"domain"`
		Text   string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Domain == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "badRequest", "message": `body must be {"domain": "contoso.com", "text": "MS=ms12345678"}`}})
		return
	}
	s.PublishDNS(body.Domain, body.Text)
	writeJSON(w, http.StatusOK, map[string]any{"domain": body.Domain, "published": s.dnsRecords(body.Domain)})
}

// PublishDNS publishes a TXT record for domain in the simulated public DNS; an empty text
// removes the domain's records.
func (s *Server) PublishDNS(domain, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	domain = strings.ToLower(domain)
	if text == "" {
		delete(s.dns(), domain)
		return
	}
	s.dns()[domain] = append(s.dns()[domain], text)
}

func (s *Server) dnsRecords(domain string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.dns()[strings.ToLower(domain)]...)
}
