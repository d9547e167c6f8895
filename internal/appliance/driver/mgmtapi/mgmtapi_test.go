package mgmtapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// A task that failed without an error body is a failure, never a success
// (the image resource's own staging once took it for one).
func TestTaskError_AFailedTaskWithoutABodyIsAFailure(t *testing.T) {
	err := taskError(&api.Task{ID: "task-1", Kind: "stage", Target: "n2", State: api.TaskFailed})
	if driver.CodeOf(err) != driver.CodeFailed || !strings.Contains(err.Error(), "task-1 (stage n2) failed without saying why") {
		t.Fatalf("got %v", err)
	}
	if err := taskError(&api.Task{ID: "task-2", State: api.TaskSucceeded}); err != nil {
		t.Fatalf("a succeeded task is an error: %v", err)
	}
	err = taskError(&api.Task{ID: "task-3", Kind: "activate", Target: "n3", State: api.TaskFailed,
		Error: &api.Error{Code: api.CodeBootFailed, Message: "n3 did not boot 1.1"}})
	if driver.CodeOf(err) != driver.CodeBootFailed || !strings.Contains(err.Error(), "n3 did not boot 1.1") {
		t.Fatalf("got %v", err)
	}
}

// API errors keep their code and stay in the chain, wrapped or not.
func TestClassify_KeepsTheAPICodeAndTheOriginal(t *testing.T) {
	orig := &api.Error{Status: 409, Code: api.CodeLeaseHeld, Message: "leased by nightly", Details: map[string]any{"owner": "nightly"}}
	err := classify(fmt.Errorf("acquiring: %w", orig))
	var de *driver.Error
	if !errors.As(err, &de) || de.Code != driver.CodeLeaseHeld || de.Status != 409 || de.Details["owner"] != "nightly" {
		t.Fatalf("got %#v", err)
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatal("the API error is no longer in the chain")
	}
	plain := errors.New("connection refused")
	if classify(plain) != plain || classify(nil) != nil {
		t.Fatal("an error without a code was changed")
	}
}

// Every action under a lease this driver took carries the lease's id and
// its generation (the fencing token the acquisition answered), so that the
// cluster can refuse a lease that is no longer its live one; after the
// release the generation is forgotten.
func TestStart_SendsTheLeasesGenerationWithItsID(t *testing.T) {
	var mu sync.Mutex
	var gotID, gotGen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/lease"):
			_ = json.NewEncoder(w).Encode(api.Lease{ID: "lease-a", Cluster: "c", Owner: "me", OperationKey: "op", Generation: 7, ExpiresAt: time.Now().Add(time.Minute)})
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			mu.Lock()
			gotID, gotGen = append(gotID, r.Header.Get(api.HeaderLeaseID)), append(gotGen, r.Header.Get(api.HeaderLeaseGeneration))
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(api.Task{ID: "task-1", State: api.TaskRunning})
		}
	}))
	defer srv.Close()
	c, err := client.New(client.Config{Endpoint: srv.URL, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	d := New(c)
	ctx := context.Background()
	l, err := d.AcquireLease(ctx, "c", driver.LeaseRequest{Owner: "me", OperationKey: "op", TTL: time.Minute})
	if err != nil || l.Generation != 7 {
		t.Fatalf("lease %+v, %v", l, err)
	}
	if _, err := d.Uncached().Start(ctx, "c", driver.Action{Kind: driver.ActActivate, Node: "n1", LeaseID: l.ID}); err != nil {
		t.Fatal(err)
	}
	if err := d.ReleaseLease(ctx, "c", l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(ctx, "c", driver.Action{Kind: driver.ActActivate, Node: "n1", LeaseID: l.ID}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gotID) != 2 || gotID[0] != "lease-a" || gotGen[0] != "7" || gotGen[1] != "" {
		t.Fatalf("the actions sent lease ids %q and generations %q", gotID, gotGen)
	}
}
