package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// exampleSetups prepares, or hands elsewhere, what an example needs besides
// its own directory, before TestAccExamples_ApplyThroughTheCLI applies it.
var exampleSetups = map[string]func(t *testing.T){
	// examples/rauc drives a RAUC lab of four real nodes; its minutes of
	// reboots run in the RAUC acceptance binary, beside this package.
	"rauc": func(t *testing.T) {
		t.Skip("examples/rauc is applied against a RAUC lab by internal/provider/raucacc (TestAccRAUC_ExampleUpgradesFourNodesInTwoHAPairsThenRollsBackAndRepairsDrift)")
	},
}

func init() {
	exampleChecks["rauc"] = []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("node_versions", allNodes("1.1"))}
}
