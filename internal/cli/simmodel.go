package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// addModelFlags registers the throttling, fault and latency knobs of `cutover sim`
// (docs/simulator-model.md). Their defaults are graphsim.DefaultModel, the benchmark model
// of PERFORMANCE.md 2.1.
func addModelFlags(f *pflag.FlagSet, o *simOptions) {
	d := graphsim.DefaultModel()
	m := &o.model
	m.IntuneMissingRetryAfter, m.Latency.LoadFactor = new(0.5), new(4.0)
	f.StringVar(&o.modelFile, "model", "",
		"JSON file of model knobs (flags given on the command line win)")
	f.BoolVar(&m.Unthrottled, "unthrottled", false, "never refuse a request for load")
	f.StringVar(&m.SizeClass, "size-class", "",
		"tenant size class S, M or L for the RU budget (default: each tenant's own, L)")
	f.StringVar(&m.StartLevel, "start-level", "full",
		"bucket level at start: full, drained or a fraction such as 0.5")
	f.Float64Var(&m.CeilingFactor, "ceiling-factor", 1,
		"hidden multiplier on every refill (the field saw 0.9 and 0.55)")
	f.Float64Var(&m.CeilingDrift.Amplitude, "ceiling-drift", 0,
		"amplitude of a sine drift of the ceiling factor, 0 to below 1")
	f.Var(durationValue{(*time.Duration)(&m.CeilingDrift.Period)}, "ceiling-drift-period",
		"period of the ceiling drift (default 24h)")
	f.Float64Var(&m.ThrottledCost, "throttled-cost", 0,
		"share of its cost a refused request is still charged, 0 to 1")
	f.StringVar(&m.RetryAfter, "retry-after", "time-to-tokens",
		"Retry-After rule: time-to-tokens, window or fixed:N")
	f.StringVar(&m.RetryAfterFormat, "retry-after-format", "decimal",
		"Retry-After form: decimal, integer, http-date or mix")
	f.Float64Var(m.IntuneMissingRetryAfter, "intune-missing-retry-after", 0.5,
		"probability that an Intune 429 has no Retry-After")
	f.BoolVar(&m.EarlyRetryPenalty, "early-retry-penalty", false,
		"refuse retries before the announced time and restart the wait")
	f.Float64Var(&m.BackgroundLoad, "background-load", 0,
		"share of the Entra tenant write bucket used by another application")
	f.Float64Var(&m.BackgroundIntuneLoad, "background-intune-load", 0,
		"share of the Intune tenant buckets used by another application")
	f.BoolVar(&m.LimitPercentageHeader, "limit-percentage-header", false,
		"send x-ms-throttle-limit-percentage above 0.8 of a limit")
	f.BoolVar(&m.BatchEnvelopeGlobal, "batch-envelope-global", false,
		"charge each $batch envelope one request on the global bucket")
	f.IntVar(&m.OutlookConcurrency, "outlook-concurrency", 4,
		"requests one app may have in flight per mailbox")
	f.Float64Var(&m.Faults.Rate, "fault-rate", d.Faults.Rate,
		"probability of a fault independent of load (0 turns faults off)")
	f.StringVar(&o.faultWeights, "fault-weights", "",
		"relative weights of fault kinds, such as 429=1,503=2,reset=1 (default all equal)")
	f.Var(durationValue{(*time.Duration)(&m.Faults.HangCap)}, "hang-cap",
		"longest a hanging request is held (default 10m)")
	f.BoolVar(&m.Latency.Enabled, "latency", d.Latency.Enabled, "delay responses by the latency model")
	f.Var(durationValue{(*time.Duration)(&m.Latency.ReadMedian)}, "read-latency",
		"median read latency (default 200ms)")
	f.Var(durationValue{(*time.Duration)(&m.Latency.WriteMedian)}, "write-latency",
		"median write latency (default 350ms)")
	f.Float64Var(m.Latency.LoadFactor, "load-factor", 4, "latency × (1 + factor·u²) at bucket use u")
}

// modelFlags copies each model flag's value (from s) into a model (d).
var modelFlags = map[string]func(d, s *graphsim.Model){
	"unthrottled":    func(d, s *graphsim.Model) { d.Unthrottled = s.Unthrottled },
	"size-class":     func(d, s *graphsim.Model) { d.SizeClass = s.SizeClass },
	"start-level":    func(d, s *graphsim.Model) { d.StartLevel = s.StartLevel },
	"ceiling-factor": func(d, s *graphsim.Model) { d.CeilingFactor = s.CeilingFactor },
	"ceiling-drift":  func(d, s *graphsim.Model) { d.CeilingDrift.Amplitude = s.CeilingDrift.Amplitude },
	"ceiling-drift-period": func(d, s *graphsim.Model) {
		d.CeilingDrift.Period = s.CeilingDrift.Period
	},
	"throttled-cost":     func(d, s *graphsim.Model) { d.ThrottledCost = s.ThrottledCost },
	"retry-after":        func(d, s *graphsim.Model) { d.RetryAfter = s.RetryAfter },
	"retry-after-format": func(d, s *graphsim.Model) { d.RetryAfterFormat = s.RetryAfterFormat },
	"intune-missing-retry-after": func(d, s *graphsim.Model) {
		d.IntuneMissingRetryAfter = new(*s.IntuneMissingRetryAfter)
	},
	"early-retry-penalty": func(d, s *graphsim.Model) { d.EarlyRetryPenalty = s.EarlyRetryPenalty },
	"background-load":     func(d, s *graphsim.Model) { d.BackgroundLoad = s.BackgroundLoad },
	"background-intune-load": func(d, s *graphsim.Model) {
		d.BackgroundIntuneLoad = s.BackgroundIntuneLoad
	},
	"limit-percentage-header": func(d, s *graphsim.Model) {
		d.LimitPercentageHeader = s.LimitPercentageHeader
	},
	"batch-envelope-global": func(d, s *graphsim.Model) { d.BatchEnvelopeGlobal = s.BatchEnvelopeGlobal },
	"outlook-concurrency":   func(d, s *graphsim.Model) { d.OutlookConcurrency = s.OutlookConcurrency },
	"fault-rate":            func(d, s *graphsim.Model) { d.Faults.Rate = s.Faults.Rate },
	"hang-cap":              func(d, s *graphsim.Model) { d.Faults.HangCap = s.Faults.HangCap },
	"latency":               func(d, s *graphsim.Model) { d.Latency.Enabled = s.Latency.Enabled },
	"read-latency":          func(d, s *graphsim.Model) { d.Latency.ReadMedian = s.Latency.ReadMedian },
	"write-latency":         func(d, s *graphsim.Model) { d.Latency.WriteMedian = s.Latency.WriteMedian },
	"load-factor": func(d, s *graphsim.Model) {
		d.Latency.LoadFactor = new(*s.Latency.LoadFactor)
	},
}

// simModel builds the model: the benchmark defaults, then the --model file, then every
// model flag given on the command line.
func simModel(cmd *cobra.Command, o simOptions) (graphsim.Model, error) {
	m := graphsim.DefaultModel()
	if o.modelFile != "" {
		var err error
		if m, err = graphsim.LoadModel(o.modelFile, m); err != nil {
			return m, usageError{err}
		}
	}
	var ferr error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if set := modelFlags[fl.Name]; set != nil {
			set(&m, &o.model)
		}
		if fl.Name == "fault-weights" {
			w, err := graphsim.ParseFaultWeights(o.faultWeights)
			if err != nil {
				ferr = err
			}
			m.Faults.Weights = w
		}
	})
	if ferr != nil {
		return m, usageError{fmt.Errorf("--fault-weights: %w", ferr)}
	}
	if err := m.Validate(); err != nil {
		return m, usageError{fmt.Errorf("throttling model: %w", err)}
	}
	return m, nil
}

// describeModel is the one-line summary printed at start.
func describeModel(m graphsim.Model) string {
	if m.Unthrottled {
		return "off (--unthrottled)"
	}
	parts := []string{"published limits"}
	if m.SizeClass != "" {
		parts[0] += " (size class " + m.SizeClass + ")"
	}
	if m.CeilingFactor != 0 && m.CeilingFactor != 1 {
		parts = append(parts, fmt.Sprintf("ceiling × %g", m.CeilingFactor))
	}
	if m.RetryAfter != "" {
		parts = append(parts, "Retry-After "+m.RetryAfter)
	}
	parts = append(parts, fmt.Sprintf("faults %g%%", m.Faults.Rate*100))
	if m.Latency.Enabled {
		parts = append(parts, "latency on")
	} else {
		parts = append(parts, "latency off")
	}
	return strings.Join(parts, ", ") + " (GET /_sim/buckets)"
}

// durationValue is a time.Duration flag whose zero value means "the model's default".
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("must not be negative")
	}
	*v.d = d
	return nil
}

func (v durationValue) Type() string { return "duration" }
