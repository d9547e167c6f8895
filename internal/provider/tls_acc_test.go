package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
)

// TestAccProvider_TLSWithPrivateCA: against a simulator with a self-signed
// certificate, ca_cert_pem makes the connection trusted; without it the
// provider refuses the certificate and says so; insecure works but warns.
func TestAccProvider_TLSWithPrivateCA(t *testing.T) {
	testAccPreCheck(t)
	srv, err := simulator.Start(context.Background(), simulator.Options{
		StatePath: filepath.Join(t.TempDir(), "tls.json"), Token: "tls-test-token", TimeScale: 6000, GenerateTLS: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	}()
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("simulator with GenerateTLS serves %s", srv.URL())
	}
	data := `data "appliance_cluster" "demo" { name = "demo" }`
	provider := func(extra string) string {
		return fmt.Sprintf("provider \"appliance\" {\n  endpoint = %q\n  token = %q\n%s\n}\n", srv.URL(), srv.Token(), extra)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      provider("") + data,
				ExpectError: regexp.MustCompile(`(?i)certificate`),
			},
			{
				Config:      provider(`  ca_cert_pem = "not a certificate"`) + data,
				ExpectError: regexp.MustCompile(`(?i)PEM`),
			},
			{
				Config: provider(fmt.Sprintf("  ca_cert_pem = %q", string(srv.CACertPEM()))) + data,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.appliance_cluster.demo", tfjsonpath.New("version"), knownvalue.StringExact("1.0")),
				},
			},
		},
	})
}
