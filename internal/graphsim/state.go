package graphsim

import (
	"sort"
	"strings"
	"time"
)

// Tenant is one Microsoft Entra tenant with everything the simulator keeps for it.
type Tenant struct {
	ID          string
	Role        string // "source", "target" or "" (informational, for describe)
	DisplayName string
	SizeClass   string // "S", "M" or "L": drives the resource-unit budget

	domains     []*Domain
	users       map[string]*User
	userOrder   []string // creation order: the order of every listing
	upnIndex    map[string]string
	managed     map[string]*ManagedDevice
	managedOrd  []string
	released    []*ManagedDevice // removed by a completed retire or wipe, kept for inspection
	devices     map[string]*Device
	deviceOrd   []string
	deviceIndex map[string]string // deviceId -> id
	apps        []*App
	skus        []*SKU
	tapPolicy   TAPPolicy
	intune      bool // has an active Intune licence
	premium     bool // has Entra ID P1/P2 (needed by the registration report)

	// changes is the users change log that delta links point into.
	changes []userChange
	// byEmployee maps employee ids to user ids, built on first use by simulated people.
	byEmployee map[string]string
	// sent is every message accepted by sendMail, in order.
	sent []*SentMessage
}

type userChange struct {
	seq     int64
	userID  string
	removed bool
}

// Domain is a domain name added to a tenant.
type Domain struct {
	Name        string
	Verified    bool
	Default     bool
	Initial     bool
	AuthType    string // "Managed" or "Federated"
	Services    []string
	VerifyCode  string // the MS=msNNNNNNNN value to publish as a TXT record
	deleting    bool   // forceDelete accepted, completion pending
	deleteAfter time.Time
	op          *domainOp // the asynchronous operation behind the domain's state, if any
}

// User is a directory user.
type User struct {
	ID                string
	UPN               string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	MailNickname      string
	EmployeeID        string
	JobTitle          string
	Department        string
	UsageLocation     string
	AccountEnabled    bool
	OnPremisesSync    bool
	IsAdmin           bool
	HasMailbox        bool
	Created           time.Time
	SessionsValidFrom time.Time
	ProxyAddresses    []string
	Licenses          []string // skuIds
	PasswordSet       time.Time

	Authenticators []*AuthenticatorMethod
	TAP            *TAPMethod
	// MethodsUpdated is when a method was last added or removed through Graph; zero means
	// only the seeded registrations. The registration report shows it as lastUpdatedDateTime.
	MethodsUpdated time.Time
	SignIns        SignInActivity

	// lastChange is the delta sequence of the user's last change.
	lastChange int64
}

// SignInActivity holds the last sign-in timestamps of a user; zero means never.
type SignInActivity struct {
	LastSignIn               time.Time
	LastNonInteractiveSignIn time.Time
	LastSuccessfulSignIn     time.Time
}

// AuthenticatorMethod is a Microsoft Authenticator registration.
type AuthenticatorMethod struct {
	ID              string
	DisplayName     string
	DeviceTag       string
	PhoneAppVersion string
	Created         time.Time
}

// TAPMethod is a Temporary Access Pass. The pass itself is returned once, at creation.
type TAPMethod struct {
	ID                string
	Created           time.Time
	Start             time.Time
	LifetimeInMinutes int
	IsUsableOnce      bool
	Used              bool
}

// TAPPolicy is the tenant's Temporary Access Pass method configuration.
type TAPPolicy struct {
	Enabled                  bool
	DefaultLifetimeInMinutes int
	MinimumLifetimeInMinutes int
	MaximumLifetimeInMinutes int
	DefaultLength            int
	IsUsableOnce             bool
}

// ManagedDevice is an Intune managed device.
type ManagedDevice struct {
	ID              string
	UserID          string
	UPN             string
	UserDisplayName string
	DeviceName      string
	OS              string // iOS, Android, Windows, macOS
	OSVersion       string
	OwnerType       string // company or personal
	AzureADDeviceID string
	SerialNumber    string
	Manufacturer    string
	Model           string
	IMEI            string
	EmailAddress    string
	Enrolled        time.Time
	LastSync        time.Time
	Compliance      string
	EnrollmentType  string
	// ManagementState follows managementState in the metadata: managed, retirePending, ...
	ManagementState string
	Actions         []*DeviceAction
	// CheckIn is when the device next checks in and carries out its pending remote actions;
	// zero when none is pending.
	CheckIn time.Time
	// Wipe holds the options of the last wipe issued, for the inspection API.
	Wipe *WipeOptions
}

// WipeOptions are the parameters a wipe was issued with (the metadata's wipe action).
type WipeOptions struct {
	KeepEnrollmentData  bool   `json:"keepEnrollmentData"`
	KeepUserData        bool   `json:"keepUserData"`
	MacOSUnlockCode     string `json:"macOsUnlockCode,omitempty"`
	PersistEsimDataPlan bool   `json:"persistEsimDataPlan"`
}

// DeviceAction is one entry of a managed device's deviceActionResults.
type DeviceAction struct {
	Name        string // retire, wipe, delete
	State       string // pending, active, done, failed, ...
	Start       time.Time
	LastUpdated time.Time
}

// Device is a Microsoft Entra device object.
type Device struct {
	ID             string
	DeviceID       string
	DisplayName    string
	OS             string
	OSVersion      string
	TrustType      string // AzureAd, Workplace, ServerAd
	AccountEnabled bool
	IsManaged      bool
	IsCompliant    bool
	Registered     time.Time
	LastSignIn     time.Time
	OwnerID        string
}

// App is an app registration with its service principal's granted application permissions.
type App struct {
	Name        string
	ClientID    string
	Secret      string
	Roles       []string
	CertPEM     []byte
	KeyPEM      []byte
	Certificate any // *x509.Certificate, kept untyped to keep state free of crypto imports
	tenant      *Tenant
}

// SKU is a subscribed licence.
type SKU struct {
	SkuID         string
	SkuPartNumber string
	Enabled       int
	Consumed      int
}

// SentMessage is a message accepted by sendMail.
type SentMessage struct {
	ID          string
	SenderID    string
	Sender      string
	Subject     string
	ContentType string
	Content     string
	To          []string
	Cc          []string
	Bcc         []string
	Headers     map[string]string
	SaveToSent  bool
	Accepted    time.Time
}

func newTenant(id, name string) *Tenant {
	return &Tenant{
		ID:          id,
		DisplayName: name,
		SizeClass:   "L",
		users:       map[string]*User{},
		upnIndex:    map[string]string{},
		managed:     map[string]*ManagedDevice{},
		devices:     map[string]*Device{},
		deviceIndex: map[string]string{},
		intune:      true,
		premium:     true,
		tapPolicy: TAPPolicy{
			Enabled: true, DefaultLifetimeInMinutes: 60, MinimumLifetimeInMinutes: 10,
			MaximumLifetimeInMinutes: 43200, DefaultLength: 8,
		},
	}
}

// InitialDomain returns the tenant's *.onmicrosoft.com domain.
func (t *Tenant) InitialDomain() string {
	for _, d := range t.domains {
		if d.Initial {
			return d.Name
		}
	}
	return ""
}

func (t *Tenant) domain(name string) *Domain {
	for _, d := range t.domains {
		if strings.EqualFold(d.Name, name) {
			return d
		}
	}
	return nil
}

// hasVerifiedDomain reports whether name, or a parent of it, is a verified domain of t.
func (t *Tenant) hasVerifiedDomain(name string) bool {
	d := t.domain(name)
	return d != nil && d.Verified && !d.deleting
}

func (t *Tenant) addUser(u *User) {
	t.users[u.ID] = u
	t.userOrder = append(t.userOrder, u.ID)
	t.upnIndex[strings.ToLower(u.UPN)] = u.ID
	t.touchUser(u)
}

// touchUser records a change to u in the delta log.
func (t *Tenant) touchUser(u *User) {
	seq := int64(len(t.changes)) + 1
	t.changes = append(t.changes, userChange{seq: seq, userID: u.ID})
	u.lastChange = seq
}

// userByKey finds a user by object id or by sign-in name.
func (t *Tenant) userByKey(key string) *User {
	if u, ok := t.users[key]; ok {
		return u
	}
	if id, ok := t.upnIndex[strings.ToLower(key)]; ok {
		return t.users[id]
	}
	return nil
}

func (t *Tenant) setUPN(u *User, upn string) {
	delete(t.upnIndex, strings.ToLower(u.UPN))
	u.UPN = upn
	t.upnIndex[strings.ToLower(upn)] = u.ID
}

func (t *Tenant) addManagedDevice(d *ManagedDevice) {
	t.managed[d.ID] = d
	t.managedOrd = append(t.managedOrd, d.ID)
}

func (t *Tenant) removeManagedDevice(id string) {
	delete(t.managed, id)
	t.managedOrd = removeID(t.managedOrd, id)
}

func (t *Tenant) addDevice(d *Device) {
	t.devices[d.ID] = d
	t.deviceOrd = append(t.deviceOrd, d.ID)
	t.deviceIndex[strings.ToLower(d.DeviceID)] = d.ID
}

func (t *Tenant) removeDevice(id string) {
	if d, ok := t.devices[id]; ok {
		delete(t.deviceIndex, strings.ToLower(d.DeviceID))
	}
	delete(t.devices, id)
	t.deviceOrd = removeID(t.deviceOrd, id)
}

// removeID deletes id from an ordered id list. Removals are rare next to reads, so a linear
// scan keeps listings simple and in creation order.
func removeID(ids []string, id string) []string {
	for i, v := range ids {
		if v == id {
			return append(ids[:i], ids[i+1:]...)
		}
	}
	return ids
}

// Counts summarises a tenant's state for the inspection API and describe.
type Counts struct {
	Users          int `json:"users"`
	EnabledUsers   int `json:"enabledUsers"`
	ManagedDevices int `json:"managedDevices"`
	Devices        int `json:"devices"`
	Authenticators int `json:"authenticatorRegistrations"`
	TAPs           int `json:"temporaryAccessPasses"`
	Domains        int `json:"domains"`
	SentMessages   int `json:"sentMessages"`
}

func (t *Tenant) counts() Counts {
	c := Counts{Users: len(t.users), ManagedDevices: len(t.managed), Devices: len(t.devices),
		Domains: len(t.domains), SentMessages: len(t.sent)}
	for _, u := range t.users {
		if u.AccountEnabled {
			c.EnabledUsers++
		}
		if len(u.Authenticators) > 0 {
			c.Authenticators++
		}
		if u.TAP != nil {
			c.TAPs++
		}
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
