package provider

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Two operations of one apply on one cluster take turns, and a wait for the
// turn ends with the operation's own context; another cluster never waits.
func TestOperationsOfOneProcessOnOneClusterTakeTurnsBoundedByTheirContext(t *testing.T) {
	d := &providerData{}
	end, err := d.takeTurn(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.takeTurn(context.Background(), "other")
	if err != nil {
		t.Fatalf("another cluster's operation waited: %v", err)
	}
	other()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.takeTurn(ctx, "demo"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second operation on demo while the first holds its turn: %v, want the context's deadline", err)
	}

	got := make(chan error, 1)
	go func() {
		end2, err := d.takeTurn(context.Background(), "demo")
		if err == nil {
			end2()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second operation got its turn before the first ended (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	end()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second operation never got its turn after the first ended")
	}
}
