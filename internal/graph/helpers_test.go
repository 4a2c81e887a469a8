package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeCred issues numbered tokens.
type fakeCred struct{ calls atomic.Int64 }

func (f *fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := f.calls.Add(1)
	return azcore.AccessToken{Token: fmt.Sprintf("token-%d", n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// fakeClock never sleeps: Sleep moves time forward at once and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 6, 7, 8, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.sleeps = append(f.sleeps, d)
	return nil
}

func (f *fakeClock) slept() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var total time.Duration
	for _, d := range f.sleeps {
		total += d
	}
	return total
}

// seen is one request a fake Graph received.
type seen struct {
	Method, Path, RawQuery, URI string
	Header                      http.Header
	Body                        []byte
	At                          time.Time // on the fake clock
}

// fakeGraph is an httptest Graph whose handler answers by request number.
type fakeGraph struct {
	t     *testing.T
	srv   *httptest.Server
	clock *fakeClock
	cred  *fakeCred

	mu   sync.Mutex
	reqs []seen
}

// newFakeGraph starts a fake Graph served by h, and a client for it with a fake clock and
// credential; mutate adjusts the configuration.
func newFakeGraph(t *testing.T, h func(n int, r *http.Request, body []byte) (int, http.Header, string),
	mutate func(*Config)) (*fakeGraph, *Client) {
	t.Helper()
	fg := &fakeGraph{t: t, clock: newFakeClock(), cred: &fakeCred{}}
	fg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fg.mu.Lock()
		n := len(fg.reqs)
		fg.reqs = append(fg.reqs, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			URI: r.RequestURI, Header: r.Header.Clone(), Body: body, At: fg.clock.Now()})
		fg.mu.Unlock()
		status, hdr, out := h(n, r, body)
		for k, vs := range hdr {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if out != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(fg.srv.Close)
	cfg := Config{Cloud: CloudCustom, AuthorityHost: "https://login.invalid/",
		GraphURL: fg.srv.URL + "/v1.0", TenantID: "tenant-1", ClientID: "app-1",
		HTTPClient: fg.srv.Client(), Clock: fg.clock, Jitter: func() float64 { return 1 }}
	if mutate != nil {
		mutate(&cfg)
	}
	if fc, ok := cfg.Clock.(*fakeClock); ok {
		fg.clock = fc // the server stamps arrivals on the client's clock
	}
	c, err := NewWithCredential(cfg, fg.cred)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return fg, c
}

func (fg *fakeGraph) requests() []seen {
	fg.mu.Lock()
	defer fg.mu.Unlock()
	return append([]seen(nil), fg.reqs...)
}

// graphError is Graph's error body.
func graphError(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": "2025-06-07T08:00:00", "request-id": "rid-body",
			"client-request-id": "crid-body"}}})
	return string(b)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
