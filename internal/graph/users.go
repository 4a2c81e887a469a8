package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
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
	// Removed is set on delta pages for users deleted since the last delta link.
	Removed *Removed `json:"@removed"`
}

// Removed is the @removed annotation of a delta item: reason "changed" (soft-deleted,
// restorable for 30 days) or "deleted" (gone for good).
type Removed struct {
	Reason string `json:"reason"`
}

// UserSelect is the default $select of user listings.
var UserSelect = []string{"id", "userPrincipalName", "displayName", "accountEnabled", "mail",
	"onPremisesSyncEnabled"}

// ListUsersRequest is the first request of a user listing ($top=999, selected).
func ListUsersRequest(opts ListOptions) Request {
	return opts.request("/users", UserSelect, 999)
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
