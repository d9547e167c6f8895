package engine

import (
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFinishedTasksAreBounded(t *testing.T) {
	st := &State{}
	cs := &ClusterState{}
	for i := 0; i < maxFinishedTasks+50; i++ {
		tk := st.NewTask(cs, TaskStage, "n1", epoch)
		st.succeed(cs, tk, epoch, nil)
	}
	running := st.NewTask(cs, TaskStage, "n1", epoch)
	st.pruneTasks()
	if len(st.Tasks) != maxFinishedTasks+1 || st.Task(running.ID) == nil {
		t.Fatalf("%d tasks kept", len(st.Tasks))
	}
	if len(cs.Events) > maxEvents {
		t.Fatalf("%d events kept", len(cs.Events))
	}
}
