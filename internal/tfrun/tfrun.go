// Package tfrun tells which Terraform run a provider process serves, and
// remembers, per run, the checksum each bundle file had when the run
// planned it.
//
// Terraform plans a resource twice: at `terraform plan` and again at apply,
// in another provider process, where it compares the second plan with the
// first and stops with "Provider produced inconsistent final plan" when a
// value differs. A bundle replaced on disk in between changes the planned
// sha256, and the provider is blamed for it. Nothing in the protocol says
// which of the two plans a request is, so the provider asks the process
// that started it: Terraform (or OpenTofu) runs its plugins as its own
// children, and its command line names the run. `terraform plan -out F`
// and `terraform apply F` share the plan file F; the two plans of a
// `terraform apply` without a plan file share that terraform process. A
// later plan of the same run that finds a different checksum for the same
// file is then refused with both sums named, before anything is uploaded
// or deleted, while a new `terraform plan` after the file was edited is a
// new run and plans the new file.
//
// Where the parent cannot be read (other systems than Linux, a provider
// started by hand under TF_REATTACH_PROVIDERS, plans copied to another
// machine), no run is known and Terraform's own message stays.
package tfrun

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Run is one Terraform run as its provider processes see it.
type Run struct {
	// Key names the run in every provider process that serves it.
	Key string
	// AppliesSavedPlan: `terraform apply PLANFILE`. Every plan in this
	// process is Terraform's final plan of a plan made earlier.
	AppliesSavedPlan bool
	// MakesSavedPlan: `terraform plan -out PLANFILE`. What it plans is what
	// the later `terraform apply PLANFILE` must find.
	MakesSavedPlan bool
}

// Current is the run of this provider process, from its parent's command
// line; false when the parent is not a terraform or tofu whose run can be
// named.
func Current() (Run, bool) {
	p, ok := parentProcess()
	if !ok {
		return Run{}, false
	}
	return parse(p)
}

// process is what the run is read from: the parent's arguments (argv[0]
// first), working directory and an id that no later process shares (its
// pid and start time).
type process struct {
	args []string
	cwd  string
	id   string
}

// valueFlags are the flags of plan and apply that take their value as the
// next argument when it is not given with "=" (Go's flag package accepts
// both spellings).
var valueFlags = map[string]bool{
	"backup": true, "lock-timeout": true, "out": true, "parallelism": true, "replace": true,
	"state": true, "state-out": true, "target": true, "var": true, "var-file": true,
	"generate-config-out": true, "exclude": true,
}

// parse names the run of a terraform command line.
func parse(p process) (Run, bool) {
	if len(p.args) < 2 {
		return Run{}, false
	}
	name := filepath.Base(p.args[0])
	if !strings.HasPrefix(name, "terraform") && !strings.HasPrefix(name, "tofu") {
		return Run{}, false
	}
	args := p.args[1:]
	// Global options (-chdir=DIR, already applied to the working
	// directory) come before the subcommand.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	if len(args) == 0 {
		return Run{}, false
	}
	sub, rest := args[0], args[1:]
	var positional []string
	out := ""
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flag, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && valueFlags[flag] && i+1 < len(rest) {
			i++
			value, hasValue = rest[i], true
		}
		if flag == "out" && hasValue {
			out = value
		}
	}
	abs := func(f string) string {
		if filepath.IsAbs(f) {
			return filepath.Clean(f)
		}
		return filepath.Join(p.cwd, f)
	}
	switch {
	case sub == "plan" && out != "":
		return Run{Key: "plan file " + abs(out), MakesSavedPlan: true}, true
	case sub == "apply" && len(positional) > 0:
		return Run{Key: "plan file " + abs(positional[0]), AppliesSavedPlan: true}, true
	case sub == "apply" && p.id != "":
		return Run{Key: fmt.Sprintf("terraform process %s", p.id)}, true
	}
	return Run{}, false
}
