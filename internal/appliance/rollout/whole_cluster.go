package rollout

import (
	"fmt"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// NeedsRollout reports whether some node does not run version, or the
// cluster-wide finalize for it has not run (an interrupted rollout, S16).
func NeedsRollout(snap *appliance.Cluster, version string) bool {
	if snap.NeedsFinalize && snap.FinalizedVersion != "" {
		c, err := appliance.CompareVersions(snap.FinalizedVersion, version)
		if v, ok := snap.UniformVersion(); err == nil && c < 0 && ok && appliance.SameVersion(v, version) {
			return true
		}
	}
	for _, n := range snap.Nodes {
		if !appliance.SameVersion(n.Active.Version, version) {
			return true
		}
	}
	return false
}

// clusterVersion is the version every node runs, or the lowest when they differ.
// RollbackManifest describes the image in the alternate partitions when it
// is the one asked for and no image record exists for it (the factory image,
// or one whose record was deleted): activating it is a rollback (S21).
func RollbackManifest(snap *appliance.Cluster, version string) *appliance.Manifest {
	if len(snap.Nodes) == 0 {
		return nil
	}
	var comps []appliance.Component
	for _, n := range snap.Nodes {
		if !appliance.SameVersion(n.Alternate.Version, version) && !appliance.SameVersion(n.Active.Version, version) {
			return nil
		}
		if comps == nil && appliance.SameVersion(n.Alternate.Version, version) {
			for _, name := range appliance.SortedKeys(n.Alternate.Components) {
				comps = append(comps, appliance.Component{Name: name, Payload: name + ".img", SHA256: strings.Repeat("0", 64)})
			}
		}
	}
	if len(comps) == 0 {
		comps = []appliance.Component{{Name: "os", Payload: "os.img", SHA256: strings.Repeat("0", 64)}}
	}
	return &appliance.Manifest{Version: version, SupportedFrom: []string{version}, Components: comps, Description: "the image in the alternate partition"}
}

// CheckSuperclusterCompatible refuses, at plan time, a version that the
// other clusters of c's supercluster could not work with (S23: patch
// releases are compatible, major and minor releases are not), naming the
// two ways across.
func CheckSuperclusterCompatible(c *appliance.Cluster, all []appliance.Cluster, version string) error {
	if c.Supercluster == "" {
		return nil
	}
	target, err := appliance.ParseVersion(version)
	if err != nil {
		return nil //nolint:nilerr // not this check's error: the planner names a malformed version
	}
	snap := c
	var clash []string
	for _, c := range all {
		if c.Name == snap.Name || c.Supercluster != snap.Supercluster {
			continue
		}
		for _, n := range c.Nodes {
			if v, err := appliance.ParseVersion(n.Active.Version); err == nil && !v.CompatibleWith(target) {
				clash = append(clash, fmt.Sprintf("%s (%s)", c.Name, n.Active.Version))
				break
			}
		}
	}
	if len(clash) == 0 {
		return nil
	}
	return fmt.Errorf("cluster %s is in supercluster %s with %s, and %s is not compatible with that (S23: only patch releases are compatible). "+
		"Either upgrade every cluster together in a maintenance window (S25: simplest, the service is down for the window), "+
		"or take %s out of the supercluster first, upgrade it, and join it to a new supercluster on %s (S26: service stays up at reduced capacity)",
		snap.Name, snap.Supercluster, strings.Join(clash, ", "), version, snap.Name, version)
}
