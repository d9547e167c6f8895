package rollout

import (
	"fmt"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// prepare validates a request (S6-S10) and indexes it for planning. Every
// refusal is a *ValidationError that names what to fix.
func prepare(req Request) (*input, error) {
	if req.Cluster == nil {
		return nil, &ValidationError{Code: api.CodeInvalidRequest, Message: "no cluster snapshot to plan for"}
	}
	if req.Target == nil {
		return nil, &ValidationError{Code: api.CodeInvalidRequest, Message: "no target image to plan for"}
	}
	c := req.Cluster
	// S6: a manifest that does not validate is a corrupt image; nothing changes.
	if err := req.Target.Validate(); err != nil {
		return nil, &ValidationError{Code: api.CodeCorruptImage,
			Message: fmt.Sprintf("image %s is corrupt: %v", imageName(req), err),
			Fix:     "rebuild or download the image again and check its sha256"}
	}
	set, err := resolvePolicy(c, req.Policy)
	if err != nil {
		return nil, err
	}
	in := &input{req: req, c: c, set: set, targetStr: req.Target.Version, target: req.Target.ParsedVersion()}
	if err := in.index(); err != nil {
		return nil, err
	}
	vc := newVersionCache()
	in.vc = vc
	if err := in.checkVersions(vc); err != nil {
		return nil, err
	}
	if in.needCount == 0 {
		return in, nil // nothing to do: a finished (or resumed and finished) rollout
	}
	if !in.rollback {
		if err := in.checkPaths(vc); err != nil {
			return nil, err
		}
		if err := in.checkLicenses(vc); err != nil {
			return nil, err
		}
		for _, f := range req.Target.IrreversibleFeatures {
			in.warnings = append(in.warnings, fmt.Sprintf("after this rollout, rollback to %s is impossible: feature %s", in.lowestVersion(), f))
		}
	}
	if err := in.checkHealth(); err != nil {
		return nil, err
	}
	return in, nil
}

func imageName(req Request) string {
	if req.TargetImageID != "" {
		return req.TargetImageID
	}
	if req.Target.Version != "" {
		return req.Target.Version
	}
	return "(unnamed)"
}

func invalid(format string, a ...any) error {
	return &ValidationError{Code: api.CodeInvalidRequest, Message: fmt.Sprintf(format, a...),
		Fix: "fix the cluster topology the appliance reports"}
}

// checkVersions decides which nodes need the target, whether this is an
// upgrade or a rollback (S21), and refuses older targets (S7) and rollbacks
// that an irreversible feature forbids (S9).
func (in *input) checkVersions(vc *versionCache) error {
	c := in.c
	var newer []int // nodes running something newer than the target
	for i, n := range c.Nodes {
		v, err := vc.parse(n.Active.Version)
		if err != nil {
			return &ValidationError{Code: api.CodePreconditionFailed,
				Message: fmt.Sprintf("node %s reports a malformed active version: %v", n.Name, err),
				Fix:     "repair the node's image or re-image it before planning a rollout"}
		}
		switch v.Compare(in.target) {
		case 0:
			in.nodes[i].onTarget = true
			continue
		case 1:
			newer = append(newer, i)
		}
		in.nodes[i].needs = true
		in.needCount++
	}
	if len(newer) == 0 {
		for i := range in.nodes {
			if in.nodes[i].needs {
				alt := c.Nodes[i].Alternate
				alreadyStaged := alt.Bootable && in.isTarget(alt.Version)
				in.nodes[i].stage = !alreadyStaged
			}
		}
		return nil
	}
	// Going back is only ever a rollback to the alternate partition (S21):
	// every node that is not on the target must hold it there, bootable.
	in.rollback = true
	var blocked []string
	for i := range in.nodes {
		if !in.nodes[i].needs {
			continue
		}
		n := c.Nodes[i]
		if !in.isTarget(n.Alternate.Version) && !appliance.SameVersion(n.Active.Version, c.Nodes[newer[0]].Active.Version) {
			if v, _ := vc.parse(n.Active.Version); v.Less(in.target) {
				return &ValidationError{Code: api.CodePreconditionFailed,
					Message: fmt.Sprintf("a rollback to %s only activates alternate partitions, and node %s runs the older %s without %s in its alternate partition", in.targetStr, n.Name, n.Active.Version, in.targetStr),
					Fix:     fmt.Sprintf("upgrade node %s separately, or roll the cluster to a version every node can reach", n.Name)}
			}
		}
		if !in.isTarget(n.Alternate.Version) {
			return &ValidationError{Code: api.CodeVersionNotNewer,
				Message: fmt.Sprintf("%s is not newer than %s running on node %s, and %s is not in its alternate partition to roll back to", in.targetStr, n.Active.Version, n.Name, in.targetStr),
				Fix:     fmt.Sprintf("going back to an older version needs a re-image, never an update; choose a version newer than %s", n.Active.Version)}
		}
		if !n.Alternate.Bootable {
			blocked = append(blocked, n.Name)
		}
	}
	// The running image's manifest, when known, is the other witness (S9):
	// its irreversible features forbid every earlier image even where a
	// node still reports the alternate bootable.
	for _, i := range newer {
		if len(blocked) > 0 {
			break
		}
		if len(in.featuresOf(c.Nodes[i].Active.Version, vc)) > 0 {
			for j := range in.nodes {
				if in.nodes[j].needs {
					blocked = append(blocked, in.nodes[j].name)
				}
			}
		}
	}
	if len(blocked) > 0 {
		running := c.Nodes[newer[0]].Active.Version
		feats := in.featuresOf(running, vc)
		what := "irreversible features"
		if len(feats) > 0 {
			what = "irreversible features " + strings.Join(feats, ", ")
		}
		return &ValidationError{Code: api.CodeIrreversibleFeature,
			Message: fmt.Sprintf("rollback to %s is impossible: %s has %s, so %s is no longer bootable on %s", in.targetStr, running, what, in.targetStr, listNames(blocked)),
			Fix:     fmt.Sprintf("keep %s, or re-image the nodes to go back to %s", running, in.targetStr)}
	}
	return nil
}

// featuresOf returns the irreversible features of a known image version.
func (in *input) featuresOf(version string, vc *versionCache) []string {
	want, err := vc.parse(version)
	if err != nil {
		return nil
	}
	for _, m := range in.req.Known {
		if v, err := vc.parse(m.Version); err == nil && v.Equal(want) {
			return m.IrreversibleFeatures
		}
	}
	return nil
}

// checkPaths refuses an image that does not support updating from a
// running version (S8) and names the chain of hops that would.
func (in *input) checkPaths(vc *versionCache) error {
	done := map[string]bool{}
	for i, n := range in.c.Nodes {
		if !in.nodes[i].needs || done[n.Active.Version] {
			continue
		}
		done[n.Active.Version] = true
		from, _ := vc.parse(n.Active.Version)
		if in.req.Target.Supports(from) {
			continue
		}
		msg := fmt.Sprintf("%s does not support updating from %s (node %s); it supports %s", in.targetStr, n.Active.Version, n.Name, strings.Join(in.req.Target.SupportedFrom, ", "))
		chain := UpgradeChain(n.Active.Version, in.req.Target, in.req.Known)
		if chain == nil {
			return &ValidationError{Code: api.CodeUnsupportedPath, Message: msg,
				Fix: fmt.Sprintf("no chain of supported updates from %s to %s through the known images; load an intermediate image that supports %s", n.Active.Version, in.targetStr, n.Active.Version)}
		}
		return &ValidationError{Code: api.CodeUnsupportedPath, Message: msg,
			Fix: fmt.Sprintf("upgrade %s: apply %s first", strings.Join(chain, " -> "), chain[1])}
	}
	return nil
}

// checkLicenses enforces S10's licences: from LicenseMinNodes nodes up, the
// cluster must hold a licence for the target's major.minor series.
func (in *input) checkLicenses(vc *versionCache) error {
	c := in.c
	if len(c.Licenses) == 0 || len(c.Nodes) < c.LicenseMinNodes {
		return nil
	}
	for _, l := range c.Licenses {
		if v, err := vc.parse(l); err == nil && v.CompatibleWith(in.target) {
			return nil
		}
	}
	series := fmt.Sprintf("%d.%d", in.target.Major, in.target.Minor)
	return &ValidationError{Code: api.CodePreconditionFailed,
		Message: fmt.Sprintf("cluster %s (%d nodes) is not licensed for %s; it holds licenses for %s", c.Name, len(c.Nodes), series, strings.Join(c.Licenses, ", ")),
		Fix:     fmt.Sprintf("install the %s cluster licenses first (an appliance_cluster_license with series = \"%s\", listed in the rollout's depends_on, installs them in the same apply)", series, series)}
}

// checkHealth enforces S10's health preconditions: every node to activate is
// serving and healthy, every HA group with members to activate can spare
// one, every online resource has somewhere to go, and max_unavailable leaves
// room for one node after the nodes already down.
func (in *input) checkHealth() error {
	c := in.c
	down := 0
	for i, n := range in.nodes {
		if !n.avail {
			down++
		}
		if n.needs && !n.avail {
			state := string(c.Nodes[i].State)
			if c.Nodes[i].State.Serving() {
				state = "unhealthy"
			}
			return &ValidationError{Code: api.CodePreconditionFailed,
				Message: fmt.Sprintf("node %s is %s", n.name, state),
				Fix:     in.recoveryAdvice([]int{i})}
		}
	}
	for _, g := range in.groups {
		if g.capacity() >= 1 {
			continue
		}
		var downNames, pending []string
		var downIdx []int
		for _, m := range g.members {
			if !in.nodes[m].avail {
				downNames = append(downNames, in.nodes[m].name)
				downIdx = append(downIdx, m)
			}
			if in.nodes[m].needs {
				pending = append(pending, in.nodes[m].name)
			}
		}
		if len(pending) == 0 {
			continue
		}
		return &ValidationError{Code: api.CodePreconditionFailed,
			Message: fmt.Sprintf("HA group %s cannot spare a member: %s down, and it must keep %d of %d available; %s could never reboot", g.name, listNames(downNames), g.min, len(g.members), listNames(pending)),
			Fix:     in.recoveryAdvice(downIdx)}
	}
	if in.set.maxUnavailable > 0 {
		in.limit = in.set.maxUnavailable - down
		if in.limit < 1 {
			return &ValidationError{Code: api.CodePreconditionFailed,
				Message: fmt.Sprintf("max_unavailable is %d and %d nodes are already down: no node may reboot", in.set.maxUnavailable, down),
				Fix:     "bring the down nodes back, or raise max_unavailable"}
		}
	}
	if in.set.failover {
		for k := range in.res {
			r := &in.res[k]
			if !r.online || !in.nodes[r.cur].needs {
				continue
			}
			if !in.hasOtherHost(r, r.cur) {
				return &ValidationError{Code: api.CodePreconditionFailed,
					Message: fmt.Sprintf("resource %s can run only on node %s, so it would be offline while %s reboots", r.name, in.nodes[r.cur].name, in.nodes[r.cur].name),
					Fix:     fmt.Sprintf("allow resource %s on another node, bring its other allowed nodes back, or set failover_resources = false to accept the outage", r.name)}
			}
		}
	}
	return nil
}

// hasOtherHost reports whether an available node other than x may host r.
func (in *input) hasOtherHost(r *resInfo, x int) bool {
	if r.any {
		for i := range in.nodes {
			if i != x && in.nodes[i].avail {
				return true
			}
		}
		return false
	}
	for _, h := range r.hosts {
		if h != x && in.nodes[h].avail {
			return true
		}
	}
	return false
}

// listNames joins names for messages, eliding long lists.
func listNames(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

// recoveryAdvice says what to do about nodes that are not available: wait,
// when they are only rebooting or settling (a reboot under way, perhaps
// started by an apply that was interrupted), or bring them back otherwise.
func (in *input) recoveryAdvice(idx []int) string {
	names := make([]string, len(idx))
	transient := true
	for k, i := range idx {
		names[k] = in.nodes[i].name
		st := in.c.Nodes[i].State
		transient = transient && (st == appliance.NodeRebooting || st == appliance.NodeSettling)
	}
	if transient {
		if ro := in.c.Rollout; ro != nil && ro.Owner != "" {
			// Defect 9: say whose rollout it is, so that the operator
			// knows whom to wait for (or ask) instead of guessing.
			return fmt.Sprintf("wait until %s is back, running and healthy: the reboot belongs to the rollout of %s, which holds the cluster's lease; plan again when it is done", listNames(names), ro.Owner)
		}
		return fmt.Sprintf("wait until %s is back, running and healthy (a reboot is under way, perhaps from an interrupted apply), then plan again", listNames(names))
	}
	return fmt.Sprintf("bring %s back to running and healthy first", listNames(names))
}
