// Package raucacc holds the provider's acceptance tests against the RAUC
// lab (real RAUC, D-Bus and OpenSSH, only bootloader and reboot played),
// through the real Terraform CLI. They live in a test binary of their own
// so that their minutes of real reboots run beside the provider package's
// tests instead of after them, under a timeout of their own.
package raucacc

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/applianceops/terraform-provider-appliance/internal/provider"
)

var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"appliance": providerserver.NewProtocol6WithError(provider.New("test")()),
}

func testAccPreCheck(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run with TF_ACC=1 (make test)")
	}
}

func allNodes(version string) knownvalue.Check {
	return knownvalue.MapExact(map[string]knownvalue.Check{
		"n1": knownvalue.StringExact(version), "n2": knownvalue.StringExact(version),
		"n3": knownvalue.StringExact(version), "n4": knownvalue.StringExact(version),
	})
}

var stepLine = regexp.MustCompile(`^\d+\. wave (\d+): (roll back|\S+) (\S+)`)

// checkPrimaryFirstHA: n1 before every other node, and neither pair
// (n1,n2) nor (n3,n4) in one activation wave.
func checkPrimaryFirstHA(lines []string) error {
	w := map[string]int{}
	for _, l := range lines {
		if m := stepLine.FindStringSubmatch(l); m != nil && (m[2] == "activate" || m[2] == "roll back") {
			w[m[3]], _ = strconv.Atoi(m[1])
		}
	}
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		if _, ok := w[n]; !ok {
			return fmt.Errorf("node %s is never activated", n)
		}
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		if w[n] <= w["n1"] {
			return fmt.Errorf("%s activates in wave %d, not after the primary n1 (wave %d)", n, w[n], w["n1"])
		}
	}
	if w["n1"] == w["n2"] || w["n3"] == w["n4"] {
		return fmt.Errorf("HA partners share a wave: %v", w)
	}
	return nil
}

// rolloutPlanCheck checks the planned rollout_plan of a resource.
type rolloutPlanCheck struct {
	address string
	check   func(lines []string) error
}

func expectRolloutPlan(address string, check func(lines []string) error) plancheck.PlanCheck {
	return rolloutPlanCheck{address: address, check: check}
}

func (c rolloutPlanCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.address {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		raw, ok := after["rollout_plan"].([]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: rollout_plan is not known at plan time", c.address)
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
