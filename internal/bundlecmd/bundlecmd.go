// Package bundlecmd is the `bundle` subcommand: it builds an image bundle from
// flags, so operators can rehearse a change window on the simulator with an
// image of the size and shape of the real one.
package bundlecmd

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

// Run parses args, writes the bundle and prints its manifest summary.
func Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "path of the bundle to write (required)")
	version := fs.String("version", "", "version the image installs, e.g. 1.1 or \"6.5 SP8\" (required)")
	from := fs.String("supported-from", "", "comma-separated running versions it may update from, e.g. 1.0,1.0.1 (required)")
	components := fs.String("components", "os", "comma-separated components, each name or name:size_bytes, e.g. os:1048576,storage:4096")
	irreversible := fs.String("irreversible", "", "comma-separated irreversible features (S9)")
	description := fs.String("description", "", "text shown as the alternate image's description")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance bundle --out FILE --version V --supported-from V[,V] [--components os:SIZE,...] [--irreversible F,...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || *version == "" || *from == "" {
		fs.Usage()
		return 2
	}
	spec := bundle.Spec{
		Version:              *version,
		SupportedFrom:        splitList(*from),
		IrreversibleFeatures: splitList(*irreversible),
		Description:          *description,
	}
	for _, c := range splitList(*components) {
		name, size, err := parseComponent(c)
		if err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 2
		}
		spec.Components = append(spec.Components, bundle.ComponentSpec{Name: name, Size: size})
	}
	m, err := bundle.BuildFile(*out, spec)
	if err != nil {
		fmt.Fprintln(stderr, "bundle:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: version %s, supported from %s, components %s\n",
		*out, m.Version, strings.Join(m.SupportedFrom, ", "), strings.Join(m.ComponentNames(), ", "))
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseComponent(s string) (string, int64, error) {
	name, sizeText, found := strings.Cut(s, ":")
	if !found {
		return name, 4096, nil
	}
	var size int64
	if _, err := fmt.Sscanf(sizeText, "%d", &size); err != nil || size < 0 {
		return "", 0, fmt.Errorf("component %q: size must be a whole number of bytes", s)
	}
	return name, size, nil
}
