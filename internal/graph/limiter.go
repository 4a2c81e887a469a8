package graph

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket that hands out tickets: a request takes the next n tokens in
// line and may go once the bucket has refilled up to its ticket. Unlike a limiter that
// fixes each reservation's time when it is made, a ticket's time follows the bucket: when a
// 429 lowers the rate or empties the bucket, the workers already in line simply wait longer,
// in the same order, and nothing they hold has to be given back and taken again.
//
// granted counts the tokens the bucket has made available since it was created (the burst
// at once, then the refill); issued counts the tokens handed out in tickets and used the
// tokens of the tickets whose requests went. Like Graph's bucket, the limiter holds at most
// one burst that nobody used: granted stays within used + burst. Tickets that came due while
// their scope was paused therefore go together only up to one burst, which is what Graph's
// bucket refilled meanwhile, not the whole pause's worth.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   int
	granted float64
	issued  float64
	used    float64
	largest int       // the largest ticket, which may exceed the burst (a $batch)
	at      time.Time // when granted was last brought up to date
}

// ticket is a place in the line: the request may go once granted reaches pos.
type ticket struct {
	pos float64
	n   int
}

// newLimiter returns a full bucket.
func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: burst, granted: float64(burst)}
}

// advanceLocked refills the bucket up to now.
func (l *limiter) advanceLocked(now time.Time) {
	if l.at.IsZero() {
		l.at = now
	}
	if now.After(l.at) {
		l.granted += l.rate * now.Sub(l.at).Seconds()
		l.at = now
	}
	l.granted = math.Min(l.granted, l.capLocked())
}

// capLocked is the most the bucket may have granted: one burst (or one ticket larger than
// the burst) beyond what was used.
func (l *limiter) capLocked() float64 {
	return l.used + float64(max(l.burst, l.largest))
}

// take hands out the next n tokens. A charge above the burst simply waits longer.
func (l *limiter) take(now time.Time, n int) ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	l.issued += float64(n)
	l.largest = max(l.largest, n)
	return ticket{pos: l.issued, n: n}
}

// use records that the holder of t sent its request.
func (l *limiter) use(t ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.used += float64(t.n)
}

// delay is how long the holder of t still has to wait at the current rate.
func (l *limiter) delay(now time.Time, t ticket) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	if l.granted >= t.pos {
		return 0
	}
	if l.rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((t.pos - l.granted) / l.rate * float64(time.Second))
}

// giveBack returns the tokens of a ticket that will not be used, so that the next in line
// may use them: its place is passed on as if it had been used at once.
func (l *limiter) giveBack(now time.Time, t ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	l.used += float64(t.n)
	l.granted = math.Min(l.granted+float64(t.n), l.capLocked())
}

// drain takes away every token nobody holds a ticket for: Graph said its bucket is empty.
func (l *limiter) drain(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	l.granted = math.Min(l.granted, l.issued)
}

// setRate changes the refill from now on.
func (l *limiter) setRate(now time.Time, rate float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	l.rate = rate
}

// Limit is the refill per second.
func (l *limiter) Limit() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// Burst is the capacity.
func (l *limiter) Burst() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.burst
}

// TokensAt is what the bucket holds at now beyond the tickets handed out; negative when
// workers are waiting.
func (l *limiter) TokensAt(now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(now)
	return l.granted - l.issued
}
