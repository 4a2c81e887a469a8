package graphsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func (f *fixture) inspect(t *testing.T, method, path, body string) (int, BucketsReport) {
	t.Helper()
	req, _ := http.NewRequest(method, f.s.URL()+path, strings.NewReader(body))
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var r BucketsReport
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
	}
	return resp.StatusCode, r
}

func TestInspectBuckets(t *testing.T) {
	f := newFixture(t, frozen(Options{TimeScale: 60, Model: Model{CeilingFactor: 0.9}}), nil)
	f.revoke(t)
	status, r := f.inspect(t, http.MethodGet, "/_sim/buckets", "")
	if status != http.StatusOK || r.TimeScale != 60 || r.CeilingFactor != 0.9 {
		t.Fatalf("GET /_sim/buckets: %d scale %v ceiling %v", status, r.TimeScale, r.CeilingFactor)
	}
	if len(r.Definitions) != len(defaultBucketDefs()) {
		t.Errorf("%d definitions, want %d", len(r.Definitions), len(defaultBucketDefs()))
	}
	var writes *BucketState
	for i, b := range r.Buckets {
		if b.Name == bEntraWrites {
			writes = &r.Buckets[i]
		}
	}
	if writes == nil {
		t.Fatalf("no %s bucket in %+v", bEntraWrites, r.Buckets)
	}
	if writes.Level != 2999 || writes.Capacity != 3000 || writes.RefillPerSecond != 18 ||
		writes.RealRefillPerSecond != 1080 || writes.Admitted != 1 || writes.App != f.app.ClientID ||
		writes.Tenant != f.tenant.ID || writes.Scope != scopeTenantApp || writes.Limit != limitWrite {
		t.Errorf("write bucket %+v", *writes)
	}

	status, r = f.inspect(t, http.MethodPost, "/_sim/buckets/reset", `{"startLevel": "drained"}`)
	if status != http.StatusOK || len(r.Buckets) != 0 {
		t.Fatalf("reset: %d with %d buckets", status, len(r.Buckets))
	}
	if got := f.revoke(t); got.Status != http.StatusTooManyRequests {
		t.Errorf("write after a drained reset: %d, want 429", got.Status)
	}
	status, _ = f.inspect(t, http.MethodPost, "/_sim/buckets/reset", `{"startLevel": "lots"}`)
	if status != http.StatusBadRequest {
		t.Errorf("reset with a bad level: %d, want 400", status)
	}
	if status, _ := f.inspect(t, http.MethodPost, "/_sim/buckets/reset", ""); status != http.StatusOK {
		t.Errorf("reset without a body: %d, want 200", status)
	}
	if got := f.revoke(t); got.Status != http.StatusOK {
		t.Errorf("write after a plain reset (model start level full): %d", got.Status)
	}
}
