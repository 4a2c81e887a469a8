package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// opKind is what one operation does.
type opKind int

const (
	revoke opKind = iota // POST /users/{id}/revokeSignInSessions
	retire               // POST /deviceManagement/managedDevices/{id}/retire
)

func (k opKind) String() string { return [...]string{"revoke", "retire"}[k] }

// op is one operation of a workload: its target and the app registration that sends it.
type op struct {
	kind opKind
	id   string
	app  int
}

// appCred is one app registration of the source tenant.
type appCred struct {
	name, clientID, secret string
}

// runEnv is what a contender gets: the simulator, the tenant and the apps. Contenders learn
// nothing else about the model, except the oracle, which is told the true refill.
type runEnv struct {
	spec     runSpec
	sim      *graphsim.Server
	model    graphsim.Model
	tenantID string
	apps     []appCred
	caFile   string
	// warmUser is a user every contender reads once per app registration before the clock
	// starts, to fetch its token and open its connection.
	warmUser string
}

// runner runs a prepared contender on the operations.
type runner func(ctx context.Context, ops []op) claim

// scaled converts a simulated duration into real time at the run's time scale.
func (e *runEnv) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / e.spec.Scale)
}

// claim is what a contender believes it achieved; the benchmark reports the true state
// beside it.
type claim struct {
	failed int
	notes  string
	stats  map[string]int64
}

// appNames are the app registrations of the merger preset with full permissions.
var appNames = []string{"cutover", "cutover-2", "cutover-3"}

// runOne starts a fresh simulator sized for the workload, runs one contender on it, and
// checks the true state.
func runOne(ctx context.Context, spec runSpec) (*result, error) {
	env, cleanup, err := startEnv(spec)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	users, devices, err := pickTargets(env, spec.Users, spec.Devices)
	if err != nil {
		return nil, err
	}
	ops := buildOps(users, devices, spec.Apps)
	runner, err := prepareContender(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", spec.Contender, err)
	}
	// The clock starts once the contender holds its tokens and connections: at a time
	// scale, a fixed real-time setup cost would otherwise count k times over.
	if err := env.sim.ResetBuckets(spec.StartLevel); err != nil {
		return nil, fmt.Errorf("reset buckets: %w", err)
	}
	meter := startMeter(env.sim)
	start, realStart := env.sim.Clock().Now(), time.Now()
	rctx, cancel := context.WithTimeout(ctx, runGuard)
	cl := runner(rctx, ops)
	cancel()
	end, realEnd := env.sim.Clock().Now(), time.Now()
	stats := meter.stop()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := readState(env, start)
	if err != nil {
		return nil, err
	}
	r := newResult(spec, ops, stats, st, cl)
	r.WallSeconds = end.Sub(start).Seconds()
	r.RealSeconds = realEnd.Sub(realStart).Seconds()
	r.TimedOut = rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	r.finish(env, ops, stats, start)
	return r, nil
}

// runGuard bounds one run in real time, so that a contender that never finishes cannot stall
// the whole benchmark; a run cut short says so in its result.
const runGuard = 10 * time.Minute

// startEnv starts a simulator for the spec and describes its source tenant.
func startEnv(spec runSpec) (*runEnv, func(), error) {
	model := variantModels[spec.Variant]()
	sim, err := graphsim.New(graphsim.Options{Preset: "merger", Users: seedUsers(spec),
		Seed: spec.Seed, TimeScale: spec.Scale, Model: model, RequestLogSize: 400_000})
	if err != nil {
		return nil, nil, fmt.Errorf("new simulator: %w", err)
	}
	if err := sim.Start(); err != nil {
		return nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	dir, err := os.MkdirTemp("", "graphbench-")
	if err != nil {
		sim.Close()
		return nil, nil, fmt.Errorf("make temporary directory: %w", err)
	}
	cleanup := func() {
		sim.Close()
		os.RemoveAll(dir)
	}
	env := &runEnv{spec: spec, sim: sim, model: model, caFile: filepath.Join(dir, "ca.pem")}
	if err := sim.WriteCA(env.caFile); err != nil {
		cleanup()
		return nil, nil, err
	}
	desc, err := sim.Describe("", env.caFile)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("describe simulator: %w", err)
	}
	if err := env.describeSource(desc); err != nil {
		cleanup()
		return nil, nil, err
	}
	return env, cleanup, nil
}

func (e *runEnv) describeSource(d *graphsim.Description) error {
	for _, t := range d.Tenants {
		if t.Role != "source" {
			continue
		}
		e.tenantID = t.ID
		for _, name := range appNames[:e.spec.Apps] {
			for _, a := range t.Apps {
				if a.Name == name {
					e.apps = append(e.apps, appCred{name: a.Name, clientID: a.ClientID,
						secret: a.ClientSecret})
				}
			}
		}
	}
	if e.tenantID == "" || len(e.apps) != e.spec.Apps {
		return fmt.Errorf("describe simulator: no source tenant with %d app registrations", e.spec.Apps)
	}
	return nil
}

// seedUsers sizes the merger preset: enough source users for the revokes and, at about 1.5
// devices each, for the retires.
func seedUsers(spec runSpec) int {
	return max(spec.Users, spec.Devices*10/14+100, 100)
}

// pickTargets reads the first n ordinary users and the first d managed devices of the
// source tenant from the inspection API, in the simulator's order, which is the same for
// every contender.
func pickTargets(env *runEnv, n, d int) (users, devices []string, err error) {
	var us struct {
		Value []struct {
			ID      string `json:"id"`
			IsAdmin bool   `json:"isAdmin"`
		} `json:"value"`
	}
	if err := env.inspect("users", &us); err != nil {
		return nil, nil, err
	}
	for _, u := range us.Value {
		if !u.IsAdmin && env.warmUser == "" {
			env.warmUser = u.ID
		}
		if len(users) < n && !u.IsAdmin {
			users = append(users, u.ID)
		}
	}
	var ds struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := env.inspect("managedDevices", &ds); err != nil {
		return nil, nil, err
	}
	for _, dv := range ds.Value {
		if len(devices) < d {
			devices = append(devices, dv.ID)
		}
	}
	if len(users) < n || len(devices) < d {
		return nil, nil, fmt.Errorf("pick targets: the tenant has %d users and %d devices, want %d and %d",
			len(users), len(devices), n, d)
	}
	return users, devices, nil
}

// inspect reads one collection of the source tenant from the simulator's inspection API.
func (e *runEnv) inspect(collection string, v any) error {
	resp, err := e.sim.HTTPClient().Get(e.sim.URL() + "/_sim/tenants/" + e.tenantID + "/" + collection)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", collection, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("inspect %s: status %d", collection, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("inspect %s: %w", collection, err)
	}
	return nil
}

// buildOps interleaves revokes and retires in proportion, so that a single queue feeds both
// services evenly, and deals users to app registrations in turn.
func buildOps(users, devices []string, apps int) []op {
	ops := make([]op, 0, len(users)+len(devices))
	i, j := 0, 0
	for i < len(users) || j < len(devices) {
		// Take a revoke while revokes are behind their share.
		if j >= len(devices) || (i < len(users) && i*len(devices) <= j*len(users)) {
			ops = append(ops, op{kind: revoke, id: users[i], app: i % apps})
			i++
			continue
		}
		ops = append(ops, op{kind: retire, id: devices[j]})
		j++
	}
	return ops
}

// trueState is what the simulator says happened to every target.
type trueState struct {
	revoked map[string]bool // users whose sessions were revoked after the run started
	retired map[string]bool // devices with a retire issued after the run started
}

// readState reads every source user and managed device (including those that already
// checked in and left) from the inspection API.
func readState(env *runEnv, start time.Time) (*trueState, error) {
	st := &trueState{revoked: map[string]bool{}, retired: map[string]bool{}}
	since := start.Truncate(time.Second)
	var us struct {
		Value []struct {
			ID        string     `json:"id"`
			ValidFrom *time.Time `json:"signInSessionsValidFromDateTime"`
		} `json:"value"`
	}
	if err := env.inspect("users", &us); err != nil {
		return nil, err
	}
	for _, u := range us.Value {
		if u.ValidFrom != nil && !u.ValidFrom.Before(since) {
			st.revoked[u.ID] = true
		}
	}
	for _, coll := range []string{"managedDevices", "releasedManagedDevices"} {
		var ds struct {
			Value []struct {
				ID      string `json:"id"`
				Actions []struct {
					Name  string     `json:"actionName"`
					Start *time.Time `json:"startDateTime"`
				} `json:"deviceActionResults"`
			} `json:"value"`
		}
		if err := env.inspect(coll, &ds); err != nil {
			return nil, err
		}
		for _, d := range ds.Value {
			for _, a := range d.Actions {
				if a.Name == "retire" && a.Start != nil && !a.Start.Before(since) {
					st.retired[d.ID] = true
				}
			}
		}
	}
	return st, nil
}

// prepareContender builds the contender of the run: clients, tokens and connections.
func prepareContender(ctx context.Context, env *runEnv) (runner, error) {
	if env.spec.Contender == cCutover || env.spec.Contender == cCutoverBatch {
		return prepareCutover(ctx, env, env.spec.Contender == cCutoverBatch)
	}
	rc, err := newRawClient(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := rc.warm(ctx, env); err != nil {
		return nil, err
	}
	run := func(ctx context.Context, ops []op) claim {
		defer rc.close()
		switch env.spec.Contender {
		case cSequential:
			return runSequential(ctx, env, rc, ops)
		case cUnbounded:
			return runUnbounded(ctx, env, rc, ops, 50)
		case cUnboundedOnce:
			return runUnbounded(ctx, env, rc, ops, 1)
		case cSDK:
			return runSDK(ctx, env, rc, ops)
		case cOracle:
			return runOracle(ctx, env, rc, ops)
		}
		return claim{failed: len(ops), notes: "unknown contender"}
	}
	return run, nil
}
