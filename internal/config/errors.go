package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file. Its text names the file, the line, the key
// and what would have been allowed, so that a person can fix the file without reading code:
//
//	cutover.yaml:12: policies.devices.ios.company: unknown action "nuke" (allowed: retire, wipe, delete, leave)
type Error struct {
	File string // the path as given to Load
	Line int    // 1-based; 0 when the problem has no single place (a missing section)
	Key  string // dotted path such as tenants.source.apps[0].clientId; empty for the document
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order. Load returns it (as error) when
// the file has any problem, so a person sees them all at once rather than one per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders problems by line, keeping the order of discovery within a line; problems
// without a line (missing sections) come last.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		li, lj := es[i].Line, es[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// suggest returns the allowed word closest to got, or "" when none is close enough to be a
// plausible typo.
func suggest(got string, allowed []string) string {
	best, bestDist := "", -1
	lower := strings.ToLower(got)
	for _, a := range allowed {
		if strings.ToLower(a) == lower {
			return a
		}
		d := editDistance(lower, strings.ToLower(a))
		if bestDist < 0 || d < bestDist {
			best, bestDist = a, d
		}
	}
	limit := max(1, min(3, len(got)/3))
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// allowedList formats allowed values for a message: "retire, wipe, delete, leave".
func allowedList(allowed []string) string { return strings.Join(allowed, ", ") }
