package rollout

import (
	"fmt"
	"sort"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Staging is the plan that writes an image into the alternate partition of
// every node that needs it, without activating anything: the plan of an
// appliance_software_image with staging on. Its steps are the same stage
// steps a rollout begins with, so both go through one executor path.
func Staging(c *appliance.Cluster, imageID, version string) *Plan {
	p := &Plan{Cluster: c.Name, ToVersion: version, ImageID: imageID, FromVersion: c.LowestVersion()}
	for _, name := range NodesNeeding(c, version) {
		n := c.Node(name)
		if appliance.SameVersion(n.Alternate.Version, version) && (imageID == "" || n.Alternate.ImageID == imageID) && !n.Armed {
			continue // already staged (an armed node is staged again: that repairs its boot order)
		}
		p.Steps = append(p.Steps, Step{Wave: 0, Kind: StepStage, Node: name, Version: version})
	}
	return p
}

// NodesNeeding lists, sorted, the nodes that run a version older than
// version (or one that cannot be read).
func NodesNeeding(c *appliance.Cluster, version string) []string {
	target, err := appliance.ParseVersion(version)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range c.Nodes {
		v, err := appliance.ParseVersion(n.Active.Version)
		if err != nil || v.Less(target) {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// StagedNodes lists, sorted, the nodes whose active or alternate partition
// holds the image. A node armed to boot the alternate at its next restart
// is not cleanly staged: it is left out, so the plan shows it as drift.
func StagedNodes(c *appliance.Cluster, imageID, version string) []string {
	var out []string
	for _, n := range c.Nodes {
		if holdsImage(n.Active, imageID, version) || (holdsImage(n.Alternate, imageID, version) && !n.Armed) {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// holdsImage matches a partition by image ID when both sides know it, and by
// version otherwise (a partition installed before the API tracked images).
func holdsImage(p appliance.Partition, imageID, version string) bool {
	if imageID != "" && p.ImageID != "" {
		return p.ImageID == imageID
	}
	return version != "" && appliance.SameVersion(p.Version, version)
}

// CheckImageFits is the plan-time form of a cluster's own validation of a
// new image: it must be newer than what some node runs (S7) and able to
// update from what those nodes run (S8).
func CheckImageFits(c *appliance.Cluster, m *appliance.Manifest) error {
	target := m.ParsedVersion()
	need := NodesNeeding(c, m.Version)
	if len(need) == 0 {
		return &ValidationError{Code: "version_not_newer",
			Message: fmt.Sprintf("image %s is not newer than what cluster %s runs (%s)", target, c.Name, describeVersions(c)),
			Fix: "Going back to an older version needs a re-image, not an update; to return to the previous version, " +
				"set the version of appliance_cluster_active_version to the one in the alternate partition (a rollback)"}
	}
	var unsupported []string
	for _, name := range need {
		v, err := appliance.ParseVersion(c.Node(name).Active.Version)
		if err == nil && !m.Supports(v) {
			unsupported = append(unsupported, fmt.Sprintf("%s (%s)", name, v))
		}
	}
	if len(unsupported) > 0 {
		return &ValidationError{Code: "unsupported_upgrade_path",
			Message: fmt.Sprintf("image %s does not support updating from the version running on %s: it updates from %s only",
				target, strings.Join(unsupported, ", "), strings.Join(m.SupportedFrom, ", ")),
			Fix: "Update to an intermediate version first (the appliance_upgrade_path data source finds the chain)"}
	}
	return nil
}

func describeVersions(c *appliance.Cluster) string {
	if v, ok := c.UniformVersion(); ok {
		return v + " on every node"
	}
	var parts []string
	for _, n := range c.Nodes {
		parts = append(parts, n.Name+"="+n.Active.Version)
	}
	return strings.Join(parts, ", ")
}
