package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/check"
	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graphsim"
)

// startDescribedSim starts a small simulator and writes its description as `cutover sim
// --describe` does.
func startDescribedSim(t *testing.T) (*graphsim.Server, string) {
	t.Helper()
	s, dir, d := startSimDescribed(t, graphsim.Options{Preset: "small"})
	path := filepath.Join(dir, "sim.json")
	if err := graphsim.WriteDescription(path, d); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// setExports applies `export NAME='value'` lines to the test's environment.
func setExports(t *testing.T, out string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !strings.HasPrefix(line, "export ") {
			t.Fatalf("not an export line: %q", line)
		}
		value = strings.ReplaceAll(strings.Trim(value, "'"), `'\''`, "'")
		t.Setenv(name, value)
		vars[name] = value
	}
	return vars
}

func TestInitFromSimThenCheck(t *testing.T) {
	_, desc := startDescribedSim(t)
	dir := filepath.Join(t.TempDir(), "project")
	ctx := context.Background()

	// init writes the file and prints the secrets only as export lines.
	code, out, errOut := run(ctx, "init", "--project", dir, "--from-sim", desc)
	if code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	vars := setExports(t, out)
	if len(vars) != 2 || vars["CUTOVER_SOURCE_SECRET"] == "" || vars["CUTOVER_TARGET_SECRET"] == "" {
		t.Fatalf("export lines = %v", vars)
	}
	written, err := os.ReadFile(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range vars {
		if bytes.Contains(written, []byte(secret)) {
			t.Fatal("cutover.yaml holds a secret")
		}
	}

	// The file validates.
	if code, out, errOut := run(ctx, "config", "validate", "--project", dir); code != ExitOK ||
		!strings.Contains(out, "is valid") {
		t.Fatalf("config validate: exit %d\n%s%s", code, out, errOut)
	}

	t.Run("full app: everything granted, exit 0", func(t *testing.T) {
		code, out, errOut := run(ctx, "check", "--project", dir, "--output", "json")
		if code != ExitOK {
			t.Fatalf("check: exit %d\n%s", code, errOut)
		}
		var rep check.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		var permissions, licences int
		for _, r := range rep.Rows {
			switch r.Kind {
			case check.KindPermission:
				permissions++
				if r.Status != check.StatusGranted {
					t.Errorf("not granted: %+v", r)
				}
			case check.KindLicence:
				licences++
				if r.Status != check.StatusGranted {
					t.Errorf("licence not found: %+v", r)
				}
			case check.KindRole:
				if r.Status != check.StatusNotVerifiable {
					t.Errorf("role row: %+v", r)
				}
			}
		}
		cfg, err := config.Load(filepath.Join(dir, config.FileName))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, n := range check.Needs(cfg) {
			want += len(n.Permissions)
		}
		if rep.Missing != 0 || permissions != want || licences != 4 {
			t.Errorf("missing %d, %d permission rows (want %d), %d licence rows", rep.Missing,
				permissions, want, licences)
		}
	})

	t.Run("init refuses to overwrite", func(t *testing.T) {
		code, _, errOut := run(ctx, "init", "--project", dir, "--from-sim", desc, "--sim-apps", "cutover-readonly")
		after, _ := os.ReadFile(filepath.Join(dir, config.FileName))
		if code != ExitError || !strings.Contains(errOut, "--force") || !bytes.Equal(after, written) {
			t.Fatalf("exit %d, stderr %q, file changed %v", code, errOut, !bytes.Equal(after, written))
		}
	})

	t.Run("read-only app: names the permission and the step, exit 3", func(t *testing.T) {
		code, out, _ := run(ctx, "init", "--project", dir, "--from-sim", desc, "--sim-apps",
			"cutover-readonly", "--force")
		if code != ExitOK {
			t.Fatalf("init --force: exit %d", code)
		}
		setExports(t, out)
		code, out, errOut := run(ctx, "check", "--project", dir)
		if code != ExitCheckFailed {
			t.Fatalf("check: exit %d, want %d\n%s", code, ExitCheckFailed, errOut)
		}
		if !hasLine(out, "revoke", "source", "cutover-readonly", "User.RevokeSessions.All", " no") {
			t.Errorf("table has no missing-revoke row:\n%s", out)
		}
		if !strings.Contains(errOut, "permission User.RevokeSessions.All for revoke (source app cutover-readonly)") {
			t.Errorf("stderr does not name the permission and step:\n%s", errOut)
		}
		if hasLine(out, "sync", "User.Read.All", " no") {
			t.Errorf("a granted read permission is reported missing:\n%s", out)
		}
	})

	t.Run("wrong secret: sign-in row fails, exit 3", func(t *testing.T) {
		t.Setenv("CUTOVER_SOURCE_SECRET", "not-the-secret")
		code, out, _ := run(ctx, "check", "--project", dir, "--output", "csv")
		if code != ExitCheckFailed {
			t.Fatalf("exit %d", code)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != "step,tenant,app,kind,needs,granted,detail,why" {
			t.Fatalf("header = %v", rows[0])
		}
		var signIn []string
		for _, r := range rows[1:] {
			if r[0] == "sign-in" && r[1] == "source" {
				signIn = r
			}
		}
		const want = "sign-in failed: the token service says AADSTS7000215"
		if signIn == nil || signIn[5] != "no" || !strings.Contains(signIn[6], want) {
			t.Errorf("source sign-in row = %v", signIn)
		}
	})
}

// hasLine reports whether one line of text contains every part, in order.
func hasLine(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := line, true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestCheckWithCertificate(t *testing.T) {
	sp := newSimProject(t, graphsim.Options{}, "cutover", "")
	// Switch the source app to its certificate.
	cfgPath := filepath.Join(sp.Dir, config.FileName)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	certFile := describedApp(t, sp.Desc.Tenants[0], "cutover").CertificateFile
	role := sp.Desc.Tenants[0].Role
	env := "CUTOVER_" + strings.ToUpper(role) + "_SECRET"
	data = bytes.Replace(data, []byte("auth: secret\n        secretEnv: "+env),
		[]byte("auth: certificate\n        certificateFile: "+certFile), 1)
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(env, "")
	code, out, errOut := run(context.Background(), "check", "--project", sp.Dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !hasLine(out, "sign-in", role, "certificate "+certFile, "yes (signed in; certificate expires 20") {
		t.Errorf("no certificate expiry in:\n%s", out)
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	bad := `version: 1
tenants:
  source:
    tenant: contoso.com
    apps: [{name: a, clientId: 6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b, auth: secret, secretEnv: S}]
  target:
    tenant: fabrikam.com
    apps: [{name: a, clientId: 7f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b, auth: azure-cli}]
policies:
  devices:
    ios: {company: nuke}
  graceDayz: 3
`
	path := filepath.Join(dir, config.FileName)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(context.Background(), "config", "validate", "--project", dir)
	if code != ExitError || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := []string{
		path + `:11: policies.devices.ios.company: unknown action "nuke" (allowed: retire, wipe, delete, leave)`,
		path + `:12: policies.graceDayz: unknown key (did you mean "graceDays"?)`,
		"cutover: 2 problems in " + path + "; nothing was changed",
	}
	if got := strings.Split(strings.TrimSpace(errOut), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, strings.Join(want, "\n"))
	}
}

func TestInitUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"sim and flags", []string{"--from-sim", "x.json", "--source-tenant", "contoso.com"}, "do not combine"},
		{"bad client id", []string{"--source-client-id", "abc"}, `"abc" is not a GUID`},
		{"bad auth", []string{"--auth", "password"}, "--auth must be"},
		{"bad sender", []string{"--sender", "it department"}, "is not an e-mail address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, errOut := run(context.Background(), append([]string{"init", "--project", dir}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want %d and %q", code, errOut, ExitUsage, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, config.FileName)); err == nil {
				t.Error("a file was written")
			}
		})
	}
}

func TestInitWithoutFlagsWritesTemplate(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(context.Background(), "init", "--project", dir, "--source-tenant",
		"contoso.com", "--time-zone", "Europe/Paris")
	if code != ExitOK || out != "" || !strings.Contains(errOut, "set the client ids") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	info, err := os.Stat(filepath.Join(dir, config.FileName))
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Fatalf("file: %v %v", info, err)
	}
	_, err = config.Load(filepath.Join(dir, config.FileName))
	if err == nil || !strings.Contains(err.Error(), "placeholder") || strings.Contains(err.Error(), "timeZone") {
		t.Errorf("template should fail only on placeholders: %v", err)
	}
}
