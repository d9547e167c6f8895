package statelock

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startPostgres starts a throwaway PostgreSQL server on a loopback port,
// with its data in a temp dir and the given databases created, and returns
// a connection string for the pg backend per database. The server binaries come from PATH (initdb, pg_ctl). initdb
// refuses to run as root, so as root the server runs as an unprivileged
// user: "nobody", or a system user created for the purpose when the
// machine has none. The server is stopped and its files removed at the end.
func startPostgres(t *testing.T, databases ...string) map[string]string {
	t.Helper()
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		t.Fatalf("the pg backend test needs PostgreSQL's initdb and pg_ctl on PATH: %v", err)
	}
	pgctl, err := exec.LookPath("pg_ctl")
	if err != nil {
		t.Fatalf("the pg backend test needs PostgreSQL's pg_ctl on PATH: %v", err)
	}
	// Not t.TempDir: its parents are private to root, and the server's
	// user must reach its data directory.
	dir, err := os.MkdirTemp("", "statelock-pg-") //nolint:usetesting // t.TempDir's parents are private; the server's unprivileged user must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cred := serverUser(t)
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	postgres, err := exec.LookPath("postgres")
	if err != nil {
		t.Fatalf("the pg backend test needs PostgreSQL's postgres on PATH: %v", err)
	}
	run := func(stdin, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Dir = dir // the server's user may not enter the test's directory
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run("", initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	// The databases, made by the server itself in single-user mode: no
	// client program needed.
	var create strings.Builder
	for _, db := range databases {
		fmt.Fprintf(&create, "CREATE DATABASE %s;\n\n", db)
	}
	run(create.String(), postgres, "--single", "-D", data, "-F", "-j", "postgres")
	port := freePort(t)
	// Loopback TCP only; the socket directory is the temp dir, so nothing
	// is written outside it. fsync off: the data is thrown away.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", port, dir)
	run("", pgctl, "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
	t.Cleanup(func() {
		cmd := exec.Command(pgctl, "-D", data, "-m", "immediate", "-w", "stop")
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stopping PostgreSQL: %v\n%s", err, out)
		}
	})
	conns := map[string]string{}
	for _, db := range databases {
		conns[db] = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
	}
	return conns
}

// serverUser is the unprivileged user the server runs as when the tests run
// as root, or nil to run it as the current user.
func serverUser(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		const name = "appliance-test-pg"
		if u, err = user.Lookup(name); err != nil {
			out, uerr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
			if uerr != nil {
				t.Fatalf("initdb refuses root and there is no user nobody; creating %s: %v\n%s", name, uerr, out)
			}
			if u, err = user.Lookup(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	// No supplementary groups: root's must not follow the server.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("a TCP listener's address is a %T, not a *net.TCPAddr", ln.Addr())
	}
	return a.Port
}

// waitFor polls cond every 50 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// lockedBuffer is an output buffer that a command writes while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
