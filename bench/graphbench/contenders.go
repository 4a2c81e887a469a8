package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// The contenders of PERFORMANCE.md 2.5 other than cutover's client. Each scales its own
// constants (timeouts, backoff, caps) by the run's time scale, as 2.3 requires.

// clientTimeout is what HTTP clients wait by default for an answer (.NET's HttpClient and
// the Go SDK's default client both use 100 s).
const clientTimeout = 100 * time.Second

// runSequential is the PowerShell ForEach loop: one request in flight, Retry-After honoured
// as an SDK handler would, otherwise 3 s × 2^(n−1), at most ten attempts.
func runSequential(ctx context.Context, env *runEnv, rc *rawClient, ops []op) claim {
	timeout := env.scaled(clientTimeout)
	failed := 0
	for _, o := range ops {
		if ctx.Err() != nil {
			failed++
			continue
		}
		if !sequentialOne(ctx, env, rc, o, timeout) {
			failed++
		}
	}
	return claim{failed: failed}
}

func sequentialOne(ctx context.Context, env *runEnv, rc *rawClient, o op, timeout time.Duration) bool {
	for attempt := 1; attempt <= 10; attempt++ {
		a := rc.send(ctx, o, timeout)
		if a.ok() {
			return true
		}
		if ctx.Err() != nil || !a.transient() {
			return false
		}
		wait, ok := retryAfter(a.header, env.spec.Scale)
		if !ok {
			wait = env.scaled(3 * time.Second << (attempt - 1))
		}
		if sleep(ctx, wait) != nil {
			return false
		}
	}
	return false
}

// runUnbounded keeps 256 requests in flight and ignores Retry-After: a failed operation is
// sent again at once, up to attempts times (1: never retried).
func runUnbounded(ctx context.Context, env *runEnv, rc *rawClient, ops []op, attempts int) claim {
	timeout := env.scaled(clientTimeout)
	var failed atomic.Int64
	pool(256, ops, func(o op) {
		for n := 1; n <= attempts; n++ {
			a := rc.send(ctx, o, timeout)
			if a.ok() {
				return
			}
			if ctx.Err() != nil || !a.transient() {
				break
			}
		}
		failed.Add(1)
	})
	return claim{failed: int(failed.Load())}
}

// runSDK is the default retry handler of Microsoft's Go SDK middleware with 32 requests in
// flight and no pacing: 429, 503 and 504 are retried at most three times, after Retry-After
// converted to whole seconds (a fraction is dropped) or else 3 s × 2^(n−1) plus jitter,
// and an operation is given up once its waits would pass 180 s. Transport errors and other
// statuses are not retried.
func runSDK(ctx context.Context, env *runEnv, rc *rawClient, ops []op) claim {
	timeout := env.scaled(clientTimeout)
	var failed atomic.Int64
	pool(32, ops, func(o op) {
		if !sdkOne(ctx, env, rc, o, timeout) {
			failed.Add(1)
		}
	})
	return claim{failed: int(failed.Load())}
}

func sdkOne(ctx context.Context, env *runEnv, rc *rawClient, o op, timeout time.Duration) bool {
	var waited time.Duration
	for retry := 0; ; retry++ {
		a := rc.send(ctx, o, timeout)
		if a.ok() {
			return true
		}
		switch a.status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return false
		}
		if retry == 3 || ctx.Err() != nil {
			return false
		}
		d := sdkDelay(env, a.header, retry+1)
		if waited+d > env.scaled(180*time.Second) {
			return false
		}
		waited += d
		if sleep(ctx, d) != nil {
			return false
		}
	}
}

// sdkDelay is the SDK handler's wait before retry n, in real time. Retry-After is read as
// seconds and truncated to a whole number of simulated seconds, as the handler does with the
// value Graph would have sent.
func sdkDelay(env *runEnv, h http.Header, n int) time.Duration {
	if v, err := parseSeconds(h.Get("Retry-After")); err == nil {
		whole := math.Trunc(v * env.spec.Scale) // simulated seconds
		return env.scaled(time.Duration(whole) * time.Second)
	}
	d := 3*time.Second<<(n-1) + time.Duration(rand.Float64()*float64(time.Second))
	return env.scaled(d)
}

func parseSeconds(v string) (float64, error) {
	var f float64
	_, err := fmt.Sscanf(v, "%g", &f)
	return f, err
}

// runOracle knows the true refill of every bucket (ceiling factor and background load
// included) and how full it starts, and paces each bucket exactly at it, with one lane of 128 workers per
// service and app registration: the achievable ideal when the limits are hidden.
func runOracle(ctx context.Context, env *runEnv, rc *rawClient, ops []op) claim {
	buckets := trueBuckets(env.sim, env.model)
	limiters := map[string]*rate.Limiter{}
	for _, o := range ops {
		for _, name := range opBuckets[o.kind] {
			b := buckets[name]
			k := instanceKey(b, o.app)
			if limiters[k] == nil {
				l := rate.NewLimiter(rate.Limit(b.refill*env.spec.Scale), int(b.capacity))
				if env.spec.StartLevel == "drained" {
					l.ReserveN(time.Now(), int(b.capacity))
				}
				limiters[k] = l
			}
		}
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	for _, lane := range lanes(ops) {
		wg.Go(func() {
			pool(128, lane, func(o op) {
				pace := func() error {
					for _, name := range opBuckets[o.kind] {
						if err := limiters[instanceKey(buckets[name], o.app)].Wait(ctx); err != nil {
							return err
						}
					}
					return nil
				}
				if !oracleOne(ctx, env, rc, o, pace) {
					failed.Add(1)
				}
			})
		})
	}
	wg.Wait()
	return claim{failed: int(failed.Load())}
}

// oracleOne sends an operation until it lands, each attempt paced: throttling and faults
// are retried after Retry-After (or one simulated second), and an ambiguous retire is
// checked before it is sent again.
func oracleOne(ctx context.Context, env *runEnv, rc *rawClient, o op, pace func() error) bool {
	timeout := env.scaled(10 * time.Second)
	for attempt := 0; attempt < 20; attempt++ {
		if pace() != nil {
			return false
		}
		a := rc.send(ctx, o, timeout)
		if a.ok() {
			return true
		}
		if !a.transient() {
			return false
		}
		if o.kind == retire && a.ambiguous() {
			if landed, known := rc.retireLanded(ctx, o.id, timeout); landed && known {
				return true
			}
		}
		wait, ok := retryAfter(a.header, env.spec.Scale)
		if !ok {
			wait = env.scaled(time.Second)
		}
		if sleep(ctx, wait) != nil {
			return false
		}
	}
	return false
}

// lanes splits operations into one lane per service and app registration, in order of
// first appearance.
func lanes(ops []op) [][]op {
	idx := map[[2]int]int{}
	var out [][]op
	for _, o := range ops {
		key := [2]int{int(o.kind), o.app}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], o)
	}
	return out
}

// pool runs fn over ops with n workers. Every operation is handed out even once the run's
// context is done, so that fn can count it as failed.
func pool(n int, ops []op, fn func(op)) {
	ch := make(chan op)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for o := range ch {
				fn(o)
			}
		})
	}
	for _, o := range ops {
		ch <- o
	}
	close(ch)
	wg.Wait()
}
