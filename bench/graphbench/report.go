package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

// writeTables prints one Markdown table per workload and variant, the table of W1 over
// three app registrations, the time-scale check and the targets.
func writeTables(w io.Writer, rep *report) {
	for _, wl := range rep.Workloads {
		if wl == "W1x3" {
			continue
		}
		for _, v := range rep.Variants {
			rs := rep.select_(func(r *result) bool {
				return r.Workload == wl && r.Variant == v && !r.Check
			})
			if len(rs) > 0 {
				writeRunTable(w, wl, v, rs)
			}
		}
	}
	writeMultiApp(w, rep)
	writeScaleCheck(w, rep)
	writeTargets(w, rep)
}

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
		rs := rep.select_(func(r *result) bool { return r.Workload == "W1x3" && r.StartLevel == level })
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
	checks := rep.select_(func(r *result) bool { return r.Check })
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
			r.StartLevel == "" {
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
	for _, c := range []string{cCutover, cCutoverBatch} {
		for _, v := range []struct {
			variant string
			min     float64
		}{{"default", 0.95}, {"ceiling", 0.90}} {
			for _, wl := range []string{"W1", "W3", "W5"} {
				if r := rep.find(wl, v.variant, c, false); r != nil {
					out = append(out, target{fmt.Sprintf("%s: E ≥ %.2f on %s, %s", c, v.min, wl, v.variant),
						fmt.Sprintf("%.3f", r.Efficiency), r.Efficiency >= v.min})
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
		for _, r := range rep.select_(func(r *result) bool { return r.Workload == "W1x3" && r.Contender == c }) {
			share := r.PostBurstRevokes / tenantWriteLimit
			start := "full"
			if r.StartLevel != "" {
				start = r.StartLevel
			}
			out = append(out, target{fmt.Sprintf("%s: three apps reach ≥ 90%% of the tenant write limit (%s)", c, start),
				fmt.Sprintf("%.1f/s = %.0f%%", r.PostBurstRevokes, 100*share), share >= 0.9})
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
