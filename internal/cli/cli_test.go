package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run executes cutover in-process and returns the exit code and both streams.
func run(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(ctx, args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(context.Background(), "version")
	if code != ExitOK || !strings.HasPrefix(out, "cutover ") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"sim", "--bogus"}, "unknown flag"},
		{"bad preset", []string{"sim", "--preset", "huge"}, "--preset must be merger or small"},
		{"bad users", []string{"sim", "--users", "0"}, "--users must be at least 1"},
		{"bad time scale", []string{"sim", "--time-scale", "-1"}, "--time-scale must be above 0"},
		{"extra argument", []string{"version", "now"}, "takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(context.Background(), tc.args...)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.want)
			}
		})
	}
}

func TestSimServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	describe := filepath.Join(dir, "sim.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"sim", "--preset", "small", "--describe", describe},
			Streams{Out: &out, Err: &errOut})
	}()

	// Wait for the description file, then check it and stop the simulator.
	deadline := time.Now().Add(20 * time.Second)
	var d struct {
		BaseURL string `json:"baseUrl"`
		CAFile  string `json:"caFile"`
		Tenants []struct {
			Role string `json:"role"`
			Apps []struct {
				ClientID        string `json:"clientId"`
				CertificateFile string `json:"certificateFile"`
			} `json:"apps"`
		} `json:"tenants"`
	}
	for {
		b, err := os.ReadFile(describe)
		if err == nil && json.Unmarshal(b, &d) == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no description after 20 s; stderr %s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("sim exit code %d; stderr %s", code, errOut.String())
	}

	if !strings.HasPrefix(d.BaseURL, "https://127.0.0.1:") || !strings.HasSuffix(d.BaseURL, "/v1.0") {
		t.Errorf("baseUrl = %q", d.BaseURL)
	}
	if _, err := os.Stat(d.CAFile); err != nil {
		t.Errorf("CA file: %v", err)
	}
	if len(d.Tenants) != 2 || d.Tenants[0].Role != "source" || d.Tenants[1].Role != "target" {
		t.Fatalf("tenants = %+v", d.Tenants)
	}
	if d.Tenants[0].Apps[0].CertificateFile == "" {
		t.Error("first app has no certificate file")
	}
	if fi, err := os.Stat(describe); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("description file mode: %v %v", fi, err)
	}
	if !strings.Contains(out.String(), "Graph simulator listening on https://127.0.0.1:") {
		t.Errorf("stdout does not say where it listens: %q", out.String())
	}
}
