package savedplanacc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
)

// TestCLI_Defect7_BundleReplacedAfterPlanOutIsAClearChecksumError: a
// bundle replaced between `terraform plan -out` and `terraform apply
// PLANFILE` fails the apply with an error naming the file and both sha256
// sums, instead of Terraform's "Provider produced inconsistent final plan
// ... bug in the provider"; nothing is uploaded or deleted and the state
// is what it was. A plan made after the edit plans the new file.
func TestCLI_Defect7_BundleReplacedAfterPlanOutIsAClearChecksumError(t *testing.T) {
	w := newWorkspace(t)
	bundlePath := filepath.Join(w.dir, "appliance.bundle")
	sumA := w.writeBundle(bundlePath, "first build")
	w.writeConfig(bundlePath)

	// A new image: plan it, replace the file, apply the saved plan.
	w.mustRun(0, "plan", "-out=tfplan")
	sumB := w.writeBundle(bundlePath, "second build")
	out, code := w.run("apply", "tfplan")
	w.expectChangedError(out, code, bundlePath, sumA, sumB)
	if images := w.images(); len(images) != 0 {
		t.Errorf("the cluster received images after the refused apply: %v", images)
	}
	if ids := w.stateImageIDs(); len(ids) != 0 {
		t.Errorf("the state holds images after the refused apply: %v", ids)
	}

	// A plan made after the edit is not blocked, and its saved plan applies.
	w.mustRun(0, "plan", "-out=tfplan")
	w.mustRun(0, "apply", "tfplan")
	before := w.stateImageIDs()
	if len(before) != 1 || len(w.images()) != 1 {
		t.Fatalf("after the apply of a fresh plan: state %v, cluster %v; want one image", before, w.images())
	}

	// A replacement: the plan replaces the image with the edited file, the
	// file changes again, and the saved plan's delete of the old image is
	// refused before it runs.
	w.writeBundle(bundlePath, "third build")
	out, code = w.run("plan", "-out=tfplan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "must be replaced") {
		t.Fatalf("plan of an edited bundle: exit %d, want 2 and a replacement:\n%s", code, out)
	}
	sumC := w.bundleSum(bundlePath)
	sumD := w.writeBundle(bundlePath, "fourth build")
	out, code = w.run("apply", "tfplan")
	w.expectChangedError(out, code, bundlePath, sumC, sumD)
	if after := w.stateImageIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("state images %v after the refused replacement, want %v", after, before)
	}
	if images := w.images(); len(images) != 1 || images[0] != before[0] {
		t.Errorf("cluster images %v after the refused replacement, want only %v", images, before)
	}
}

func (w *workspace) expectChangedError(out string, code int, file, planned, now string) {
	w.t.Helper()
	flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ", "╷", " ", "╵", " ").Replace(out)), " ")
	if code == 0 {
		w.t.Fatalf("apply of the saved plan succeeded after the bundle changed:\n%s", out)
	}
	if strings.Contains(flat, "inconsistent final plan") {
		w.t.Errorf("Terraform's inconsistent final plan instead of the provider's error:\n%s", out)
	}
	want := regexp.MustCompile(`Error: Image bundle changed since the plan .*` + regexp.QuoteMeta(file) + ` changed after the plan was made: the plan has sha256 ` +
		planned + `, but the file now has sha256 ` + now + `\. Nothing was uploaded or deleted\. Run terraform plan again`)
	if !want.MatchString(flat) {
		w.t.Errorf("apply output does not name the file and both sums (planned %s, now %s):\n%s", planned, now, out)
	}
}

// workspace is a Terraform working directory whose CLI starts the provider
// binary built from this tree, against a standalone simulator.
type workspace struct {
	t        *testing.T
	dir      string
	provider string
	tf       string
	env      []string
	api      *client.Client
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	acctest.PreCheck(t)
	dir := t.TempDir()
	cli := acctest.DevOverridesCLI(t, dir)
	endpoint, token := acctest.StartSimulator(t, cli.Provider, dir, 600)
	api, err := client.New(client.Config{Endpoint: endpoint, Token: token, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	env := cli.Env("APPLIANCE_ENDPOINT="+endpoint, "APPLIANCE_TOKEN="+token,
		// The runs' records (and the verified bundles) of this test only.
		bundle.CacheDirEnv+"="+filepath.Join(dir, "cache"))
	return &workspace{t: t, dir: dir, provider: cli.Provider, tf: cli.Terraform, env: env, api: api}
}

func (w *workspace) writeConfig(bundlePath string) {
	w.t.Helper()
	cfg := fmt.Sprintf(`terraform {
  required_providers {
    appliance = { source = "applianceops/appliance" }
  }
}

provider "appliance" {}

# Uploaded only: an image no node holds may be deleted by a replacement.
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
  stage       = false
}
`, bundlePath)
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(cfg), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// writeBundle replaces the bundle at path (a new file, renamed over the old
// one, as a download or a build does) and returns its sha256.
func (w *workspace) writeBundle(path, description string) string {
	w.t.Helper()
	tmp := path + ".new"
	if out, err := exec.Command(w.provider, "bundle", "--out", tmp, "--version", "1.1", "--supported-from", "1.0", "--description", description).CombinedOutput(); err != nil {
		w.t.Fatalf("building a bundle: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		w.t.Fatal(err)
	}
	return w.bundleSum(path)
}

func (w *workspace) bundleSum(path string) string {
	w.t.Helper()
	_, sum, _, err := bundle.VerifyFile(path)
	if err != nil {
		w.t.Fatal(err)
	}
	return sum
}

func (w *workspace) run(args ...string) (string, int) {
	w.t.Helper()
	args = append(args[:1:1], append([]string{"-no-color", "-input=false"}, args[1:]...)...)
	if args[0] == "apply" && !contains(args, "tfplan") {
		args = append(args, "-auto-approve")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.tf, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	return string(out), code
}

func (w *workspace) mustRun(want int, args ...string) string {
	w.t.Helper()
	out, code := w.run(args...)
	if code != want {
		w.t.Fatalf("terraform %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// images lists the IDs of the images on cluster demo.
func (w *workspace) images() []string {
	w.t.Helper()
	imgs, err := w.api.ListImages(context.Background(), "demo")
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	return ids
}

// stateImageIDs lists the image IDs in the state file.
func (w *workspace) stateImageIDs() []string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes struct {
					ID string `json:"id"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for _, r := range st.Resources {
		for _, in := range r.Instances {
			if r.Type == "appliance_software_image" {
				ids = append(ids, in.Attributes.ID)
			}
		}
	}
	return ids
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
