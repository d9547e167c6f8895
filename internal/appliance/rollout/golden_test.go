package rollout

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are the presets of the seeds' systems, one per order; their
// renderings are the stable text users see at `terraform plan`.
func goldenCases() map[string]Request {
	storage := manifest("4.1", "4.0")
	storage.Components = append(storage.Components, appliance.Component{Name: appliance.ComponentStorage, Payload: "storage.img", SHA256: sha, Size: 1})
	return map[string]Request{
		"primary_first_avere4":  {Cluster: avere4(), Target: manifest("1.1", "1.0")},
		"standby_first_vca":     {Cluster: vca(), Target: manifest("2.1", "2.0"), Policy: Policy{MaxUnavailable: "2"}},
		"active_first_streamer": {Cluster: streamer(), Target: storage, Policy: Policy{MinHealthyTime: 5 * time.Minute, HealthyDeadline: 30 * time.Minute}},
		"rolling_netware":       {Cluster: netware(), Target: manifest("6.5 SP8", "6.5")},
	}
}

// TestPlanLines_Golden pins Plan.Lines for each order; run with -update to
// rewrite testdata/*.golden after a deliberate change, and review the diff.
func TestPlanLines_Golden(t *testing.T) {
	for name, req := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			p := mustCompute(t, req)
			got := strings.Join(p.Lines(), "\n") + "\n"
			file := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s changed:\n--- got\n%s--- want\n%s", file, got, want)
			}
		})
	}
}
