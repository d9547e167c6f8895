package raucacc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
	"github.com/applianceops/terraform-provider-appliance/internal/provider"
)

// raucProviderConfig is a provider block for a lab: n1 primary, HA pairs
// n1/n2 and n3/n4.
func raucProviderConfig(l *lab.Lab) string {
	var nodes strings.Builder
	for i, n := range l.Nodes {
		role := "secondary"
		if i == 0 {
			role = "primary"
		}
		partner := ""
		if i%2 == 0 && i+1 < len(l.Nodes) {
			partner = l.Nodes[i+1].Name
		} else if i%2 == 1 {
			partner = l.Nodes[i-1].Name
		}
		fmt.Fprintf(&nodes, "    node {\n      name       = %q\n      address    = %q\n      role       = %q\n      ha_partner = %q\n      work_dir   = %q\n    }\n", n.Name, n.Addr, role, partner, n.WorkDir)
	}
	return fmt.Sprintf(`
provider "appliance" {
  rauc {
    cluster          = "lab"
    private_key      = file(%q)
    known_hosts_file = %q
    keyring_file     = %q
    reboot_command   = %q
    health_command   = %q
    version_command  = %q
    boot_timeout     = "60s"
    health_timeout   = "3s"
%s  }
}
`, l.ClientKeyPath, l.KnownHosts, l.Keyring, lab.RebootCommand, lab.HealthCommand, lab.VersionCommand, nodes.String())
}

func raucUpgradeConfig(l *lab.Lab, bundlePath, version string) string {
	return raucProviderConfig(l) + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "lab"
  source_file = %q
}

resource "appliance_cluster_active_version" "lab" {
  cluster  = "lab"
  version  = %s
  image_id = appliance_software_image.next.id
  strategy = {
    order = "primary_first"
  }
}
`, bundlePath, version)
}

const raucActiveAddr = "appliance_cluster_active_version.lab"

// testProviders serves the provider in-process to terraform-plugin-testing.
var testProviders = acctest.ProviderFactories(provider.New("test")())

// raucNodeStatus is a node's own `rauc status`, read over SSH.
type raucNodeStatus struct {
	Booted string `json:"booted"`
	Slots  []map[string]struct {
		Bootname   string `json:"bootname"`
		BootStatus string `json:"boot_status"`
		SlotStatus struct {
			Bundle struct {
				Version string `json:"version"`
			} `json:"bundle"`
		} `json:"slot_status"`
	} `json:"slots"`
}

func readRaucStatus(l *lab.Lab, n *lab.Node) (booted, bootedVersion, bootedStatus string, err error) {
	out, err := l.Run(n, "rauc status --detailed --output-format=json")
	if err != nil {
		return "", "", "", err
	}
	var s raucNodeStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return "", "", "", err
	}
	for _, m := range s.Slots {
		for _, sl := range m {
			if sl.Bootname == s.Booted {
				return s.Booted, sl.SlotStatus.Bundle.Version, sl.BootStatus, nil
			}
		}
	}
	return s.Booted, "", "", fmt.Errorf("%s: no booted slot in rauc status", n.Name)
}

// expectLabEvents checks that every listed node was installed and rebooted
// exactly the given number of times.
func expectLabEvents(l *lab.Lab, installs, reboots map[string]int) error {
	for _, n := range l.Nodes {
		i, err := n.Count(lab.EventInstall)
		if err != nil {
			return err
		}
		r, err := n.Count(lab.EventReboot)
		if err != nil {
			return err
		}
		if i != installs[n.Name] || r != reboots[n.Name] {
			return fmt.Errorf("%s was installed %d and rebooted %d times; want %d and %d", n.Name, i, r, installs[n.Name], reboots[n.Name])
		}
	}
	return nil
}

func expectPartnersNeverDownTogether(l *lab.Lab) error {
	for _, pair := range [][2]string{{"n1", "n2"}, {"n3", "n4"}} {
		at, err := lab.DownTogether(l.Node(pair[0]), l.Node(pair[1]))
		if err != nil {
			return err
		}
		if !at.IsZero() {
			return fmt.Errorf("HA partners %s and %s were down together at %s", pair[0], pair[1], at.Format(time.RFC3339Nano))
		}
	}
	return nil
}

func each(l *lab.Lab, v int) map[string]int {
	m := map[string]int{}
	for _, n := range l.Nodes {
		m[n.Name] = v
	}
	return m
}

// TestAccRAUC_ExampleUpgradesFourNodesInTwoHAPairsThenRollsBackAndRepairsDrift:
// examples/rauc, applied as it is through the real CLI against real RAUC,
// D-Bus and sshd (with the lab.json `make rauc-lab` writes, passed as a
// user passes -var), upgrades the lab from 1.0 to 1.1: each node's own rauc
// status afterwards shows the booted slot holding 1.1 and marked good and
// the other holding 1.0; the next plan is empty; each node was installed
// and rebooted exactly once and partners were never down together. Then,
// with the test's own configuration of the same resources, a rollback to
// 1.0 as a change of version, a node switched out of band, and a node left
// armed, each shown by the plan and repaired. (One lab and one upgrade
// serve the example and the rollback: each costs minutes of CPU on 2 cores.)
func TestAccRAUC_ExampleUpgradesFourNodesInTwoHAPairsThenRollsBackAndRepairsDrift(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	l := lab.New(t, lab.Options{Nodes: 4})
	descPath, err := l.WriteDescription("1.1")
	if err != nil {
		t.Fatal(err)
	}
	descJSON, err := os.ReadFile(descPath)
	if err != nil {
		t.Fatal(err)
	}
	var desc lab.Description
	if err := json.Unmarshal(descJSON, &desc); err != nil {
		t.Fatal(err)
	}
	b := desc.Bundles["1.1"]
	// A rollback names the version in the other slots and no image.
	rollback := strings.Replace(raucUpgradeConfig(l, b, `"1.0"`), "  image_id = appliance_software_image.next.id\n", "", 1)
	// The providers are given per step: the example's own provider block
	// may not meet providers given to the whole test case.
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: testProviders,
				ConfigDirectory:          config.StaticDirectory("../../../examples/rauc"),
				ConfigVariables:          config.Variables{"lab": config.StringVariable(descPath)},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						acctest.ExpectRolloutPlan(raucActiveAddr, acctest.CheckPrimaryFirstHA),
						plancheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
						plancheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("components"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("rootfs")})),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(raucActiveAddr, tfjsonpath.New("node_versions"), acctest.AllFourNodesAt("1.1")),
					statecheck.ExpectKnownValue(raucActiveAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownOutputValue("node_versions", acctest.AllFourNodesAt("1.1")),
				},
				Check: func(*terraform.State) error {
					for _, n := range l.Nodes {
						booted, v, status, err := readRaucStatus(l, n)
						if err != nil {
							return err
						}
						if booted != "B" || v != "1.1" || status != "good" || n.SlotVersion("A") != "1.0" {
							return fmt.Errorf("%s: booted %s holding %q (%s), slot A holds %s; want B holding 1.1, good, and A 1.0", n.Name, booted, v, status, n.SlotVersion("A"))
						}
					}
					if err := expectLabEvents(l, each(l, 1), each(l, 1)); err != nil {
						return err
					}
					return expectPartnersNeverDownTogether(l)
				},
			},
			// (The next plan is empty: PostApplyPostRefresh above, and the
			// framework's own plans after every apply, check it.)
			{
				ProtoV6ProviderFactories: testProviders,
				// Rollback is a change of version: every node boots its
				// other slot, the factory 1.0, again.
				Config: rollback,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(raucActiveAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(raucActiveAddr, tfjsonpath.New("node_versions"), acctest.AllFourNodesAt("1.0")),
				},
				Check: func(*terraform.State) error {
					for _, n := range l.Nodes {
						if booted, _, status, err := readRaucStatus(l, n); err != nil || booted != "A" || status != "good" {
							return fmt.Errorf("%s after rollback: booted %s (%s), %v; want A, good", n.Name, booted, status, err)
						}
					}
					if err := expectLabEvents(l, each(l, 1), each(l, 2)); err != nil {
						return err
					}
					return expectPartnersNeverDownTogether(l)
				},
			},
			{
				ProtoV6ProviderFactories: testProviders,
				// Out of band, n4 is switched to its other slot and
				// rebooted: the plan shows the drift and the apply brings
				// it back to 1.0.
				PreConfig: func() {
					n4 := l.Node("n4")
					if _, err := l.Run(n4, "rauc status mark-active other && reboot"); err != nil && !strings.Contains(err.Error(), "exit status") {
						t.Logf("out-of-band reboot of n4: %v", err)
					}
					waitBooted(t, n4, "B")
				},
				Config: rollback,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(raucActiveAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(raucActiveAddr, tfjsonpath.New("node_versions"), acctest.AllFourNodesAt("1.0")),
				},
				Check: func(*terraform.State) error {
					if booted, _, _, err := readRaucStatus(l, l.Node("n4")); err != nil || booted != "A" {
						return fmt.Errorf("n4 after the drift was repaired: booted %s, %v; want A", booted, err)
					}
					return nil
				},
			},
			{
				ProtoV6ProviderFactories: testProviders,
				// Out of band, n2 is left armed: its bootloader would boot
				// 1.1 at the next restart. The plan shows it (staged_nodes
				// lacks n2) and the apply puts its boot order back without
				// installing or rebooting anything.
				PreConfig: func() {
					if _, err := l.Run(l.Node("n2"), "rauc status mark-active other"); err != nil {
						t.Fatal(err)
					}
				},
				Config: rollback,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					out, err := l.Run(l.Node("n2"), "rauc status --detailed --output-format=json")
					if err != nil {
						return err
					}
					if !strings.Contains(out, `"boot_primary":"rootfs.0"`) {
						return fmt.Errorf("n2 still armed after the apply: %s", out)
					}
					reboots := each(l, 2)
					reboots["n4"] = 4
					return expectLabEvents(l, each(l, 1), reboots)
				},
			},
		},
	})
}

// waitBooted waits until a lab node is up booted from slot.
func waitBooted(t *testing.T, n *lab.Node, slot string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := n.Booted(); s == slot {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not come up booted from %s", n.Name, slot)
}

// TestAccRAUC_BadBundlesFailThePlanAndChangeNoNode: corrupt, signed outside
// the keyring, for another compatible: each fails the plan naming the
// problem, and no node was installed or rebooted.
func TestAccRAUC_BadBundlesFailThePlanAndChangeNoNode(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	l := lab.New(t, lab.Options{Nodes: 2})
	stranger, err := l.NewSigner("stranger")
	if err != nil {
		t.Fatal(err)
	}
	build := func(spec lab.BundleSpec) string {
		p, err := l.BuildBundle(spec)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := build(lab.BundleSpec{Version: "1.1", Corrupt: true})
	foreign := build(lab.BundleSpec{Version: "1.1", Signer: stranger})
	other := build(lab.BundleSpec{Version: "1.1", Compatible: "other-board"})
	older := build(lab.BundleSpec{Version: "0.9"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: raucUpgradeConfig(l, corrupt, `"1.1"`), PlanOnly: true, ExpectError: regexp.MustCompile(`is\s+corrupt:\s+its\s+content\s+does\s+not\s+match\s+its\s+signature`)},
			{Config: raucUpgradeConfig(l, foreign, `"1.1"`), PlanOnly: true, ExpectError: regexp.MustCompile(`not\s+signed\s+by\s+a\s+key\s+of\s+the\s+cluster's\s+keyring`)},
			{Config: raucUpgradeConfig(l, other, `"1.1"`), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)compatible\s+"other-board".*"lab-appliance"`)},
			{Config: raucUpgradeConfig(l, older, `"0.9"`), PlanOnly: true, ExpectError: regexp.MustCompile(`not\s+newer`)},
		},
	})
	if err := expectLabEvents(l, each(l, 0), each(l, 0)); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if booted, _, status, err := readRaucStatus(l, n); err != nil || booted != "A" || status != "good" {
			t.Fatalf("%s changed: booted %s (%s), %v", n.Name, booted, status, err)
		}
	}
}

// TestAccRAUC_HealthCheckFailingOnTheThirdNodeRevertsItAndStops: n3's
// health check fails on 1.1: n3 ends on 1.0 (booted, good), n4 is never
// rebooted, and the error names the node and the step.
func TestAccRAUC_HealthCheckFailingOnTheThirdNodeRevertsItAndStops(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	l := lab.New(t, lab.Options{Nodes: 4})
	if err := l.Node("n3").SetFault("1.1", lab.FaultUnhealthy); err != nil {
		t.Fatal(err)
	}
	b, err := l.BuildBundle(lab.BundleSpec{Version: "1.1"})
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      raucUpgradeConfig(l, b, "appliance_software_image.next.version"),
				ExpectError: regexp.MustCompile(`(?s)node\s+n3,\s+step\s+health\s+check.*1\.1\s+is\s+not\s+healthy`),
			},
		},
	})
	booted, v, status, err := readRaucStatus(l, l.Node("n3"))
	if err != nil || booted != "A" || v != "" || status != "good" || l.Node("n3").SlotVersion("A") != "1.0" {
		t.Fatalf("n3: booted %s holding %q (%s), %v; want A with the factory 1.0, good", booted, v, status, err)
	}
	if r, _ := l.Node("n4").Count(lab.EventReboot); r != 0 {
		t.Fatalf("n4 was rebooted %d times, want never", r)
	}
	if err := expectPartnersNeverDownTogether(l); err != nil {
		t.Fatal(err)
	}
}

// TestAccRAUC_ChangedHostKeyFailsAndThePrivateKeyIsInNoLogOrState reads the
// lab with TF_LOG=trace, then changes the host key known for n1: the plan
// fails saying so; the private key appears in no log line and no state.
func TestAccRAUC_ChangedHostKeyFailsAndThePrivateKeyIsInNoLogOrState(t *testing.T) {
	acctest.PreCheck(t)
	traceLogs := acctest.StartTraceLogs(t)
	l := lab.New(t, lab.Options{Nodes: 2})
	read := raucProviderConfig(l) + `
data "appliance_cluster" "lab" {
  name = "lab"
}
`
	// n1's known_hosts line carries n2's key: n1 presents another.
	kh, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	f1, f2 := strings.Fields(lines[0]), strings.Fields(lines[1])
	changed := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(changed, []byte(f1[0]+" "+f2[1]+" "+f2[2]+"\n"+lines[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyLines := strings.Split(strings.TrimSpace(string(l.ClientKey)), "\n")
	secret := keyLines[1 : len(keyLines)-1] // the key's base64 body, line by line
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: read,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.appliance_cluster.lab", tfjsonpath.New("version"), knownvalue.StringExact("1.0")),
				},
				Check: func(s *terraform.State) error {
					for _, b := range secret {
						if strings.Contains(s.String(), b) {
							return fmt.Errorf("the private key is in the Terraform state")
						}
					}
					return nil
				},
			},
			{
				Config:      strings.Replace(read, l.KnownHosts, changed, 1),
				ExpectError: regexp.MustCompile(`(?s)host\s+key\s+of\s+node\s+n1.*changed`),
			},
		},
	})
	traceLogs.ExpectNoneOf(t, "a line of the private key", secret...)
}
