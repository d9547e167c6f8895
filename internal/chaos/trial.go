package chaos

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// shared is what every trial uses: the bundle, the CLI configuration and
// the topology file.
type shared struct {
	provider, terraform string
	bundle              string
	cliConfig           string
	topology            string
}

// mainTF is the configuration under test: upload the image, stage it, roll
// the cluster to it, with the provider's defaults for everything else.
const mainTF = `terraform {
  required_providers {
    appliance = { source = "applianceops/appliance" }
  }
}

# endpoint and token come from APPLIANCE_ENDPOINT and APPLIANCE_TOKEN.
provider "appliance" {}

resource "appliance_software_image" "target" {
  cluster     = %[1]q
  source_file = %[2]q
}

resource "appliance_cluster_active_version" "cluster" {
  cluster  = %[1]q
  version  = appliance_software_image.target.version
  image_id = appliance_software_image.target.id
}
`

func prepare(ctx context.Context, o Options, dir string) (*shared, error) {
	provider, err := filepath.Abs(o.Provider)
	if err != nil {
		return nil, err
	}
	terraform, err := exec.LookPath(o.Terraform)
	if err != nil {
		return nil, fmt.Errorf("chaos needs the terraform CLI: %w", err)
	}
	// dev_overrides takes a directory holding terraform-provider-appliance.
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(provider, filepath.Join(binDir, "terraform-provider-appliance")); err != nil && !os.IsExist(err) {
		return nil, err
	}
	s := &shared{
		provider:  provider,
		terraform: terraform,
		bundle:    filepath.Join(dir, "appliance-"+toVersion+".bundle"),
		cliConfig: filepath.Join(dir, "terraformrc"),
		topology:  filepath.Join(dir, "eight-nodes.json"),
	}
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		"registry.terraform.io/applianceops/appliance", binDir, "registry.opentofu.org/applianceops/appliance", binDir)
	if err := os.WriteFile(s.cliConfig, []byte(rc), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.topology, eightNodes, 0o644); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, provider, "bundle", "--out", s.bundle, "--version", toVersion, "--supported-from", fromVersion).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("building the %s bundle: %v: %s", toVersion, err, out)
	}
	return s, nil
}

// newTrialSetup makes a trial's directory, starts its simulator on a fresh
// cluster and writes its Terraform configuration.
func newTrialSetup(o Options, sh *shared, dir string) (*simulator, *workspace, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(fmt.Sprintf(mainTF, clusterName, sh.bundle)), 0o644); err != nil {
		return nil, nil, err
	}
	sim, err := newSimulator(sh.provider, dir, sh.topology, o.TimeScale)
	if err != nil {
		return nil, nil, err
	}
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+sh.cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"APPLIANCE_ENDPOINT="+sim.endpoint,
		"APPLIANCE_TOKEN="+sim.token,
	)
	return sim, &workspace{terraform: sh.terraform, dir: dir, env: env}, nil
}

type baseline struct {
	took   time.Duration
	record Record
}

func runBaseline(ctx context.Context, o Options, sh *shared, dir string) (baseline, error) {
	sim, ws, err := newTrialSetup(o, sh, dir)
	if err != nil {
		return baseline{}, err
	}
	defer sim.stop()
	actx, cancel := context.WithTimeout(ctx, o.TrialBudget)
	defer cancel()
	start := time.Now()
	out, code, err := ws.runToEnd(actx, applyArgs...)
	took := time.Since(start)
	if err != nil || code != 0 {
		return baseline{}, fmt.Errorf("terraform apply (exit %d, %v): %s", code, err, firstErrors(out))
	}
	rec, err := readRecord(ctx, sim)
	if err != nil {
		return baseline{}, err
	}
	if !rec.AllAtTarget {
		return baseline{}, fmt.Errorf("apply succeeded but the cluster is not on %s: %s", toVersion, rec.describe())
	}
	return baseline{took: took, record: rec}, nil
}

func runTrial(ctx context.Context, o Options, sh *shared, dir string, n int, sig syscall.Signal, killSim bool, after time.Duration) (Trial, error) {
	t := Trial{N: n, Signal: sig, KillSimulator: killSim, KillAfter: after, Refusals: map[string]int{}}
	sim, ws, err := newTrialSetup(o, sh, dir)
	if err != nil {
		return t, err
	}
	defer sim.stop()
	tctx, cancel := context.WithTimeout(ctx, o.TrialBudget)
	defer cancel()

	start := time.Now()
	g, logPath, err := ws.start(applyArgs...)
	if err != nil {
		return t, err
	}
	select {
	case <-g.done:
		t.KillMissed = true
	case <-time.After(after):
		g.signal(sig)
		if killSim {
			// The appliance manager crashes at the same moment and comes
			// back on its own, as a supervised service would, while
			// terraform is still shutting down.
			sim.crash()
			if err := sim.start(); err != nil {
				g.signal(syscall.SIGKILL)
				<-g.done
				return t, fmt.Errorf("restarting the simulator: %w", err)
			}
		}
		// After SIGINT terraform stops gracefully: the provider is told to
		// stop and gets time to release its lease and save state.
		if !g.wait(90*time.Second) && sig == syscall.SIGINT {
			t.Errors = append(t.Errors, "SIGINT: terraform did not exit within 90s and was killed")
		}
	case <-ctx.Done():
		g.signal(syscall.SIGKILL)
		<-g.done
		return t, ctx.Err()
	}
	if data, err := os.ReadFile(logPath); err == nil && !t.KillMissed && sig == syscall.SIGINT {
		// What an operator who pressed Ctrl-C reads.
		if e := firstErrors(string(data)); e != "" {
			t.Errors = append(t.Errors, "interrupted apply: "+e)
		}
	}
	if t.KillMissed && g.err == nil {
		t.Converged, t.ConvergeTime = true, time.Since(start)
	}

	for !t.Converged && t.Reapplies < o.MaxReapplies && tctx.Err() == nil {
		t.Reapplies++
		out, code, err := ws.runToEnd(tctx, applyArgs...)
		if err == nil && code == 0 {
			took := time.Since(start)
			// Converged means Terraform agrees there is nothing left to do.
			pout, pcode, perr := ws.runToEnd(tctx, planArgs...)
			if perr == nil && pcode == 0 {
				t.Converged, t.ConvergeTime = true, took
				break
			}
			t.Refusals["plan_not_empty"]++
			t.noteError("plan after a successful apply: " + firstErrors(pout))
			continue
		}
		if err != nil {
			t.noteError(fmt.Sprintf("apply: %v", err))
			break
		}
		cause := classify(out)
		t.Refusals[cause]++
		t.noteError(cause + ": " + firstErrors(out))
		select {
		case <-time.After(o.ReapplyPause):
		case <-tctx.Done():
		}
	}
	if !t.Converged {
		t.ConvergeTime = time.Since(start)
	}
	rec, err := readRecord(ctx, sim)
	if err != nil {
		return t, err
	}
	t.Record = rec
	if t.Converged && !rec.AllAtTarget {
		t.Converged = false
		t.noteError("terraform reported success but " + rec.describe())
	}
	return t, nil
}

// noteError keeps distinct failure lines, a few of them.
func (t *Trial) noteError(s string) {
	for _, e := range t.Errors {
		if e == s {
			return
		}
	}
	if len(t.Errors) < 6 {
		t.Errors = append(t.Errors, s)
	}
}

// classify names why an apply failed, from what terraform printed.
func classify(out string) string {
	low := strings.ToLower(out)
	switch {
	case strings.Contains(low, "error acquiring the state lock"):
		return "state_lock"
	case strings.Contains(low, "is leased by") || strings.Contains(low, "lease_held"):
		return "lease_held"
	case strings.Contains(low, "rebooting"):
		return "node_rebooting"
	case strings.Contains(low, "connection refused"):
		return "simulator_unreachable"
	case strings.Contains(low, "context canceled"):
		return "context_canceled"
	}
	return "other"
}

// firstErrors is the "Error: ..." lines of terraform's output, each with
// the first paragraph of its detail (terraform wraps it over lines),
// joined.
func firstErrors(out string) string {
	var errs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	const (
		idle = iota
		header
		detail
	)
	at := idle
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimLeft(sc.Text(), "│╷╵ "))
		switch {
		case strings.HasPrefix(line, "Error: "):
			errs = append(errs, line)
			at = header
		case at == header && (line == "" || strings.HasPrefix(line, "with ") || strings.HasPrefix(line, "on ") || sourceLine.MatchString(line)):
		case at == header:
			errs[len(errs)-1] += ": " + line
			at = detail
		case at == detail && line != "":
			errs[len(errs)-1] += " " + line
		case at == detail:
			at = idle
		}
	}
	for i, e := range errs {
		if len(e) > 400 {
			errs[i] = e[:400] + "..."
		}
	}
	return strings.Join(errs, " / ")
}

// sourceLine is terraform's quote of a configuration line ("10: resource ...").
var sourceLine = regexp.MustCompile(`^[0-9]+: `)
