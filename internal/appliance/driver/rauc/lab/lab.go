package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options shape a lab. Zero values take the defaults.
type Options struct {
	// Nodes is how many nodes to start (default 4), named n1, n2, ...
	Nodes int
	// Compatible is the nodes' RAUC compatible string (default "lab-appliance").
	Compatible string
	// FactoryVersion is the version slot A holds at the start (default "1.0").
	FactoryVersion string
	// BootAttempts is how often the bootloader tries a slot not marked good
	// before it falls back (default 3).
	BootAttempts int
	// RebootDelay is how long a node stays down in a reboot (default 300ms).
	RebootDelay time.Duration
	// Watchdog is how long a hung node stays hung before its watchdog resets
	// it (default 2s).
	Watchdog time.Duration
	// SlotSize is the size of each slot file (default 4 MiB).
	SlotSize int64
	// Dir is where the lab lives; default a new temporary directory, removed
	// by Close. Keep it short: D-Bus socket paths are limited to 108 bytes.
	Dir string
	// Log receives messages about nodes that fail to boot (default stderr).
	Log io.Writer
}

func (o *Options) defaults() {
	if o.Nodes <= 0 {
		o.Nodes = 4
	}
	if o.Compatible == "" {
		o.Compatible = "lab-appliance"
	}
	if o.FactoryVersion == "" {
		o.FactoryVersion = "1.0"
	}
	if o.BootAttempts <= 0 {
		o.BootAttempts = 3
	}
	if o.RebootDelay <= 0 {
		o.RebootDelay = 300 * time.Millisecond
	}
	if o.Watchdog <= 0 {
		o.Watchdog = 2 * time.Second
	}
	if o.SlotSize <= 0 {
		o.SlotSize = 4 << 20
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
}

// Lab is a running set of nodes.
type Lab struct {
	Dir   string
	Nodes []*Node
	// User is the SSH user of every node.
	User string
	// Signer signs bundles that the nodes' keyring accepts.
	Signer *Signer
	// Keyring is the PEM file of the nodes' keyring (the Signer's certificate).
	Keyring string
	// ClientKey is the PEM (OpenSSH) private key authorized on every node;
	// ClientKeyPath holds it on disk.
	ClientKey     []byte
	ClientKeyPath string
	// KnownHosts is a known_hosts file with every node's host key.
	KnownHosts string

	opts      Options
	removeDir bool
	mu        sync.Mutex
	bundles   int
	clients   map[string]*ssh.Client // Run's connections, by node
	closeOnce sync.Once
}

// Requirements reports what is missing to run a lab on this machine, or nil.
func Requirements() error {
	if os.Geteuid() != 0 {
		return errors.New("the RAUC lab runs sshd and rauc service as root: run as root")
	}
	var missing []string
	for _, p := range []string{"rauc", "dbus-daemon", "/usr/sbin/sshd", "/usr/lib/openssh/sftp-server", "mksquashfs", "unshare", "mount"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the RAUC lab needs %s: run scripts/ensure-rauc.sh (installs rauc, dbus, openssh-server, squashfs-tools, util-linux, mount)", strings.Join(missing, ", "))
	}
	return nil
}

// Start starts a lab: all nodes in parallel, each booted from slot A with
// the factory version. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Lab, err error) {
	opts.defaults()
	if err := Requirements(); err != nil {
		return nil, err
	}
	l := &Lab{Dir: opts.Dir, User: "root", opts: opts}
	if l.Dir == "" {
		if l.Dir, err = os.MkdirTemp("", "rauc-lab-"); err != nil {
			return nil, err
		}
		l.removeDir = true
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	// sshd's privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	if l.Signer, err = newSigner(l.Dir, "lab-keyring"); err != nil {
		return nil, err
	}
	l.Keyring = l.Signer.CertPath
	client, err := newSSHKey("rauc-lab-client")
	if err != nil {
		return nil, err
	}
	l.ClientKey = client.private
	l.ClientKeyPath = filepath.Join(l.Dir, "client_ed25519")
	if err := writeFile(l.ClientKeyPath, client.private, 0o600); err != nil {
		return nil, err
	}
	for i := 1; i <= opts.Nodes; i++ {
		n := &Node{Name: fmt.Sprintf("n%d", i), Dir: filepath.Join(l.Dir, fmt.Sprintf("n%d", i)), opts: &l.opts}
		n.WorkDir = filepath.Join(n.Dir, "work")
		n.rec = &recorder{path: n.path("record.jsonl")}
		l.Nodes = append(l.Nodes, n)
	}
	errs := make([]error, len(l.Nodes))
	var wg sync.WaitGroup
	for i, n := range l.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.start(ctx, l, client)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var lines []string
	for _, n := range l.Nodes {
		lines = append(lines, knownhosts.Line([]string{n.Addr}, n.HostKey))
	}
	l.KnownHosts = filepath.Join(l.Dir, "known_hosts")
	if err := writeFile(l.KnownHosts, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return l, nil
}

func (n *Node) start(ctx context.Context, l *Lab, client *sshKey) error {
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return err
	}
	if err := n.setUp(l, client); err != nil {
		return fmt.Errorf("lab: set up %s: %w", n.Name, err)
	}
	if err := n.startBus(ctx); err != nil {
		return err
	}
	n.stop, n.loopDone = make(chan struct{}), make(chan struct{})
	err := n.boot(ctx)
	if err != nil && !errors.Is(err, errHung) {
		close(n.loopDone)
		return err
	}
	go n.controller(errors.Is(err, errHung))
	return nil
}

// Close stops every node's processes and removes the lab directory when
// Start made it. It is safe to call more than once.
func (l *Lab) Close() {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		for _, c := range l.clients {
			_ = c.Close() // shutting down: nobody left to report to
		}
		l.clients = nil
		l.mu.Unlock()
		var wg sync.WaitGroup
		for _, n := range l.Nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.close()
			}()
		}
		wg.Wait()
		if l.removeDir {
			_ = os.RemoveAll(l.Dir)
		}
	})
}

// Node returns the named node, or nil.
func (l *Lab) Node(name string) *Node {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Compatible is the nodes' compatible string.
func (l *Lab) Compatible() string { return l.opts.Compatible }

// ClientConfig returns an SSH client configuration for the lab's nodes
// that verifies host keys against the lab's known_hosts.
func (l *Lab) ClientConfig() (*ssh.ClientConfig, error) {
	signer, err := ssh.ParsePrivateKey(l.ClientKey)
	if err != nil {
		return nil, err
	}
	hk, err := knownhosts.New(l.KnownHosts)
	if err != nil {
		return nil, err
	}
	return &ssh.ClientConfig{User: l.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk, Timeout: 5 * time.Second}, nil
}

// Run runs a command on node n over SSH and returns its standard output; a
// failure carries its standard error. One connection per node serves every
// Run (each a session of its own) until it breaks, as in a reboot; a
// command that cannot start on a broken connection is tried once more on a
// new one.
func (l *Lab) Run(n *Node, command string) (string, error) {
	var s *ssh.Session
	for attempt := 0; ; attempt++ {
		c, err := l.client(n)
		if err != nil {
			return "", err
		}
		if s, err = c.NewSession(); err == nil {
			break
		}
		l.dropClient(n, c)
		if attempt > 0 {
			return "", err
		}
	}
	defer func() { _ = s.Close() }() // the command's outcome is already known: nothing to lose
	var out, stderr strings.Builder
	s.Stdout, s.Stderr = &out, &stderr
	if err := s.Run(command); err != nil {
		return out.String(), fmt.Errorf("%s on %s: %w: %s", command, n.Name, err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// client returns the lab's connection to node n, dialled when there is none.
func (l *Lab) client(n *Node) (*ssh.Client, error) {
	l.mu.Lock()
	c := l.clients[n.Name]
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	cfg, err := l.ClientConfig()
	if err != nil {
		return nil, err
	}
	c, err = ssh.Dial("tcp", n.Addr, cfg)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[string]*ssh.Client{}
	}
	if old := l.clients[n.Name]; old != nil {
		_ = c.Close() // a duplicate, never used: the one already cached is returned
		return old, nil
	}
	l.clients[n.Name] = c
	return c, nil
}

func (l *Lab) dropClient(n *Node, c *ssh.Client) {
	l.mu.Lock()
	if l.clients[n.Name] == c {
		delete(l.clients, n.Name)
	}
	l.mu.Unlock()
	_ = c.Close() // dropping it is the point: the caller redials or reports its own error
}

// WaitUp waits until node n is up again booted (sshd accepting), bounded.
func (n *Node) WaitUp(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if slot, _ := n.Booted(); slot != "" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("lab: %s not up after %s", n.Name, limit)
}
