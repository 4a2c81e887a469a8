package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// These tests run every typed call against the simulator over real HTTPS, authenticating
// through azidentity as configured by Config, and check the simulator's true state (its
// inspection API) after each write.

// collect drains an item stream, failing the test on an error.
func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for it, err := range seq {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, it)
	}
	return out
}

func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	slices.Sort(out)
	return out
}

func sortedIDs[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	slices.Sort(out)
	return out
}

func wantStatus(t *testing.T, what string, resp *Response, err error, status int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != status {
		t.Fatalf("%s: status %d, want %d", what, resp.Status, status)
	}
}

// wantNotFound checks that a repeated delete answers a permanent 404, which callers read as
// "done".
func wantNotFound(t *testing.T, what string, _ *Response, err error) {
	t.Helper()
	if !IsNotFound(err) || !IsPermanent(err) {
		t.Errorf("%s again: err %v, want a permanent 404", what, err)
	}
}

func TestSimulatorUserCalls(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	ctx := t.Context()

	// A full delta round first, so that the writes below show up as changes.
	delta := c.UsersDelta("", "id", "displayName", "accountEnabled")
	initial := collect(t, itemsOf(ctx, delta))
	link := delta.DeltaLink()
	if link == "" {
		t.Fatal("delta round ended without a delta link")
	}

	truth := env.collection(t, src, "users")
	listed := collect(t, c.ListUsers(ctx, ListOptions{}))
	if got, want := sortedIDs(listed, func(u User) string { return u.ID }), ids(truth); !slices.Equal(got, want) {
		t.Fatalf("ListUsers gave %d users, the tenant has %d (or other ids)", len(got), len(want))
	}
	if len(initial) != len(truth) {
		t.Errorf("first delta round gave %d users, want %d", len(initial), len(truth))
	}

	id, id2 := truth[0]["id"].(string), truth[1]["id"].(string)
	u, err := c.GetUser(ctx, id, "id", "userPrincipalName", "displayName", "accountEnabled")
	if err != nil {
		t.Fatalf("get user: %v", err)
	}
	if u.UserPrincipalName != truth[0]["userPrincipalName"] || u.AccountEnabled == nil || !*u.AccountEnabled {
		t.Errorf("GetUser = %+v, want %v, enabled", u, truth[0]["userPrincipalName"])
	}

	no, name := false, "Leaving Soon"
	resp, err := c.UpdateUser(ctx, id, UserPatch{AccountEnabled: &no, DisplayName: &name})
	wantStatus(t, "update user", resp, err, http.StatusNoContent)
	got := env.object(t, src, "users", id)
	if got["accountEnabled"] != false || got["displayName"] != name {
		t.Errorf("after PATCH: accountEnabled %v, displayName %v", got["accountEnabled"], got["displayName"])
	}

	changedBefore := timeOf(t, got["lastPasswordChangeDateTime"])
	resp, err = c.UpdateUser(ctx, id, UserPatch{PasswordProfile: &PasswordProfile{
		Password: "Vq7!mZ2#pL9v-cutover", ForceChangePasswordNextSignIn: true}})
	wantStatus(t, "reset password", resp, err, http.StatusNoContent)
	if after := timeOf(t, env.object(t, src, "users", id)["lastPasswordChangeDateTime"]); !after.After(changedBefore) {
		t.Errorf("password change time %v did not move past %v", after, changedBefore)
	}

	resp, err = c.RevokeSignInSessions(ctx, id2)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	// The server's Date and the stored time come from the same clock at the same moment.
	if valid := timeOf(t, env.object(t, src, "users", id2)["signInSessionsValidFromDateTime"]); valid.Before(resp.Date) {
		t.Errorf("signInSessionsValidFromDateTime %v is before the revoke's Date %v", valid, resp.Date)
	}

	// The stored delta link returns the change, and a new link.
	resumed := c.UsersDelta(link)
	changes := collect(t, itemsOf(ctx, resumed))
	i := slices.IndexFunc(changes, func(u User) bool { return u.ID == id })
	if i < 0 || changes[i].AccountEnabled == nil || *changes[i].AccountEnabled || len(changes) >= len(truth) {
		t.Errorf("delta after the PATCH gave %d users, want a few including %s disabled", len(changes), id)
	}
	if resumed.DeltaLink() == "" || resumed.DeltaLink() == link {
		t.Errorf("resumed delta link %q, want a new one", resumed.DeltaLink())
	}

	// Selecting signInActivity caps the page at 500; the client must ask for no more.
	active := collect(t, c.ListUsers(ctx, ListOptions{Select: []string{"id", "signInActivity"}}))
	if len(active) != len(truth) || active[0].SignInActivity == nil ||
		active[0].SignInActivity.LastSignInDateTime == nil {
		t.Errorf("signInActivity listing gave %d users, first %+v", len(active), active[0].SignInActivity)
	}
}

// itemsOf streams the items of a pager's remaining pages.
func itemsOf[T any](ctx context.Context, p *Pager[T]) func(func(T, error) bool) {
	return func(yield func(T, error) bool) {
		for page, err := range p.All(ctx) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// createdUsers numbers the users the tests create.
var createdUsers atomic.Int64

func TestSimulatorCreateUserAndLicences(t *testing.T) {
	env := sharedSim(t)
	tgt := env.tenantID(t, "target")
	c := env.fastClient(t, "target", "cutover")
	ctx := t.Context()

	// The simulator is shared by the package's tests and by repeated runs (-count), so the
	// sign-in name is new each time.
	nick := fmt.Sprintf("ada.lovelace.%d", createdUsers.Add(1))
	upn := nick + "@fabrikam.onmicrosoft.com"
	nu, err := c.CreateUser(ctx, NewUser{AccountEnabled: true, DisplayName: "Ada Lovelace",
		MailNickname: nick, UserPrincipalName: upn,
		PasswordProfile: PasswordProfile{Password: "Vq7!mZ2#pL9v-cutover", ForceChangePasswordNextSignIn: true},
		UsageLocation:   "GB", EmployeeID: "E0042"})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	got := env.object(t, tgt, "users", nu.ID)
	if got == nil || got["userPrincipalName"] != upn ||
		got["employeeId"] != "E0042" || got["usageLocation"] != "GB" {
		t.Fatalf("created user %s in the tenant: %v", nu.ID, got)
	}

	skus := collect(t, c.ListSubscribedSKUs(ctx))
	if len(skus) == 0 || skus[0].SkuID == "" || skus[0].PrepaidUnits.Enabled == 0 {
		t.Fatalf("subscribed SKUs %+v", skus)
	}
	sku := skus[0]
	resp, err := c.AssignLicense(ctx, nu.ID, []AssignedLicense{{SkuID: sku.SkuID}}, nil)
	wantStatus(t, "assign licence", resp, err, http.StatusOK)
	var back User
	if err := resp.Decode(&back); err != nil || back.ID != nu.ID {
		t.Errorf("assignLicense answered user %q (%v), want %s", back.ID, err, nu.ID)
	}
	if lic := env.object(t, tgt, "users", nu.ID)["assignedLicenses"]; !strings.Contains(jsonText(lic), sku.SkuID) {
		t.Errorf("assignedLicenses after assignLicense: %v", lic)
	}
	after := collect(t, c.ListSubscribedSKUs(ctx))
	if after[0].FreeSeats() != sku.FreeSeats()-1 {
		t.Errorf("free seats %d after one assignment, want %d", after[0].FreeSeats(), sku.FreeSeats()-1)
	}

	u, err := c.GetUser(ctx, nu.ID, "id", "assignedLicenses", "licenseAssignmentStates")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.AssignedLicenses) != 1 || u.AssignedLicenses[0].SkuID != sku.SkuID ||
		len(u.LicenseAssignmentStates) != 1 || u.LicenseAssignmentStates[0].State != "Active" {
		t.Errorf("licences read back: %+v / %+v", u.AssignedLicenses, u.LicenseAssignmentStates)
	}

	resp, err = c.AssignLicense(ctx, nu.ID, nil, []string{sku.SkuID})
	wantStatus(t, "remove licence", resp, err, http.StatusOK)
	if lic := env.object(t, tgt, "users", nu.ID)["assignedLicenses"]; jsonText(lic) != "[]" {
		t.Errorf("assignedLicenses after removal: %v", lic)
	}
}

func TestSimulatorDeviceCalls(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	ctx := t.Context()

	truth := env.collection(t, src, "managedDevices")
	if len(truth) < 4 {
		t.Fatalf("the source has %d managed devices, want at least 4", len(truth))
	}
	listed := collect(t, c.ListManagedDevices(ctx, ListOptions{}))
	if got := sortedIDs(listed, func(d ManagedDevice) string { return d.ID }); !slices.Equal(got, ids(truth)) {
		t.Fatalf("ListManagedDevices gave %d devices, the tenant has %d", len(got), len(truth))
	}
	if d := listed[0]; d.UserID == "" || d.AzureADDeviceID == "" || d.ManagementState != "managed" {
		t.Errorf("managed device lacks selected properties: %+v", d)
	}

	owner := truth[0]["userId"].(string)
	var own []map[string]any
	for _, d := range truth {
		if d["userId"] == owner {
			own = append(own, d)
		}
	}
	mine := collect(t, c.ListUserManagedDevices(ctx, owner, ListOptions{}))
	if got := sortedIDs(mine, func(d ManagedDevice) string { return d.ID }); !slices.Equal(got, ids(own)) {
		t.Errorf("ListUserManagedDevices gave %v, want %v", got, ids(own))
	}

	retired, wiped, deleted := truth[0]["id"].(string), truth[1]["id"].(string), truth[2]["id"].(string)
	resp, err := c.RetireDevice(ctx, retired)
	wantStatus(t, "retire", resp, err, http.StatusNoContent)
	if st := env.object(t, src, "managedDevices", retired)["managementState"]; st != "retirePending" {
		t.Errorf("managementState after retire = %v, want retirePending", st)
	}
	md, err := c.GetManagedDevice(ctx, retired)
	if err != nil {
		t.Fatal(err)
	}
	if a := md.Action("retire"); a == nil || a.ActionState != "pending" {
		t.Errorf("deviceActionResults after retire: %+v", md.DeviceActionResults)
	}

	yes := true
	resp, err = c.WipeDevice(ctx, wiped, WipeOptions{KeepUserData: &yes})
	wantStatus(t, "wipe", resp, err, http.StatusNoContent)
	w := env.object(t, src, "managedDevices", wiped)
	if opts, _ := w["wipeOptions"].(map[string]any); w["managementState"] != "wipePending" ||
		opts["keepUserData"] != true {
		t.Errorf("after wipe: state %v, options %v", w["managementState"], w["wipeOptions"])
	}

	resp, err = c.DeleteManagedDevice(ctx, deleted)
	wantStatus(t, "delete managed device", resp, err, http.StatusNoContent)
	if env.object(t, src, "managedDevices", deleted) != nil {
		t.Error("the Intune record is still there after DELETE")
	}
	resp, err = c.DeleteManagedDevice(ctx, deleted)
	wantNotFound(t, "delete managed device", resp, err)

	// Devices pick actions up at check-in, within hours; the records then leave Intune.
	env.s.Advance(9 * time.Hour)
	if _, err := c.GetManagedDevice(ctx, retired); !IsNotFound(err) {
		t.Errorf("retired device after check-in: err %v, want 404", err)
	}
	released := env.collection(t, src, "releasedManagedDevices")
	if i := slices.IndexFunc(released, func(d map[string]any) bool { return d["id"] == retired }); i < 0 ||
		released[i]["managementState"] != "retireIssued" {
		t.Errorf("released devices lack the retired one: %v", ids(released))
	}

	entra := env.collection(t, src, "devices")
	objs := collect(t, c.ListDevices(ctx, ListOptions{}))
	if got := sortedIDs(objs, func(d Device) string { return d.ID }); !slices.Equal(got, ids(entra)) {
		t.Fatalf("ListDevices gave %d devices, the tenant has %d", len(got), len(entra))
	}
	byID, byDeviceID := entra[0]["id"].(string), entra[1]["deviceId"].(string)
	resp, err = c.DeleteDevice(ctx, byID)
	wantStatus(t, "delete device", resp, err, http.StatusNoContent)
	resp, err = c.DeleteDeviceByDeviceID(ctx, byDeviceID)
	wantStatus(t, "delete device by deviceId", resp, err, http.StatusNoContent)
	for _, d := range env.collection(t, src, "devices") {
		if d["id"] == byID || d["deviceId"] == byDeviceID {
			t.Errorf("device %v is still there after DELETE", d["id"])
		}
	}
	resp, err = c.DeleteDevice(ctx, byID)
	wantNotFound(t, "delete device", resp, err)
	resp, err = c.DeleteDeviceByDeviceID(ctx, byDeviceID)
	wantNotFound(t, "delete device by deviceId", resp, err)
}

func TestSimulatorMethodCalls(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	ctx := t.Context()

	users := env.collection(t, src, "users")
	i := slices.IndexFunc(users, func(u map[string]any) bool {
		m, _ := u["authenticatorMethods"].([]any)
		return len(m) > 0
	})
	if i < 0 {
		t.Fatal("no source user has Authenticator")
	}
	uid := users[i]["id"].(string)
	truth := users[i]["authenticatorMethods"].([]any)
	var want []string
	for _, m := range truth {
		want = append(want, m.(map[string]any)["id"].(string))
	}
	slices.Sort(want)

	all := collect(t, c.ListAuthenticationMethods(ctx, uid))
	kinds := map[string]int{}
	for _, m := range all {
		kinds[m.ODataType]++
	}
	if kinds["#microsoft.graph.passwordAuthenticationMethod"] != 1 ||
		kinds["#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"] != len(want) {
		t.Errorf("methods by type %v, want one password and %d Authenticator", kinds, len(want))
	}
	auths := collect(t, c.ListAuthenticatorMethods(ctx, uid))
	if got := sortedIDs(auths, func(m AuthenticationMethod) string { return m.ID }); !slices.Equal(got, want) {
		t.Errorf("Authenticator methods %v, want %v", got, want)
	}
	if auths[0].DisplayName == "" || auths[0].PhoneAppVersion == "" {
		t.Errorf("Authenticator method lacks properties: %+v", auths[0])
	}

	resp, err := c.DeleteAuthenticatorMethod(ctx, uid, want[0])
	wantStatus(t, "delete Authenticator", resp, err, http.StatusNoContent)
	left, _ := env.object(t, src, "users", uid)["authenticatorMethods"].([]any)
	if strings.Contains(jsonText(left), want[0]) || len(left) != len(want)-1 {
		t.Errorf("Authenticator methods after delete: %v", left)
	}
	resp, err = c.DeleteAuthenticatorMethod(ctx, uid, want[0])
	wantNotFound(t, "delete Authenticator", resp, err)

	yes := true
	pass, err := c.CreateTemporaryAccessPass(ctx, uid, NewTemporaryAccessPass{LifetimeInMinutes: 60,
		IsUsableOnce: &yes})
	if err != nil {
		t.Fatalf("create pass: %v", err)
	}
	if pass.TemporaryAccessPass == "" || pass.ID == "" || pass.LifetimeInMinutes != 60 || !pass.IsUsableOnce {
		t.Errorf("created pass %+v", pass)
	}
	stored, _ := env.object(t, src, "users", uid)["temporaryAccessPass"].(map[string]any)
	if stored["id"] != pass.ID || stored["lifetimeInMinutes"] != float64(60) {
		t.Errorf("stored pass %v, want id %s lasting 60 minutes", stored, pass.ID)
	}
	passes := collect(t, c.ListTemporaryAccessPasses(ctx, uid))
	if len(passes) != 1 || passes[0].ID != pass.ID || passes[0].TemporaryAccessPass != "" {
		t.Errorf("listed passes %+v, want the one pass without its secret", passes)
	}
	resp, err = c.DeleteTemporaryAccessPass(ctx, uid, pass.ID)
	wantStatus(t, "delete pass", resp, err, http.StatusNoContent)
	if p := env.object(t, src, "users", uid)["temporaryAccessPass"]; p != nil {
		t.Errorf("pass still stored after delete: %v", p)
	}
	resp, err = c.DeleteTemporaryAccessPass(ctx, uid, pass.ID)
	wantNotFound(t, "delete pass", resp, err)

	var registered []string
	for _, u := range env.collection(t, src, "users") {
		if m, _ := u["authenticatorMethods"].([]any); len(m) > 0 {
			registered = append(registered, u["id"].(string))
		}
	}
	slices.Sort(registered)
	rows := collect(t, c.ListRegistrationDetails(ctx, ListOptions{
		Filter: "methodsRegistered/any(m:m eq 'microsoftAuthenticatorPush')"}))
	if got := sortedIDs(rows, func(r UserRegistrationDetails) string { return r.ID }); !slices.Equal(got, registered) {
		t.Errorf("report lists %d users with Authenticator, the tenant has %d", len(got), len(registered))
	}
	for _, r := range rows {
		if !r.IsMfaRegistered || !slices.Contains(r.MethodsRegistered, "microsoftAuthenticatorPush") {
			t.Errorf("report row %+v", r)
			break
		}
	}
}

// TestSimulatorDomainCalls moves contoso.com from the source to the target as a cutover
// weekend does: the target adds it, the source frees it with forceDelete, the target verifies.
func TestSimulatorDomainCalls(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	src, tgt := env.tenantID(t, "source"), env.tenantID(t, "target")
	sc, tc := env.fastClient(t, "source", "cutover"), env.fastClient(t, "target", "cutover")
	ctx := t.Context()
	const name = "contoso.com"

	listed := collect(t, sc.ListDomains(ctx))
	var want []string
	for _, d := range env.summary(t, src).Domains {
		want = append(want, d.Name)
	}
	slices.Sort(want)
	if got := sortedIDs(listed, func(d Domain) string { return d.ID }); !slices.Equal(got, want) {
		t.Errorf("ListDomains %v, want %v", got, want)
	}
	if d, err := sc.GetDomain(ctx, name); err != nil || !d.IsVerified || !d.IsDefault {
		t.Errorf("GetDomain(%s) = %+v, %v; want verified and default", name, d, err)
	}

	added, err := tc.AddDomain(ctx, name)
	if err != nil || added.ID != name || added.IsVerified {
		t.Fatalf("add domain: %+v, %v", added, err)
	}
	code := domainIn(t, env.summary(t, tgt), name).VerifyCode
	records := collect(t, tc.DomainVerificationRecords(ctx, name))
	txt := slices.IndexFunc(records, func(r DomainDNSRecord) bool { return r.RecordType == "Txt" })
	if txt < 0 || records[txt].Text != code {
		t.Fatalf("verification records %+v, want a TXT record %s", records, code)
	}
	env.publishDNS(t, name, records[txt].Text)

	// The source still holds the domain: verification fails, permanently for this attempt.
	if _, err := tc.VerifyDomain(ctx, name); !IsPermanent(err) || !hasCode(err, 400, "Request_BadRequest") {
		t.Errorf("verify while the source holds the domain: %v, want a permanent 400", err)
	}

	refs := collect(t, sc.DomainNameReferences(ctx, name, "microsoft.graph.user"))
	all := collect(t, sc.DomainNameReferences(ctx, name, ""))
	var using int
	for _, u := range env.collection(t, src, "users") {
		if strings.HasSuffix(u["userPrincipalName"].(string), "@"+name) {
			using++
		}
	}
	if len(refs) != using || len(all) < using || refs[0].UserPrincipalName == "" {
		t.Errorf("domainNameReferences: %d users (%d in all), the tenant has %d on %s",
			len(refs), len(all), using, name)
	}
	if _, err := sc.DeleteDomain(ctx, name); !hasCode(err, 400, "Request_BadRequest") {
		t.Errorf("DELETE of a referenced domain: %v, want 400", err)
	}

	byDomain := env.config(t, "source", "cutover", CredentialSecret)
	byDomain.TenantID = name
	if _, err := env.client(t, byDomain).GetUser(ctx, refs[0].ID); err != nil {
		t.Fatalf("client naming the tenant %s: %v", name, err)
	}

	resp, err := sc.ForceDeleteDomain(ctx, name, false)
	wantStatus(t, "forceDelete", resp, err, http.StatusNoContent)
	if !domainIn(t, env.summary(t, src), name).Deleting {
		t.Error("the domain is not being deleted after forceDelete")
	}
	env.s.Advance(time.Duration(using)*time.Second + 10*time.Minute)
	if _, err := sc.GetDomain(ctx, name); !IsNotFound(err) {
		t.Fatalf("GetDomain after forceDelete finished: %v, want 404", err)
	}
	for _, u := range env.collection(t, src, "users") {
		if upn := u["userPrincipalName"].(string); strings.HasSuffix(upn, "@"+name) {
			t.Errorf("user %s still on %s", upn, name)
		} else if u["accountEnabled"] != true && u["isAdmin"] != true {
			t.Errorf("user %s disabled although disableUserAccounts was false", upn)
		}
	}

	// A client that named the source tenant by this domain can no longer get tokens: the
	// refusal is permanent, and the reason to configure tenants by GUID.
	if _, err := env.client(t, byDomain).GetUser(ctx, refs[0].ID); !IsPermanent(err) ||
		!hasCode(err, http.StatusBadRequest, "tokenRequestFailed") {
		t.Errorf("token for a tenant named by its removed domain: %v, want a permanent error", err)
	}

	verified, err := tc.VerifyDomain(ctx, name)
	if err != nil || !verified.IsVerified {
		t.Fatalf("verify after the source let go: %+v, %v", verified, err)
	}
	if !domainIn(t, env.summary(t, tgt), name).Verified {
		t.Error("the target's domain is not verified in the tenant")
	}

	const legacy = "contoso-legacy.com"
	resp, err = sc.DeleteDomain(ctx, legacy)
	wantStatus(t, "delete domain", resp, err, http.StatusNoContent)
	for _, d := range env.summary(t, src).Domains {
		if d.Name == legacy {
			t.Errorf("%s still in the source after DELETE", legacy)
		}
	}
	resp, err = sc.DeleteDomain(ctx, legacy)
	wantNotFound(t, "delete domain", resp, err)
}

func domainIn(t *testing.T, s graphsim.TenantSummary, name string) graphsim.DomainSummary {
	t.Helper()
	for _, d := range s.Domains {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("tenant %s has no domain %s", s.DisplayName, name)
	return graphsim.DomainSummary{}
}

func hasCode(err error, status int, code string) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Status == status && ge.Code == code
}

func TestSimulatorSendMail(t *testing.T) {
	env := sharedSim(t)
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	users := env.collection(t, src, "users")
	from, to := users[0]["mail"].(string), users[1]["mail"].(string)
	key := "notice-" + time.Now().Format("150405.000000")

	resp, err := c.SendMail(t.Context(), from, Message{Subject: "Your sign-in changes on Saturday",
		Body:                   ItemBody{ContentType: "html", Content: "<p>New name: <b>" + to + "</b></p>"},
		ToRecipients:           []Recipient{{EmailAddress: EmailAddress{Address: to}}},
		InternetMessageHeaders: []InternetHeader{{Name: "X-Cutover-Message", Value: key}}}, false)
	wantStatus(t, "send mail", resp, err, http.StatusAccepted)

	mail := env.collection(t, src, "mail")
	i := slices.IndexFunc(mail, func(m map[string]any) bool { return strings.Contains(jsonText(m["Headers"]), key) })
	if i < 0 {
		t.Fatalf("no accepted message carries header %s: %v", key, mail)
	}
	m := mail[i]
	if m["Sender"] != from || jsonText(m["To"]) != `["`+to+`"]` || m["SaveToSent"] != false ||
		!strings.Contains(m["Content"].(string), "<b>") {
		t.Errorf("accepted message %v", m)
	}
}

// TestSimulatorAdvancedQueryPaging filters with endsWith, which needs ConsistencyLevel:
// eventual and $count: the header must go with every page, or the second page is refused.
func TestSimulatorAdvancedQueryPaging(t *testing.T) {
	env := sharedSim(t)
	src := env.tenantID(t, "source")
	c := env.fastClient(t, "source", "cutover")
	var want []string
	for _, u := range env.collection(t, src, "users") {
		if strings.HasSuffix(u["userPrincipalName"].(string), "@contoso.com") {
			want = append(want, u["id"].(string))
		}
	}
	slices.Sort(want)

	req := ListUsersRequest(ListOptions{Filter: "endsWith(userPrincipalName,'@contoso.com')",
		Count: true, Advanced: true, Top: 4})
	var got []string
	pages := 0
	for page, err := range Pages[User](t.Context(), c, req) {
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if pages++; (pages == 1) != (page.Count >= 0) || (pages == 1 && page.Count != int64(len(want))) {
			t.Errorf("page %d: @odata.count %d, want %d on the first page only", pages, page.Count, len(want))
		}
		for _, u := range page.Items {
			got = append(got, u.ID)
		}
	}
	slices.Sort(got)
	if pages < 2 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d users; want several pages and the %d users on contoso.com",
			pages, len(got), len(want))
	}
}

// TestSimulatorDeadDeltaLink checks that a delta link the service no longer knows surfaces as
// a permanent error whose code tells the caller to start a full round again.
func TestSimulatorDeadDeltaLink(t *testing.T) {
	env := sharedSim(t)
	c := env.fastClient(t, "source", "cutover")
	p := c.UsersDelta(env.desc.BaseURL + "/users/delta?$deltatoken=bm90LWEtdG9rZW4")
	_, err := p.Next(t.Context())
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusBadRequest || !IsPermanent(err) ||
		(ge.Code != "syncStateNotFound" && ge.Code != "resyncRequired") {
		t.Errorf("dead delta link: %v, want a permanent 400 syncStateNotFound or resyncRequired", err)
	}
}
