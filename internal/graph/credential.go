package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// NewCredential builds the azidentity credential that cfg describes. The secret is read from
// the environment variable cfg.Credential.SecretEnv names; it never travels in cfg.
func NewCredential(cfg Config) (azcore.TokenCredential, error) {
	authority, _, _, err := cfg.endpoints()
	if err != nil {
		return nil, err
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	opts := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority,
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: hc,
	}
	noDiscovery := customAuthority(authority)

	cc := cfg.Credential
	switch cc.Kind {
	case CredentialSecret:
		return secretCredential(cfg, opts, noDiscovery, getenv)
	case CredentialCertificate:
		return certificateCredential(cfg, opts, noDiscovery, getenv)
	case CredentialManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if cc.ManagedIdentityClientID != "" {
			mo.ID = azidentity.ClientID(cc.ManagedIdentityClientID)
		}
		cred, err := azidentity.NewManagedIdentityCredential(mo)
		if err != nil {
			return nil, fmt.Errorf("create managed identity credential: %w", err)
		}
		return cred, nil
	case CredentialAzureCLI:
		cred, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{
			TenantID: cfg.TenantID})
		if err != nil {
			return nil, fmt.Errorf("create Azure CLI credential: %w", err)
		}
		return cred, nil
	case CredentialDeviceCode:
		return deviceCodeCredential(cfg, opts, noDiscovery)
	case "":
		return nil, errors.New("no credential kind: want secret, certificate, managed-identity, " +
			"azure-cli or device-code")
	default:
		return nil, fmt.Errorf("unknown credential kind %q", cc.Kind)
	}
}

func secretCredential(cfg Config, opts azcore.ClientOptions, noDiscovery bool,
	getenv func(string) string) (azcore.TokenCredential, error) {
	name := cfg.Credential.SecretEnv
	if name == "" {
		return nil, errors.New("secret credential: no environment variable named for the secret")
	}
	secret := getenv(name)
	if secret == "" {
		return nil, fmt.Errorf("secret credential: environment variable %s is empty", name)
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts,
			DisableInstanceDiscovery: noDiscovery})
	if err != nil {
		return nil, fmt.Errorf("create client secret credential: %w", err)
	}
	return cred, nil
}

func certificateCredential(cfg Config, opts azcore.ClientOptions, noDiscovery bool,
	getenv func(string) string) (azcore.TokenCredential, error) {
	cc := cfg.Credential
	if cc.CertificateFile == "" {
		return nil, errors.New("certificate credential: no certificate file")
	}
	data, err := os.ReadFile(cc.CertificateFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate file: %w", err)
	}
	var password []byte
	if cc.CertificatePasswordEnv != "" {
		password = []byte(getenv(cc.CertificatePasswordEnv))
	}
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		return nil, fmt.Errorf("parse certificate file %s: %w", cc.CertificateFile, err)
	}
	cred, err := azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts,
			DisableInstanceDiscovery: noDiscovery})
	if err != nil {
		return nil, fmt.Errorf("create client certificate credential: %w", err)
	}
	return cred, nil
}

func deviceCodeCredential(cfg Config, opts azcore.ClientOptions,
	noDiscovery bool) (azcore.TokenCredential, error) {
	prompt := cfg.DevicePrompt
	if prompt == nil {
		prompt = func(m string) { fmt.Fprintln(os.Stderr, m) }
	}
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: opts, TenantID: cfg.TenantID, ClientID: cfg.ClientID,
		DisableInstanceDiscovery: noDiscovery,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			prompt(m.Message)
			return nil
		}})
	if err != nil {
		return nil, fmt.Errorf("create device code credential: %w", err)
	}
	return cred, nil
}

// tokenSource caches one access token and renews it before it expires, or at once when
// Graph refuses it.
type tokenSource struct {
	cred  azcore.TokenCredential
	fresh func() (azcore.TokenCredential, error) // a new credential with an empty cache
	scope string
	now   func() time.Time

	mu      sync.Mutex
	tok     azcore.AccessToken
	gen     uint64 // counts tokens fetched, so a refusal names the token it refused
	fetched time.Time
}

// token returns a cached token, or a new one when the cached one is within its renewal
// margin: five minutes, or a sixth of its lifetime when that is shorter.
func (ts *tokenSource) token(ctx context.Context) (string, uint64, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.now()
	if ts.tok.Token != "" {
		margin := min(5*time.Minute, ts.tok.ExpiresOn.Sub(ts.fetched)/6)
		if now.Add(margin).Before(ts.tok.ExpiresOn) {
			return ts.tok.Token, ts.gen, nil
		}
	}
	tok, err := ts.fetchLocked(ctx, ts.cred)
	return tok, ts.gen, err
}

// renew replaces a token that Graph refused. If the credential answers from its own cache
// with the same token, a fresh credential is built (when the kind allows it) so that the
// token service issues a new one.
func (ts *tokenSource) renew(ctx context.Context, refusedGen uint64) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.gen != refusedGen {
		return nil // another worker renewed it already
	}
	refused := ts.tok.Token
	tok, err := ts.fetchLocked(ctx, ts.cred)
	if err != nil || tok != refused || ts.fresh == nil {
		return err
	}
	cred, err := ts.fresh()
	if err != nil {
		return err
	}
	ts.cred = cred
	_, err = ts.fetchLocked(ctx, cred)
	return err
}

func (ts *tokenSource) fetchLocked(ctx context.Context, cred azcore.TokenCredential) (string, error) {
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ts.scope}})
	if err != nil {
		return "", tokenError(ctx, err)
	}
	ts.tok, ts.fetched = tok, ts.now()
	ts.gen++
	return tok.Token, nil
}

// tokenError classifies a credential failure: refusals by the token service (a wrong secret,
// an unknown tenant) are permanent; network failures and server errors are transient.
func tokenError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("get token: %w", ctx.Err())
	}
	e := &Error{Code: "tokenRequestFailed", Message: err.Error(), Err: err, Transient: true}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		e.Status = afe.RawResponse.StatusCode
		e.Transient = e.Status >= 500 || e.Status == http.StatusTooManyRequests
	}
	var cue interface{ NonRetriable() }
	if errors.As(err, &cue) && afe == nil {
		e.Transient = false
	}
	return e
}
