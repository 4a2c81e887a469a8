package graphsim

import (
	"sync"
	"time"
)

// LogEntry records one request (or one item of a $batch) and the decision the simulator
// took on it. Tests and benchmarks read it through the inspection API.
type LogEntry struct {
	Seq             uint64    `json:"seq"`
	Time            time.Time `json:"time"`    // real time the request arrived
	SimTime         time.Time `json:"simTime"` // simulated time the request arrived
	Method          string    `json:"method"`
	Path            string    `json:"path"`
	Query           string    `json:"query,omitempty"`
	Tenant          string    `json:"tenant,omitempty"`
	App             string    `json:"app,omitempty"`
	Batch           string    `json:"batch,omitempty"`     // request id of the enclosing $batch
	BatchItem       string    `json:"batchItem,omitempty"` // id of the item inside it
	Route           string    `json:"route,omitempty"`
	Status          int       `json:"status"`
	Decision        string    `json:"decision"` // ok, error, unauthenticated, forbidden, throttled, fault
	Code            string    `json:"code,omitempty"`
	Scope           string    `json:"scope,omitempty"`
	RetryAfter      string    `json:"retryAfter,omitempty"`
	ResourceUnits   int       `json:"resourceUnits,omitempty"`
	Writes          int       `json:"writes,omitempty"`
	Fault           string    `json:"fault,omitempty"`
	LatencyMS       float64   `json:"latencyMs,omitempty"`
	InFlight        int       `json:"inFlight,omitempty"`
	RequestID       string    `json:"requestId"`
	ClientRequestID string    `json:"clientRequestId,omitempty"`
	Priority        string    `json:"priority,omitempty"`
	// Family is the limit family the request was metered under: identity, reports, intune,
	// intune-enrollment, outlook or batch.
	Family string `json:"family,omitempty"`
	// Buckets are the levels of the buckets the request touched, after its charge.
	Buckets []BucketLevel `json:"buckets,omitempty"`
	// ThrottleInfo is the x-ms-throttle-information of a 429.
	ThrottleInfo string `json:"throttleInformation,omitempty"`
	// FaultAfterEffect is set when an injected fault came after the request took effect.
	FaultAfterEffect bool `json:"faultAfterEffect,omitempty"`
}

// requestLog is a bounded, ordered log of requests.
type requestLog struct {
	mu      sync.Mutex
	max     int
	next    uint64
	entries []LogEntry
}

func newRequestLog(max int) *requestLog { return &requestLog{max: max} }

func (l *requestLog) add(e LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.Seq = l.next
	if len(l.entries) >= l.max {
		// Drop the oldest tenth at once so that appends stay amortised O(1).
		drop := l.max / 10
		if drop == 0 {
			drop = 1
		}
		l.entries = append(l.entries[:0], l.entries[drop:]...)
	}
	l.entries = append(l.entries, e)
}

// since returns the entries with a sequence number above seq, at most limit of them.
func (l *requestLog) since(seq uint64, limit int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LogEntry
	for _, e := range l.entries {
		if e.Seq > seq {
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out
}

// Requests returns the request log entries after seq (0 for all that are kept).
func (s *Server) Requests(seq uint64) []LogEntry { return s.reqlog.since(seq, 0) }
