package main

import (
	"math"
	"sort"
	"strings"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// opBuckets are the simulator's buckets each operation is charged on, one unit each
// (docs/simulator-model.md, "Buckets" and "Costs"): a revoke costs 1 RU and 1 write, a
// retire one Intune write and one Intune request, and every request one on global. The
// meter checks them against the buckets the simulator really charged.
var opBuckets = map[opKind][]string{
	revoke: {"entra-ru", "entra-writes", "entra-tenant-writes", "entra-app-ru", "entra-app-writes",
		"global"},
	retire: {"intune-writes", "intune-any", "intune-tenant-writes", "intune-tenant-any", "global"},
}

// trueBucket is one bucket as the model really runs it: the published capacity and the
// effective refill per simulated second (ceiling factor and background load applied).
type trueBucket struct {
	name     string
	per      string // app+tenant, tenant or app
	capacity float64
	refill   float64
}

// trueBuckets reads the simulator's bucket definitions and applies the model's hidden
// knobs: what the oracle is told and what the ideal time is computed from.
func trueBuckets(sim *graphsim.Server, m graphsim.Model) map[string]trueBucket {
	ceiling := m.CeilingFactor
	if ceiling == 0 {
		ceiling = 1
	}
	out := map[string]trueBucket{}
	for _, d := range sim.Buckets().Definitions {
		out[d.Name] = trueBucket{name: d.Name, per: d.Per, capacity: d.Capacity,
			refill: d.RefillPerSecond * ceiling * backgroundShare(d.Name, m)}
	}
	return out
}

// backgroundShare is what other writers leave of a tenant bucket's refill.
func backgroundShare(name string, m graphsim.Model) float64 {
	switch name {
	case "entra-tenant-writes":
		return 1 - m.BackgroundLoad
	case "intune-tenant-writes", "intune-tenant-any", "enrollment-tenant-writes",
		"enrollment-tenant-any":
		return 1 - m.BackgroundIntuneLoad
	}
	return 1
}

// instanceKey names the bucket instance an operation sent by app falls on.
func instanceKey(b trueBucket, app int) string {
	if strings.Contains(b.per, "app") {
		return b.name + "@" + appNames[app]
	}
	return b.name
}

// idealTime is PERFORMANCE.md 1.1: with every bucket starting at level × capacity,
// T = max over buckets of max(0, C − B) / r, where C is what the workload charges the
// bucket and r its effective refill. It returns the time in simulated seconds and the
// binding bucket.
func idealTime(ops []op, buckets map[string]trueBucket, level float64) (float64, string) {
	charge := map[string]float64{}
	inst := map[string]trueBucket{}
	for _, o := range ops {
		for _, name := range opBuckets[o.kind] {
			b := buckets[name]
			k := instanceKey(b, o.app)
			charge[k]++
			inst[k] = b
		}
	}
	keys := make([]string, 0, len(charge))
	for k := range charge {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, binding := 0.0, ""
	for _, k := range keys {
		b := inst[k]
		if b.refill <= 0 {
			continue
		}
		t := math.Max(0, charge[k]-level*b.capacity) / b.refill
		if t > best {
			best, binding = t, k
		}
	}
	return best, binding
}

// sameBuckets reports whether the simulator charged an operation on exactly the buckets the
// formula assumes.
func sameBuckets(kind opKind, charged []string) bool {
	want := append([]string(nil), opBuckets[kind]...)
	got := append([]string(nil), charged...)
	sort.Strings(want)
	sort.Strings(got)
	return strings.Join(want, ",") == strings.Join(got, ",")
}
