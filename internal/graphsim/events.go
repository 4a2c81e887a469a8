package graphsim

import (
	"container/heap"
	"time"
)

// event is something that happens by itself at a simulated time: a device checking in, a
// forceDelete completing, a simulated person acting.
type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// schedule runs fn at simulated time at. Callers hold s.mu; fn runs with s.mu held.
func (s *Server) schedule(at time.Time, fn func()) {
	s.seqBatch++
	heap.Push(&s.events, &event{at: at, seq: s.seqBatch, fn: fn})
}

// runDue runs every event whose time has come, in time order. Callers hold s.mu. It runs
// before every request and on a ticker, so state is current whenever anyone looks.
func (s *Server) runDue() {
	now := s.clock.Now()
	for s.events.Len() > 0 && !s.events[0].at.After(now) {
		e := heap.Pop(&s.events).(*event)
		e.fn()
	}
}

// runEvents applies due events in the background so that time-driven state changes
// happen even while nobody sends requests.
func (s *Server) runEvents() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.mu.Lock()
			s.runDue()
			s.mu.Unlock()
		}
	}
}

// Advance moves simulated time forward by d and applies every event that falls due.
func (s *Server) Advance(d time.Duration) {
	s.clock.Advance(d)
	s.mu.Lock()
	s.runDue()
	s.mu.Unlock()
}
