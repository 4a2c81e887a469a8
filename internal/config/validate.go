package config

import (
	"encoding/pem"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	// Embedded zone data: a configuration valid on one machine is valid on every machine.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// validator decodes the document section by section, checks each value where it stands (so
// the problem carries its line), and fills the Config.
type validator struct {
	*decoder
	dir        string
	tenantLine int // line of tenants.target.tenant, for the same-tenant problem
}

var (
	rootKeys   = []string{"version", "tenants", "policies", "exclusions", "waves"}
	tenantKeys = []string{"tenant", "cloud", "authorityHost", "graphBaseURL", "caFile", "timeScale",
		"apps"}
	appKeys = []string{"name", "clientId", "auth", "secretEnv", "certificateFile",
		"certificatePasswordEnv", "managedIdentityClientId"}
	policyKeys = []string{"devices", "removeEntraDevices", "deregisterAutopilot", "maxWipesPerApply",
		"sourcePassword", "graceDays", "notifications", "steps"}
	notificationKeys = []string{"senders", "timeZone"}
	stepKeys         = []string{"provision", "issueTap", "resetPassword", "removeSourceMfa"}
	waveKeys         = []string{"name", "windowStart", "windowEnd", "graceDays"}

	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	labelRE  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	waveRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	nilGUID  = "00000000-0000-0000-0000-000000000000"
	rfc3339e = "2026-06-06T18:00:00+01:00"
)

// document decodes the top level.
func (v *validator) document(root *yaml.Node, c *Config) {
	f, ok := v.mapping(root, "", root.Line, rootKeys)
	if !ok {
		return
	}
	if n := v.require(f, "version", fmt.Sprintf("the format version, %d", Version)); n != nil {
		if s, _ := v.str(n, "version"); s != fmt.Sprint(Version) {
			v.errorf(n.Line, "version", "unsupported version %s (allowed: %d)", describe(n), Version)
		}
		c.Version = Version
	}
	v.tenants(f, c)
	v.policies(f.get("policies"), f.nodeLine("policies", root.Line), c)
	v.exclusions(f.get("exclusions"), c)
	v.waves(f.get("waves"), c)
}

// nodeLine is the line of a key's value, or fallback when it is absent.
func (f fields) nodeLine(name string, fallback int) int {
	if n := f.nodes[name]; n != nil {
		return n.Line
	}
	return fallback
}

func (v *validator) tenants(root fields, c *Config) {
	n := v.require(root, "tenants", "the source and target tenants")
	if n == nil {
		return
	}
	f, ok := v.mapping(n, "tenants", n.Line, []string{RoleSource, RoleTarget})
	if !ok {
		return
	}
	for _, role := range []string{RoleSource, RoleTarget} {
		tn := v.require(f, role, "the "+role+" tenant")
		if tn == nil {
			continue
		}
		t := c.Tenant(role)
		t.Role = role
		v.tenant(tn, f.path(role), t)
	}
	v.sameTenant(c)
}

// sameTenant refuses a migration from a tenant to itself.
func (v *validator) sameTenant(c *Config) {
	if c.Source.Tenant != "" && strings.EqualFold(c.Source.Tenant, c.Target.Tenant) &&
		c.Source.GraphBaseURL == c.Target.GraphBaseURL {
		v.errorf(v.tenantLine, "tenants.target.tenant", "is the same tenant as tenants.source.tenant (%s)",
			c.Source.Tenant)
	}
}

func (v *validator) tenant(n *yaml.Node, key string, t *Tenant) {
	f, ok := v.mapping(n, key, n.Line, tenantKeys)
	if !ok {
		return
	}
	// The directory: a GUID or a domain name.
	if tn := v.require(f, "tenant", "a tenant id (GUID) or a verified domain such as contoso.com"); tn != nil {
		if s, ok := v.str(tn, f.path("tenant")); ok {
			if !guidRE.MatchString(s) && !isDomain(s) {
				v.errorf(tn.Line, f.path("tenant"), "%q is neither a tenant id (GUID) nor a domain name", s)
			}
			t.Tenant = s
			v.tenantLine = tn.Line
		}
	}
	v.cloud(f, t)
	if cn := f.get("caFile"); cn != nil {
		if s, ok := v.str(cn, f.path("caFile")); ok && s != "" {
			t.CAFile = v.file(cn, f.path("caFile"), s, wantCA)
		}
	}
	v.apps(f, t)
}

// cloud decodes the cloud and its endpoints: a custom cloud must say where its token service
// and Graph are, a national cloud must not (its endpoints are built in).
func (v *validator) cloud(f fields, t *Tenant) {
	t.Cloud = CloudPublic
	if cn := f.get("cloud"); cn != nil {
		s, ok := v.enum(cn, f.path("cloud"), "cloud", Clouds)
		if !ok {
			return // which endpoint keys belong depends on a cloud nobody knows
		}
		t.Cloud = s
	}
	t.TimeScale = 1
	for _, k := range []string{"authorityHost", "graphBaseURL", "timeScale"} {
		n := f.get(k)
		if n == nil {
			if t.Cloud == CloudCustom && k != "timeScale" {
				v.errorf(f.nodeLine("cloud", f.line), f.path(k), "required for cloud: custom (an https URL)")
			}
			continue
		}
		if t.Cloud != CloudCustom {
			if s, _ := v.str(n, f.path(k)); s != "" {
				v.errorf(n.Line, f.path(k), "only allowed with cloud: custom (cloud is %s)", t.Cloud)
			}
			continue
		}
		switch k {
		case "authorityHost":
			t.AuthorityHost = v.httpsURL(n, f.path(k))
		case "graphBaseURL":
			t.GraphBaseURL = v.httpsURL(n, f.path(k))
		case "timeScale":
			if x, ok := v.number(n, f.path(k)); ok {
				t.TimeScale = x
			}
		}
	}
}

func (v *validator) httpsURL(n *yaml.Node, key string) string {
	s, ok := v.str(n, key)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		v.errorf(n.Line, key, "want an https URL such as https://login.example.com/, got %q", s)
		return ""
	}
	return s
}

// file resolves a path against the configuration's folder and checks that it is a readable
// file of the expected kind. Problems quote the path as written.
func (v *validator) file(n *yaml.Node, key, written string, want pemWant) string {
	p := written
	if !filepath.IsAbs(p) {
		p = filepath.Join(v.dir, p)
	}
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		v.errorf(n.Line, key, "cannot read %q: %v", written, rootCause(err))
		return p
	case !fi.Mode().IsRegular():
		v.errorf(n.Line, key, "%q is not a regular file", written)
		return p
	case fi.Size() > MaxFileSize:
		v.errorf(n.Line, key, "%q is larger than %d bytes", written, MaxFileSize)
		return p
	}
	data, err := os.ReadFile(p)
	if err != nil {
		v.errorf(n.Line, key, "cannot read %q: %v", written, rootCause(err))
		return p
	}
	if msg := want.check(p, data); msg != "" {
		v.errorf(n.Line, key, "%q %s", written, msg)
	}
	return p
}

// pemWant says what a referenced file must hold.
type pemWant int

const (
	wantCA         pemWant = iota // one or more certificates
	wantCertAndKey                // a certificate and its private key (or a PKCS#12 file)
)

func (w pemWant) check(path string, data []byte) string {
	var certs, keys int
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certs++
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keys++
		}
	}
	switch {
	case w == wantCA && certs == 0:
		return "holds no PEM certificate"
	case w == wantCertAndKey && certs+keys == 0 && isPKCS12Name(path):
		return "" // binary PKCS#12: azidentity parses it when the credential is built
	case w == wantCertAndKey && (certs == 0 || keys == 0):
		return "must hold the certificate and its private key, as PEM (or a .pfx/.p12 file)"
	}
	return ""
}

func isPKCS12Name(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".pfx" || ext == ".p12"
}

// rootCause drops the path an *os.PathError repeats.
func rootCause(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (v *validator) apps(f fields, t *Tenant) {
	an := v.require(f, "apps", "at least one app registration")
	if an == nil {
		return
	}
	items := v.sequence(an, f.path("apps"))
	if len(items) == 0 && an.Kind == yaml.SequenceNode {
		v.errorf(an.Line, f.path("apps"), "at least one app registration is required")
	}
	names := map[string]int{}
	ids := map[string]int{}
	for i, it := range items {
		key := indexed(f.path("apps"), i)
		a := v.app(it, key)
		if a.Name != "" {
			if first, dup := names[a.Name]; dup {
				v.errorf(it.Line, key+".name", "duplicate app name %q (first at line %d)", a.Name, first)
			}
			names[a.Name] = it.Line
		}
		if a.ClientID != "" {
			if first, dup := ids[strings.ToLower(a.ClientID)]; dup {
				v.errorf(it.Line, key+".clientId", "duplicate clientId (first at line %d)", first)
			}
			ids[strings.ToLower(a.ClientID)] = it.Line
		}
		t.Apps = append(t.Apps, a)
	}
}

// authFields says which credential keys each auth kind needs and accepts.
var authFields = map[string]struct{ required, optional []string }{
	AuthSecret:          {required: []string{"secretEnv"}},
	AuthCertificate:     {required: []string{"certificateFile"}, optional: []string{"certificatePasswordEnv"}},
	AuthManagedIdentity: {optional: []string{"managedIdentityClientId"}},
	AuthAzureCLI:        {},
	AuthDeviceCode:      {},
}

var credentialKeys = []string{"secretEnv", "certificateFile", "certificatePasswordEnv",
	"managedIdentityClientId"}

func (v *validator) app(n *yaml.Node, key string) App {
	var a App
	f, ok := v.mapping(n, key, n.Line, appKeys)
	if !ok {
		return a
	}
	if nn := v.require(f, "name", "a short name for the app registration, such as cutover"); nn != nil {
		if s, ok := v.str(nn, f.path("name")); ok {
			if !waveRE.MatchString(s) {
				v.errorf(nn.Line, f.path("name"), "%q: use letters, digits, '.', '_' or '-'", s)
			}
			a.Name = s
		}
	}
	if cn := v.require(f, "clientId", "the application (client) id, a GUID"); cn != nil {
		a.ClientID = v.clientID(cn, f.path("clientId"))
	}
	an := v.require(f, "auth", "how to authenticate: "+allowedList(AuthKinds))
	if an != nil {
		a.Auth, _ = v.enum(an, f.path("auth"), "auth", AuthKinds)
	}
	v.credential(f, &a)
	return a
}

func (v *validator) clientID(n *yaml.Node, key string) string {
	s, ok := v.str(n, key)
	switch {
	case !ok:
		return ""
	case !guidRE.MatchString(s):
		v.errorf(n.Line, key, "%q is not a GUID (the application (client) id from the app registration)", s)
		return ""
	case s == nilGUID:
		v.errorf(n.Line, key, "is the template's placeholder; set the application (client) id")
		return ""
	}
	return strings.ToLower(s)
}

// credential checks the credential keys against the auth kind: those it needs must be
// there, the others must not, so that a stale reference cannot mislead a reader.
func (v *validator) credential(f fields, a *App) {
	spec, known := authFields[a.Auth]
	for _, k := range credentialKeys {
		n := f.get(k)
		if !known {
			continue
		}
		needed, allowed := contains(spec.required, k), contains(spec.optional, k)
		switch {
		case n == nil && needed:
			v.errorf(f.line, f.path(k), "required for auth: %s", a.Auth)
			continue
		case n == nil:
			continue
		case !needed && !allowed:
			v.errorf(n.Line, f.path(k), "not used with auth: %s (remove it)", a.Auth)
			continue
		}
		s, ok := v.str(n, f.path(k))
		if !ok {
			continue
		}
		v.credentialValue(n, f.path(k), k, s, a)
	}
}

func (v *validator) credentialValue(n *yaml.Node, key, name, s string, a *App) {
	switch name {
	case "secretEnv", "certificatePasswordEnv":
		if !envRE.MatchString(s) {
			v.errorf(n.Line, key, "%q is not an environment variable name; put the NAME of the "+
				"variable here, never the secret", s)
			return
		}
		if name == "secretEnv" {
			a.SecretEnv = s
		} else {
			a.CertificatePasswordEnv = s
		}
	case "certificateFile":
		if s == "" {
			v.errorf(n.Line, key, "required for auth: certificate")
			return
		}
		a.CertificateFile = v.file(n, key, s, wantCertAndKey)
	case "managedIdentityClientId":
		if s != "" {
			a.ManagedIdentityClientID = v.clientID(n, key)
		}
	}
}

func (v *validator) policies(n *yaml.Node, line int, c *Config) {
	p := &c.Policies
	p.RemoveEntraDevices, p.DeregisterAutopilot = true, true
	p.SourcePassword, p.GraceDays = PasswordKeep, DefaultGraceDays
	p.Notifications.TimeZone, p.Notifications.Location = DefaultTimeZone, time.UTC
	f, ok := v.mapping(n, "policies", line, policyKeys)
	if !ok {
		return
	}
	wipeKey, wipeLine := v.devices(f.get("devices"), f, p)
	if b, ok := v.boolean(f.get("removeEntraDevices"), f.path("removeEntraDevices")); ok {
		p.RemoveEntraDevices = b
	}
	if b, ok := v.boolean(f.get("deregisterAutopilot"), f.path("deregisterAutopilot")); ok {
		p.DeregisterAutopilot = b
	}
	if x, ok := v.integer(f.get("maxWipesPerApply"), f.path("maxWipesPerApply"), 0, 1_000_000); ok {
		p.MaxWipesPerApply = x
	}
	if wipeLine > 0 && p.MaxWipesPerApply == 0 {
		if mn := f.get("maxWipesPerApply"); mn != nil {
			v.errorf(mn.Line, f.path("maxWipesPerApply"), "must be above 0 because %s is wipe "+
				"(line %d): it caps the irreversible wipes one apply may send", wipeKey, wipeLine)
		} else {
			v.errorf(wipeLine, wipeKey, "wipe needs policies.maxWipesPerApply above 0: a cap on "+
				"the irreversible wipes one apply may send")
		}
	}
	if s, ok := v.enum(f.get("sourcePassword"), f.path("sourcePassword"), "password policy",
		PasswordActions); ok {
		p.SourcePassword = s
	}
	if x, ok := v.integer(f.get("graceDays"), f.path("graceDays"), 0, MaxGraceDays); ok {
		p.GraceDays = x
	}
	v.notifications(f.get("notifications"), f.path("notifications"), &p.Notifications)
	v.steps(f.get("steps"), f, p)
}

// devices decodes the policy matrix and returns the key and line of its first wipe, if any.
func (v *validator) devices(n *yaml.Node, pf fields, p *Policies) (wipeKey string, wipeLine int) {
	p.Devices = DevicePolicy{}
	for _, pl := range Platforms {
		p.Devices[pl] = map[string]string{}
		for _, o := range Ownerships {
			p.Devices[pl][o] = ActionRetire
		}
	}
	f, ok := v.mapping(n, pf.path("devices"), pf.nodeLine("devices", pf.line), Platforms)
	if !ok {
		return "", 0
	}
	for _, pl := range Platforms {
		row, ok := v.mapping(f.get(pl), f.path(pl), f.nodeLine(pl, f.line), Ownerships)
		if !ok {
			continue
		}
		for _, o := range Ownerships {
			cell := row.get(o)
			a, ok := v.enum(cell, row.path(o), "action", Actions)
			if !ok {
				continue
			}
			p.Devices[pl][o] = a
			if a == ActionWipe && wipeLine == 0 {
				wipeKey, wipeLine = row.path(o), cell.Line
			}
		}
	}
	return wipeKey, wipeLine
}

func (v *validator) notifications(n *yaml.Node, key string, nt *Notifications) {
	f, ok := v.mapping(n, key, 0, notificationKeys)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, sn := range v.sequence(f.get("senders"), f.path("senders")) {
		k := indexed(f.path("senders"), i)
		s, ok := v.str(sn, k)
		if !ok {
			continue
		}
		if !isMailbox(s) {
			v.errorf(sn.Line, k, "%q is not an e-mail address such as it-migration@contoso.com", s)
			continue
		}
		if seen[strings.ToLower(s)] {
			v.errorf(sn.Line, k, "duplicate sender %q", s)
			continue
		}
		seen[strings.ToLower(s)] = true
		nt.Senders = append(nt.Senders, s)
	}
	if tn := f.get("timeZone"); tn != nil {
		if s, ok := v.str(tn, f.path("timeZone")); ok {
			v.timeZone(tn, f.path("timeZone"), s, nt)
		}
	}
}

func (v *validator) timeZone(n *yaml.Node, key, s string, nt *Notifications) {
	if s == "" || s == "Local" {
		v.errorf(n.Line, key, "want an IANA time zone such as Europe/London, got %q", s)
		return
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		v.errorf(n.Line, key, "unknown time zone %q (want an IANA name such as Europe/London)", s)
		return
	}
	nt.TimeZone, nt.Location = s, loc
}

// steps decodes the optional step switches. resetPassword and sourcePassword say the same
// thing twice; either may be given, and when both are they must agree.
func (v *validator) steps(n *yaml.Node, pf fields, p *Policies) {
	f, ok := v.mapping(n, pf.path("steps"), pf.nodeLine("steps", pf.line), stepKeys)
	if !ok {
		return
	}
	for _, k := range stepKeys {
		b, ok := v.boolean(f.get(k), f.path(k))
		if !ok {
			continue
		}
		switch k {
		case "provision":
			p.Steps.Provision = b
		case "issueTap":
			p.Steps.IssueTAP = b
		case "removeSourceMfa":
			p.Steps.RemoveSourceMFA = b
		case "resetPassword":
			if pf.get("sourcePassword") != nil && b != (p.SourcePassword == PasswordReset) {
				v.errorf(f.get(k).Line, f.path(k), "%t contradicts policies.sourcePassword: %s "+
					"(resetPassword: true goes with sourcePassword: reset)", b, p.SourcePassword)
			}
			if b {
				p.SourcePassword = PasswordReset
			}
		}
	}
	p.Steps.ResetPassword = p.SourcePassword == PasswordReset
}

func (v *validator) exclusions(n *yaml.Node, c *Config) {
	f, ok := v.mapping(n, "exclusions", 0, []string{"users"})
	if !ok {
		return
	}
	seen := map[string]int{}
	for i, un := range v.sequence(f.get("users"), f.path("users")) {
		k := indexed(f.path("users"), i)
		s, ok := v.str(un, k)
		if !ok {
			continue
		}
		if !guidRE.MatchString(s) && !isMailbox(s) {
			v.errorf(un.Line, k, "%q is neither a sign-in name (name@domain) nor an object id (GUID)", s)
			continue
		}
		if first, dup := seen[strings.ToLower(s)]; dup {
			v.errorf(un.Line, k, "duplicate exclusion %q (first at line %d)", s, first)
			continue
		}
		seen[strings.ToLower(s)] = un.Line
		c.Exclusions.Users = append(c.Exclusions.Users, s)
	}
}

func (v *validator) waves(n *yaml.Node, c *Config) {
	names := map[string]int{}
	for i, wn := range v.sequence(n, "waves") {
		key := indexed("waves", i)
		w, ok := v.wave(wn, key, c.Policies.GraceDays)
		if !ok {
			continue
		}
		lower := strings.ToLower(w.Name)
		if first, dup := names[lower]; dup {
			v.errorf(wn.Line, key+".name", "duplicate wave name %q (first at line %d)", w.Name, first)
			continue
		}
		names[lower] = wn.Line
		c.Waves = append(c.Waves, w)
	}
}

func (v *validator) wave(n *yaml.Node, key string, defaultGrace int) (Wave, bool) {
	w := Wave{GraceDays: defaultGrace}
	f, ok := v.mapping(n, key, n.Line, waveKeys)
	if !ok {
		return w, false
	}
	before := len(v.errs)
	if nn := v.require(f, "name", "the wave's name, such as wave-1"); nn != nil {
		if s, ok := v.str(nn, f.path("name")); ok {
			if !waveRE.MatchString(s) {
				v.errorf(nn.Line, f.path("name"), "%q: use up to 64 letters, digits, '.', '_' or '-'", s)
			}
			w.Name = s
		}
	}
	start := v.timestamp(v.require(f, "windowStart", "when the window opens, "+rfc3339e), f.path("windowStart"))
	end := v.timestamp(v.require(f, "windowEnd", "when the window closes, "+rfc3339e), f.path("windowEnd"))
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		v.errorf(f.get("windowEnd").Line, f.path("windowEnd"), "must be after windowStart (%s)",
			start.Format(time.RFC3339))
	}
	w.WindowStart, w.WindowEnd = start, end
	if x, ok := v.integer(f.get("graceDays"), f.path("graceDays"), 0, MaxGraceDays); ok {
		w.GraceDays = x
	}
	return w, len(v.errs) == before
}

// timestamp decodes an RFC 3339 date and time with an explicit offset: a wave window without
// one would move with the machine that reads it.
func (v *validator) timestamp(n *yaml.Node, key string) time.Time {
	s, ok := v.str(n, key)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.errorf(n.Line, key, "%q is not an RFC 3339 date and time with offset, such as %s", s, rfc3339e)
		return time.Time{}
	}
	return t
}

// isDomain reports whether s is a DNS name with at least two labels and a non-numeric top
// label.
func isDomain(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	top := labels[len(labels)-1]
	return strings.Trim(top, "0123456789") != ""
}

// isMailbox reports whether s is a bare e-mail address (no display name) on a domain name.
func isMailbox(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && isDomain(s[at+1:])
}
