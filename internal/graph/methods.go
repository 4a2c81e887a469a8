package graph

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// AuthenticationMethod is one item of /users/{id}/authentication/methods; ODataType tells
// the kind, for example #microsoft.graph.microsoftAuthenticatorAuthenticationMethod.
type AuthenticationMethod struct {
	ODataType       string     `json:"@odata.type"`
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName"`
	DeviceTag       string     `json:"deviceTag"`
	PhoneAppVersion string     `json:"phoneAppVersion"`
	CreatedDateTime *time.Time `json:"createdDateTime"`
}

func methodsPath(userID string, kind string) string {
	p := "/users/" + url.PathEscape(userID) + "/authentication/"
	return p + kind
}

// ListAuthenticationMethods streams all of a user's methods. The endpoint takes no query
// options; for the whole population use the registration report instead.
func (c *Client) ListAuthenticationMethods(ctx context.Context,
	userID string) iter.Seq2[AuthenticationMethod, error] {
	return Items[AuthenticationMethod](ctx, c, Request{Path: methodsPath(userID, "methods")})
}

// ListAuthenticatorMethods streams a user's Microsoft Authenticator registrations.
func (c *Client) ListAuthenticatorMethods(ctx context.Context,
	userID string) iter.Seq2[AuthenticationMethod, error] {
	return Items[AuthenticationMethod](ctx, c,
		Request{Path: methodsPath(userID, "microsoftAuthenticatorMethods")})
}

// DeleteAuthenticatorMethodRequest removes an Authenticator registration (204; 404 means gone).
func DeleteAuthenticatorMethodRequest(userID, methodID string) Request {
	return Request{Method: http.MethodDelete,
		Path: methodsPath(userID, "microsoftAuthenticatorMethods") + "/" + url.PathEscape(methodID)}
}

// DeleteAuthenticatorMethod removes an Authenticator registration.
func (c *Client) DeleteAuthenticatorMethod(ctx context.Context, userID, methodID string) (*Response, error) {
	return c.Do(ctx, DeleteAuthenticatorMethodRequest(userID, methodID))
}

// TemporaryAccessPass is a temporaryAccessPassAuthenticationMethod. TemporaryAccessPass (the
// secret) is set only in the creation response: hand it over, never log or store it in clear.
type TemporaryAccessPass struct {
	ID                    string     `json:"id"`
	TemporaryAccessPass   string     `json:"temporaryAccessPass"`
	CreatedDateTime       *time.Time `json:"createdDateTime"`
	StartDateTime         *time.Time `json:"startDateTime"`
	LifetimeInMinutes     int        `json:"lifetimeInMinutes"`
	IsUsableOnce          bool       `json:"isUsableOnce"`
	IsUsable              bool       `json:"isUsable"`
	MethodUsabilityReason string     `json:"methodUsabilityReason"`
}

// NewTemporaryAccessPass is the creation body; every field is optional.
type NewTemporaryAccessPass struct {
	StartDateTime     *time.Time `json:"startDateTime,omitempty"`
	LifetimeInMinutes int        `json:"lifetimeInMinutes,omitempty"`
	IsUsableOnce      *bool      `json:"isUsableOnce,omitempty"`
}

// CreateTemporaryAccessPassRequest issues a pass. Not idempotent: each POST makes a new
// secret and voids the previous pass.
func CreateTemporaryAccessPassRequest(userID string, p NewTemporaryAccessPass) Request {
	return Request{Method: http.MethodPost, Path: methodsPath(userID, "temporaryAccessPassMethods"), Body: p}
}

// CreateTemporaryAccessPass issues a pass (201) and returns it with its secret.
func (c *Client) CreateTemporaryAccessPass(ctx context.Context, userID string,
	p NewTemporaryAccessPass) (*TemporaryAccessPass, error) {
	var out TemporaryAccessPass
	if err := c.doDecode(ctx, CreateTemporaryAccessPassRequest(userID, p), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTemporaryAccessPasses streams a user's passes (at most one); the secret is null.
func (c *Client) ListTemporaryAccessPasses(ctx context.Context,
	userID string) iter.Seq2[TemporaryAccessPass, error] {
	return Items[TemporaryAccessPass](ctx, c, Request{Path: methodsPath(userID, "temporaryAccessPassMethods")})
}

// DeleteTemporaryAccessPassRequest deletes a pass.
func DeleteTemporaryAccessPassRequest(userID, methodID string) Request {
	return Request{Method: http.MethodDelete,
		Path: methodsPath(userID, "temporaryAccessPassMethods") + "/" + url.PathEscape(methodID)}
}

// DeleteTemporaryAccessPass deletes a pass (204; 404 means gone).
func (c *Client) DeleteTemporaryAccessPass(ctx context.Context, userID, methodID string) (*Response, error) {
	return c.Do(ctx, DeleteTemporaryAccessPassRequest(userID, methodID))
}

// UserRegistrationDetails is one row of the authentication methods registration report.
// MethodsRegistered is open-ended: expect values this code does not know.
type UserRegistrationDetails struct {
	ID                    string     `json:"id"`
	UserPrincipalName     string     `json:"userPrincipalName"`
	UserDisplayName       string     `json:"userDisplayName"`
	UserType              string     `json:"userType"`
	IsAdmin               bool       `json:"isAdmin"`
	IsMfaRegistered       bool       `json:"isMfaRegistered"`
	IsMfaCapable          bool       `json:"isMfaCapable"`
	IsPasswordlessCapable bool       `json:"isPasswordlessCapable"`
	IsSsprRegistered      bool       `json:"isSsprRegistered"`
	MethodsRegistered     []string   `json:"methodsRegistered"`
	LastUpdatedDateTime   *time.Time `json:"lastUpdatedDateTime"`
}

// ListRegistrationDetailsRequest reads the registration report. It is paced by the reports
// bucket (5 requests per 10 s); the maximum $top is undocumented, so 999 is asked and the
// server may return fewer.
func ListRegistrationDetailsRequest(opts ListOptions) Request {
	return opts.request("/reports/authenticationMethods/userRegistrationDetails", nil, 999)
}

// ListRegistrationDetails streams the registration report.
func (c *Client) ListRegistrationDetails(ctx context.Context,
	opts ListOptions) iter.Seq2[UserRegistrationDetails, error] {
	return Items[UserRegistrationDetails](ctx, c, ListRegistrationDetailsRequest(opts))
}
