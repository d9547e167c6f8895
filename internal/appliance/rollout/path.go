package rollout

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// UpgradeChain returns the shortest chain of supported updates from the
// running version to the target, through the known images (S8), as the
// versions to run in turn: ["1.0", "1.1", "1.3"]. Each hop goes to a newer
// image that supports the version before it. It returns nil when no chain
// exists, and [from, target] when the target supports from directly.
//
// The search is breadth first over the upgrade graph, so the chain has the
// fewest hops; among equally short chains the known images are tried in
// version order, which makes the answer stable.
func UpgradeChain(from string, target *appliance.Manifest, known []appliance.Manifest) []string {
	start, err := appliance.ParseVersion(from)
	if err != nil || target == nil {
		return nil
	}
	goal, err := appliance.ParseVersion(target.Version)
	if err != nil {
		return nil
	}
	type image struct {
		m *appliance.Manifest
		v appliance.Version
	}
	// Candidate hops: known images strictly between from and the target,
	// oldest first, one per version; then the target itself.
	var imgs []image
	for i := range known {
		v, err := appliance.ParseVersion(known[i].Version)
		if err != nil || !start.Less(v) || !v.Less(goal) {
			continue
		}
		dup := false
		for _, o := range imgs {
			dup = dup || o.v.Equal(v)
		}
		if !dup {
			imgs = append(imgs, image{&known[i], v})
		}
	}
	sortImages := func(a []image) {
		for i := 1; i < len(a); i++ {
			for j := i; j > 0 && a[j].v.Less(a[j-1].v); j-- {
				a[j], a[j-1] = a[j-1], a[j]
			}
		}
	}
	sortImages(imgs)
	imgs = append(imgs, image{target, goal})
	goalIdx := len(imgs) - 1

	// BFS; node -1 is the running version.
	prev := make([]int, len(imgs))
	seen := make([]bool, len(imgs))
	queue := []int{-1}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		curV := start
		if cur >= 0 {
			curV = imgs[cur].v
		}
		for j := range imgs {
			if seen[j] || !curV.Less(imgs[j].v) || !imgs[j].m.Supports(curV) {
				continue
			}
			seen[j] = true
			prev[j] = cur
			if j == goalIdx {
				var rev []string
				for k := j; k >= 0; k = prev[k] {
					rev = append(rev, imgs[k].m.Version)
				}
				out := []string{from}
				for k := len(rev) - 1; k >= 0; k-- {
					out = append(out, rev[k])
				}
				return out
			}
			queue = append(queue, j)
		}
	}
	return nil
}
