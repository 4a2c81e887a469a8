package graphsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"
)

// Model holds the knobs of the throttling, fault and latency model (PERFORMANCE.md 2.1,
// GRAPH.md 12). Every duration in it is simulated time: at time scale k the simulator divides
// it by k on the wire (Retry-After, latency, hang cap) and multiplies every rate by k.
//
// The zero value is the published large-tenant model with latency and noise faults off, so
// that tests run fast and deterministically; DefaultModel is the benchmark model of
// PERFORMANCE.md (noise 0.1%, latency on), which `cutover sim` starts from.
// docs/simulator-model.md describes every knob for migration engineers.
type Model struct {
	// Unthrottled turns every bucket off: costs and headers are still computed and logged,
	// but no request is refused for load.
	Unthrottled bool `json:"unthrottled,omitempty"`
	// SizeClass is the tenant size class (S, M or L) that sets the resource-unit budget; empty
	// uses each tenant's own class (the presets make every tenant L).
	SizeClass string `json:"sizeClass,omitempty"`
	// StartLevel is how full every bucket is at start and after a reset: "full" (default),
	// "drained", or a fraction such as "0.25".
	StartLevel string `json:"startLevel,omitempty"`
	// CeilingFactor multiplies every refill: the true ceiling hidden behind the published one
	// (0 means 1; the field saw about 0.9 and 0.55).
	CeilingFactor float64 `json:"ceilingFactor,omitempty"`
	// CeilingDrift makes the ceiling move during a run.
	CeilingDrift Drift `json:"ceilingDrift,omitzero"`
	// ThrottledCost is the share of its cost a refused request is still charged, 0 to 1. At
	// 1 a bucket can go into debt down to minus its capacity.
	ThrottledCost float64 `json:"throttledCost,omitempty"`
	// RetryAfter is how the wait is announced: "time-to-tokens" (default, deficit divided by
	// the refill), "window" (the rest of the bucket's window, which stays closed until then)
	// or "fixed:N" (always N simulated seconds).
	RetryAfter string `json:"retryAfter,omitempty"`
	// RetryAfterFormat is "decimal" (default), "integer", "http-date" or "mix".
	RetryAfterFormat string `json:"retryAfterFormat,omitempty"`
	// IntuneMissingRetryAfter is the probability that an Intune 429 carries no Retry-After;
	// nil means 0.5.
	IntuneMissingRetryAfter *float64 `json:"intuneMissingRetryAfter,omitempty"`
	// EarlyRetryPenalty refuses a request from an application that comes back to a bucket
	// before the time it was told, and restarts its wait.
	EarlyRetryPenalty bool `json:"earlyRetryPenalty,omitempty"`
	// BackgroundLoad is the share of the Entra tenant write bucket another application
	// consumes continuously; BackgroundIntuneLoad the same for the Intune tenant buckets.
	BackgroundLoad       float64 `json:"backgroundLoad,omitempty"`
	BackgroundIntuneLoad float64 `json:"backgroundIntuneLoad,omitempty"`
	// LimitPercentageHeader sends x-ms-throttle-limit-percentage above 0.8 of a limit.
	LimitPercentageHeader bool `json:"limitPercentageHeader,omitempty"`
	// BatchEnvelopeGlobal charges a $batch envelope one request on the global bucket; its
	// items are always charged one by one.
	BatchEnvelopeGlobal bool `json:"batchEnvelopeGlobal,omitempty"`
	// OutlookConcurrency is the number of requests one application may have in flight
	// against one mailbox (0 means 4).
	OutlookConcurrency int `json:"outlookConcurrency,omitempty"`
	// Buckets overrides the default buckets by name (PERFORMANCE.md 2.2; see bucketDefs).
	Buckets map[string]BucketConfig `json:"buckets,omitempty"`
	// Faults injects failures independent of load.
	Faults FaultConfig `json:"faults,omitzero"`
	// Latency delays responses.
	Latency LatencyConfig `json:"latency,omitzero"`
}

// Drift moves the ceiling factor along a sine wave: factor × (1 + Amplitude·sin(2πt/Period
// + phase)), with the phase drawn from the seed. It reproduces a ceiling that differs from
// day to day without being told to the client.
type Drift struct {
	Amplitude float64  `json:"amplitude,omitempty"`
	Period    Duration `json:"period,omitempty"` // default 24h
}

// BucketConfig overrides one bucket. A zero field keeps the default.
type BucketConfig struct {
	// Capacity is the burst, the quota of one window.
	Capacity float64 `json:"capacity,omitempty"`
	// Window sets the refill to Capacity per Window.
	Window Duration `json:"window,omitempty"`
	// RefillPerSecond sets the refill directly (per simulated second); it wins over Window.
	RefillPerSecond float64 `json:"refillPerSecond,omitempty"`
	// StartLevel overrides the model's start level for this bucket.
	StartLevel string `json:"startLevel,omitempty"`
	// Disabled removes the bucket.
	Disabled bool `json:"disabled,omitempty"`
}

// FaultConfig injects failures at random, independent of load.
type FaultConfig struct {
	// Rate is the probability that a request meets a fault (0 turns faults off).
	Rate float64 `json:"rate,omitempty"`
	// Weights picks the kind: 429, 500, 503, 504, reset, hang, cut. Missing kinds weigh 0;
	// an empty map weighs every kind equally.
	Weights map[string]float64 `json:"weights,omitempty"`
	// HangCap bounds how long a hanging request is held when the client never gives up
	// (default 10m simulated); the connection is then dropped.
	HangCap Duration `json:"hangCap,omitempty"`
	// AfterEffect is the probability that a 504, reset or hang happens after the request
	// took effect, which is what makes them ambiguous for non-idempotent calls; nil means 0.5.
	AfterEffect *float64 `json:"afterEffect,omitempty"`
}

// LatencyConfig is the log-normal response-time model with load inflation.
type LatencyConfig struct {
	Enabled     bool     `json:"enabled,omitempty"`
	ReadMedian  Duration `json:"readMedian,omitempty"`  // default 200ms
	WriteMedian Duration `json:"writeMedian,omitempty"` // default 350ms
	// Sigma is the log-normal shape; 0.42 puts p95 at twice the median.
	Sigma float64 `json:"sigma,omitempty"`
	// LoadFactor inflates latency by (1 + LoadFactor·u²) where u is the use of the busiest
	// bucket over its last window; nil means 4, 0 turns inflation off.
	LoadFactor *float64 `json:"loadFactor,omitempty"`
}

// Fault kinds.
const (
	fault429   = "429"
	fault500   = "500"
	fault503   = "503"
	fault504   = "504"
	faultReset = "reset"
	faultHang  = "hang"
	faultCut   = "cut"
)

var faultKinds = []string{fault429, fault500, fault503, fault504, faultReset, faultHang, faultCut}

// Retry-After modes and formats.
const (
	modeTimeToTokens = "time-to-tokens"
	modeWindow       = "window"
	modeFixed        = "fixed"

	formatDecimal  = "decimal"
	formatInteger  = "integer"
	formatHTTPDate = "http-date"
	formatMix      = "mix"
)

// DefaultModel is the model of PERFORMANCE.md 2.1 for benchmarks and `cutover sim`: the
// published large-tenant limits, noise faults at 0.1% and latency on.
func DefaultModel() Model {
	return Model{
		Faults:  FaultConfig{Rate: 0.001},
		Latency: LatencyConfig{Enabled: true},
	}
}

// Duration is a time.Duration that reads and writes as a Go duration string ("150s") in
// configuration files; a bare number is taken as seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "2m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "150s", "2m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("read duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("read duration %s: want a string such as \"150s\" or seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// LoadModel reads a JSON model file over base: keys in the file replace base's values, the
// rest stay. Unknown keys are an error, so that a misspelt knob cannot pass unnoticed.
func LoadModel(path string, base Model) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("read model file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	m := base.clone()
	if err := dec.Decode(&m); err != nil {
		return base, fmt.Errorf("parse model file %s: %w", path, err)
	}
	if _, err := m.compile(); err != nil {
		return base, fmt.Errorf("model file %s: %w", path, err)
	}
	return m, nil
}

// clone copies a model deeply, so that decoding into the copy leaves the original alone.
func (m Model) clone() Model {
	c := m
	c.IntuneMissingRetryAfter = clonePtr(m.IntuneMissingRetryAfter)
	c.Faults.AfterEffect = clonePtr(m.Faults.AfterEffect)
	c.Latency.LoadFactor = clonePtr(m.Latency.LoadFactor)
	c.Buckets = maps.Clone(m.Buckets)
	c.Faults.Weights = maps.Clone(m.Faults.Weights)
	return c
}

func clonePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	return new(*p)
}

// settings is a Model checked and resolved into the values the simulator uses.
type settings struct {
	Model
	start         float64 // start level as a fraction of capacity
	retryMode     string
	fixedWait     time.Duration
	intuneMissing float64
	afterEffect   float64
	loadFactor    float64
	hangCap       time.Duration
	concurrency   int
	faultWeights  map[string]float64
	defs          []*bucketDef
}

// compile validates the model and fills in defaults.
func (m Model) compile() (*settings, error) {
	st := &settings{Model: m, intuneMissing: 0.5, afterEffect: 0.5, loadFactor: 4,
		hangCap: 10 * time.Minute, concurrency: 4}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	switch strings.ToUpper(m.SizeClass) {
	case "", "S", "M", "L":
		st.SizeClass = strings.ToUpper(m.SizeClass)
	default:
		bad("sizeClass must be S, M or L, not %q", m.SizeClass)
	}
	start, err := parseLevel(m.StartLevel)
	if err != nil {
		bad("startLevel: %w", err)
	}
	st.start = start
	if st.CeilingFactor == 0 {
		st.CeilingFactor = 1
	}
	if st.CeilingFactor < 0 {
		bad("ceilingFactor must be above 0, not %g", m.CeilingFactor)
	}
	if a := m.CeilingDrift.Amplitude; a < 0 || a >= 1 {
		bad("ceilingDrift.amplitude must be at least 0 and below 1, not %g", a)
	}
	if st.CeilingDrift.Period <= 0 {
		st.CeilingDrift.Period = Duration(24 * time.Hour)
	}
	if m.ThrottledCost < 0 || m.ThrottledCost > 1 {
		bad("throttledCost must be between 0 and 1, not %g", m.ThrottledCost)
	}
	st.retryMode, st.fixedWait, err = parseRetryMode(m.RetryAfter)
	if err != nil {
		bad("retryAfter: %w", err)
	}
	switch m.RetryAfterFormat {
	case "":
		st.RetryAfterFormat = formatDecimal
	case formatDecimal, formatInteger, formatHTTPDate, formatMix:
	default:
		bad("retryAfterFormat must be decimal, integer, http-date or mix, not %q", m.RetryAfterFormat)
	}
	if p := m.IntuneMissingRetryAfter; p != nil {
		if *p < 0 || *p > 1 {
			bad("intuneMissingRetryAfter must be between 0 and 1, not %g", *p)
		}
		st.intuneMissing = *p
	}
	for name, v := range map[string]float64{"backgroundLoad": m.BackgroundLoad,
		"backgroundIntuneLoad": m.BackgroundIntuneLoad} {
		if v < 0 || v >= 1 {
			bad("%s must be at least 0 and below 1, not %g", name, v)
		}
	}
	if m.OutlookConcurrency < 0 {
		bad("outlookConcurrency must not be negative, not %d", m.OutlookConcurrency)
	} else if m.OutlookConcurrency > 0 {
		st.concurrency = m.OutlookConcurrency
	}
	errs = append(errs, st.compileFaults()...)
	errs = append(errs, st.compileLatency()...)
	defs, derrs := compileBuckets(m.Buckets)
	st.defs = defs
	errs = append(errs, derrs...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *settings) compileFaults() []error {
	var errs []error
	f := st.Faults
	if f.Rate < 0 || f.Rate > 1 {
		errs = append(errs, fmt.Errorf("faults.rate must be between 0 and 1, not %g", f.Rate))
	}
	st.faultWeights = map[string]float64{}
	for _, k := range faultKinds {
		st.faultWeights[k] = 1
	}
	if len(f.Weights) > 0 {
		clear(st.faultWeights)
		for k, w := range f.Weights {
			if !isFaultKind(k) {
				errs = append(errs, fmt.Errorf("faults.weights: unknown kind %q (use %s)", k,
					strings.Join(faultKinds, ", ")))
			}
			if w < 0 {
				errs = append(errs, fmt.Errorf("faults.weights: %s must not be negative", k))
			}
			st.faultWeights[k] = w
		}
	}
	if f.HangCap > 0 {
		st.hangCap = time.Duration(f.HangCap)
	}
	if p := f.AfterEffect; p != nil {
		if *p < 0 || *p > 1 {
			errs = append(errs, fmt.Errorf("faults.afterEffect must be between 0 and 1, not %g", *p))
		}
		st.afterEffect = *p
	}
	return errs
}

func (st *settings) compileLatency() []error {
	l := &st.Latency
	if l.ReadMedian <= 0 {
		l.ReadMedian = Duration(200 * time.Millisecond)
	}
	if l.WriteMedian <= 0 {
		l.WriteMedian = Duration(350 * time.Millisecond)
	}
	if l.Sigma == 0 {
		l.Sigma = 0.42
	}
	var errs []error
	if l.Sigma < 0 {
		errs = append(errs, fmt.Errorf("latency.sigma must not be negative, not %g", l.Sigma))
	}
	if p := l.LoadFactor; p != nil {
		if *p < 0 {
			errs = append(errs, fmt.Errorf("latency.loadFactor must not be negative, not %g", *p))
		}
		st.loadFactor = *p
	}
	return errs
}

func isFaultKind(k string) bool {
	for _, f := range faultKinds {
		if f == k {
			return true
		}
	}
	return false
}

// parseLevel reads a start level: full, drained, or a fraction of capacity.
func parseLevel(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "", "full":
		return 1, nil
	case "drained", "empty":
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 1, fmt.Errorf("want full, drained or a fraction between 0 and 1, not %q", s)
	}
	return v, nil
}

// parseRetryMode reads time-to-tokens, window or fixed:N (N simulated seconds).
func parseRetryMode(s string) (string, time.Duration, error) {
	switch {
	case s == "" || s == modeTimeToTokens:
		return modeTimeToTokens, 0, nil
	case s == modeWindow:
		return modeWindow, 0, nil
	case strings.HasPrefix(s, modeFixed+":"):
		n, err := strconv.ParseFloat(strings.TrimPrefix(s, modeFixed+":"), 64)
		if err != nil || n <= 0 {
			return "", 0, fmt.Errorf("fixed wait must be a positive number of seconds, not %q", s)
		}
		return modeFixed, time.Duration(n * float64(time.Second)), nil
	}
	return "", 0, fmt.Errorf("want time-to-tokens, window or fixed:N, not %q", s)
}

// ParseFaultWeights reads "429=2,reset=1" into weights, for the command line.
func ParseFaultWeights(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		w, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("fault weight %q: want kind=weight such as 503=2", part)
		}
		if !isFaultKind(k) {
			return nil, fmt.Errorf("fault weight %q: unknown kind (use %s)", part, strings.Join(faultKinds, ", "))
		}
		out[k] = w
	}
	return out, nil
}

// Validate reports every invalid knob of the model.
func (m Model) Validate() error {
	_, err := m.compile()
	return err
}
