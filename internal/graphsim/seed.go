package graphsim

import (
	"fmt"
	"strings"
	"time"
)

// Permissions granted to the simulator's full app registrations: everything cutover's steps
// may need (GRAPH.md, "Permissions at a glance").
var fullPermissions = []string{
	"User.Read.All", "User.ReadWrite.All", "User.RevokeSessions.All",
	"User.EnableDisableAccount.All", "User-PasswordProfile.ReadWrite.All",
	"Device.Read.All", "Device.ReadWrite.All",
	"DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All",
	"DeviceManagementManagedDevices.PrivilegedOperations.All",
	"DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All",
	"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All",
	"UserAuthMethod-TAP.ReadWrite.All", "AuditLog.Read.All",
	"Domain.Read.All", "Domain.ReadWrite.All", "Mail.Send", "Organization.Read.All",
	"LicenseAssignment.ReadWrite.All", "GroupMember.Read.All", "Policy.Read.All",
}

// Permissions of the read-only app registration, which tests use to provoke 403s.
var readOnlyPermissions = []string{
	"User.Read.All", "Device.Read.All", "DeviceManagementManagedDevices.Read.All",
	"UserAuthenticationMethod.Read.All", "AuditLog.Read.All", "Domain.Read.All",
	"Organization.Read.All",
}

var firstNames = strings.Fields(`Mary John Patricia Robert Jennifer Michael Linda William Elizabeth
David Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel
Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie
Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy Jacob Kathleen Gary Angela
Nicholas Shirley Eric Brenda Jonathan Emma Stephen Anna Larry Pamela Justin Nicole Scott Samantha
Brandon Katherine Benjamin Christine Samuel Helen Gregory Debra Alexander Rachel Frank Carolyn
Patrick Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce`)

var lastNames = strings.Fields(`Major Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez
Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez
Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott
Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy
Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo
Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman`)

var departments = []string{"Sales", "Finance", "Engineering", "Operations", "Marketing", "Legal",
	"Human Resources", "Support", "Research", "Facilities"}

// person is a generated human who may have accounts in both tenants.
type person struct {
	first, last, alias, employeeID, dept string
}

// seed builds the tenants of the configured preset.
func (s *Server) seed() error {
	switch s.opts.Preset {
	case "small":
		s.seedMerger(20, "small")
	case "merger":
		s.seedMerger(s.opts.Users, "merger")
	default:
		return fmt.Errorf("unknown preset %q (use small or merger)", s.opts.Preset)
	}
	return nil
}

// seedMerger creates a source tenant that owns a custom domain, with n users and their
// devices, and a target tenant with staging accounts on its initial domain for most of them.
func (s *Server) seedMerger(n int, preset string) {
	now := s.clock.Now()
	people := s.people(n)

	src := s.addTenant("source", "Contoso Ltd", "contoso.onmicrosoft.com",
		[]string{"contoso.com"}, []string{"contoso-legacy.com"})
	tgt := s.addTenant("target", "Fabrikam Inc", "fabrikam.onmicrosoft.com",
		[]string{"fabrikam.com"}, nil)
	src.skus = []*SKU{{SkuID: s.newID(), SkuPartNumber: "ENTERPRISEPACK", Enabled: n + n/10}}
	tgt.skus = []*SKU{{SkuID: s.newID(), SkuPartNumber: "SPE_E5", Enabled: n + n/5}}

	// Source: every person has an account on contoso.com, most have Authenticator and devices.
	for _, p := range people {
		u := s.newUser(src, p, p.alias+"@contoso.com", now)
		u.Mail = u.UPN
		u.ProxyAddresses = []string{"SMTP:" + u.UPN, "smtp:" + p.alias + "@contoso.onmicrosoft.com"}
		u.Licenses = []string{src.skus[0].SkuID}
		src.skus[0].Consumed++
		if s.rng.Float64() < 0.85 {
			s.addAuthenticator(u, now)
		}
		u.SignIns.LastSignIn = now.Add(-time.Duration(s.rng.IntN(72*60)) * time.Minute)
		u.SignIns.LastSuccessfulSignIn = u.SignIns.LastSignIn
		u.SignIns.LastNonInteractiveSignIn = now.Add(-time.Duration(s.rng.IntN(600)) * time.Minute)
		s.addDevices(src, u, now)
	}
	s.addAdmins(src, now)

	// Target: staging accounts on the initial domain for about nine in ten people, some of
	// them already registered for Authenticator; plus the target's own staff.
	for _, p := range people {
		if s.rng.Float64() >= 0.9 {
			continue
		}
		u := s.newUser(tgt, p, p.alias+"@fabrikam.onmicrosoft.com", now)
		if s.rng.Float64() < 0.9 {
			u.Licenses = []string{tgt.skus[0].SkuID}
			tgt.skus[0].Consumed++
		}
		if s.rng.Float64() < 0.4 {
			s.addAuthenticator(u, now)
		}
	}
	for _, p := range s.people(max(n/5, 4)) {
		p.employeeID = "F" + p.employeeID
		u := s.newUser(tgt, p, p.alias+"@fabrikam.com", now)
		u.Mail = u.UPN
		u.Licenses = []string{tgt.skus[0].SkuID}
		tgt.skus[0].Consumed++
		s.addAuthenticator(u, now)
		s.addDevices(tgt, u, now)
	}
	s.addAdmins(tgt, now)
	_ = preset
}

// people generates n distinct people with unique aliases.
func (s *Server) people(n int) []person {
	out := make([]person, 0, n)
	seen := make(map[string]int, n)
	for i := 0; i < n; i++ {
		f := firstNames[s.rng.IntN(len(firstNames))]
		l := lastNames[s.rng.IntN(len(lastNames))]
		alias := strings.ToLower(f + "." + l)
		if k := seen[alias]; k > 0 {
			seen[alias] = k + 1
			alias = fmt.Sprintf("%s%d", alias, k+1)
		} else {
			seen[alias] = 1
		}
		out = append(out, person{first: f, last: l, alias: alias,
			// Increasing with gaps: unique, yet not a plain counter.
			employeeID: fmt.Sprintf("%07d", 1000000+i*7+s.rng.IntN(7)),
			dept:       departments[s.rng.IntN(len(departments))]})
	}
	return out
}

func (s *Server) addTenant(role, name, initial string, verified, unverified []string) *Tenant {
	t := newTenant(s.newID(), name)
	t.Role = role
	t.domains = append(t.domains, &Domain{Name: initial, Verified: true, Initial: true,
		AuthType: "Managed", Services: []string{"Email", "OfficeCommunicationsOnline"}})
	for i, d := range verified {
		t.domains = append(t.domains, &Domain{Name: d, Verified: true, Default: i == 0, AuthType: "Managed",
			Services: []string{"Email", "OfficeCommunicationsOnline", "Intune"}})
	}
	if len(verified) == 0 {
		t.domains[0].Default = true
	}
	for _, d := range unverified {
		t.domains = append(t.domains, &Domain{Name: d, AuthType: "Managed"})
	}
	for _, d := range t.domains {
		d.VerifyCode = fmt.Sprintf("MS=ms%08d", s.rng.IntN(100_000_000))
	}
	s.tenants = append(s.tenants, t)
	s.byID[t.ID] = t

	short := strings.ToLower(strings.Fields(name)[0])
	for i, suffix := range []string{"", "-2", "-3", "-readonly"} {
		perms := fullPermissions
		if suffix == "-readonly" {
			perms = readOnlyPermissions
		}
		app := &App{Name: "cutover" + suffix, ClientID: s.newID(), Roles: append([]string(nil), perms...),
			Secret: fmt.Sprintf("sim~%s%s~%016x", short, suffix, s.rng.Uint64()), tenant: t}
		// Certificates are generated for the first registration only: RSA key generation is
		// slow, and one certificate credential per tenant is enough to exercise the flow.
		if i == 0 {
			certPEM, keyPEM, cert, err := appCertificate(time.Now(), "cutover-"+short)
			if err == nil {
				app.CertPEM, app.KeyPEM, app.Certificate = certPEM, keyPEM, cert
			}
		}
		t.apps = append(t.apps, app)
		s.apps[app.ClientID] = app
	}
	return t
}

func (s *Server) newUser(t *Tenant, p person, upn string, now time.Time) *User {
	u := &User{
		ID: s.newID(), UPN: upn, DisplayName: p.first + " " + p.last, GivenName: p.first,
		Surname: p.last, MailNickname: strings.SplitN(upn, "@", 2)[0], EmployeeID: p.employeeID,
		Department: p.dept, JobTitle: "Staff", UsageLocation: "GB", AccountEnabled: true,
		HasMailbox: true, Created: now.Add(-time.Duration(30+s.rng.IntN(2000)) * 24 * time.Hour),
	}
	u.SessionsValidFrom = u.Created
	u.PasswordSet = u.Created
	t.addUser(u)
	return u
}

func (s *Server) addAdmins(t *Tenant, now time.Time) {
	initial := t.InitialDomain()
	for _, alias := range []string{"breakglass1", "breakglass2", "it.admin"} {
		p := person{first: "Admin", last: alias, alias: alias, employeeID: "", dept: "IT"}
		u := s.newUser(t, p, alias+"@"+initial, now)
		u.DisplayName = "Admin " + alias
		u.IsAdmin = true
		s.addAuthenticator(u, now)
	}
}

func (s *Server) addAuthenticator(u *User, now time.Time) {
	phones := []string{"iPhone 15", "iPhone 14", "Pixel 8", "Galaxy S23", "iPhone 13", "Pixel 7"}
	u.Authenticators = append(u.Authenticators, &AuthenticatorMethod{
		ID: s.newID(), DisplayName: phones[s.rng.IntN(len(phones))], DeviceTag: "SoftwareTokenActivated",
		PhoneAppVersion: fmt.Sprintf("6.%d.%d", 7+s.rng.IntN(3), s.rng.IntN(30)),
		Created:         now.Add(-time.Duration(1+s.rng.IntN(700)) * 24 * time.Hour),
	})
}

// addDevices enrols the user's devices in Intune, each with its Entra device object.
func (s *Server) addDevices(t *Tenant, u *User, now time.Time) {
	mean := s.opts.DevicesPerUser
	n := int(mean)
	if s.rng.Float64() < mean-float64(n) {
		n++
	}
	for range n {
		var os, owner, version, maker, model, trust string
		switch r := s.rng.Float64(); {
		case r < 0.35:
			os, owner, version, maker, model, trust = "Windows", "company", "10.0.22631.4037", "Dell Inc.", "Latitude 7440", "AzureAd"
		case r < 0.40:
			os, owner, version, maker, model, trust = "Windows", "personal", "10.0.19045.4651", "LENOVO", "ThinkPad X1", "Workplace"
		case r < 0.55:
			os, owner, version, maker, model, trust = "iOS", "company", "17.5.1", "Apple", "iPhone 15", "Workplace"
		case r < 0.65:
			os, owner, version, maker, model, trust = "iOS", "personal", "17.4", "Apple", "iPhone 13", "Workplace"
		case r < 0.75:
			os, owner, version, maker, model, trust = "Android", "company", "14", "samsung", "SM-S911B", "Workplace"
		case r < 0.85:
			os, owner, version, maker, model, trust = "Android", "personal", "13", "Google", "Pixel 7", "Workplace"
		default:
			os, owner, version, maker, model, trust = "macOS", "company", "14.5", "Apple", "MacBookPro18,3", "Workplace"
		}
		enrolled := now.Add(-time.Duration(1+s.rng.IntN(900)) * 24 * time.Hour)
		ed := &Device{
			ID: s.newID(), DeviceID: s.newID(), DisplayName: deviceName(os, u), OS: os, OSVersion: version,
			TrustType: trust, AccountEnabled: true, IsManaged: true, IsCompliant: true,
			Registered: enrolled, LastSignIn: now.Add(-time.Duration(s.rng.IntN(7*24)) * time.Hour),
			OwnerID: u.ID,
		}
		t.addDevice(ed)
		md := &ManagedDevice{
			ID: s.newID(), UserID: u.ID, UPN: u.UPN, UserDisplayName: u.DisplayName,
			DeviceName: ed.DisplayName, OS: os, OSVersion: version, OwnerType: owner,
			AzureADDeviceID: ed.DeviceID, SerialNumber: serial(s, os), Manufacturer: maker, Model: model,
			EmailAddress: u.Mail, Enrolled: enrolled,
			LastSync: now.Add(-time.Duration(s.rng.IntN(48*60)) * time.Minute), Compliance: "compliant",
			EnrollmentType: enrollmentType(os, owner), ManagementState: "managed",
		}
		if os == "iOS" || os == "Android" {
			md.IMEI = fmt.Sprintf("35%013d", s.rng.Int64N(10_000_000_000_000))
		}
		t.addManagedDevice(md)
	}
}

func deviceName(os string, u *User) string {
	short := strings.ToUpper(strings.ReplaceAll(u.MailNickname, ".", ""))
	if len(short) > 8 {
		short = short[:8]
	}
	switch os {
	case "Windows":
		return "DESKTOP-" + short
	case "macOS":
		return short + "-MBP"
	case "iOS":
		return u.GivenName + "'s iPhone"
	default:
		return u.GivenName + "'s Android"
	}
}

func serial(s *Server, os string) string {
	const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	n := 10
	if os == "Windows" {
		n = 7
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[s.rng.IntN(len(alnum))]
	}
	if os == "Android" {
		return "R5C" + string(b)
	}
	return string(b)
}

func enrollmentType(os, owner string) string {
	switch {
	case os == "Windows" && owner == "company":
		return "windowsAzureADJoin"
	case os == "Windows":
		return "windowsAutoEnrollment"
	case os == "iOS" && owner == "company":
		return "appleBulkWithUser"
	case os == "iOS" || os == "macOS":
		return "appleUserEnrollment"
	default:
		return "userEnrollment"
	}
}
