package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// userField is a user property that POST /users and PATCH /users/{id} may set: the
// application permissions any one of which allows setting it, whether on-premises sync
// masters it, and check, which validates a value and returns the assignment to make once
// every property of the request has passed (a write changes all or nothing).
type userField struct {
	perms  []string
	synced bool
	check  func(c *call, u *User, raw json.RawMessage) (func(*User), error)
}

// userWritable is every user property the simulator lets a client write.
var userWritable = map[string]userField{
	"accountEnabled":    {perms: permUserEnable, synced: true, check: checkAccountEnabled},
	"userPrincipalName": {perms: permUserUpdate, synced: true, check: checkUPN},
	"passwordProfile":   {perms: permUserPwd, check: checkPasswordProfile},
	"usageLocation":     {perms: permUserUpdate, check: checkUsageLocation},
	"displayName": {perms: permUserUpdate, synced: true,
		check: textField("displayName", 256, false, nil, func(u *User) *string { return &u.DisplayName })},
	"givenName": {perms: permUserUpdate, synced: true,
		check: textField("givenName", 64, true, nil, func(u *User) *string { return &u.GivenName })},
	"surname": {perms: permUserUpdate, synced: true,
		check: textField("surname", 64, true, nil, func(u *User) *string { return &u.Surname })},
	"mailNickname": {perms: permUserUpdate, synced: true,
		check: textField("mailNickname", 64, false, validMailNickname,
			func(u *User) *string { return &u.MailNickname })},
	"mail": {perms: permUserUpdate, synced: true,
		check: textField("mail", 254, true, validSMTP, func(u *User) *string { return &u.Mail })},
	"employeeId": {perms: permUserUpdate, synced: true,
		check: textField("employeeId", 16, true, nil, func(u *User) *string { return &u.EmployeeID })},
	"jobTitle": {perms: permUserUpdate, synced: true,
		check: textField("jobTitle", 128, true, nil, func(u *User) *string { return &u.JobTitle })},
	"department": {perms: permUserUpdate, synced: true,
		check: textField("department", 64, true, nil, func(u *User) *string { return &u.Department })},
}

// userReadOnly lists user properties the metadata declares but only the service sets.
var userReadOnly = stringSet("id", "deletedDateTime", "createdDateTime",
	"signInSessionsValidFromDateTime", "lastPasswordChangeDateTime", "signInActivity",
	"onPremisesSyncEnabled", "assignedLicenses", "licenseAssignmentStates", "assignedPlans",
	"provisionedPlans", "proxyAddresses", "imAddresses", "creationType", "externalUserState",
	"externalUserStateChangeDateTime", "onPremisesDistinguishedName", "onPremisesDomainName",
	"onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "onPremisesSamAccountName",
	"onPremisesSecurityIdentifier", "onPremisesUserPrincipalName", "securityIdentifier",
	"serviceProvisioningErrors")

// userUnmodelled lists writable user properties of the metadata that the simulator does not
// store. Refusing them plainly is better than accepting a value that reads back unchanged.
var userUnmodelled = stringSet("aboutMe", "ageGroup", "birthday", "businessPhones", "city",
	"companyName", "consentProvidedForMinor", "country", "customSecurityAttributes",
	"employeeHireDate", "employeeLeaveDateTime", "employeeOrgData", "employeeType", "faxNumber",
	"hireDate", "identities", "interests", "mobilePhone", "mySite", "officeLocation",
	"onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails", "passwordPolicies",
	"pastProjects", "postalCode", "preferredDataLocation", "preferredLanguage", "preferredName",
	"responsibilities", "schools", "showInAddressList", "skills", "state", "streetAddress",
	"userType")

// decodeUserBody decodes a user write body into its properties, refusing read-only and
// unknown ones. OData annotations such as @odata.type, which SDKs send, are dropped.
func (c *call) decodeUserBody() (map[string]json.RawMessage, bool) {
	var body map[string]json.RawMessage
	if !c.decodeBody(&body) {
		return nil, false
	}
	for _, name := range sortedKeys(body) {
		switch {
		case strings.HasPrefix(name, "@"):
			delete(body, name)
		case userReadOnly[name]:
			c.fail(http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Property '%s' is read-only and cannot be set.", name))
			return nil, false
		case userUnmodelled[name]:
			c.fail(http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("The simulator does not store property '%s'.", name))
			return nil, false
		case userWritable[name].check == nil:
			c.fail(http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Invalid property '%s'.", name))
			return nil, false
		}
	}
	return body, true
}

// applyUserBody validates every property of body against u and, only if all pass, applies
// them. It answers 400 naming the first bad property, in name order.
func (c *call) applyUserBody(u *User, body map[string]json.RawMessage) bool {
	var sets []func(*User)
	for _, name := range sortedKeys(body) {
		set, err := userWritable[name].check(c, u, body[name])
		if err != nil {
			c.fail(http.StatusBadRequest, "Request_BadRequest", err.Error())
			return false
		}
		sets = append(sets, set)
	}
	for _, set := range sets {
		set(u)
	}
	return true
}

func invalidUserValue(name string) error {
	return fmt.Errorf("Invalid value specified for property '%s' of resource 'User'.", name)
}

func isJSONNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// textField checks a string property: its length, an optional format rule, and whether
// null (clearing it) is allowed.
func textField(name string, max int, clearable bool, valid func(string) bool,
	field func(*User) *string) func(*call, *User, json.RawMessage) (func(*User), error) {
	return func(_ *call, _ *User, raw json.RawMessage) (func(*User), error) {
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, invalidUserValue(name)
		}
		if v == nil || *v == "" {
			if !clearable {
				return nil, invalidUserValue(name)
			}
			return func(u *User) { *field(u) = "" }, nil
		}
		if len([]rune(*v)) > max || (valid != nil && !valid(*v)) {
			return nil, invalidUserValue(name)
		}
		val := *v
		return func(u *User) { *field(u) = val }, nil
	}
}

func checkAccountEnabled(_ *call, _ *User, raw json.RawMessage) (func(*User), error) {
	var v bool
	if isJSONNull(raw) || json.Unmarshal(raw, &v) != nil {
		return nil, invalidUserValue("accountEnabled")
	}
	return func(u *User) { u.AccountEnabled = v }, nil
}

// checkUsageLocation accepts a two-letter ISO 3166 country code, or null to clear it.
func checkUsageLocation(_ *call, _ *User, raw json.RawMessage) (func(*User), error) {
	var v *string
	if json.Unmarshal(raw, &v) != nil {
		return nil, invalidUserValue("usageLocation")
	}
	if v == nil {
		return func(u *User) { u.UsageLocation = "" }, nil
	}
	code := strings.ToUpper(*v)
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return nil, invalidUserValue("usageLocation")
	}
	return func(u *User) { u.UsageLocation = code }, nil
}

// checkUPN applies Entra's sign-in name rules: a well-formed alias@domain, a domain the
// tenant has verified, and no other object already holding the name.
func checkUPN(c *call, u *User, raw json.RawMessage) (func(*User), error) {
	var upn string
	if isJSONNull(raw) || json.Unmarshal(raw, &upn) != nil || !validUPN(upn) {
		return nil, invalidUserValue("userPrincipalName")
	}
	t := c.tenant
	_, domain, _ := strings.Cut(upn, "@")
	if !t.hasVerifiedDomain(domain) {
		return nil, fmt.Errorf("The domain portion of the userPrincipalName property is invalid. " +
			"You must use one of the verified domain names in your organization.")
	}
	if id, taken := t.upnIndex[strings.ToLower(upn)]; taken && id != u.ID {
		return nil, fmt.Errorf("Another object with the same value for property userPrincipalName " +
			"already exists.")
	}
	return func(u *User) { t.setUPN(u, upn) }, nil
}

// validUPN reports whether upn is alias@domain where the alias uses only the characters
// Entra allows (A-Z a-z 0-9 ' . - _ ! # ^ ~), does not start or end with a period and has
// no two periods in a row, and the domain is a plausible DNS name.
func validUPN(upn string) bool {
	alias, domain, ok := strings.Cut(upn, "@")
	if !ok || alias == "" || len(alias) > 64 || domain == "" || len(domain) > 255 {
		return false
	}
	if alias[0] == '.' || alias[len(alias)-1] == '.' || strings.Contains(alias, "..") {
		return false
	}
	for _, r := range alias {
		if !isASCIIAlnum(r) && !strings.ContainsRune("'.-_!#^~", r) {
			return false
		}
	}
	return validDomainName(domain)
}

func validDomainName(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !isASCIIAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

func isASCIIAlnum(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// validMailNickname refuses the characters Exchange does not allow in an alias.
func validMailNickname(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r) ||
			strings.ContainsRune(`@()\[]";:<>,`, r) {
			return false
		}
	}
	return true
}

func validSMTP(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && validDomainName(domain)
}

// passwordProfile is the passwordProfile complex type of the metadata.
type passwordProfile struct {
	Password                             *string `json:"password"`
	ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa"`
}

func parsePasswordProfile(raw json.RawMessage) (passwordProfile, error) {
	var pp passwordProfile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if isJSONNull(raw) || dec.Decode(&pp) != nil {
		return pp, invalidUserValue("passwordProfile")
	}
	return pp, nil
}

// checkPasswordProfile validates a password reset. The password itself is never kept, only
// the time it was set, which Graph shows as lastPasswordChangeDateTime.
func checkPasswordProfile(c *call, _ *User, raw json.RawMessage) (func(*User), error) {
	pp, err := parsePasswordProfile(raw)
	if err != nil {
		return nil, err
	}
	if pp.Password == nil {
		return func(*User) {}, nil
	}
	if !strongPassword(*pp.Password) {
		return nil, fmt.Errorf("The specified password does not comply with password complexity " +
			"requirements. Please provide a different password.")
	}
	now := c.now
	return func(u *User) { u.PasswordSet = now }, nil
}

// strongPassword applies Entra's default complexity rule: 8 to 256 characters from at least
// three of lowercase, uppercase, digits and symbols.
func strongPassword(p string) bool {
	n := len([]rune(p))
	if n < 8 || n > 256 {
		return false
	}
	var lower, upper, digit, symbol int
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	return lower+upper+digit+symbol >= 3
}
