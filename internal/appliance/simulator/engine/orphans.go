package engine

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// HeartbeatEvery and OrphanAfter let a later process fail a download task
// whose process died: the fetching process stamps it every HeartbeatEvery;
// a stamp older than OrphanAfter means nobody is fetching any more.
const (
	HeartbeatEvery = 15 * time.Second
	OrphanAfter    = 60 * time.Second
)

// reapOrphans fails the downloads that another, dead process was fetching.
func (t *Tx) reapOrphans() {
	for _, tk := range t.St.Tasks {
		if tk.Kind != TaskDownload || tk.Done() || tk.Worker == t.eng.cfg.Worker || tk.ImageID != "" {
			continue
		}
		if WallNow().Sub(tk.Heartbeat) > OrphanAfter {
			if cs := t.St.Cluster(tk.Cluster); cs != nil {
				t.St.Fail(cs, tk, t.Now, api.CodeDownloadFailed, "the download was interrupted: the simulator process fetching it stopped")
				t.Dirty = true
			}
		}
	}
}
