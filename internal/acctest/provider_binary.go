package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ProviderBinaryEnv names a provider binary built from this tree, which the
// tests that run the provider as its own process install instead of linking
// their own: a link costs about 6 CPU-seconds, and each CLI pass of `make
// test` runs several such tests. The GNUmakefile sets it to the binary
// `make build` made just before (TEST_PROVIDER); unset, the binary is built.
const ProviderBinaryEnv = "APPLIANCE_ACC_PROVIDER_BINARY"

// providerBinaryName is the file name a CLI looks for in an install directory.
const providerBinaryName = "terraform-provider-appliance"

// The registry addresses the CLI configurations install the provider under:
// OpenTofu resolves applianceops/appliance against registry.opentofu.org,
// Terraform against registry.terraform.io, and one configuration serves both.
var providerAddresses = []string{"registry.terraform.io/applianceops/appliance", "registry.opentofu.org/applianceops/appliance"}

// CLI is the acceptance tests' CLI (TerraformCLI) set up to start the
// provider binary built from this tree as its own process, as an operator's
// CLI starts it, instead of the in-process provider of terraform-plugin-testing.
// Run the CLI with Env.
type CLI struct {
	// Terraform is the terraform or tofu executable.
	Terraform string
	// Provider is the provider binary the CLI starts.
	Provider string
	// ConfigFile is the CLI configuration (TF_CLI_CONFIG_FILE) that
	// installs Provider.
	ConfigFile string
}

// DevOverridesCLI installs the provider in dir/bin and writes
// dir/terraformrc with development overrides: the CLI runs the binary
// without `terraform init`.
func DevOverridesCLI(t testing.TB, dir string) *CLI {
	t.Helper()
	tf := TerraformCLI(t)
	bin := filepath.Join(dir, "bin")
	provider := filepath.Join(bin, providerBinaryName)
	if err := installProvider(provider); err != nil {
		t.Fatal(err)
	}
	var rc strings.Builder
	rc.WriteString("provider_installation {\n  dev_overrides {\n")
	for _, addr := range providerAddresses {
		fmt.Fprintf(&rc, "    %q = %q\n", addr, bin)
	}
	rc.WriteString("  }\n  direct {}\n}\n")
	return writeCLIConfig(t, tf, provider, filepath.Join(dir, "terraformrc"), rc.String())
}

// FilesystemMirrorCLI installs the provider in a filesystem mirror in
// dir/mirror (version 0.1.0) and writes dir/terraformrc installing from it
// only: for tests that need `terraform init` (a backend, modules), which
// development overrides do not support.
func FilesystemMirrorCLI(t testing.TB, dir string) *CLI {
	t.Helper()
	tf := TerraformCLI(t)
	mirror := filepath.Join(dir, "mirror")
	var provider string
	for _, addr := range providerAddresses {
		p := filepath.Join(mirror, addr, "0.1.0", runtime.GOOS+"_"+runtime.GOARCH, providerBinaryName+"_v0.1.0")
		if provider == "" {
			if err := installProvider(p); err != nil {
				t.Fatal(err)
			}
			provider = p
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(provider, p); err != nil {
			t.Fatal(err)
		}
	}
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q, %q]\n  }\n}\n",
		mirror, providerAddresses[0], providerAddresses[1])
	return writeCLIConfig(t, tf, provider, filepath.Join(dir, "terraformrc"), rc)
}

func writeCLIConfig(t testing.TB, tf, provider, path, rc string) *CLI {
	t.Helper()
	if err := os.WriteFile(path, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	return &CLI{Terraform: tf, Provider: provider, ConfigFile: path}
}

// Env is the environment to run the CLI in: this process's, without its TF_
// variables (the test harness's own, a developer's TF_CLI_CONFIG_FILE),
// with the CLI configuration, no prompts and no checkpoint calls, then extra.
func (c *CLI) Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+c.ConfigFile, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
	return append(env, extra...)
}

// InstallProvider puts the provider binary at path, for a test that starts
// it itself rather than through a CLI configuration of DevOverridesCLI or
// FilesystemMirrorCLI, and returns path.
func InstallProvider(t testing.TB, path string) string {
	t.Helper()
	if err := installProvider(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// installProvider puts the provider at path (making its directory): a link
// to the binary ProviderBinaryEnv names, else one built from this tree.
func installProvider(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if bin := os.Getenv(ProviderBinaryEnv); bin != "" {
		abs, err := filepath.Abs(bin)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return fmt.Errorf("%s=%s: %v", ProviderBinaryEnv, bin, err)
		}
		return os.Symlink(abs, path)
	}
	build := exec.Command("go", "build", "-o", path, "github.com/applianceops/terraform-provider-appliance")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	return nil
}
