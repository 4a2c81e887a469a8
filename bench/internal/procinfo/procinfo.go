// Package procinfo reads the few facts the benchmark programs report about the machine and
// their own process from Linux's /proc files. Elsewhere every answer is empty or "unknown".
package procinfo

import (
	"bufio"
	"os"
	"strings"
)

// Field returns the value of the first "name: value" line of a /proc file, trimmed, or ""
// when the file or the line is missing.
func Field(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// PeakRSS is the process's high-water resident set size as the kernel reports it
// ("461408 kB"), or "unknown".
func PeakRSS() string {
	if v := Field("/proc/self/status", "VmHWM"); v != "" {
		return v
	}
	return "unknown"
}
