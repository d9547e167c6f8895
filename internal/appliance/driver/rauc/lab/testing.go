package lab

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// New starts a lab for a test and stops it when the test ends, pass or fail
// (printing the tail of each node's logs on failure). It skips the test,
// saying why, when not run as root; a missing package fails it naming the
// script that installs it.
func New(t testing.TB, opts Options) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the RAUC lab runs sshd and rauc service as root; run the tests as root (make test does on these machines)")
	}
	if err := Requirements(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start RAUC lab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range l.Nodes {
				for _, f := range []string{"rauc.log", "sshd.log", "record.jsonl"} {
					b, _ := os.ReadFile(filepath.Join(n.Dir, f))
					if len(b) > 3000 {
						b = b[len(b)-3000:]
					}
					t.Logf("%s %s:\n%s", n.Name, f, b)
				}
			}
		}
		l.Close()
	})
	return l
}
