package rollout

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// settings is a Policy with every default resolved against the cluster, so
// the rest of the planner never has to ask "was this set?".
type settings struct {
	order Order
	// maxUnavailable is the absolute cap on nodes down at once, 0 for none.
	maxUnavailable int
	haMode         bool
	failover       bool
	settleSeconds  int
}

// ResolveOrder turns OrderAuto into the order the cluster's roles call for
// (a primary: S11; a master: S13; an active appliance: S14; else S15), and
// returns any other order unchanged.
func ResolveOrder(c *appliance.Cluster, o Order) Order {
	if o != OrderAuto && o != "" {
		return o
	}
	has := map[appliance.Role]bool{}
	for _, n := range c.Nodes {
		has[n.Role] = true
	}
	switch {
	case has[appliance.RolePrimary]:
		return OrderPrimaryFirst
	case has[appliance.RoleMaster]:
		return OrderStandbyFirst
	case has[appliance.RoleActive]:
		return OrderActiveFirst
	default:
		return OrderRolling
	}
}

// ParseMaxUnavailable reads max_unavailable, a count ("2") or a percentage
// of nodes ("25%"), into a node count for a cluster of the given size. A
// percentage rounds down but never below one node, so "10%" of 4 nodes still
// lets the rollout progress. Empty returns 0: no cap.
func ParseMaxUnavailable(s string, nodes int) (int, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, nil
	}
	if p, ok := strings.CutSuffix(t, "%"); ok {
		pct, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || pct < 1 || pct > 100 {
			return 0, fmt.Errorf("max_unavailable %q: a percentage must be a whole number from 1%% to 100%%, e.g. \"25%%\"", s)
		}
		n := nodes * pct / 100
		if n < 1 {
			n = 1
		}
		return n, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("max_unavailable %q: use a node count of at least 1 (\"2\") or a percentage of the nodes (\"25%%\")", s)
	}
	return n, nil
}

// resolvePolicy applies the defaults of Policy's documentation.
func resolvePolicy(c *appliance.Cluster, p Policy) (settings, error) {
	s := settings{order: ResolveOrder(c, p.Order), haMode: c.HAEnabled, failover: true}
	known := false
	for _, o := range Orders {
		known = known || s.order == o
	}
	if !known {
		return s, &ValidationError{Code: api.CodeInvalidRequest,
			Message: fmt.Sprintf("unknown order %q", p.Order),
			Fix:     "use one of auto, primary_first, standby_first, active_first, rolling"}
	}
	m, err := ParseMaxUnavailable(p.MaxUnavailable, len(c.Nodes))
	if err != nil {
		return s, &ValidationError{Code: api.CodeInvalidRequest, Message: err.Error()}
	}
	if m == 0 && s.order == OrderRolling {
		m = 1 // S15: one node at a time unless told otherwise
	}
	s.maxUnavailable = m
	if p.HAMode != nil {
		s.haMode = *p.HAMode
	}
	if p.FailoverResources != nil {
		s.failover = *p.FailoverResources
	}
	s.settleSeconds = c.SettleSeconds
	if p.SettleTime > 0 {
		s.settleSeconds = int((p.SettleTime + 999_999_999) / 1_000_000_000)
	}
	return s, nil
}
