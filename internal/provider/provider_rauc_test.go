package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestRAUCConfig_TimeoutsOfTheBlockBoundTheDriversWaits: connect, command,
// install, boot and health timeouts set in the rauc block reach the
// driver; unset, they stay zero, which the driver takes for its documented
// defaults.
func TestRAUCConfig_TimeoutsOfTheBlockBoundTheDriversWaits(t *testing.T) {
	m := &raucModel{
		ConnectTimeout: timetypes.NewGoDurationValueFromStringMust("5s"),
		CommandTimeout: timetypes.NewGoDurationValueFromStringMust("45s"),
		InstallTimeout: timetypes.NewGoDurationValueFromStringMust("1h"),
		BootTimeout:    timetypes.NewGoDurationValueFromStringMust("3m"),
		HealthTimeout:  timetypes.NewGoDurationValueFromStringMust("90s"),
	}
	cfg := raucConfigOf(m)
	if cfg.ConnectTimeout != 5*time.Second || cfg.CommandTimeout != 45*time.Second || cfg.InstallTimeout != time.Hour ||
		cfg.BootTimeout != 3*time.Minute || cfg.HealthTimeout != 90*time.Second {
		t.Fatalf("timeouts did not reach the driver: %+v", cfg)
	}
	unset := raucConfigOf(&raucModel{
		ConnectTimeout: timetypes.NewGoDurationNull(), CommandTimeout: timetypes.NewGoDurationNull(), InstallTimeout: timetypes.NewGoDurationNull(),
		BootTimeout: timetypes.NewGoDurationNull(), HealthTimeout: timetypes.NewGoDurationNull(),
	})
	if unset.ConnectTimeout != 0 || unset.CommandTimeout != 0 || unset.InstallTimeout != 0 {
		t.Fatalf("unset timeouts are not left to the driver's defaults: %+v", unset)
	}
}

// TestRAUCBlock_TimeoutShorterThanASecondFailsThePlanNamingTheAttribute: a
// bound no command could meet is refused at plan time, before any node is
// contacted: each timeout of the rauc block, one plan after another in one
// test case (each test case costs CLI commands of its own).
func TestRAUCBlock_TimeoutShorterThanASecondFailsThePlanNamingTheAttribute(t *testing.T) {
	var steps []resource.TestStep
	for _, attr := range []string{"connect_timeout", "command_timeout", "install_timeout"} {
		steps = append(steps, resource.TestStep{
			Config: `
provider "appliance" {
  rauc {
    cluster     = "lab"
    private_key = "not used: the plan fails first"
    known_hosts = "127.0.0.1 ssh-ed25519 AAAA"
    keyring     = "not used"
    ` + attr + ` = "500ms"
    node {
      name    = "n1"
      address = "127.0.0.1:1"
    }
  }
}
data "appliance_cluster" "lab" { name = "lab" }
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + attr + `.*"500ms" must be at least 1s`),
		})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}
