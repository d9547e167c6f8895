package rauc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// hostKeys checks host keys against known_hosts and pinned keys. A key
// found nowhere, or different from the one recorded, is refused with
// CodeHostKey; nothing is ever accepted unseen.
type hostKeys struct {
	known  ssh.HostKeyCallback // nil without known_hosts
	pinned map[string]ssh.PublicKey
}

func newHostKeys(cfg Config) (*hostKeys, error) {
	h := &hostKeys{pinned: map[string]ssh.PublicKey{}}
	var files []string
	if cfg.KnownHostsFile != "" {
		files = append(files, cfg.KnownHostsFile)
	}
	if cfg.KnownHosts != "" {
		// knownhosts reads files only: hand it the content through one.
		f, err := os.CreateTemp("", "known_hosts-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.Remove(f.Name()) }() // best-effort cleanup: it holds only public host keys, already read
		_, err = f.WriteString(cfg.KnownHosts + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		files = append(files, f.Name())
	}
	if len(files) > 0 {
		cb, err := knownhosts.New(files...)
		if err != nil {
			return nil, &driver.Error{Code: driver.CodeInvalidRequest, Message: fmt.Sprintf("RAUC cluster %s: known_hosts cannot be read: %v", cfg.Name, err)}
		}
		h.known = cb
	}
	for _, n := range cfg.Nodes {
		if n.HostKey == "" {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(n.HostKey))
		if err != nil {
			return nil, &driver.Error{Code: driver.CodeInvalidRequest, Message: fmt.Sprintf("RAUC cluster %s: node %s: host_key is not a public key in authorized_keys form (\"ssh-ed25519 AAAA...\"): %v", cfg.Name, n.Name, err)}
		}
		h.pinned[n.Name] = k
	}
	return h, nil
}

// callback returns the host key check for one node.
func (h *hostKeys) callback(node NodeConfig) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		got := ssh.FingerprintSHA256(key)
		if want, ok := h.pinned[node.Name]; ok {
			if bytes.Equal(want.Marshal(), key.Marshal()) {
				return nil
			}
			return hostKeyError(node, fmt.Sprintf("the SSH host key of node %s (%s) changed: it presents %s %s, but host_key pins %s. If the node was reinstalled, check the new key on its console and update host_key; otherwise something is impersonating it", node.Name, node.Address, key.Type(), got, ssh.FingerprintSHA256(want)))
		}
		if h.known == nil {
			return hostKeyError(node, fmt.Sprintf("the SSH host key of node %s (%s) cannot be checked: no known_hosts and no host_key for it; it presents %s %s", node.Name, node.Address, key.Type(), got))
		}
		err := h.known(hostname, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			return hostKeyError(node, fmt.Sprintf("the SSH host key of node %s (%s) is unknown: known_hosts has no key for it; it presents %s %s. Check that fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and add the key to known_hosts", node.Name, node.Address, key.Type(), got))
		case errors.As(err, &ke):
			var want []string
			for _, w := range ke.Want {
				want = append(want, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
			}
			return hostKeyError(node, fmt.Sprintf("the SSH host key of node %s (%s) changed: it presents %s %s, but known_hosts has %s. If the node was reinstalled, check the new key on its console and update known_hosts; otherwise something is impersonating it", node.Name, node.Address, key.Type(), got, strings.Join(want, ", ")))
		default:
			return hostKeyError(node, fmt.Sprintf("the SSH host key of node %s (%s) was refused: %v", node.Name, node.Address, err))
		}
	}
}

func hostKeyError(node NodeConfig, msg string) error {
	return &driver.Error{Code: driver.CodeHostKey, Message: msg, Details: map[string]any{"node": node.Name}}
}

// conns keeps one SSH connection per node, dialled on demand and dropped
// when it breaks (a reboot drops it on purpose).
type conns struct {
	cfg    Config
	signer ssh.Signer
	keys   *hostKeys

	mu      sync.Mutex
	clients map[string]*ssh.Client
}

func (c *conns) client(ctx context.Context, node NodeConfig) (*ssh.Client, error) {
	c.mu.Lock()
	cl := c.clients[node.Name]
	c.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	cl, err := c.dial(ctx, node)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.clients[node.Name]; old != nil {
		_ = cl.Close() // a duplicate, never used: the one already cached is returned
		return old, nil
	}
	c.clients[node.Name] = cl
	go func() {
		_ = cl.Wait()
		c.forget(node.Name, cl)
	}()
	return cl, nil
}

func (c *conns) dial(ctx context.Context, node NodeConfig) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		User:            c.cfg.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(c.signer)},
		HostKeyCallback: c.keys.callback(node),
		Timeout:         c.cfg.ConnectTimeout,
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(dctx, "tcp", node.Address)
	if err != nil {
		return nil, unreachable(node, c.dialTimedOut(err))
	}
	_ = raw.SetDeadline(time.Now().Add(c.cfg.ConnectTimeout))
	sc, chans, reqs, err := ssh.NewClientConn(raw, node.Address, cfg)
	if err != nil {
		_ = raw.Close() // abandoned: the handshake error is the one to report
		if driver.CodeOf(err) == driver.CodeHostKey {
			var de *driver.Error
			errors.As(err, &de)
			return nil, de
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &driver.Error{Code: driver.CodeUnauthorized, Message: fmt.Sprintf("node %s (%s) refused the SSH key for user %s: authorize its public key on the node", node.Name, node.Address, c.cfg.User)}
		}
		return nil, unreachable(node, c.dialTimedOut(err))
	}
	_ = raw.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func unreachable(node NodeConfig, err error) error {
	return &unreachableError{node: node.Name, addr: node.Address, err: err}
}

// dialTimedOut names connect_timeout on a dial or handshake that ran out
// of it.
func (c *conns) dialTimedOut(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %s: %w", c.connectLimit(), err)
	}
	return err
}

// unreachableError is a node that cannot be reached over SSH. It carries
// no driver code: the outcome of what was under way is not known.
type unreachableError struct {
	node, addr string
	err        error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("node %s (%s) cannot be reached over SSH: %v", e.node, e.addr, e.err)
}
func (e *unreachableError) Unwrap() error { return e.err }

func (c *conns) forget(node string, cl *ssh.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients[node] == cl {
		delete(c.clients, node)
	}
}

func (c *conns) drop(node string) {
	c.mu.Lock()
	cl := c.clients[node]
	delete(c.clients, node)
	c.mu.Unlock()
	if cl != nil {
		_ = cl.Close() // dropping it is the point: the caller redials or reports its own error
	}
}

func (c *conns) closeAll() {
	c.mu.Lock()
	all := c.clients
	c.clients = map[string]*ssh.Client{}
	c.mu.Unlock()
	for _, cl := range all {
		_ = cl.Close() // shutting down: nobody left to report to
	}
}

// commandError is a command that ran and failed.
type commandError struct {
	node, command string
	status        int
	stderr        string
}

func (e *commandError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if len(msg) > 2000 {
		msg = msg[len(msg)-2000:]
	}
	return fmt.Sprintf("on node %s, `%s` exited with status %d: %s", e.node, e.command, e.status, msg)
}

// limit bounds one wait and names the setting it comes from, so that a
// wait cut short says what to change.
type limit struct {
	d       time.Duration
	setting string
}

func (l limit) String() string { return fmt.Sprintf("%s (%s)", l.d, l.setting) }

func (c *conns) commandLimit() limit { return limit{c.cfg.CommandTimeout, "command_timeout"} }
func (c *conns) installLimit() limit { return limit{c.cfg.InstallTimeout, "install_timeout"} }
func (c *conns) connectLimit() limit { return limit{c.cfg.ConnectTimeout, "connect_timeout"} }

// shortCommand is how errors show a command: a script by its first line.
func shortCommand(command string) string {
	first, rest, _ := strings.Cut(strings.TrimSpace(command), "\n")
	if len(first) > 120 {
		first, rest = first[:120], "..."
	}
	if rest != "" {
		return first + " ..."
	}
	return first
}

// run runs a command on a node, bounded by lim and ctx. A broken
// connection is redialled once before the command starts.
func (c *conns) run(ctx context.Context, node NodeConfig, command string, lim limit) (string, error) {
	return c.runAs(ctx, node, shortCommand(command), command, lim)
}

// runAs is run with the command named by label in errors.
func (c *conns) runAs(ctx context.Context, node NodeConfig, label, command string, lim limit) (string, error) {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		cl, err := c.client(ctx, node)
		if err != nil {
			return "", err
		}
		s, err := c.session(ctx, node, cl)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			c.drop(node.Name)
			lastErr = unreachable(node, err)
			continue
		}
		out, err := runSession(ctx, s, node, label, command, lim)
		if err != nil && isConnectionLost(err) {
			c.drop(node.Name)
		}
		return out, err
	}
	return "", lastErr
}

// session opens a session on cl, bounded by connect_timeout: on a
// connection that went silent (a node powered off without closing it) the
// request would otherwise wait for TCP to give up, for many minutes. A
// connection that does not answer in time is closed.
func (c *conns) session(ctx context.Context, node NodeConfig, cl *ssh.Client) (*ssh.Session, error) {
	type result struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := cl.NewSession()
		ch <- result{s, err}
	}()
	t := time.NewTimer(c.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-t.C:
		_ = cl.Close() // abandoned: it did not answer, which is the error to report
		c.forget(node.Name, cl)
		return nil, fmt.Errorf("the connection did not open a session within %s", c.connectLimit())
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				_ = r.s.Close() // a session opened after the caller gave up: never used
			}
		}()
		return nil, ctx.Err()
	}
}

func runSession(ctx context.Context, s *ssh.Session, node NodeConfig, label, command string, lim limit) (string, error) {
	defer func() { _ = s.Close() }() // the command's outcome is already known: nothing to lose
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- s.Run(command) }()
	t := time.NewTimer(lim.d)
	defer t.Stop()
	select {
	case err := <-done:
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), &commandError{node: node.Name, command: label, status: ee.ExitStatus(), stderr: stderr.String()}
		}
		if err != nil {
			return stdout.String(), &connectionLost{node: node.Name, command: label, err: err}
		}
		return stdout.String(), nil
	// The command may still be writing its output: none of it is read.
	case <-t.C:
		_ = s.Signal(ssh.SIGKILL)
		return "", &driver.Error{Code: driver.CodeNodeTimeout, Message: fmt.Sprintf("on node %s, `%s` did not finish within %s: it was cut short", node.Name, label, lim),
			Details: map[string]any{"node": node.Name, "command": label, "limit": lim.setting}}
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		return "", ctx.Err()
	}
}

// connectionLost is a command whose connection broke before it reported
// an exit status (as a reboot does).
type connectionLost struct {
	node, command string
	err           error
}

func (e *connectionLost) Error() string {
	return fmt.Sprintf("on node %s, the connection was lost while `%s` ran: %v", e.node, e.command, e.err)
}
func (e *connectionLost) Unwrap() error { return e.err }

func isConnectionLost(err error) bool {
	var cl *connectionLost
	return errors.As(err, &cl)
}

// upload copies a local file to path on the node with SFTP, through a
// temporary name renamed at the end, so that a half-copied file is never
// taken for the bundle.
func (c *conns) upload(ctx context.Context, node NodeConfig, local, remote string) error {
	cl, err := c.client(ctx, node)
	if err != nil {
		return err
	}
	sc, err := c.sftpClient(node, cl)
	if err != nil {
		c.drop(node.Name)
		return unreachable(node, err)
	}
	// The upload's outcome is known from out.Close and the rename: closing
	// the SFTP client (early, when ctx ends, to cut the copy short) has
	// nothing more to lose.
	defer func() { _ = sc.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = sc.Close() })
	defer stop()
	in, err := os.Open(local)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read only: nothing to lose
	dir := remote[:strings.LastIndex(remote, "/")]
	if err := sc.MkdirAll(dir); err != nil {
		return fmt.Errorf("on node %s, cannot create %s: %w", node.Name, dir, err)
	}
	tmp := remote + ".part"
	out, err := sc.Create(tmp)
	if err != nil {
		return fmt.Errorf("on node %s, cannot write %s: %w", node.Name, tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // a failed copy, removed or abandoned below: the copy error is the one to report
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &driver.Error{Code: driver.CodeNodeTimeout, Message: fmt.Sprintf("copying the bundle to node %s did not finish within %s: it was cut short", node.Name, c.installLimit()),
				Details: map[string]any{"node": node.Name, "limit": "install_timeout"}}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = sc.Remove(tmp)
		return fmt.Errorf("copy bundle to node %s: %w", node.Name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy bundle to node %s: %w", node.Name, err)
	}
	if err := sc.PosixRename(tmp, remote); err != nil {
		return fmt.Errorf("on node %s, cannot rename %s: %w", node.Name, tmp, err)
	}
	return nil
}

// sftpClient starts the SFTP subsystem on cl, bounded by connect_timeout
// (closing a connection that does not answer in time).
func (c *conns) sftpClient(node NodeConfig, cl *ssh.Client) (*sftp.Client, error) {
	type result struct {
		sc  *sftp.Client
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sc, err := sftp.NewClient(cl)
		ch <- result{sc, err}
	}()
	t := time.NewTimer(c.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.sc, r.err
	case <-t.C:
		_ = cl.Close() // abandoned: it did not answer, which is the error to report
		c.forget(node.Name, cl)
		return nil, fmt.Errorf("SFTP did not start within %s", c.connectLimit())
	}
}
