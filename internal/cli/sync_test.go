package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/graphsim"
	"github.com/cutoverhq/cutover/internal/store"
)

// syncJSONOutput runs cutover sync with --output json and decodes the summary.
func syncJSONOutput(t *testing.T, dir string, args ...string) (syncJSON, string) {
	t.Helper()
	code, out, errOut := run(t.Context(), append([]string{"sync", "--project", dir, "-o", "json"},
		args...)...)
	if code != ExitOK {
		t.Fatalf("sync exit %d\nstderr: %s", code, errOut)
	}
	var rep syncJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode summary: %v\n%s", err, out)
	}
	return rep, errOut
}

func TestSyncCommandAgainstSimulator(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{Preset: "small"}, "cutover", "")

	// First sync: every listing of both tenants, in full.
	rep, errOut := syncJSONOutput(t, sp.Dir)
	counts := map[string]graphsim.Counts{}
	for _, ts := range sp.Sim.Tenants() {
		counts[ts.Role] = ts.Counts
	}
	want := func(role, res string) int {
		c := counts[role]
		return map[string]int{"users": c.Users, "managed-devices": c.ManagedDevices,
			"entra-devices": c.Devices, "registration-details": c.Users, "domains": c.Domains}[res]
	}
	if len(rep.Results) != 10 {
		t.Fatalf("%d results, want 10: %+v", len(rep.Results), rep.Results)
	}
	for _, r := range rep.Results {
		if r.Mode != "full" || r.Rows != want(r.Tenant, r.Resource) || r.Error != "" {
			t.Errorf("%s %s: %+v, want full with %d rows", r.Tenant, r.Resource, r,
				want(r.Tenant, r.Resource))
		}
	}
	if !strings.Contains(errOut, "source users: ") || !strings.Contains(errOut, "synced ") {
		t.Errorf("stderr lacks the plain progress lines:\n%s", errOut)
	}
	fi, err := os.Stat(filepath.Join(sp.Dir, StoreFileName))
	if err != nil || fi.Mode().Perm() != store.FileMode {
		t.Fatalf("store file: %v, %v", fi, err)
	}

	// Disable a source user through Graph; the next users sync reads it through delta.
	p, err := loadProject(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Graph(store.Source)
	if err != nil {
		t.Fatal(err)
	}
	u := firstUser(t, c)
	if _, err := c.Do(t.Context(), graph.Request{Method: http.MethodPatch, Path: "/users/" + u,
		Body: map[string]any{"accountEnabled": false}}); err != nil {
		t.Fatal(err)
	}
	rep, _ = syncJSONOutput(t, sp.Dir, "--resources", "users", "--tenant", "source")
	if len(rep.Results) != 1 || rep.Results[0].Mode != "delta" || rep.Results[0].Read != 1 {
		t.Fatalf("second sync = %+v, want one delta listing that read 1 change", rep.Results)
	}
}

func firstUser(t *testing.T, c *graph.Client) string {
	t.Helper()
	for u, err := range c.ListUsers(t.Context(), graph.ListOptions{Top: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	t.Fatal("no users")
	return ""
}

func TestSyncTableAndTerminalProgress(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{Preset: "small"}, "cutover", "")
	var out, errOut bytes.Buffer
	code := Run(t.Context(), []string{"sync", "--project", sp.Dir, "--resources", "domains"},
		Streams{In: strings.NewReader(""), Out: &out, Err: &errOut, IsTerminal: true})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	table := out.String()
	for _, want := range []string{"TENANT", "RESOURCE", "source  domains", "target  domains"} {
		if !strings.Contains(table, want) {
			t.Errorf("summary lacks %q:\n%s", want, table)
		}
	}
	// The live display draws one line per listing, finished with its row count.
	if !strings.Contains(errOut.String(), "source domains") ||
		!strings.Contains(errOut.String(), "3 rows, full") {
		t.Errorf("terminal progress lacks the finished listing:\n%s", errOut.String())
	}
}

func TestSyncFailureIsReported(t *testing.T) {
	// A wrong target secret fails every target listing; the source ones still complete.
	sp := newSimProject(t, graphsim.Options{Preset: "small"}, "cutover", "")
	t.Setenv("CUTOVER_TARGET_SECRET", "wrong")
	code, out, errOut := run(t.Context(), "sync", "--project", sp.Dir)
	if code != ExitError {
		t.Fatalf("exit %d, want %d\n%s", code, ExitError, errOut)
	}
	if !strings.Contains(errOut, "5 of 10 listings failed") {
		t.Errorf("stderr lacks the failure count:\n%s", errOut)
	}
	if !strings.Contains(out, "failed") || !strings.Contains(out, "source  users") {
		t.Errorf("summary should show the source listings and the failed target ones:\n%s", out)
	}
}

func TestSyncInterruptedExits130(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{Preset: "small"}, "cutover", "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, _, errOut := run(ctx, "sync", "--project", sp.Dir)
	if code != ExitInterrupt {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupt, errOut)
	}
}

func TestSyncUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad tenant", []string{"--tenant", "both-ish"}, "--tenant must be source, target or both"},
		{"bad resource", []string{"--resources", "users,groups"}, `unknown resource "groups"`},
		{"bad output", []string{"-o", "xml"}, "--output must be table, json or csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t.Context(), append([]string{"sync"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, ExitUsage, tc.want)
			}
		})
	}
}

func TestParseResources(t *testing.T) {
	got, err := parseResources([]string{"Managed-Devices", "users", "managed_devices"})
	if err != nil || len(got) != 2 || got[0] != store.ManagedDevices || got[1] != store.Users {
		t.Fatalf("parseResources = %v, %v", got, err)
	}
}
