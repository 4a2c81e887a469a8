package graph

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Cloud names accepted in Config.Cloud.
const (
	CloudPublic = "public"
	CloudUSGov  = "usgov"
	CloudChina  = "china"
	CloudCustom = "custom"
)

// cloudEndpoints are the token authority, the Graph base URL and the Graph resource of one
// national cloud. Tokens for a national cloud's Graph carry that cloud's resource as audience,
// so the scope changes with the cloud.
type cloudEndpoints struct {
	authority string
	graphURL  string
	resource  string
}

var clouds = map[string]cloudEndpoints{
	CloudPublic: {"https://login.microsoftonline.com/", "https://graph.microsoft.com/v1.0",
		"https://graph.microsoft.com"},
	CloudUSGov: {"https://login.microsoftonline.us/", "https://graph.microsoft.us/v1.0",
		"https://graph.microsoft.us"},
	CloudChina: {"https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn/v1.0",
		"https://microsoftgraph.chinacloudapi.cn"},
}

// Credential kinds accepted in CredentialConfig.Kind.
const (
	CredentialSecret          = "secret"
	CredentialCertificate     = "certificate"
	CredentialManagedIdentity = "managed-identity"
	CredentialAzureCLI        = "azure-cli"
	CredentialDeviceCode      = "device-code"
)

// Config configures a Client. It holds references to secrets (an environment variable name, a
// file path), never a secret itself, so it can be written to a project file and committed.
type Config struct {
	// Cloud is "public" (the default), "usgov", "china" or "custom". A custom cloud needs
	// AuthorityHost and GraphURL; the simulator is a custom cloud.
	Cloud string
	// AuthorityHost is the Entra token service, for example https://login.microsoftonline.com/.
	// It overrides the cloud's.
	AuthorityHost string
	// GraphURL is the Graph version root, for example https://graph.microsoft.com/v1.0. It
	// overrides the cloud's.
	GraphURL string
	// Scope is the token scope. Default: the cloud's Graph resource followed by "/.default";
	// for a custom cloud https://graph.microsoft.com/.default.
	Scope string
	// TenantID is the directory: a tenant GUID or a verified domain name. Every app
	// registration of one tenant must spell it the same way, because the tenant-wide
	// throttle buckets are shared by this key. Prefer the GUID: a cutover removes the source's
	// domain, after which the domain no longer names the tenant.
	TenantID string
	// ClientID is the application (client) id of the app registration.
	ClientID string
	// Credential says how to obtain tokens.
	Credential CredentialConfig
	// CAFile is a PEM bundle of extra certificate authorities to trust, such as the
	// simulator's. The system roots stay trusted.
	CAFile string

	// Priority is sent as x-ms-throttle-priority. Default "Low": bulk traffic is throttled
	// first, which protects people working interactively. Set "none" to omit the header.
	Priority string
	// Limits are the published throttle limits the client paces itself by. Zero fields take
	// DefaultLimits.
	Limits Limits
	// Retry bounds retries. Zero fields take defaults.
	Retry RetryConfig
	// TimeScale says the server runs time this many times faster than real time (the
	// simulator's time scale): every rate is multiplied by it and every duration divided by
	// it. Default 1.
	TimeScale float64

	// Pacer shares throttle state between clients, so that several app registrations of one
	// tenant share the tenant-wide buckets. Nil gives the client a pacer of its own.
	Pacer *Pacer
	// HTTPClient overrides the HTTP client for Graph and token requests (tests). CAFile is
	// ignored when it is set.
	HTTPClient *http.Client
	// Logger receives debug logs of every attempt. It never receives tokens or headers.
	Logger *slog.Logger
	// Getenv reads environment variables; nil uses os.Getenv.
	Getenv func(string) string
	// DevicePrompt shows the device-code sign-in instructions; nil prints to standard error.
	DevicePrompt func(message string)
	// Clock and Jitter make time and randomness parameters; nil uses real time and
	// math/rand/v2.
	Clock  Clock
	Jitter func() float64
}

// CredentialConfig names the credential and where its secret lives.
type CredentialConfig struct {
	// Kind is "secret", "certificate", "managed-identity", "azure-cli" or "device-code".
	Kind string
	// SecretEnv is the name of the environment variable that holds the client secret.
	SecretEnv string
	// CertificateFile is a PEM (or PKCS#12) file with the certificate and its private key.
	CertificateFile string
	// CertificatePasswordEnv names the environment variable holding the key's password, if any.
	CertificatePasswordEnv string
	// ManagedIdentityClientID selects a user-assigned managed identity; empty uses the
	// system-assigned one.
	ManagedIdentityClientID string
}

// RetryConfig bounds the retries of one request. Durations are real time at TimeScale 1.
type RetryConfig struct {
	// Budget is the total time one request may spend retrying, waits included (default 15 min).
	Budget time.Duration
	// BaseDelay is the first backoff delay when no Retry-After is given (default 1 s).
	BaseDelay time.Duration
	// MaxDelay caps one backoff delay (default 60 s).
	MaxDelay time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 10 min).
	MaxRetryAfter time.Duration
	// MaxAttempts caps attempts per request; 0 means only the budget limits them.
	MaxAttempts int
	// AttemptTimeout caps how long one attempt waits for its answer (default 2 min); below
	// the cap the client allows five times the latency it observes, at least 5 s.
	AttemptTimeout time.Duration
}

func (r RetryConfig) withDefaults() RetryConfig {
	if r.Budget <= 0 {
		r.Budget = 15 * time.Minute
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = time.Second
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = time.Minute
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 10 * time.Minute
	}
	if r.AttemptTimeout <= 0 {
		r.AttemptTimeout = 2 * time.Minute
	}
	return r
}

// scaled divides every duration by k.
func (r RetryConfig) scaled(k float64) RetryConfig {
	r.Budget = scaleDuration(r.Budget, k)
	r.BaseDelay = scaleDuration(r.BaseDelay, k)
	r.MaxDelay = scaleDuration(r.MaxDelay, k)
	r.MaxRetryAfter = scaleDuration(r.MaxRetryAfter, k)
	r.AttemptTimeout = scaleDuration(r.AttemptTimeout, k)
	return r
}

func scaleDuration(d time.Duration, k float64) time.Duration {
	if k <= 0 || k == 1 {
		return d
	}
	return time.Duration(float64(d) / k)
}

// endpoints resolves the authority host, the Graph URL and the scope.
func (c *Config) endpoints() (authority, graphURL, scope string, err error) {
	name := strings.ToLower(c.Cloud)
	if name == "" {
		name = CloudPublic
	}
	ep, known := clouds[name]
	if !known && name != CloudCustom {
		return "", "", "", fmt.Errorf("unknown cloud %q: want public, usgov, china or custom", c.Cloud)
	}
	if name == CloudCustom {
		ep.resource = clouds[CloudPublic].resource
	}
	authority, graphURL, scope = ep.authority, ep.graphURL, ep.resource+"/.default"
	if c.AuthorityHost != "" {
		authority = c.AuthorityHost
	}
	if c.GraphURL != "" {
		graphURL = c.GraphURL
	}
	if c.Scope != "" {
		scope = c.Scope
	}
	if authority == "" || graphURL == "" {
		return "", "", "", errors.New("custom cloud needs both an authority host and a Graph URL")
	}
	if !strings.HasSuffix(authority, "/") {
		authority += "/"
	}
	graphURL = strings.TrimRight(graphURL, "/")
	if u, perr := url.Parse(graphURL); perr != nil || u.Scheme == "" || u.Host == "" {
		return "", "", "", fmt.Errorf("graph URL %q is not an absolute URL", graphURL)
	}
	return authority, graphURL, scope, nil
}

// customAuthority reports whether the authority host is not one of the public clouds'. MSAL
// would otherwise ask login.microsoftonline.com to validate it (instance discovery), which a
// private or simulated authority cannot pass and which must not leave the machine.
func customAuthority(authority string) bool {
	for _, ep := range clouds {
		if strings.EqualFold(ep.authority, authority) {
			return false
		}
	}
	return true
}

// httpClient returns the configured HTTP client, or one that also trusts CAFile.
func (c *Config) httpClient() (*http.Client, error) {
	if c.HTTPClient != nil {
		return c.HTTPClient, nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 2 * time.Minute
	if c.CAFile != "" {
		pool, err := certPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t}, nil
}

// certPool returns the system roots plus the certificates of a PEM file.
func certPool(path string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificates", path)
	}
	return pool, nil
}
