package engine

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// maxFinishedTasks bounds the finished tasks kept in the state.
const maxFinishedTasks = 1000

// Task kinds.
const (
	TaskStage    = "stage"
	TaskActivate = "activate"
	TaskRevert   = "revert"
	TaskPromote  = "promote"
	TaskMove     = "move_resource"
	TaskFinalize = "finalize"
	TaskDownload = "download"
)

// Timer actions.
const (
	actStageDone    = "stage_done"
	actBootDone     = "boot_done"
	actRevertDone   = "revert_done"
	ActSettleDone   = "settle_done"
	actNodeTimeout  = "node_timeout"
	actPromoteDone  = "promote_done"
	actMoveDone     = "move_done"
	actFinalizeDone = "finalize_done"
	actDownloadDone = "download_done"
)

// NewTask creates a running task of kind on target.
func (st *State) NewTask(cs *ClusterState, kind, target string, now time.Time) *TaskState {
	st.Counters.Task++
	t := &TaskState{
		Task: api.Task{
			ID:        "task-" + strconv.FormatInt(st.Counters.Task, 10),
			Cluster:   cs.Cluster.Name,
			Kind:      kind,
			Target:    target,
			State:     api.TaskRunning,
			CreatedAt: now,
		},
		StartedAt: now,
		DueAt:     now,
	}
	st.Tasks = append(st.Tasks, t)
	st.pruneTasks()
	return t
}

// pruneTasks forgets the oldest finished tasks beyond maxFinishedTasks.
func (st *State) pruneTasks() {
	finished := 0
	for _, t := range st.Tasks {
		if t.Done() {
			finished++
		}
	}
	if finished <= maxFinishedTasks {
		return
	}
	drop := finished - maxFinishedTasks
	kept := st.Tasks[:0]
	for _, t := range st.Tasks {
		if drop > 0 && t.Done() {
			drop--
			continue
		}
		kept = append(kept, t)
	}
	st.Tasks = kept
}

// succeed finishes a task successfully at at.
func (st *State) succeed(cs *ClusterState, t *TaskState, at time.Time, result map[string]string) {
	t.State = api.TaskSucceeded
	t.Progress = 100
	t.Result = result
	f := at
	t.FinishedAt = &f
	st.Event(cs, at, EventTask, t.Node, "%s %s on %s succeeded", t.Kind, t.ID, t.Target)
}

// fail finishes a task with an error at at.
func (st *State) Fail(cs *ClusterState, t *TaskState, at time.Time, code, format string, args ...any) {
	t.State = api.TaskFailed
	t.Progress = 100
	t.Error = &api.Error{Code: code, Message: fmt.Sprintf(format, args...)}
	f := at
	t.FinishedAt = &f
	st.Event(cs, at, EventTask, t.Node, "%s %s on %s failed: %s", t.Kind, t.ID, t.Target, t.Error.Message)
}

// schedule arms a timer.
func (st *State) schedule(at time.Time, action string, t *TaskState, cluster, node string) {
	st.Counters.Timer++
	tm := timer{Seq: st.Counters.Timer, At: at, Action: action, Cluster: cluster, Node: node}
	if t != nil {
		tm.Task = t.ID
		tm.Cluster = t.Cluster
		if t.DueAt.Before(at) {
			t.DueAt = at
		}
	}
	st.Timers = append(st.Timers, tm)
}

// scaled returns now + seconds x factor.
func Scaled(now time.Time, seconds int, factor float64) time.Time {
	if factor < 1 {
		factor = 1
	}
	return now.Add(time.Duration(float64(seconds) * factor * float64(time.Second)))
}

// advance applies, in order, every timer due at or before now, each at the
// simulated instant it fell due. It reports whether anything changed.
func (st *State) advance(now time.Time) bool {
	changed := false
	for {
		if len(st.Timers) == 0 {
			return changed
		}
		sort.SliceStable(st.Timers, func(i, j int) bool {
			a, b := st.Timers[i], st.Timers[j]
			if !a.At.Equal(b.At) {
				return a.At.Before(b.At)
			}
			return a.Seq < b.Seq
		})
		tm := st.Timers[0]
		if tm.At.After(now) {
			return changed
		}
		st.Timers = st.Timers[1:]
		st.apply(tm)
		changed = true
	}
}

// NextDue is the simulated instant of the next timer, if any.
func (st *State) NextDue() (time.Time, bool) {
	var next time.Time
	for i, tm := range st.Timers {
		if i == 0 || tm.At.Before(next) {
			next = tm.At
		}
	}
	return next, len(st.Timers) > 0
}

// apply runs one timer.
func (st *State) apply(tm timer) {
	cs := st.Cluster(tm.Cluster)
	if cs == nil {
		return
	}
	var t *TaskState
	if tm.Task != "" {
		if t = st.Task(tm.Task); t == nil || t.Done() {
			return // the task was forgotten or already ended another way
		}
	}
	switch tm.Action {
	case actStageDone:
		st.stageDone(cs, t, tm.At)
	case actBootDone:
		st.bootDone(cs, t, tm.At)
	case actRevertDone:
		st.revertDone(cs, t, tm.At)
	case actNodeTimeout:
		st.nodeTimeout(cs, t, tm.At)
	case ActSettleDone:
		st.settleDone(cs, tm.Node, tm.At)
	case actPromoteDone:
		st.promoteDone(cs, t, tm.At)
	case actMoveDone:
		st.moveDone(cs, t, tm.At)
	case actFinalizeDone:
		st.finalizeDone(cs, t, tm.At)
	case actDownloadDone:
		st.downloadDone(cs, t, tm.At)
	}
	updateAvailability(cs, tm.At)
	UpdateHealth(cs)
}

// view is the task as the API shows it at now: a deep copy (it may be
// encoded after the transaction ends), with a running task's progress
// estimated from its schedule.
func (t *TaskState) View(now time.Time) api.Task {
	out := t.Task
	if t.Result != nil {
		out.Result = make(map[string]string, len(t.Result))
		for k, v := range t.Result {
			out.Result[k] = v
		}
	}
	if t.Error != nil {
		e := *t.Error
		if e.Details != nil {
			e.Details = make(map[string]any, len(t.Error.Details))
			for k, v := range t.Error.Details {
				e.Details[k] = v
			}
		}
		out.Error = &e
	}
	if t.FinishedAt != nil {
		f := *t.FinishedAt
		out.FinishedAt = &f
	}
	if !t.Done() {
		total := t.DueAt.Sub(t.StartedAt)
		p := 0
		if total > 0 {
			p = int(100 * now.Sub(t.StartedAt) / total)
		}
		out.Progress = min(max(p, 0), 99)
	}
	return out
}
