package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Every process the harness starts runs in a process group of its own, so
// that a kill reaches terraform and the provider plugin it started, as
// Ctrl-C in a terminal (SIGINT to the foreground group) or the OOM killer
// of a CI runner would.

// group is a started process group.
type group struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, once done is closed
}

func startGroup(cmd *exec.Cmd) (*group, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &group{cmd: cmd, done: make(chan struct{})}
	go func() {
		g.err = cmd.Wait()
		close(g.done)
	}()
	return g, nil
}

// signal sends sig to the whole group.
func (g *group) signal(sig syscall.Signal) {
	_ = syscall.Kill(-g.cmd.Process.Pid, sig)
}

// wait waits for the group leader to exit, for at most d; after that the
// group is killed.
func (g *group) wait(d time.Duration) (exited bool) {
	select {
	case <-g.done:
		return true
	case <-time.After(d):
		g.signal(syscall.SIGKILL)
		<-g.done
		return false
	}
}

func (g *group) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// simulator is the standalone simulator of one trial. A restart keeps its
// address, token and state file, as a restarted appliance manager would.
type simulator struct {
	provider string
	args     []string
	endpoint string
	token    string
	log      *os.File
	g        *group
}

func newSimulator(provider, dir, topologyFile string, timeScale float64) (*simulator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(filepath.Join(dir, "simulator.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	token := "chaos-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &simulator{
		provider: provider,
		args: []string{"simulator", "--listen", addr, "--state", filepath.Join(dir, "sim.json"),
			"--topology-file", topologyFile, "--time-scale", strconv.FormatFloat(timeScale, 'f', -1, 64), "--token", token},
		endpoint: "http://" + addr,
		token:    token,
		log:      log,
	}
	return s, s.start()
}

func (s *simulator) start() error {
	cmd := exec.Command(s.provider, s.args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	g, err := startGroup(cmd)
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	s.g = g
	deadline := time.Now().Add(15 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(s.endpoint + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if g.exited() {
			return fmt.Errorf("the simulator exited at start (%v); see %s", g.err, s.log.Name())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the simulator did not answer /healthz within 15s; see %s", s.log.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crash kills the simulator without warning; restart brings it back.
func (s *simulator) crash() {
	s.g.signal(syscall.SIGKILL)
	<-s.g.done
}

// stop shuts it down (SIGINT, then SIGKILL after 10 s).
func (s *simulator) stop() {
	if s.g != nil && !s.g.exited() {
		s.g.signal(syscall.SIGINT)
		s.g.wait(10 * time.Second)
	}
	_ = s.log.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("a TCP listener's address is a %T, not a *net.TCPAddr", ln.Addr())
	}
	return a.Port, nil
}

// workspace is one trial's Terraform working directory, with its own local
// state, talking to the trial's simulator.
type workspace struct {
	terraform string
	dir       string
	env       []string
	runs      int
}

// run starts `terraform args...` in its own process group, writing its
// output to a numbered log file.
func (w *workspace) start(args ...string) (*group, string, error) {
	w.runs++
	logPath := filepath.Join(w.dir, fmt.Sprintf("%02d-%s.log", w.runs, args[0]))
	out, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(w.terraform, args...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = out, out
	g, err := startGroup(cmd)
	if err != nil {
		_ = out.Close()
		return nil, "", err
	}
	go func() {
		<-g.done
		_ = out.Close()
	}()
	return g, logPath, nil
}

// runToEnd runs terraform to its end, bounded by ctx (then the group is
// killed), and returns its output and exit code.
func (w *workspace) runToEnd(ctx context.Context, args ...string) (string, int, error) {
	g, logPath, err := w.start(args...)
	if err != nil {
		return "", -1, err
	}
	select {
	case <-g.done:
	case <-ctx.Done():
		g.signal(syscall.SIGKILL)
		<-g.done
	}
	data, rerr := os.ReadFile(logPath)
	if rerr != nil {
		return "", -1, rerr
	}
	if ctx.Err() != nil {
		return string(data), -1, ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(g.err, &exit) {
		return string(data), exit.ExitCode(), nil
	}
	if g.err != nil {
		return string(data), -1, g.err
	}
	return string(data), 0, nil
}

var applyArgs = []string{"apply", "-auto-approve", "-input=false", "-no-color", "-compact-warnings"}
var planArgs = []string{"plan", "-detailed-exitcode", "-input=false", "-no-color", "-compact-warnings"}
