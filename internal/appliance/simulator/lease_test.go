package simulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// moveWallClock moves the wall clock of leases by d for the rest of the test.
func moveWallClock(t *testing.T, d time.Duration) {
	t.Helper()
	old := engine.WallNow
	engine.WallNow = func() time.Time { return old().Add(d) }
	t.Cleanup(func() { engine.WallNow = old })
}

// Defect 6: a lease's ttl_seconds was unbounded (1e12 gave a lease until
// 2149) and overflowed on the largest int64 (200 with a lease already
// expired). It is 1 to 3600 seconds, 0 meaning the default 300.
func TestSim_Defect6_LeaseTTLIsBounded(t *testing.T) {
	h := newHarness(t, "")
	for _, ttl := range []int{1e12, math.MaxInt64, 3601, -1} {
		e := h.fail("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op", TTLSeconds: ttl}, 400, api.CodeInvalidRequest)
		if !strings.Contains(e.Message, "3600") {
			t.Errorf("ttl %d: the refusal does not name the bound: %s", ttl, e.Message)
		}
	}
	e := h.fail("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op", TTLSeconds: 60, HeartbeatSeconds: 61}, 400, api.CodeInvalidRequest)
	if !strings.Contains(e.Message, "heartbeat_seconds") {
		t.Errorf("a heartbeat longer than the ttl: %s", e.Message)
	}
	var l api.Lease
	before := time.Now()
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op", TTLSeconds: api.MaxLeaseTTLSeconds}, 200, &l)
	if got := l.ExpiresAt.Sub(before); got < time.Hour-time.Minute || got > time.Hour+time.Minute {
		t.Errorf("a 3600 s lease expires in %v", got)
	}
	if l.HeartbeatSeconds != 1200 || l.RenewedAt.IsZero() {
		t.Errorf("lease %+v: want the default heartbeat of a third of the ttl and the renewal time", l)
	}
	h.call("DELETE", "/v1/clusters/demo/lease/"+l.ID, nil, 204, nil)
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op"}, 200, &l)
	if got := l.ExpiresAt.Sub(before); got < 4*time.Minute || got > 6*time.Minute {
		t.Errorf("a lease without ttl_seconds expires in %v, want the default 300 s", got)
	}
}

// Defect 5 (simulator side): after a crash, the same intent re-applied (the
// same operation key, another process as owner) adopts the dead holder's
// lease once the holder has missed its heartbeat, instead of a 409 until
// the lease expires.
func TestSim_Defect5_SameOperationAdoptsALeaseThatMissedItsHeartbeat(t *testing.T) {
	h := newHarness(t, "")
	var dead api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "terraform@host pid 100", OperationKey: "demo->1.1", TTLSeconds: 120, HeartbeatSeconds: 10}, 200, &dead)

	// Within the heartbeat the holder counts as alive.
	e := h.fail("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "terraform@host pid 200", OperationKey: "demo->1.1", TTLSeconds: 120}, 409, api.CodeLeaseHeld)
	if !strings.Contains(e.Message, "pid 100") || !strings.Contains(e.Message, "heartbeat") || e.Details["heartbeat_seconds"] == nil {
		t.Errorf("refusal within the heartbeat: %s %+v", e.Message, e.Details)
	}

	moveWallClock(t, 11*time.Second)
	var adopted api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "terraform@host pid 200", OperationKey: "demo->1.1", TTLSeconds: 120}, 200, &adopted)
	if !adopted.Adopted || adopted.PreviousOwner != "terraform@host pid 100" || adopted.Owner != "terraform@host pid 200" || adopted.ID == dead.ID {
		t.Fatalf("adoption answered %+v", adopted)
	}
	// The predecessor's lease id is fenced off, and the refusal names the adopter.
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.lease = dead.ID
	e = h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 409, api.CodeLeaseLost)
	if e.Details["owner"] != "terraform@host pid 200" || !strings.Contains(e.Message, "taken over by terraform@host pid 200") {
		t.Errorf("the old id's refusal names %v: %s", e.Details["owner"], e.Message)
	}
	if adopted.Generation <= dead.Generation {
		t.Errorf("the adopted lease's generation %d is not above the dead holder's %d", adopted.Generation, dead.Generation)
	}
	h.lease = adopted.ID
	h.stage("demo", "n1", im.ID)
	// A renewal by the adopter is a plain renewal (same id, not adopted again).
	var renewed api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "terraform@host pid 200", OperationKey: "demo->1.1", TTLSeconds: 120}, 200, &renewed)
	if renewed.ID != adopted.ID || renewed.Adopted {
		t.Errorf("renewal %+v", renewed)
	}
	adoptions := 0
	for _, ev := range h.events("demo") {
		if ev.Kind == engine.EventLease && strings.Contains(ev.Message, "adopted by terraform@host pid 200 from terraform@host pid 100") {
			adoptions++
		}
	}
	if adoptions != 1 {
		t.Errorf("%d adoption events", adoptions)
	}
}

// A live or silent holder of another operation is refused at once, and
// the refusal names it: owner, operation key and expiry.
func TestSim_Defect5_AnotherOperationIsRefusedNamingTheHolder(t *testing.T) {
	h := newHarness(t, "")
	var l api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "demo->1.1", TTLSeconds: 120, HeartbeatSeconds: 5}, 200, &l)
	moveWallClock(t, time.Minute) // alice missed her heartbeat, but her lease is live
	for _, key := range []string{"demo->1.2", ""} {
		e := h.fail("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "bob", OperationKey: key}, 409, api.CodeLeaseHeld)
		want := l.ExpiresAt.Format(time.RFC3339)
		if !strings.Contains(e.Message, "alice") || !strings.Contains(e.Message, "demo->1.1") || !strings.Contains(e.Message, want) {
			t.Errorf("operation %q: message %q does not name the holder", key, e.Message)
		}
		if e.Details["owner"] != "alice" || e.Details["operation_key"] != "demo->1.1" || e.Details["expires_at"] != want {
			t.Errorf("operation %q: details %+v", key, e.Details)
		}
	}
}

// The cluster snapshot says who holds its live lease, so that a plan knows
// another operation drives the cluster without a request of its own: the
// holder, its operation, its expiry and how long it has been silent against
// its heartbeat, never the lease's id. An adoptable holder (the same
// operation, silent past its heartbeat) is not held against that operation;
// a released lease is gone from the snapshot.
func TestSim_SnapshotShowsTheLeaseHolderWithoutItsID(t *testing.T) {
	h := newHarness(t, "")
	var c appliance.Cluster
	h.call("GET", "/v1/clusters/demo", nil, 200, &c)
	if c.Lease != nil {
		t.Fatalf("a cluster nobody leased shows a lease: %+v", c.Lease)
	}
	var l api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "team-a pid 100", OperationKey: "demo->1.1", TTLSeconds: 120, HeartbeatSeconds: 10}, 200, &l)
	if status, raw := h.do("GET", "/v1/clusters/demo", nil); status != 200 || strings.Contains(string(raw), l.ID) {
		t.Fatalf("the snapshot (%d) shows the lease id, which lets a request act on the cluster: %s", status, raw)
	}
	h.call("GET", "/v1/clusters/demo", nil, 200, &c)
	if c.Lease == nil || c.Lease.Owner != "team-a pid 100" || c.Lease.OperationKey != "demo->1.1" || c.Lease.HeartbeatSeconds != 10 || c.Lease.SilentSeconds > 1 ||
		!c.Lease.ExpiresAt.Equal(l.ExpiresAt) {
		t.Fatalf("snapshot lease %+v, want team-a's (%+v)", c.Lease, l)
	}
	if c.HeldByAnother("team-b pid 200", "demo->1.1") == nil || c.HeldByAnother("team-b pid 200", "demo->1.2") == nil {
		t.Error("a live holder is not held against another process")
	}
	if c.HeldByAnother("team-a pid 100", "demo->1.1") != nil {
		t.Error("the holder's own lease is held against it")
	}

	moveWallClock(t, 11*time.Second)
	h.call("GET", "/v1/clusters/demo", nil, 200, &c)
	if c.Lease == nil || c.Lease.SilentSeconds < 11 {
		t.Fatalf("after 11 s without renewal: %+v", c.Lease)
	}
	if c.HeldByAnother("team-b pid 200", "demo->1.1") != nil {
		t.Error("a holder that missed its heartbeat is held against its own operation, which adopts it")
	}
	if c.HeldByAnother("team-b pid 200", "demo->1.2") == nil {
		t.Error("a silent holder is not held against another operation, which it still refuses")
	}
	h.call("DELETE", "/v1/clusters/demo/lease/"+l.ID, nil, 204, nil)
	var released appliance.Cluster
	h.call("GET", "/v1/clusters/demo", nil, 200, &released)
	if released.Lease != nil {
		t.Errorf("a released lease still shows: %+v", released.Lease)
	}
}

// leaseHeaders are the headers of a request under lease l: its id is
// h.lease, its generation (fencing token) goes in X-Lease-Generation.
func leaseHeaders(l api.Lease) []string {
	return []string{api.HeaderLeaseGeneration, strconv.FormatInt(l.Generation, 10)}
}

// A starved holder is fenced off. Alice takes the lease and stages n1
// under it, then stalls past its expiry (a starved scheduler, a paused
// process) while still believing she holds it. Her next mutation, the
// activation of n1, is refused with lease_lost and changes nothing: first
// while no one holds the cluster (on the old code it was accepted, and
// bob could take the lease while her reboot ran), then after bob took the
// cluster. Bob's lease has a higher generation; his activation of n1 is
// the only one: n1 swapped partitions once.
func TestSim_AStarvedHolderIsRefusedAfterItsLeaseExpiredAndNothingIsActivatedTwice(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	var alice api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "demo->1.1", TTLSeconds: 30, HeartbeatSeconds: 10}, 200, &alice)
	if alice.Generation < 1 {
		t.Fatalf("the lease has no generation: %+v", alice)
	}
	h.lease = alice.ID
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 202, &tk, leaseHeaders(alice)...)
	h.succeed(tk)

	moveWallClock(t, 31*time.Second) // alice stalls past her lease's expiry
	var e api.Error
	h.call("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 409, &e, leaseHeaders(alice)...)
	if e.Code != api.CodeLeaseLost || !strings.Contains(e.Message, "expired") || !strings.Contains(e.Message, "generation 1") || !strings.Contains(e.Message, "no lease is held now") {
		t.Errorf("the starved holder's activation, with no lease held: %s %s", e.Code, e.Message)
	}
	// Her id alone (no generation sent) is refused as well.
	h.fail("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 409, api.CodeLeaseLost)

	h.lease = ""
	var bob api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "bob", OperationKey: "demo->1.1 by bob", TTLSeconds: 30}, 200, &bob)
	if bob.Generation <= alice.Generation {
		t.Fatalf("bob's lease has generation %d, not above alice's %d", bob.Generation, alice.Generation)
	}
	h.lease = alice.ID
	e = api.Error{}
	h.call("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 409, &e, leaseHeaders(alice)...)
	if e.Code != api.CodeLeaseLost || e.Details["owner"] != "bob" || !strings.Contains(e.Message, fmt.Sprintf("generation %d", bob.Generation)) {
		t.Errorf("the starved holder's activation, bob holding the cluster: %s %s %v", e.Code, e.Message, e.Details)
	}
	// Bob's id with a stale generation is refused too: the token must match.
	h.lease = bob.ID
	h.call("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 409, &e, leaseHeaders(alice)...)
	if e.Code != api.CodeLeaseLost {
		t.Errorf("bob's id with alice's generation: %s %s", e.Code, e.Message)
	}
	h.call("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 400, &e, api.HeaderLeaseGeneration, "seven")

	h.call("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 202, &tk, leaseHeaders(bob)...)
	h.succeed(tk)
	swaps := 0
	for _, ev := range h.events("demo") {
		if ev.Kind == engine.EventPartitionSwap && ev.Node == "n1" {
			swaps++
		}
	}
	if swaps != 1 || h.node("demo", "n1").Active.Version != "1.1" {
		t.Errorf("n1 swapped partitions %d times (want once, bob's activation) and runs %s", swaps, h.node("demo", "n1").Active.Version)
	}
	// A renewal keeps the generation; the release ends it, and the next
	// lease is newer still.
	h.lease = ""
	var renewed, next api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "bob", OperationKey: "demo->1.1 by bob", TTLSeconds: 30}, 200, &renewed)
	if renewed.Generation != bob.Generation || renewed.ID != bob.ID {
		t.Errorf("a renewal changed the lease: %+v, was %+v", renewed, bob)
	}
	h.call("DELETE", "/v1/clusters/demo/lease/"+bob.ID, nil, 204, nil)
	h.lease = bob.ID
	h.call("POST", "/v1/clusters/demo/nodes/n2/stage", api.StageRequest{ImageID: im.ID}, 409, &e, leaseHeaders(bob)...)
	if e.Code != api.CodeLeaseLost || !strings.Contains(e.Message, "released") {
		t.Errorf("a request under a released lease: %s %s", e.Code, e.Message)
	}
	h.lease = ""
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "carol", OperationKey: "other"}, 200, &next)
	if next.Generation != bob.Generation+1 {
		t.Errorf("the lease after bob's has generation %d, want %d", next.Generation, bob.Generation+1)
	}
}
