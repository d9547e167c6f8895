package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
				t.Logf("%s work_dir (the lease, its pointers, reboot notes, a pending mark-good):\n%s", n.Name, workDirFiles(n.WorkDir))
			}
		}
		l.Close()
	})
	return l
}

// workDirFiles shows the small files the driver keeps in a node's work_dir
// (lease, rebooting-<node>, pending-good, ...), each with its content, for
// a failed test's log: which lease and reboot notes a node held.
func workDirFiles(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() > 1024 {
			continue
		}
		content, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "--- %s (%s)\n%s", e.Name(), info.ModTime().UTC().Format("15:04:05.000"), content)
	}
	if b.Len() == 0 {
		return "(no small files)"
	}
	return b.String()
}
