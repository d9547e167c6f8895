package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

func TestWaitTaskLongPollsUntilTheTaskIsDone(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Get("wait") != "30s" {
			t.Errorf("wait=%q, want 30s", r.URL.Query().Get("wait"))
		}
		state := api.TaskRunning
		if n == 3 {
			state = api.TaskSucceeded
		}
		writeJSON(w, 200, api.Task{ID: r.PathValue("id"), State: state, Progress: 33 * n})
	})
	task, err := newClient(t, f).WaitTask(context.Background(), "t1")
	if err != nil || task.State != api.TaskSucceeded || f.count() != 3 {
		t.Fatalf("WaitTask = %+v, %v after %d polls", task, err, f.count())
	}
}

func TestWaitTaskReturnsAFailedTaskWithoutAnError(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, api.Task{ID: "t1", State: api.TaskFailed, Error: &api.Error{Code: api.CodeBootFailed, Message: "n1 did not boot"}})
	})
	task, err := newClient(t, f).WaitTask(context.Background(), "t1")
	if err != nil || task.Error == nil || task.Error.Code != api.CodeBootFailed {
		t.Fatalf("WaitTask = %+v, %v", task, err)
	}
}

func TestWaitTaskStopsWhenTheContextEnds(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select { // a long-poll that outlasts the caller
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		writeJSON(w, 200, api.Task{ID: "t1", State: api.TaskRunning})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, f).WaitTask(ctx, "t1")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestALongPollIsNotCutShortByTheRequestTimeout(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(300 * time.Millisecond) // longer than RequestTimeout, shorter than it plus the wait
		writeJSON(w, 200, api.Task{ID: "t1", State: api.TaskSucceeded})
	})
	c := newClient(t, f, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond; cfg.RetryMax = -1 })
	if _, err := c.GetTask(context.Background(), "t1", time.Second); err != nil {
		t.Fatalf("long-poll: %v", err)
	}
	if _, err := c.GetTask(context.Background(), "t1", 0); err == nil {
		t.Fatal("a plain GET outlived RequestTimeout")
	}
}
