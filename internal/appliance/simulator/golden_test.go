package simulator

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// The golden upgrade paths (rules/testdata/golden.json) through the API:
// a cluster whose node runs the row's running version is offered an image
// of the row's target, and it accepts it (201) or refuses it with the
// row's code, as an appliance would (S7, S8). The rules package checks the
// same rows against the provider's domain code.
func TestSim_GoldenUpgradePathsThroughTheAPI(t *testing.T) {
	g, err := rules.ReadGolden(filepath.Join("rules", "testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := map[rules.Verdict]struct {
		status int
		code   string
	}{
		rules.Allowed:         {201, ""},
		rules.NotNewer:        {422, api.CodeVersionNotNewer},
		rules.UnsupportedPath: {422, api.CodeUnsupportedPath},
	}
	for i, row := range g.Paths {
		t.Run(fmt.Sprintf("%s to %s from %v", row.Running, row.Target, row.SupportedFrom), func(t *testing.T) {
			topo := fmt.Sprintf(`{"clusters": [{"name": "c", "nodes": [{"name": "n1", "role": "member", "active": {"version": %q}}]}]}`, row.Running)
			file := filepath.Join(t.TempDir(), fmt.Sprintf("golden-%d.json", i))
			if err := os.WriteFile(file, []byte(topo), 0o600); err != nil {
				t.Fatal(err)
			}
			h := newHarnessOpts(t, Options{TopologyFile: file})
			data, sha := build(t, spec(row.Target, row.SupportedFrom))
			status, body := h.upload("c", data, sha)
			want := wantStatus[row.Want]
			var e api.Error
			_ = json.Unmarshal(body, &e)
			if status != want.status || (want.code != "" && e.Code != want.code) {
				t.Errorf("upload answered %d %s; golden %s (%d %s)", status, body, row.Want, want.status, want.code)
			}
		})
	}
}
