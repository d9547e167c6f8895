package executor

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// stuckRenewals passes the first acquisition to the driver and makes every
// renewal hang, deaf to its context, until the test ends: a holder whose
// renewals are starved (a paused process, a scheduler that does not run
// it, a call stuck in the kernel).
type stuckRenewals struct {
	Leaser
	calls   atomic.Int32
	release chan struct{}
}

func (s *stuckRenewals) AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	if s.calls.Add(1) == 1 {
		return s.Leaser.AcquireLease(ctx, cluster, req)
	}
	<-s.release
	return nil, errors.New("the test ended")
}

// countingStarts counts the actions that reach the driver.
type countingStarts struct {
	driver.Driver
	starts atomic.Int32
}

func (c *countingStarts) Start(ctx context.Context, cluster string, a driver.Action) (driver.Task, error) {
	c.starts.Add(1)
	return c.Driver.Start(ctx, cluster, a)
}

// A starved holder stops acting, and the cluster refuses it. Alice holds
// the lease on the simulator, but her renewals hang; she wakes after her
// lease expired on the cluster and bob took it, still about to activate
// n1. By her own monotonic clock her lease is gone, so the activation
// never reaches the cluster (on the old code it did, and only bob's lease
// happened to stop it); a driver that sends it anyway (one that checked
// the lease before it stalled) is refused by the cluster with lease_lost,
// by her lease's id and generation. Bob's activation is the only one: n1
// swapped partitions once.
func TestWithLease_AStarvedHolderStopsByItsOwnClockAndTheClusterRefusesItsStaleLease(t *testing.T) {
	t.Setenv(bundle.CacheDirEnv, "off")
	oldTTL, oldBeat := leaseTTL, leaseHeartbeat
	leaseTTL, leaseHeartbeat = 2*time.Second, time.Second // renewed every 500 ms; acts for 1.5 s after a renewal
	t.Cleanup(func() { leaseTTL, leaseHeartbeat = oldTTL, oldBeat })
	srv, err := simulator.Start(context.Background(), simulator.Options{TimeScale: 100, Token: "tok", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	bg := context.Background()
	cl, err := client.New(client.Config{Endpoint: srv.URL(), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.bundle")
	if _, err := bundle.BuildFile(path, bundle.Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []bundle.ComponentSpec{{Name: "os", Size: 4096}}}); err != nil {
		t.Fatal(err)
	}
	snap, err := cl.GetCluster(bg, "demo")
	if err != nil {
		t.Fatal(err)
	}
	primary := snap.Nodes[0].Name
	img, err := cl.UploadImage(bg, "demo", path)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := cl.Stage(bg, "demo", primary, img.ID, "") // no lease held: anyone may act
	if err == nil {
		_, err = cl.WaitTask(bg, tk.ID)
	}
	if err != nil {
		t.Fatal(err)
	}

	drv := mgmtapi.New(cl)
	// Alice's renewal hangs until her work is over (WithLease waits for it
	// before it releases the lease).
	stuck := &stuckRenewals{Leaser: drv, release: make(chan struct{})}
	counted := &countingStarts{Driver: drv}
	activate := driver.Action{Kind: driver.ActActivate, Node: primary, Version: "1.1", IdempotencyKey: "alice-activate"}
	var fromDriver error
	err = WithLease(bg, stuck, "demo", "alice", "demo->1.1", func(ctx context.Context, id string) error {
		activate.LeaseID = id
		time.Sleep(leaseTTL + 300*time.Millisecond) // starved past her lease's expiry on the cluster
		bob, err := cl.AcquireLease(bg, "demo", api.LeaseRequest{Owner: "bob", OperationKey: "bob's", TTLSeconds: 60})
		if err != nil {
			t.Fatalf("bob could not take the expired lease: %v", err)
		}
		defer func() { _ = cl.ReleaseLease(bg, "demo", bob.ID) }()
		actErr := Do(ctx, counted, "demo", activate)

		// A driver that acts anyway: the cluster refuses the stale lease.
		_, fromDriver = drv.Start(bg, "demo", activate)

		tk, err := cl.WithLeaseGeneration(bob.ID, bob.Generation).Activate(bg, "demo", primary, api.ActivateRequest{ExpectVersion: "1.1"}, "")
		if err == nil {
			_, err = cl.WaitTask(bg, tk.ID)
		}
		if err != nil {
			t.Errorf("bob's activation under his live lease: %v", err)
		}
		close(stuck.release)
		return actErr
	})
	if driver.CodeOf(err) != driver.CodeLeaseLost || !strings.Contains(err.Error(), "own clock") {
		t.Errorf("the starved holder's action: want lease_lost by its own clock, got %v", err)
	}
	if n := counted.starts.Load(); n != 0 {
		t.Errorf("%d actions of the starved holder reached the driver after its lease expired by its own clock", n)
	}
	if driver.CodeOf(fromDriver) != driver.CodeLeaseLost || !strings.Contains(fromDriver.Error(), "bob") {
		t.Errorf("the cluster's answer to the stale lease: want lease_lost naming bob, got %v", fromDriver)
	}
	evs, err := cl.Events(bg, "demo", 0)
	if err != nil {
		t.Fatal(err)
	}
	swaps := 0
	for _, e := range evs {
		if e.Kind == engine.EventPartitionSwap && e.Node == primary {
			swaps++
		}
	}
	if swaps != 1 {
		t.Errorf("%s swapped partitions %d times, want once (bob's activation)", primary, swaps)
	}
}
