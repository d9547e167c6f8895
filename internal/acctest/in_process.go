package acctest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// ProviderFactories serves p in-process to terraform-plugin-testing under
// the name appliance; the CLI TF_ACC_TERRAFORM_PATH names (or terraform on
// PATH) drives it. Every factory call serves the same p, as a test
// package's steps always have.
func ProviderFactories(p provider.Provider) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"appliance": providerserver.NewProtocol6WithError(p),
	}
}

// AllFourNodesAt checks node_versions of a cluster of nodes n1..n4 (the
// simulator's primary-ha preset, a four-node RAUC lab): every node at
// version, and no other node.
func AllFourNodesAt(version string) knownvalue.Check {
	return knownvalue.MapExact(map[string]knownvalue.Check{
		"n1": knownvalue.StringExact(version), "n2": knownvalue.StringExact(version),
		"n3": knownvalue.StringExact(version), "n4": knownvalue.StringExact(version),
	})
}

// ExpectRolloutPlan is a plan check of the planned rollout_plan of the
// resource at address: it fails when the resource is not in the plan, when
// its rollout_plan is not known at plan time (an operator would not see
// the order before approving), or when check rejects the lines.
func ExpectRolloutPlan(address string, check func(lines []string) error) plancheck.PlanCheck {
	return rolloutPlanCheck{address: address, check: check}
}

type rolloutPlanCheck struct {
	address string
	check   func(lines []string) error
}

func (c rolloutPlanCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.address {
			continue
		}
		after, ok := rc.Change.After.(map[string]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: no planned values", c.address)
			return
		}
		raw, ok := after["rollout_plan"].([]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: rollout_plan is not known at plan time (got %T)", c.address, after["rollout_plan"])
			return
		}
		lines := make([]string, len(raw))
		for i, l := range raw {
			lines[i], _ = l.(string)
		}
		if err := c.check(lines); err != nil {
			resp.Error = fmt.Errorf("%s rollout_plan:\n  %s\n%w", c.address, strings.Join(lines, "\n  "), err)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.address)
}

// rolloutStepLine is a line of rollout_plan: "3. wave 2: activate n3 ...".
var rolloutStepLine = regexp.MustCompile(`^\d+\. wave (\d+): (roll back|\S+) (\S+)`)

// ActivationWaves maps each node that rollout_plan activates (or rolls
// back) to the wave it does so in.
func ActivationWaves(lines []string) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		m := rolloutStepLine.FindStringSubmatch(l)
		if m != nil && (m[2] == "activate" || m[2] == "roll back") {
			w, _ := strconv.Atoi(m[1])
			out[m[3]] = w
		}
	}
	return out
}

// CheckPrimaryFirstHA is S11 and S12 on a cluster with primary n1 and HA
// pairs (n1,n2) and (n3,n4), for ExpectRolloutPlan: every node activated,
// n1 in a wave before every other node, and neither pair in one wave.
func CheckPrimaryFirstHA(lines []string) error {
	w := ActivationWaves(lines)
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		if _, ok := w[n]; !ok {
			return fmt.Errorf("node %s is never activated", n)
		}
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		if w[n] <= w["n1"] {
			return fmt.Errorf("S11: %s activates in wave %d, not after the primary n1 (wave %d)", n, w[n], w["n1"])
		}
	}
	if w["n1"] == w["n2"] || w["n3"] == w["n4"] {
		return fmt.Errorf("S12: HA partners share a wave: %v", w)
	}
	return nil
}
