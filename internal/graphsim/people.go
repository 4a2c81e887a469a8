package graphsim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// PeopleModel is how simulated people behave once their source sessions are revoked, the
// moment a cutover tells them to move. Shares are probabilities per person (or per device);
// delays are simulated time, drawn uniformly between the two bounds.
type PeopleModel struct {
	// RegisterShare of people without Authenticator in the target register it there.
	RegisterShare float64
	// RegisterWithin bounds how long after the revoke they do so.
	RegisterWithin [2]time.Duration
	// SignInShare of people sign in to the target.
	SignInShare  float64
	SignInWithin [2]time.Duration
	// ReenrolShare of each person's source devices are re-enrolled in the target's Intune:
	// same serial number, new device id, the target user.
	ReenrolShare  float64
	ReenrolWithin [2]time.Duration
	// StragglerShare of people keep signing in to the source once a day until their account
	// is blocked; after that their attempts fail, which shows in signInActivity as recent
	// attempts without a recent success.
	StragglerShare float64
	// StragglerDays is how many days stragglers keep trying.
	StragglerDays int
}

// DefaultPeopleModel is a plausible migration weekend: most people register and sign in
// within two days, re-enrol most devices within a week, and one in ten keeps using the
// source for a while.
func DefaultPeopleModel() PeopleModel {
	return PeopleModel{
		RegisterShare: 0.9, RegisterWithin: [2]time.Duration{time.Hour, 72 * time.Hour},
		SignInShare: 0.95, SignInWithin: [2]time.Duration{10 * time.Minute, 48 * time.Hour},
		ReenrolShare: 0.8, ReenrolWithin: [2]time.Duration{2 * time.Hour, 7 * 24 * time.Hour},
		StragglerShare: 0.1, StragglerDays: 21,
	}
}

// personRand returns the random source for one person's behaviour. It depends only on the
// seed and the person, never on the order in which a client happened to revoke people, so
// a seed replays the same behaviour however the cutover was paced.
func (s *Server) personRand(userID string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(userID))
	return rand.New(rand.NewPCG(s.opts.Seed, h.Sum64()))
}

func between(r *rand.Rand, b [2]time.Duration) time.Duration {
	if b[1] <= b[0] {
		return b[0]
	}
	return b[0] + time.Duration(r.Int64N(int64(b[1]-b[0])))
}

// onRevoke starts a source person's simulated behaviour after their sessions are revoked.
// It runs once per person. Callers hold s.mu.
func (s *Server) onRevoke(src *Tenant, u *User, at time.Time) {
	if s.opts.People == nil || src.Role != "source" || s.peopleStarted[u.ID] {
		return
	}
	s.peopleStarted[u.ID] = true
	m := *s.opts.People
	r := s.personRand(u.ID)
	tgt, tu := s.targetAccount(u)

	if tu != nil {
		if len(tu.Authenticators) == 0 && r.Float64() < m.RegisterShare {
			when := at.Add(between(r, m.RegisterWithin))
			phone := []string{"iPhone 15", "Pixel 8", "Galaxy S24"}[r.IntN(3)]
			s.schedule(when, func() { s.registerAuthenticator(tgt, tu, phone, when) })
		}
		if r.Float64() < m.SignInShare {
			when := at.Add(between(r, m.SignInWithin))
			s.schedule(when, func() { signIn(tu, when, true) })
		}
		for _, id := range src.managedOrd {
			d := src.managed[id]
			if d.UserID != u.ID || r.Float64() >= m.ReenrolShare {
				continue
			}
			when := at.Add(between(r, m.ReenrolWithin))
			old := *d
			s.schedule(when, func() { s.reenrol(tgt, tu, &old, when) })
		}
	}

	if r.Float64() < m.StragglerShare {
		for day := 0; day < m.StragglerDays; day++ {
			when := at.Add(time.Duration(day)*24*time.Hour + between(r, [2]time.Duration{time.Hour, 23 * time.Hour}))
			s.schedule(when, func() { signIn(u, when, u.AccountEnabled) })
		}
	}
}

// targetAccount finds the person's account in the target tenant: the one with the same
// employee id, as the merger preset pairs them.
func (s *Server) targetAccount(u *User) (*Tenant, *User) {
	if u.EmployeeID == "" {
		return nil, nil
	}
	for _, t := range s.tenants {
		if t.Role != "target" {
			continue
		}
		if t.byEmployee == nil {
			t.byEmployee = make(map[string]string, len(t.users))
			for id, tu := range t.users {
				if tu.EmployeeID != "" {
					t.byEmployee[tu.EmployeeID] = id
				}
			}
		}
		if tu := t.users[t.byEmployee[u.EmployeeID]]; tu != nil {
			return t, tu
		}
	}
	return nil, nil
}

func (s *Server) registerAuthenticator(t *Tenant, u *User, phone string, at time.Time) {
	if t.users[u.ID] != u || len(u.Authenticators) > 0 {
		return
	}
	r := s.personRand(u.ID + "/authenticator")
	u.Authenticators = append(u.Authenticators, &AuthenticatorMethod{
		ID: formatGUID(r.Uint64(), r.Uint64()), DisplayName: phone, DeviceTag: "SoftwareTokenActivated",
		PhoneAppVersion: fmt.Sprintf("6.8.%d", r.IntN(30)), Created: at,
	})
	u.MethodsUpdated = at
}

// signIn records a sign-in attempt; only an enabled account's attempt succeeds.
func signIn(u *User, at time.Time, success bool) {
	u.SignIns.LastSignIn = at
	u.SignIns.LastNonInteractiveSignIn = at
	if success && u.AccountEnabled {
		u.SignIns.LastSuccessfulSignIn = at
	}
}

// reenrol enrols the person's device in the target: the same hardware (serial number), a
// new Intune id and Entra device id, owned by the target account.
func (s *Server) reenrol(t *Tenant, u *User, old *ManagedDevice, at time.Time) {
	if t.users[u.ID] != u {
		return
	}
	r := s.personRand(old.ID + "/reenrol")
	ed := &Device{
		ID: formatGUID(r.Uint64(), r.Uint64()), DeviceID: formatGUID(r.Uint64(), r.Uint64()),
		DisplayName: old.DeviceName, OS: old.OS, OSVersion: old.OSVersion, TrustType: "Workplace",
		AccountEnabled: true, IsManaged: true, IsCompliant: true, Registered: at, LastSignIn: at,
		OwnerID: u.ID,
	}
	if old.OS == "Windows" && old.OwnerType == "company" {
		ed.TrustType = "AzureAd"
	}
	t.addDevice(ed)
	md := *old
	md.ID = formatGUID(r.Uint64(), r.Uint64())
	md.UserID, md.UPN, md.UserDisplayName = u.ID, u.UPN, u.DisplayName
	md.EmailAddress = u.Mail
	md.AzureADDeviceID = ed.DeviceID
	md.Enrolled, md.LastSync = at, at
	md.ManagementState, md.Actions, md.CheckIn = "managed", nil, time.Time{}
	md.Wipe = nil
	t.addManagedDevice(&md)
}
