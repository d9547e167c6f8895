package rauc

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// labConfig is a driver configuration for a lab: n1 primary, pairs n1/n2
// and n3/n4 (as far as the lab has nodes).
func labConfig(t *testing.T, l *lab.Lab) Config {
	t.Helper()
	kh, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Name: "lab", User: l.User, PrivateKey: l.ClientKey, KnownHosts: string(kh), KeyringFile: l.Keyring,
		RebootCommand: lab.RebootCommand, HealthCommand: lab.HealthCommand, VersionCommand: lab.VersionCommand,
		BootTimeout: 30 * time.Second, HealthTimeout: 2 * time.Second, PollInterval: 100 * time.Millisecond, CommandTimeout: 30 * time.Second,
	}
	for i, n := range l.Nodes {
		role := appliance.RoleSecondary
		if i == 0 {
			role = appliance.RolePrimary
		}
		nc := NodeConfig{Name: n.Name, Address: n.Addr, Role: role, WorkDir: n.WorkDir}
		if i%2 == 0 && i+1 < len(l.Nodes) {
			nc.HAPartner = l.Nodes[i+1].Name
		} else if i%2 == 1 {
			nc.HAPartner = l.Nodes[i-1].Name
		}
		cfg.Nodes = append(cfg.Nodes, nc)
	}
	return cfg
}

func newDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func bundle(t *testing.T, l *lab.Lab, spec lab.BundleSpec) string {
	t.Helper()
	p, err := l.BuildBundle(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func snapshot(t *testing.T, d *Driver) *appliance.Cluster {
	t.Helper()
	c, err := d.Cluster(ctxT(t), "lab")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runAction(t *testing.T, d *Driver, a driver.Action) error {
	t.Helper()
	task, err := d.Start(ctxT(t), "lab", a)
	if err != nil {
		return err
	}
	return task.Wait(ctxT(t))
}

func count(t *testing.T, n *lab.Node, event string) int {
	t.Helper()
	c, err := n.Count(event)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// raucStatusOf reads the node's own rauc status over the lab's SSH.
func raucStatusOf(t *testing.T, l *lab.Lab, n *lab.Node) (booted, primary string, slots map[string]raucSlot) {
	t.Helper()
	out, err := l.Run(n, "rauc status --detailed --output-format=json")
	if err != nil {
		t.Fatal(err)
	}
	var s raucStatus
	if err := jsonUnmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	slots = map[string]raucSlot{}
	for _, m := range s.Slots {
		for name, sl := range m {
			sl.Name = name
			slots[sl.Bootname] = sl
		}
	}
	primary = strings.TrimPrefix(s.BootPrimary, "rootfs.")
	switch primary {
	case "0":
		primary = "A"
	case "1":
		primary = "B"
	}
	return s.Booted, primary, slots
}

func marshalKey(n *lab.Node) []byte { return ssh.MarshalAuthorizedKey(n.HostKey) }

func testKey(t *testing.T) []byte {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(b)
}

func testHostKey(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ssh.NewPublicKey(pub)
	return string(ssh.MarshalAuthorizedKey(k))
}
