package mgmtapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
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
