// Package rauc drives appliances that update with RAUC (A/B slots,
// https://rauc.io) over SSH, the way an operator does by hand: it runs RAUC's
// own command line on each node (`rauc status --detailed
// --output-format=json`, `rauc install`, `rauc status
// mark-active|mark-good|mark-bad`) and copies bundles with SFTP. It
// implements driver.Driver.
//
// The model maps one to one: a node's active partition is its booted slot,
// the alternate is the other slot of the same class; staging is `rauc
// install` followed by putting the boot order back (`rauc status
// mark-active booted`), because RAUC 1.8 installs and makes the new slot
// primary in one step; activation is `mark-active other`, the reboot
// command, waiting for SSH and for the new slot to be booted, the health
// command and `mark-good`. A node that is not healthy in time is marked bad
// and rebooted into the old slot when reachable; otherwise its bootloader
// falls back by itself, since the new slot is never marked good.
//
// Bundles are verified at plan time by RAUC itself, run where Terraform
// runs (`rauc info --keyring=... --output-format=json`): the same code and
// keyring check the node applies again at install. That needs the rauc
// command locally (Debian/Ubuntu package rauc); without it InspectBundle
// fails saying so, rather than trusting a bundle no one verified.
//
// What RAUC does not have, the driver does not pretend: no resources on
// shared storage, no licences, no supercluster, no downloads by URL, no
// master/standby promotion, no cluster-wide finalize.
package rauc

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Config describes one RAUC cluster.
type Config struct {
	// Name is the cluster's name in Terraform.
	Name  string
	Nodes []NodeConfig
	// User is the SSH user (default root).
	User string
	// PrivateKey is the PEM private key (OpenSSH or PKCS#8/PKCS#1). Never
	// logged, never in an error.
	PrivateKey []byte
	// KnownHosts is known_hosts content (one or more lines), and
	// KnownHostsFile a known_hosts file; nodes may pin HostKey instead. A
	// host key found in none of them is refused.
	KnownHosts     string
	KnownHostsFile string
	// Keyring is the PEM keyring bundles must verify against (the nodes'
	// RAUC keyring), and KeyringFile its path; used at plan time.
	Keyring     string
	KeyringFile string
	// Compatible is the RAUC compatible string of the nodes; empty: read
	// from the nodes.
	Compatible string
	// RebootCommand reboots a node (default "systemctl reboot").
	RebootCommand string
	// HealthCommand, when set, decides whether a node is healthy (exit 0).
	// Without it a node is healthy when it answers and its booted slot is
	// marked good or was just booted by an activation.
	HealthCommand string
	// VersionCommand prints the running version when the booted slot was
	// not installed by RAUC (default: VERSION_ID of /etc/os-release).
	VersionCommand string
	// WorkDir is where the driver keeps bundles, the lease and its notes on
	// each node (default /var/lib/appliance-provider); a node may override it.
	WorkDir string
	// RaucCommand is the local rauc used to verify bundles (default "rauc"
	// on PATH).
	RaucCommand string

	// Bounds of the waits; every wait of the driver ends at one of them.
	// Zero takes the default.
	ConnectTimeout time.Duration // one SSH connection: dial, handshake, opening a session or SFTP (default 15s)
	CommandTimeout time.Duration // one command on a node (default 2m)
	InstallTimeout time.Duration // rauc info of a bundle locally; copying it to a node; installing it there (default 30m)
	BootTimeout    time.Duration // a whole reboot, until SSH answers on the new slot (default 10m)
	HealthTimeout  time.Duration // until the health command passes after boot (default 5m)
	PollInterval   time.Duration // longest pause between attempts while waiting (default 2s)
}

// NodeConfig is one node.
type NodeConfig struct {
	Name string
	// Address is host or host:port (port 22 by default).
	Address string
	Role    appliance.Role
	// HAPartner names the node's HA partner: the two are never down together.
	HAPartner string
	// HostKey pins the node's host key ("ssh-ed25519 AAAA..."), instead of
	// or in addition to known_hosts.
	HostKey string
	// WorkDir overrides Config.WorkDir for this node.
	WorkDir string
}

// DefaultVersionCommand reads the running version from os-release.
const DefaultVersionCommand = `. /etc/os-release && echo "$VERSION_ID"`

// DefaultRebootCommand reboots a systemd system.
const DefaultRebootCommand = "systemctl reboot"

// DefaultWorkDir is where the driver keeps its files on a node.
const DefaultWorkDir = "/var/lib/appliance-provider"

func (c *Config) withDefaults() Config {
	out := *c
	if out.User == "" {
		out.User = "root"
	}
	if out.RebootCommand == "" {
		out.RebootCommand = DefaultRebootCommand
	}
	if out.VersionCommand == "" {
		out.VersionCommand = DefaultVersionCommand
	}
	if out.WorkDir == "" {
		out.WorkDir = DefaultWorkDir
	}
	if out.RaucCommand == "" {
		out.RaucCommand = "rauc"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&out.ConnectTimeout, 15*time.Second)
	def(&out.CommandTimeout, 2*time.Minute)
	def(&out.InstallTimeout, 30*time.Minute)
	def(&out.BootTimeout, 10*time.Minute)
	def(&out.HealthTimeout, 5*time.Minute)
	def(&out.PollInterval, 2*time.Second)
	out.Nodes = append([]NodeConfig(nil), c.Nodes...)
	for i := range out.Nodes {
		n := &out.Nodes[i]
		if n.Role == "" {
			n.Role = appliance.RoleMember
		}
		if n.WorkDir == "" {
			n.WorkDir = out.WorkDir
		}
		if _, _, err := net.SplitHostPort(n.Address); err != nil {
			n.Address = net.JoinHostPort(n.Address, "22")
		}
	}
	return out
}

// Validate checks the configuration and names the first problem in words
// an operator can act on. It never repeats the private key.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("a RAUC cluster needs a name")
	}
	if len(c.Nodes) == 0 {
		return fmt.Errorf("RAUC cluster %s has no nodes", c.Name)
	}
	if len(c.PrivateKey) == 0 {
		return fmt.Errorf("RAUC cluster %s: private_key is empty; the provider logs in to each node with an SSH key", c.Name)
	}
	if c.KnownHosts == "" && c.KnownHostsFile == "" {
		for _, n := range c.Nodes {
			if n.HostKey == "" {
				return fmt.Errorf("RAUC cluster %s: node %s has no host key to check: set known_hosts, known_hosts_file or the node's host_key (host keys are never accepted unseen)", c.Name, n.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Name == "" || n.Address == "" {
			return fmt.Errorf("RAUC cluster %s: every node needs a name and an address", c.Name)
		}
		if seen[n.Name] {
			return fmt.Errorf("RAUC cluster %s: node %s appears twice", c.Name, n.Name)
		}
		seen[n.Name] = true
		if n.Role != "" {
			known := false
			for _, r := range appliance.ValidRoles {
				known = known || r == n.Role
			}
			if !known {
				return fmt.Errorf("RAUC cluster %s: node %s has unknown role %q", c.Name, n.Name, n.Role)
			}
		}
	}
	for _, n := range c.Nodes {
		if n.HAPartner == "" {
			continue
		}
		if n.HAPartner == n.Name || !seen[n.HAPartner] {
			return fmt.Errorf("RAUC cluster %s: node %s names HA partner %q, which is not another node of the cluster", c.Name, n.Name, n.HAPartner)
		}
		for _, m := range c.Nodes {
			if m.Name == n.HAPartner && m.HAPartner != "" && m.HAPartner != n.Name {
				return fmt.Errorf("RAUC cluster %s: %s names %s as HA partner, but %s names %s", c.Name, n.Name, m.Name, m.Name, m.HAPartner)
			}
		}
	}
	if c.Keyring == "" && c.KeyringFile == "" {
		return fmt.Errorf("RAUC cluster %s: set keyring or keyring_file (the PEM certificates bundles must be signed with), so that bundles are verified before anything is copied", c.Name)
	}
	return nil
}

// haGroups pairs partners into HA groups named "a+b".
func haGroups(nodes []NodeConfig) ([]appliance.HAGroup, map[string]string) {
	var groups []appliance.HAGroup
	member := map[string]string{}
	for _, n := range nodes {
		if n.HAPartner == "" || member[n.Name] != "" {
			continue
		}
		a, b := n.Name, n.HAPartner
		name := a + "+" + b
		if strings.Compare(a, b) > 0 {
			name = b + "+" + a
		}
		groups = append(groups, appliance.HAGroup{Name: name, Members: []string{a, b}, MinAvailable: 1})
		member[a], member[b] = name, name
	}
	return groups, member
}
