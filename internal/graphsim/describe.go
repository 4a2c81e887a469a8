package graphsim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Description tells scripts and tests how to reach a running simulator. `cutover sim
// --describe FILE` writes it as JSON; docs/simulator.md documents the format.
type Description struct {
	BaseURL      string            `json:"baseUrl"`
	AuthorityURL string            `json:"authorityUrl"`
	InspectURL   string            `json:"inspectUrl"`
	CAFile       string            `json:"caFile"`
	Preset       string            `json:"preset"`
	Seed         uint64            `json:"seed"`
	TimeScale    float64           `json:"timeScale"`
	Tenants      []DescribedTenant `json:"tenants"`
}

// DescribedTenant is one tenant of a Description.
type DescribedTenant struct {
	ID            string          `json:"id"`
	Role          string          `json:"role"`
	DisplayName   string          `json:"displayName"`
	InitialDomain string          `json:"initialDomain"`
	Domains       []DomainSummary `json:"domains"`
	Users         int             `json:"users"`
	Apps          []DescribedApp  `json:"apps"`
}

// DescribedApp is an app registration with its credentials. The secret is the simulator's
// own and protects nothing real.
type DescribedApp struct {
	Name            string   `json:"name"`
	ClientID        string   `json:"clientId"`
	ClientSecret    string   `json:"clientSecret"`
	Permissions     []string `json:"permissions"`
	CertificateFile string   `json:"certificateFile,omitempty"` // certificate and key, PEM
}

// Describe returns how to reach the simulator. When dir is not empty it writes each app's
// certificate and private key there, as one PEM file readable only by its owner, and
// records the paths; caFile is recorded as given.
func (s *Server) Describe(dir, caFile string) (*Description, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &Description{BaseURL: s.GraphURL(), AuthorityURL: s.AuthorityURL(), InspectURL: s.baseURL + "/_sim",
		CAFile: caFile, Preset: s.opts.Preset, Seed: s.opts.Seed, TimeScale: s.clock.Scale()}
	for _, t := range s.tenants {
		sum := t.summary()
		dt := DescribedTenant{ID: t.ID, Role: t.Role, DisplayName: t.DisplayName,
			InitialDomain: sum.InitialDomain, Domains: sum.Domains, Users: len(t.users)}
		for _, a := range t.apps {
			perms := append([]string(nil), a.Roles...)
			sort.Strings(perms)
			da := DescribedApp{Name: a.Name, ClientID: a.ClientID, ClientSecret: a.Secret, Permissions: perms}
			if dir != "" && a.CertPEM != nil {
				path := filepath.Join(dir, fmt.Sprintf("%s-%s.pem", t.Role, a.Name))
				pemBytes := append(append([]byte{}, a.CertPEM...), a.KeyPEM...)
				if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
					return nil, fmt.Errorf("write app certificate: %w", err)
				}
				da.CertificateFile = path
			}
			dt.Apps = append(dt.Apps, da)
		}
		d.Tenants = append(d.Tenants, dt)
	}
	return d, nil
}

// WriteDescription writes d as indented JSON to path, readable only by its owner because it
// holds the simulator's client secrets.
func WriteDescription(path string, d *Description) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode description: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write description: %w", err)
	}
	return nil
}
