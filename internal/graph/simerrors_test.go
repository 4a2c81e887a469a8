package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/cutoverhq/cutover/internal/graphsim"
)

// staticCred keeps serving one token, like a credential whose cache holds a token that the
// service has stopped accepting.
type staticCred struct{ tok azcore.AccessToken }

func (s staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return s.tok, nil
}

// TestSimulatorErrorMapping checks that each kind of refusal the simulator gives becomes a
// typed *Error carrying what support and the caller's logic need: status, code, the ids of
// the attempt (matching the simulator's own log), the server's Date and the transient flag.
func TestSimulatorErrorMapping(t *testing.T) {
	env := startSim(t, graphsim.Options{})
	ctx := t.Context()
	cfg := env.config(t, "source", "cutover", CredentialSecret)
	cfg.Limits = unpaced()
	c := env.client(t, cfg)
	readOnly := env.client(t, env.config(t, "source", "cutover-readonly", CredentialSecret))

	// A real token, then two simulated hours later: the service refuses it, and the
	// credential keeps handing it out.
	cred, err := NewCredential(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	env.s.Advance(2 * time.Hour)
	stale, err := NewWithCredential(cfg, staticCred{old})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stale.CloseIdleConnections)
	user := env.collection(t, env.tenantID(t, "source"), "users")[0]["id"].(string)

	tests := []struct {
		name     string
		c        *Client
		req      Request
		status   int
		code     string
		attempts int
	}{
		{"400 unknown segment", c, Request{Path: "/usres"}, http.StatusBadRequest, "BadRequest", 1},
		{"400 page too large", c, Request{Path: "/users", Query: url.Values{"$top": {"5000"}}},
			http.StatusBadRequest, "Request_BadRequest", 1},
		{"401 refused token, renewed once", stale, GetUserRequest(user), http.StatusUnauthorized,
			"InvalidAuthenticationToken", 2},
		{"403 missing permission", readOnly, RevokeSignInSessionsRequest(user), http.StatusForbidden,
			"Authorization_RequestDenied", 1},
		{"404 unknown user", c, GetUserRequest("8d6b1b1e-0000-4000-8000-000000000000"),
			http.StatusNotFound, "Request_ResourceNotFound", 1},
		{"405 wrong method", c, Request{Method: http.MethodPut, Path: "/users/" + user,
			Body: map[string]any{"displayName": "x"}}, http.StatusMethodNotAllowed, "Request_BadRequest", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seq := env.lastSeq()
			_, err := tc.c.Do(ctx, tc.req)
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err %v (%T), want *graph.Error", err, err)
			}
			if ge.Status != tc.status || ge.Code != tc.code || ge.Attempts != tc.attempts {
				t.Errorf("status %d code %q attempts %d, want %d %q %d", ge.Status, ge.Code,
					ge.Attempts, tc.status, tc.code, tc.attempts)
			}
			if ge.Transient || ge.Ambiguous || !IsPermanent(err) || ge.Message == "" {
				t.Errorf("transient %v ambiguous %v message %q: want a permanent error with a message",
					ge.Transient, ge.Ambiguous, ge.Message)
			}
			if ge.Method != methodOf(tc.req) || ge.Path == "" {
				t.Errorf("error names %s %q", ge.Method, ge.Path)
			}
			log, _ := env.logSince(seq)
			if len(log) != tc.attempts {
				t.Fatalf("the simulator saw %d requests, want %d", len(log), tc.attempts)
			}
			last := log[len(log)-1]
			if ge.RequestID != last.RequestID || ge.ClientRequestID != last.ClientRequestID ||
				len(ge.ClientRequestID) != 36 {
				t.Errorf("ids %s / %s, the simulator logged %s / %s", ge.RequestID, ge.ClientRequestID,
					last.RequestID, last.ClientRequestID)
			}
			if d := ge.Date.Sub(last.SimTime.Truncate(time.Second)); ge.Date.IsZero() || d < 0 || d > 2*time.Second {
				t.Errorf("Date %v, the simulator's clock said %v", ge.Date, last.SimTime)
			}
		})
	}
}

func methodOf(r Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}
