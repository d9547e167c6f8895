package simulator

import (
	"time"
)

// downloadDone is armed when a download's bytes are in and verified: the
// image appears after the simulated download time.
func (st *State) downloadDone(cs *clusterState, t *taskState, at time.Time) {
	im := cs.image(t.ImageID)
	if im == nil {
		st.fail(cs, t, at, "download_failed", "the downloaded image %s disappeared", t.ImageID)
		return
	}
	st.succeed(cs, t, at, map[string]string{"image_id": im.ID, "version": im.Manifest.Version, "sha256": im.SHA256})
}
