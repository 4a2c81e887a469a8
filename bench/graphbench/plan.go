package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// Workloads of PERFORMANCE.md 2.4 that this benchmark runs.
var workloadKinds = map[string]string{
	"W1":   "revoke sessions for N users",
	"W3":   "retire D Intune devices",
	"W5":   "W1 and W3 at the same time",
	"W1x3": "W1 spread over three app registrations (flagged: tenant write limit)",
}

// variantModels are the throttling models of the runs: the published limits with the
// benchmark's noise and latency (PERFORMANCE.md 2.1), a hidden ceiling with other writers on
// the tenant, and a noisy service.
var variantModels = map[string]func() graphsim.Model{
	"default": graphsim.DefaultModel,
	"ceiling": func() graphsim.Model {
		m := graphsim.DefaultModel()
		m.CeilingFactor = 0.6
		m.BackgroundLoad = 0.3
		return m
	},
	"noise": func() graphsim.Model {
		m := graphsim.DefaultModel()
		m.Faults.Rate = 0.02
		return m
	},
}

var variantTitles = map[string]string{
	"default": "published limits, noise 0.1%",
	"ceiling": "ceiling factor 0.6, 30% background load on tenant writes",
	"noise":   "published limits, noise faults 2%",
}

// Contender names, in table order.
const (
	cSequential    = "sequential"
	cUnbounded     = "unbounded-retry"
	cUnboundedOnce = "unbounded-no-retry"
	cSDK           = "sdk-default"
	cCutover       = "cutover"
	cCutoverBatch  = "cutover-batch"
	cOracle        = "oracle"
)

var contenderNames = []string{cSequential, cUnbounded, cUnboundedOnce, cSDK, cCutover,
	cCutoverBatch, cOracle}

func isContender(name string) bool { return slices.Contains(contenderNames, name) }

// runSpec is one run: a contender on a workload under a model at a time scale.
type runSpec struct {
	Workload  string  `json:"workload"`
	Variant   string  `json:"variant"`
	Contender string  `json:"contender"`
	Users     int     `json:"users"`
	Devices   int     `json:"devices"`
	Apps      int     `json:"apps"`
	Scale     float64 `json:"timeScale"`
	Seed      uint64  `json:"seed"`
	// StartLevel is how full the simulator's buckets are when the run starts: "" (full) or
	// "drained" (another job just used the budget).
	StartLevel string `json:"startLevel,omitempty"`
	// Reduced marks a run on a smaller workload than the table's (the sequential loop).
	Reduced bool `json:"reduced,omitempty"`
	// Check marks a run of the time-scale fidelity check.
	Check bool `json:"scaleCheck,omitempty"`
}

// report is everything one invocation measured.
type report struct {
	Command   string      `json:"command"`
	Started   time.Time   `json:"started"`
	Duration  float64     `json:"durationSeconds"`
	Machine   machineInfo `json:"machine"`
	Options   planOptions `json:"options"`
	Results   []*result   `json:"results"`
	Workloads []string    `json:"workloads"`
	Variants  []string    `json:"variants"`
}

// planOptions is the configuration the JSON records.
type planOptions struct {
	Users      int     `json:"users"`
	Devices    int     `json:"devices"`
	SeqUsers   int     `json:"sequentialUsers"`
	SeqDevices int     `json:"sequentialDevices"`
	MultiUsers int     `json:"multiAppUsers"`
	Scale      float64 `json:"timeScale"`
	CheckScale float64 `json:"checkTimeScale"`
	Seed       uint64  `json:"seed"` // the seed of the detailed tables
	// Seeds are every seed the report holds runs of, when there is more than one.
	Seeds []uint64 `json:"seeds,omitempty"`
}

// plan lists the runs in order, seed after seed: every workload under every variant with
// every contender, then W1 over three app registrations (from full and from drained
// buckets), then W1 again at the check scale (PERFORMANCE.md 2.3).
func plan(o options) []runSpec {
	var specs []runSpec
	for _, seed := range o.seeds {
		specs = append(specs, planSeed(o, seed)...)
	}
	return specs
}

// planSeed is the plan for one seed.
func planSeed(o options, seed uint64) []runSpec {
	var specs []runSpec
	for _, w := range o.workloads {
		if w == "W1x3" {
			continue
		}
		for _, v := range o.variants {
			for _, c := range o.contenders {
				specs = append(specs, o.spec(w, v, c, o.scale))
			}
		}
	}
	if slices.Contains(o.workloads, "W1x3") {
		for _, level := range []string{"", "drained"} {
			for _, c := range o.contenders {
				if c == cSequential {
					continue // it cannot come near one app's limit, let alone three
				}
				s := o.spec("W1x3", "default", c, o.scale)
				s.StartLevel = level
				specs = append(specs, s)
			}
		}
	}
	if o.checkScale > 0 && o.checkScale != o.scale && slices.Contains(o.workloads, "W1") {
		for _, c := range []string{cUnbounded, cSDK, cCutover, cCutoverBatch, cOracle} {
			if slices.Contains(o.contenders, c) {
				s := o.spec("W1", "default", c, o.checkScale)
				s.Check = true
				specs = append(specs, s)
			}
		}
	}
	for i := range specs {
		specs[i].Seed = seed
	}
	return specs
}

func (o options) spec(workload, variant, contender string, scale float64) runSpec {
	s := runSpec{Workload: workload, Variant: variant, Contender: contender, Scale: scale,
		Apps: 1}
	switch workload {
	case "W1":
		s.Users = o.users
	case "W3":
		s.Devices = o.devices
	case "W5":
		s.Users, s.Devices = o.users, o.devices
	case "W1x3":
		s.Users, s.Apps = o.multiUsers, 3
	}
	if contender == cSequential {
		s.Reduced = true
		s.Users = min(s.Users, o.seqUsers)
		s.Devices = min(s.Devices, o.seqDevices)
	}
	return s
}

// runPlan runs every spec in turn, each against its own fresh simulator.
func runPlan(ctx context.Context, o options) (*report, error) {
	rep := &report{Command: o.command, Started: time.Now().UTC(), Machine: machine(), Workloads: o.workloads,
		Variants: o.variants, Options: planOptions{Users: o.users, Devices: o.devices,
			SeqUsers: o.seqUsers, SeqDevices: o.seqDevices, MultiUsers: o.multiUsers,
			Scale: o.scale, CheckScale: o.checkScale, Seed: o.seeds[0]}}
	if len(o.seeds) > 1 {
		rep.Options.Seeds = o.seeds
	}
	specs := plan(o)
	for i, s := range specs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.progressf("run %d/%d: %s %s %s (k=%g, %d users, %d devices, %d apps%s)", i+1, len(specs),
			s.Workload, s.Variant, s.Contender, s.Scale, s.Users, s.Devices, s.Apps,
			map[string]string{"": "", "drained": ", drained"}[s.StartLevel])
		r, err := runOne(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", s.Workload, s.Variant, s.Contender, err)
		}
		o.progressf("  %.0f s simulated (%.1f s real), ideal %.0f s, E %.3f, lost %d, 429s %d, "+
			"max in flight %d", r.WallSeconds, r.RealSeconds, r.IdealSeconds, r.Efficiency, r.Lost,
			r.Throttled, r.MaxInFlight)
		rep.Results = append(rep.Results, r)
	}
	rep.Duration = time.Since(rep.Started).Seconds()
	return rep, nil
}
