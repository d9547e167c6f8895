package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
)

// Defect 10: Ctrl-C during staging gave, besides the staging error, a
// second "Cannot read cluster ...: context canceled", and left staged_nodes
// unknown in the state. Now it is one error saying the apply was
// interrupted, and the state records what the nodes hold.
func TestSoftwareImage_Defect10_CtrlCDuringStagingIsOneErrorAndRecordsWhatIsStaged(t *testing.T) {
	sim := startSim(t, "primary-ha")
	ctx := context.Background()
	// n1 stages first (the others fetch from it); slow enough that the
	// cancellation lands in the middle of it.
	if _, err := sim.control.InjectFault(ctx, api.Fault{Kind: api.FaultSlow, Cluster: "demo", Node: "n1", Factor: 20000}); err != nil {
		t.Fatal(err)
	}
	img, err := sim.client.UploadImage(ctx, "demo", sim.bundle("1.1", []string{"1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	r := &softwareImageResource{data: newProviderData(mgmtapi.New(sim.client), "test")}
	m := softwareImageModel{
		ID: types.StringValue(img.ID), Cluster: types.StringValue("demo"), Version: types.StringValue("1.1"),
		Stage: types.BoolValue(true), StagedNodes: types.ListUnknown(types.StringType),
	}
	sctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancel) // Ctrl-C
	var diags diag.Diagnostics
	r.stageAndRead(sctx, &m, &diags)

	if diags.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want one: %v", diags.ErrorsCount(), diags.Errors())
	}
	e := diags.Errors()[0]
	if !strings.Contains(e.Summary(), "Staging interrupted") || !strings.Contains(e.Detail(), "interrupted") {
		t.Fatalf("error %q: %q, want it to say the apply was interrupted", e.Summary(), e.Detail())
	}
	if m.StagedNodes.IsUnknown() {
		t.Fatal("staged_nodes left unknown: the state would not record what the nodes hold")
	}
}
