package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the loader's output")

// TestBadFiles loads every file of the bad corpus and compares the problems with the golden
// file next to it. Run `go test ./internal/config -run BadFiles -update` after changing a
// message, and review the diff.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			c, err := loadAs(t, file)
			if err == nil {
				t.Fatalf("loaded without error: %+v", c)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want config.Errors: %v", err, err)
			}
			if c != nil {
				t.Error("a configuration came back along with the errors")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s\ngot:\n%swant:\n%s", golden, got, want)
			}
		})
	}
}

// loadAs loads a testdata file under its base name, so messages do not depend on where the
// repository is checked out.
func loadAs(t *testing.T, file string) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(filepath.Base(file), data, dir)
}

func TestEveryProblemNamesFileLineAndKey(t *testing.T) {
	_, err := loadAs(t, "testdata/bad/unknown-action.yaml")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	want := `unknown-action.yaml:21: policies.devices.ios.company: unknown action "nuke" ` +
		`(allowed: retire, wipe, delete, leave)`
	if errs[0].Error() != want {
		t.Errorf("first problem\n got %s\nwant %s", errs[0], want)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 21 || one.Key != "policies.devices.ios.company" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
}

func TestMinimalGetsDefaults(t *testing.T) {
	c, err := loadAs(t, "testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policies
	checks := []struct {
		name      string
		got, want any
	}{
		{"source cloud", c.Source.Cloud, CloudPublic},
		{"time scale", c.Source.TimeScale, 1.0},
		{"target role", c.Target.Role, RoleTarget},
		{"windows company", p.Devices.Action("windows", "company"), ActionRetire},
		{"android personal", p.Devices.Action("android", "personal"), ActionRetire},
		{"unknown platform", p.Devices.Action("linux", "company"), ActionLeave},
		{"remove Entra devices", p.RemoveEntraDevices, true},
		{"deregister Autopilot", p.DeregisterAutopilot, true},
		{"source password", p.SourcePassword, PasswordKeep},
		{"reset password step", p.Steps.ResetPassword, false},
		{"grace days", p.GraceDays, DefaultGraceDays},
		{"time zone", p.Notifications.TimeZone, "UTC"},
		{"location", p.Notifications.Location, time.UTC},
		{"senders", len(p.Notifications.Senders), 0},
		{"target auth", c.Target.Apps[0].Auth, AuthAzureCLI},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestFullFile(t *testing.T) {
	c, err := loadAs(t, "testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata/good")
	src := c.Source
	if src.CAFile != filepath.Join(dir, "ca.pem") || src.Apps[0].CertificateFile != filepath.Join(dir, "app.pem") {
		t.Errorf("paths not resolved against the file's folder: %q %q", src.CAFile, src.Apps[0].CertificateFile)
	}
	if src.Apps[0].ClientID != "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" {
		t.Errorf("client id not normalised: %s", src.Apps[0].ClientID)
	}
	if got := src.Apps[1].ManagedIdentityClientID; got != "8f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" {
		t.Errorf("managed identity = %s", got)
	}
	p := c.Policies
	if p.Devices.Action("windows", "company") != ActionWipe || p.Devices.Action("macos", "personal") != ActionRetire ||
		p.Devices.Action("ios", "personal") != ActionLeave || !p.Devices.Uses(ActionDelete) {
		t.Errorf("device matrix = %v", p.Devices)
	}
	if !p.Steps.ResetPassword || !p.Steps.Provision || !p.Steps.IssueTAP || !p.Steps.RemoveSourceMFA {
		t.Errorf("steps = %+v", p.Steps)
	}
	if p.Notifications.Location.String() != "Europe/London" || len(p.Notifications.Senders) != 2 {
		t.Errorf("notifications = %+v", p.Notifications)
	}
	if len(c.Exclusions.Users) != 2 || len(c.Waves) != 2 {
		t.Fatalf("exclusions %v, waves %v", c.Exclusions.Users, c.Waves)
	}
	w1, w2 := c.Waves[0], c.Waves[1]
	wantStart := time.Date(2026, 6, 6, 17, 0, 0, 0, time.UTC)
	if !w1.WindowStart.Equal(wantStart) || w1.GraceDays != 7 || w2.GraceDays != 21 {
		t.Errorf("waves = %+v", c.Waves)
	}
}

func TestTemplate(t *testing.T) {
	dir := t.TempDir()
	ca, err := os.ReadFile("testdata/good/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("placeholders fail until the client ids are set", func(t *testing.T) {
		b, err := Template(DefaultTemplateValues())
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(FileName, b, dir)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 2 {
			t.Fatalf("want the two placeholder problems, got %v", err)
		}
		for _, e := range errs {
			if !strings.Contains(e.Msg, "placeholder") {
				t.Errorf("unexpected problem: %s", e)
			}
		}
	})
	t.Run("pre-filled for a custom cloud", func(t *testing.T) {
		v := DefaultTemplateValues()
		for i, tt := range []*TemplateTenant{&v.Source, &v.Target} {
			tt.Tenant = []string{"11111111-2222-4333-8444-555555555555", "fabrikam.com"}[i]
			tt.Cloud, tt.AuthorityHost = CloudCustom, "https://127.0.0.1:8443/"
			tt.GraphBaseURL, tt.CAFile, tt.TimeScale = "https://127.0.0.1:8443/v1.0", "ca.pem", 60
			tt.Apps[0].ClientID = []string{"6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
				"7f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"}[i]
		}
		v.Source.Apps = append(v.Source.Apps, TemplateApp{Name: "cutover-2",
			ClientID: "8f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b", Auth: AuthSecret, SecretEnv: "X_2"})
		v.TimeZone = "Europe/London"
		b, err := Template(v)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(FileName, b, dir)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if c.Source.Cloud != CloudCustom || c.Source.TimeScale != 60 || len(c.Source.Apps) != 2 ||
			c.Target.Tenant != "fabrikam.com" || c.Source.CAFile != filepath.Join(dir, "ca.pem") ||
			c.Policies.Notifications.TimeZone != "Europe/London" {
			t.Errorf("template round trip: %+v", c)
		}
	})
}

func TestSuggest(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{"clientID", "clientId"},
		{"polices", "policies"},
		{"tennant", "tenant"},
		{"Retyre", "retire"},
		{"frobnicate", ""},
		{"x", ""},
	}
	allowed := append(append(append([]string{}, appKeys...), rootKeys...), Actions...)
	allowed = append(allowed, tenantKeys...)
	for _, tc := range cases {
		if got := suggest(tc.got, allowed); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.got, got, tc.want)
		}
	}
}

// FuzzLoad feeds the loader arbitrary bytes, seeded with the good and bad corpora. The loader
// must never panic, must return either a configuration or problems, and every problem must
// carry the file name and a line that exists.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/good/*.yaml", "testdata/bad/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, dir)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil {
			checkProblems(t, err, data)
			return
		}
		if len(c.Source.Apps) == 0 || len(c.Target.Apps) == 0 || c.Policies.Notifications.Location == nil {
			t.Fatalf("accepted an incomplete configuration: %+v", c)
		}
	})
}

func checkProblems(t *testing.T, err error, data []byte) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error is not a list of problems: %T %v", err, err)
	}
	lines := strings.Count(string(data), "\n") + 1
	for _, e := range errs {
		if e.File != "fuzz.yaml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
			t.Fatalf("badly placed problem %+v in a file of %d lines", e, lines)
		}
	}
}
