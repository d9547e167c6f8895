package rollout

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// genOptions shapes the random topologies of the property tests.
type genOptions struct {
	maxNodes     int
	maxResources int
	// failures injects down and unhealthy nodes, nodes already on the
	// target (a resumed rollout) and staged alternates.
	failures bool
}

// genRequest builds a random but well-formed request: roles for a random
// order, disjoint HA groups of 2-4 members, resources whose allowed nodes
// include their current and preferred node, and a random policy.
func genRequest(rng *rand.Rand, o genOptions) Request {
	n := 1 + rng.Intn(o.maxNodes)
	c := &appliance.Cluster{Name: "gen", Healthy: true, HAEnabled: rng.Intn(4) != 0}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	roles := make([]appliance.Role, n)
	for i := range roles {
		roles[i] = appliance.RoleMember
	}
	switch rng.Intn(4) {
	case 0: // S11
		roles[0] = appliance.RolePrimary
		for i := 1; i < n; i++ {
			roles[i] = appliance.RoleSecondary
		}
	case 1: // S13
		roles[0] = appliance.RoleMaster
		if n > 1 {
			roles[1] = appliance.RoleStandby
		}
		for i := 2; i < n; i++ {
			roles[i] = appliance.RoleCompute
		}
	case 2: // S14
		roles[0] = appliance.RoleActive
		if n > 1 {
			roles[1] = appliance.RoleStandby
		}
	}
	for i := range names {
		nd := node(names[i], roles[i], "", "1.0", "")
		if o.failures {
			switch rng.Intn(12) {
			case 0:
				nd.Active.Version, nd.Alternate.Version = "1.1", "1.0" // already done
			case 1:
				nd.Alternate.Version = "1.1" // already staged
			case 2:
				nd.State = appliance.NodeDown
				nd.Healthy = false
				nd.Active.Version, nd.Alternate.Version = "1.1", "1.0"
			case 3:
				nd.Healthy = rng.Intn(3) != 0 // mostly a no-op; sometimes unhealthy
			}
		}
		c.Nodes = append(c.Nodes, nd)
	}
	// Disjoint HA groups over a shuffled prefix of the nodes.
	perm := rng.Perm(n)
	if roles[0] == appliance.RoleMaster || roles[0] == appliance.RoleActive || roles[0] == appliance.RolePrimary {
		if n > 1 && rng.Intn(2) == 0 { // the usual pairing of the leading roles
			for k, v := range perm {
				if v == 0 {
					perm[0], perm[k] = perm[k], perm[0]
				}
			}
			for k, v := range perm {
				if v == 1 {
					perm[1], perm[k] = perm[k], perm[1]
				}
			}
		}
	}
	for k := 0; k+1 < n && rng.Intn(5) != 0; {
		m := 2 + rng.Intn(3)
		if k+m > n {
			m = n - k
		}
		if m < 2 {
			break
		}
		g := appliance.HAGroup{Name: fmt.Sprintf("g%d", len(c.HAGroups)+1), MinAvailable: rng.Intn(m)}
		if rng.Intn(2) == 0 {
			g.MinAvailable = m - 1
		}
		for _, p := range perm[k : k+m] {
			g.Members = append(g.Members, names[p])
			c.Nodes[p].HAGroup = g.Name
		}
		c.HAGroups = append(c.HAGroups, g)
		k += m
	}
	for r := 0; r < rng.Intn(o.maxResources+1); r++ {
		cur, pref := rng.Intn(n), rng.Intn(n)
		if rng.Intn(2) == 0 {
			pref = cur
		}
		res := appliance.Resource{Name: fmt.Sprintf("r%d", r+1), CurrentNode: names[cur], PreferredNode: names[pref],
			State: appliance.ResourceOnline, SharedStorage: rng.Intn(3) == 0}
		if rng.Intn(3) != 0 {
			allowed := map[int]bool{cur: true, pref: true}
			for e := 1 + rng.Intn(3); e > 0 && rng.Intn(10) != 0; e-- {
				allowed[rng.Intn(n)] = true
			}
			for i := 0; i < n; i++ { // snapshot order keeps the request stable
				if allowed[i] {
					res.AllowedNodes = append(res.AllowedNodes, names[i])
				}
			}
		}
		c.Resources = append(c.Resources, res)
	}
	c.NeedsFinalize = rng.Intn(4) == 0
	if rng.Intn(4) == 0 {
		c.SettleSeconds = 60 * (1 + rng.Intn(60))
	}
	c.ReportedMembers = n
	pol := Policy{Order: Orders[rng.Intn(len(Orders))]}
	if rng.Intn(3) == 0 {
		pol.Order = OrderAuto
	}
	switch rng.Intn(4) {
	case 1:
		pol.MaxUnavailable = fmt.Sprint(1 + rng.Intn(3))
	case 2:
		pol.MaxUnavailable = fmt.Sprintf("%d%%", 10+rng.Intn(91))
	}
	if rng.Intn(4) == 0 {
		b := rng.Intn(2) == 0
		pol.HAMode = &b
	}
	if rng.Intn(6) == 0 {
		b := false
		pol.FailoverResources = &b
	}
	if rng.Intn(3) == 0 {
		pol.MinHealthyTime = time.Duration(rng.Intn(10)) * time.Minute
	}
	req := Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: pol}
	if rng.Intn(8) == 0 {
		// S21: the cluster runs 1.1 with 1.0 in the alternate; roll back.
		for i := range c.Nodes {
			nd := &c.Nodes[i]
			nd.Active, nd.Alternate = nd.Alternate, nd.Active
			nd.Active.Bootable = true
			if nd.Active.Version == "" || nd.Active.Version == "1.0" {
				nd.Active.Version, nd.Alternate.Version = "1.1", "1.0"
				nd.Alternate.Bootable = true
			}
			if o.failures && rng.Intn(10) == 0 {
				nd.Alternate.Bootable = false // S9
			}
		}
		req.Target = manifest("1.0", "0.9")
	}
	return req
}

// applySteps plays steps on a snapshot the way the appliance would, to model
// an apply interrupted after them.
func applySteps(c *appliance.Cluster, steps []Step) *appliance.Cluster {
	c = c.Clone()
	for _, s := range steps {
		n := c.Node(s.Node)
		switch s.Kind {
		case StepStage:
			n.Alternate = appliance.Partition{Version: s.Version, Bootable: true}
		case StepActivate:
			n.Active, n.Alternate = n.Alternate, n.Active
			n.State, n.Healthy = appliance.NodeRebooting, false
		case StepAwaitHealthy:
			n.State, n.Healthy = appliance.NodeRunning, true
		case StepPromote:
			for i := range c.Nodes {
				if c.Nodes[i].Role == appliance.RoleMaster {
					c.Nodes[i].Role = appliance.RoleStandby
				}
			}
			n.Role = appliance.RoleMaster
		case StepMoveResource, StepFailBack:
			for i := range c.Resources {
				if c.Resources[i].Name == s.Resource {
					c.Resources[i].CurrentNode = s.To
				}
			}
		}
	}
	return c
}

// genConflicts builds a flat cluster whose difficulty is in the resources:
// each allowed on two or three random nodes, so that the constraints form
// a random graph (odd cycles included) on top of HA pairs and groups.
func genConflicts(rng *rand.Rand, maxNodes int) Request {
	n := 3 + rng.Intn(maxNodes-2)
	c := &appliance.Cluster{Name: "conflicts", HAEnabled: true}
	for i := 0; i < n; i++ {
		c.Nodes = append(c.Nodes, node(fmt.Sprintf("n%d", i+1), appliance.RoleMember, "", "1.0", ""))
	}
	for i := 0; i+1 < n && rng.Intn(3) != 0; {
		m := 2 + rng.Intn(2)
		if i+m > n {
			break
		}
		g := appliance.HAGroup{Name: fmt.Sprintf("g%d", i), MinAvailable: 1 + rng.Intn(m-1)}
		for j := i; j < i+m; j++ {
			g.Members = append(g.Members, c.Nodes[j].Name)
			c.Nodes[j].HAGroup = g.Name
		}
		c.HAGroups = append(c.HAGroups, g)
		i += m + rng.Intn(3)
	}
	for r := 0; r < rng.Intn(n+1); r++ {
		a, b := rng.Intn(n), rng.Intn(n)
		if a == b {
			continue
		}
		allowed := []string{c.Nodes[a].Name, c.Nodes[b].Name}
		if rng.Intn(4) == 0 {
			if x := rng.Intn(n); x != a && x != b {
				allowed = append(allowed, c.Nodes[x].Name)
			}
		}
		c.Resources = append(c.Resources, appliance.Resource{Name: fmt.Sprintf("r%d", r+1), CurrentNode: c.Nodes[a].Name,
			PreferredNode: c.Nodes[a].Name, AllowedNodes: allowed, State: appliance.ResourceOnline})
	}
	pol := Policy{Order: OrderRolling, MaxUnavailable: []string{"100%", "50%", "3", "2"}[rng.Intn(4)]}
	return Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: pol}
}
