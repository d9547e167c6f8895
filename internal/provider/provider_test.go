package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/simclient"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const activeVersionAddr = "appliance_cluster_active_version.demo"

// The shared acceptance harness (internal/acctest), under the names this
// package's tests have always called it by.
var (
	// testProviders serves the provider in-process; the CLI of
	// TF_ACC_TERRAFORM_PATH (or terraform on PATH) drives it.
	testProviders       = acctest.ProviderFactories(New("test")())
	testAccPreCheck     = acctest.PreCheck
	allNodes            = acctest.AllFourNodesAt
	expectRolloutPlan   = acctest.ExpectRolloutPlan
	activationWaves     = acctest.ActivationWaves
	checkPrimaryFirstHA = acctest.CheckPrimaryFirstHA
)

// upgradeConfig stages the bundle and activates its version on cluster demo.
func upgradeConfig(sim *testSim, bundlePath, extra string) string {
	return sim.providerConfig() + upgradeResources(bundlePath, extra)
}

// upgradeResources are upgradeConfig's resources, for any provider block.
func upgradeResources(bundlePath, extra string) string {
	return fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
%s
}
`, bundlePath, extra)
}

// activateOutOfBand boots a node's alternate partition through the API, as
// an operator acting by hand would.
func (s *testSim) activateOutOfBand(cluster, node string) {
	s.t.Helper()
	ctx := context.Background()
	task, err := s.client.Activate(ctx, cluster, node, api.ActivateRequest{}, "")
	if err != nil {
		s.t.Fatalf("activating %s out of band: %v", node, err)
	}
	if task, err = s.client.WaitTask(ctx, task.ID); err != nil || task.State != api.TaskSucceeded {
		s.t.Fatalf("out-of-band activation of %s: %v %+v", node, err, task)
	}
}

// waitRunning polls until node is back, running and healthy.
func (s *testSim) waitRunning(cluster, node string, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n := s.cluster(cluster).Node(node)
		if n.State == "running" && n.Healthy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s did not come back within %s", node, limit)
}

// siteSHA256 asks the simulator's download site for a bundle's checksum,
// as an operator copies it from a vendor's download page.
func (s *testSim) siteSHA256(version string) string {
	s.t.Helper()
	resp, err := http.Get(s.server.URL() + "/site/bundles/" + version + ".tar.sha256")
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("download site: HTTP %d %s", resp.StatusCode, b)
	}
	return strings.Fields(string(b))[0]
}

// clusterUpgradeConfig stages the bundle on cluster and activates it there.
func clusterUpgradeConfig(sim *testSim, cluster, bundlePath, extra string) string {
	return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = %[1]q
  source_file = %[2]q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = %[1]q
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
%[3]s
}
`, cluster, bundlePath, extra)
}

// stepIndex returns the index of the first line that contains all of parts, or -1.
func stepIndex(lines []string, parts ...string) int {
	for i, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return i
		}
	}
	return -1
}

// inOrder fails unless each step (given as parts of its line) exists and
// comes after the one before.
func inOrder(lines []string, steps ...[]string) error {
	last := -1
	for _, parts := range steps {
		i := stepIndex(lines, parts...)
		if i < 0 {
			return fmt.Errorf("no step %q", strings.Join(parts, " "))
		}
		if i <= last {
			return fmt.Errorf("step %q (line %d) comes before the step that must precede it (line %d)", strings.Join(parts, " "), i+1, last+1)
		}
		last = i
	}
	return nil
}

// uploadOnly declares images that are uploaded and validated but not staged.
func uploadOnly(sim *testSim, images map[string]string) string {
	cfg := sim.providerConfig()
	for name, p := range images {
		cfg += fmt.Sprintf("resource \"appliance_software_image\" %q {\n  cluster = \"demo\"\n  source_file = %q\n  stage = false\n}\n", name, p)
	}
	return cfg
}

// TestAccProvider_EmbeddedSimulatorPersistsCluster: with a simulator block
// the provider starts the simulator itself, and the cluster it upgrades is
// in the state file afterwards, where a separate simulator finds it.
func TestAccProvider_EmbeddedSimulatorPersistsCluster(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "embedded.json")
	helper := startSim(t, "primary-ha") // only for making a bundle
	cfg := fmt.Sprintf("provider \"appliance\" {\n  simulator {\n    state_file = %q\n  }\n}\n", statePath) +
		upgradeResources(helper.bundle("1.1", []string{"1.0"}), "")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{expectRolloutPlan(activeVersionAddr, checkPrimaryFirstHA)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
			},
		}},
	})

	// A second simulator on the same file, as the next terraform process
	// would start, sees the upgraded cluster.
	srv, err := simulator.Start(context.Background(), simulator.Options{StatePath: statePath, Token: "second-process", TimeScale: 6000})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	}()
	c, err := client.New(client.Config{Endpoint: srv.URL(), Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.GetCluster(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range snap.Nodes {
		if n.Active.Version != "1.1" || n.Alternate.Version != "1.0" {
			t.Errorf("%s in the state file: active %s, alternate %s; want 1.1 and 1.0", n.Name, n.Active.Version, n.Alternate.Version)
		}
	}
}

func TestAccProvider_MissingEndpointIsAClearError(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvToken, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      `data "appliance_cluster" "x" { name = "demo" }`,
			ExpectError: regexp.MustCompile(`(?s)No appliance endpoint.*APPLIANCE_ENDPOINT.*simulator`),
		}},
	})
}

func TestAccProvider_SimulatorAndEndpointConflict(t *testing.T) {
	testAccPreCheck(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
provider "appliance" {
  endpoint = "https://appliances.example.com"
  simulator {
    state_file = "sim.json"
  }
}
data "appliance_cluster" "x" { name = "demo" }`,
			ExpectError: regexp.MustCompile(`(?s)simulator.*endpoint|endpoint.*simulator`),
		}},
	})
}

// testSim is a simulator started by a test, with a client to inspect and
// disturb it out of band.
type testSim struct {
	t      *testing.T
	server *simulator.Server
	client *client.Client
	// control calls the simulator-only endpoints (faults, clock).
	control *simclient.Client
	dir     string
}

// startSim starts the bundled simulator on a loopback port with the given
// topology preset and a fast clock (a 90 s reboot takes 15 ms).
func startSim(t *testing.T, topology string) *testSim {
	t.Helper()
	return startSimWithClock(t, topology, nil)
}

// startSimWithClock is startSim on a clock of the test's (nil: the scaled
// wall clock).
func startSimWithClock(t *testing.T, topology string, clock simulator.Clock) *testSim {
	t.Helper()
	return startSimWith(t, simulator.Options{Topology: topology, Clock: clock})
}

// startSimWith starts the simulator with opts (topology, clock) on a
// loopback port, a state file of the test's and the fast clock.
func startSimWith(t *testing.T, opts simulator.Options) *testSim {
	t.Helper()
	dir := t.TempDir()
	opts.StatePath = filepath.Join(dir, "sim.json")
	opts.TimeScale = 6000
	opts.Token = "acc-test-token-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	opts.Listen = "127.0.0.1:0"
	srv, err := simulator.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c, err := client.New(client.Config{Endpoint: srv.URL(), Token: srv.Token(), RetryMax: 2})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	control, err := simclient.For(srv)
	if err != nil {
		t.Fatalf("simulator control client: %v", err)
	}
	return &testSim{t: t, server: srv, client: c, control: control, dir: dir}
}

// providerConfig is the provider block pointing at this simulator.
func (s *testSim) providerConfig() string {
	return fmt.Sprintf("provider \"appliance\" {\n  endpoint = %q\n  token    = %q\n}\n", s.server.URL(), s.server.Token())
}

// bundle writes an image bundle of version, updating from supportedFrom,
// and returns its path.
func (s *testSim) bundle(version string, supportedFrom []string, irreversible ...string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, "appliance-"+strings.ReplaceAll(version, " ", "_")+".bundle")
	_, err := bundle.BuildFile(p, bundle.Spec{
		Version:              version,
		SupportedFrom:        supportedFrom,
		IrreversibleFeatures: irreversible,
		Description:          "test image " + version,
		Components:           []bundle.ComponentSpec{{Name: "os", Size: 64 << 10}},
	})
	if err != nil {
		s.t.Fatalf("building bundle %s: %v", version, err)
	}
	return p
}

// cluster reads a cluster snapshot out of band.
func (s *testSim) cluster(name string) *appliance.Cluster {
	s.t.Helper()
	c, err := s.client.GetCluster(context.Background(), name)
	if err != nil {
		s.t.Fatalf("reading cluster %s: %v", name, err)
	}
	return c
}

// expectNoOutage fails unless the availability ledger of cluster is empty
// of undeclared outages: HA groups and resources always served.
func (s *testSim) expectNoOutage(cluster string) error {
	l, err := s.client.Ledger(context.Background(), cluster)
	if err != nil {
		return fmt.Errorf("reading ledger: %w", err)
	}
	for _, o := range l.Outages {
		if !o.Declared {
			return fmt.Errorf("outage in the availability ledger: %s %s from %s", o.Kind, o.Subject, o.Start)
		}
	}
	return nil
}

// expectOnlyStep checks that the planned rollout is one step, containing want:
// what a resumed rollout has left when everything else is done.
func expectOnlyStep(address, want string) plancheck.PlanCheck {
	return expectRolloutPlan(address, func(lines []string) error {
		if len(lines) != 1 || !strings.Contains(lines[0], want) {
			return fmt.Errorf("want the single step %q", want)
		}
		return nil
	})
}

// TestAccProvider_TokenNeverInLogsOrState runs a full upgrade with TF_LOG=trace
// and then searches every log line and the state for the token.
func TestAccProvider_TokenNeverInLogsOrState(t *testing.T) {
	testAccPreCheck(t)
	traceLogs := acctest.StartTraceLogs(t)
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

	// The log must be a real trace of the run, or its silence proves nothing.
	traceLogs.ExpectNoneOf(t, "the token", token)
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

// upgradeByHand stages and activates version on every node of cluster, one
// node at a time, through the API: what an interrupted apply left done.
func (s *testSim) upgradeByHand(cluster, bundlePath string) {
	s.t.Helper()
	ctx := s.t.Context()
	img, err := s.client.UploadImage(ctx, cluster, bundlePath)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, n := range s.cluster(cluster).Nodes {
		task, err := s.client.Stage(ctx, cluster, n.Name, img.ID, "")
		if err == nil {
			_, err = s.client.WaitTask(ctx, task.ID)
		}
		if err != nil {
			s.t.Fatal(err)
		}
		s.activateOutOfBand(cluster, n.Name)
		s.waitRunning(cluster, n.Name, 10*time.Second)
	}
}

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

// TestAccProvider_PlanAgainstAnEndpointThatNeverAnswersEndsAtPlanTimeout:
// an endpoint that accepts connections and never answers fails the plan
// once plan_timeout runs out, with an error that names it, instead of
// holding the plan for every retry of every request (about 7 minutes at
// the default request_timeout and retry_max).
func TestAccProvider_PlanAgainstAnEndpointThatNeverAnswersEndsAtPlanTimeout(t *testing.T) {
	testAccPreCheck(t)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(silent.Close)
	cfg := fmt.Sprintf(`provider "appliance" {
  endpoint     = %q
  token        = "silent-endpoint-token"
  plan_timeout = "2s"
}

resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.1"
}
`, silent.URL)
	var start time.Time // set once the test runs: ParallelTest may wait for a slot first
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			PreConfig:   func() { start = time.Now() },
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)Cannot read the cluster.*plan_timeout\s+\(2s\)\s+ran\s+out\s+before\s+the\s+endpoint\s+answered.*raise\s+plan_timeout`),
		}},
	})
	// One request attempt alone may last request_timeout (60 s).
	if took := time.Since(start); took > 50*time.Second {
		t.Errorf("the plan took %s against a silent endpoint; plan_timeout is 2s", took.Round(time.Second))
	}
}

// afterApply is a check of the simulator (or anything outside Terraform)
// that runs once a step's apply is done, among the step's plan checks
// (PostApplyPreRefresh) or state checks. A step's Check would have the
// test harness read the state once more through the CLI just to call it;
// here it costs no CLI command of its own.
func afterApply(check func() error) simCheck { return simCheck{check: check} }

type simCheck struct{ check func() error }

func (c simCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.check()
}

func (c simCheck) CheckState(_ context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c.check()
}
