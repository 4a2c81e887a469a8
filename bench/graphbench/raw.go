package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// rawClient is what the contenders other than cutover's client use: net/http with a token
// fetched through the client-credentials grant, and nothing else.
type rawClient struct {
	hc     *http.Client
	graph  string
	tokens []string // per app registration
	scale  float64
}

// newRawClient fetches one token per app registration of the run.
func newRawClient(ctx context.Context, env *runEnv) (*rawClient, error) {
	t := &http.Transport{TLSClientConfig: env.sim.TLSClientConfig(), ForceAttemptHTTP2: true,
		MaxIdleConnsPerHost: 512}
	rc := &rawClient{hc: &http.Client{Transport: t}, graph: env.sim.GraphURL(), scale: env.spec.Scale}
	for _, a := range env.apps {
		tok, err := rc.token(ctx, env.sim.AuthorityURL()+env.tenantID, a)
		if err != nil {
			return nil, err
		}
		rc.tokens = append(rc.tokens, tok)
	}
	return rc, nil
}

func (rc *rawClient) close() { rc.hc.CloseIdleConnections() }

// warm reads one user with each app's token, which opens the connection. The model's noise
// faults can hit these reads too, so each is tried a few times before the run gives up.
func (rc *rawClient) warm(ctx context.Context, env *runEnv) error {
	for app := range rc.tokens {
		var a answer
		for range warmAttempts {
			a = rc.do(ctx, http.MethodGet, "/users/"+env.warmUser+"?$select=id", app,
				env.scaled(clientTimeout))
			if a.ok() || ctx.Err() != nil {
				break
			}
		}
		if !a.ok() {
			return fmt.Errorf("warm up: status %d: %v", a.status, a.err)
		}
	}
	return nil
}

// warmAttempts bounds the tries of each warm-up read.
const warmAttempts = 5

// token runs the client-credentials grant against the tenant's token endpoint.
func (rc *rawClient) token(ctx context.Context, authority string, a appCred) (string, error) {
	form := url.Values{"client_id": {a.clientID}, "client_secret": {a.secret},
		"scope": {"https://graph.microsoft.com/.default"}, "grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authority+"/oauth2/v2.0/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := rc.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("token request: status %d, no access token", resp.StatusCode)
	}
	return body.AccessToken, nil
}

// answer is the outcome of one attempt: a status (0 when no response arrived) and headers.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// transient reports whether a naive client would try again: throttling, server errors and
// transport failures.
func (a answer) transient() bool {
	switch a.status {
	case 0, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// ambiguous reports whether the attempt may have taken effect although it failed.
func (a answer) ambiguous() bool {
	switch a.status {
	case 0, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// send makes one attempt of an operation, waiting at most timeout (real time) for the whole
// answer.
func (rc *rawClient) send(ctx context.Context, o op, timeout time.Duration) answer {
	path := "/users/" + o.id + "/revokeSignInSessions"
	if o.kind == retire {
		path = "/deviceManagement/managedDevices/" + o.id + "/retire"
	}
	return rc.do(ctx, http.MethodPost, path, o.app, timeout)
}

// readDevice reads a managed device's remote actions.
func (rc *rawClient) readDevice(ctx context.Context, id string, timeout time.Duration) answer {
	return rc.do(ctx, http.MethodGet,
		"/deviceManagement/managedDevices/"+id+"?$select=id,deviceActionResults", 0, timeout)
}

func (rc *rawClient) do(ctx context.Context, method, path string, app int,
	timeout time.Duration) answer {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, rc.graph+path, nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+rc.tokens[app])
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := rc.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{err: err, header: resp.Header}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// retireLanded reads a device after an ambiguous retire: gone (it checked in and left) or
// with a retire action means the retire took effect.
func (rc *rawClient) retireLanded(ctx context.Context, id string, timeout time.Duration) (bool, bool) {
	a := rc.readDevice(ctx, id, timeout)
	if a.status == http.StatusNotFound {
		return true, true
	}
	if !a.ok() {
		return false, false
	}
	var d struct {
		Actions []struct {
			Name string `json:"actionName"`
		} `json:"deviceActionResults"`
	}
	if json.Unmarshal(a.body, &d) != nil {
		return false, false
	}
	for _, act := range d.Actions {
		if act.Name == "retire" {
			return true, true
		}
	}
	return false, true
}

// retryAfter reads Retry-After as real time: seconds are already divided by the time scale
// on the wire; an HTTP-date lies that many simulated seconds after the response's Date.
func retryAfter(h http.Header, scale float64) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(secs) && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	at, err1 := http.ParseTime(v)
	date, err2 := http.ParseTime(h.Get("Date"))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(float64(at.Sub(date)) / scale), true
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
