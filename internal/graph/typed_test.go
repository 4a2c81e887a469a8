package graph

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTypedCalls checks the exact method, URL and body each typed call puts on the wire, and
// that it decodes the documented answer. simcalls_test.go runs the same calls against the
// simulator and checks their effect.
func TestTypedCalls(t *testing.T) {
	no := false
	start := time.Date(2025, 6, 5, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		call   func(ctx context.Context, c *Client) error
		status int
		answer string
		method string
		uri    string
		body   string
	}{
		{name: "UpdateUser", call: func(ctx context.Context, c *Client) error {
			upn := "mary@contoso.onmicrosoft.com"
			_, err := c.UpdateUser(ctx, "u1", UserPatch{AccountEnabled: &no, UserPrincipalName: &upn})
			return err
		}, status: 204, method: "PATCH", uri: "/v1.0/users/u1",
			body: `{"accountEnabled":false,"userPrincipalName":"mary@contoso.onmicrosoft.com"}`},
		{name: "CreateUser", call: func(ctx context.Context, c *Client) error {
			u, err := c.CreateUser(ctx, NewUser{AccountEnabled: true, DisplayName: "Mary Major",
				MailNickname: "mary", UserPrincipalName: "mary@fabrikam.onmicrosoft.com",
				PasswordProfile: PasswordProfile{Password: "p", ForceChangePasswordNextSignIn: true}})
			if err == nil && u.ID != "new" {
				t.Errorf("created user id %q", u.ID)
			}
			return err
		}, status: 201, answer: `{"id":"new"}`, method: "POST", uri: "/v1.0/users",
			body: `{"accountEnabled":true,"displayName":"Mary Major","mailNickname":"mary",` +
				`"userPrincipalName":"mary@fabrikam.onmicrosoft.com","passwordProfile":{"password":"p",` +
				`"forceChangePasswordNextSignIn":true}}`},
		{name: "AssignLicense", call: func(ctx context.Context, c *Client) error {
			_, err := c.AssignLicense(ctx, "u1", []AssignedLicense{{SkuID: "s1"}}, nil)
			return err
		}, status: 200, answer: `{"id":"u1"}`, method: "POST", uri: "/v1.0/users/u1/assignLicense",
			body: `{"addLicenses":[{"skuId":"s1","disabledPlans":[]}],"removeLicenses":[]}`},
		{name: "ListUsersWithSignInActivity", call: func(ctx context.Context, c *Client) error {
			for _, err := range c.ListUsers(ctx, ListOptions{Select: []string{"id", "signInActivity"}}) {
				return err
			}
			return nil
		}, status: 200, answer: `{"value":[]}`, method: "GET",
			uri: "/v1.0/users?$select=id,signInActivity&$top=500"},
		{name: "ListManagedDevices", call: func(ctx context.Context, c *Client) error {
			for d, err := range c.ListManagedDevices(ctx, ListOptions{}) {
				if err != nil {
					return err
				}
				if d.Action("RETIRE") == nil || d.Action("retire").ActionState != "pending" {
					t.Errorf("device actions %+v", d.DeviceActionResults)
				}
			}
			return nil
		}, status: 200, answer: `{"value":[{"id":"m1","deviceActionResults":[{"actionName":"retire",` +
			`"actionState":"pending"}]}]}`, method: "GET",
			uri: "/v1.0/deviceManagement/managedDevices?$select=" + strings.Join(ManagedDeviceSelect, ",")},
		{name: "RetireDevice", call: func(ctx context.Context, c *Client) error {
			_, err := c.RetireDevice(ctx, "m1")
			return err
		}, status: 204, method: "POST", uri: "/v1.0/deviceManagement/managedDevices/m1/retire"},
		{name: "WipeDevice", call: func(ctx context.Context, c *Client) error {
			_, err := c.WipeDevice(ctx, "m1", WipeOptions{KeepUserData: &no})
			return err
		}, status: 204, method: "POST", uri: "/v1.0/deviceManagement/managedDevices/m1/wipe",
			body: `{"keepUserData":false}`},
		{name: "DeleteManagedDevice", call: func(ctx context.Context, c *Client) error {
			_, err := c.DeleteManagedDevice(ctx, "m1")
			return err
		}, status: 204, method: "DELETE", uri: "/v1.0/deviceManagement/managedDevices/m1"},
		{name: "ListDevices", call: func(ctx context.Context, c *Client) error {
			for _, err := range c.ListDevices(ctx, ListOptions{}) {
				return err
			}
			return nil
		}, status: 200, answer: `{"value":[]}`, method: "GET",
			uri: "/v1.0/devices?$select=" + strings.Join(DeviceSelect, ",") + "&$top=999"},
		{name: "DeleteDevice", call: func(ctx context.Context, c *Client) error {
			_, err := c.DeleteDevice(ctx, "d1")
			return err
		}, status: 204, method: "DELETE", uri: "/v1.0/devices/d1"},
		{name: "DeleteDeviceByDeviceID", call: func(ctx context.Context, c *Client) error {
			_, err := c.DeleteDeviceByDeviceID(ctx, "6a59a7a1-2d0c-4c0e-8f6b-6f1a5f3c2d10")
			return err
		}, status: 204, method: "DELETE", uri: "/v1.0/devices(deviceId='6a59a7a1-2d0c-4c0e-8f6b-6f1a5f3c2d10')"},
		{name: "DeleteAuthenticatorMethod", call: func(ctx context.Context, c *Client) error {
			_, err := c.DeleteAuthenticatorMethod(ctx, "u1", "a1")
			return err
		}, status: 204, method: "DELETE", uri: "/v1.0/users/u1/authentication/microsoftAuthenticatorMethods/a1"},
		{name: "CreateTemporaryAccessPass", call: func(ctx context.Context, c *Client) error {
			p, err := c.CreateTemporaryAccessPass(ctx, "u1", NewTemporaryAccessPass{StartDateTime: &start,
				LifetimeInMinutes: 480, IsUsableOnce: &no})
			if err == nil && p.TemporaryAccessPass != "TAPRJR4s" {
				t.Errorf("pass %+v lacks its secret", p)
			}
			return err
		}, status: 201, answer: `{"id":"tap1","temporaryAccessPass":"TAPRJR4s","lifetimeInMinutes":480}`,
			method: "POST", uri: "/v1.0/users/u1/authentication/temporaryAccessPassMethods",
			body: `{"startDateTime":"2025-06-05T07:00:00Z","lifetimeInMinutes":480,"isUsableOnce":false}`},
		{name: "ListRegistrationDetails", call: func(ctx context.Context, c *Client) error {
			for r, err := range c.ListRegistrationDetails(ctx, ListOptions{
				Filter: "methodsRegistered/any(m:m eq 'microsoftAuthenticatorPush')"}) {
				if err != nil {
					return err
				}
				if len(r.MethodsRegistered) != 2 {
					t.Errorf("methods %v", r.MethodsRegistered)
				}
			}
			return nil
		}, status: 200, answer: `{"value":[{"id":"u1","methodsRegistered":["microsoftAuthenticatorPush",` +
			`"passKeyDeviceBound"]}]}`, method: "GET",
			uri: "/v1.0/reports/authenticationMethods/userRegistrationDetails?" +
				"$filter=methodsRegistered/any(m:m%20eq%20'microsoftAuthenticatorPush')&$top=999"},
		{name: "VerifyDomain", call: func(ctx context.Context, c *Client) error {
			d, err := c.VerifyDomain(ctx, "contoso.com")
			if err == nil && !d.IsVerified {
				t.Error("domain not verified")
			}
			return err
		}, status: 200, answer: `{"id":"contoso.com","isVerified":true}`, method: "POST",
			uri: "/v1.0/domains/contoso.com/verify"},
		{name: "DomainNameReferences", call: func(ctx context.Context, c *Client) error {
			for _, err := range c.DomainNameReferences(ctx, "contoso.com", "microsoft.graph.user") {
				return err
			}
			return nil
		}, status: 200, answer: `{"value":[]}`, method: "GET",
			uri: "/v1.0/domains/contoso.com/domainNameReferences/microsoft.graph.user"},
		{name: "ForceDeleteDomain", call: func(ctx context.Context, c *Client) error {
			_, err := c.ForceDeleteDomain(ctx, "contoso.com", false)
			return err
		}, status: 204, method: "POST", uri: "/v1.0/domains/contoso.com/forceDelete",
			body: `{"disableUserAccounts":false}`},
		{name: "SendMail", call: func(ctx context.Context, c *Client) error {
			_, err := c.SendMail(ctx, "it@contoso.com", Message{Subject: "Saturday",
				Body:                   ItemBody{ContentType: "html", Content: "<p>Hi</p>"},
				ToRecipients:           []Recipient{{EmailAddress: EmailAddress{Address: "mary@contoso.com"}}},
				InternetMessageHeaders: []InternetHeader{{Name: "X-Cutover-Message", Value: "k1"}}}, false)
			return err
		}, status: 202, method: "POST", uri: "/v1.0/users/it@contoso.com/sendMail",
			body: `{"message":{"subject":"Saturday","body":{"contentType":"html","content":"<p>Hi</p>"},` +
				`"toRecipients":[{"emailAddress":{"address":"mary@contoso.com"}}],` +
				`"internetMessageHeaders":[{"name":"X-Cutover-Message","value":"k1"}]},"saveToSentItems":false}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
				return tc.status, nil, tc.answer
			}, nil)
			if err := tc.call(t.Context(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			r := fg.requests()
			if len(r) != 1 {
				t.Fatalf("sent %d requests, want 1", len(r))
			}
			if r[0].Method != tc.method || r[0].URI != tc.uri {
				t.Errorf("sent %s %s\nwant %s %s", r[0].Method, r[0].URI, tc.method, tc.uri)
			}
			if string(r[0].Body) != tc.body {
				t.Errorf("body %s\nwant %s", r[0].Body, tc.body)
			}
		})
	}
}
