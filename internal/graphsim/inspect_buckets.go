package graphsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"time"
)

// BucketsReport is the state of the throttling model: GET /_sim/buckets.
type BucketsReport struct {
	Now       time.Time `json:"now"`
	TimeScale float64   `json:"timeScale"`
	// CeilingFactor is the current hidden ceiling factor, drift included.
	CeilingFactor float64 `json:"ceilingFactor"`
	// InFlight and MaxInFlight count Graph requests being served, now and at most since
	// start or the last reset.
	InFlight    int                `json:"inFlight"`
	MaxInFlight int                `json:"maxInFlight"`
	Definitions []BucketDefinition `json:"definitions"`
	Buckets     []BucketState      `json:"buckets"`
}

// BucketDefinition is one configured limit.
type BucketDefinition struct {
	Name     string  `json:"name"`
	Per      string  `json:"per"`
	Scope    string  `json:"scope"`
	Limit    string  `json:"limit"`
	Unit     string  `json:"unit"`
	Capacity float64 `json:"capacity"`
	Window   string  `json:"window"`
	// RefillPerSecond is the published refill per simulated second, before the ceiling
	// factor and background load.
	RefillPerSecond float64 `json:"refillPerSecond"`
}

// Buckets reports every bucket instance with its level, capacity and effective refill.
func (s *Server) Buckets() BucketsReport {
	sm := s.sm
	sm.mu.Lock()
	defer sm.mu.Unlock()
	now := s.clock.Now()
	r := BucketsReport{Now: now, TimeScale: sm.scale, CeilingFactor: round3(sm.bk.ceiling(now)),
		InFlight: int(sm.inFlight.Load()), MaxInFlight: int(sm.maxInFlight.Load()),
		Buckets: sm.bk.states(now, sm.scale)}
	for _, d := range sm.st.defs {
		c := d.capacityFor(sm.st.SizeClass)
		if sm.st.SizeClass == "" {
			c = d.capacityFor("L")
		}
		r.Definitions = append(r.Definitions, BucketDefinition{Name: d.name, Per: d.per,
			Scope: d.scope, Limit: d.limit, Unit: d.unit, Capacity: c, Window: d.window.String(),
			RefillPerSecond: round3(d.rate(c))})
	}
	sort.Slice(r.Definitions, func(i, j int) bool { return r.Definitions[i].Name < r.Definitions[j].Name })
	return r
}

// ResetBuckets forgets every bucket: each starts again at startLevel (empty keeps the
// model's) as of now. Windows, announced waits and the in-flight maximum are reset too.
// Benchmarks call it before each run so that every contender meets the same buckets.
func (s *Server) ResetBuckets(startLevel string) error {
	sm := s.sm
	sm.mu.Lock()
	defer sm.mu.Unlock()
	start := sm.st.start
	if startLevel != "" {
		v, err := parseLevel(startLevel)
		if err != nil {
			return err
		}
		start = v
	}
	sm.bk.start = start
	sm.bk.epoch = s.clock.Now()
	sm.bk.all = map[bucketKey]*bucket{}
	sm.maxInFlight.Store(sm.inFlight.Load())
	return nil
}

func (s *Server) inspectBuckets(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, s.Buckets())
}

// inspectResetBuckets serves POST /_sim/buckets/reset with an optional body
// {"startLevel": "drained"}.
func (s *Server) inspectResetBuckets(w http.ResponseWriter, r *http.Request) {
	var body struct {
		StartLevel string `json:"startLevel"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "badRequest", "message": `body must be empty or {"startLevel": "full|drained|0.5"}`}})
		return
	}
	if err := s.ResetBuckets(body.StartLevel); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "badRequest", "message": "startLevel: " + err.Error()}})
		return
	}
	s.inspectBuckets(w)
}
