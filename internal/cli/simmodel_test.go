package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

// parseModel parses model flags as `cutover sim` would and builds the model.
func parseModel(t *testing.T, args ...string) (graphsim.Model, error) {
	t.Helper()
	cmd := &cobra.Command{}
	var o simOptions
	addModelFlags(cmd.Flags(), &o)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return simModel(cmd, o)
}

func TestSimModelDefaultsAreTheBenchmarkModel(t *testing.T) {
	m, err := parseModel(t)
	if err != nil {
		t.Fatal(err)
	}
	if m.Faults.Rate != 0.001 || !m.Latency.Enabled || m.CeilingFactor != 0 || m.IntuneMissingRetryAfter != nil {
		t.Errorf("defaults %+v, want graphsim.DefaultModel", m)
	}
}

func TestSimModelFlagsOverrideTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.json")
	os.WriteFile(path, []byte(`{"ceilingFactor": 0.55, "retryAfter": "window", "latency": {"enabled": false},
		"buckets": {"entra-writes": {"capacity": 100}}}`), 0o600)
	m, err := parseModel(t, "--model", path, "--ceiling-factor", "0.9", "--intune-missing-retry-after", "0",
		"--fault-weights", "503=2,reset=1", "--read-latency", "150ms", "--load-factor", "0")
	if err != nil {
		t.Fatal(err)
	}
	if m.CeilingFactor != 0.9 || m.RetryAfter != "window" || m.Latency.Enabled ||
		m.Buckets["entra-writes"].Capacity != 100 || *m.IntuneMissingRetryAfter != 0 ||
		m.Faults.Weights["503"] != 2 || m.Faults.Weights["reset"] != 1 ||
		time.Duration(m.Latency.ReadMedian) != 150*time.Millisecond || *m.Latency.LoadFactor != 0 {
		t.Errorf("model %+v", m)
	}
	// A flag left at its default does not undo the file.
	if m.Faults.Rate != 0.001 {
		t.Errorf("fault rate %v, want the default 0.001", m.Faults.Rate)
	}
}

func TestSimModelRejectsBadKnobs(t *testing.T) {
	for _, args := range [][]string{
		{"--retry-after", "soon"}, {"--ceiling-factor", "-1"}, {"--fault-weights", "meteor=1"},
		{"--start-level", "half"}, {"--model", "/nonexistent/model.json"},
	} {
		_, err := parseModel(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
