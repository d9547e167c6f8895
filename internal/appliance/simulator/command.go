package simulator

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// DefaultListen is where the standalone simulator listens unless told
// otherwise: `make sim` and the API description's servers name the same
// address.
const DefaultListen = "127.0.0.1:8787"

// RunCommand runs `terraform-provider-appliance simulator ...` (args are
// the arguments after "simulator"): it starts the simulator, prints the URL
// and the token once, and serves until SIGINT or SIGTERM. It returns the
// process exit code.
func RunCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	fs.StringVar(&opts.Listen, "listen", DefaultListen, "address to listen on")
	fs.StringVar(&opts.StatePath, "state", "appliance-simulator.json", "state file (shared safely with embedded simulators)")
	fs.StringVar(&opts.Topology, "topology", engine.DefaultPreset, "preset topology: "+strings.Join(engine.PresetNames(), ", "))
	fs.StringVar(&opts.TopologyFile, "topology-file", "", "JSON topology file (instead of --topology)")
	fs.Float64Var(&opts.TimeScale, "time-scale", 1, "simulated seconds per wall second")
	fs.StringVar(&opts.Token, "token", "", "bearer token clients must send (default: generated; also $APPLIANCE_SIMULATOR_TOKEN)")
	fs.BoolVar(&opts.GenerateTLS, "tls", false, "serve HTTPS with a self-signed certificate")
	fs.StringVar(&opts.TLSCertFile, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&opts.TLSKeyFile, "tls-key", "", "key of --tls-cert (PEM)")
	var keyFiles []string
	fs.Func("trusted-key", "require images signed by this ed25519 public key (PEM file); repeat for more", func(v string) error {
		keyFiles = append(keyFiles, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance simulator [--listen ADDR] [--state FILE] [--topology NAME | --topology-file FILE] [--time-scale X] [--token T] [--tls] [--trusted-key PUB]...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simulator: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "simulator: trusted key: %v\n", err)
			return 2
		}
		opts.TrustedKeys = append(opts.TrustedKeys, string(data))
	}
	if opts.Token == "" {
		opts.Token = os.Getenv("APPLIANCE_SIMULATOR_TOKEN")
	}
	if opts.Token == "" {
		opts.Token = engine.RandomID(20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "simulator: %v\n", err)
		return 1
	}
	topo := opts.Topology
	if opts.TopologyFile != "" {
		topo = opts.TopologyFile
	}
	// The token is shown once, here, to the operator who started the
	// simulator; it is never logged anywhere else.
	fmt.Fprintf(stdout, "appliance simulator serving %s (topology %s, state %s, time scale %g)\n", s.URL(), topo, opts.StatePath, opts.TimeScale)
	fmt.Fprintf(stdout, "export APPLIANCE_ENDPOINT=%s\n", s.URL())
	fmt.Fprintf(stdout, "export APPLIANCE_TOKEN=%s\n", s.Token())
	if pem := s.CACertPEM(); pem != nil {
		fmt.Fprintf(stdout, "CA certificate (trust it as ca_cert_pem):\n%s", pem)
	}
	fmt.Fprintf(stdout, "download site: %s/site/bundles/{version}.tar\n", s.URL())
	<-ctx.Done()
	fmt.Fprintln(stdout, "simulator: shutting down")
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "simulator: %v\n", err)
		return 1
	}
	return 0
}
