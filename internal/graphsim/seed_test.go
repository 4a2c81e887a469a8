package graphsim

import (
	"strings"
	"testing"
)

func TestSeedDeterministic(t *testing.T) {
	a, err := New(Options{Preset: "merger", Users: 300, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Preset: "merger", Users: 300, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Preset: "merger", Users: 300, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := func(s *Server) []string {
		var out []string
		for _, tn := range s.tenants {
			out = append(out, tn.ID)
			for _, id := range tn.userOrder {
				u := tn.users[id]
				out = append(out, u.ID+u.UPN+u.EmployeeID)
			}
			for _, id := range tn.managedOrd {
				d := tn.managed[id]
				out = append(out, d.ID+d.SerialNumber+d.OS+d.OwnerType)
			}
		}
		return out
	}
	fa, fb, fc := fingerprint(a), fingerprint(b), fingerprint(c)
	if len(fa) != len(fb) {
		t.Fatalf("same seed gave %d and %d objects", len(fa), len(fb))
	}
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatalf("same seed differs at object %d: %q vs %q", i, fa[i], fb[i])
		}
	}
	if len(fa) == len(fc) && fa[1] == fc[1] {
		t.Error("different seeds gave the same first user")
	}
}

func TestSeedMergerShape(t *testing.T) {
	s, err := New(Options{Preset: "merger", Users: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	src, tgt := tenant(t, s, "source"), tenant(t, s, "target")

	// Source: every person plus three admin accounts, on contoso.com, with devices.
	if got := len(src.users); got != 1003 {
		t.Errorf("source users = %d, want 1003", got)
	}
	if !src.hasVerifiedDomain("contoso.com") || src.hasVerifiedDomain("contoso-legacy.com") {
		t.Error("source must hold contoso.com verified and contoso-legacy.com unverified")
	}
	if n := len(src.managed); n < 1300 || n > 1700 {
		t.Errorf("source managed devices = %d, want about 1,500", n)
	}
	for _, id := range src.managedOrd {
		d := src.managed[id]
		if _, ok := src.devices[src.deviceIndex[d.AzureADDeviceID]]; !ok {
			t.Fatalf("managed device %s has no Entra device object", d.ID)
		}
		if src.users[d.UserID] == nil {
			t.Fatalf("managed device %s belongs to no user", d.ID)
		}
	}
	auth := 0
	for _, u := range src.users {
		if len(u.Authenticators) > 0 {
			auth++
		}
	}
	if share := float64(auth) / float64(len(src.users)); share < 0.8 || share > 0.9 {
		t.Errorf("source Authenticator share = %.2f, want about 0.85", share)
	}

	// Target: staging accounts on the initial domain for most people, matched by employee id.
	staging := 0
	byEmployee := map[string]bool{}
	for _, u := range src.users {
		if u.EmployeeID != "" {
			byEmployee[u.EmployeeID] = true
		}
	}
	for _, u := range tgt.users {
		if strings.HasSuffix(u.UPN, "@fabrikam.onmicrosoft.com") && byEmployee[u.EmployeeID] {
			staging++
		}
	}
	if staging < 850 || staging > 950 {
		t.Errorf("target staging accounts = %d, want about 900", staging)
	}
}

// BenchmarkSeedLarge measures seeding at the scale the README promises; cmd/simbench records
// the figures in docs/benchmarks.md.
func BenchmarkSeedLarge(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{Preset: "merger", Users: 100_000, DevicesPerUser: 1.5}); err != nil {
			b.Fatal(err)
		}
	}
}
