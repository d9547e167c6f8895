package simulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// maxWait bounds a task long-poll.
const maxWait = 60 * time.Second

// pollTick and manualPollTick bound how long a long-poll sleeps before it
// looks again when nothing in this process wakes it: another process may
// finish the task (a download), and a manual clock moved directly by a
// test does not announce itself. With the scaled clock a long-poll
// otherwise sleeps exactly until the next timer falls due.
const (
	pollTick       = 250 * time.Millisecond
	manualPollTick = 20 * time.Millisecond
)

// parseWait reads ?wait=30s (a Go duration, or plain seconds).
func parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, engine.BadRequest("wait must be a duration such as 30s")
	}
	return d, nil
}

// handleTask answers GET /v1/tasks/{id}?wait=30s: at once when the task is
// done, else as soon as it is, or when the wait (wall time) has elapsed.
func (s *Server) handleTask(w http.ResponseWriter, r *http.Request) {
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	wait = min(wait, maxWait)
	deadline := time.Now().Add(wait)
	id := r.PathValue("id")
	for {
		changed := s.eng.Changes()
		var view api.Task
		var sleep time.Duration
		err := s.eng.Tx(func(t *engine.Tx) error {
			tk := t.St.Task(id)
			if tk == nil {
				return engine.NotFound("no task %q", id)
			}
			view = tk.View(t.Now)
			switch due, ok := t.St.NextDue(); {
			case s.eng.Manual():
				sleep = manualPollTick
			case ok:
				sleep = min(t.St.Clock.WallDelay(t.Now, due), pollTick)
			default:
				sleep = pollTick
			}
			return nil
		})
		if err != nil {
			writeError(w, asAPIError(err))
			return
		}
		left := time.Until(deadline)
		if view.Done() || left <= 0 {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(view)
			return
		}
		sleep = min(max(sleep, time.Millisecond), left)
		tm := time.NewTimer(sleep)
		select {
		case <-r.Context().Done():
			tm.Stop()
			return
		case <-s.ctx.Done():
			tm.Stop()
			writeError(w, engine.APIError(http.StatusServiceUnavailable, api.CodeUnavailable, "the simulator is shutting down"))
			return
		case <-changed:
			tm.Stop()
		case <-tm.C:
		}
	}
}
