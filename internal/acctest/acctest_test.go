package acctest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeProvider is a file standing for a provider binary built by make build.
func fakeProvider(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "built-provider")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInstallProvider_LinksTheBinaryTheEnvironmentNamesInsteadOfBuildingOne(t *testing.T) {
	built := fakeProvider(t)
	t.Setenv(ProviderBinaryEnv, built)
	path := filepath.Join(t.TempDir(), "new", "dir", providerBinaryName)
	if err := installProvider(path); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(path); err != nil || target != built {
		t.Fatalf("%s links to %q (%v), want %q", path, target, err, built)
	}
}

func TestInstallProvider_ABinaryThatIsNotThereIsAnErrorNamingTheVariable(t *testing.T) {
	t.Setenv(ProviderBinaryEnv, filepath.Join(t.TempDir(), "missing"))
	err := installProvider(filepath.Join(t.TempDir(), providerBinaryName))
	if err == nil || !strings.Contains(err.Error(), ProviderBinaryEnv+"=") {
		t.Fatalf("installing a missing binary: %v, want an error naming %s", err, ProviderBinaryEnv)
	}
}

func TestDevOverridesCLI_OverridesBothRegistryAddressesAndRunsWithoutTheCallersTFVariables(t *testing.T) {
	built := fakeProvider(t)
	t.Setenv(ProviderBinaryEnv, built)
	t.Setenv("TF_ACC_TERRAFORM_PATH", "/bin/true") // any executable: the CLI is not run
	t.Setenv("TF_CLI_CONFIG_FILE", "/elsewhere/terraformrc")
	dir := t.TempDir()
	cli := DevOverridesCLI(t, dir)
	if cli.Terraform != "/bin/true" {
		t.Errorf("Terraform = %q, want TF_ACC_TERRAFORM_PATH's /bin/true", cli.Terraform)
	}
	if target, _ := os.Readlink(cli.Provider); target != built || filepath.Base(cli.Provider) != providerBinaryName {
		t.Errorf("Provider %s links to %q, want a %s linking to %s", cli.Provider, target, providerBinaryName, built)
	}
	rc, err := os.ReadFile(cli.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"registry.terraform.io/applianceops/appliance", "registry.opentofu.org/applianceops/appliance"} {
		if want := strings.Join([]string{`"` + addr + `"`, "=", `"` + filepath.Dir(cli.Provider) + `"`}, " "); !strings.Contains(string(rc), want) {
			t.Errorf("the CLI configuration does not override %s with %s:\n%s", addr, filepath.Dir(cli.Provider), rc)
		}
	}
	env := cli.Env("APPLIANCE_ENDPOINT=http://127.0.0.1:1")
	var tfVars []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "TF_") {
			tfVars = append(tfVars, kv)
		}
	}
	want := []string{"TF_CLI_CONFIG_FILE=" + cli.ConfigFile, "TF_IN_AUTOMATION=1", "TF_INPUT=0"}
	if !slices.Equal(tfVars, want) {
		t.Errorf("the CLI's TF_ variables are %q, want only %q", tfVars, want)
	}
	if env[len(env)-1] != "APPLIANCE_ENDPOINT=http://127.0.0.1:1" {
		t.Errorf("the extra variable is not last: %q", env[len(env)-1])
	}
}

func TestFilesystemMirrorCLI_MirrorsOneBinaryUnderBothRegistryAddresses(t *testing.T) {
	built := fakeProvider(t)
	t.Setenv(ProviderBinaryEnv, built)
	t.Setenv("TF_ACC_TERRAFORM_PATH", "/bin/true")
	dir := t.TempDir()
	cli := FilesystemMirrorCLI(t, dir)
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "mirror", host, "applianceops", "appliance", "0.1.0", "*", providerBinaryName+"_v0.1.0"))
		if len(matches) != 1 {
			t.Fatalf("%s: mirror holds %v, want one provider binary", host, matches)
		}
		if resolved, err := filepath.EvalSymlinks(matches[0]); err != nil || resolved != built {
			t.Errorf("%s resolves to %q (%v), want %s", matches[0], resolved, err, built)
		}
	}
	rc, err := os.ReadFile(cli.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rc), "filesystem_mirror") || strings.Contains(string(rc), "direct") {
		t.Errorf("the CLI configuration does not install from the mirror only:\n%s", rc)
	}
}
