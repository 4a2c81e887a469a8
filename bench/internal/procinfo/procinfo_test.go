package procinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	data := "Name:\tcutover\nVmPeak:\t  900 kB\nVmHWM:\t  461408 kB\nmodel name\t: AMD EPYC\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"VmHWM", "461408 kB"},
		{"model name", "AMD EPYC"},
		{"Name", "cutover"},
		{"VmRSS", ""},
	} {
		if got := Field(path, tc.name); got != tc.want {
			t.Errorf("Field(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := Field(filepath.Join(t.TempDir(), "none"), "VmHWM"); got != "" {
		t.Errorf("Field of a missing file = %q, want empty", got)
	}
}
