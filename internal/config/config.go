// Package config loads and validates cutover.yaml, the configuration of a cutover project.
//
// The file names both tenants and how to authenticate to them, the policies that decide what
// the cutover does to people's devices and accounts, the accounts it must never touch, and the
// waves. It is meant to be committed: credentials appear only as references (the name of an
// environment variable, a certificate path), never as secrets.
//
// Load reports every problem at once, each with file, line, key and what is allowed, and
// returns no configuration when there is any problem. Defaults are filled in after a
// successful load, so callers never see an unset field that has a documented default.
package config

import "time"

// FileName is the configuration file's name inside a project folder.
const FileName = "cutover.yaml"

// Version is the only configuration format version this build reads.
const Version = 1

// Tenant roles.
const (
	RoleSource = "source"
	RoleTarget = "target"
)

// Clouds accepted in Tenant.Cloud. They match internal/graph's names.
const (
	CloudPublic = "public"
	CloudUSGov  = "usgov"
	CloudChina  = "china"
	CloudCustom = "custom"
)

// Authentication kinds accepted in App.Auth. They match internal/graph's credential kinds.
const (
	AuthSecret          = "secret"
	AuthCertificate     = "certificate"
	AuthManagedIdentity = "managed-identity"
	AuthAzureCLI        = "azure-cli"
	AuthDeviceCode      = "device-code"
)

// Device actions of the policy matrix.
const (
	ActionRetire = "retire" // remove company data and management; personal data stays
	ActionWipe   = "wipe"   // factory reset: irreversible, capped by MaxWipesPerApply
	ActionDelete = "delete" // delete the Intune record only; the device is not contacted
	ActionLeave  = "leave"  // do nothing to the device
)

// Source password policies.
const (
	PasswordKeep  = "keep"  // leave the source password as a fallback until the account is blocked
	PasswordReset = "reset" // set a random source password at window start
)

// Allowed values, in the order messages list them.
var (
	Clouds          = []string{CloudPublic, CloudUSGov, CloudChina, CloudCustom}
	AuthKinds       = []string{AuthSecret, AuthCertificate, AuthManagedIdentity, AuthAzureCLI, AuthDeviceCode}
	Actions         = []string{ActionRetire, ActionWipe, ActionDelete, ActionLeave}
	PasswordActions = []string{PasswordKeep, PasswordReset}
	Platforms       = []string{"windows", "macos", "ios", "android"}
	Ownerships      = []string{"company", "personal"}
)

// Defaults.
const (
	DefaultGraceDays = 14
	MaxGraceDays     = 90
	DefaultTimeZone  = "UTC"
)

// Config is a loaded, validated cutover.yaml with defaults filled in.
type Config struct {
	// Path is the file the configuration was read from.
	Path       string
	Version    int
	Source     Tenant
	Target     Tenant
	Policies   Policies
	Exclusions Exclusions
	Waves      []Wave
}

// Tenant is one side of the migration and how to reach it.
type Tenant struct {
	// Role is "source" or "target".
	Role string
	// Tenant is the directory: a tenant id (GUID) or a verified domain name.
	Tenant string
	// Cloud is public, usgov, china or custom (the simulator, a private cloud).
	Cloud string
	// AuthorityHost and GraphBaseURL are set for the custom cloud only.
	AuthorityHost string
	GraphBaseURL  string
	// CAFile is an extra certificate authority to trust, as an absolute path.
	CAFile string
	// TimeScale is the simulator's time scale (custom cloud only; default 1).
	TimeScale float64
	// Apps are the app registrations; several spread the per-app throttling budget.
	Apps []App
}

// App is one app registration and a reference to its credential.
type App struct {
	Name     string
	ClientID string
	// Auth is the credential kind.
	Auth string
	// SecretEnv names the environment variable holding the client secret (auth: secret).
	SecretEnv string
	// CertificateFile is a PEM file with the certificate and its key, as an absolute path
	// (auth: certificate). CertificatePasswordEnv optionally names the key's password variable.
	CertificateFile        string
	CertificatePasswordEnv string
	// ManagedIdentityClientID selects a user-assigned identity (auth: managed-identity).
	ManagedIdentityClientID string
}

// Tenant returns the tenant of role, or nil for an unknown role.
func (c *Config) Tenant(role string) *Tenant {
	switch role {
	case RoleSource:
		return &c.Source
	case RoleTarget:
		return &c.Target
	}
	return nil
}

// Policies decide what the cutover does.
type Policies struct {
	// Devices is the policy matrix: platform → ownership → action.
	Devices DevicePolicy
	// RemoveEntraDevices deletes the source Entra device objects of released devices.
	RemoveEntraDevices bool
	// DeregisterAutopilot removes released Windows devices from the source's Autopilot.
	DeregisterAutopilot bool
	// MaxWipesPerApply caps wipes in one apply; it must be above 0 when any action is wipe.
	MaxWipesPerApply int
	// SourcePassword is keep or reset.
	SourcePassword string
	// GraceDays is the default time between window start and blocking the source accounts.
	GraceDays     int
	Notifications Notifications
	Steps         Steps
}

// DevicePolicy maps platform and ownership to an action.
type DevicePolicy map[string]map[string]string

// Action returns the action for a platform and ownership ("company" or "personal"); an
// unknown platform or ownership gets leave, so that nothing unplanned is touched.
func (d DevicePolicy) Action(platform, ownership string) string {
	if a, ok := d[platform][ownership]; ok {
		return a
	}
	return ActionLeave
}

// Uses reports whether any cell of the matrix is action.
func (d DevicePolicy) Uses(action string) bool {
	for _, row := range d {
		for _, a := range row {
			if a == action {
				return true
			}
		}
	}
	return false
}

// Notifications configure the messages sent to people.
type Notifications struct {
	// Senders are the mailboxes notices are sent from.
	Senders []string
	// TimeZone is the IANA zone times are shown in; Location is it loaded.
	TimeZone string
	Location *time.Location
}

// Steps switch the optional steps on.
type Steps struct {
	Provision       bool // create missing target accounts
	IssueTAP        bool // Temporary Access Pass for people without Authenticator in the target
	ResetPassword   bool // new random source password at window start (sourcePassword: reset)
	RemoveSourceMFA bool // delete source Authenticator registrations at grace end
}

// Exclusions are accounts the cutover never touches.
type Exclusions struct {
	// Users are sign-in names or object ids in either tenant.
	Users []string
}

// Wave is a wave declared in the configuration.
type Wave struct {
	Name        string
	WindowStart time.Time
	WindowEnd   time.Time
	// GraceDays is the wave's grace period; it defaults to Policies.GraceDays.
	GraceDays int
}
