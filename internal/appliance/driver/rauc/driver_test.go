package rauc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	bundlefile "github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

func TestDriver_SnapshotShowsBootedSlotAsActiveWithFactoryVersionAndHAPairs(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 4})
	d := newDriver(t, labConfig(t, l))
	c := snapshot(t, d)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 4 || len(c.HAGroups) != 2 || !c.HAEnabled || !c.Healthy || c.ReportedMembers != 4 {
		t.Fatalf("cluster %+v: want 4 healthy nodes in 2 HA pairs", c)
	}
	if g := c.Group("n1+n2"); g == nil || g.MinAvailable != 1 {
		t.Fatalf("HA groups %+v, want n1+n2 with min_available 1", c.HAGroups)
	}
	for _, n := range c.Nodes {
		if n.State != appliance.NodeRunning || !n.Healthy || n.Active.Version != "1.0" || n.Alternate.Version != "" || n.Armed {
			t.Fatalf("node %+v: want running, healthy, active 1.0 (factory, read by the version command), empty alternate", n)
		}
	}
	if c.Node("n1").Role != appliance.RolePrimary {
		t.Fatal("n1 should be the primary")
	}
	if caps := d.Capabilities(); caps.Resources || caps.Licenses || caps.Supercluster || caps.DownloadByURL || caps.Promote || caps.Finalize {
		t.Fatalf("capabilities %+v: RAUC has none of these", caps)
	}
	if err := driver.Require(d, driver.CapResources, "failover_resources"); driver.CodeOf(err) != driver.CodeUnsupported || !strings.Contains(err.Error(), "RAUC over SSH cannot do resources") {
		t.Fatalf("Require: %v", err)
	}
}

func TestDriver_InspectBundleVerifiesWithRAUCAndRefusesCorruptForeignAndIncompatible(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	good := bundle(t, l, lab.BundleSpec{Version: "1.1", Description: "the next release"})
	b, err := d.InspectBundle(ctxT(t), "lab", good)
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.Version != "1.1" || b.Manifest.Description != "the next release" || len(b.Manifest.Components) != 1 || b.Manifest.Components[0].Name != "rootfs" || !strings.Contains(b.Signer, "lab-keyring") || len(b.SHA256) != 64 {
		t.Fatalf("bundle %+v", b)
	}
	other, err := l.NewSigner("stranger")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec lab.BundleSpec
		code driver.Code
		says string
	}{
		{"corrupt", lab.BundleSpec{Version: "1.1", Corrupt: true}, driver.CodeCorruptImage, "corrupt"},
		{"signed outside the keyring", lab.BundleSpec{Version: "1.1", Signer: other}, driver.CodeBadSignature, "not signed by a key of the cluster's keyring"},
		{"another compatible", lab.BundleSpec{Version: "1.1", Compatible: "other-board"}, driver.CodeIncompatible, `compatible "other-board"`},
	}
	for _, tc := range cases {
		_, err := d.InspectBundle(ctxT(t), "lab", bundle(t, l, tc.spec))
		if driver.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %s saying %q", tc.name, err, tc.code, tc.says)
		}
	}
}

func TestDriver_StageInstallsOnceIntoTheOtherSlotAndKeepsTheBootOrder(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 2})
	d := newDriver(t, labConfig(t, l))
	img, err := d.Upload(ctxT(t), "lab", bundle(t, l, lab.BundleSpec{Version: "1.1"}), driver.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second time finds it staged
		if err := runAction(t, d, driver.Action{Kind: driver.ActStage, Node: "n1", ImageID: img.ID}); err != nil {
			t.Fatal(err)
		}
	}
	booted, primary, slots := raucStatusOf(t, l, l.Nodes[0])
	if booted != "A" || primary != "A" || slots["B"].SlotStatus.Bundle.Version != "1.1" {
		t.Fatalf("n1 after stage: booted %s, primary %s, B holds %q; want A, A, 1.1", booted, primary, slots["B"].SlotStatus.Bundle.Version)
	}
	if got := count(t, l.Nodes[0], lab.EventInstall); got != 1 {
		t.Fatalf("n1 installed %d times, want 1", got)
	}
	c := snapshot(t, d)
	if n := c.Node("n1"); n.Alternate.Version != "1.1" || n.Alternate.ImageID != img.ID || n.Active.Version != "1.0" || n.Armed {
		t.Fatalf("n1 snapshot %+v", n)
	}
	if n := c.Node("n2"); n.Alternate.Version != "" {
		t.Fatalf("n2 was not staged: %+v", n)
	}
	imgs, err := d.Images(ctxT(t), "lab")
	if err != nil || len(imgs) != 1 || imgs[0].Manifest.Version != "1.1" {
		t.Fatalf("images %+v, %v", imgs, err)
	}
}

func TestDriver_ArmedNodeIsDriftThatStagingRepairsWithoutInstallingAgain(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	img, err := d.Upload(ctxT(t), "lab", bundle(t, l, lab.BundleSpec{Version: "1.1"}), driver.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	// A stage killed between rauc install and putting the primary back.
	if _, err := l.Run(l.Nodes[0], "rauc install "+d.bundlePath(d.cfg.Nodes[0], img.ID)); err != nil {
		t.Fatal(err)
	}
	if n := snapshot(t, d).Node("n1"); !n.Armed || n.Alternate.Version != "1.1" {
		t.Fatalf("armed node shows as %+v, want Armed with alternate 1.1", n)
	}
	if err := runAction(t, d, driver.Action{Kind: driver.ActStage, Node: "n1", ImageID: img.ID}); err != nil {
		t.Fatal(err)
	}
	if n := snapshot(t, d).Node("n1"); n.Armed {
		t.Fatalf("still armed after stage: %+v", n)
	}
	if got := count(t, l.Nodes[0], lab.EventInstall); got != 1 {
		t.Fatalf("installed %d times, want 1 (repair writes nothing)", got)
	}
}

func stageAll(t *testing.T, l *lab.Lab, d *Driver, version string) *driver.Image {
	t.Helper()
	img, err := d.Upload(ctxT(t), "lab", bundle(t, l, lab.BundleSpec{Version: version}), driver.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if err := runAction(t, d, driver.Action{Kind: driver.ActStage, Node: n.Name, ImageID: img.ID}); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func TestDriver_ActivateRebootsIntoTheNewSlotChecksHealthAndMarksItGood(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	stageAll(t, l, d, "1.1")
	if err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true}); err != nil {
		t.Fatal(err)
	}
	booted, primary, slots := raucStatusOf(t, l, l.Nodes[0])
	if booted != "B" || primary != "B" || slots["B"].BootStatus != "good" {
		t.Fatalf("after activate: booted %s, primary %s, B %s; want B, B, good", booted, primary, slots["B"].BootStatus)
	}
	n := snapshot(t, d).Node("n1")
	if n.Active.Version != "1.1" || n.Alternate.Version != "1.0" || !n.Healthy || n.Armed {
		t.Fatalf("snapshot %+v: want active 1.1, alternate 1.0 (the factory slot, as noted)", n)
	}
	if got := count(t, l.Nodes[0], lab.EventReboot); got != 1 {
		t.Fatalf("rebooted %d times, want 1", got)
	}
	// Activating again is a no-op: no second reboot.
	if err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1"}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, l.Nodes[0], lab.EventReboot); got != 1 {
		t.Fatalf("rebooted %d times after a repeated activate, want 1", got)
	}
	// Rollback: the factory version is in the other slot.
	if err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.0"}); err != nil {
		t.Fatal(err)
	}
	if n := snapshot(t, d).Node("n1"); n.Active.Version != "1.0" || n.Alternate.Version != "1.1" {
		t.Fatalf("after rollback %+v", n)
	}
}

func TestDriver_UnhealthyVersionIsRevertedAndTheErrorNamesNodeAndStep(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	if err := l.Nodes[0].SetFault("1.1", lab.FaultUnhealthy); err != nil {
		t.Fatal(err)
	}
	stageAll(t, l, d, "1.1")
	err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true})
	if driver.CodeOf(err) != driver.CodeHealthCheckFailed || !strings.Contains(err.Error(), "node n1, step health check") || !strings.Contains(err.Error(), "reverted") {
		t.Fatalf("activate: %v; want health_check_failed naming node n1 and the step", err)
	}
	booted, primary, slots := raucStatusOf(t, l, l.Nodes[0])
	if booted != "A" || primary != "A" || slots["A"].BootStatus != "good" || slots["B"].BootStatus != "bad" {
		t.Fatalf("after revert: booted %s, primary %s, A %s, B %s; want A, A, good, bad", booted, primary, slots["A"].BootStatus, slots["B"].BootStatus)
	}
	if got := count(t, l.Nodes[0], lab.EventReboot); got != 2 {
		t.Fatalf("rebooted %d times, want 2 (into 1.1, back to 1.0)", got)
	}
}

func TestDriver_NodeThatHangsOnTheNewVersionFallsBackAndActivationFails(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1, BootAttempts: 1, Watchdog: time.Second})
	d := newDriver(t, labConfig(t, l))
	if err := l.Nodes[0].SetFault("1.1", lab.FaultHang); err != nil {
		t.Fatal(err)
	}
	stageAll(t, l, d, "1.1")
	err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true})
	if driver.CodeOf(err) != driver.CodeBootFailed || !strings.Contains(err.Error(), "node n1, step boot") || !strings.Contains(err.Error(), "fell back") {
		t.Fatalf("activate: %v; want boot_failed naming node n1 and the fallback", err)
	}
	if n := snapshot(t, d).Node("n1"); n.Active.Version != "1.0" || n.State != appliance.NodeRunning {
		t.Fatalf("after fallback %+v", n)
	}
}

func TestDriver_NodeThatNeverComesBackTimesOutNamingNodeAndStep(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1, Watchdog: time.Minute})
	cfg := labConfig(t, l)
	cfg.BootTimeout = 3 * time.Second
	d := newDriver(t, cfg)
	if err := l.Nodes[0].SetFault("1.1", lab.FaultHang); err != nil {
		t.Fatal(err)
	}
	stageAll(t, l, d, "1.1")
	err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true})
	if driver.CodeOf(err) != driver.CodeNodeTimeout || !strings.Contains(err.Error(), "node n1, step boot") || !strings.Contains(err.Error(), "3s") {
		t.Fatalf("activate: %v; want node_timeout naming node n1, the step and the bound", err)
	}
	if n := snapshot(t, d).Node("n1"); n.State != appliance.NodeDown {
		t.Fatalf("hung node shows as %s, want down", n.State)
	}
}

func TestDriver_UnknownOrChangedHostKeyIsRefusedAndTheKeyNeverShows(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 2})
	cfg := labConfig(t, l)
	// n2 is missing from known_hosts.
	cfg.KnownHosts = strings.Split(cfg.KnownHosts, "\n")[0]
	d := newDriver(t, cfg)
	_, err := d.Cluster(ctxT(t), "lab")
	if driver.CodeOf(err) != driver.CodeHostKey || !strings.Contains(err.Error(), "node n2") || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("unknown host key: %v", err)
	}
	// n1 pinned to another node's key: a changed key.
	cfg = labConfig(t, l)
	cfg.KnownHosts = ""
	cfg.Nodes[0].HostKey = strings.TrimSpace(string(marshalKey(l.Nodes[1])))
	cfg.Nodes[1].HostKey = strings.TrimSpace(string(marshalKey(l.Nodes[1])))
	d = newDriver(t, cfg)
	_, err = d.Cluster(ctxT(t), "lab")
	if driver.CodeOf(err) != driver.CodeHostKey || !strings.Contains(err.Error(), "node n1") || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("changed host key: %v", err)
	}
	key := string(l.ClientKey)
	body := strings.Split(key, "\n")[1]
	if strings.Contains(err.Error(), body) {
		t.Fatal("the private key appears in an error")
	}
	cfg.PrivateKey = []byte(strings.Replace(key, body, body[:10]+"garbage", 1))
	if _, err := New(cfg); err == nil || strings.Contains(err.Error(), body[:10]) {
		t.Fatalf("a bad private key: %v (must fail without quoting it)", err)
	}
}

func TestDriver_LeaseIsExclusiveRenewableAndExpires(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	ctx := ctxT(t)
	a, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "alice@ws1", OperationKey: "op-1", TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "bob@ws2", OperationKey: "op-2", TTL: time.Minute})
	if driver.CodeOf(err) != driver.CodeLeaseHeld || !strings.Contains(err.Error(), "alice@ws1") {
		t.Fatalf("second holder: %v, want lease_held naming alice@ws1", err)
	}
	renewed, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "alice@ws1", OperationKey: "op-1", TTL: 2 * time.Second})
	if err != nil || renewed.ID != a.ID {
		t.Fatalf("renew: %+v, %v; want the same lease %s", renewed, err, a.ID)
	}
	// An action under a lease the cluster does not hold is refused.
	if _, err := d.Start(ctx, "lab", driver.Action{Kind: driver.ActRevert, Node: "n1", LeaseID: "lease-other"}); driver.CodeOf(err) != driver.CodeLeaseLost {
		t.Fatalf("action under a foreign lease: %v", err)
	}
	time.Sleep(3 * time.Second) // the node's clock counts whole seconds
	// Alice starved past her lease: its file is still there, no one took
	// it yet, and her action under it is refused (it was accepted before,
	// while bob could take the cluster at any moment).
	if _, err := d.Start(ctx, "lab", driver.Action{Kind: driver.ActRevert, Node: "n1", LeaseID: a.ID}); driver.CodeOf(err) != driver.CodeLeaseLost || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("action under an expired lease no one took yet: %v, want lease_lost saying it expired", err)
	}
	b, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "bob@ws2", OperationKey: "op-2", TTL: time.Minute})
	if err != nil || b.ID == a.ID {
		t.Fatalf("after expiry: %+v, %v", b, err)
	}
	if _, err := d.Start(ctx, "lab", driver.Action{Kind: driver.ActRevert, Node: "n1", LeaseID: a.ID}); driver.CodeOf(err) != driver.CodeLeaseLost || !strings.Contains(err.Error(), "bob@ws2") {
		t.Fatalf("action under an expired lease bob took: %v, want lease_lost naming bob", err)
	}
	if err := d.ReleaseLease(ctx, "lab", a.ID); err != nil { // an old lease releases nothing
		t.Fatal(err)
	}
	if _, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "carol", OperationKey: "op-3"}); driver.CodeOf(err) != driver.CodeLeaseHeld {
		t.Fatalf("bob's lease was released by alice's stale id: %v", err)
	}
	if err := d.ReleaseLease(ctx, "lab", b.ID); err != nil {
		t.Fatal(err)
	}
	c, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "carol", OperationKey: "op-3", TTL: time.Minute, Heartbeat: time.Second})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	// The same operation from another process: refused while carol renews,
	// adopted (under a new id) once she has missed her heartbeat.
	if _, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "carol-again", OperationKey: "op-3", TTL: time.Minute, Heartbeat: time.Second}); driver.CodeOf(err) != driver.CodeLeaseHeld || !strings.Contains(err.Error(), "adopts its lease") {
		t.Fatalf("same operation within the heartbeat: %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	adopted, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "carol-again", OperationKey: "op-3", TTL: time.Minute, Heartbeat: time.Second})
	if err != nil || !adopted.Adopted || adopted.PreviousOwner != "carol" || adopted.ID == c.ID {
		t.Fatalf("adoption after a missed heartbeat: %+v, %v", adopted, err)
	}
}

func TestDriver_RefusesWhatRAUCCannotDoNamingTheCapability(t *testing.T) {
	cfg := Config{Name: "lab", PrivateKey: testKey(t), KeyringFile: "/dev/null", Nodes: []NodeConfig{{Name: "n1", Address: "127.0.0.1:1", HostKey: testHostKey(t)}}}
	d := newDriver(t, cfg)
	for _, a := range []driver.Action{{Kind: driver.ActPromote, Node: "n1"}, {Kind: driver.ActMoveResource, Node: "n1", Resource: "vol1"}, {Kind: driver.ActFinalize}} {
		if _, err := d.Start(ctxT(t), "lab", a); driver.CodeOf(err) != driver.CodeUnsupported || !strings.Contains(err.Error(), "RAUC over SSH cannot do") {
			t.Errorf("%s: %v", a.Kind, err)
		}
	}
	if _, err := d.Download(ctxT(t), "lab", driver.DownloadRequest{URL: "https://example.com/x.raucb"}); driver.CodeOf(err) != driver.CodeUnsupported || !strings.Contains(err.Error(), "source_url") {
		t.Errorf("download: %v", err)
	}
}

func TestConfig_ValidateNamesTheProblem(t *testing.T) {
	base := func() Config {
		return Config{Name: "c", PrivateKey: []byte("k"), KeyringFile: "k.pem", Nodes: []NodeConfig{{Name: "a", Address: "h1", HostKey: "x"}, {Name: "b", Address: "h2", HostKey: "x"}}}
	}
	cases := map[string]func(*Config){
		"has no host key to check":  func(c *Config) { c.Nodes[1].HostKey = "" },
		"is not another node":       func(c *Config) { c.Nodes[0].HAPartner = "zz" },
		"appears twice":             func(c *Config) { c.Nodes[1].Name = "a" },
		"private_key is empty":      func(c *Config) { c.PrivateKey = nil },
		"set keyring":               func(c *Config) { c.KeyringFile = "" },
		`has unknown role "leader"`: func(c *Config) { c.Nodes[0].Role = "leader" },
	}
	for want, mutate := range cases {
		c := base()
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDriver_ActivationCutShortAfterItsRebootIsMarkedGoodByTheNextRead(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1})
	d := newDriver(t, labConfig(t, l))
	stageAll(t, l, d, "1.1")
	n := l.Nodes[0]
	// What activate does up to the reboot, then the process dies.
	if _, err := l.Run(n, "echo B > "+n.WorkDir+"/pending-good && rauc status mark-active other && reboot"); err != nil && !strings.Contains(err.Error(), "exit") {
		t.Logf("reboot: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for slot, _ := n.Booted(); slot != "B"; slot, _ = n.Booted() {
		if time.Now().After(deadline) {
			t.Fatal("n1 did not come up on B")
		}
		time.Sleep(50 * time.Millisecond)
	}
	good := filepath.Join(n.Dir, "boot", "good.B")
	if _, err := os.Stat(good); err == nil {
		t.Fatal("test setup: B is already marked good")
	}
	if c := snapshot(t, d).Node("n1"); c.Active.Version != "1.1" || !c.Healthy {
		t.Fatalf("snapshot %+v", c)
	}
	if _, err := os.Stat(good); err != nil {
		t.Fatal("the read did not mark the healthy new slot good: the bootloader would fall back at a later restart")
	}
	if _, err := os.Stat(filepath.Join(n.WorkDir, "pending-good")); err == nil {
		t.Fatal("the pending note is still there")
	}
}

func TestDriver_InspectBundleRunsRaucInfoOnceForAnUnchangedBundleAndKeyring(t *testing.T) {
	t.Setenv(bundlefile.CacheDirEnv, t.TempDir())
	bundlefile.ForgetRemembered()
	t.Cleanup(bundlefile.ForgetRemembered)
	l := lab.New(t, lab.Options{Nodes: 1})
	raucPath, err := exec.LookPath("rauc")
	if err != nil {
		t.Skip("no rauc where the tests run")
	}
	// A rauc that counts its runs.
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	wrapper := filepath.Join(dir, "rauc")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho run >> "+shq(calls)+"\nexec "+shq(raucPath)+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	runs := func() int {
		data, _ := os.ReadFile(calls)
		return strings.Count(string(data), "run")
	}
	cfg := labConfig(t, l)
	cfg.RaucCommand = wrapper
	good := bundle(t, l, lab.BundleSpec{Version: "1.1"})
	inspect := func(d *Driver, want int, when string) {
		t.Helper()
		b, err := d.InspectBundle(ctxT(t), "lab", good)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if b.Manifest.Version != "1.1" || len(b.SHA256) != 64 || !strings.Contains(b.Signer, "lab-keyring") {
			t.Fatalf("%s: bundle %+v", when, b)
		}
		if got := runs(); got != want {
			t.Fatalf("%s: rauc info ran %d times in all, want %d", when, got, want)
		}
	}
	d := newDriver(t, cfg)
	inspect(d, 1, "first inspection")
	inspect(d, 1, "the same bundle again (the re-plan at apply)")
	// Another provider process: the record on disk answers.
	bundlefile.ForgetRemembered()
	inspect(newDriver(t, cfg), 1, "a new process")
	// Another keyring (the same keys, written differently) is checked anew.
	kr, err := os.ReadFile(cfg.KeyringFile)
	if err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.KeyringFile = filepath.Join(dir, "keyring.pem")
	if err := os.WriteFile(other.KeyringFile, append(kr, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	inspect(newDriver(t, other), 2, "another keyring")
	// A bundle touched since is checked anew.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(good, later, later); err != nil {
		t.Fatal(err)
	}
	inspect(d, 3, "a touched bundle")
}
