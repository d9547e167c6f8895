package lab

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Description is what `rauc-lab` writes to lab.json in the lab directory,
// for scripts and examples that drive the lab.
type Description struct {
	Compatible    string            `json:"compatible"`
	User          string            `json:"user"`
	ClientKeyPath string            `json:"private_key_path"`
	KnownHosts    string            `json:"known_hosts_path"`
	Keyring       string            `json:"keyring_path"`
	SignerCert    string            `json:"signer_cert_path"`
	SignerKey     string            `json:"signer_key_path"`
	Nodes         []NodeDescription `json:"nodes"`
	Bundles       map[string]string `json:"bundles"`
}

// NodeDescription is one node in lab.json.
type NodeDescription struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Dir     string `json:"dir"`
	WorkDir string `json:"work_dir"`
}

// Describe returns the lab's description.
func (l *Lab) Describe() Description {
	d := Description{Compatible: l.opts.Compatible, User: l.User, ClientKeyPath: l.ClientKeyPath, KnownHosts: l.KnownHosts,
		Keyring: l.Keyring, SignerCert: l.Signer.CertPath, SignerKey: l.Signer.KeyPath, Bundles: map[string]string{}}
	for _, n := range l.Nodes {
		d.Nodes = append(d.Nodes, NodeDescription{Name: n.Name, Address: n.Addr, Dir: n.Dir, WorkDir: n.WorkDir})
	}
	return d
}

// WriteDescription builds a signed bundle of each version and writes the
// lab's description, with those bundles, to lab.json in the lab directory;
// it returns that file's path (examples/rauc reads it).
func (l *Lab) WriteDescription(bundleVersions ...string) (string, error) {
	d := l.Describe()
	for _, v := range bundleVersions {
		p, err := l.BuildBundle(BundleSpec{Version: v})
		if err != nil {
			return "", err
		}
		d.Bundles[v] = p
	}
	desc, _ := json.MarshalIndent(d, "", "  ")
	path := filepath.Join(l.Dir, "lab.json")
	if err := os.WriteFile(path, append(desc, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// RunCommand is `terraform-provider-appliance rauc-lab`: it starts a lab in
// the foreground, says how to reach it and stops it on Ctrl-C.
func RunCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rauc-lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 4, "how many nodes")
	dir := fs.String("dir", "", "lab directory (default: a new temporary directory, removed on exit); keep it short")
	bundles := fs.String("bundles", "1.1", "comma-separated versions to build signed bundles of")
	compatible := fs.String("compatible", "lab-appliance", "the nodes' RAUC compatible string")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		abs, err := filepath.Abs(*dir)
		if err == nil {
			*dir = abs
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	l, err := Start(startCtx, Options{Nodes: *nodes, Dir: *dir, Compatible: *compatible, Log: stderr})
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer l.Close()
	var versions []string
	for _, v := range strings.Split(*bundles, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	descPath, err := l.WriteDescription(versions...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	d := l.Describe()
	b, _ := os.ReadFile(descPath)
	_ = json.Unmarshal(b, &d)
	fmt.Fprintf(stdout, "RAUC lab: %d nodes (compatible %q), all booted from slot A with version 1.0\n", len(l.Nodes), d.Compatible)
	for _, n := range l.Nodes {
		fmt.Fprintf(stdout, "  %s  ssh -i %s -o UserKnownHostsFile=%s -p %d root@127.0.0.1\n", n.Name, l.ClientKeyPath, l.KnownHosts, n.Port)
	}
	fmt.Fprintf(stdout, "keyring: %s\n", l.Keyring)
	for _, v := range sortedKeys(d.Bundles) {
		fmt.Fprintf(stdout, "bundle %s: %s\n", v, d.Bundles[v])
	}
	fmt.Fprintf(stdout, "sign more: rauc bundle --cert=%s --key=%s DIR out.raucb\n", l.Signer.CertPath, l.Signer.KeyPath)
	fmt.Fprintf(stdout, "on a node: rauc status --detailed --output-format=json; version: %s; health: %s; reboot: %s\n", VersionCommand, HealthCommand, RebootCommand)
	fmt.Fprintf(stdout, "record of each node (installs, reboots, boots): %s/<node>/record.jsonl\n", l.Dir)
	fmt.Fprintf(stdout, "everything above as JSON: %s\n", descPath)
	fmt.Fprintln(stdout, "press Ctrl-C to stop the lab")
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping the lab")
	return 0
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
