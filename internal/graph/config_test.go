package graph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCloudEndpoints(t *testing.T) {
	tests := []struct {
		name                        string
		cfg                         Config
		authority, graphURL, scope  string
		wantErr                     string
		customAuthorityNeedsNoCheck bool
	}{
		{name: "DefaultIsPublic", cfg: Config{}, authority: "https://login.microsoftonline.com/",
			graphURL: "https://graph.microsoft.com/v1.0", scope: "https://graph.microsoft.com/.default"},
		{name: "USGov", cfg: Config{Cloud: "usgov"}, authority: "https://login.microsoftonline.us/",
			graphURL: "https://graph.microsoft.us/v1.0", scope: "https://graph.microsoft.us/.default"},
		{name: "China", cfg: Config{Cloud: "China"}, authority: "https://login.chinacloudapi.cn/",
			graphURL: "https://microsoftgraph.chinacloudapi.cn/v1.0",
			scope:    "https://microsoftgraph.chinacloudapi.cn/.default"},
		{name: "Custom", cfg: Config{Cloud: "custom", AuthorityHost: "https://127.0.0.1:9443",
			GraphURL: "https://127.0.0.1:9443/v1.0/"}, authority: "https://127.0.0.1:9443/",
			graphURL: "https://127.0.0.1:9443/v1.0", scope: "https://graph.microsoft.com/.default",
			customAuthorityNeedsNoCheck: true},
		{name: "ScopeOverride", cfg: Config{Scope: "api://x/.default"},
			authority: "https://login.microsoftonline.com/", graphURL: "https://graph.microsoft.com/v1.0",
			scope: "api://x/.default"},
		{name: "CustomWithoutURLs", cfg: Config{Cloud: "custom"}, wantErr: "custom cloud needs"},
		{name: "UnknownCloud", cfg: Config{Cloud: "mars"}, wantErr: "unknown cloud"},
		{name: "RelativeGraphURL", cfg: Config{GraphURL: "/v1.0"}, wantErr: "not an absolute URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, g, s, err := tc.cfg.endpoints()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || a != tc.authority || g != tc.graphURL || s != tc.scope {
				t.Errorf("got %q %q %q %v, want %q %q %q", a, g, s, err, tc.authority, tc.graphURL, tc.scope)
			}
			if customAuthority(a) != tc.customAuthorityNeedsNoCheck {
				t.Errorf("customAuthority(%q) = %v", a, customAuthority(a))
			}
		})
	}
}

func TestCredentialConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "bad.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	base := Config{TenantID: "t", ClientID: "c"}
	tests := []struct {
		name    string
		cred    CredentialConfig
		caFile  string
		wantErr string
	}{
		{"NoKind", CredentialConfig{}, "", "no credential kind"},
		{"UnknownKind", CredentialConfig{Kind: "password"}, "", "unknown credential kind"},
		{"SecretWithoutVariable", CredentialConfig{Kind: "secret"}, "", "no environment variable"},
		{"SecretVariableEmpty", CredentialConfig{Kind: "secret", SecretEnv: "CUTOVER_TEST_UNSET"}, "",
			"CUTOVER_TEST_UNSET is empty"},
		{"CertificateMissing", CredentialConfig{Kind: "certificate"}, "", "no certificate file"},
		{"CertificateUnreadable", CredentialConfig{Kind: "certificate",
			CertificateFile: filepath.Join(dir, "absent.pem")}, "", "read certificate file"},
		{"CertificateNotPEM", CredentialConfig{Kind: "certificate", CertificateFile: notPEM}, "",
			"parse certificate file"},
		{"BadCAFile", CredentialConfig{Kind: "secret", SecretEnv: "X"}, notPEM, "no PEM certificates"},
		{"MissingCAFile", CredentialConfig{Kind: "secret", SecretEnv: "X"}, filepath.Join(dir, "nope"),
			"read CA file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Credential, cfg.CAFile = tc.cred, tc.caFile
			cfg.Getenv = func(k string) string {
				if k == "X" {
					return "secret-value"
				}
				return ""
			}
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func TestOtherCredentialKindsBuild(t *testing.T) {
	for _, kind := range []string{CredentialManagedIdentity, CredentialAzureCLI, CredentialDeviceCode} {
		t.Run(kind, func(t *testing.T) {
			c, err := New(Config{TenantID: "t", ClientID: "c", Credential: CredentialConfig{Kind: kind,
				ManagedIdentityClientID: "mi"}, DevicePrompt: func(string) {}})
			if err != nil || c == nil {
				t.Fatalf("new client with %s credential: %v", kind, err)
			}
		})
	}
}
