// Command syncbench measures `cutover sync`: how long reading both tenants of a large merger
// preset into a new store takes, and how much memory the sync needs. docs/benchmarks.md
// records its results.
//
//	go run ./bench/syncbench -users 100000 -devices-per-user 1.5
//
// The simulator runs in a child process (this program re-executed with -serve), so that the
// peak RSS and heap figures are the sync's alone: the seeded simulator holds some 340 MiB
// of its own. -in-process runs it inside this process instead.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cutoverhq/cutover/bench/internal/procinfo"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/graphsim"
	"github.com/cutoverhq/cutover/internal/inventory"
	"github.com/cutoverhq/cutover/internal/store"
)

type flags struct {
	users      int
	perUser    float64
	seed       uint64
	timeScale  float64
	apps       int
	serve      bool
	inProcess  bool
	cpuProfile string
	again      bool
	quiet      bool
}

func main() {
	var f flags
	flag.IntVar(&f.users, "users", 100_000, "source users to seed")
	flag.Float64Var(&f.perUser, "devices-per-user", 1.5, "mean Intune devices per source user")
	flag.Uint64Var(&f.seed, "seed", 1, "seed")
	flag.Float64Var(&f.timeScale, "time-scale", 1, "simulator time scale")
	flag.IntVar(&f.apps, "report-apps", 1, "app registrations per tenant reading the registration report (1-3)")
	flag.BoolVar(&f.serve, "serve", false, "internal: run the simulator and print its description")
	flag.BoolVar(&f.inProcess, "in-process", false, "run the simulator inside this process")
	flag.BoolVar(&f.quiet, "no-latency", false, "turn the simulator's latency and noise faults off "+
		"(the Go test default) instead of using cutover sim's default model")
	flag.BoolVar(&f.again, "again", false, "sync a second time (users through delta) and report it too")
	flag.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if f.serve {
		err = serve(f)
	} else {
		err = run(ctx, f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

// serve seeds and starts the simulator, prints its description as one JSON line and runs
// until standard input closes.
func serve(f flags) error {
	desc, closeSim, err := startSim(f, os.TempDir())
	if err != nil {
		return err
	}
	defer closeSim()
	if err := json.NewEncoder(os.Stdout).Encode(desc); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

func startSim(f flags, dir string) (*graphsim.Description, func(), error) {
	// cutover sim's model: published limits, 0.1% noise faults, lognormal latency.
	model := graphsim.DefaultModel()
	if f.quiet {
		model = graphsim.Model{}
	}
	sim, err := graphsim.New(graphsim.Options{Preset: "merger", Users: f.users,
		DevicesPerUser: f.perUser, Seed: f.seed, TimeScale: f.timeScale, Model: model})
	if err != nil {
		return nil, nil, err
	}
	if err := sim.Start(); err != nil {
		return nil, nil, err
	}
	caFile := filepath.Join(dir, fmt.Sprintf("syncbench-ca-%d.pem", os.Getpid()))
	if err := sim.WriteCA(caFile); err != nil {
		sim.Close()
		return nil, nil, err
	}
	desc, err := sim.Describe("", caFile)
	if err != nil {
		sim.Close()
		return nil, nil, err
	}
	return desc, func() { sim.Close(); os.Remove(caFile) }, nil
}

// spawn runs this program with -serve and returns the simulator's description.
func spawn(f flags) (*graphsim.Description, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe, "-serve", fmt.Sprint("-users=", f.users),
		fmt.Sprint("-devices-per-user=", f.perUser), fmt.Sprint("-seed=", f.seed),
		fmt.Sprint("-time-scale=", f.timeScale), fmt.Sprint("-no-latency=", f.quiet))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stopChild := func() { stdin.Close(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		stopChild()
		return nil, nil, fmt.Errorf("read simulator description: %w", err)
	}
	var desc graphsim.Description
	if err := json.Unmarshal(line, &desc); err != nil {
		stopChild()
		return nil, nil, fmt.Errorf("decode simulator description: %w", err)
	}
	return &desc, stopChild, nil
}

func run(ctx context.Context, f flags) error {
	dir, err := os.MkdirTemp("", "syncbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	seedStart := time.Now()
	start := spawn
	if f.inProcess {
		start = func(f flags) (*graphsim.Description, func(), error) { return startSim(f, dir) }
	}
	desc, stopSim, err := start(f)
	if err != nil {
		return err
	}
	defer stopSim()
	fmt.Printf("preset merger, %d source users, %.1f devices per user, seed %d, time scale %g, "+
		"%d report apps, latency and faults %s\n", f.users, f.perUser, f.seed, f.timeScale, f.apps,
		map[bool]string{true: "off", false: "on"}[f.quiet])
	fmt.Printf("simulator ready in %.1f s (%s)\n", time.Since(seedStart).Seconds(),
		map[bool]string{true: "in process", false: "child process"}[f.inProcess])

	tenants, all, err := clients(desc, f)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "cutover.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	peakHeap := sampleHeap(ctx)
	began := time.Now()
	results, err := inventory.New(st).Sync(ctx, tenants, inventory.Options{})
	wall := time.Since(began)
	report(results, wall, peakHeap.Load(), st.Path())
	requests(all)
	if err != nil || !f.again {
		return err
	}

	fmt.Println("\nsecond sync (users through delta, the rest listed again)")
	began = time.Now()
	results, err = inventory.New(st).Sync(ctx, tenants, inventory.Options{})
	report(results, time.Since(began), peakHeap.Load(), st.Path())
	requests(all)
	return err
}

// requests prints the Graph clients' counters, summed: requests sent so far, 429s and
// retries.
func requests(all []*graph.Client) {
	var sum graph.Stats
	for _, c := range all {
		st := c.Stats()
		sum.Requests += st.Requests
		sum.Throttled += st.Throttled
		sum.Retries += st.Retries
	}
	fmt.Printf("graph requests     %d (429s %d, retries %d, counted from the start)\n",
		sum.Requests, sum.Throttled, sum.Retries)
}

// clients builds one client per tenant for the listings, and -report-apps clients per
// tenant for the registration report.
func clients(desc *graphsim.Description, f flags) ([]inventory.Tenant, []*graph.Client, error) {
	var out []inventory.Tenant
	var all []*graph.Client
	for _, tn := range desc.Tenants {
		t := inventory.Tenant{Role: tn.Role}
		for _, app := range tn.Apps {
			if !strings.HasPrefix(app.Name, "cutover") || app.Name == "cutover-readonly" {
				continue
			}
			secret := app.ClientSecret
			c, err := graph.New(graph.Config{Cloud: "custom", AuthorityHost: desc.AuthorityURL,
				GraphURL: desc.BaseURL, TenantID: tn.ID, ClientID: app.ClientID,
				Credential: graph.CredentialConfig{Kind: "secret", SecretEnv: "SIM_SECRET"},
				Getenv:     func(string) string { return secret }, CAFile: desc.CAFile,
				TimeScale: f.timeScale})
			if err != nil {
				return nil, nil, err
			}
			all = append(all, c)
			if t.Graph == nil {
				t.Graph = c
			}
			if len(t.Reports) < f.apps {
				t.Reports = append(t.Reports, c)
			}
		}
		out = append(out, t)
	}
	return out, all, nil
}

// sampleHeap records the largest heap in use, sampled every 50 ms until ctx ends.
func sampleHeap(ctx context.Context) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

func report(results []inventory.Result, wall time.Duration, peakHeap uint64, dbPath string) {
	fmt.Printf("%-7s %-21s %5s %8s %6s %8s\n", "tenant", "resource", "mode", "rows", "pages", "time")
	total := 0
	for _, r := range results {
		status := fmt.Sprintf("%7.1f s", r.Duration.Seconds())
		if r.Err != nil {
			status = "error: " + r.Err.Error()
		}
		fmt.Printf("%-7s %-21s %5s %8d %6d %s\n", r.Tenant, r.Resource, r.Mode, r.Count, r.Pages,
			status)
		total += r.Count
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(dbPath + suffix); err == nil {
			size += fi.Size()
		}
	}
	fmt.Printf("rows               %d\n", total)
	fmt.Printf("wall time          %.1f s\n", wall.Seconds())
	fmt.Printf("rows per second    %.0f\n", float64(total)/wall.Seconds())
	fmt.Printf("store size         %.0f MiB\n", float64(size)/(1<<20))
	fmt.Printf("peak heap in use   %.0f MiB\n", float64(peakHeap)/(1<<20))
	fmt.Printf("live heap after GC %.0f MiB\n", float64(ms.HeapAlloc)/(1<<20))
	fmt.Printf("peak RSS           %s\n", procinfo.PeakRSS())
}
