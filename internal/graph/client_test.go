package graph

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorMapping(t *testing.T) {
	nested := `{"error":{"code":"Request_BadRequest","message":"Another object with the same value ` +
		`for property userPrincipalName already exists.","innerError":{"code":"ObjectConflict",` +
		`"request-id":"rid-inner","client-request-id":"crid-inner","innerError":{"code":"UpnTaken"}}}}`
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		code       string
		innerCode  string
		requestID  string
		transient  bool
		ambiguous  bool
		notFound   bool
		throttled  bool
		permanent  bool
		retryAfter time.Duration
	}{
		{name: "NotFound", status: 404, header: hdr("request-id", "rid-1"),
			body: graphError("Request_ResourceNotFound", "Resource 'x' does not exist"),
			code: "Request_ResourceNotFound", requestID: "rid-1", notFound: true, permanent: true},
		{name: "Forbidden", status: 403, body: graphError("Authorization_RequestDenied", "Insufficient"),
			code: "Authorization_RequestDenied", requestID: "rid-body", permanent: true},
		{name: "NestedInnerCode", status: 400, body: nested, code: "Request_BadRequest",
			innerCode: "UpnTaken", requestID: "rid-inner", permanent: true},
		{name: "Throttled", status: 429, header: hdr("Retry-After", "7"),
			body: graphError("TooManyRequests", "Please retry again later."), code: "TooManyRequests",
			requestID: "rid-body", transient: true, throttled: true, retryAfter: 7 * time.Second},
		{name: "Unavailable", status: 503, header: hdr("Retry-After", "2.5"),
			body: graphError("serviceNotAvailable", "busy"), code: "serviceNotAvailable",
			requestID: "rid-body", transient: true, retryAfter: 2500 * time.Millisecond},
		{name: "GatewayTimeoutIsAmbiguous", status: 504, body: "<html>gateway</html>",
			code: "Gateway Timeout", transient: true, ambiguous: true},
		{name: "ServerError", status: 500, body: graphError("generalException", "oops"),
			code: "generalException", requestID: "rid-body", transient: true, ambiguous: true},
		{name: "Locked", status: 423, body: graphError("resourceLocked", "locked"),
			code: "resourceLocked", requestID: "rid-body", transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
				h := tc.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				h.Set("Date", "Sat, 07 Jun 2025 08:00:00 GMT")
				return tc.status, h, tc.body
			}, func(c *Config) { c.Retry.MaxAttempts = 1 })
			_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/users"})
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err %v is not a *graph.Error", err)
			}
			if ge.Status != tc.status || ge.Code != tc.code || ge.InnerCode != tc.innerCode ||
				ge.RequestID != tc.requestID {
				t.Errorf("got status %d code %q inner %q request-id %q, want %d %q %q %q",
					ge.Status, ge.Code, ge.InnerCode, ge.RequestID, tc.status, tc.code, tc.innerCode,
					tc.requestID)
			}
			if ge.ClientRequestID == "" || ge.Date.IsZero() || ge.Method != "POST" || ge.Path != "/users" {
				t.Errorf("error lacks client-request-id, date or request: %+v", ge)
			}
			if ge.Transient != tc.transient || ge.Ambiguous != tc.ambiguous {
				t.Errorf("transient %v ambiguous %v, want %v %v", ge.Transient, ge.Ambiguous,
					tc.transient, tc.ambiguous)
			}
			if IsNotFound(err) != tc.notFound || IsThrottled(err) != tc.throttled ||
				IsPermanent(err) != tc.permanent {
				t.Errorf("IsNotFound %v IsThrottled %v IsPermanent %v, want %v %v %v", IsNotFound(err),
					IsThrottled(err), IsPermanent(err), tc.notFound, tc.throttled, tc.permanent)
			}
			if ge.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter %v, want %v", ge.RetryAfter, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), "POST /users") {
				t.Errorf("message %q does not name the request", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	date := time.Date(2025, 10, 21, 7, 27, 50, 0, time.UTC)
	now := date.Add(3 * time.Second) // the local clock runs ahead of the server's
	tests := []struct {
		name  string
		value string
		date  time.Time
		max   time.Duration
		want  time.Duration
		ok    bool
	}{
		{"Integer", "10", time.Time{}, 0, 10 * time.Second, true},
		{"Decimal", "2.128", time.Time{}, 0, 2128 * time.Millisecond, true},
		{"DecimalBelowOneSecond", "0.249", time.Time{}, 0, 249 * time.Millisecond, true},
		{"DecimalRoundsUpToMillisecond", "0.0001", time.Time{}, 0, time.Millisecond, true},
		{"DecimalRoundsUpFraction", "0.1241", time.Time{}, 0, 125 * time.Millisecond, true},
		{"Spaces", " 3 ", time.Time{}, 0, 3 * time.Second, true},
		{"HTTPDateFromServerDate", "Tue, 21 Oct 2025 07:28:00 GMT", date, 0, 10 * time.Second, true},
		{"HTTPDateWithoutServerDate", "Tue, 21 Oct 2025 07:28:00 GMT", time.Time{}, 0, 7 * time.Second, true},
		{"HTTPDateInThePast", "Tue, 21 Oct 2025 07:00:00 GMT", date, 0, 0, true},
		{"Negative", "-5", time.Time{}, 0, 0, true},
		{"Clamped", "600", time.Time{}, time.Minute, time.Minute, true},
		{"ClampedDate", "Wed, 22 Oct 2025 07:28:00 GMT", date, time.Minute, time.Minute, true},
		{"Absent", "", time.Time{}, 0, 0, false},
		{"Garbage", "soon", time.Time{}, 0, 0, false},
		{"NaN", "NaN", time.Time{}, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tc.value, tc.date, now, tc.max)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestRetryAfterTimeScale: seconds are already scaled by the server; an HTTP-date is a point
// on the server's fast clock, so its distance is divided by the scale.
func TestRetryAfterTimeScale(t *testing.T) {
	h := hdr("Date", "Tue, 21 Oct 2025 07:27:00 GMT", "Retry-After", "Tue, 21 Oct 2025 07:28:00 GMT")
	if d, ok := retryAfter(h, time.Now(), 0, 60); !ok || d != time.Second {
		t.Errorf("HTTP-date at scale 60: %v %v, want 1s", d, ok)
	}
	h.Set("Retry-After", "0.5")
	if d, ok := retryAfter(h, time.Now(), 0, 60); !ok || d != 500*time.Millisecond {
		t.Errorf("seconds at scale 60: %v %v, want 500ms", d, ok)
	}
}

func TestRetriesHonourEveryRetryAfterForm(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"Integer", "3", 3 * time.Second},
		{"Decimal", "0.249", 249 * time.Millisecond},
		{"HTTPDate", "Sat, 07 Jun 2025 08:00:04 GMT", 4 * time.Second},
		{"Missing", "", 500 * time.Millisecond}, // backoff: base 1 s, jitter [0.5, 1]
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fg, c := newFakeGraph(t, func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
				if n == 0 {
					h := hdr("Date", "Sat, 07 Jun 2025 08:00:00 GMT")
					if tc.value != "" {
						h.Set("Retry-After", tc.value)
					}
					return 429, h, graphError("TooManyRequests", "Please retry again later.")
				}
				return 200, nil, `{"id":"u1"}`
			}, func(c *Config) { c.Jitter = func() float64 { return 0 } })
			resp, err := c.Do(t.Context(), Request{Path: "/users/u1"})
			if err != nil {
				t.Fatalf("do: %v", err)
			}
			reqs := fg.requests()
			if resp.Attempts != 2 || len(reqs) != 2 {
				t.Fatalf("attempts %d, requests %d; want 2", resp.Attempts, len(reqs))
			}
			if gap := reqs[1].At.Sub(reqs[0].At); gap != tc.want {
				t.Errorf("retried after %v, want %v", gap, tc.want)
			}
			if reqs[0].Header.Get("client-request-id") == reqs[1].Header.Get("client-request-id") {
				t.Error("both attempts sent the same client-request-id")
			}
			if s := c.Stats(); s.Throttled != 1 || s.Requests != 2 || s.Items != 1 || s.Retries != 1 {
				t.Errorf("stats %+v, want 1 throttled, 2 requests, 1 item, 1 retry", s)
			}
		})
	}
}

func TestRetryBudgetAndAttempts(t *testing.T) {
	fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		return 503, hdr("Retry-After", "60"), graphError("serviceNotAvailable", "busy")
	}, func(c *Config) { c.Retry.Budget = 150 * time.Second })
	_, err := c.Do(t.Context(), Request{Path: "/users/u1"})
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 503 || !ge.Transient {
		t.Fatalf("err %v, want the last transient 503", err)
	}
	// Attempts at 0, 60 and 120 s; a fourth at 180 s would exceed the 150 s budget.
	if n := len(fg.requests()); n != 3 || ge.Attempts != 3 {
		t.Errorf("sent %d requests (error says %d attempts), want 3", n, ge.Attempts)
	}
}

func TestNoRetryAfterContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		cancel()
		return 503, nil, graphError("serviceNotAvailable", "busy")
	}, nil)
	_, err := c.Do(ctx, Request{Path: "/users/u1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := len(fg.requests()); n != 1 {
		t.Errorf("sent %d requests after cancel, want 1", n)
	}
}

func TestAmbiguousFailuresAreNotResentUnlessIdempotent(t *testing.T) {
	tests := []struct {
		name       string
		req        Request
		wantSent   int
		wantResult bool
	}{
		{"CreateIsNotResent", Request{Method: http.MethodPost, Path: "/users", Body: map[string]any{}}, 1, false},
		{"IdempotentPostIsResent", Request{Method: http.MethodPost, Path: "/users/u1/revokeSignInSessions",
			Idempotent: true}, 2, true},
		{"PatchIsResent", Request{Method: http.MethodPatch, Path: "/users/u1", Body: map[string]any{}}, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fg, c := newFakeGraph(t, func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
				if n == 0 {
					return 504, nil, ""
				}
				return 204, nil, ""
			}, nil)
			_, err := c.Do(t.Context(), tc.req)
			if got := len(fg.requests()); got != tc.wantSent {
				t.Errorf("sent %d times, want %d", got, tc.wantSent)
			}
			if (err == nil) != tc.wantResult {
				t.Errorf("err %v, want success %v", err, tc.wantResult)
			}
			if err != nil && !IsAmbiguous(err) {
				t.Errorf("err %v is not ambiguous", err)
			}
		})
	}
}

// TestConnectionResetIsAmbiguous closes the connection without an answer.
func TestConnectionResetIsAmbiguous(t *testing.T) {
	fg, c := newFakeGraph(t, nil, nil)
	fg.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	})
	_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/users/u1/sendMail",
		Body: map[string]any{}})
	var ge *Error
	if !errors.As(err, &ge) || !ge.Transient || !ge.Ambiguous || ge.Attempts != 1 || ge.Err == nil {
		t.Fatalf("err %#v, want one transient ambiguous transport error", err)
	}
}

func TestRetryOn404IsPerRequest(t *testing.T) {
	handler := func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
		if n < 2 {
			return 404, nil, graphError("Request_ResourceNotFound", "not yet")
		}
		return 200, nil, `{"id":"new"}`
	}
	_, c := newFakeGraph(t, handler, nil)
	resp, err := c.Do(t.Context(), Request{Path: "/users/new", RetryOn404: true})
	if err != nil || resp.Attempts != 3 {
		t.Fatalf("with RetryOn404: resp %+v err %v, want success on attempt 3", resp, err)
	}
	fg, c := newFakeGraph(t, handler, nil)
	if _, err := c.Do(t.Context(), Request{Path: "/users/new"}); !IsNotFound(err) ||
		len(fg.requests()) != 1 {
		t.Fatalf("without RetryOn404: err %v after %d requests, want one 404", err, len(fg.requests()))
	}
}

func TestUnauthorizedRenewsOnceThenFails(t *testing.T) {
	fg, c := newFakeGraph(t, func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		return 401, nil, graphError("InvalidAuthenticationToken", "Lifetime validation failed")
	}, nil)
	_, err := c.Do(t.Context(), Request{Path: "/users/u1"})
	if !IsPermanent(err) || !hasStatus(err, 401) {
		t.Fatalf("err %v, want a permanent 401", err)
	}
	reqs := fg.requests()
	if len(reqs) != 2 || fg.cred.calls.Load() != 2 {
		t.Fatalf("sent %d requests with %d tokens, want 2 and 2", len(reqs), fg.cred.calls.Load())
	}
	if a, b := reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"); a == b {
		t.Errorf("renewal resent the same token %q", a)
	}
}

func TestRequestHeaders(t *testing.T) {
	fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		return 200, nil, `{"value":true}`
	}, nil)
	ctx := t.Context()
	_, _ = c.Do(ctx, Request{Method: http.MethodPost, Path: "/users/u1/revokeSignInSessions"})
	_, _ = c.Do(ctx, Request{Path: "/users", Header: http.Header{"ConsistencyLevel": {"eventual"}}})
	_, _ = c.Do(ctx, Request{Method: http.MethodPatch, Path: "/users/u1",
		Body: UserPatch{AccountEnabled: new(bool)}, Priority: "Normal"})
	r := fg.requests()
	if ct := r[0].Header.Get("Content-Type"); ct != "application/json" || len(r[0].Body) != 0 {
		t.Errorf("bodiless POST: Content-Type %q body %q, want application/json and none", ct, r[0].Body)
	}
	if ct := r[1].Header.Get("Content-Type"); ct != "" {
		t.Errorf("GET carries Content-Type %q", ct)
	}
	if r[1].Header.Get("ConsistencyLevel") != "eventual" {
		t.Error("GET lost its ConsistencyLevel header")
	}
	if got := string(r[2].Body); got != `{"accountEnabled":false}` {
		t.Errorf("PATCH body %s, want only accountEnabled", got)
	}
	for i, want := range []string{"Low", "Low", "Normal"} {
		if got := r[i].Header.Get("x-ms-throttle-priority"); got != want {
			t.Errorf("request %d: priority %q, want %q", i, got, want)
		}
		if !strings.HasPrefix(r[i].Header.Get("Authorization"), "Bearer token-") {
			t.Errorf("request %d: no bearer token", i)
		}
	}
}

func TestQueryEncoding(t *testing.T) {
	fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		return 200, nil, `{"value":[]}`
	}, nil)
	for _, err := range c.ListUsers(t.Context(), ListOptions{Filter: "startsWith(displayName,'Mary M')",
		Count: true, Advanced: true}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := fg.requests()[0].RawQuery
	want := "$count=true&$filter=startsWith(displayName,'Mary%20M')&" +
		"$select=id,userPrincipalName,displayName,accountEnabled,mail,onPremisesSyncEnabled&$top=999"
	if got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
}

func TestLinksLeavingTheGraphHostAreRefused(t *testing.T) {
	fg, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
		return 200, nil, `{}`
	}, nil)
	_, err := c.Do(t.Context(), Request{Path: "https://evil.example/v1.0/users?$skiptoken=x"})
	if err == nil || len(fg.requests()) != 0 {
		t.Fatalf("err %v after %d requests, want a refusal before sending", err, len(fg.requests()))
	}
}

func TestSuccessIsAny2xxAndDecodeIsLenient(t *testing.T) {
	bodies := []struct {
		status int
		body   string
	}{{200, `{"@odata.context":"x","value":true}`}, {204, ""}, {202, ""}}
	for _, b := range bodies {
		_, c := newFakeGraph(t, func(int, *http.Request, []byte) (int, http.Header, string) {
			return b.status, nil, b.body
		}, nil)
		resp, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/users/u1/revokeSignInSessions"})
		if err != nil || resp.Status != b.status {
			t.Fatalf("status %d: %v", b.status, err)
		}
		var v struct{ Value bool }
		if err := resp.Decode(&v); err != nil {
			t.Errorf("status %d: decode: %v", b.status, err)
		}
	}
}
