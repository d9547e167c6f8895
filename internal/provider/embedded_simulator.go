package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
)

// defaultTimeScale makes the demo's 90-second reboots take 0.15 s.
const defaultTimeScale = 600

// embedded holds the simulators this process started, one per state file:
// Terraform configures a provider several times in one process (validate,
// plan, every alias), and each must see the same server.
var embedded = struct {
	sync.Mutex
	servers map[string]*simulator.Server
}{servers: map[string]*simulator.Server{}}

func startEmbeddedSimulator(ctx context.Context, m *simulatorModel) (*simulator.Server, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m.StateFile.IsNull() || m.StateFile.ValueString() == "" {
		diags.AddAttributeError(path.Root("simulator").AtName("state_file"), "Missing simulator state file",
			"The simulator block needs state_file, e.g. state_file = \"${path.root}/.appliance-sim.json\": it keeps the simulated cluster between terraform runs.")
		return nil, diags
	}
	if m.Topology.ValueString() != "" && m.TopologyFile.ValueString() != "" {
		diags.AddAttributeError(path.Root("simulator").AtName("topology_file"), "Conflicting topology settings",
			"Set either topology (a preset name) or topology_file, not both.")
		return nil, diags
	}
	statePath, err := filepath.Abs(m.StateFile.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("simulator").AtName("state_file"), "Invalid simulator state file", err.Error())
		return nil, diags
	}
	scale := float64(defaultTimeScale)
	if !m.TimeScale.IsNull() {
		scale = m.TimeScale.ValueFloat64()
	}

	embedded.Lock()
	defer embedded.Unlock()
	if s, ok := embedded.servers[statePath]; ok {
		return s, diags
	}
	token, err := randomToken()
	if err != nil {
		diags.AddError("Cannot start the embedded simulator", err.Error())
		return nil, diags
	}
	// The server outlives this Configure call: it serves the whole
	// provider process, which ends when Terraform is done with it.
	s, err := simulator.Start(context.Background(), simulator.Options{
		StatePath:    statePath,
		Topology:     m.Topology.ValueString(),
		TopologyFile: m.TopologyFile.ValueString(),
		TimeScale:    scale,
		Token:        token,
		Listen:       "127.0.0.1:0",
	})
	if err != nil {
		diags.AddAttributeError(path.Root("simulator"), "Cannot start the embedded simulator", err.Error())
		return nil, diags
	}
	embedded.servers[statePath] = s
	tflog.Info(ctx, "embedded appliance simulator started", map[string]any{"url": s.URL(), "state_file": statePath})
	return s, diags
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("no randomness for the simulator token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
