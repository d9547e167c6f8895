package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failed test's log shows the lease and the reboot notes a node's
// work_dir held, with their contents, and leaves out directories and
// large files (bundles).
func TestWorkDirFiles_ShowsTheLeaseAndRebootNotesNotBundles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"lease":           "moved=n2\n",
		"rebooting-n1":    "node=n1\nactive_version=1.0\nuntil=99\n",
		"bundles/x.raucb": "",
		"big":             strings.Repeat("x", 2048),
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := workDirFiles(dir)
	for _, want := range []string{"--- lease", "moved=n2", "--- rebooting-n1", "active_version=1.0"} {
		if !strings.Contains(got, want) {
			t.Errorf("the work_dir dump lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "bundles") || strings.Contains(got, "big") {
		t.Errorf("the work_dir dump shows a directory or a large file:\n%s", got)
	}
	if got := workDirFiles(filepath.Join(dir, "none")); got == "" {
		t.Error("a missing work_dir shows nothing")
	}
}
