package rauc

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// Driver is a RAUC cluster reached over SSH. It implements driver.Driver.
type Driver struct {
	cfg   Config
	conns *conns

	mu        sync.Mutex
	images    map[string]driver.Image
	rebooting map[string]int // nodes an action of this driver is rebooting
	tasks     map[string]*task
	compat    string // read from the nodes when not configured
	taskSeq   int

	// leaseMu serializes taking, renewing, moving and releasing the
	// rollout lease; held is the lease this driver holds (lease.go).
	leaseMu sync.Mutex
	held    *heldLease
	leaving map[string]int // nodes an activation is about to reboot, under leaseMu
}

var _ driver.Driver = (*Driver)(nil)

// New checks the configuration and returns a driver. It connects to
// nothing yet.
func New(cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &driver.Error{Code: driver.CodeInvalidRequest, Message: err.Error()}
	}
	c := cfg.withDefaults()
	signer, err := ssh.ParsePrivateKey(c.PrivateKey)
	if err != nil {
		// The parser's message is not repeated: it could quote the key.
		return nil, &driver.Error{Code: driver.CodeInvalidRequest, Message: fmt.Sprintf("RAUC cluster %s: private_key is not an unencrypted PEM or OpenSSH private key", c.Name)}
	}
	keys, err := newHostKeys(c)
	if err != nil {
		return nil, err
	}
	return &Driver{
		cfg:       c,
		conns:     &conns{cfg: c, signer: signer, keys: keys, clients: map[string]*ssh.Client{}},
		images:    map[string]driver.Image{},
		rebooting: map[string]int{},
		tasks:     map[string]*task{},
		compat:    c.Compatible,
	}, nil
}

// Close drops the SSH connections.
func (d *Driver) Close() { d.conns.closeAll() }

// Kind names the driver.
func (d *Driver) Kind() string { return "RAUC over SSH" }

// Capabilities: A/B slots, nothing more.
func (d *Driver) Capabilities() driver.Capabilities {
	return driver.Capabilities{BundleFormat: "RAUC bundle (.raucb)"}
}

// Clusters returns the one cluster the driver manages.
func (d *Driver) Clusters(ctx context.Context) ([]appliance.Cluster, error) {
	c, err := d.Cluster(ctx, d.cfg.Name)
	if err != nil {
		return nil, err
	}
	return []appliance.Cluster{*c}, nil
}

// Cluster reads the cluster from every node's rauc status.
func (d *Driver) Cluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	if err := d.checkCluster(name); err != nil {
		return nil, err
	}
	c, _, err := d.snapshot(ctx)
	return c, err
}

func (d *Driver) checkCluster(name string) error {
	if name != d.cfg.Name {
		return &driver.Error{Code: driver.CodeNotFound, Message: fmt.Sprintf("no RAUC cluster %q is configured (this one is %q)", name, d.cfg.Name)}
	}
	return nil
}

func (d *Driver) node(name string) (NodeConfig, error) {
	for _, n := range d.cfg.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return NodeConfig{}, &driver.Error{Code: driver.CodeNotFound, Message: fmt.Sprintf("RAUC cluster %s has no node %q", d.cfg.Name, name)}
}

func (d *Driver) noteCompatible(c string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.compat == "" {
		d.compat = c
	}
}

func (d *Driver) knownCompatible() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.compat
}

// compatible returns the nodes' compatible string: configured, or read
// from the first node that answers.
func (d *Driver) compatible(ctx context.Context) (string, error) {
	if c := d.knownCompatible(); c != "" {
		return c, nil
	}
	var lastErr error
	for _, n := range d.cfg.Nodes {
		v := d.readNode(ctx, n, false)
		if v.err == nil {
			d.noteCompatible(v.status.Compatible)
			return v.status.Compatible, nil
		}
		if code := driver.CodeOf(v.err); code == driver.CodeHostKey || code == driver.CodeUnauthorized {
			return "", v.err
		}
		lastErr = v.err
	}
	return "", fmt.Errorf("the compatible string of RAUC cluster %s cannot be read (set compatible, or make a node reachable): %w", d.cfg.Name, lastErr)
}

func (d *Driver) setRebooting(node string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if on {
		d.rebooting[node]++
	} else if d.rebooting[node]--; d.rebooting[node] <= 0 {
		delete(d.rebooting, node)
	}
}

func (d *Driver) isRebooting(node string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rebooting[node] > 0
}
