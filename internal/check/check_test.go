package check

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graph"
)

// stubSession answers requests by path from a table and fails on any path it does not know,
// so a test notices requests it did not expect.
type stubSession struct {
	t     *testing.T
	token string
	reply map[string]error // path → nil (200) or the error to return
	calls map[string]int
}

func (s *stubSession) Do(_ context.Context, req graph.Request) (*graph.Response, error) {
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[req.Path]++
	err, ok := s.reply[req.Path]
	if !ok {
		s.t.Errorf("unexpected request %s %s", req.Method, req.Path)
		return nil, &graph.Error{Status: http.StatusNotFound}
	}
	if err != nil {
		return nil, err
	}
	return &graph.Response{Status: http.StatusOK}, nil
}

func (s *stubSession) AccessToken() string { return s.token }

// jwt builds an unsigned token-shaped string with the given claims.
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + ".c2ln"
}

var (
	intunePath  = "/deviceManagement/managedDevices"
	premiumPath = "/reports/authenticationMethods/userRegistrationDetails"
)

func testConfig(t *testing.T, edit func(*config.Config)) *config.Config {
	t.Helper()
	c, err := config.Load("../config/testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func TestDecodeRoles(t *testing.T) {
	cases := []struct {
		name  string
		token string
		want  []string
	}{
		{"roles", jwt(t, map[string]any{"tid": "x", "roles": []string{"User.Read.All"}}), []string{"User.Read.All"}},
		{"no roles claim means none granted", jwt(t, map[string]any{"tid": "x"}), []string{}},
		{"opaque", "EwBwA8l6BAAU", nil},
		{"not base64", "a.%%%.c", nil},
		{"not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", nil},
		{"JSON without tid is not a token", jwt(t, map[string]any{"roles": []string{"X"}}), nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeRoles(tc.token)
			if (got == nil) != (tc.want == nil) || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("decodeRoles = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func stepsOf(needs []Need) map[string]bool {
	m := map[string]bool{}
	for _, n := range needs {
		m[n.Tenant+"/"+n.Step] = true
	}
	return m
}

func TestNeedsFollowTheConfiguration(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		got := stepsOf(Needs(testConfig(t, nil)))
		for _, want := range []string{"source/sync", "target/sync", "source/revoke",
			"source/release-devices (retire)", "source/remove-entra-devices", "source/deregister-autopilot",
			"source/release-domain", "target/adopt-domain", "target/switch-upn", "source/block-source",
			"source/track", "target/track"} {
			if !got[want] {
				t.Errorf("default configuration lacks %s", want)
			}
		}
		for _, off := range []string{"target/provision", "target/issue-tap", "source/reset-password",
			"source/remove-source-mfa", "source/notify"} {
			if got[off] {
				t.Errorf("default configuration enables %s", off)
			}
		}
	})
	t.Run("optional steps and device actions", func(t *testing.T) {
		needs := Needs(testConfig(t, func(c *config.Config) {
			p := &c.Policies
			p.Steps = config.Steps{Provision: true, IssueTAP: true, ResetPassword: true, RemoveSourceMFA: true}
			p.Notifications.Senders = []string{"it@contoso.com"}
			p.Devices["ios"]["personal"] = config.ActionDelete
			p.RemoveEntraDevices, p.DeregisterAutopilot = false, false
		}))
		got := stepsOf(needs)
		for _, want := range []string{"target/provision", "target/issue-tap", "source/reset-password",
			"source/remove-source-mfa", "source/notify", "target/notify", "source/release-devices (retire, delete)"} {
			if !got[want] {
				t.Errorf("lacks %s", want)
			}
		}
		if got["source/remove-entra-devices"] || got["source/deregister-autopilot"] {
			t.Error("device object steps enabled although switched off")
		}
		for _, n := range needs {
			if strings.HasPrefix(n.Step, StepReleaseDevices) && len(n.Permissions) != 3 {
				t.Errorf("release-devices needs %v, want privileged operations, read-write and read", n.Permissions)
			}
		}
	})
	t.Run("everything left alone", func(t *testing.T) {
		got := stepsOf(Needs(testConfig(t, func(c *config.Config) {
			for _, row := range c.Policies.Devices {
				for o := range row {
					row[o] = config.ActionLeave
				}
			}
		})))
		for s := range got {
			if strings.HasPrefix(s, "source/release-devices") {
				t.Errorf("%s enabled with every device left alone", s)
			}
		}
	})
}

func TestRunNamesMissingPermissionAndStep(t *testing.T) {
	cfg := testConfig(t, nil)
	roles := []string{"User.Read.All", "Device.Read.All", "DeviceManagementManagedDevices.Read.All",
		"AuditLog.Read.All", "Domain.Read.All", "User.ReadWrite.All", "Device.ReadWrite.All",
		"DeviceManagementManagedDevices.PrivilegedOperations.All", "DeviceManagementServiceConfig.ReadWrite.All",
		"Domain.ReadWrite.All", "User.EnableDisableAccount.All"}
	// No User.RevokeSessions.All: User.ReadWrite.All grants what it does.
	token := jwt(t, map[string]any{"tid": "x", "roles": roles})
	r := run(t, cfg, func(*config.Tenant) *stubSession {
		return &stubSession{t: t, token: token, reply: map[string]error{intunePath: nil, premiumPath: nil}}
	})
	if !r.OK() {
		t.Fatalf("missing rows with every permission (or a higher one) granted: %+v", r.MissingRows())
	}
	row := findRow(t, r, "revoke", "source", KindPermission, "User.RevokeSessions.All")
	if row.Status != StatusGranted || row.Detail != "through User.ReadWrite.All" {
		t.Errorf("revoke row = %+v", row)
	}

	// Without User.ReadWrite.All, revoke and the UPN changes lose their permission.
	token = jwt(t, map[string]any{"tid": "x", "roles": roles[:5]})
	r = run(t, cfg, func(*config.Tenant) *stubSession {
		return &stubSession{t: t, token: token, reply: map[string]error{intunePath: nil, premiumPath: nil}}
	})
	row = findRow(t, r, "revoke", "source", KindPermission, "User.RevokeSessions.All")
	if row.Status != StatusMissing || r.OK() {
		t.Errorf("revoke row = %+v, report OK = %v", row, r.OK())
	}
	role := findRow(t, r, "revoke", "source", KindRole, "")
	if role.Status != StatusNotVerifiable {
		t.Errorf("directory role row = %+v", role)
	}
}

func TestLicenceProbes(t *testing.T) {
	cfg := testConfig(t, nil)
	noIntune := &graph.Error{Status: http.StatusBadRequest, Code: "BadRequest",
		Message: "Request not applicable to target tenant."}
	noPremium := &graph.Error{Status: http.StatusForbidden, Code: nonPremiumCode,
		Message: "Neither tenant is B2C or tenant doesn't have premium license"}
	denied := &graph.Error{Status: http.StatusForbidden, Code: "Authorization_RequestDenied"}
	cases := []struct {
		name                string
		intune, premium     error
		wantIntune, wantP12 Status
		premiumCalls        int
	}{
		{"both licensed", nil, nil, StatusGranted, StatusGranted, 1},
		{"no Intune", noIntune, nil, StatusMissing, StatusGranted, 1},
		{"no P1/P2, asked twice", nil, noPremium, StatusGranted, StatusMissing, 2},
		{"cannot test without the read permission", denied, denied, StatusUnknown, StatusUnknown, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := jwt(t, map[string]any{"tid": "x", "roles": []string{}})
			var source *stubSession
			r := run(t, cfg, func(tn *config.Tenant) *stubSession {
				s := &stubSession{t: t, token: token, reply: map[string]error{intunePath: tc.intune,
					premiumPath: tc.premium}}
				if tn.Role == config.RoleSource {
					source = s
				}
				return s
			})
			if got := findRow(t, r, "", "source", KindLicence, LicenceIntune).Status; got != tc.wantIntune {
				t.Errorf("Intune licence = %s, want %s", got, tc.wantIntune)
			}
			if got := findRow(t, r, "", "target", KindLicence, LicencePremium).Status; got != tc.wantP12 {
				t.Errorf("P1/P2 licence = %s, want %s", got, tc.wantP12)
			}
			if source.calls[premiumPath] != tc.premiumCalls {
				t.Errorf("registration report asked %d times, want %d", source.calls[premiumPath], tc.premiumCalls)
			}
		})
	}
}

func TestOpaqueTokenFallsBackToTestRequests(t *testing.T) {
	cfg := testConfig(t, nil)
	denied := &graph.Error{Status: http.StatusForbidden, Code: "Authorization_RequestDenied"}
	r := run(t, cfg, func(*config.Tenant) *stubSession {
		return &stubSession{t: t, token: "opaque-token", reply: map[string]error{
			intunePath: nil, premiumPath: nil, "/users": nil, "/devices": denied, "/domains": nil}}
	})
	checks := []struct {
		step, needs string
		want        Status
	}{
		{"sync", "User.Read.All", StatusGranted},
		{"sync", "Device.Read.All", StatusMissing},
		{"sync", "DeviceManagementManagedDevices.Read.All", StatusGranted},
		{"revoke", "User.RevokeSessions.All", StatusUnknown},
	}
	for _, c := range checks {
		if got := findRow(t, r, c.step, "source", KindPermission, c.needs).Status; got != c.want {
			t.Errorf("%s %s = %s, want %s", c.step, c.needs, got, c.want)
		}
	}
	signIn := findRow(t, r, "sign-in", "source", KindCredential, "")
	if !strings.Contains(signIn.Detail, "token not decodable") {
		t.Errorf("sign-in row does not say the token was opaque: %+v", signIn)
	}
}

func TestSignInFailure(t *testing.T) {
	cfg := testConfig(t, nil)
	refused := &graph.Error{Status: http.StatusUnauthorized, Code: "tokenRequestFailed",
		Message: "ClientSecretCredential authentication failed. \nPOST https://login/token\n" +
			`{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret ` +
			`provided. Trace ID: 1 Correlation ID: 2", "error_codes": [7000215]}`}
	r := run(t, cfg, func(*config.Tenant) *stubSession {
		return &stubSession{t: t, reply: map[string]error{intunePath: refused}}
	})
	row := findRow(t, r, "sign-in", "source", KindCredential, "")
	if row.Status != StatusMissing || !strings.Contains(row.Detail, "AADSTS7000215") ||
		strings.Contains(row.Detail, "Trace ID") {
		t.Errorf("sign-in row = %+v", row)
	}
	if got := findRow(t, r, "revoke", "source", KindPermission, "").Status; got != StatusUnknown {
		t.Errorf("permission of an app that could not sign in = %s, want unknown", got)
	}

	// A credential that cannot even be built.
	c := Checker{Open: func(*config.Tenant, config.App) (Session, error) {
		return nil, errors.New("secret credential: environment variable CUTOVER_SOURCE_SECRET is empty")
	}}
	r, err := c.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if row := findRow(t, r, "sign-in", "source", KindCredential, ""); row.Status != StatusMissing ||
		!strings.Contains(row.Detail, "CUTOVER_SOURCE_SECRET") {
		t.Errorf("sign-in row = %+v", row)
	}
}

func TestCertificateExpiry(t *testing.T) {
	dir := t.TempDir()
	notAfter := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	certFile := writeCertificate(t, dir, notAfter)
	app := config.App{Name: "cert", Auth: config.AuthCertificate, CertificateFile: certFile}
	cases := []struct {
		name   string
		now    time.Time
		want   Status
		detail string
	}{
		{"far", notAfter.AddDate(-1, 0, 0), StatusGranted, "certificate expires 2027-01-31"},
		{"soon", notAfter.AddDate(0, 0, -10), StatusGranted, "(in 10 days): renew it"},
		{"expired", notAfter.AddDate(0, 0, 1), StatusMissing, "certificate expired 2027-01-31"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Checker{Now: func() time.Time { return tc.now }}
			st, detail := c.credentialExpiry(app)
			if st != tc.want || !strings.Contains(detail, tc.detail) {
				t.Errorf("expiry = %s %q, want %s containing %q", st, detail, tc.want, tc.detail)
			}
		})
	}
	st, detail := Checker{}.credentialExpiry(config.App{Auth: config.AuthSecret})
	if st != StatusGranted || !strings.Contains(detail, "not visible app-only") {
		t.Errorf("secret expiry = %s %q", st, detail)
	}
}

func writeCertificate(t *testing.T, dir string, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"},
		NotBefore: notAfter.AddDate(-2, 0, 0), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, cfg *config.Config, session func(*config.Tenant) *stubSession) *Report {
	t.Helper()
	c := Checker{Open: func(tn *config.Tenant, _ config.App) (Session, error) { return session(tn), nil }}
	r, err := c.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// findRow returns the first row matching the non-empty fields; step matches by prefix.
func findRow(t *testing.T, r *Report, step, tenant, kind, needs string) Row {
	t.Helper()
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Step, step) && row.Tenant == tenant && row.Kind == kind &&
			(needs == "" || row.Needs == needs) {
			return row
		}
	}
	t.Fatalf("no row %s/%s/%s/%s in %+v", step, tenant, kind, needs, r.Rows)
	return Row{}
}
