package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// corruptFile flips one byte in the middle of a bundle, inside its payload.
func corruptFile(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAccProvider_TokenNeverInLogsOrState runs a full upgrade with TF_LOG=trace
// and then searches every log line and the state for the token.
func TestAccProvider_TokenNeverInLogsOrState(t *testing.T) {
	testAccPreCheck(t)
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	sim := startSim(t, "primary-ha")
	token := sim.server.Token()
	// The token comes from the environment, as the docs advise, so that the
	// test harness's own echo of the configuration cannot contain it: any
	// occurrence in the log is then the provider's doing.
	t.Setenv(EnvToken, token)
	cfg := strings.Replace(upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), ""),
		fmt.Sprintf("  token    = %q\n", token), "", 1)
	if strings.Contains(cfg, token) {
		t.Fatal("test setup: the token is still in the configuration")
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(s *terraform.State) error {
				if strings.Contains(s.String(), token) {
					t.Errorf("the token is in the Terraform state")
				}
				return nil
			},
		}},
	})

	logs, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
	if len(logs) == 0 {
		t.Fatal("TF_LOG_PATH_MASK produced no log: the test would prove nothing")
	}
	var total int
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
		if strings.Contains(string(b), token) {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, token) {
					t.Errorf("the token appears in the trace log %s: %.300s", filepath.Base(l), line)
				}
			}
		}
	}
	// The log must be a real trace of the run, or its silence proves nothing.
	if total < 10000 {
		t.Fatalf("trace log is only %d bytes", total)
	}
}
