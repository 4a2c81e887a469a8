package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// Helpers that read the simulator's true state through its inspection API (/_sim/), which is
// what a test must check after a write: the client's own success proves nothing about state.

// inspect GETs /_sim/{path} and decodes the answer into v; it returns the HTTP status.
func (e *simEnv) inspect(t *testing.T, path string, v any) int {
	t.Helper()
	resp, err := e.s.HTTPClient().Get(e.s.URL() + "/_sim/" + strings.TrimLeft(path, "/"))
	if err != nil {
		t.Fatalf("inspect %s: %v", path, err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("inspect %s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

// object reads one object of a tenant collection, such as users/{id}; nil when it is absent.
func (e *simEnv) object(t *testing.T, tenantID, collection, id string) map[string]any {
	t.Helper()
	var m map[string]any
	switch st := e.inspect(t, "tenants/"+tenantID+"/"+collection+"/"+id, &m); st {
	case http.StatusOK:
		return m
	case http.StatusNotFound:
		return nil
	default:
		t.Fatalf("inspect %s/%s: status %d", collection, id, st)
		return nil
	}
}

// collection reads a whole tenant collection (users, managedDevices, devices, mail, ...).
func (e *simEnv) collection(t *testing.T, tenantID, name string) []map[string]any {
	t.Helper()
	var body struct {
		Value []map[string]any `json:"value"`
	}
	if st := e.inspect(t, "tenants/"+tenantID+"/"+name, &body); st != http.StatusOK {
		t.Fatalf("inspect %s: status %d", name, st)
	}
	return body.Value
}

// summary reads a tenant's summary, with its domains.
func (e *simEnv) summary(t *testing.T, tenantID string) graphsim.TenantSummary {
	t.Helper()
	var s graphsim.TenantSummary
	if st := e.inspect(t, "tenants/"+tenantID, &s); st != http.StatusOK {
		t.Fatalf("inspect tenant: status %d", st)
	}
	return s
}

// publishDNS publishes a TXT record in the simulated public DNS, as an administrator would
// at the DNS host.
func (e *simEnv) publishDNS(t *testing.T, domain, text string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"domain": domain, "text": text})
	resp, err := e.s.HTTPClient().Post(e.s.URL()+"/_sim/dns", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("publish DNS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish DNS: status %d", resp.StatusCode)
	}
}

// logSince returns the simulator's request log after seq, and the last sequence number.
func (e *simEnv) logSince(seq uint64) ([]graphsim.LogEntry, uint64) {
	log := e.s.Requests(seq)
	if len(log) > 0 {
		seq = log[len(log)-1].Seq
	}
	return log, seq
}

// lastSeq is the sequence number of the newest request the simulator logged.
func (e *simEnv) lastSeq() uint64 {
	_, seq := e.logSince(0)
	return seq
}

// fastClient is a client of an app of the simulator whose pacing never holds a test back:
// tests of pacing set their own limits.
func (e *simEnv) fastClient(t *testing.T, role, app string) *Client {
	t.Helper()
	cfg := e.config(t, role, app, CredentialSecret)
	cfg.Limits = unpaced()
	return e.client(t, cfg)
}

func unpaced() Limits {
	fast := Bucket{Rate: 1e6, Burst: 1000}
	return Limits{EntraRU: fast, EntraWrites: fast, EntraTenantWrites: fast, Reports: fast,
		IntuneWrites: fast, IntuneAny: fast, IntuneTenantWrites: fast, OutlookMailbox: fast,
		ExchangeMailbox: fast}
}

// timeOf parses a Graph timestamp from inspected state; zero when null.
func timeOf(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	if s == "" {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse time %q: %v", s, err)
	}
	return tm
}

// tenantID returns the id of the tenant with the role.
func (e *simEnv) tenantID(t *testing.T, role string) string {
	t.Helper()
	tn, _ := e.app(t, role, "cutover")
	return tn.ID
}

// jsonText renders inspected state as JSON, for containment checks.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
