package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

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

// Defect 1: a tainted image that the cluster runs is replaced without
// being deleted: the plan's replacement applies (the upload gets the same
// image back), the cluster keeps its image, and nothing is left to do.
func TestAccSoftwareImage_Defect1_ReplacementNeverDeletesTheImageTheClusterRuns(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Taint:  []string{nextImageAddr},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionReplace)},
				},
				Check: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// Defect 2: an image deleted out of band after its rollout (a node runs
// it) is uploaded again by the next apply instead of leaving the
// configuration refused as "not newer" forever.
func TestAccSoftwareImage_Defect2_ImageDeletedOutOfBandIsRecreated(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
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
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionCreate)},
				},
				Check: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// Destroying an image a node runs keeps it on the cluster, says so at
// plan time, and removes it from the state only.
func TestAccSoftwareImage_DestroyKeepsAnImageInUse(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Config:  cfg,
				Destroy: true,
				Check:   func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
		},
		CheckDestroy: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
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
