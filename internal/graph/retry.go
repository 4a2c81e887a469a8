package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Clock is the client's source of time. Every wait (pauses, pacing, backoff) goes through
// Sleep, so tests can run retries and pauses without sleeping for real.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, and returns ctx.Err() in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ParseRetryAfter reads a Retry-After value in any of the forms Graph is known to send:
// whole seconds ("10"), decimal seconds ("2.128", rounded up to the millisecond so that 0.249
// never becomes 0) or an HTTP-date. An HTTP-date is measured from the response's Date header
// when there is one (both come from the server's clock), else from now. The result is capped
// at max (when max > 0) and never negative; ok is false when the value is absent or unreadable.
func ParseRetryAfter(v string, date, now time.Time, max time.Duration) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		ms := math.Ceil(secs * 1000)
		d = time.Duration(min(ms, float64(math.MaxInt64/int64(time.Millisecond)))) * time.Millisecond
	} else if at, err := http.ParseTime(v); err == nil {
		from := now
		if !date.IsZero() {
			from = date
		}
		d = at.Sub(from)
	} else {
		return 0, false
	}
	d = max0(d)
	if max > 0 && d > max {
		d = max
	}
	return d, true
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// retryAfter reads Retry-After from response headers. Seconds are taken as stated: a
// time-scaled server already shortens them. An HTTP-date is a point on the server's clock,
// which runs scale times faster, so the distance to it is divided by scale.
func retryAfter(h http.Header, now time.Time, max time.Duration, scale float64) (time.Duration, bool) {
	v := h.Get("Retry-After")
	date, _ := http.ParseTime(h.Get("Date"))
	if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil || scale <= 1 {
		return ParseRetryAfter(v, date, now, max)
	}
	d, ok := ParseRetryAfter(v, date, now, 0)
	d = scaleDuration(d, scale)
	if max > 0 && d > max {
		d = max
	}
	return d, ok
}

// backoff is capped exponential backoff with jitter: a random wait in [c/2, c] with
// c = min(max, base·2^(attempt-1)), so that workers that failed together do not retry together
// and no retry is immediate.
func backoff(attempt int, base, maxDelay time.Duration, jitter func() float64) time.Duration {
	ceiling := float64(base) * math.Pow(2, float64(min(attempt, 30)-1))
	ceiling = min(ceiling, float64(maxDelay))
	return time.Duration(ceiling/2 + jitter()*ceiling/2)
}

func defaultJitter() float64 { return rand.Float64() }
