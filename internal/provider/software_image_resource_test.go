package provider

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccSoftwareImage_S1_S6_S7_S8_CorruptSameVersionUnsupportedUnsignedOrMischecksummedImagesAreRefused
// offers one primary-ha cluster (1.0 on every node) one refused image after
// another; none of them reaches the cluster:
//   - S6: a damaged bundle is refused at plan time with a message naming the
//     damage;
//   - S7: an image of the version the cluster already runs is refused at plan
//     time, naming both versions;
//   - S8: an image that does not update from the running version is refused
//     at plan time;
//   - with trusted_keys, an unsigned bundle and one signed by another key
//     fail the plan, naming why;
//   - S1, S6: a download whose bytes do not match sha256 is refused.
//
// (One test case: each costs the CLI commands of its own setup, and a
// refused image leaves nothing for the next one to trip on.)
func TestAccSoftwareImage_S1_S6_S7_S8_CorruptSameVersionUnsupportedUnsignedOrMischecksummedImagesAreRefused(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	// Each bundle under a name of its own: sim.bundle names them by version.
	set := func(name, p string) string {
		t.Helper()
		to := filepath.Join(filepath.Dir(p), name)
		if err := os.Rename(p, to); err != nil {
			t.Fatal(err)
		}
		return to
	}
	corrupt := set("corrupt-1.1.bundle", sim.bundle("1.1", []string{"1.0"}))
	corruptFile(t, corrupt)
	unsupported := set("unsupported-1.2.bundle", sim.bundle("1.2", []string{"1.1"}))
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
				Config:      upgradeConfig(sim, corrupt, ""),
				ExpectError: regexp.MustCompile(`(?s)corrupt image bundle.*sha256.*S6`),
			},
			{
				Config:      upgradeConfig(sim, sim.bundle("1.0", []string{"0.9"}), ""),
				ExpectError: regexp.MustCompile(`(?s)image 1.0 is not newer than what cluster demo runs \(1.0 on every node\)`),
			},
			{
				Config:      upgradeConfig(sim, unsupported, ""),
				ExpectError: regexp.MustCompile(`(?s)image 1.2 does not support updating from.*n1 \(1.0\).*updates from 1.1 only`),
			},
			{
				Config:      signedConfig(sim, unsigned, bundle.PublicKeyOf(trusted)),
				ExpectError: regexp.MustCompile(`(?s)not\s+signed.*trusted_keys.*bundle\s+sign.*unsigned`),
			},
			{
				Config:      signedConfig(sim, wrong, bundle.PublicKeyOf(trusted)),
				ExpectError: regexp.MustCompile(`(?s)signed\s+by\s+key\s+` + bundle.KeyID(bundle.PublicKeyOf(other)) + `.*not\s+one\s+of\s+the\s+trusted\s+keys.*bad_signature`),
			},
			{
				Config:      downloadConfig(sim, "1.1", strings.Repeat("0", 64)),
				ExpectError: regexp.MustCompile(`(?is)sha256`),
			},
		},
	})
	sim.expectNoImages("demo")
}

func (s *testSim) expectNoImages(cluster string) {
	s.t.Helper()
	imgs, err := s.client.ListImages(context.Background(), cluster)
	if err != nil {
		s.t.Fatalf("listing images: %v", err)
	}
	if len(imgs) != 0 {
		s.t.Fatalf("a refused image reached the cluster: %+v", imgs)
	}
}

func downloadConfig(sim *testSim, version, sum string) string {
	return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster    = "demo"
  source_url = "%s/site/bundles/%s.tar"
  sha256     = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
}
`, sim.server.URL(), version, sum)
}

// TestAccSoftwareImage_DriftAlternateOverwrittenOutOfBand: someone stages
// another image into n2's alternate partition by hand; the plan shows n2
// missing from staged_nodes and the apply stages the image there again.
func TestAccSoftwareImage_DriftAlternateOverwrittenOutOfBand(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}
`, sim.bundle("1.1", []string{"1.0"}))
	other := sim.bundle("1.2", []string{"1.0"})
	all := knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("n1"), knownvalue.StringExact("n2"), knownvalue.StringExact("n3"), knownvalue.StringExact("n4")})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					ctx := t.Context()
					img, err := sim.client.UploadImage(ctx, "demo", other)
					if err != nil {
						t.Fatal(err)
					}
					task, err := sim.client.Stage(ctx, "demo", "n2", img.ID, "")
					if err == nil {
						task, err = sim.client.WaitTask(ctx, task.ID)
					}
					if err != nil || task.State != "succeeded" {
						t.Fatalf("staging 1.2 on n2 by hand: %v %+v", err, task)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"), all),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"), all),
					afterApply(func() error {
						if v := sim.cluster("demo").Node("n2").Alternate.Version; v != "1.1" {
							return fmt.Errorf("n2's alternate holds %s after the apply, want 1.1", v)
						}
						return nil
					}),
				},
			},
		},
	})
}

// TestAccSoftwareImage_S1_S24_FailedDownloadCanBeRetriedAndClustersDownloadByURL:
// a download that failed once (a corrupt transfer) succeeds on the next
// apply; the first attempt's failure is not replayed. That apply creates
// the image afresh: the cluster fetches it itself, its manifest is known
// only after the download, so the rollout is computed at apply (and said
// so), and the cluster ends on it. In the same apply, on the same
// simulator, each cluster of supercluster sc1 downloads its image, and the
// supercluster's rollout, unknown at plan time, is computed and run at
// apply (S24: a patch release, cluster after cluster).
func TestAccSoftwareImage_S1_S24_FailedDownloadCanBeRetriedAndClustersDownloadByURL(t *testing.T) {
	testAccPreCheck(t)
	sim := startSimOfPresets(t, "primary-ha", "supercluster")
	cfg := downloadConfig(sim, "1.1", sim.siteSHA256("1.1"))
	sum := sim.siteSHA256("1.0.1")
	super := ""
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		super += fmt.Sprintf("resource \"appliance_software_image\" %q {\n  cluster    = %q\n  source_url = \"%s/site/bundles/1.0.1.tar\"\n  sha256     = %q\n}\n", c, c, sim.server.URL(), sum)
	}
	super += `
resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = "1.0.1"
  images = {
    dma1 = appliance_software_image.dma1.id
    dma2 = appliance_software_image.dma2.id
    dma3 = appliance_software_image.dma3.id
  }
}`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					if _, err := sim.control.InjectFault(t.Context(), api.Fault{Kind: api.FaultCorruptDownload, Cluster: "demo", Count: 1}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)corrupt`),
			},
			{
				Config: cfg + super,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// Nothing of the failed attempt is left to replace.
						plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectUnknownValue(activeVersionAddr, tfjsonpath.New("rollout_plan")),
						plancheck.ExpectUnknownValue(superAddr, tfjsonpath.New("rollout_plan")),
					},
					PostApplyPreRefresh:  []plancheck.PlanCheck{afterApply(func() error { return sim.expectSuperclusterHome("1.0.1") })},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(nextImageAddr, tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
					statecheck.ExpectKnownValue(nextImageAddr, tfjsonpath.New("staged_nodes"), knownvalue.ListSizeExact(4)),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
					// The image, downloaded and staged earlier in the same apply,
					// left the rollout its 8 activation steps: the recorded plan
					// is what the rollout ran, not the staging it found done.
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollout_plan"), knownvalue.ListSizeExact(8)),
				},
			},
		},
	})
}

// TestAccSoftwareImage_ImportThenConfigureIsNoReplacement: an image whose
// version is already active, imported with an import block and declared
// with its source_file, is updated in place (the source is recorded), never
// replaced nor refused as "not newer"; nothing is left to do afterwards.
func TestAccSoftwareImage_ImportThenConfigureIsNoReplacement(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	p := sim.bundle("1.1", []string{"1.0"})
	sim.upgradeByHand("demo", p)
	images, err := sim.client.ListImages(t.Context(), "demo")
	if err != nil || len(images) != 1 {
		t.Fatalf("setup: images %v, %v", images, err)
	}
	cfg := sim.providerConfig() + fmt.Sprintf(`
import {
  to = appliance_software_image.next
  id = "demo/%s"
}
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}`, images[0].ID, p)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		// Import blocks came with Terraform 1.5.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_5_0)},
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionUpdate),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("id"), knownvalue.StringExact(images[0].ID)),
			},
		}},
	})
}

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
			Config: signedConfig(sim, p, bundle.PublicKeyOf(newKey(t)), bundle.PublicKeyOf(key)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
			},
		}},
	})
}

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
	if !strings.Contains(e.Summary(), "Staging interrupted") || !strings.Contains(e.Detail(), "interrupted while staging, at step") {
		t.Fatalf("error %q: %q, want it to say the apply was interrupted and where", e.Summary(), e.Detail())
	}
	if strings.Contains(e.Detail(), "context canceled") {
		t.Errorf("detail %q still carries the cancelled request", e.Detail())
	}
	if m.StagedNodes.IsUnknown() {
		t.Fatal("staged_nodes left unknown: the state would not record what the nodes hold")
	}
}

// TestSoftwareImage_CtrlCBeforeStagingBeginsIsTheSameOneError: Ctrl-C
// that lands on the read before the staging (after the upload) gives the
// staging's one error, not "Cannot read cluster ...: context canceled".
func TestSoftwareImage_CtrlCBeforeStagingBeginsIsTheSameOneError(t *testing.T) {
	sim := startSim(t, "primary-ha")
	img, err := sim.client.UploadImage(context.Background(), "demo", sim.bundle("1.1", []string{"1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	r := &softwareImageResource{data: newProviderData(mgmtapi.New(sim.client), "test")}
	m := softwareImageModel{
		ID: types.StringValue(img.ID), Cluster: types.StringValue("demo"), Version: types.StringValue("1.1"),
		Stage: types.BoolValue(true), StagedNodes: types.ListUnknown(types.StringType),
	}
	sctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C
	var diags diag.Diagnostics
	r.stageAndRead(sctx, &m, &diags)

	if diags.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want one: %v", diags.ErrorsCount(), diags.Errors())
	}
	if e := diags.Errors()[0]; e.Summary() != "Staging interrupted on cluster demo" || !strings.Contains(e.Detail(), "before the staging began") ||
		strings.Contains(e.Detail(), "context canceled") {
		t.Errorf("error %q: %q, want the staging interrupted before it began, without the cancelled request", e.Summary(), e.Detail())
	}
	if m.StagedNodes.IsUnknown() {
		t.Error("staged_nodes left unknown")
	}
}

const nextImageAddr = "appliance_software_image.next"

// expectImage checks that the cluster still holds an image of version.
func (s *testSim) expectImage(cluster, version string) error {
	imgs, err := s.client.ListImages(context.Background(), cluster)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if img.Manifest.Version == version {
			return nil
		}
	}
	return fmt.Errorf("cluster %s holds no image of version %s any more: %+v", cluster, version, imgs)
}

// TestAccSoftwareImage_Defect1_Defect2_AnImageTheClusterRunsSurvivesReplacementOutOfBandDeleteAndDestroy
// follows one image that every node runs, after the upgrade to it:
//   - Defect 1: tainted, it is replaced without being deleted: the plan's
//     replacement applies (the upload gets the same image back), the
//     cluster keeps its image, and nothing is left to do.
//   - Defect 2: deleted out of band (a node runs it), it is uploaded again
//     by the next apply instead of leaving the configuration refused as
//     "not newer" forever.
//   - Destroyed, it stays on the cluster and leaves the state only.
//
// terraform-plugin-testing ends every step with a plan that must be empty:
// "nothing is left to do" is checked after each of them.
func TestAccSoftwareImage_Defect1_Defect2_AnImageTheClusterRunsSurvivesReplacementOutOfBandDeleteAndDestroy(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	imageKept := afterApply(func() error { return sim.expectImage("demo", "1.1") })
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// Defect 1: the tainted image is replaced, and kept.
				Taint:  []string{nextImageAddr},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:            []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionReplace)},
					PostApplyPreRefresh: []plancheck.PlanCheck{imageKept},
				},
			},
			{
				// Defect 2: deleted out of band, the image is created again.
				PreConfig: func() {
					imgs, err := sim.client.ListImages(context.Background(), "demo")
					if err != nil {
						t.Fatal(err)
					}
					for _, img := range imgs {
						if err := sim.client.DeleteImage(context.Background(), "demo", img.ID); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:            []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionCreate)},
					PostApplyPreRefresh: []plancheck.PlanCheck{imageKept},
				},
			},
			{
				// Destroyed, the image a node runs stays on the cluster.
				// (Checked after the destroy's plan: a TestCase's
				// CheckDestroy never runs once a Destroy step has emptied
				// the state.)
				Config:           cfg,
				Destroy:          true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{imageKept}},
			},
		},
	})
}

// authProxy is a forward HTTP proxy on loopback that wants credentials,
// as a corporate proxy does; it counts the requests it let through.
type authProxy struct {
	srv    *httptest.Server
	user   string
	pass   string
	served atomic.Int64
}

func startAuthProxy(t *testing.T, user, pass string) *authProxy {
	p := &authProxy{user: user, pass: pass}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		p.served.Add(1)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// proxy_wo hands the proxy, credentials and all, to the cluster for the
// download and keeps it out of the plan and the state.
func TestAccSoftwareImage_ProxyIsWriteOnlyAndNeverInState(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	proxy := startAuthProxy(t, "ops", "pr0xy-s3cret-pa55")
	proxyURL := strings.Replace(proxy.srv.URL, "http://", "http://ops:pr0xy-s3cret-pa55@", 1)
	cfg := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster          = "demo"
  source_url       = "%s/site/bundles/1.1.tar"
  sha256           = %q
  proxy_wo         = %q
  proxy_wo_version = 1
  stage            = false
}
`, sim.server.URL(), sim.siteSHA256("1.1"), proxyURL)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(s *terraform.State) error {
				if proxy.served.Load() == 0 {
					return fmt.Errorf("the cluster did not download through the proxy")
				}
				raw, err := json.Marshal(s)
				if err != nil {
					return err
				}
				if strings.Contains(string(raw), "pr0xy-s3cret-pa55") {
					return fmt.Errorf("the proxy's password is in the state")
				}
				if a := s.RootModule().Resources[nextImageAddr].Primary.Attributes; a["proxy_wo"] != "" || a["proxy"] != "" {
					return fmt.Errorf("proxy attributes in the state: %q %q", a["proxy_wo"], a["proxy"])
				}
				return sim.expectImage("demo", "1.1")
			},
		}},
	})
}
