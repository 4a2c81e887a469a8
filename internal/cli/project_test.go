package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/graphsim"
)

// simProject is a project folder whose tenants are a running simulator's.
type simProject struct {
	Dir  string
	Sim  *graphsim.Server
	Desc *graphsim.Description
}

// newSimProject starts a simulator with opts and writes a cutover.yaml for it that signs in
// as app (for example "cutover" or "cutover-readonly") in both tenants, with the secrets in
// CUTOVER_SOURCE_SECRET and CUTOVER_TARGET_SECRET. extra is appended to the file (policies,
// waves...).
func newSimProject(t *testing.T, opts graphsim.Options, app, extra string) *simProject {
	t.Helper()
	if opts.Preset == "" {
		opts.Preset = "small"
	}
	s, dir, d := startSimDescribed(t, opts)
	var b strings.Builder
	b.WriteString("version: 1\ntenants:\n")
	for _, dt := range d.Tenants {
		da := describedApp(t, dt, app)
		env := "CUTOVER_" + strings.ToUpper(dt.Role) + "_SECRET"
		t.Setenv(env, da.ClientSecret)
		fmt.Fprintf(&b, "  %s:\n    tenant: %s\n    cloud: custom\n", dt.Role, dt.ID)
		fmt.Fprintf(&b, "    authorityHost: %s\n    graphBaseURL: %s\n    caFile: sim-ca.pem\n",
			d.AuthorityURL, d.BaseURL)
		fmt.Fprintf(&b, "    apps:\n      - name: %s\n        clientId: %s\n        auth: secret\n"+
			"        secretEnv: %s\n", da.Name, da.ClientID, env)
	}
	b.WriteString(extra)
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return &simProject{Dir: dir, Sim: s, Desc: d}
}

// startSimDescribed starts a simulator for the test and writes its CA and app certificates
// into a temporary folder, as `cutover sim --describe` does; it returns the description.
func startSimDescribed(t *testing.T, opts graphsim.Options) (*graphsim.Server, string, *graphsim.Description) {
	t.Helper()
	s, err := graphsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dir := t.TempDir()
	caFile := filepath.Join(dir, "sim-ca.pem")
	if err := s.WriteCA(caFile); err != nil {
		t.Fatal(err)
	}
	d, err := s.Describe(dir, caFile)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, d
}

func describedApp(t *testing.T, dt graphsim.DescribedTenant, name string) graphsim.DescribedApp {
	t.Helper()
	for _, a := range dt.Apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("simulator tenant %s has no app %q", dt.Role, name)
	return graphsim.DescribedApp{}
}

func TestProjectGraphClientsReachTheirTenant(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{}, "cutover", "")
	p, err := loadProject(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.StorePath != filepath.Join(sp.Dir, "cutover.db") {
		t.Errorf("StorePath = %s", p.StorePath)
	}
	for _, dt := range sp.Desc.Tenants {
		c, err := p.Graph(dt.Role)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := p.Graph(dt.Role)
		if again != c {
			t.Errorf("%s: Graph built a second client", dt.Role)
		}
		var domains struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		resp, err := c.Do(t.Context(), graph.Request{Method: "GET", Path: "/domains"})
		if err != nil {
			t.Fatalf("%s: %v", dt.Role, err)
		}
		if err := resp.Decode(&domains); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range domains.Value {
			found = found || d.ID == dt.InitialDomain
		}
		if !found {
			t.Errorf("%s: domains %+v lack the tenant's initial domain %s", dt.Role, domains.Value,
				dt.InitialDomain)
		}
	}
	if _, err := p.Graph("middle"); err == nil {
		t.Error("Graph(middle) did not fail")
	}
}

func TestLoadProjectErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := loadProject(dir)
	if err == nil || !strings.Contains(err.Error(), "run cutover init") {
		t.Fatalf("missing file: %v", err)
	}
	bad := "version: 1\ntenants:\n  source: {tenant: contoso.com}\n  target: {tenant: fabrikam.com}\n"
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = loadProject(dir)
	var errs config.Errors
	if !asErrors(err, &errs) || len(errs) != 2 {
		t.Fatalf("bad file: %v", err)
	}
}

func asErrors(err error, target *config.Errors) bool {
	es, ok := err.(config.Errors)
	if ok {
		*target = es
	}
	return ok
}
