package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Fault is what the fault switch makes a version do on a node.
type Fault string

// The faults a node can play.
const (
	FaultNone      Fault = ""
	FaultUnhealthy Fault = "unhealthy" // boots, but lab-health fails
	FaultHang      Fault = "hang"      // never comes back: no rauc service, no sshd
)

// Node is one lab appliance.
type Node struct {
	Name string
	Dir  string
	// Addr is host:port of the node's sshd.
	Addr string
	Port int
	// HostKey is the node's SSH host key.
	HostKey ssh.PublicKey
	// WorkDir is a directory of the node's own for a driver's files
	// (bundles, lease, notes): the lab's nodes share one file system, real
	// ones each have theirs.
	WorkDir string

	opts *Options
	rec  *recorder

	mu      sync.Mutex
	dbus    *proc
	rauc    *proc
	sshd    *proc
	booted  string // bootname, "" while down
	version string // booted version
	closed  bool
	// rebootDelay overrides Options.RebootDelay for this node when set.
	rebootDelay time.Duration
	// portLock reserves Port for this node among every lab on the machine
	// for the node's life (see freePort).
	portLock *os.File

	stop     chan struct{}
	loopDone chan struct{}
}

func (n *Node) path(rel string) string { return filepath.Join(n.Dir, rel) }

// proc is a daemon the lab started.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(name string, env []string, logPath string, argv ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, and killed with the lab process should it die
	// without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close() // nothing written to it: the start error is the one to report
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close() // unbuffered: the process wrote its log through the descriptor, nothing is left to flush
		close(p.done)
	}()
	return p, nil
}

// pid is the process's id: unshare and the shell exec what they start, so
// it is the daemon's own.
func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill stops the process and everything it started (sshd's sessions run
// in sessions of their own, so a process group is not enough), bounded.
func (p *proc) kill() {
	if p == nil {
		return
	}
	for _, pid := range descendants(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], child)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func (n *Node) env() []string {
	return []string{
		"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + n.path("bus.sock"),
		"PATH=" + n.path("bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"RAUC_LAB_ROOT=" + n.path("root"),
		"HOME=" + n.Dir,
	}
}

// setUp writes the factory state of the node: slot A holds the factory
// version, written outside RAUC (so RAUC knows no bundle for it), slot B is
// empty; A is primary and good.
func (n *Node) setUp(lab *Lab, clientKey *sshKey) error {
	for _, d := range []string{"bin", "boot", "data", "home", "mnt", "root/etc"} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := n.writeScripts(n.opts.Compatible, lab.Keyring, n.opts.BootAttempts); err != nil {
		return err
	}
	if err := writeSlot(n.path("slotA.img"), slotImage(n.opts.FactoryVersion), n.opts.SlotSize); err != nil {
		return err
	}
	if err := writeSlot(n.path("slotB.img"), nil, n.opts.SlotSize); err != nil {
		return err
	}
	for name, v := range map[string]string{"primary": "A", "left.A": strconv.Itoa(n.opts.BootAttempts), "good.A": "1", "left.B": "0"} {
		if err := writeFile(n.path("boot/"+name), []byte(v+"\n"), 0o644); err != nil {
			return err
		}
	}
	if err := writeFile(n.path("faults"), nil, 0o644); err != nil {
		return err
	}
	passwd, err := applianceShell("/etc/passwd")
	if err != nil {
		return err
	}
	if err := writeFile(n.path("passwd"), passwd, 0o644); err != nil {
		return err
	}
	host, err := newSSHKey(n.Name)
	if err != nil {
		return err
	}
	n.HostKey = host.public
	if err := writeFile(n.path("ssh_host_ed25519_key"), host.private, 0o600); err != nil {
		return err
	}
	if err := writeFile(n.path("ssh_host_ed25519_key.pub"), ssh.MarshalAuthorizedKey(host.public), 0o644); err != nil {
		return err
	}
	return writeFile(n.path("authorized_keys"), []byte(clientKey.authorizedLine()), 0o600)
}

// applianceShell returns the machine's passwd file with root's login shell
// set to /bin/sh. An appliance's root shell is a POSIX sh (BusyBox's on most
// embedded systems), and sshd runs every command of a session through it:
// with the machine's bash instead, a bashism in the driver's scripts would
// pass here and fail on a real node, and each session would start a shell
// several times as costly. Only the node's sshd sees this file.
func applianceShell(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == "root" {
			f[6] = "/bin/sh"
			lines[i] = strings.Join(f, ":")
		}
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// slotImage is the content of a root file system image in the lab: its
// os-release, which is all the lab reads of it.
func slotImage(version string) []byte {
	return []byte(fmt.Sprintf("NAME=\"Lab Appliance\"\nID=lab-appliance\nVERSION_ID=%s\nPRETTY_NAME=\"Lab Appliance %s\"\n", version, version))
}

func writeSlot(path string, content []byte, size int64) error {
	buf := make([]byte, size)
	copy(buf, content)
	return writeFile(path, buf, 0o644)
}

// slotVersion reads the os-release version at the start of a slot image.
func slotVersion(path string) (string, []byte) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	buf := make([]byte, 4096)
	k, _ := f.Read(buf)
	buf = buf[:k]
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	for _, line := range strings.Split(string(buf), "\n") {
		if v, ok := strings.CutPrefix(line, "VERSION_ID="); ok {
			return strings.Trim(v, `"`), buf
		}
	}
	return "", buf
}

func (n *Node) readBoot(name string) string {
	b, _ := os.ReadFile(n.path("boot/" + name))
	return strings.TrimSpace(string(b))
}

func (n *Node) writeBoot(name, v string) {
	tmp := n.path("boot/" + name + ".tmp")
	_ = os.WriteFile(tmp, []byte(v+"\n"), 0o644)
	_ = os.Rename(tmp, n.path("boot/"+name))
}

func otherSlot(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

// chooseSlot plays the bootloader: boot the primary slot when it is good
// or has attempts left (counting one down when it is not marked good),
// else fall back to the other slot on the same terms.
func (n *Node) chooseSlot() (slot string, fallback bool) {
	primary := n.readBoot("primary")
	if primary != "A" && primary != "B" {
		primary = "A"
	}
	for i, s := range []string{primary, otherSlot(primary)} {
		if _, err := os.Stat(n.path("boot/good." + s)); err == nil {
			return s, i > 0
		}
		left, _ := strconv.Atoi(n.readBoot("left." + s))
		if left > 0 {
			n.writeBoot("left."+s, strconv.Itoa(left-1))
			if i > 0 {
				n.writeBoot("primary", s)
			}
			return s, i > 0
		}
	}
	return "", false
}

// fault returns the fault switched on for version v.
func (n *Node) fault(v string) Fault {
	b, _ := os.ReadFile(n.path("faults"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == v {
			return Fault(f[1])
		}
	}
	return FaultNone
}

// SetFault makes version v play fault f on this node from its next boot on
// (FaultNone clears it).
func (n *Node) SetFault(version string, f Fault) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, _ := os.ReadFile(n.path("faults"))
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if fs := strings.Fields(line); len(fs) == 2 && fs[0] != version {
			lines = append(lines, line)
		}
	}
	if f != FaultNone {
		lines = append(lines, version+" "+string(f))
	}
	return writeFile(n.path("faults"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// SetRebootDelay makes this node stay down for d in its reboots from now
// on (a slow machine), instead of the lab's RebootDelay.
func (n *Node) SetRebootDelay(d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rebootDelay = d
}

func (n *Node) downFor() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rebootDelay > 0 {
		return n.rebootDelay
	}
	return n.opts.RebootDelay
}

// Booted returns the slot (A or B) and version the node runs, or "" while
// it is down.
func (n *Node) Booted() (slot, version string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.booted, n.version
}

// SlotVersion returns the version whose image a slot (A or B) holds, as the
// lab reads it from the image itself.
func (n *Node) SlotVersion(slot string) string {
	v, _ := slotVersion(n.path("slot" + slot + ".img"))
	return v
}

// startBus starts the node's private system bus.
func (n *Node) startBus(ctx context.Context) error {
	p, err := startProc("dbus-daemon", n.env(), n.path("dbus.log"),
		"dbus-daemon", "--nofork", "--nopidfile", "--config-file="+n.path("bus.conf"))
	if err != nil {
		return err
	}
	n.dbus = p
	return waitFor(ctx, 10*time.Second, n.Name+": D-Bus socket", p, func() bool {
		_, err := os.Stat(n.path("bus.sock"))
		return err == nil
	})
}

// boot plays power-on: the bootloader chooses a slot, the lab mounts it
// (copies its os-release) and starts rauc service and sshd, unless the fault
// switch makes this version hang.
func (n *Node) boot(ctx context.Context) error {
	slot, fallback := n.chooseSlot()
	if slot == "" {
		n.rec.add(Event{Event: EventNoBootable})
		return fmt.Errorf("lab: %s: the bootloader found no bootable slot", n.Name)
	}
	n.writeBoot("current", slot)
	version, osRelease := slotVersion(n.path("slot" + slot + ".img"))
	if err := writeFile(n.path("root/etc/os-release"), osRelease, 0o644); err != nil {
		return err
	}
	n.rec.add(Event{Event: EventBoot, Slot: slot, Version: version, Fallback: fallback})
	if n.fault(version) == FaultHang {
		n.rec.add(Event{Event: EventHang, Slot: slot, Version: version})
		return errHung
	}
	raucP, err := startProc("rauc service", n.env(), n.path("rauc.log"),
		"rauc", "--conf="+n.path("system.conf"), "service", "--override-boot-slot="+slot)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.rauc = raucP
	n.mu.Unlock()
	if err := waitFor(ctx, 15*time.Second, n.Name+": rauc service on D-Bus", raucP, func() bool {
		cmd := exec.CommandContext(ctx, "rauc", "status", "--output-format=json")
		cmd.Env = n.env()
		return cmd.Run() == nil
	}); err != nil {
		return err
	}
	if err := n.startSSHD(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	n.booted, n.version = slot, version
	n.mu.Unlock()
	n.rec.add(Event{Event: EventUp, Slot: slot, Version: version})
	return nil
}

var errHung = errors.New("the booted version hangs (fault)")

// startSSHD starts sshd on the node's port (picking a free one the first
// time, and another should a different process take it first).
func (n *Node) startSSHD(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if n.Port == 0 || (attempt > 0 && n.Addr == "") {
			port, lock, err := freePort()
			if err != nil {
				return err
			}
			if n.portLock != nil {
				_ = n.portLock.Close() // giving up the old port: the kernel drops its lock with the descriptor
			}
			n.Port, n.portLock = port, lock
		}
		if err := writeFile(n.path("sshd_config"), []byte(fmt.Sprintf(sshdConfig, n.Port, n.Dir)), 0o644); err != nil {
			return err
		}
		// sshd runs in a mount namespace of its own that sees the node's
		// passwd (applianceShell) over /etc/passwd; -r: no re-exec of sshd
		// for every connection.
		p, err := startProc("sshd", n.env(), n.path("sshd.log"),
			"unshare", "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", `mount --bind "$0" /etc/passwd && exec "$@"`, n.path("passwd"),
			"/usr/sbin/sshd", "-D", "-e", "-r", "-f", n.path("sshd_config"))
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port))
		port := n.Port
		// The socket must be this sshd's: one that failed to bind (the port
		// taken by another node) must not pass for up because another
		// process listens there.
		err = waitFor(ctx, 10*time.Second, n.Name+": sshd on "+addr, p, func() bool { return listening(port, p.pid()) })
		if err == nil {
			n.mu.Lock()
			n.sshd = p
			n.mu.Unlock()
			n.Addr = addr
			return nil
		}
		p.kill()
		lastErr = err
		if n.Addr != "" {
			// A port clients already know: try it again after a pause.
			time.Sleep(200 * time.Millisecond)
		}
	}
	return lastErr
}

// listening reports whether process pid listens on 127.0.0.1:port, from
// /proc/net/tcp and the process's file descriptors. Asking the kernel
// instead of connecting spares sshd a connection (a fork and a
// privilege-separated child) at every boot; where /proc/net/tcp cannot be
// read, a connection answers. The socket's owner matters: a node's sshd
// that could not bind its port (another process took it) exits, and until
// then the port listens, but not for this node; its clients would reach
// another node.
func listening(port, pid int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err != nil {
			return false
		}
		_ = c.Close() // a probe: that it connected is the answer
		return true
	}
	// "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout
	// inode": 127.0.0.1:port in hex, and state 0A (LISTEN).
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == want && f[3] == "0A" {
			return ownsSocket(pid, f[9])
		}
	}
	return false
}

// ownsSocket: process pid has socket inode open (or its descriptors
// cannot be read, which leaves the port's word to stand).
func ownsSocket(pid int, inode string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return pid <= 0 || errors.Is(err, os.ErrPermission)
	}
	want := "socket:[" + inode + "]"
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == want {
			return true
		}
	}
	return false
}

// freePort picks a free loopback port for a node's sshd below Linux's
// ephemeral range (32768-60999 by default): a port from that range, which
// the kernel hands out for port 0, can be taken by any outgoing connection
// of this busy machine while the node is down in a reboot, and the node
// could then not listen on it again. The port is reserved for the node's
// life by a lock file that every lab on the machine (other test processes
// too) respects: a node's port is free while it is down in a reboot, and
// another lab's node starting then must not take it, nor two nodes
// starting at once pick the same one. The kernel's pick is the fallback.
func freePort() (int, *os.File, error) {
	dir := filepath.Join(os.TempDir(), "rauc-lab-ports")
	_ = os.MkdirAll(dir, 0o755)
	for i := 0; i < 50; i++ {
		port := 20000 + rand.IntN(12000)
		lock, ok := reservePort(dir, port)
		if !ok {
			continue
		}
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			_ = l.Close() // a probe: that it could listen is the answer
			return port, lock, nil
		}
		_ = lock.Close() // giving up a port in use: the kernel drops its lock with the descriptor
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("lab: find a free port: %w", err)
	}
	defer func() { _ = l.Close() }() // a probe: only the port the kernel picked is wanted
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, nil, fmt.Errorf("lab: find a free port: a TCP listener's address is a %T, not a *net.TCPAddr", l.Addr())
	}
	return addr.Port, nil, nil
}

// reservePort takes port's lock file without waiting; the kernel drops the
// lock when its holder exits, however it exits.
func reservePort(dir string, port int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close() // an empty lock file another node holds: nothing written to lose
		return nil, false
	}
	return f, true
}

// waitFor polls ok until it holds, p exits or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, p *proc, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("lab: %s: the process exited (%v) before it was ready; see its log in the node directory", what, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %s: not ready after %s", what, limit)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shutDown plays power-off: sshd (with every session) and rauc service stop.
func (n *Node) shutDown() {
	n.mu.Lock()
	sshd, raucP := n.sshd, n.rauc
	n.sshd, n.rauc, n.booted, n.version = nil, nil, "", ""
	n.mu.Unlock()
	sshd.kill()
	raucP.kill()
	n.rec.add(Event{Event: EventDown})
}

// controller serves the node's reboot requests and its watchdog until the
// lab closes.
func (n *Node) controller(hung bool) {
	defer close(n.loopDone)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var watchdog <-chan time.Time
	if hung {
		watchdog = time.After(n.opts.Watchdog)
	}
	for {
		reboot := false
		select {
		case <-n.stop:
			return
		case <-watchdog:
			// A hung node is reset by its hardware watchdog.
			reboot = true
			n.rec.add(Event{Event: EventReboot, Version: "watchdog"})
		case <-tick.C:
			if _, err := os.Stat(n.path("reboot.request")); err == nil {
				_ = os.Remove(n.path("reboot.request"))
				reboot = true
				n.rec.add(Event{Event: EventReboot})
				// The reboot command has returned; the system takes a
				// moment to stop before power goes.
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !reboot {
			continue
		}
		watchdog = nil
		n.shutDown()
		select {
		case <-n.stop:
			return
		case <-time.After(n.downFor()):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := n.boot(ctx)
		cancel()
		if errors.Is(err, errHung) {
			watchdog = time.After(n.opts.Watchdog)
		} else if err != nil {
			fmt.Fprintf(n.opts.Log, "lab: %s did not boot: %v\n", n.Name, err)
		}
	}
}

// close stops everything the node runs.
func (n *Node) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	if n.stop != nil {
		close(n.stop)
		<-n.loopDone
	}
	n.mu.Lock()
	sshd, raucP, bus := n.sshd, n.rauc, n.dbus
	n.sshd, n.rauc, n.dbus = nil, nil, nil
	n.mu.Unlock()
	sshd.kill()
	raucP.kill()
	bus.kill()
	if n.portLock != nil {
		_ = n.portLock.Close() // the node is gone: the kernel drops its port's lock with the descriptor
	}
}
