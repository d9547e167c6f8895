package provider

import (
	"crypto/ed25519"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

// signedConfig is a provider block trusting keys, and one image of bundlePath.
func signedConfig(sim *testSim, bundlePath string, keys ...ed25519.PublicKey) string {
	list := ""
	for _, k := range keys {
		pemText, _ := bundle.EncodePublicKey(k)
		list += fmt.Sprintf("    %q,\n", string(pemText))
	}
	return fmt.Sprintf(`
provider "appliance" {
  endpoint     = %q
  token        = %q
  trusted_keys = [
%s  ]
}

resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
  stage       = false
}
`, sim.server.URL(), sim.server.Token(), list, bundlePath)
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	k, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAccSoftwareImage_UnsignedBundleFailsPlanWhenKeysAreTrusted: with
// trusted_keys, an unsigned bundle and one signed by another key fail the
// plan, naming why; nothing reaches the cluster.
func TestAccSoftwareImage_UnsignedBundleFailsPlanWhenKeysAreTrusted(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	trusted, other := newKey(t), newKey(t)
	unsigned := sim.bundle("1.1", []string{"1.0"})
	wrong := sim.bundle("1.2", []string{"1.0"})
	if _, err := bundle.SignFile(wrong, other); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      signedConfig(sim, unsigned, trusted.Public().(ed25519.PublicKey)),
				ExpectError: regexp.MustCompile(`(?s)not\s+signed.*trusted_keys.*bundle\s+sign.*unsigned`),
			},
			{
				Config:      signedConfig(sim, wrong, trusted.Public().(ed25519.PublicKey)),
				ExpectError: regexp.MustCompile(`(?s)signed\s+by\s+key\s+` + bundle.KeyID(other.Public().(ed25519.PublicKey)) + `.*not\s+one\s+of\s+the\s+trusted\s+keys.*bad_signature`),
			},
		},
	})
	sim.expectNoImages("demo")
}

// TestAccSoftwareImage_SignedBundleIsUploadedWhenItsKeyIsTrusted: the
// same configuration with a bundle signed by a trusted key applies.
func TestAccSoftwareImage_SignedBundleIsUploadedWhenItsKeyIsTrusted(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	key := newKey(t)
	p := sim.bundle("1.1", []string{"1.0"})
	if _, err := bundle.SignFile(p, key); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: signedConfig(sim, p, newKey(t).Public().(ed25519.PublicKey), key.Public().(ed25519.PublicKey)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
			},
		}},
	})
}

// TestAccProvider_InvalidTrustedKeyIsAClearError names the bad entry.
func TestAccProvider_InvalidTrustedKeyIsAClearError(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := fmt.Sprintf(`
provider "appliance" {
  endpoint     = %q
  token        = %q
  trusted_keys = ["not a key"]
}

data "appliance_cluster" "demo" {
  name = "demo"
}
`, sim.server.URL(), sim.server.Token())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    []resource.TestStep{{Config: cfg, ExpectError: regexp.MustCompile(`(?s)Invalid trusted key.*PUBLIC KEY`)}},
	})
}
