// Package statelock shows, with a real PostgreSQL server and the real
// terraform CLI, the two locks that keep two applies off one cluster:
// Terraform's state lock (pg backend) for applies of the same state, and
// the provider's cluster lease for applies of different states. It runs
// examples/ci-pg-backend as it is.
package statelock

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
)

// TestPGBackend_SecondApplyOfTheSameStateIsLockedOutAndAnotherStateIsRefusedByTheLease
// runs three applies of examples/ci-pg-backend against one simulated
// cluster while the first rolls it: the second, of the same state
// (database team_a), fails on the pg backend's state lock; the third, of
// another state (database team_b), is refused by the cluster's lease,
// naming the first apply's provider as the holder. The first completes.
//
// The two states are in two databases, not two schemas of one: Terraform's
// pg backend takes its advisory locks per database, with ids that the
// schemas of one database share, so states in two schemas would also lock
// each other out and the lease would never be reached.
func TestPGBackend_SecondApplyOfTheSameStateIsLockedOutAndAnotherStateIsRefusedByTheLease(t *testing.T) {
	acctest.PreCheck(t) // it needs the terraform CLI and PostgreSQL
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci-pg-backend", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	conns := startPostgres(t, "team_a", "team_b")
	dir := t.TempDir()
	// The pg backend needs `terraform init`, which development overrides
	// do not support: the provider is installed from a filesystem mirror.
	cli := acctest.FilesystemMirrorCLI(t, dir)
	provider := cli.Provider

	// The standalone simulator, slow enough (a 90 s reboot takes 9 s) that
	// the rollout is still running while the other applies try.
	bundle := filepath.Join(dir, "appliance-1.1.bundle")
	if out, err := exec.Command(provider, "bundle", "--out", bundle, "--version", "1.1", "--supported-from", "1.0").CombinedOutput(); err != nil {
		t.Fatalf("bundle: %v\n%s", err, out)
	}
	endpoint, token := acctest.StartSimulator(t, provider, dir, 10)
	sim, err := client.New(client.Config{Endpoint: endpoint, Token: token})
	if err != nil {
		t.Fatal(err)
	}

	workspace := func(name, database string) *tfDir {
		d := &tfDir{t: t, tf: cli.Terraform, dir: filepath.Join(dir, name), env: cli.Env(
			"PG_CONN_STR="+conns[database],
			"APPLIANCE_ENDPOINT="+endpoint, "APPLIANCE_TOKEN="+token)}
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.dir, "main.tf"), example, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, code := d.run("init", "-input=false", "-no-color"); code != 0 {
			t.Fatalf("terraform init (%s): exit %d\n%s", name, code, out)
		}
		return d
	}
	first := workspace("first", "team_a")
	sameState := workspace("same-state", "team_a")
	otherState := workspace("other-state", "team_b")
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s", "-var", "bundle=" + bundle}

	running := first.start(apply...)
	defer running.stop()
	// The first apply holds the state lock from its start; once it holds
	// the cluster's lease for its rollout too, both locks are taken. Its
	// image's staging takes the lease before that and gives it back, as a
	// lease is one operation's: another state's apply may take it in
	// between, and the first apply's rollout then meets that lease. So the
	// others start only once the rollout holds it, not the staging.
	var owner string
	leaseTaken := regexp.MustCompile(`^lease taken by (.+?) \(operation (.*)\)$`)
	if !waitFor(90*time.Second, func() bool {
		events, err := sim.Events(context.Background(), "demo", 0)
		if err != nil {
			return false
		}
		for _, e := range events {
			if m := leaseTaken.FindStringSubmatch(e.Message); m != nil && !strings.HasPrefix(m[2], "stage ") {
				owner = m[1]
				return true
			}
		}
		return running.exited()
	}) || owner == "" {
		t.Fatalf("the first apply's rollout never took the cluster's lease:\n%s", running.output())
	}

	// Both at once, so that they meet the first apply well before its end
	// even on a loaded machine.
	same, other := sameState.start(apply...), otherState.start(apply...)
	code := same.wait(3 * time.Minute)
	if out := same.output(); code == 0 || !strings.Contains(out, "Error acquiring the state lock") {
		t.Errorf("an apply of the same state while the first runs: exit %d, want the state lock error:\n%s", code, out)
	}
	code = other.wait(3 * time.Minute)
	out := other.output()
	if running.exited() {
		t.Fatalf("the first apply ended before the other state's apply was refused; the test cannot tell what stopped it:\n%s", running.output())
	}
	t.Logf("the other state's apply: exit %d: %s", code, refusal(out))
	if code == 0 || !strings.Contains(oneLine(out), owner) {
		t.Errorf("an apply of another state targeting the same cluster: exit %d, want a refusal naming the lease holder %q:\n%s", code, owner, out)
	}

	if code := running.wait(3 * time.Minute); code != 0 {
		t.Fatalf("the first apply: exit %d\n%s", code, running.output())
	}
	c, err := sim.GetCluster(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if !appliance.SameVersion(n.Active.Version, "1.1") {
			t.Errorf("node %s runs %s after the first apply, want 1.1", n.Name, n.Active.Version)
		}
	}
	// Only the first apply ever held the cluster.
	events, err := sim.Events(context.Background(), "demo", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if m := leaseTaken.FindStringSubmatch(e.Message); m != nil && m[1] != owner {
			t.Errorf("another holder took the cluster's lease: %s", e.Message)
		}
	}
}

// tfDir is a Terraform working directory with its environment.
type tfDir struct {
	t   *testing.T
	tf  string
	dir string
	env []string
}

func (d *tfDir) command(args ...string) *exec.Cmd {
	cmd := exec.Command(d.tf, args...)
	cmd.Dir, cmd.Env = d.dir, d.env
	// Its own process group, so that stopping it stops its plugin too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// run runs terraform to its end (at most 3 minutes) and returns its output
// and exit code.
func (d *tfDir) run(args ...string) (string, int) {
	d.t.Helper()
	r := d.start(args...)
	code := r.wait(3 * time.Minute)
	return r.output(), code
}

func (d *tfDir) start(args ...string) *running {
	d.t.Helper()
	var buf lockedBuffer
	cmd := d.command(args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	r := &running{cmd: cmd, out: &buf, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	return r
}

// running is a terraform command under way.
type running struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func (r *running) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait returns the exit code, killing the command's group after d (-1).
func (r *running) wait(d time.Duration) int {
	select {
	case <-r.done:
	case <-time.After(d):
		r.stop()
		return -1
	}
	return r.cmd.ProcessState.ExitCode()
}

func (r *running) stop() {
	if !r.exited() {
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	}
}

func (r *running) output() string { return r.out.String() }

// refusal is the text of terraform's first error, on one line.
func refusal(out string) string {
	one := oneLine(out)
	if i := strings.Index(one, "Error: "); i >= 0 {
		one = one[i:]
	}
	return one
}

// oneLine undoes terraform's wrapping of long messages.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
