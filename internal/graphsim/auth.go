package graphsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// graphResource is the application id URI of Microsoft Graph: the audience of its tokens.
const graphResource = "https://graph.microsoft.com"

// tokenService is the simulator's Microsoft Entra token endpoint and the discovery
// documents that MSAL (and so azidentity) reads before asking for a token.
type tokenService struct {
	s      *Server
	key    *rsa.PrivateKey
	kid    string
	cacheM sync.Mutex
	cache  map[string]*accessClaims // verified tokens, so each is checked once
}

// accessClaims are the claims of an access token the simulator issues.
type accessClaims struct {
	jwt.RegisteredClaims
	TenantID    string   `json:"tid"`
	AppID       string   `json:"appid"`
	AppName     string   `json:"app_displayname,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	IDType      string   `json:"idtyp,omitempty"`
	Version     string   `json:"ver,omitempty"`
	ObjectID    string   `json:"oid,omitempty"`
	TokenTenant string   `json:"-"`
}

var tokenPath = regexp.MustCompile(`^/([^/]+)/(oauth2/v2\.0/token|oauth2/token|v2\.0/\.well-known/openid-configuration|discovery/instance|discovery/v2\.0/keys)$`)

func newTokenService(s *Server) (*tokenService, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	return &tokenService{s: s, key: key, kid: fmt.Sprintf("sim-%x", key.N.Bytes()[:6]),
		cache: map[string]*accessClaims{}}, nil
}

func (ts *tokenService) matches(path string) bool { return tokenPath.MatchString(path) }

func (ts *tokenService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := tokenPath.FindStringSubmatch(r.URL.Path)
	tenantKey, what := m[1], m[2]
	switch what {
	case "discovery/instance":
		ts.instanceDiscovery(w, r)
	case "v2.0/.well-known/openid-configuration":
		ts.openIDConfiguration(w, tenantKey)
	case "discovery/v2.0/keys":
		ts.keys(w)
	default:
		ts.token(w, r, tenantKey)
	}
}

// instanceDiscovery answers MSAL's authority validation for a host it does not know.
func (ts *tokenService) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(ts.s.baseURL, "https://")
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if u, err := url.Parse(ae); err == nil {
			if parts := strings.Split(strings.Trim(u.Path, "/"), "/"); len(parts) > 0 && parts[0] != "" {
				tenant = parts[0]
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": ts.s.baseURL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

func (ts *tokenService) openIDConfiguration(w http.ResponseWriter, tenantKey string) {
	ts.s.mu.Lock()
	t := ts.s.tenantByKey(tenantKey)
	ts.s.mu.Unlock()
	if t == nil && tenantKey != "common" && tenantKey != "organizations" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID "+
				"and are signing into the correct cloud.", tenantKey))
		return
	}
	id := tenantKey
	if t != nil {
		id = t.ID
	}
	base := ts.s.baseURL + "/" + id
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              ts.s.baseURL + "/" + id + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

func (ts *tokenService) keys(w http.ResponseWriter) {
	pub := ts.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": ts.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString([]byte{1, 0, 1}),
	}}})
}

// token implements the OAuth 2.0 client credentials grant, by secret or certificate.
func (ts *tokenService) token(w http.ResponseWriter, r *http.Request, tenantKey string) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", 900561,
			"AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 900144,
			"AADSTS900144: The request body must contain form-encoded parameters.")
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}

	if gt := f.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'.", gt))
		return
	}
	scope := resourceScope(f.Get("scope"))
	if scope != graphResource+"/.default" && scope != "00000003-0000-0000-c000-000000000000/.default" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("AADSTS1002012: The provided value for scope %s is not valid. Client credential flows "+
				"must have a scope value with /.default suffixed to the resource identifier.", scope))
		return
	}

	ts.s.mu.Lock()
	t := ts.s.tenantByKey(tenantKey)
	var app *App
	if a := ts.s.apps[clientID]; a != nil && t != nil && a.tenant == t {
		app = a
	}
	now := ts.s.clock.Now()
	ts.s.mu.Unlock()

	switch {
	case t == nil:
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenantKey))
		return
	case clientID == "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 900144,
			"AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	case app == nil:
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.",
				clientID, t.ID))
		return
	}

	switch {
	case secret != "":
		if secret != app.Secret {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 7000215,
				"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "+
					"is the client secret value, not the client secret ID.")
			return
		}
	case f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", 700024,
				"AADSTS700024: Client assertion type is not supported.")
			return
		}
		// The client signs its assertion with its own, real clock.
		if err := ts.verifyAssertion(f.Get("client_assertion"), app, t, ts.s.opts.Now()); err != nil {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 700027, err.Error())
			return
		}
	default:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"AADSTS7000218: The request body must contain the following parameter: "+
				"'client_assertion' or 'client_secret'.")
		return
	}

	tok, lifetime, err := ts.issue(app, t, now)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", 90000, err.Error())
		return
	}
	secs := int(lifetime.Seconds())
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
	})
}

// issue signs an access token for app in tenant t. The lifetime is real time: at a time
// scale above one, the token's exp lies correspondingly further ahead in simulated time.
func (ts *tokenService) issue(app *App, t *Tenant, now time.Time) (string, time.Duration, error) {
	lifetime := ts.s.opts.TokenLifetime
	if lifetime <= 0 {
		ts.s.mu.Lock()
		lifetime = time.Duration(60+ts.s.rng.IntN(31)) * time.Minute
		ts.s.mu.Unlock()
	}
	simLifetime := time.Duration(float64(lifetime) * ts.s.clock.Scale())
	// exp is whole seconds; rounding it down would end the token up to a second before the
	// expires_in the client was told, and a client that renews a little before expires_in
	// would still send an expired token. Round up instead.
	exp := now.Add(simLifetime)
	if t := exp.Truncate(time.Second); t.Before(exp) {
		exp = t.Add(time.Second)
	}
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Audience:  jwt.ClaimStrings{graphResource},
			Issuer:    "https://sts.windows.net/" + t.ID + "/",
			Subject:   app.spID(),
			IssuedAt:  jwt.NewNumericDate(now.Add(-5 * time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Minute)),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        newRequestID(),
		},
		TenantID: t.ID, AppID: app.ClientID, AppName: app.Name, Roles: app.Roles,
		IDType: "app", Version: "1.0", ObjectID: app.spID(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = ts.kid
	signed, err := tok.SignedString(ts.key)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return signed, lifetime, nil
}

// verifyAssertion checks a certificate credential's client assertion: the signature against
// the app's registered certificate, the audience, issuer, subject and validity window.
func (ts *tokenService) verifyAssertion(assertion string, app *App, t *Tenant, now time.Time) error {
	cert, _ := app.Certificate.(*x509.Certificate)
	if cert == nil {
		return errors.New("AADSTS700027: The certificate with identifier used to sign the client " +
			"assertion is not registered on application.")
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(assertion, claims, func(tok *jwt.Token) (any, error) {
		if !thumbprintMatches(tok.Header, cert) {
			return nil, errors.New("unknown key")
		}
		return cert.PublicKey, nil
	})
	if err != nil {
		return fmt.Errorf("AADSTS700027: Client assertion failed signature validation. (%v)", err)
	}

	aud, _ := claims.GetAudience()
	if !ts.audienceOK(aud, t) {
		return fmt.Errorf("AADSTS700016: The audience claim %q of the client assertion is not this "+
			"tenant's token endpoint.", strings.Join(aud, ","))
	}
	iss, _ := claims.GetIssuer()
	sub, _ := claims.GetSubject()
	if iss != app.ClientID || sub != app.ClientID {
		return errors.New("AADSTS700023: Client assertion audience claim does not match Realm issuer, " +
			"or the iss and sub claims are not the client id.")
	}
	exp, _ := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	const skew = 5 * time.Minute
	if exp == nil || now.After(exp.Add(skew)) {
		return errors.New("AADSTS700024: Client assertion is not within its valid time range (expired).")
	}
	if nbf != nil && now.Add(skew).Before(nbf.Time) {
		return errors.New("AADSTS700024: Client assertion is not within its valid time range (not yet valid).")
	}
	return nil
}

// audienceOK accepts the tenant's v2.0 or v1.0 token endpoint on this host, with the
// tenant named by id or by any of its verified domains.
func (ts *tokenService) audienceOK(aud []string, t *Tenant) bool {
	for _, a := range aud {
		u, err := url.Parse(a)
		if err != nil || !strings.EqualFold("https://"+u.Host, ts.s.baseURL) {
			continue
		}
		parts := strings.SplitN(strings.Trim(u.Path, "/"), "/", 2)
		if len(parts) != 2 || (parts[1] != "oauth2/v2.0/token" && parts[1] != "oauth2/token") {
			continue
		}
		ts.s.mu.Lock()
		got := ts.s.tenantByKey(parts[0])
		ts.s.mu.Unlock()
		if got == t {
			return true
		}
	}
	return false
}

func thumbprintMatches(h map[string]any, cert *x509.Certificate) bool {
	if v, ok := h["x5t#S256"].(string); ok {
		return string(decodeB64(v)) == string(thumbprintS256(cert))
	}
	if v, ok := h["x5t"].(string); ok {
		sum := sha1.Sum(cert.Raw)
		return string(decodeB64(v)) == string(sum[:])
	}
	// No thumbprint: only the registered certificate could verify the signature anyway.
	return true
}

// decodeB64 decodes base64 in either alphabet, with or without padding: clients differ.
func decodeB64(v string) []byte {
	v = strings.TrimRight(v, "=")
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil {
		return b
	}
	b, _ := base64.RawStdEncoding.DecodeString(v)
	return b
}

// authenticate checks the bearer token of a Graph request and fills in the caller.
func (s *Server) authenticate(c *call) bool {
	authz := c.r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		c.unauthenticated("Access token is empty.")
		return false
	}
	claims, msg := s.tokens.verify(raw, s.clock.Now())
	if claims == nil {
		c.unauthenticated(msg)
		return false
	}

	s.mu.Lock()
	t := s.byID[claims.TenantID]
	app := s.apps[claims.AppID]
	s.mu.Unlock()
	if t == nil || app == nil || app.tenant != t {
		c.unauthenticated("Access token validation failure. Invalid audience or tenant.")
		return false
	}
	c.tenant, c.app, c.rawToken = t, app, raw
	c.roles = make(map[string]bool, len(claims.Roles))
	for _, r := range claims.Roles {
		c.roles[r] = true
	}
	c.entry.Tenant, c.entry.App = t.ID, app.ClientID
	return true
}

// verify validates a Graph access token: signature, audience, and lifetime on the simulated
// clock. It returns the claims, or nil and the message Graph would give.
func (ts *tokenService) verify(raw string, now time.Time) (*accessClaims, string) {
	ts.cacheM.Lock()
	claims := ts.cache[raw]
	ts.cacheM.Unlock()

	if claims == nil {
		claims = &accessClaims{}
		parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
		if _, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
			return &ts.key.PublicKey, nil
		}); err != nil {
			if errors.Is(err, jwt.ErrTokenMalformed) {
				return nil, "IDX14100: JWT is not well formed, there are no dots (.)."
			}
			return nil, "Access token validation failure. Invalid signature."
		}
		if len(claims.Audience) != 1 || claims.Audience[0] != graphResource {
			return nil, "Access token validation failure. Invalid audience."
		}
		ts.cacheM.Lock()
		if len(ts.cache) > 10_000 {
			clear(ts.cache)
		}
		ts.cache[raw] = claims
		ts.cacheM.Unlock()
	}
	if claims.ExpiresAt == nil || !now.Before(claims.ExpiresAt.Time) {
		return nil, "Lifetime validation failed, the token is expired."
	}
	if claims.NotBefore != nil && now.Before(claims.NotBefore.Time) {
		return nil, "Lifetime validation failed, the token is not yet valid."
	}
	return claims, ""
}

func (c *call) unauthenticated(msg string) {
	c.header("WWW-Authenticate", `Bearer realm="", authorization_uri="`+c.s.baseURL+
		`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	c.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
}

// spID is the object id of the app's service principal, derived from its client id.
func (a *App) spID() string {
	sum := sha1.Sum([]byte("sp:" + a.ClientID))
	var x, y uint64
	for i := 0; i < 8; i++ {
		x = x<<8 | uint64(sum[i])
		y = y<<8 | uint64(sum[i+8])
	}
	return formatGUID(x, y)
}

// tenantByKey finds a tenant by id or by one of its verified domains. Callers hold s.mu.
func (s *Server) tenantByKey(key string) *Tenant {
	if t, ok := s.byID[strings.ToLower(key)]; ok {
		return t
	}
	for _, t := range s.tenants {
		if t.hasVerifiedDomain(key) {
			return t
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	w.Write(b)
}

func writeOAuthError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	now := time.Now().UTC()
	trace, corr := newRequestID(), newRequestID()
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
	})
}

// resourceScope drops the OpenID Connect scopes MSAL adds to every request, which Entra
// ignores for the client credentials grant, and returns what is left.
func resourceScope(scope string) string {
	var rest []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
		default:
			rest = append(rest, sc)
		}
	}
	return strings.Join(rest, " ")
}
