// Package acctest is the acceptance-test harness that the provider's test
// packages share: when the tests run (TF_ACC), which CLI they drive
// (Terraform or OpenTofu), the provider served in-process to
// terraform-plugin-testing, the provider binary for tests that run it as
// its own process under a real CLI, and the plan checks that more than one
// package asserts. Each test package keeps what only it needs.
//
// It imports nothing of internal/provider: the provider package's own
// tests use it, so the provider under test is passed in.
package acctest

import (
	"os"
	"os/exec"
	"testing"
)

// PreCheck skips the test unless acceptance tests were asked for: they drive
// a real CLI (and some a real RAUC lab or PostgreSQL), so a plain `go test`
// of a package leaves them out; `make test` sets TF_ACC=1.
func PreCheck(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run with TF_ACC=1 (make test)")
	}
}

// TerraformCLI is the path of the CLI the acceptance tests drive:
// TF_ACC_TERRAFORM_PATH, as terraform-plugin-testing reads it (make test
// names Terraform in one pass and OpenTofu in the other), else terraform
// on PATH. A test that runs the CLI itself must run the same one as the
// harness, or one pass would test the other CLI twice.
func TerraformCLI(t testing.TB) string {
	t.Helper()
	path, err := terraformCLI()
	if err != nil {
		t.Fatalf("this test runs the terraform CLI (TF_ACC_TERRAFORM_PATH, or terraform on PATH): %v", err)
	}
	return path
}

func terraformCLI() (string, error) {
	name := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if name == "" {
		name = "terraform"
	}
	return exec.LookPath(name)
}
