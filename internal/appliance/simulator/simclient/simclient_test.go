package simclient

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
)

func start(t *testing.T, opts simulator.Options) *simulator.Server {
	t.Helper()
	opts.Token = "simclient-test-token"
	s, err := simulator.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	return s
}

func TestFaultsAreArmedListedAndCleared(t *testing.T) {
	ctx := context.Background()
	c, err := For(start(t, simulator.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.InjectFault(ctx, api.Fault{Kind: api.FaultBootFailure, Cluster: "demo", Node: "n1", Count: 1})
	if err != nil || f.ID == "" {
		t.Fatalf("InjectFault = %+v, %v", f, err)
	}
	if _, err := c.InjectFault(ctx, api.Fault{Kind: api.FaultSlow, Node: "n2"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListFaults(ctx)
	if err != nil || len(list) != 2 || list[0].ID != f.ID {
		t.Fatalf("ListFaults = %+v, %v", list, err)
	}
	if err := c.DeleteFault(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListFaults(ctx); len(list) != 1 || list[0].Kind != api.FaultSlow {
		t.Fatalf("after DeleteFault: %+v", list)
	}
	if err := c.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListFaults(ctx); len(list) != 0 {
		t.Fatalf("after ClearFaults: %+v", list)
	}
}

func TestARefusedCallIsTheAPIsError(t *testing.T) {
	c, err := For(start(t, simulator.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InjectFault(context.Background(), api.Fault{Kind: "no_such_fault"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != api.CodeInvalidRequest {
		t.Fatalf("InjectFault of an unknown kind = %v", err)
	}
	// The scaled wall clock cannot be advanced.
	_, err = c.AdvanceClock(context.Background(), 5)
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
		t.Fatalf("AdvanceClock on a scaled clock = %v", err)
	}
	bad, _ := New(Config{Endpoint: c.base.String(), Token: "wrong"})
	if _, err := bad.ListFaults(context.Background()); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("with a wrong token: %v", err)
	}
}

func TestAManualClockIsReadAndAdvanced(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := For(start(t, simulator.Options{Clock: simulator.NewManualClock(epoch)}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Clock(context.Background())
	if err != nil || !v.Manual || !v.Now.Equal(epoch) {
		t.Fatalf("Clock = %+v, %v", v, err)
	}
	v, err = c.AdvanceClock(context.Background(), 90)
	if err != nil || !v.Now.Equal(epoch.Add(90*time.Second)) {
		t.Fatalf("AdvanceClock = %+v, %v", v, err)
	}
}

func TestStatsCountTheRequests(t *testing.T) {
	c, err := For(start(t, simulator.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListFaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := c.Stats(context.Background())
	if err != nil || after.Requests != before.Requests+2 {
		t.Fatalf("Stats = %+v after %+v, %v: want the ListFaults and the first Stats counted", after, before, err)
	}
}

func TestAnEndpointThatIsNotAURLIsRefused(t *testing.T) {
	for _, e := range []string{"", "localhost:8080", "ftp://h/"} {
		if _, err := New(Config{Endpoint: e}); err == nil {
			t.Errorf("New(%q) accepted", e)
		}
	}
}
