package engine

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// The engine orders releases and decides upgrade paths with its own rules
// (package rules), never with package appliance's Version: the provider
// predicts with the one and the simulator enforces with the other, so a
// bug in either shows up as a disagreement in a test.

// older reports whether release a is older than b; false when either is
// unreadable.
func older(a, b string) bool {
	c, err := rules.CompareNames(a, b)
	return err == nil && c < 0
}

// SeriesOf is the "major.minor" series of a release name, as licenses
// name it ("" when the name is unreadable).
func SeriesOf(name string) string {
	r, err := rules.Parse(name)
	if err != nil {
		return ""
	}
	return rules.Series(r)
}

// uniformVersion returns the version every node runs, if they all run one.
func uniformVersion(c *appliance.Cluster) (string, bool) {
	if len(c.Nodes) == 0 {
		return "", false
	}
	v := c.Nodes[0].Active.Version
	for _, n := range c.Nodes[1:] {
		if !rules.Same(n.Active.Version, v) {
			return "", false
		}
	}
	return v, true
}

// lowestVersion is the oldest readable active version of the cluster.
func lowestVersion(c *appliance.Cluster) string {
	low := ""
	for _, n := range c.Nodes {
		if _, err := rules.Parse(n.Active.Version); err != nil {
			continue
		}
		if low == "" || older(n.Active.Version, low) {
			low = n.Active.Version
		}
	}
	return low
}

// compatible reports whether releases a and b may share a supercluster
// (S23); an unreadable name is not refused.
func compatible(a, b string) bool {
	ra, errA := rules.Parse(a)
	rb, errB := rules.Parse(b)
	return errA != nil || errB != nil || rules.Compatible(ra, rb)
}
