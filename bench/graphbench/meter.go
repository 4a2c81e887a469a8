package main

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// meter reads the simulator's request log while a run goes on, so that nothing is lost when
// a contender sends more requests than the log keeps. Every figure about requests (429s,
// faults, in flight, latency, effects) comes from it, never from the contender.
type meter struct {
	sim   *graphsim.Server
	stopc chan struct{}
	done  chan struct{}
	stats logStats
}

// logStats sums the request log of one run.
type logStats struct {
	lastSeq uint64
	// missed counts log entries dropped before the meter read them.
	missed int
	// requests counts attempts at operations and reads, $batch items one by one; envelopes
	// counts $batch round trips.
	requests, envelopes, reads, throttled, faults int
	byScope                                       map[string]int
	// effects counts, per target, the attempts that took effect: answered with success, or
	// failed by a fault that struck after the effect.
	effects map[string]int
	// firstEffect is when each target's operation first took effect (simulated time).
	firstEffect map[string]time.Time
	latencyMS   []float64
	maxInFlight int
	// buckets are the bucket names the simulator charged for the first successful
	// operation of each kind, to check the ideal-time formula's charges.
	buckets map[opKind][]string
}

func startMeter(sim *graphsim.Server) *meter {
	m := &meter{sim: sim, stopc: make(chan struct{}), done: make(chan struct{}),
		stats: logStats{byScope: map[string]int{}, effects: map[string]int{},
			firstEffect: map[string]time.Time{}, buckets: map[opKind][]string{}}}
	if log := sim.Requests(0); len(log) > 0 {
		m.stats.lastSeq = log[len(log)-1].Seq
	}
	go m.loop()
	return m
}

func (m *meter) loop() {
	defer close(m.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-m.stopc:
			return
		case <-t.C:
			m.read()
		}
	}
}

// stop waits for requests that were abandoned by their client to be logged, reads the rest
// of the log and returns the sums.
func (m *meter) stop() logStats {
	close(m.stopc)
	<-m.done
	time.Sleep(150 * time.Millisecond)
	m.read()
	m.stats.maxInFlight = max(m.stats.maxInFlight, m.sim.Buckets().MaxInFlight)
	return m.stats
}

func (m *meter) read() {
	for _, e := range m.sim.Requests(m.stats.lastSeq) {
		if e.Seq > m.stats.lastSeq+1 {
			m.stats.missed += int(e.Seq - m.stats.lastSeq - 1)
		}
		m.stats.lastSeq = e.Seq
		m.stats.add(e)
	}
}

func (s *logStats) add(e graphsim.LogEntry) {
	s.maxInFlight = max(s.maxInFlight, e.InFlight)
	if strings.HasSuffix(e.Path, "/$batch") {
		s.envelopes++
		return
	}
	s.requests++
	if e.Method == http.MethodGet {
		s.reads++
	}
	if e.Status == http.StatusTooManyRequests {
		s.throttled++
		s.byScope[scopeName(e)]++
	}
	if e.Decision == "fault" {
		s.faults++
	}
	kind, id, ok := parseOpPath(e.Method, e.Path)
	if !ok {
		return
	}
	took := (e.Decision == "ok" && e.Status >= 200 && e.Status < 300) ||
		(e.Decision == "fault" && e.FaultAfterEffect)
	if !took {
		return
	}
	key := kind.String() + "/" + id
	s.effects[key]++
	if _, seen := s.firstEffect[key]; !seen {
		s.firstEffect[key] = e.SimTime
	}
	if e.Decision == "ok" {
		s.latencyMS = append(s.latencyMS, e.LatencyMS)
		if _, seen := s.buckets[kind]; !seen {
			for _, b := range e.Buckets {
				s.buckets[kind] = append(s.buckets[kind], b.Name)
			}
		}
	}
}

// scopeName is the limit a 429 names: the scope and limit of x-ms-throttle-scope and the
// reason, without the ids.
func scopeName(e graphsim.LogEntry) string {
	parts := strings.Split(e.Scope, "/")
	if len(parts) >= 2 {
		return parts[0] + "/" + parts[1] + " " + e.ThrottleInfo
	}
	return e.Scope + " " + e.ThrottleInfo
}

// parseOpPath recognises the two operations of the workloads in a logged path.
func parseOpPath(method, path string) (opKind, string, bool) {
	if method != http.MethodPost {
		return 0, "", false
	}
	segs := strings.Split(strings.TrimPrefix(path, "/v1.0/"), "/")
	switch {
	case len(segs) == 3 && segs[0] == "users" && segs[2] == "revokeSignInSessions":
		return revoke, segs[1], true
	case len(segs) == 4 && segs[0] == "deviceManagement" && segs[1] == "managedDevices" &&
		segs[3] == "retire":
		return retire, segs[2], true
	}
	return 0, "", false
}

// percentile returns the p-th percentile (0–100) of values.
func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	i := int(p / 100 * float64(len(v)-1))
	return v[i]
}
