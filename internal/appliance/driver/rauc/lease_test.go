package rauc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// renewer renews a lease every interval, each attempt bounded by the
// interval, as the executor does, and notes when each succeeded and the
// first refusal (a refusal loses the lease; other failures the executor
// tries again).
type renewer struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	err   error
	ok    []time.Time
	log   []string
	lease string
}

func renew(d *Driver, req driver.LeaseRequest, every time.Duration) *renewer {
	r := &renewer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(every):
			}
			ctx, cancel := context.WithTimeout(context.Background(), every)
			l, err := d.AcquireLease(ctx, "lab", req)
			cancel()
			r.mu.Lock()
			if driver.CodeOf(err) == driver.CodeLeaseHeld && r.err == nil {
				r.err = err
			}
			if err == nil {
				r.ok = append(r.ok, time.Now())
				r.lease = l.ID
			}
			r.log = append(r.log, fmt.Sprintf("%s %v", time.Now().Format("15:04:05.000"), err))
			r.mu.Unlock()
		}
	}()
	return r
}

// end stops the renewals; it returns how many succeeded between from and
// to, and the refusal that lost the lease, if any.
func (r *renewer) end(t *testing.T, from, to time.Time) (int, error) {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, at := range r.ok {
		if at.After(from) && at.Before(to) {
			n++
		}
	}
	if n == 0 || r.err != nil {
		t.Logf("renewals (node down %s to %s):\n%s", from.Format("15:04:05.000"), to.Format("15:04:05.000"), strings.Join(r.log, "\n"))
	}
	return n, r.err
}

// lastDowntime is the last time the node was down, from its record.
func lastDowntime(t *testing.T, n *lab.Node) lab.Interval {
	t.Helper()
	ds, err := n.Downtimes()
	if err != nil || len(ds) == 0 || ds[len(ds)-1].Up.IsZero() {
		t.Fatalf("%s has no finished downtime in its record: %v %v", n.Name, ds, err)
	}
	return ds[len(ds)-1]
}

// TestDriver_LeaseMovesOffThePrimaryBeforeItRebootsSoALongRebootNeitherLosesItNorLetsAnotherApplyTakeIt:
// the lease lives on the primary n1, and n1's reboot (14 s) lasts longer than
// the lease's heartbeat (4 s) and TTL (12 s). Before the reboot the driver
// moves the lease to n1's partner n2: the holder's renewals go on while n1 is
// down, another apply of the same operation or of another one is
// refused naming the holder (it is alive), and once the holder stops
// renewing (a crash) the same operation adopts the lease, found through the
// pointer on n1; releasing it leaves no lease and no pointer. Meanwhile
// another process sees n1 rebooting into 1.1, not down, from the note the
// holder left on n2.
func TestDriver_LeaseMovesOffThePrimaryBeforeItRebootsSoALongRebootNeitherLosesItNorLetsAnotherApplyTakeIt(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 2, RebootDelay: 14 * time.Second})
	// boot_timeout bounds the whole reboot: the 14 s n1 stays down, then
	// its boot (D-Bus, RAUC, sshd) and the driver's first rauc status. The
	// lab's 30 s left 16 s for those, which a machine at load 30+ used up
	// ("did not answer within 30s after its reboot"); what this test
	// proves does not depend on how long the boot takes after the 14 s.
	cfg := labConfig(t, l)
	cfg.BootTimeout = 14*time.Second + 90*time.Second // within runAction's 2-minute wait
	d := newDriver(t, cfg)
	other := newDriver(t, cfg) // another apply, in another process
	stageAll(t, l, d, "1.1")
	ctx := ctxT(t)
	req := driver.LeaseRequest{Owner: "alice@ci-1", OperationKey: "op-1", TTL: 12 * time.Second, Heartbeat: 4 * time.Second}
	lease, err := d.AcquireLease(ctx, "lab", req)
	if err != nil {
		t.Fatal(err)
	}
	r := renew(d, req, 2*time.Second)
	activated := make(chan error, 1)
	go func() {
		activated <- runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true, LeaseID: lease.ID})
	}()
	n1 := l.Node("n1")
	deadline := time.Now().Add(time.Minute)
	for slot, _ := n1.Booted(); slot != ""; slot, _ = n1.Booted() {
		if time.Now().After(deadline) {
			t.Fatal("n1 never went down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// n1 is down for 14 s: well past the heartbeat and the TTL.
	time.Sleep(5 * time.Second)
	for _, op := range []string{"op-1", "op-2"} {
		_, err := other.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "bob@ci-2", OperationKey: op, TTL: 12 * time.Second, Heartbeat: 4 * time.Second})
		if driver.CodeOf(err) != driver.CodeLeaseHeld || !strings.Contains(err.Error(), "alice@ci-1") {
			t.Fatalf("another apply (%s) while the primary reboots: %v; want lease_held naming the live holder alice@ci-1", op, err)
		}
	}
	// Another process sees n1 rebooting from 1.0 into 1.1 (from the note
	// the holder left on n2), not down.
	if n := snapshot(t, other).Node("n1"); n.State != appliance.NodeRebooting || n.Active.Version != "1.0" || n.Alternate.Version != "1.1" {
		t.Fatalf("another process sees n1 %s (active %q, alternate %q) while it reboots; want rebooting from 1.0 into 1.1", n.State, n.Active.Version, n.Alternate.Version)
	}
	if slot, _ := n1.Booted(); slot != "" {
		t.Fatal("n1 was up again before the other apply had tried: the test proves nothing")
	}
	if err := <-activated; err != nil {
		t.Fatalf("activation of n1 under the lease: %v", err)
	}
	down := lastDowntime(t, n1)
	renewals, err := r.end(t, down.Down, down.Up)
	if err != nil || renewals == 0 {
		t.Fatalf("the holder renewed %d times while n1 was down, refusal %v; want its renewals to go on, on n2", renewals, err)
	}
	if l, err := d.AcquireLease(ctx, "lab", req); err != nil || l.ID != lease.ID {
		t.Fatalf("renewal after n1's reboot: %+v, %v; want the holder's lease %s", l, err, lease.ID)
	}
	n2 := l.Node("n2")
	if out, _ := l.Run(n2, "ls "+shq(n2.WorkDir)); strings.Contains(out, "rebooting-n1") {
		t.Fatalf("the reboot note for n1 is still on n2 after the activation: %s", out)
	}
	if out, _ := l.Run(n1, "cat "+shq(n1.WorkDir+"/lease")); strings.TrimSpace(out) != "moved=n2" {
		t.Fatalf("n1's lease file is %q, want the pointer moved=n2", out)
	}
	// The holder crashes: the same operation adopts its lease once the
	// heartbeat is missed (before the TTL ends), through the pointer on n1.
	time.Sleep(5 * time.Second)
	adopted, err := other.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "bob@ci-2", OperationKey: "op-1", TTL: 12 * time.Second, Heartbeat: 4 * time.Second})
	if err != nil || !adopted.Adopted || adopted.PreviousOwner != "alice@ci-1" {
		t.Fatalf("adoption after the holder stopped renewing: %+v, %v", adopted, err)
	}
	if err := other.ReleaseLease(ctx, "lab", adopted.ID); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if out, _ := l.Run(n, "cat "+shq(n.WorkDir+"/lease")+" 2>/dev/null || true"); strings.TrimSpace(out) != "" {
			t.Errorf("after release %s still has a lease file: %q", n.Name, out)
		}
	}
}

// TestDriver_LeaseOfASingleNodeIsStretchedOverItsRebootAndRenewedAfter: a
// cluster of one node has nowhere to move the lease; it is stretched over
// boot_timeout before the reboot, so the holder's renewals succeed while
// the node is down (without reaching it), and it is renewed with its own TTL
// once the node is back.
func TestDriver_LeaseOfASingleNodeIsStretchedOverItsRebootAndRenewedAfter(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 1, RebootDelay: 8 * time.Second})
	d := newDriver(t, labConfig(t, l))
	stageAll(t, l, d, "1.1")
	ctx := ctxT(t)
	req := driver.LeaseRequest{Owner: "alice@ci-1", OperationKey: "op-1", TTL: 6 * time.Second, Heartbeat: 2 * time.Second}
	lease, err := d.AcquireLease(ctx, "lab", req)
	if err != nil {
		t.Fatal(err)
	}
	r := renew(d, req, time.Second)
	if err := runAction(t, d, driver.Action{Kind: driver.ActActivate, Node: "n1", Version: "1.1", AutoRevert: true, LeaseID: lease.ID}); err != nil {
		t.Fatal(err)
	}
	down := lastDowntime(t, l.Node("n1"))
	renewals, err := r.end(t, down.Down, down.Up)
	if err != nil || renewals == 0 {
		t.Fatalf("the holder renewed %d times while n1 was down, refusal %v; want its renewals to find the lease stretched", renewals, err)
	}
	if l, err := d.AcquireLease(ctx, "lab", req); err != nil || l.ID != lease.ID {
		t.Fatalf("renewal after the reboot: %+v, %v; want the holder's lease %s", l, err, lease.ID)
	}
	out, err := l.Run(l.Node("n1"), "cat "+shq(l.Node("n1").WorkDir+"/lease"))
	if err != nil {
		t.Fatal(err)
	}
	f := parseLease(out)
	if f["id"] != lease.ID || atoi(f["expires"])-atoi(f["renewed"]) != 6 || f["heartbeat"] != "2" {
		t.Fatalf("after the reboot the lease is %q; want %s renewed with its own 6 s TTL and 2 s heartbeat", out, lease.ID)
	}
}

// TestLeaseTarget_PartnerFirstAndNeverANodeAboutToReboot: the lease goes to
// the rebooting node's HA partner, else to the first other node; never to
// one that a parallel activation is about to reboot or is rebooting, and
// nowhere (it is stretched instead) when every other node is.
func TestLeaseTarget_PartnerFirstAndNeverANodeAboutToReboot(t *testing.T) {
	nodes := []NodeConfig{{Name: "n1", HAPartner: "n2"}, {Name: "n2", HAPartner: "n1"}, {Name: "n3", HAPartner: "n4"}, {Name: "n4", HAPartner: "n3"}}
	for i := range nodes {
		nodes[i].Address, nodes[i].HostKey = "127.0.0.1:1", testHostKey(t)
	}
	d := newDriver(t, Config{Name: "lab", PrivateKey: testKey(t), KeyringFile: "/dev/null", Nodes: nodes})
	n := func(name string) NodeConfig { c, _ := d.node(name); return c }
	target := func(from string) string {
		to, ok := d.leaseTarget(n(from))
		if !ok {
			return ""
		}
		return to.Name
	}
	d.leaving = map[string]int{}
	if got := target("n3"); got != "n4" {
		t.Fatalf("n3's lease goes to %q, want its partner n4", got)
	}
	d.leaving["n4"] = 1 // a parallel activation of n4 has begun
	if got := target("n3"); got != "n1" {
		t.Fatalf("with n4 about to reboot, n3's lease goes to %q, want n1", got)
	}
	d.setRebooting("n1", true)
	if got := target("n3"); got != "n2" {
		t.Fatalf("with n1 rebooting, n3's lease goes to %q, want n2", got)
	}
	d.leaving["n2"] = 1
	if got := target("n3"); got != "" {
		t.Fatalf("with every other node going down, n3's lease goes to %q, want nowhere (stretched)", got)
	}
}

// The cluster snapshot says who holds its live lease, read with each
// node's status in the same SSH session (no request of its own), wherever
// a move put it: the holder, its operation, its expiry and its silence
// against its heartbeat, never its id. It gives the simulator's answer: a
// holder that missed its heartbeat is not held against its own operation,
// which then adopts it; a released lease is gone.
func TestDriver_SnapshotShowsTheLeaseHolderWhereverTheLeaseMoved(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 2})
	d := newDriver(t, labConfig(t, l))
	other := newDriver(t, labConfig(t, l)) // another apply, in another process
	ctx := ctxT(t)
	snap := func() *appliance.Cluster {
		t.Helper()
		c, err := other.Cluster(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := snap(); c.Lease != nil {
		t.Fatalf("a cluster nobody leased shows a lease: %+v", c.Lease)
	}
	req := driver.LeaseRequest{Owner: "alice@ci-1", OperationKey: "op-1", TTL: time.Minute, Heartbeat: time.Second}
	lease, err := d.AcquireLease(ctx, "lab", req)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) *appliance.Cluster {
		t.Helper()
		c := snap()
		// A move writes the lease anew, so it may expire later than taken.
		if c.Lease == nil || c.Lease.Owner != "alice@ci-1" || c.Lease.OperationKey != "op-1" || c.Lease.HeartbeatSeconds != 1 ||
			c.Lease.ExpiresAt.Before(lease.ExpiresAt.Add(-3*time.Second)) || c.Lease.ExpiresAt.After(time.Now().Add(time.Minute+3*time.Second)) {
			t.Fatalf("%s: snapshot lease %+v, want alice's (%+v)", when, c.Lease, lease)
		}
		if strings.Contains(fmt.Sprintf("%+v", c.Lease), lease.ID) {
			t.Fatalf("%s: the snapshot shows the lease id", when)
		}
		return c
	}
	if c := check("taken on the primary"); c.HeldByAnother("bob@ci-2", "op-2") == nil || c.HeldByAnother("alice@ci-1", "op-1") != nil {
		t.Errorf("a live holder: held against another operation %v, against itself %v", c.HeldByAnother("bob@ci-2", "op-2"), c.HeldByAnother("alice@ci-1", "op-1"))
	}
	// Moved off the primary (as before its reboot): n1 keeps a pointer.
	n1, _ := d.node("n1")
	n2, _ := d.node("n2")
	d.leaseMu.Lock()
	err = d.moveLease(ctx, d.held, n1, n2)
	d.leaseMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	check("moved to n2")

	time.Sleep(2500 * time.Millisecond) // alice misses her 1 s heartbeat (the nodes' clocks count whole seconds)
	c := snap()
	if c.Lease == nil || c.Lease.SilentSeconds <= c.Lease.HeartbeatSeconds {
		t.Fatalf("after 2.5 s without renewal: %+v", c.Lease)
	}
	if c.HeldByAnother("bob@ci-2", "op-1") != nil || c.HeldByAnother("bob@ci-2", "op-2") == nil {
		t.Errorf("a silent holder: held against its own operation %v (want nil: it adopts), against another %v", c.HeldByAnother("bob@ci-2", "op-1"), c.HeldByAnother("bob@ci-2", "op-2"))
	}
	adopted, err := other.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "bob@ci-2", OperationKey: "op-1", TTL: time.Minute, Heartbeat: time.Second})
	if err != nil || !adopted.Adopted {
		t.Fatalf("the snapshot said op-1 may adopt, the driver answered %+v, %v", adopted, err)
	}
	if c := snap(); c.Lease == nil || c.Lease.Owner != "bob@ci-2" {
		t.Fatalf("after the adoption: %+v", c.Lease)
	}
	if err := other.ReleaseLease(ctx, "lab", adopted.ID); err != nil {
		t.Fatal(err)
	}
	if c := snap(); c.Lease != nil {
		t.Errorf("a released lease still shows: %+v", c.Lease)
	}
}

// The last check before a reboot, the lease's move off the node about to
// reboot, refuses a lease that expired by that node's clock: a holder that
// stalled past its lease between the action's lease check and the reboot
// does not reboot the node (on the old code the move went ahead and the
// reboot followed), and the lease stays where it was, with no copy left
// on the partner.
func TestDriver_ALeaseThatExpiredBeforeTheRebootIsNotMovedAndTheRebootDoesNotStart(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 2})
	d := newDriver(t, labConfig(t, l))
	ctx := ctxT(t)
	lease, err := d.AcquireLease(ctx, "lab", driver.LeaseRequest{Owner: "alice@ci-1", OperationKey: "op-1", TTL: 2 * time.Second, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the node's clock counts whole seconds
	n1, _ := d.node("n1")
	n2, _ := d.node("n2")
	d.leaseMu.Lock()
	err = d.moveLease(ctx, d.held, n1, n2)
	d.leaseMu.Unlock()
	if driver.CodeOf(err) != driver.CodeLeaseLost || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "reboot did not start") {
		t.Fatalf("moving an expired lease before a reboot: %v, want lease_lost saying it expired and the reboot did not start", err)
	}
	if out, _ := l.Run(l.Node("n1"), "cat "+shq(n1.WorkDir+"/lease")); !strings.Contains(out, "id="+lease.ID) {
		t.Errorf("n1's lease file is %q, want the lease %s left where it was", out, lease.ID)
	}
	if out, _ := l.Run(l.Node("n2"), "cat "+shq(n2.WorkDir+"/lease")+" 2>/dev/null || true"); strings.TrimSpace(out) != "" {
		t.Errorf("n2 kept a copy of the refused lease: %q", out)
	}
}
