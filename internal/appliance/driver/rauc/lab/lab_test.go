package lab

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// raucStatus is the part of `rauc status --detailed --output-format=json`
// these tests read.
type raucStatus struct {
	Compatible  string                `json:"compatible"`
	Booted      string                `json:"booted"`
	BootPrimary string                `json:"boot_primary"`
	Slots       []map[string]raucSlot `json:"slots"`
}

type raucSlot struct {
	Bootname   string `json:"bootname"`
	State      string `json:"state"`
	BootStatus string `json:"boot_status"`
	SlotStatus struct {
		Bundle struct {
			Version string `json:"version"`
		} `json:"bundle"`
	} `json:"slot_status"`
}

func status(t *testing.T, l *Lab, n *Node) raucStatus {
	t.Helper()
	out, err := l.Run(n, "rauc status --detailed --output-format=json")
	if err != nil {
		t.Fatal(err)
	}
	var s raucStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("rauc status of %s is not JSON: %v\n%s", n.Name, err, out)
	}
	return s
}

func (s raucStatus) slot(bootname string) raucSlot {
	for _, m := range s.Slots {
		for _, sl := range m {
			if sl.Bootname == bootname {
				return sl
			}
		}
	}
	return raucSlot{}
}

// startReboot runs the node's reboot command and waits until it is down.
// The connection may drop before the command's exit status arrives, as
// with a real reboot.
func startReboot(t *testing.T, l *Lab, n *Node) {
	t.Helper()
	if _, err := l.Run(n, "reboot"); err != nil && !errors.As(err, new(*ssh.ExitMissingError)) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if slot, _ := n.Booted(); slot == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not go down after reboot", n.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reboot reboots the node and waits until it is up again.
func reboot(t *testing.T, l *Lab, n *Node) {
	t.Helper()
	startReboot(t, l, n)
	if err := n.WaitUp(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestLab_NodesAnswerRaucStatusOverSSHBootedFromTheFactorySlot(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 2})
	for _, n := range l.Nodes {
		s := status(t, l, n)
		if s.Compatible != "lab-appliance" || s.Booted != "A" || s.BootPrimary != "rootfs.0" {
			t.Fatalf("%s: rauc status %+v, want compatible lab-appliance, booted A, primary rootfs.0", n.Name, s)
		}
		if a := s.slot("A"); a.State != "booted" || a.BootStatus != "good" || a.SlotStatus.Bundle.Version != "" {
			t.Fatalf("%s slot A: %+v, want booted, good, no bundle (written outside RAUC)", n.Name, a)
		}
		v, err := l.Run(n, VersionCommand)
		if err != nil || strings.TrimSpace(v) != "1.0" {
			t.Fatalf("%s version command: %q, %v; want 1.0", n.Name, v, err)
		}
	}
	// Each node's sessions see its own bus: the node directories differ.
	a, _ := l.Run(l.Nodes[0], "echo $DBUS_SYSTEM_BUS_ADDRESS")
	b, _ := l.Run(l.Nodes[1], "echo $DBUS_SYSTEM_BUS_ADDRESS")
	if a == b || !strings.Contains(a, l.Nodes[0].Dir) {
		t.Fatalf("sessions' buses: n1 %q, n2 %q", a, b)
	}
}

func TestLab_InstallThenRebootBootsTheNewSlotAndRecordsBoth(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 1})
	n := l.Nodes[0]
	b, err := l.BuildBundle(BundleSpec{Version: "1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Run(n, "rauc install "+b); err != nil {
		t.Fatal(err)
	}
	s := status(t, l, n)
	if s.BootPrimary != "rootfs.1" || s.slot("B").SlotStatus.Bundle.Version != "1.1" || s.Booted != "A" {
		t.Fatalf("after install: %+v, want primary rootfs.1 holding 1.1, still booted A", s)
	}
	reboot(t, l, n)
	s = status(t, l, n)
	if s.Booted != "B" {
		t.Fatalf("after reboot booted %s, want B", s.Booted)
	}
	if v, _ := l.Run(n, VersionCommand); strings.TrimSpace(v) != "1.1" {
		t.Fatalf("version after reboot %q, want 1.1", v)
	}
	if _, err := l.Run(n, "rauc status mark-good"); err != nil {
		t.Fatal(err)
	}
	if got := status(t, l, n).slot("B").BootStatus; got != "good" {
		t.Fatalf("B after mark-good: %s", got)
	}
	installs, _ := n.Count(EventInstall)
	reboots, _ := n.Count(EventReboot)
	if installs != 1 || reboots != 1 {
		t.Fatalf("record: %d installs, %d reboots; want 1 and 1", installs, reboots)
	}
	rec, _ := n.Record()
	var boots []string
	for _, e := range rec {
		if e.Event == EventBoot {
			boots = append(boots, e.Slot+"="+e.Version)
		}
		if e.Event == EventInstall && (e.Slot != "B" || e.Version != "1.1") {
			t.Fatalf("install recorded as %+v, want slot B version 1.1", e)
		}
	}
	if strings.Join(boots, ",") != "A=1.0,B=1.1" {
		t.Fatalf("boots %v, want A=1.0 then B=1.1", boots)
	}
}

func TestLab_BootloaderFallsBackFromASlotNeverMarkedGood(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 1, BootAttempts: 2})
	n := l.Nodes[0]
	b, err := l.BuildBundle(BundleSpec{Version: "1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Run(n, "rauc install "+b); err != nil {
		t.Fatal(err)
	}
	// Two attempts: two boots into B, never marked good; the third boot
	// falls back to A.
	for i, want := range []string{"B", "B", "A"} {
		reboot(t, l, n)
		if s := status(t, l, n); s.Booted != want {
			t.Fatalf("boot %d: booted %s, want %s", i+1, s.Booted, want)
		}
	}
	rec, _ := n.Record()
	if last := rec[len(rec)-2]; last.Event != EventBoot || !last.Fallback || last.Slot != "A" {
		t.Fatalf("last boot %+v, want a fallback to A", last)
	}
}

func TestLab_MarkBadThenRebootBootsTheOtherSlot(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 1})
	n := l.Nodes[0]
	b, _ := l.BuildBundle(BundleSpec{Version: "1.1"})
	if _, err := l.Run(n, "rauc install "+b); err != nil {
		t.Fatal(err)
	}
	reboot(t, l, n)
	if _, err := l.Run(n, "rauc status mark-bad booted && rauc status mark-active other"); err != nil {
		t.Fatal(err)
	}
	reboot(t, l, n)
	if s := status(t, l, n); s.Booted != "A" || s.slot("B").BootStatus != "bad" {
		t.Fatalf("after mark-bad and reboot: %+v, want booted A and B bad", s)
	}
}

func TestLab_FaultSwitchMakesAVersionUnhealthyOrHang(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 2, BootAttempts: 1, Watchdog: 500 * time.Millisecond})
	sick, hung := l.Nodes[0], l.Nodes[1]
	if err := sick.SetFault("1.1", FaultUnhealthy); err != nil {
		t.Fatal(err)
	}
	if err := hung.SetFault("1.1", FaultHang); err != nil {
		t.Fatal(err)
	}
	b, _ := l.BuildBundle(BundleSpec{Version: "1.1"})
	for _, n := range l.Nodes {
		if _, err := l.Run(n, HealthCommand); err != nil {
			t.Fatalf("%s on 1.0 should be healthy: %v", n.Name, err)
		}
		if _, err := l.Run(n, "rauc install "+b); err != nil {
			t.Fatal(err)
		}
	}
	reboot(t, l, sick)
	if _, err := l.Run(sick, HealthCommand); err == nil || !strings.Contains(err.Error(), "1.1 does not serve") {
		t.Fatalf("health of %s on 1.1: %v, want failure", sick.Name, err)
	}
	// The hung node never answers on 1.1; its watchdog resets it and, the
	// one attempt used up, the bootloader falls back to 1.0.
	startReboot(t, l, hung)
	if err := hung.WaitUp(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	if slot, v := hung.Booted(); slot != "A" || v != "1.0" {
		t.Fatalf("hung node came back on %s %s, want A 1.0", slot, v)
	}
	hangs, _ := hung.Count(EventHang)
	if hangs != 1 {
		t.Fatalf("hangs recorded: %d, want 1", hangs)
	}
}

func TestLab_RecordTellsWhetherPartnersWereDownTogether(t *testing.T) {
	t.Parallel()
	l := New(t, Options{Nodes: 2})
	a, b := l.Nodes[0], l.Nodes[1]
	reboot(t, l, a)
	reboot(t, l, b)
	if at, err := DownTogether(a, b); err != nil || !at.IsZero() {
		t.Fatalf("one after the other: down together at %v (%v)", at, err)
	}
	var wg sync.WaitGroup
	for _, n := range []*Node{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			startReboot(t, l, n)
		}()
	}
	wg.Wait()
	for _, n := range []*Node{a, b} {
		if err := n.WaitUp(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if at, _ := DownTogether(a, b); at.IsZero() {
		t.Fatal("rebooted at once, but the record says never down together")
	}
}

// A node's sshd is up only when the socket on its port is its own. Seen
// once at load 30+: two nodes of one lab had picked the same port, the
// second's sshd could not bind it, and the lab took the first node's
// listening socket for the second's, so every command for n3 ran on n1
// (n3 "staged" without an install). Here this test process listens on a
// port: it is listening for this process, not for another one (a sleep).
func TestListening_OnlyTheProcessThatOwnsTheSocketIsUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // test teardown: nothing to report
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("a TCP listener's address is a %T, not a *net.TCPAddr", ln.Addr())
	}
	port := addr.Port
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if !listening(port, os.Getpid()) {
		t.Errorf("port %d is not seen listening for the process that owns it", port)
	}
	if listening(port, other.Process.Pid) {
		t.Errorf("port %d is seen listening for process %d, which does not own its socket", port, other.Process.Pid)
	}
}

// A port a node holds is reserved among all labs on the machine: another
// node (of this lab or of another test process) cannot pick it, also while
// the node is down in a reboot and the port is free; it is free for the
// taking again once the node is gone.
func TestFreePort_APortANodeHoldsIsNotPickedAgain(t *testing.T) {
	dir := t.TempDir()
	lock, ok := reservePort(dir, 25001)
	if !ok {
		t.Fatal("a free port could not be reserved")
	}
	if again, ok := reservePort(dir, 25001); ok {
		_ = again.Close() // the test fails on the reservation alone
		t.Fatal("a port another node holds was reserved again")
	}
	if err := lock.Close(); err != nil { // the node is gone: its reservation must be released
		t.Fatal(err)
	}
	again, ok := reservePort(dir, 25001)
	if !ok {
		t.Fatal("a port whose node is gone could not be reserved")
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	var locks []*os.File
	defer func() {
		for _, l := range locks {
			_ = l.Close() // test teardown: the locks go with the process anyway
		}
	}()
	for i := 0; i < 50; i++ {
		port, l, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if l == nil {
			continue // the kernel's pick: not from the lab's range
		}
		locks = append(locks, l)
		if seen[port] {
			t.Fatalf("freePort handed out port %d twice while its first node held it", port)
		}
		seen[port] = true
	}
}
