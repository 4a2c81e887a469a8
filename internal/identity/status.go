package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

// StatusStore is what Lookup needs from the store.
type StatusStore interface {
	FindPeople(ctx context.Context, key string) ([]store.PersonView, error)
	InventoryUser(ctx context.Context, role, key string) (store.InventoryUser, bool, error)
	InventoryDevices(ctx context.Context, role, userID string) ([]store.InventoryDevice, error)
	InventoryRegistration(ctx context.Context, role, userID string) (store.InventoryRegistration, bool, error)
	WaveNamed(ctx context.Context, name string) (store.Wave, bool, error)
}

var _ StatusStore = (*store.Store)(nil)

// Status is everything the project knows about one person: the help desk's answer to "which
// tenant should Mary use, and what state is she in?".
type Status struct {
	Person  PersonInfo   `json:"person"`
	Wave    *WaveInfo    `json:"wave"`
	Source  *AccountInfo `json:"source"`
	Target  *AccountInfo `json:"target"`
	Use     string       `json:"use"`
	Checked time.Time    `json:"checkedAt"`
}

// PersonInfo is the person record.
type PersonInfo struct {
	ID         int64     `json:"id"`
	SourceUPN  string    `json:"sourceUserPrincipalName"`
	StagingUPN string    `json:"stagingUserPrincipalName,omitempty"`
	FinalUPN   string    `json:"finalUserPrincipalName"`
	Excluded   bool      `json:"excluded"`
	ImportedAt time.Time `json:"importedAt"`
}

// WaveInfo is the person's wave, its window and where it stands.
type WaveInfo struct {
	Name        string    `json:"name"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	GraceDays   int       `json:"graceDays"`
	GraceEnd    time.Time `json:"graceEnd"`
	Phase       string    `json:"phase"`
	FromConfig  bool      `json:"fromConfig"`
}

// AccountInfo is one of the person's accounts as the last sync saw it. Missing is set when
// the account is not (or no longer) in the inventory, with only the id known.
type AccountInfo struct {
	Tenant               string       `json:"tenant"`
	ID                   string       `json:"id"`
	UPN                  string       `json:"userPrincipalName"`
	DisplayName          string       `json:"displayName,omitempty"`
	Mail                 string       `json:"mail,omitempty"`
	Enabled              *bool        `json:"accountEnabled"`
	SessionsValidFrom    *time.Time   `json:"signInSessionsValidFromDateTime"`
	LastSignIn           *time.Time   `json:"lastSignInDateTime"`
	LastSuccessfulSignIn *time.Time   `json:"lastSuccessfulSignInDateTime"`
	Deleted              bool         `json:"deleted"`
	Missing              bool         `json:"missing"`
	Authenticator        *MethodsInfo `json:"authenticationMethods"`
	Devices              []DeviceInfo `json:"devices"`
}

// MethodsInfo is the account's line of the registration report.
type MethodsInfo struct {
	MFARegistered   bool      `json:"isMfaRegistered"`
	Methods         []string  `json:"methodsRegistered"`
	Authenticator   bool      `json:"authenticatorRegistered"`
	PreferredMethod string    `json:"preferredMethod,omitempty"`
	LastUpdated     time.Time `json:"lastUpdatedDateTime"`
}

// DeviceInfo is an Intune device of the account, with its Entra device object.
type DeviceInfo struct {
	ID           string     `json:"id"`
	Name         string     `json:"deviceName"`
	OS           string     `json:"operatingSystem"`
	OSVersion    string     `json:"osVersion"`
	Ownership    string     `json:"ownerType"`
	Serial       string     `json:"serialNumber,omitempty"`
	Compliance   string     `json:"complianceState"`
	EnrolledAt   *time.Time `json:"enrolledDateTime"`
	LastSyncAt   *time.Time `json:"lastSyncDateTime"`
	EntraID      string     `json:"entraDeviceObjectId,omitempty"`
	EntraEnabled *bool      `json:"entraDeviceEnabled"`
	TrustType    string     `json:"trustType,omitempty"`
	Deleted      bool       `json:"deleted"`
}

// Lookup finds the one person known by key (any name or id of theirs) and gathers their
// status at time now. A key that names no person, or several, is an error that says so.
func Lookup(ctx context.Context, st StatusStore, key string, now time.Time) (*Status, error) {
	p, err := lookupOne(ctx, st, key)
	if err != nil {
		return nil, notPersonHint(ctx, st, key, err)
	}
	s := &Status{Checked: now, Person: PersonInfo{ID: p.ID, SourceUPN: p.Source.UPN,
		StagingUPN: p.StagingUPN, FinalUPN: p.FinalUPN, Excluded: p.Excluded,
		ImportedAt: p.ImportedAt}}
	if s.Person.SourceUPN == "" {
		s.Person.SourceUPN = p.SourceUserID
	}
	if s.Wave, err = waveInfo(ctx, st, p.Wave, now); err != nil {
		return nil, err
	}
	if s.Source, err = accountInfo(ctx, st, store.Source, p.SourceUserID); err != nil {
		return nil, err
	}
	if p.TargetUserID != "" {
		if s.Target, err = accountInfo(ctx, st, store.Target, p.TargetUserID); err != nil {
			return nil, err
		}
	}
	s.Use = advice(s)
	return s, nil
}

// notPersonHint adds to a "no person" error whether the name is at least a known account.
func notPersonHint(ctx context.Context, st StatusStore, key string, err error) error {
	for _, role := range []string{store.Source, store.Target} {
		u, ok, lerr := st.InventoryUser(ctx, role, key)
		if lerr == nil && ok {
			return fmt.Errorf("%w: %s is a %s account (%s) but not a person; import it with "+
				"cutover people import", err, u.UPN, role, u.DisplayName)
		}
	}
	return err
}

func waveInfo(ctx context.Context, st StatusStore, name string, now time.Time) (*WaveInfo, error) {
	if name == "" {
		return nil, nil
	}
	w, ok, err := st.WaveNamed(ctx, name)
	if err != nil || !ok {
		return nil, err
	}
	return &WaveInfo{Name: w.Name, WindowStart: w.WindowStart, WindowEnd: w.WindowEnd,
		GraceDays: w.GraceDays, GraceEnd: GraceEnd(w), Phase: WavePhase(w, now),
		FromConfig: w.FromConfig}, nil
}

func accountInfo(ctx context.Context, st StatusStore, role, userID string) (*AccountInfo, error) {
	u, ok, err := st.InventoryUser(ctx, role, userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &AccountInfo{Tenant: role, ID: userID, Missing: true}, nil
	}
	a := &AccountInfo{Tenant: role, ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName,
		Mail: u.Mail, Enabled: u.AccountEnabled, SessionsValidFrom: timePtr(u.SessionsValidFrom),
		LastSignIn: timePtr(u.LastSignIn), LastSuccessfulSignIn: timePtr(u.LastSuccessfulSignIn),
		Deleted: u.Deleted, Devices: []DeviceInfo{}}
	devices, err := st.InventoryDevices(ctx, role, u.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		a.Devices = append(a.Devices, DeviceInfo{ID: d.ID, Name: d.Name, OS: d.OS,
			OSVersion: d.OSVersion, Ownership: d.Ownership, Serial: d.SerialNumber,
			Compliance: d.ComplianceState, EnrolledAt: timePtr(d.EnrolledAt),
			LastSyncAt: timePtr(d.LastSyncAt), EntraID: d.EntraID, EntraEnabled: d.EntraEnabled,
			TrustType: d.TrustType, Deleted: d.Deleted})
	}
	reg, ok, err := st.InventoryRegistration(ctx, role, u.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		a.Authenticator = methodsInfo(reg)
	}
	return a, nil
}

// methodsInfo decodes the report's method list; Authenticator is registered when the list
// has either of the report's Authenticator method names.
func methodsInfo(r store.InventoryRegistration) *MethodsInfo {
	m := &MethodsInfo{MFARegistered: r.MFARegistered, PreferredMethod: r.PreferredMethod,
		LastUpdated: r.LastUpdated, Methods: []string{}}
	_ = json.Unmarshal([]byte(r.MethodsRegistered), &m.Methods)
	for _, name := range m.Methods {
		if name == "microsoftAuthenticatorPush" || name == "microsoftAuthenticatorPasswordless" {
			m.Authenticator = true
		}
	}
	return m
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// advice answers "which tenant should they use now?" from the wave's timeline.
func advice(s *Status) string {
	staging := s.Person.StagingUPN
	switch {
	case s.Person.Excluded:
		return "excluded: cutover never touches this person's accounts"
	case s.Wave == nil:
		return "the source tenant as " + s.Person.SourceUPN + " (not in a wave yet)"
	case s.Wave.Phase == "planned" && staging != "":
		return fmt.Sprintf("the source tenant as %s; register Authenticator in the target as %s "+
			"before the window", s.Person.SourceUPN, staging)
	case s.Wave.Phase == "planned":
		return "the source tenant as " + s.Person.SourceUPN + " (target account to be provisioned)"
	case s.Wave.Phase == "in window":
		return "migration window in progress: the target tenant as " + s.Person.FinalUPN +
			" once it ends (" + staging + " until the domain has moved)"
	default:
		return "the target tenant as " + s.Person.FinalUPN
	}
}
