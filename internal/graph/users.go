package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// User is the part of a Graph user that cutover-style tools read. Properties not selected
// stay at their zero value; pointers distinguish "not returned" or null from false.
type User struct {
	ID                              string     `json:"id"`
	UserPrincipalName               string     `json:"userPrincipalName"`
	DisplayName                     string     `json:"displayName"`
	Mail                            string     `json:"mail"`
	MailNickname                    string     `json:"mailNickname"`
	GivenName                       string     `json:"givenName"`
	Surname                         string     `json:"surname"`
	EmployeeID                      string     `json:"employeeId"`
	UsageLocation                   string     `json:"usageLocation"`
	UserType                        string     `json:"userType"`
	AccountEnabled                  *bool      `json:"accountEnabled"`
	OnPremisesSyncEnabled           *bool      `json:"onPremisesSyncEnabled"`
	CreatedDateTime                 *time.Time `json:"createdDateTime"`
	SignInSessionsValidFromDateTime *time.Time `json:"signInSessionsValidFromDateTime"`
	ProxyAddresses                  []string   `json:"proxyAddresses"`
	// AssignedLicenses holds direct and group-inherited licences alike;
	// LicenseAssignmentStates tells them apart and says whether each is active. Both are
	// returned only when selected.
	AssignedLicenses        []AssignedLicense        `json:"assignedLicenses"`
	LicenseAssignmentStates []LicenseAssignmentState `json:"licenseAssignmentStates"`
	// SignInActivity is returned only when selected, which caps a listing's page at 500.
	SignInActivity *SignInActivity `json:"signInActivity"`
	// Removed is set on delta pages for users deleted since the last delta link.
	Removed *Removed `json:"@removed"`
}

// Removed is the @removed annotation of a delta item: reason "changed" (soft-deleted,
// restorable for 30 days) or "deleted" (gone for good).
type Removed struct {
	Reason string `json:"reason"`
}

// AssignedLicense is one licence of a user (or one to add): the SKU and the service plans
// switched off in it.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// LicenseAssignmentState is how one licence reached the user and whether it works.
// AssignedByGroup is empty for a direct assignment; State is Active, ActiveWithError, Disabled
// or Error, and Error names the kind of failure. Compare both case-insensitively: Graph has
// spelled them differently from its documentation.
type LicenseAssignmentState struct {
	SkuID           string `json:"skuId"`
	AssignedByGroup string `json:"assignedByGroup"`
	State           string `json:"state"`
	Error           string `json:"error"`
}

// SignInActivity holds a user's last sign-in times. The attempt times include failed
// attempts; LastSuccessfulSignInDateTime does not. Entra updates them with up to a day's delay.
type SignInActivity struct {
	LastSignInDateTime               *time.Time `json:"lastSignInDateTime"`
	LastNonInteractiveSignInDateTime *time.Time `json:"lastNonInteractiveSignInDateTime"`
	LastSuccessfulSignInDateTime     *time.Time `json:"lastSuccessfulSignInDateTime"`
}

// UserSelect is the default $select of user listings.
var UserSelect = []string{"id", "userPrincipalName", "displayName", "accountEnabled", "mail",
	"onPremisesSyncEnabled"}

// ListUsersRequest is the first request of a user listing, selected, at the largest page
// Graph allows: 999, or 500 while signInActivity is selected or filtered on (a larger $top is
// then refused).
func ListUsersRequest(opts ListOptions) Request {
	top := 999
	if mentionsSignInActivity(opts) {
		top = 500
	}
	return opts.request("/users", UserSelect, top)
}

func mentionsSignInActivity(opts ListOptions) bool {
	for _, p := range opts.Select {
		if strings.EqualFold(p, "signInActivity") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(opts.Filter), "signinactivity")
}

// ListUsers streams every user of the tenant, page by page.
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	return Items[User](ctx, c, ListUsersRequest(opts))
}

// GetUserRequest reads one user by object id (or sign-in name, for one-off lookups).
func GetUserRequest(id string, selectProps ...string) Request {
	return ListOptions{Select: selectProps}.request("/users/"+url.PathEscape(id), UserSelect, 0)
}

// GetUser reads one user. Right after our own write, send GetUserRequest with RetryOn404
// through Do instead: a 404 then is probably replication lag.
func (c *Client) GetUser(ctx context.Context, id string, selectProps ...string) (*User, error) {
	var u User
	if err := c.doDecode(ctx, GetUserRequest(id, selectProps...), &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// RevokeSignInSessionsRequest invalidates the user's refresh tokens and session cookies. A
// repeat is safe (it also ends sessions started since), so it is marked idempotent.
func RevokeSignInSessionsRequest(id string) Request {
	return Request{Method: http.MethodPost, Idempotent: true,
		Path: "/users/" + url.PathEscape(id) + "/revokeSignInSessions"}
}

// RevokeSignInSessions revokes the user's sessions. Any 2xx is success, with or without the
// boolean body Graph sometimes sends. The response's Date is the server time to verify
// signInSessionsValidFromDateTime against.
func (c *Client) RevokeSignInSessions(ctx context.Context, id string) (*Response, error) {
	return c.Do(ctx, RevokeSignInSessionsRequest(id))
}

// UserPatch is a PATCH body for a user: only non-nil fields are sent. Fold properties that
// need the same permission into one PATCH (one write instead of several); keep PasswordProfile
// in a PATCH of its own.
type UserPatch struct {
	AccountEnabled    *bool            `json:"accountEnabled,omitempty"`
	UserPrincipalName *string          `json:"userPrincipalName,omitempty"`
	DisplayName       *string          `json:"displayName,omitempty"`
	Mail              *string          `json:"mail,omitempty"`
	UsageLocation     *string          `json:"usageLocation,omitempty"`
	PasswordProfile   *PasswordProfile `json:"passwordProfile,omitempty"`
}

// PasswordProfile sets a password. The password must never be logged or stored.
type PasswordProfile struct {
	Password                             string `json:"password"`
	ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa,omitempty"`
}

// UpdateUserRequest patches a user addressed by object id.
func UpdateUserRequest(id string, patch UserPatch) Request {
	return Request{Method: http.MethodPatch, Path: "/users/" + url.PathEscape(id), Body: patch}
}

// UpdateUser patches a user (204 No Content on success).
func (c *Client) UpdateUser(ctx context.Context, id string, patch UserPatch) (*Response, error) {
	return c.Do(ctx, UpdateUserRequest(id, patch))
}

// NewUser is the body of a user creation.
type NewUser struct {
	AccountEnabled        bool            `json:"accountEnabled"`
	DisplayName           string          `json:"displayName"`
	MailNickname          string          `json:"mailNickname"`
	UserPrincipalName     string          `json:"userPrincipalName"`
	PasswordProfile       PasswordProfile `json:"passwordProfile"`
	UsageLocation         string          `json:"usageLocation,omitempty"`
	GivenName             string          `json:"givenName,omitempty"`
	Surname               string          `json:"surname,omitempty"`
	EmployeeID            string          `json:"employeeId,omitempty"`
	OnPremisesImmutableID string          `json:"onPremisesImmutableId,omitempty"`
}

// CreateUserRequest creates a user. It is not idempotent: after an ambiguous failure, look
// the user up by sign-in name before trying again.
func CreateUserRequest(u NewUser) Request {
	return Request{Method: http.MethodPost, Path: "/users", Body: u}
}

// CreateUser creates a user and returns it (201 Created).
func (c *Client) CreateUser(ctx context.Context, u NewUser) (*User, error) {
	var out User
	if err := c.doDecode(ctx, CreateUserRequest(u), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AssignLicenseRequest adds and removes licences of a user in one write. Both lists are
// always sent, empty when unused: Graph refuses a call that leaves one out. The user needs a
// usageLocation before a licence can be added.
func AssignLicenseRequest(userID string, add []AssignedLicense, remove []string) Request {
	if add == nil {
		add = []AssignedLicense{}
	}
	for i := range add {
		if add[i].DisabledPlans == nil {
			add[i].DisabledPlans = []string{}
		}
	}
	if remove == nil {
		remove = []string{}
	}
	return Request{Method: http.MethodPost, Path: "/users/" + url.PathEscape(userID) + "/assignLicense",
		Body: struct {
			AddLicenses    []AssignedLicense `json:"addLicenses"`
			RemoveLicenses []string          `json:"removeLicenses"`
		}{add, remove}}
}

// AssignLicense changes a user's licences (200 with the user). It is not marked idempotent:
// what a repeat does is undocumented, so read assignedLicenses before resending. A 400 may
// mean no free seat, which no retry fixes.
func (c *Client) AssignLicense(ctx context.Context, userID string, add []AssignedLicense,
	remove []string) (*Response, error) {
	return c.Do(ctx, AssignLicenseRequest(userID, add, remove))
}

// SubscribedSKU is one of the tenant's subscriptions. Free seats are
// PrepaidUnits.Enabled − ConsumedUnits.
type SubscribedSKU struct {
	ID               string       `json:"id"`
	SkuID            string       `json:"skuId"`
	SkuPartNumber    string       `json:"skuPartNumber"`
	AppliesTo        string       `json:"appliesTo"`
	CapabilityStatus string       `json:"capabilityStatus"`
	ConsumedUnits    int          `json:"consumedUnits"`
	PrepaidUnits     LicenseUnits `json:"prepaidUnits"`
}

// LicenseUnits counts a subscription's seats by state.
type LicenseUnits struct {
	Enabled   int `json:"enabled"`
	LockedOut int `json:"lockedOut"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
}

// FreeSeats is the number of seats that may still be assigned.
func (k SubscribedSKU) FreeSeats() int { return k.PrepaidUnits.Enabled - k.ConsumedUnits }

// SubscribedSKUSelect is the default $select of ListSubscribedSKUs.
var SubscribedSKUSelect = []string{"id", "skuId", "skuPartNumber", "capabilityStatus", "appliesTo",
	"prepaidUnits", "consumedUnits"}

// ListSubscribedSKUs streams the tenant's subscriptions. Graph takes $select only here:
// match skuPartNumber on the client.
func (c *Client) ListSubscribedSKUs(ctx context.Context) iter.Seq2[SubscribedSKU, error] {
	return Items[SubscribedSKU](ctx, c, ListOptions{}.request("/subscribedSkus", SubscribedSKUSelect, 0))
}

// UsersDelta starts a delta query over users with the given $select (all options must go in
// the first call), or resumes from a stored delta link when link is not empty. Read the pager
// to its end, then store DeltaLink for the next round. An error with code resyncRequired or
// syncStateNotFound means the stored link is dead: start again without it.
func (c *Client) UsersDelta(link string, selectProps ...string) *Pager[User] {
	if link != "" {
		return ResumePager[User](c, link, nil)
	}
	return NewPager[User](c, ListOptions{Select: selectProps}.request("/users/delta", UserSelect, 0))
}

// doDecode sends a request and decodes its body into v.
func (c *Client) doDecode(ctx context.Context, req Request, v any) error {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	if err := resp.Decode(v); err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, pathOf(req.Path), err)
	}
	return nil
}
