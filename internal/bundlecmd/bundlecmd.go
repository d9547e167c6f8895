// Package bundlecmd is the `bundle` subcommand: it builds an image bundle from
// flags, so operators can rehearse a change window on the simulator with an
// image of the size and shape of the real one.
package bundlecmd

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

// Run parses args, writes the bundle and prints its manifest summary.
// `bundle sign`, `bundle verify` and `bundle keygen` sign a bundle with a
// detached ed25519 signature, check one, and make a key pair.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "sign":
			return runSign(args[1:], stdout, stderr)
		case "verify":
			return runVerify(args[1:], stdout, stderr)
		case "keygen":
			return runKeygen(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "path of the bundle to write (required)")
	version := fs.String("version", "", "version the image installs, e.g. 1.1 or \"6.5 SP8\" (required)")
	from := fs.String("supported-from", "", "comma-separated running versions it may update from, e.g. 1.0,1.0.1 (required)")
	components := fs.String("components", "os", "comma-separated components, each name or name:size_bytes, e.g. os:1048576,storage:4096")
	irreversible := fs.String("irreversible", "", "comma-separated irreversible features (S9)")
	description := fs.String("description", "", "text shown as the alternate image's description")
	signKey := fs.String("sign-key", "", "ed25519 private key file (PEM); writes the detached signature OUT.sig")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance bundle --out FILE --version V --supported-from V[,V] [--components os:SIZE,...] [--irreversible F,...] [--sign-key KEY]")
		fmt.Fprintln(stderr, "       terraform-provider-appliance bundle sign --key KEY BUNDLE")
		fmt.Fprintln(stderr, "       terraform-provider-appliance bundle verify [--trusted-key PUB]... BUNDLE")
		fmt.Fprintln(stderr, "       terraform-provider-appliance bundle keygen --out PREFIX   (writes PREFIX.key and PREFIX.pub)")
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
	var key ed25519.PrivateKey
	if *signKey != "" {
		var err error
		if key, err = readPrivateKey(*signKey); err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 2
		}
	}
	m, err := bundle.BuildFile(*out, spec)
	if err != nil {
		fmt.Fprintln(stderr, "bundle:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: version %s, supported from %s, components %s\n",
		*out, m.Version, strings.Join(m.SupportedFrom, ", "), strings.Join(m.ComponentNames(), ", "))
	if key != nil {
		sig, err := bundle.SignFile(*out, key)
		if err != nil {
			fmt.Fprintln(stderr, "bundle:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s%s: signed by key %s\n", *out, bundle.SignatureSuffix, sig.KeyID)
	}
	return 0
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := bundle.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

func runSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "ed25519 private key file, PEM (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *keyFile == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance bundle sign --key KEY BUNDLE")
		return 2
	}
	key, err := readPrivateKey(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "bundle sign:", err)
		return 2
	}
	sig, err := bundle.SignFile(fs.Arg(0), key)
	if err != nil {
		fmt.Fprintln(stderr, "bundle sign:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s%s: sha256 %s signed by key %s\n", fs.Arg(0), bundle.SignatureSuffix, sig.SHA256, sig.KeyID)
	return 0
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keyFiles listFlag
	fs.Var(&keyFiles, "trusted-key", "ed25519 public key file, PEM; repeat for more (none: the signature is not checked)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance bundle verify [--trusted-key PUB]... BUNDLE")
		return 2
	}
	var trusted []ed25519.PublicKey
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err == nil {
			var k ed25519.PublicKey
			if k, err = bundle.ParsePublicKey(string(data)); err == nil {
				trusted = append(trusted, k)
				continue
			}
		}
		fmt.Fprintf(stderr, "bundle verify: trusted key %s: %v\n", f, err)
		return 2
	}
	path := fs.Arg(0)
	m, sum, size, err := bundle.VerifyFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "bundle verify:", err)
		return 1
	}
	sig, err := bundle.ReadSignatureFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "bundle verify:", err)
		return 1
	}
	signer, err := bundle.CheckSignature(sig, sum, size, trusted)
	if err != nil {
		fmt.Fprintln(stderr, "bundle verify:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: version %s, %d bytes, sha256 %s", path, m.Version, size, sum)
	if signer != "" {
		fmt.Fprintf(stdout, ", signed by trusted key %s", signer)
	}
	fmt.Fprintln(stdout)
	return 0
}

func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("out", "", "write PREFIX.key (private, mode 0600) and PREFIX.pub (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *prefix == "" {
		fmt.Fprintln(stderr, "usage: terraform-provider-appliance bundle keygen --out PREFIX")
		return 2
	}
	key, err := bundle.GenerateKey()
	if err == nil {
		pubKey := bundle.PublicKeyOf(key)
		var priv, pub []byte
		if priv, err = bundle.EncodePrivateKey(key); err == nil {
			if pub, err = bundle.EncodePublicKey(pubKey); err == nil {
				// O_EXCL: never overwrite a key someone already signs with.
				if err = writeNew(*prefix+".key", priv, 0o600); err == nil {
					err = writeNew(*prefix+".pub", pub, 0o644)
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bundle keygen:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s.key (keep it secret) and %s.pub (key %s): put the .pub content in the provider's trusted_keys\n",
		*prefix, *prefix, bundle.KeyID(bundle.PublicKeyOf(key)))
	return 0
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
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
