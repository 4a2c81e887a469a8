// Command simseed measures how long the Graph simulator takes to seed a large merger preset
// and how much memory the seeded state keeps. docs/benchmarks.md records its results.
//
//	go run ./bench/simseed -users 100000 -devices-per-user 1.5
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/cutoverhq/cutover/bench/internal/procinfo"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

func main() {
	users := flag.Int("users", 100_000, "source users to seed")
	perUser := flag.Float64("devices-per-user", 1.5, "mean Intune devices per source user")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()

	start := time.Now()
	sim, err := graphsim.New(graphsim.Options{Preset: "merger", Users: *users, DevicesPerUser: *perUser,
		Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "simseed:", err)
		os.Exit(1)
	}
	elapsed := time.Since(start)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("preset merger, %d source users, %.1f devices per user, seed %d\n", *users, *perUser, *seed)
	for _, t := range sim.Tenants() {
		fmt.Printf("  %-6s %7d users %7d managed devices %7d Entra devices\n", t.Role, t.Counts.Users,
			t.Counts.ManagedDevices, t.Counts.Devices)
	}
	fmt.Printf("seed time          %.2f s\n", elapsed.Seconds())
	fmt.Printf("live heap after GC %.0f MiB\n", float64(ms.HeapAlloc)/(1<<20))
	fmt.Printf("peak RSS           %s\n", procinfo.PeakRSS())
	runtime.KeepAlive(sim)
}
