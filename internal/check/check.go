package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graph"
)

// Session is one app registration's connection to one tenant.
type Session interface {
	// Do sends a Graph request, signing in first if needed.
	Do(ctx context.Context, req graph.Request) (*graph.Response, error)
	// AccessToken returns the access token the session last used, or "" before the first.
	AccessToken() string
}

// Opener builds the session of one app registration of a tenant. An error means the
// credential could not even be built (an empty secret variable, an unreadable certificate).
type Opener func(tenant *config.Tenant, app config.App) (Session, error)

// Status says whether a requirement is met.
type Status string

// Statuses. Only StatusMissing makes a check fail: what cannot be verified is reported, and
// the documentation says how to verify it by hand.
const (
	StatusGranted       Status = "yes"
	StatusMissing       Status = "no"
	StatusNotVerifiable Status = "not verifiable app-only"
	StatusUnknown       Status = "unknown"
)

// Row kinds.
const (
	KindCredential = "credential"
	KindLicence    = "licence"
	KindPermission = "permission"
	KindRole       = "directory role"
)

// Row is one line of the report.
type Row struct {
	Step   string `json:"step"`
	Tenant string `json:"tenant"`
	App    string `json:"app,omitempty"`
	Kind   string `json:"kind"`
	Needs  string `json:"needs"`
	Status Status `json:"granted"`
	Detail string `json:"detail,omitempty"`
	Why    string `json:"why"`
}

// Report is the outcome of a check.
type Report struct {
	Rows []Row `json:"rows"`
	// Missing counts the rows whose status is StatusMissing.
	Missing int `json:"missing"`
}

// OK reports whether nothing needed is missing.
func (r *Report) OK() bool { return r.Missing == 0 }

// MissingRows returns the rows that make the check fail.
func (r *Report) MissingRows() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Status == StatusMissing {
			out = append(out, row)
		}
	}
	return out
}

func (r *Report) add(row Row) {
	if row.Status == StatusMissing {
		r.Missing++
	}
	r.Rows = append(r.Rows, row)
}

// Checker runs the check. Now and Getenv are parameters so that tests control expiry and
// certificate passwords.
type Checker struct {
	Open   Opener
	Now    func() time.Time
	Getenv func(string) string
}

// Run checks both tenants of cfg. It returns an error only when the context ends; every
// other failure is a row of the report.
func (c Checker) Run(ctx context.Context, cfg *config.Config) (*Report, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	needs := Needs(cfg)
	r := &Report{}
	for _, role := range []string{config.RoleSource, config.RoleTarget} {
		if err := c.tenant(ctx, cfg.Tenant(role), needs, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// app is one app registration after signing in.
type app struct {
	cfg      config.App
	session  Session
	signedIn bool
	roles    []string // nil when the token could not be decoded
	probes   map[string]Status
}

// tenant checks one tenant: sign in with every app, probe the licences, then match each
// enabled step's needs against each app's permissions.
func (c Checker) tenant(ctx context.Context, t *config.Tenant, needs []Need, r *Report) error {
	var apps []*app
	var intune, premium probe
	for _, ac := range t.Apps {
		a, row, in, pr := c.signIn(ctx, t, ac)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.add(row)
		apps = append(apps, a)
		intune, premium = intune.better(in), premium.better(pr)
	}
	c.licences(t.Role, needs, intune, premium, r)
	for _, n := range needs {
		if n.Tenant != t.Role {
			continue
		}
		for _, a := range apps {
			for _, p := range n.Permissions {
				if err := c.permission(ctx, n, a, p, r); err != nil {
					return err
				}
			}
		}
		for _, role := range n.Roles {
			r.add(Row{Step: n.Step, Tenant: t.Role, Kind: KindRole, Needs: role.Name,
				Status: StatusNotVerifiable, Why: role.Why})
		}
	}
	return nil
}

// signIn opens the app's session and makes its first call, the Intune licence probe, which
// also obtains the token. It then probes the registration report's licence.
func (c Checker) signIn(ctx context.Context, t *config.Tenant, ac config.App) (*app, Row, probe, probe) {
	a := &app{cfg: ac, probes: map[string]Status{}}
	row := Row{Step: "sign-in", Tenant: t.Role, App: ac.Name, Kind: KindCredential,
		Needs: credentialName(ac), Why: "every step of this tenant signs in with it"}
	s, err := c.Open(t, ac)
	if err != nil {
		row.Status, row.Detail = StatusMissing, err.Error()
		return a, row, probe{}, probe{}
	}
	a.session = s
	intune := c.probeIntune(ctx, s)
	if intune.signInFailed {
		row.Status, row.Detail = StatusMissing, "sign-in failed: "+intune.detail
		return a, row, probe{}, probe{}
	}
	a.signedIn = true
	if intune.permission != StatusUnknown {
		a.probes[intuneRead[0]] = intune.permission
	}
	premium := c.probePremium(ctx, s)
	if premium.permission != StatusUnknown {
		a.probes[auditRead[0]] = premium.permission
	}
	a.roles = decodeRoles(s.AccessToken())
	row.Status, row.Detail = c.credentialExpiry(ac)
	if a.roles == nil {
		row.Detail = joinDetail(row.Detail, "token not decodable: read permissions tested with "+
			"harmless requests, write permissions unknown")
	}
	return a, row, intune, premium
}

func credentialName(a config.App) string {
	switch a.Auth {
	case config.AuthSecret:
		return "client secret in $" + a.SecretEnv
	case config.AuthCertificate:
		return "certificate " + a.CertificateFile
	case config.AuthManagedIdentity:
		return "managed identity"
	case config.AuthAzureCLI:
		return "Azure CLI sign-in"
	case config.AuthDeviceCode:
		return "device code sign-in"
	}
	return a.Auth
}

// expiryWarning is how close to its end a certificate is flagged.
const expiryWarning = 30 * 24 * time.Hour

// credentialExpiry reports what can be known about the credential's end of life. A client
// secret's expiry lives on the app registration, which an app-only token for Graph cannot
// read without Application.Read.All; a certificate's is in the file.
func (c Checker) credentialExpiry(a config.App) (Status, string) {
	switch a.Auth {
	case config.AuthSecret:
		return StatusGranted, "signed in; secret expiry not visible app-only"
	case config.AuthCertificate:
	default:
		return StatusGranted, "signed in"
	}
	data, err := os.ReadFile(a.CertificateFile)
	if err != nil {
		return StatusGranted, "signed in; certificate unreadable now: " + err.Error()
	}
	var password []byte
	if a.CertificatePasswordEnv != "" {
		password = []byte(c.Getenv(a.CertificatePasswordEnv))
	}
	certs, _, err := azidentity.ParseCertificates(data, password)
	if err != nil || len(certs) == 0 {
		return StatusGranted, "signed in; certificate not parsed"
	}
	end, now := certs[0].NotAfter, c.Now()
	switch left := end.Sub(now); {
	case left <= 0:
		return StatusMissing, "certificate expired " + end.UTC().Format(time.DateOnly)
	case left < expiryWarning:
		return StatusGranted, fmt.Sprintf("signed in; certificate expires %s (in %d days): renew it",
			end.UTC().Format(time.DateOnly), int(left.Hours()/24))
	default:
		return StatusGranted, "signed in; certificate expires " + end.UTC().Format(time.DateOnly)
	}
}

// permission adds the row for one permission of one step and app.
func (c Checker) permission(ctx context.Context, n Need, a *app, p Permission, r *Report) error {
	row := Row{Step: n.Step, Tenant: n.Tenant, App: a.cfg.Name, Kind: KindPermission,
		Needs: p.Name(), Why: p.Why}
	switch {
	case !a.signedIn:
		row.Status, row.Detail = StatusUnknown, "not signed in"
	case a.roles != nil:
		row.Status, row.Detail = grantedBy(a.roles, p)
	default:
		st, detail, err := c.testPermission(ctx, a, p)
		if err != nil {
			return err
		}
		row.Status, row.Detail = st, detail
	}
	r.add(row)
	return nil
}

// grantedBy matches a permission against the token's roles.
func grantedBy(roles []string, p Permission) (Status, string) {
	for i, name := range p.AnyOf {
		if slices.Contains(roles, name) {
			if i == 0 {
				return StatusGranted, ""
			}
			return StatusGranted, "through " + name
		}
	}
	if len(p.AnyOf) > 1 {
		return StatusMissing, "or one of " + strings.Join(p.AnyOf[1:], ", ")
	}
	return StatusMissing, ""
}

// readTests are the harmless requests that show whether a read permission is granted, for
// tokens that cannot be decoded.
var readTests = map[string]string{
	userRead[0]:   "/users?$top=1&$select=id",
	deviceRead[0]: "/devices?$top=1&$select=id",
	domainRead[0]: "/domains?$select=id",
	methodRead[0]: "", // no harmless request without a user id
}

func (c Checker) testPermission(ctx context.Context, a *app, p Permission) (Status, string, error) {
	if st, ok := a.probes[p.Name()]; ok {
		return st, "tested with a harmless request", nil
	}
	path := readTests[p.Name()]
	if path == "" {
		return StatusUnknown, "token not decodable and no harmless request tests this", nil
	}
	_, err := a.session.Do(ctx, getRequest(path))
	if ctx.Err() != nil {
		return "", "", ctx.Err()
	}
	st := StatusGranted
	var ge *graph.Error
	switch {
	case errors.As(err, &ge) && ge.Status == http.StatusForbidden:
		st = StatusMissing
	case err != nil:
		st = StatusUnknown
	}
	a.probes[p.Name()] = st
	return st, "tested with GET " + strings.SplitN(path, "?", 2)[0], nil
}

func getRequest(pathAndQuery string) graph.Request {
	path, rawQuery, _ := strings.Cut(pathAndQuery, "?")
	q, _ := url.ParseQuery(rawQuery)
	return graph.Request{Method: http.MethodGet, Path: path, Query: q,
		Budget: 30 * time.Second}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
