package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/cutoverhq/cutover/bench/internal/procinfo"
)

// machineInfo describes where the benchmark ran.
type machineInfo struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryGiB int    `json:"memoryGiB"`
	OS        string `json:"os"`
	Go        string `json:"go"`
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version()}
	m.CPUModel = procinfo.Field("/proc/cpuinfo", "model name")
	var kb int
	if _, err := fmt.Sscanf(procinfo.Field("/proc/meminfo", "MemTotal"), "%d", &kb); err == nil {
		m.MemoryGiB = (kb + 1<<19) >> 20
	}
	return m
}

// writeJSON writes the report to path, creating its directory.
func writeJSON(path string, rep *report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// readJSON reads a report written by writeJSON.
func readJSON(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("read results: %s: %w", path, err)
	}
	if len(rep.Results) == 0 {
		return nil, fmt.Errorf("read results: %s holds no runs", path)
	}
	return &rep, nil
}

// readReports reads one or more reports and merges them: the first gives the options and the
// seed of the detailed tables, and the runs of the others join it (typically other seeds).
func readReports(paths []string) (*report, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("-tables needs a file")
	}
	var merged *report
	for _, path := range paths {
		rep, err := readJSON(path)
		if err != nil {
			return nil, err
		}
		if merged == nil {
			merged = rep
			continue
		}
		merged.Results = append(merged.Results, rep.Results...)
		for _, w := range rep.Workloads {
			if !slices.Contains(merged.Workloads, w) {
				merged.Workloads = append(merged.Workloads, w)
			}
		}
		for _, v := range rep.Variants {
			if !slices.Contains(merged.Variants, v) {
				merged.Variants = append(merged.Variants, v)
			}
		}
	}
	merged.Options.Seeds = nil
	for _, r := range merged.Results {
		if !slices.Contains(merged.Options.Seeds, r.Seed) {
			merged.Options.Seeds = append(merged.Options.Seeds, r.Seed)
		}
	}
	if len(merged.Options.Seeds) < 2 {
		merged.Options.Seeds = nil
	}
	return merged, nil
}

// writeTables prints one Markdown table per workload and variant, the table of W1 over
// three app registrations, the time-scale check, the spread over seeds and the targets. The
// detailed tables show the runs of the report's first seed.
func writeTables(w io.Writer, rep *report) {
	for _, wl := range rep.Workloads {
		if wl == "W1x3" {
			continue
		}
		for _, v := range rep.Variants {
			rs := rep.select_(func(r *result) bool {
				return r.Workload == wl && r.Variant == v && !r.Check && rep.detailed(r)
			})
			if len(rs) > 0 {
				writeRunTable(w, wl, v, rs)
			}
		}
	}
	writeMultiApp(w, rep)
	writeScaleCheck(w, rep)
	writeSeeds(w, rep)
	writeTargets(w, rep)
}

// detailed reports whether r belongs to the detailed tables: the runs of the first seed.
func (rep *report) detailed(r *result) bool { return r.Seed == rep.Options.Seed }

func (rep *report) select_(keep func(*result) bool) []*result {
	var out []*result
	for _, r := range rep.Results {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func writeRunTable(w io.Writer, wl, v string, rs []*result) {
	full := rs[len(rs)-1]
	for _, r := range rs {
		if !r.Reduced {
			full = r
		}
	}
	fmt.Fprintf(w, "\n#### %s, %s\n\n", wl, variantTitles[v])
	fmt.Fprintf(w, "%s: %s. Ideal from full buckets %.0f s (drained %.0f s), binding bucket `%s`; "+
		"time scale k = %g.\n\n", wl, sizeText(full), full.IdealSeconds, full.IdealDrainedSeconds,
		full.Binding, full.Scale)
	fmt.Fprintln(w, "| contender | operations | time (s) | ideal (s) | efficiency | ops/s | lost | dup | 429s | wasted | max in flight |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		name := r.Contender
		if r.Reduced {
			name += " (smaller N)"
		}
		if r.TimedOut {
			name += " (cut off)"
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %s | %.1f | %s | %s | %s | %s | %d |\n", name,
			num(r.Ops), r.WallSeconds, r.IdealSeconds, effText(r), r.OpsPerSecond, num(r.Lost),
			num(r.DuplicateRetires), throttleText(r), num(r.Wasted), r.MaxInFlight)
	}
}

func sizeText(r *result) string {
	var parts []string
	if r.Users > 0 {
		parts = append(parts, num(r.Users)+" revokes")
	}
	if r.Devices > 0 {
		parts = append(parts, num(r.Devices)+" retires")
	}
	return strings.Join(parts, " and ")
}

// effText shows the efficiency, in parentheses when operations were lost: the time then
// does not cover the whole workload.
func effText(r *result) string {
	switch {
	case r.IdealSeconds == 0:
		return "—"
	case r.Lost > 0:
		return fmt.Sprintf("(%.3f)", r.Efficiency)
	}
	return fmt.Sprintf("%.3f", r.Efficiency)
}

func throttleText(r *result) string {
	if r.Throttled == 0 {
		return "0"
	}
	return fmt.Sprintf("%s (%.2f%%)", num(r.Throttled), 100*r.ThrottledShare)
}

// num formats an integer with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// tenantWriteLimit is the published tenant-wide Entra write limit: 18,000 per 5 minutes.
const tenantWriteLimit = 60.0

func writeMultiApp(w io.Writer, rep *report) {
	for _, level := range []string{"", "drained"} {
		rs := rep.select_(func(r *result) bool {
			return r.Workload == "W1x3" && r.StartLevel == level && rep.detailed(r)
		})
		if len(rs) == 0 {
			continue
		}
		start := "full buckets"
		rateText := "Rate beyond the bursts: (revokes − 3 × 3,000 burst) / time"
		if level == "drained" {
			start = "drained buckets (another job just used the budget)"
			rateText = "Rate: revokes / time (no burst)"
		}
		fmt.Fprintf(w, "\n#### W1 over three app registrations (flagged), %s\n\n", start)
		fmt.Fprintf(w, "%s split evenly over cutover, cutover-2 and cutover-3; %s. Ideal %.0f s, "+
			"binding `%s`. %s, against the tenant-wide write limit of 60/s. Sustained: revokes per "+
			"second over the middle half of the run.\n\n", sizeText(rs[0]), variantTitles["default"],
			rs[0].IdealSeconds, rs[0].Binding, rateText)
		fmt.Fprintln(w, "| contender | time (s) | ideal (s) | efficiency | rate (/s) | share of 60/s | sustained (/s) | lost | 429s | max in flight |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, r := range rs {
			// A run that lost revokes did not do the work its rate would claim.
			rate, share := "—", "—"
			if r.Lost == 0 {
				rate = fmt.Sprintf("%.1f", r.PostBurstRevokes)
				share = fmt.Sprintf("%.0f%%", 100*r.PostBurstRevokes/tenantWriteLimit)
			}
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %s | %s | %.1f | %s | %s | %d |\n",
				r.Contender, r.WallSeconds, r.IdealSeconds, effText(r), rate, share,
				r.SustainedRevokes, num(r.Lost), throttleText(r), r.MaxInFlight)
		}
	}
}

func writeScaleCheck(w io.Writer, rep *report) {
	checks := rep.select_(func(r *result) bool { return r.Check && rep.detailed(r) })
	if len(checks) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### Time-scale check (PERFORMANCE.md 2.3)\n\n")
	fmt.Fprintf(w, "The same runs at k = %g and k = %g, default model.\n\n", checks[0].Scale, rep.Options.Scale)
	fmt.Fprintf(w, "| workload | contender | E at k=%g | E at k=%g | difference | lost at k=%g | lost at k=%g |\n",
		checks[0].Scale, rep.Options.Scale, checks[0].Scale, rep.Options.Scale)
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: |")
	for _, c := range checks {
		main := rep.find(c.Workload, c.Variant, c.Contender, false)
		if main == nil {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %.3f | %.3f | %+.3f | %s | %s |\n", c.Workload, c.Contender,
			c.Efficiency, main.Efficiency, main.Efficiency-c.Efficiency, num(c.Lost), num(main.Lost))
	}
}

func (rep *report) find(wl, v, c string, check bool) *result {
	for _, r := range rep.Results {
		if r.Workload == wl && r.Variant == v && r.Contender == c && r.Check == check &&
			r.StartLevel == "" && rep.detailed(r) {
			return r
		}
	}
	return nil
}

// target is one pass criterion for cutover's client.
type target struct {
	name     string
	measured string
	pass     bool
}

// targets evaluates the criteria of the issue for both cutover contenders.
func (rep *report) targets() []target {
	var out []target
	spreads := rep.spreads()
	for _, c := range []string{cCutover, cCutoverBatch} {
		for _, v := range []struct {
			variant string
			min     float64
		}{{"default", 0.95}, {"ceiling", 0.90}} {
			for _, wl := range []string{"W1", "W3", "W5"} {
				name := fmt.Sprintf("%s: E ≥ %.2f on %s, %s", c, v.min, wl, v.variant)
				// Over several seeds every seed must reach the target.
				if sp := spreadOf(spreads, wl, v.variant, c); sp != nil && len(sp.effs) > 1 {
					out = append(out, target{name + fmt.Sprintf(", every one of %d seeds", len(sp.effs)),
						fmt.Sprintf("lowest %.3f, median %.3f", sp.effs[0], median(sp.effs)),
						sp.effs[0] >= v.min})
				} else if r := rep.find(wl, v.variant, c, false); r != nil {
					out = append(out, target{name, fmt.Sprintf("%.3f", r.Efficiency), r.Efficiency >= v.min})
				}
			}
		}
		lost, dup, runs := 0, 0, 0
		for _, r := range rep.Results {
			if r.Contender == c {
				lost += r.Lost
				dup += r.DuplicateRetires
				runs++
			}
		}
		if runs > 0 {
			out = append(out, target{fmt.Sprintf("%s: no lost operation, no duplicate retire (%d runs)", c, runs),
				fmt.Sprintf("%d lost, %d duplicates", lost, dup), lost == 0 && dup == 0})
		}
		worst, any := 0.0, false
		for _, r := range rep.Results {
			if r.Contender == c && r.Variant == "default" && !r.Check && r.StartLevel == "" {
				worst, any = max(worst, r.ThrottledShare), true
			}
		}
		if any {
			out = append(out, target{fmt.Sprintf("%s: 429s under 1%% of requests, default model, full buckets", c),
				fmt.Sprintf("at most %.3f%%", 100*worst), worst < 0.01})
		}
		// Over several seeds, the slowest seed of each start level must reach the target.
		for _, level := range []string{"", "drained"} {
			runs := rep.select_(func(r *result) bool {
				return r.Workload == "W1x3" && r.Contender == c && r.StartLevel == level
			})
			if len(runs) == 0 {
				continue
			}
			slowest := runs[0]
			for _, r := range runs {
				if r.PostBurstRevokes < slowest.PostBurstRevokes {
					slowest = r
				}
			}
			start := "full"
			if level != "" {
				start = level
			}
			share := slowest.PostBurstRevokes / tenantWriteLimit
			measured := fmt.Sprintf("%.1f/s = %.0f%%", slowest.PostBurstRevokes, 100*share)
			if len(runs) > 1 {
				start += fmt.Sprintf(", every one of %d seeds", len(runs))
				measured = "lowest " + measured
			}
			out = append(out, target{fmt.Sprintf("%s: three apps reach ≥ 90%% of the tenant write limit (%s)", c, start),
				measured, share >= 0.9})
		}
	}
	return out
}

func writeTargets(w io.Writer, rep *report) {
	ts := rep.targets()
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### Targets for cutover's client\n\n")
	fmt.Fprintln(w, "| target | measured | result |")
	fmt.Fprintln(w, "| --- | ---: | --- |")
	for _, t := range ts {
		res := "pass"
		if !t.pass {
			res = "**fail**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.name, t.measured, res)
	}
}

// spread is one configuration's results over the seeds it ran with.
type spread struct {
	workload, variant, contender, level string
	effs, walls                         []float64 // sorted
	lost                                int
	worst429                            float64 // the highest share of 429s among the runs
}

// spreads groups the runs at the main time scale by configuration, in report order.
func (rep *report) spreads() []*spread {
	var out []*spread
	byKey := map[string]*spread{}
	for _, r := range rep.Results {
		if r.Check {
			continue
		}
		key := strings.Join([]string{r.Workload, r.Variant, r.Contender, r.StartLevel}, "/")
		sp := byKey[key]
		if sp == nil {
			sp = &spread{workload: r.Workload, variant: r.Variant, contender: r.Contender,
				level: r.StartLevel}
			byKey[key] = sp
			out = append(out, sp)
		}
		sp.effs = append(sp.effs, r.Efficiency)
		sp.walls = append(sp.walls, r.WallSeconds)
		sp.lost += r.Lost
		sp.worst429 = max(sp.worst429, r.ThrottledShare)
	}
	for _, sp := range out {
		sort.Float64s(sp.effs)
		sort.Float64s(sp.walls)
	}
	return out
}

// spreadOf finds a configuration from full buckets among spreads.
func spreadOf(spreads []*spread, wl, v, c string) *spread {
	for _, sp := range spreads {
		if sp.workload == wl && sp.variant == v && sp.contender == c && sp.level == "" {
			return sp
		}
	}
	return nil
}

// median of sorted values.
func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// writeSeeds prints, when the report holds several seeds, each configuration's efficiency
// and time over them (PERFORMANCE.md 2.6).
func writeSeeds(w io.Writer, rep *report) {
	var rows []*spread
	for _, sp := range rep.spreads() {
		if len(sp.effs) > 1 {
			rows = append(rows, sp)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n#### Over seeds\n\n")
	fmt.Fprintf(w, "Configurations run with more than one seed (seeds %s). With five seeds the p95 "+
		"time by nearest rank is the slowest run.\n\n", seedList(rep.Options.Seeds))
	fmt.Fprintln(w, "| workload | variant | contender | seeds | median E | lowest E | median time (s) | slowest time (s) | lost | most 429s |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, sp := range rows {
		wl := sp.workload
		if sp.level != "" {
			wl += " (" + sp.level + ")"
		}
		med, low := fmt.Sprintf("%.3f", median(sp.effs)), fmt.Sprintf("%.3f", sp.effs[0])
		if sp.lost > 0 {
			med, low = "("+med+")", "("+low+")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.0f | %.0f | %s | %.2f%% |\n", wl, sp.variant,
			sp.contender, len(sp.effs), med, low, median(sp.walls), sp.walls[len(sp.walls)-1],
			num(sp.lost), 100*sp.worst429)
	}
}

func seedList(seeds []uint64) string {
	var parts []string
	for _, s := range seeds {
		parts = append(parts, fmt.Sprint(s))
	}
	return strings.Join(parts, ", ")
}
