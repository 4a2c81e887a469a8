package graphsim

import (
	"sync"
	"time"
)

// Clock is the simulator's notion of time. Simulated time runs Scale times faster than the
// real clock it is derived from, and can be moved forward with Advance. Every duration in the
// simulator (device check-ins, forceDelete completion, token lifetimes, throttling windows)
// is measured on this clock.
type Clock struct {
	mu        sync.Mutex
	real      func() time.Time
	realStart time.Time
	simStart  time.Time
	scale     float64
	offset    time.Duration
}

// NewClock returns a clock that starts at simStart and runs scale times faster than real.
// A nil real uses time.Now.
func NewClock(real func() time.Time, simStart time.Time, scale float64) *Clock {
	if real == nil {
		real = time.Now
	}
	if scale <= 0 {
		scale = 1
	}
	return &Clock{real: real, realStart: real(), simStart: simStart, scale: scale}
}

// Now returns the current simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := c.real().Sub(c.realStart)
	return c.simStart.Add(time.Duration(float64(elapsed)*c.scale) + c.offset).UTC()
}

// Scale returns how many simulated seconds pass per real second.
func (c *Clock) Scale() float64 { return c.scale }

// Advance moves simulated time forward by d without waiting.
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// ToReal converts a simulated duration to the real duration it takes at this clock's scale.
func (c *Clock) ToReal(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.scale)
}
