package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutoverhq/cutover/internal/graph"
)

// prepareCutover builds cutover's Graph clients (internal/graph) with their default limits
// and reads one user with each, which fetches its token and opens its connection. The
// workload then runs as the engine would run it: one lane per service and app registration
// (Entra revokes, Intune retires), each with as many workers as the client allows in
// flight, and the clients of several app registrations sharing one pacer so that they share
// the tenant's buckets. An ambiguous retire is never resent blindly: the device is read first.
func prepareCutover(ctx context.Context, env *runEnv, batch bool) (runner, error) {
	clients, closeClients, err := cutoverClients(env)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		if _, err := c.GetUser(ctx, env.warmUser, "id"); err != nil {
			return nil, fmt.Errorf("warm up: %w", err)
		}
	}
	return func(ctx context.Context, ops []op) claim {
		defer closeClients()
		return runCutover(ctx, clients, ops, batch)
	}, nil
}

func runCutover(ctx context.Context, clients []*graph.Client, ops []op, batch bool) claim {
	var failed atomic.Int64
	var wg sync.WaitGroup
	for _, lane := range lanes(ops) {
		c := clients[lane[0].app]
		wg.Go(func() {
			var n int
			if batch {
				n = batchLane(ctx, c, lane)
			} else {
				n = singleLane(ctx, c, lane)
			}
			failed.Add(int64(n))
		})
	}
	wg.Wait()
	return claim{failed: int(failed.Load()), stats: cutoverStats(clients)}
}

// cutoverClients builds one client per app registration, configured as a user would: the
// simulator is a custom cloud, the secret comes from an environment variable (here a
// function) and the time scale from configuration. The HTTP client is the one Config builds
// from a CA file (DefaultTransport, 64 idle connections per host, 2 min for response
// headers, the CA trusted), made here so that the run can close its connections.
func cutoverClients(env *runEnv) ([]*graph.Client, func(), error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.TLSClientConfig = env.sim.TLSClientConfig()
	hc := &http.Client{Transport: t}
	pacer := graph.NewPacer(nil)
	var out []*graph.Client
	for _, a := range env.apps {
		secret := a.secret
		c, err := graph.New(graph.Config{Cloud: graph.CloudCustom,
			AuthorityHost: env.sim.AuthorityURL(), GraphURL: env.sim.GraphURL(),
			TenantID: env.tenantID, ClientID: a.clientID,
			Credential: graph.CredentialConfig{Kind: graph.CredentialSecret,
				SecretEnv: "GRAPHBENCH_CLIENT_SECRET"},
			Getenv:     func(string) string { return secret },
			HTTPClient: hc, TimeScale: env.spec.Scale, Pacer: pacer})
		if err != nil {
			return nil, nil, fmt.Errorf("client for %s: %w", a.name, err)
		}
		out = append(out, c)
	}
	return out, hc.CloseIdleConnections, nil
}

func cutoverStats(clients []*graph.Client) map[string]int64 {
	out := map[string]int64{}
	for _, c := range clients {
		s := c.Stats()
		out["requests"] += s.Requests
		out["throttled"] += s.Throttled
		out["retries"] += s.Retries
	}
	return out
}

// singleLane sends one request per operation from as many workers as the client allows in
// flight, and returns how many operations failed.
func singleLane(ctx context.Context, c *graph.Client, lane []op) int {
	var failed atomic.Int64
	pool(graph.DefaultLimits().MaxInFlight, lane, func(o op) {
		if err := singleOne(ctx, c, o); err != nil {
			failed.Add(1)
		}
	})
	return int(failed.Load())
}

func singleOne(ctx context.Context, c *graph.Client, o op) error {
	if o.kind == revoke {
		_, err := c.RevokeSignInSessions(ctx, o.id)
		return err
	}
	for round := 0; round < 5; round++ {
		_, err := c.RetireDevice(ctx, o.id)
		if err == nil || !graph.IsAmbiguous(err) {
			return err
		}
		if landed, rerr := retireLanded(ctx, c, o.id); rerr != nil || landed {
			return rerr
		}
	}
	return errors.New("retire stayed ambiguous")
}

// retireLanded reads a device after an ambiguous retire: gone (it checked in and left) or
// carrying a retire means the retire took effect.
func retireLanded(ctx context.Context, c *graph.Client, id string) (bool, error) {
	d, err := c.GetManagedDevice(ctx, id, "id", "deviceActionResults")
	if graph.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return d.Action("retire") != nil, nil
}

// batchLane sends the lane through $batch. Items that failed ambiguously are read and, when
// they did not land, sent again in a further round.
func batchLane(ctx context.Context, c *graph.Client, lane []op) int {
	failed := 0
	for round := 0; round < 5 && len(lane) > 0; round++ {
		items := make([]graph.BatchItem, len(lane))
		for i, o := range lane {
			items[i] = graph.BatchItem{Request: graph.RevokeSignInSessionsRequest(o.id)}
			if o.kind == retire {
				items[i].Request = graph.RetireDeviceRequest(o.id)
			}
		}
		var mu sync.Mutex
		var again []op
		c.BatchFunc(ctx, items, func(i int, r graph.BatchResult) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Err == nil:
			case lane[i].kind == retire && graph.IsAmbiguous(r.Err):
				again = append(again, lane[i])
			default:
				failed++
			}
		})
		lane = unlanded(ctx, c, again, &failed)
	}
	return failed + len(lane)
}

// unlanded reads the devices of ambiguous retires and returns those to send again.
func unlanded(ctx context.Context, c *graph.Client, ops []op, failed *int) []op {
	var mu sync.Mutex
	var out []op
	pool(16, ops, func(o op) {
		landed, err := retireLanded(ctx, c, o.id)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			*failed++
		case !landed:
			out = append(out, o)
		}
	})
	return out
}
