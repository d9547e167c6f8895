package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// exampleSetups prepares what an example needs besides its own directory,
// before TestAccExamples_ApplyThroughTheCLI applies it.
var exampleSetups = map[string]func(t *testing.T){
	// examples/rauc drives a RAUC lab, as `make rauc-lab` starts one.
	"rauc": func(t *testing.T) {
		l := lab.New(t, lab.Options{Nodes: 4})
		desc, err := l.WriteDescription("1.1")
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("TF_VAR_lab", desc)
	},
}

func init() {
	exampleChecks["rauc"] = []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("node_versions", allNodes("1.1"))}
}
