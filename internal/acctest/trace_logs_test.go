package acctest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestTraceLogs_ALeakedSecretFailsTheTestWithoutShowingIt runs
// ExpectNoneOf on logs written by hand, on a test double that records
// failures instead of failing.
func TestTraceLogs_ALeakedSecretFailsTheTestWithoutShowingIt(t *testing.T) {
	logs := StartTraceLogs(t)
	if os.Getenv("TF_LOG") != "TRACE" || !strings.HasPrefix(os.Getenv("TF_LOG_PATH_MASK"), logs.dir) {
		t.Fatalf("TF_LOG=%q TF_LOG_PATH_MASK=%q, want TRACE into %s", os.Getenv("TF_LOG"), os.Getenv("TF_LOG_PATH_MASK"), logs.dir)
	}
	filler := strings.Repeat("2026-12-02T05:00:00Z [TRACE] provider: a line of an ordinary trace\n", 200)
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(logs.dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("terraform.log", filler)
	if r := runRecorded(func(tb testing.TB) { logs.ExpectNoneOf(tb, "the token", "s3cr3t-token") }); r.failed {
		t.Fatalf("clean logs: the check failed: %q", r.messages)
	}
	write("provider.log", filler+"[DEBUG] request: Authorization: Bearer s3cr3t-token\n")
	r := runRecorded(func(tb testing.TB) { logs.ExpectNoneOf(tb, "the token", "s3cr3t-token") })
	if !r.failed || len(r.messages) != 1 || !strings.Contains(r.messages[0], "provider.log, line 201") {
		t.Fatalf("a leaked token: failed %v with %q, want one failure naming provider.log, line 201", r.failed, r.messages)
	}
	if strings.Contains(r.messages[0], "s3cr3t-token") {
		t.Errorf("the failure shows the secret: %s", r.messages[0])
	}
	write("terraform.log", "short")
	write("provider.log", "short")
	if r := runRecorded(func(tb testing.TB) { logs.ExpectNoneOf(tb, "the token", "s3cr3t-token") }); !r.failed {
		t.Error("logs of 10 bytes passed the check: their silence proves nothing")
	}
}

// recordingTB is a testing.TB whose failures are recorded, for checking
// that a check fails.
type recordingTB struct {
	testing.TB
	failed   bool
	messages []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.failed = true
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatal(args ...any) {
	r.failed = true
	r.messages = append(r.messages, fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = true
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// runRecorded runs check on its own goroutine, as Fatal ends it.
func runRecorded(check func(testing.TB)) *recordingTB {
	r := &recordingTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r
}
