package raucacc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// TestAccRAUC_ApplyKilledWithSIGKILLMidRolloutConvergesOnTheNextApplyWithNoNodeInstalledOrRebootedTwice
// runs `terraform apply` as a real process (the provider built and
// installed with dev_overrides, as an operator's CLI runs it), kills
// terraform and its provider plugin with SIGKILL as soon as the lab's record
// shows that the primary n1's activation has begun (its reboot), and applies
// once more at once, while n1, a slow machine, is still down (its reboot
// lasts 20 s, longer than the lease's 10 s heartbeat): the new apply sees n1
// rebooting, adopts the dead apply's lease (moved to n2 before the reboot),
// waits for n1 instead of rebooting it again, and that one apply converges (each node's own rauc status shows
// booted = good = 1.1, the other slot 1.0), the next plan is empty, each node
// was installed exactly once and rebooted exactly once, and HA partners were
// never down together.
func TestAccRAUC_ApplyKilledWithSIGKILLMidRolloutConvergesOnTheNextApplyWithNoNodeInstalledOrRebootedTwice(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	l := lab.New(t, lab.Options{Nodes: 4})
	l.Node("n1").SetRebootDelay(20 * time.Second)
	b, err := l.BuildBundle(lab.BundleSpec{Version: "1.1"})
	if err != nil {
		t.Fatal(err)
	}
	ws := newCLIWorkspace(t)
	cfg := `terraform {
  required_providers {
    appliance = { source = "applianceops/appliance" }
  }
}
` + raucUpgradeConfig(l, b, "appliance_software_image.next.version")
	if err := os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	g, logPath := ws.start(t, "apply", "-auto-approve", "-input=false", "-no-color")
	n1 := l.Node("n1")
	var plugin int
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if c, _ := n1.Count(lab.EventReboot); c > 0 {
			break
		}
		// The group's members are read from /proc (every process's stat
		// file): looked for again only when the plugin seen last is gone
		// (terraform starts one per phase).
		if plugin == 0 || syscall.Kill(plugin, 0) != nil {
			plugin = g.member("terraform-provi")
		}
		if g.exited() {
			t.Fatalf("the first apply ended before n1 rebooted: %s", tail(logPath))
		}
		if time.Now().After(deadline) {
			g.kill()
			t.Fatalf("n1 did not reboot within 4m of the first apply: %s", tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if plugin == 0 || syscall.Kill(plugin, 0) != nil {
		plugin = g.member("terraform-provi")
	}
	if plugin == 0 {
		t.Fatal("no provider plugin process was seen in terraform's process group: the kill would not reach it")
	}
	g.kill()
	if alive := g.alive(); len(alive) > 0 {
		t.Fatalf("after SIGKILL these processes of the apply still run: %v", alive)
	}
	t.Logf("%.1fs: killed terraform and its provider plugin (pid %d) with SIGKILL after n1's reboot began", time.Since(start).Seconds(), plugin)
	for _, n := range l.Nodes {
		r, _ := n.Count(lab.EventReboot)
		t.Logf("at the kill %s had rebooted %d times", n.Name, r)
	}

	// One more apply, started at once, as an operator or a CI retry would.
	reapply := time.Now()
	out, code := ws.run(t, 5*time.Minute, "apply", "-auto-approve", "-input=false", "-no-color")
	if code != 0 {
		t.Fatalf("the apply after the kill failed (exit %d):\n%s", code, out)
	}
	t.Logf("%.1fs: the second apply converged", time.Since(start).Seconds())
	if up := lastUp(t, n1); !up.After(reapply) {
		t.Fatalf("n1 was up again (%s) before the second apply began (%s): the test did not apply during its reboot", up.Format(time.RFC3339Nano), reapply.Format(time.RFC3339Nano))
	}
	if out, code := ws.run(t, 2*time.Minute, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the plan after the second apply is not empty (exit %d):\n%s", code, out)
	}
	for _, n := range l.Nodes {
		booted, v, status, err := readRaucStatus(l, n)
		if err != nil {
			t.Fatal(err)
		}
		if booted != "B" || v != "1.1" || status != "good" || n.SlotVersion("A") != "1.0" {
			t.Errorf("%s: booted %s holding %q (%s), slot A holds %s; want B holding 1.1, good, and A 1.0", n.Name, booted, v, status, n.SlotVersion("A"))
		}
	}
	if err := expectLabEvents(l, each(l, 1), each(l, 1)); err != nil {
		t.Error(err)
	}
	if err := expectPartnersNeverDownTogether(l); err != nil {
		t.Error(err)
	}
}

// cliWorkspace is a Terraform working directory whose CLI starts the
// provider built from this tree, through dev_overrides.
type cliWorkspace struct {
	terraform, dir string
	env            []string
	runs           int
}

func newCLIWorkspace(t *testing.T) *cliWorkspace {
	t.Helper()
	dir := t.TempDir()
	cli := acctest.DevOverridesCLI(t, dir)
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	return &cliWorkspace{terraform: cli.Terraform, dir: work, env: cli.Env()}
}

// procGroup is a command started in a process group of its own, so that one
// kill reaches terraform and the provider plugin it started.
type procGroup struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (w *cliWorkspace) start(t *testing.T, args ...string) (*procGroup, string) {
	t.Helper()
	w.runs++
	logPath := filepath.Join(w.dir, fmt.Sprintf("%02d-%s.log", w.runs, args[0]))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(w.terraform, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close() // nothing was written; the start error is the one to report
		t.Fatal(err)
	}
	g := &procGroup{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = f.Close() // the log is diagnostics only; a short write shows in the log itself
		close(g.done)
	}()
	t.Cleanup(g.kill)
	return g, logPath
}

// run runs terraform to its end, bounded by limit, and returns its output
// and exit code.
func (w *cliWorkspace) run(t *testing.T, limit time.Duration, args ...string) (string, int) {
	t.Helper()
	g, logPath := w.start(t, args...)
	select {
	case <-g.done:
	case <-time.After(limit):
		g.kill()
		t.Fatalf("terraform %s did not finish within %s: %s", args[0], limit, tail(logPath))
	}
	out, _ := os.ReadFile(logPath)
	return string(out), g.cmd.ProcessState.ExitCode()
}

func (g *procGroup) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the whole group and waits for its leader.
func (g *procGroup) kill() {
	_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
	}
}

// members lists the live (not zombie) processes of the group with their
// command names, read from /proc.
func (g *procGroup) members() map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		open, closing := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(string(stat[closing+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if pgrp, _ := strconv.Atoi(f[2]); pgrp == g.cmd.Process.Pid {
			out[pid] = string(stat[open+1 : closing])
		}
	}
	return out
}

// member returns the pid of a live process of the group whose command name
// starts with prefix, or 0.
func (g *procGroup) member(prefix string) int {
	for pid, comm := range g.members() {
		if strings.HasPrefix(comm, prefix) {
			return pid
		}
	}
	return 0
}

// alive waits briefly for the group to be gone and returns what still runs.
func (g *procGroup) alive() map[int]string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		m := g.members()
		if len(m) == 0 || ctx.Err() != nil {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// lastUp is when the node last came up, from its record.
func lastUp(t *testing.T, n *lab.Node) time.Time {
	t.Helper()
	rec, err := n.Record()
	if err != nil {
		t.Fatal(err)
	}
	var up time.Time
	for _, e := range rec {
		if e.Event == lab.EventUp {
			up = e.Time
		}
	}
	return up
}
