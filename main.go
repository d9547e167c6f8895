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
			os.Exit(simulator.RunCommand(os.Args[2:], os.Stdout, os.Stderr))
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
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/applianceops/appliance",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
