// Command terraform-provider-appliance serves the Terraform provider. With the
// `simulator` subcommand it runs the bundled appliance simulator standalone;
// with `bundle` it builds an image bundle for tests, demos and rehearsals;
// with `rauc-lab` it runs a lab of RAUC nodes reached over SSH (see
// internal/appliance/driver/rauc/lab).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/bundlecmd"
	"github.com/applianceops/terraform-provider-appliance/internal/provider"
)

// version and commit are set by the linker: by goreleaser at release time
// (-X main.version={{.Version}} -X main.commit={{.Commit}}) and by `make
// build` from git describe. A plain `go build` leaves them as they are here.
var (
	version = "dev"
	commit  = "none"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "simulator":
			stopProfile := profileCPU()
			code := simulator.RunCommand(os.Args[2:], os.Stdout, os.Stderr)
			stopProfile()
			os.Exit(code)
		case "bundle":
			os.Exit(bundlecmd.Run(os.Args[2:], os.Stdout, os.Stderr))
		case "rauc-lab":
			os.Exit(lab.RunCommand(os.Args[2:], os.Stdout, os.Stderr))
		case "version", "--version":
			fmt.Printf("%s (commit %s)\n", version, commit)
			return
		}
	}

	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	provider.QuietUnrequestedLogs()
	lessFrequentGC(os.LookupEnv)
	stopProfile := profileCPU()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/applianceops/appliance",
		Debug:   debug,
	})
	stopProfile()
	if err != nil {
		log.Fatal(err)
	}
}

// lessFrequentGC lets the heap grow to five times what is live before the
// garbage collector runs (GOGC=400) unless GOGC is set: the provider's live
// heap is a few MB, and at the default a 100-cluster plan spent a fifth of
// the provider's CPU collecting the framework's short-lived values. The
// soft limit keeps a large heap from growing fivefold.
func lessFrequentGC(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(400)
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(256 << 20)
	}
}

// profileCPUEnv names a directory into which every provider process, and a
// standalone simulator, writes a CPU profile of its life (cpu-<pid>.pprof),
// for `go tool pprof`: the way to see what a slow `terraform plan` spends
// in the provider, or an upload in the simulator. Unset: none.
const profileCPUEnv = "APPLIANCE_CPU_PROFILE_DIR"

// profileCPU starts the profile when asked and returns what stops it.
// Terraform stops a provider through the plugin protocol, so Serve returns
// and the deferred stop runs.
func profileCPU() func() {
	dir := os.Getenv(profileCPUEnv)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
	if err != nil {
		log.Printf("%s: %v", profileCPUEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("%s: %v", profileCPUEnv, err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
