package engine

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Downloads (S1): the cluster fetches an image itself. The bytes are
// fetched by the HTTP layer (real I/O, outside any transaction); the
// engine records the task, its heartbeat and its outcome, and the task
// ends no earlier than the cluster's simulated download time.

// StartDownload records a running download of target (a URL without
// credentials) and reports whether a corrupt_download fault applies to it.
func (t *Tx) StartDownload(cs *ClusterState, target string, viaProxy bool) (tk *TaskState, corrupt bool) {
	_, corrupt = t.St.TakeFault(api.FaultCorruptDownload, cs.Cluster.Name, "")
	tk = t.St.NewTask(cs, TaskDownload, target, t.Now)
	tk.Worker, tk.Heartbeat = t.eng.cfg.Worker, WallNow().UTC()
	tk.DueAt = Scaled(t.Now, cs.Config.DownloadSeconds, 1)
	proxyNote := ""
	if viaProxy {
		proxyNote = " through a proxy"
	}
	t.St.Event(cs, t.Now, EventTask, "", "downloading %s%s", target, proxyNote)
	t.Dirty = true
	return tk, corrupt
}

// Heartbeat stamps a download task that this process is still fetching.
func (t *Tx) Heartbeat(id string) {
	if tk := t.St.Task(id); tk != nil && !tk.Done() {
		tk.Heartbeat = WallNow().UTC()
		t.Dirty = true
	}
}

// FinishDownload records the outcome of a download's transfer: the
// failure, or the verified image, which appears once the simulated
// download time has passed.
func (t *Tx) FinishDownload(id, cluster string, m *appliance.Manifest, sha string, size int64, failure *api.Error) {
	tk := t.St.Task(id)
	cs := t.St.Cluster(cluster)
	if tk == nil || tk.Done() || cs == nil {
		return
	}
	t.Dirty = true
	if failure != nil {
		t.St.Fail(cs, tk, t.Now, failure.Code, "%s", failure.Message)
		return
	}
	im, _, e := t.AddImage(cs, m, sha, size, tk.Target)
	if e != nil {
		t.St.Fail(cs, tk, t.Now, e.Code, "%s", e.Message)
		tk.Error.Details = e.Details
		return
	}
	tk.ImageID = im.ID
	at := tk.StartedAt.Add(time.Duration(cs.Config.DownloadSeconds) * time.Second)
	if at.Before(t.Now) {
		at = t.Now
	}
	t.St.schedule(at, actDownloadDone, tk, "", "")
	t.St.advance(t.Now)
}

// downloadDone is armed when a download's bytes are in and verified: the
// image appears after the simulated download time.
func (st *State) downloadDone(cs *ClusterState, t *TaskState, at time.Time) {
	im := cs.Image(t.ImageID)
	if im == nil {
		st.Fail(cs, t, at, "download_failed", "the downloaded image %s disappeared", t.ImageID)
		return
	}
	st.succeed(cs, t, at, map[string]string{"image_id": im.ID, "version": im.Manifest.Version, "sha256": im.SHA256})
}
