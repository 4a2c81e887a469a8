package graphsim

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
)

func TestAzidentityClientSecret(t *testing.T) {
	s := startSim(t, Options{})
	src := tenant(t, s, "source")
	a := app(t, src, "cutover")

	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s),
		DisableInstanceDiscovery: true}
	cred, err := azidentity.NewClientSecretCredential(src.ID, a.ClientID, a.Secret, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{
		Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	if time.Until(tok.ExpiresOn) < 50*time.Minute {
		t.Errorf("token expires in %v, want 60 to 90 minutes", time.Until(tok.ExpiresOn))
	}

	r := do(t, s, tok.Token, http.MethodGet, "/users?$top=5&$select=id,userPrincipalName", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list users with azidentity token: %d %s", r.Status, r.Raw)
	}
	if n := len(r.Body["value"].([]any)); n != 5 {
		t.Errorf("got %d users, want 5", n)
	}

	// A wrong secret is refused by the token service.
	bad, _ := azidentity.NewClientSecretCredential(src.ID, a.ClientID, "wrong", opts)
	if _, err := bad.GetToken(context.Background(), policy.TokenRequestOptions{
		Scopes: []string{"https://graph.microsoft.com/.default"}}); err == nil {
		t.Error("wrong secret: got a token, want an error")
	}
}

func TestAzidentityClientCertificate(t *testing.T) {
	s := startSim(t, Options{})
	tgt := tenant(t, s, "target")
	a := app(t, tgt, "cutover")

	dir := t.TempDir()
	d, err := s.Describe(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var certFile string
	for _, dt := range d.Tenants {
		for _, da := range dt.Apps {
			if da.ClientID == a.ClientID {
				certFile = da.CertificateFile
			}
		}
	}
	if certFile == "" {
		t.Fatal("describe gave no certificate file for the target's cutover app")
	}
	if fi, err := os.Stat(certFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("certificate file %s: mode %v, err %v; want 0600", filepath.Base(certFile), fi.Mode(), err)
	}

	pemBytes, _ := os.ReadFile(certFile)
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Address the tenant by its verified domain, as administrators often do.
	cred, err := azidentity.NewClientCertificateCredential("fabrikam.com", a.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(s),
			DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{
		Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("get token with certificate: %v", err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.Token, claims); err != nil {
		t.Fatal(err)
	}
	if claims["tid"] != tgt.ID || claims["appid"] != a.ClientID {
		t.Errorf("token claims tid=%v appid=%v, want %s %s", claims["tid"], claims["appid"], tgt.ID, a.ClientID)
	}
	if roles, _ := claims["roles"].([]any); len(roles) != len(a.Roles) {
		t.Errorf("token has %d roles, want %d", len(roles), len(a.Roles))
	}

	r := do(t, s, tok.Token, http.MethodGet, "/users?$top=1", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list users with certificate token: %d %s", r.Status, r.Raw)
	}
}

// TestTokenLivesAtLeastExpiresIn checks that a token's exp, which is whole seconds, is never
// earlier than issue time plus the expires_in the client is told: a client that renews shortly
// before expires_in must never send an expired token.
func TestTokenLivesAtLeastExpiresIn(t *testing.T) {
	s, err := New(Options{TokenLifetime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := tenant(t, s, "source")
	a := app(t, src, "cutover")
	for _, frac := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		now := time.Date(2025, 6, 7, 8, 0, 0, 0, time.UTC).Add(frac)
		raw, lifetime, err := s.tokens.issue(a, src, now)
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := s.tokens.verify(raw, now)
		if claims == nil {
			t.Fatalf("issued at +%v: token refused at once", frac)
		}
		if exp := claims.ExpiresAt.Time; exp.Before(now.Add(lifetime)) || exp.After(now.Add(lifetime+time.Second)) {
			t.Errorf("issued at +%v with expires_in %v: exp %v", frac, lifetime, exp)
		}
	}
}
