package acctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TraceLogs is a directory of the test where the CLI and the provider write
// trace logs, one file per process, so that a test can prove a secret is
// in none of them.
type TraceLogs struct{ dir string }

// minTraceBytes is less than any real trace of a CLI run with the
// provider: logs that small mean logging did not happen as set up, and a
// search of them would prove nothing.
const minTraceBytes = 10000

// StartTraceLogs has every CLI command and provider process the test
// starts from now on log at TRACE (TF_LOG, TF_LOG_PATH_MASK). It sets
// environment variables, so the test may not run in parallel.
func StartTraceLogs(t testing.TB) *TraceLogs {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(dir, "%s.log"))
	return &TraceLogs{dir: dir}
}

// ExpectNoneOf fails the test for every log line that holds one of secrets
// (what names them: "the token"), naming the file and the line with the
// secret masked, and when the logs are too small to be a real trace of the
// test's runs.
func (l *TraceLogs) ExpectNoneOf(t testing.TB, what string, secrets ...string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(l.dir, "*.log"))
	if len(logs) == 0 {
		t.Fatal("TF_LOG_PATH_MASK produced no log: the test would prove nothing")
	}
	var total int
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
		for i, line := range strings.Split(string(b), "\n") {
			masked := line
			for _, s := range secrets {
				masked = strings.ReplaceAll(masked, s, "<"+what+">")
			}
			if masked != line {
				t.Errorf("%s appears in the trace log %s, line %d: %.300s", what, filepath.Base(p), i+1, masked)
			}
		}
	}
	if total < minTraceBytes {
		t.Fatalf("trace logs hold only %d bytes: the test would prove nothing", total)
	}
}
