package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/simclient"
)

// testProviders runs the provider in-process for terraform-plugin-testing;
// the terraform CLI on PATH (or TF_ACC_TERRAFORM_PATH) drives it.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"appliance": providerserver.NewProtocol6WithError(New("test")()),
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
	dir := t.TempDir()
	srv, err := simulator.Start(context.Background(), simulator.Options{
		StatePath: filepath.Join(dir, "sim.json"),
		Topology:  topology,
		TimeScale: 6000,
		Token:     "acc-test-token-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Listen:    "127.0.0.1:0",
	})
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

func testAccPreCheck(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run with TF_ACC=1 (make test)")
	}
}

// rolloutPlanCheck is a plancheck on the planned rollout_plan of a resource.
type rolloutPlanCheck struct {
	address string
	check   func(lines []string) error
}

func expectRolloutPlan(address string, check func(lines []string) error) plancheck.PlanCheck {
	return rolloutPlanCheck{address: address, check: check}
}

func (c rolloutPlanCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.address {
			continue
		}
		after, ok := rc.Change.After.(map[string]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: no planned values", c.address)
			return
		}
		raw, ok := after["rollout_plan"].([]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: rollout_plan is not known at plan time (got %T)", c.address, after["rollout_plan"])
			return
		}
		lines := make([]string, len(raw))
		for i, l := range raw {
			lines[i], _ = l.(string)
		}
		if err := c.check(lines); err != nil {
			resp.Error = fmt.Errorf("%s rollout_plan:\n  %s\n%w", c.address, strings.Join(lines, "\n  "), err)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.address)
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

var stepLine = regexp.MustCompile(`^\d+\. wave (\d+): (roll back|\S+) (\S+)`)

// activationWaves parses rollout lines into node -> wave of its activation.
func activationWaves(lines []string) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		m := stepLine.FindStringSubmatch(l)
		if m != nil && (m[2] == "activate" || m[2] == "roll back") {
			w, _ := strconv.Atoi(m[1])
			out[m[3]] = w
		}
	}
	return out
}

// checkPrimaryFirstHA is S11 and S12 on the primary-ha preset: n1 alone in
// the first activation wave, and neither pair (n1,n2) nor (n3,n4) together.
func checkPrimaryFirstHA(lines []string) error {
	w := activationWaves(lines)
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		if _, ok := w[n]; !ok {
			return fmt.Errorf("node %s is never activated", n)
		}
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		if w[n] <= w["n1"] {
			return fmt.Errorf("S11: %s activates in wave %d, not after the primary n1 (wave %d)", n, w[n], w["n1"])
		}
	}
	if w["n1"] == w["n2"] || w["n3"] == w["n4"] {
		return fmt.Errorf("S12: HA partners share a wave: %v", w)
	}
	return nil
}

func bundleSpec(version string, supportedFrom, components []string) bundle.Spec {
	spec := bundle.Spec{Version: version, SupportedFrom: supportedFrom, Description: "test image " + version}
	for _, c := range components {
		spec.Components = append(spec.Components, bundle.ComponentSpec{Name: c, Size: 16 << 10})
	}
	return spec
}

func buildBundle(path string, spec bundle.Spec) (*appliance.Manifest, error) {
	return bundle.BuildFile(path, spec)
}
