// Command graphbench measures how close Graph clients come to the ideal time of a bulk job
// (PERFORMANCE.md section 1) against the simulator's throttling, fault and latency model
// (PERFORMANCE.md section 2). Every run starts a fresh simulator, runs one contender on one
// workload at a time scale, and then reads the simulator's true state to count lost and
// duplicated operations. docs/benchmarks.md records its results.
//
//	go run ./bench/graphbench -json docs/bench/graphbench.json
//	go run ./bench/graphbench -tables docs/bench/graphbench.json
//
// The second form runs nothing: it prints the tables of saved JSON reports again, merging
// several (for example one per seed) when given a comma-separated list.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	users, devices       int // W1, W3 and W5 sizes
	seqUsers, seqDevices int // the sequential loop's smaller sizes
	multiUsers           int // W1 over three app registrations
	scale, checkScale    float64
	seeds                []uint64 // the first is the seed of the detailed tables
	workloads            []string
	variants             []string
	contenders           []string
	jsonPath             string
	tablesPath           string // print the tables of these saved reports (comma-separated), run nothing
	command              string // how the command was invoked, for the JSON report
	progress             io.Writer
}

// run parses the flags, runs the plan and prints the tables. Exit codes: 0 done, 1 a run
// failed to start or finish, 2 bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	opts.progress = stderr
	if opts.tablesPath != "" {
		rep, err := readReports(splitList(opts.tablesPath))
		if err != nil {
			fmt.Fprintln(stderr, "graphbench:", err)
			return 1
		}
		writeTables(stdout, rep)
		return 0
	}
	opts.command = strings.Join(append([]string{"go run ./bench/graphbench"}, args...), " ")
	rep, err := runPlan(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "graphbench:", err)
		return 1
	}
	writeTables(stdout, rep)
	if opts.jsonPath != "" {
		if err := writeJSON(opts.jsonPath, rep); err != nil {
			fmt.Fprintln(stderr, "graphbench:", err)
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("graphbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var workloads, variants, contenders, seeds string
	fs.IntVar(&o.users, "users", 12_000, "users revoked in W1 and W5")
	fs.IntVar(&o.devices, "devices", 8_000, "devices retired in W3 and W5")
	fs.IntVar(&o.seqUsers, "seq-users", 600, "users for the sequential loop (it is latency-bound)")
	fs.IntVar(&o.seqDevices, "seq-devices", 400, "devices for the sequential loop")
	fs.IntVar(&o.multiUsers, "multi-users", 30_000, "users revoked over three app registrations (W1x3)")
	fs.Float64Var(&o.scale, "scale", 50, "time scale k: simulated time runs k times faster")
	fs.Float64Var(&o.checkScale, "check-scale", 25, "second time scale for the fidelity check on W1 (0 skips it)")
	fs.StringVar(&seeds, "seeds", "1", "simulator seeds: the whole plan runs once per seed")
	fs.StringVar(&workloads, "workloads", "W1,W3,W5,W1x3", "workloads to run")
	fs.StringVar(&variants, "variants", "default,ceiling,noise", "model variants to run")
	fs.StringVar(&contenders, "contenders", strings.Join(contenderNames, ","), "contenders to run")
	fs.StringVar(&o.jsonPath, "json", "", "write the raw results as JSON to this file")
	fs.StringVar(&o.tablesPath, "tables", "", "print the tables of saved JSON reports (comma-separated, merged) and run nothing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.workloads = splitList(workloads)
	o.variants = splitList(variants)
	o.contenders = splitList(contenders)
	for _, f := range splitList(seeds) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "graphbench: -seeds: %q is not a seed (use whole numbers: -seeds 1,2,3)\n", f)
			return o, err
		}
		o.seeds = append(o.seeds, n)
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "graphbench:", err)
		return o, err
	}
	return o, nil
}

func (o options) validate() error {
	if len(o.seeds) == 0 {
		return fmt.Errorf("-seeds needs at least one seed")
	}
	if o.scale <= 0 || o.checkScale < 0 {
		return fmt.Errorf("time scales must be positive")
	}
	for _, w := range o.workloads {
		if _, ok := workloadKinds[w]; !ok {
			return fmt.Errorf("unknown workload %q (use W1, W3, W5, W1x3)", w)
		}
	}
	for _, v := range o.variants {
		if _, ok := variantModels[v]; !ok {
			return fmt.Errorf("unknown variant %q (use default, ceiling, noise)", v)
		}
	}
	for _, c := range o.contenders {
		if !isContender(c) {
			return fmt.Errorf("unknown contender %q (use %s)", c, strings.Join(contenderNames, ", "))
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// progressf reports progress on the error stream, with the wall clock.
func (o options) progressf(format string, a ...any) {
	if o.progress != nil {
		fmt.Fprintf(o.progress, time.Now().Format("15:04:05 ")+format+"\n", a...)
	}
}
