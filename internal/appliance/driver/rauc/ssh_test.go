package rauc

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// TestDriver_CommandThatHangsIsCutAtCommandTimeoutNamingNodeAndCommand: a
// command on a node that never ends is cut at command_timeout, and the error
// names the node, the command and the setting to change.
func TestDriver_CommandThatHangsIsCutAtCommandTimeoutNamingNodeAndCommand(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	cfg := labConfig(t, l)
	cfg.CommandTimeout = time.Second
	d := newDriver(t, cfg)
	n, _ := d.node("n1")
	start := time.Now()
	_, err := d.conns.run(ctxT(t), n, "sleep 600", d.conns.commandLimit())
	took := time.Since(start)
	if driver.CodeOf(err) != driver.CodeNodeTimeout {
		t.Fatalf("a command that hangs: %v, want node_timeout", err)
	}
	for _, want := range []string{"node n1", "`sleep 600`", "1s (command_timeout)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	// The connection setup is bounded by connect_timeout, the command by
	// command_timeout: well under a minute whatever the load.
	if took > 20*time.Second {
		t.Fatalf("the command was cut after %s, not near its 1s command_timeout", took)
	}
	// The node is not left unusable: the next command runs.
	if out, err := d.conns.run(ctxT(t), n, "echo ok", d.conns.commandLimit()); err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("next command: %q, %v", out, err)
	}
}

// TestDriver_InstallThatOutlastsInstallTimeoutIsCutNamingNodeAndStep: rauc
// install is bounded by install_timeout (here far shorter than any install)
// and the error names the node, the step and the setting.
func TestDriver_InstallThatOutlastsInstallTimeoutIsCutNamingNodeAndStep(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	img, err := d.Upload(ctxT(t), "lab", bundle(t, l, lab.BundleSpec{Version: "1.1"}), driver.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := labConfig(t, l)
	cfg.InstallTimeout = 20 * time.Millisecond
	short := newDriver(t, cfg)
	err = runAction(t, short, driver.Action{Kind: driver.ActStage, Node: "n1", ImageID: img.ID})
	if driver.CodeOf(err) != driver.CodeNodeTimeout || !strings.Contains(err.Error(), "node n1, step stage") || !strings.Contains(err.Error(), "(install_timeout)") {
		t.Fatalf("stage under a 20ms install_timeout: %v; want node_timeout naming node n1, the stage step and install_timeout", err)
	}
}

// TestDriver_NodeThatAcceptsButNeverSpeaksSSHIsUnreachableWithinConnectTimeout:
// a node whose port accepts TCP but never answers the SSH handshake (a hung
// sshd) is reported unreachable once connect_timeout has passed, not after
// the operating system gives up.
func TestDriver_NodeThatAcceptsButNeverSpeaksSSHIsUnreachableWithinConnectTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // test teardown: nothing to report
	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close() // test teardown: nothing to report
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	cfg := Config{Name: "lab", PrivateKey: testKey(t), KeyringFile: "/dev/null", ConnectTimeout: time.Second,
		Nodes: []NodeConfig{{Name: "n1", Address: ln.Addr().String(), HostKey: testHostKey(t)}}}
	d := newDriver(t, cfg)
	n, _ := d.node("n1")
	start := time.Now()
	_, err = d.conns.run(ctxT(t), n, "true", d.conns.commandLimit())
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "node n1") || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("silent node: %v; want unreachable naming n1", err)
	}
	if took < 900*time.Millisecond || took > 10*time.Second {
		t.Fatalf("gave up after %s; want about the 1s connect_timeout", took)
	}
}
