package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// result is one run's measurements. Times are simulated seconds (real time × scale).
type result struct {
	runSpec
	Ops int `json:"operations"`

	WallSeconds float64 `json:"wallSeconds"`
	RealSeconds float64 `json:"realSeconds"`
	// IdealSeconds is PERFORMANCE.md 1.1 with the effective refill and every bucket starting
	// full; IdealDrainedSeconds the same from drained buckets. Binding names the bucket.
	IdealSeconds        float64 `json:"idealSeconds"`
	IdealDrainedSeconds float64 `json:"idealDrainedSeconds"`
	Binding             string  `json:"bindingBucket"`
	// Efficiency is IdealSeconds / WallSeconds (0 when the ideal is 0: the workload fits in
	// the burst and only latency is left).
	Efficiency   float64 `json:"efficiency"`
	OpsPerSecond float64 `json:"operationsPerSecond"`

	// From the simulator's true state after the run.
	Completed   int `json:"completed"`
	Lost        int `json:"lost"`
	LostRevokes int `json:"lostRevokes"`
	LostRetires int `json:"lostRetires"`
	// DuplicateRetires counts devices that accepted a retire more than once (the simulator
	// ignores a retire while one is pending; Graph's behaviour there is not documented).
	// RepeatedRevokes counts users revoked more than once, which is harmless.
	DuplicateRetires int `json:"duplicateRetires"`
	RepeatedRevokes  int `json:"repeatedRevokes"`

	// From the simulator's request log.
	Requests         int            `json:"requests"`
	Envelopes        int            `json:"batchEnvelopes"`
	Reads            int            `json:"reads"`
	Throttled        int            `json:"throttled"`
	ThrottledShare   float64        `json:"throttledShare"`
	ThrottledByScope map[string]int `json:"throttledByScope,omitempty"`
	Faults           int            `json:"faults"`
	Wasted           int            `json:"wasted"`
	MaxInFlight      int            `json:"maxInFlight"`
	LatencyP50       float64        `json:"serverLatencyP50Ms"`
	LatencyP95       float64        `json:"serverLatencyP95Ms"`
	LatencyP99       float64        `json:"serverLatencyP99Ms"`
	// SustainedRevokes is revokes per simulated second over the middle half of the run, once
	// the bursts are spent and before the first lane runs dry: the rate the limits allow.
	SustainedRevokes float64 `json:"sustainedRevokesPerSecond"`
	// PostBurstRevokes is what the run achieved beyond the free bursts: (revokes − the
	// bursts of the per-app write buckets the revokes fell on) / time, per simulated second.
	// From drained buckets there is no burst to take off.
	PostBurstRevokes float64 `json:"postBurstRevokesPerSecond"`
	LogMissed        int     `json:"logEntriesMissed"`

	// What the contender believed.
	ClientFailed int              `json:"clientReportedFailed"`
	ClientNotes  string           `json:"clientNotes,omitempty"`
	ClientStats  map[string]int64 `json:"clientStats,omitempty"`

	TimedOut bool     `json:"timedOut,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func newResult(spec runSpec, ops []op, ls logStats, st *trueState, cl claim) *result {
	r := &result{runSpec: spec, Ops: len(ops), Requests: ls.requests, Envelopes: ls.envelopes,
		Reads: ls.reads, Throttled: ls.throttled, ThrottledByScope: ls.byScope, Faults: ls.faults,
		MaxInFlight: ls.maxInFlight, LogMissed: ls.missed, ClientFailed: cl.failed,
		ClientNotes: cl.notes, ClientStats: cl.stats}
	for _, o := range ops {
		done := (o.kind == revoke && st.revoked[o.id]) || (o.kind == retire && st.retired[o.id])
		switch {
		case !done && o.kind == revoke:
			r.LostRevokes++
		case !done:
			r.LostRetires++
		}
		if n := ls.effects[o.kind.String()+"/"+o.id]; n > 1 && o.kind == retire {
			r.DuplicateRetires++
		} else if n > 1 {
			r.RepeatedRevokes++
		}
	}
	r.Lost = r.LostRevokes + r.LostRetires
	r.Completed = r.Ops - r.Lost
	r.Wasted = r.Requests - r.Completed
	if r.Requests > 0 {
		r.ThrottledShare = float64(r.Throttled) / float64(r.Requests)
	}
	r.LatencyP50 = percentile(ls.latencyMS, 50)
	r.LatencyP95 = percentile(ls.latencyMS, 95)
	r.LatencyP99 = percentile(ls.latencyMS, 99)
	return r
}

// finish computes the ideal time and the figures derived from it, and checks the formula's
// assumptions against what the simulator did.
func (r *result) finish(env *runEnv, ops []op, ls logStats, start time.Time) {
	buckets := trueBuckets(env.sim, env.model)
	r.IdealSeconds, r.Binding = idealTime(ops, buckets, 1)
	r.IdealDrainedSeconds, _ = idealTime(ops, buckets, 0)
	if r.StartLevel == "drained" {
		r.IdealSeconds, r.Binding = idealTime(ops, buckets, 0)
	}
	if r.IdealSeconds > 0 && r.WallSeconds > 0 {
		r.Efficiency = r.IdealSeconds / r.WallSeconds
	}
	if r.WallSeconds > 0 {
		r.OpsPerSecond = float64(r.Completed) / r.WallSeconds
	}
	r.SustainedRevokes = sustainedRate(ls, start, r.WallSeconds)
	r.PostBurstRevokes = postBurstRate(r, ops, buckets)
	for kind, names := range ls.buckets {
		if !sameBuckets(kind, names) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s charged %v, formula assumes %v",
				kind, names, opBuckets[kind]))
		}
	}
	for _, s := range env.sim.Buckets().Buckets {
		b, ok := buckets[s.Name]
		if ok && math.Abs(s.RefillPerSecond-b.refill) > 0.005*b.refill+0.001 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s refills at %g/s, formula uses %g/s",
				s.Name, s.RefillPerSecond, b.refill))
		}
	}
	if ls.missed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d log entries dropped before they were read", ls.missed))
	}
}

// sustainedRate is the rate at which revokes first took effect over the middle half of the
// run.
func sustainedRate(ls logStats, start time.Time, wall float64) float64 {
	if wall <= 0 {
		return 0
	}
	from := start.Add(time.Duration(wall / 4 * float64(time.Second)))
	to := start.Add(time.Duration(wall * 3 / 4 * float64(time.Second)))
	n := 0
	for key, t := range ls.firstEffect {
		if strings.HasPrefix(key, "revoke/") && !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return float64(n) / (wall / 2)
}

// postBurstRate is the rate of revokes beyond the bursts of the per-app write buckets.
func postBurstRate(r *result, ops []op, buckets map[string]trueBucket) float64 {
	if r.WallSeconds <= 0 || r.Lost > 0 {
		return 0
	}
	apps := map[int]bool{}
	n := 0
	for _, o := range ops {
		if o.kind == revoke {
			apps[o.app] = true
			n++
		}
	}
	burst := 0.0
	if r.StartLevel != "drained" {
		burst = float64(len(apps)) * buckets["entra-writes"].capacity
	}
	return math.Max(0, float64(n)-burst) / r.WallSeconds
}
