package rauc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// The cluster's rollout lease is a file, work_dir/lease, on one node at a
// time: its home is the primary (else the first node). Taking, renewing,
// moving and releasing it happen in one shell script each, under a lock
// directory made with mkdir (atomic on every POSIX file system), so two
// applies from different states never both hold it. Expiry is counted by
// the node's own clock.
//
// How liveness is known: the holder renews the lease every few seconds
// (executor.LeaseHeartbeat is 10 s; it renews every 5 s), and the file
// records when it was last renewed and the heartbeat promised. A holder
// silent for longer than its heartbeat is dead: the same operation applied
// again (same cluster, target and image) adopts its lease at once; another
// operation waits out its TTL (30 s). A live holder is never adopted.
//
// That only works if the holder can reach the file. A node that reboots
// cannot be reached, often for longer than the heartbeat and the TTL, and
// the primary reboots first in every rollout. So before the driver reboots
// the node that holds its lease, it moves the lease to a node that is not
// rebooting (the node's HA partner, which the planner never takes down at
// the same time, else any other): it writes the lease there and leaves a
// pointer, `moved=<node>`, in the old file, under each node's lock, in
// that order, so that the lease is never on no node. Whoever looks for the
// lease starts at the home and follows the pointers; when a node on the
// way cannot be reached, it looks on the other nodes for the lease or a
// pointer, and refuses when it finds neither (it cannot tell whether the
// unreachable node holds a live lease). Releasing removes the lease and
// the pointers. A cluster of one node has nowhere to move the lease: its
// lease is stretched instead, before the reboot, to cover boot_timeout.

// leaseLock begins every lease script: it takes the node's lease lock, a
// directory made with mkdir, holding the pid of the shell that took it. A
// lock whose shell is gone (a session cut short by a deadline or a killed
// apply, which runs no exit trap) is broken at once; one without a pid
// after a minute. The lock is waited for 10 s at most.
const leaseLock = `set -eu
w=%[1]s; f="$w/lease"; l="$w/lease.lock"
mkdir -p "$w"
i=0
until mkdir "$l" 2>/dev/null; do
	i=$((i+1))
	if [ "$i" -gt 100 ]; then echo "the lease lock $l stays taken" >&2; exit 3; fi
	p=$(cat "$l/pid" 2>/dev/null || true)
	if { [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; } || [ -n "$(find "$l" -maxdepth 0 -mmin +1 2>/dev/null)" ]; then
		if [ "$(cat "$l/pid" 2>/dev/null || true)" = "$p" ] && mv "$l" "$l.stale.$$" 2>/dev/null; then rm -rf "$l.stale.$$"; fi
		continue
	fi
	sleep 0.1
done
echo $$ > "$l/pid"
trap 'rm -rf "$l"' EXIT
`

// leaseScript takes or renews the lease on one node: it writes the new one
// when there is none, the existing one has expired, or it belongs to the
// same owner and operation (a renewal: same id); a request of the same
// operation from another owner adopts it, under a new id, when the holder
// has missed its heartbeat (the same intent applied again after a crash);
// otherwise it prints the holder and exits 4. A pointer left by a move is
// printed and exits 5; with mode "scan" a node without a lease file exits 6
// instead of taking it.
const leaseScript = leaseLock + `now=$(date +%%s)
id=%[2]s
adopted=""
if [ -f "$f" ] && grep -q '^moved=' "$f"; then
	cat "$f"; echo "now=$now"; exit 5
fi
if [ ! -f "$f" ] && [ %[7]s = scan ]; then
	echo "now=$now"; exit 6
fi
if [ -f "$f" ]; then
	old_id=$(sed -n 's/^id=//p' "$f"); old_owner=$(sed -n 's/^owner=//p' "$f")
	old_op=$(sed -n 's/^operation=//p' "$f"); old_exp=$(sed -n 's/^expires=//p' "$f")
	old_renewed=$(sed -n 's/^renewed=//p' "$f"); old_hb=$(sed -n 's/^heartbeat=//p' "$f")
	if [ "$old_owner" = %[3]s ] && [ "$old_op" = %[4]s ]; then
		id=$old_id
	elif [ "${old_exp:-0}" -le "$now" ]; then
		:
	elif [ "$old_op" = %[4]s ] && [ "$((now - ${old_renewed:-0}))" -gt "${old_hb:-0}" ]; then
		adopted=$old_owner
	else
		cat "$f"; echo "now=$now"; exit 4
	fi
fi
printf 'id=%%s\nowner=%%s\noperation=%%s\nexpires=%%s\nrenewed=%%s\nheartbeat=%%s\n' "$id" %[3]s %[4]s "$((now + %[5]d))" "$now" %[6]d > "$f.tmp"
mv "$f.tmp" "$f"
cat "$f"; echo "now=$now"; echo "adopted=$adopted"
`

// placeScript writes a moved lease onto its new node: refused (exit 4)
// when the node holds another live lease.
const placeScript = leaseLock + `now=$(date +%%s)
if [ -f "$f" ] && ! grep -q '^moved=' "$f"; then
	old_id=$(sed -n 's/^id=//p' "$f"); old_exp=$(sed -n 's/^expires=//p' "$f")
	if [ "$old_id" != %[2]s ] && [ "${old_exp:-0}" -gt "$now" ]; then cat "$f"; echo "now=$now"; exit 4; fi
fi
printf 'id=%%s\nowner=%%s\noperation=%%s\nexpires=%%s\nrenewed=%%s\nheartbeat=%%s\n' %[2]s %[3]s %[4]s "$((now + %[5]d))" "$now" %[6]d > "$f.tmp"
mv "$f.tmp" "$f"
`

// pointScript turns the lease with this id into a pointer to its new node;
// exit 4 when the node no longer holds that lease, or holds it expired by
// its clock (the holder stalled past it: its reboot must not start, as
// another apply may take the cluster at any moment). It is the last check
// before a reboot, made under the node's lease lock.
const pointScript = leaseLock + `if [ ! -f "$f" ] || [ "$(sed -n 's/^id=//p' "$f")" != %[2]s ]; then cat "$f" 2>/dev/null || true; exit 4; fi
e=$(sed -n 's/^expires=//p' "$f")
if [ "${e:-0}" -le "$(date +%%s)" ]; then cat "$f"; exit 4; fi
printf 'moved=%%s\n' %[3]s > "$f.tmp"
mv "$f.tmp" "$f"
`

// releaseScript removes the lease with this id, or (id "moved") a pointer.
const releaseScript = leaseLock + `[ -f "$f" ] || exit 0
if [ %[2]s = moved ]; then
	if grep -q '^moved=' "$f"; then rm -f "$f"; fi
elif [ "$(sed -n 's/^id=//p' "$f")" = %[2]s ]; then rm -f "$f"; fi
`

// heldLease is the lease this driver took last, and where it is.
type heldLease struct {
	id, owner, op  string
	ttl, heartbeat int // seconds
	at             string
	// pointers are the nodes a move left a pointer on.
	pointers []string
	// stretchedUntil: the lease was stretched over a reboot of its node
	// (a cluster of one) until then.
	stretchedUntil time.Time
	expires        time.Time
}

// leaseHome is where the lease lives unless moved: the primary node, else
// the first.
func (d *Driver) leaseHome() NodeConfig {
	for _, n := range d.cfg.Nodes {
		if n.Role == appliance.RolePrimary || n.Role == appliance.RoleMaster {
			return n
		}
	}
	return d.cfg.Nodes[0]
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

const leaseLabel = "the lease script on work_dir/lease"

// leaseAnswer is one node's answer to the lease script.
type leaseAnswer struct {
	node   NodeConfig
	fields map[string]string
	status int // 0 taken, 4 held, 5 moved, 6 nothing there (scan)
	err    error
}

func (d *Driver) runLease(ctx context.Context, n NodeConfig, req driver.LeaseRequest, id string, ttl, heartbeat int, mode string) leaseAnswer {
	script := fmt.Sprintf(leaseScript, shq(n.WorkDir), shq(id), shq(oneLine(req.Owner)), shq(oneLine(req.OperationKey)), ttl, heartbeat, shq(mode))
	out, err := d.conns.runAs(ctx, n, leaseLabel, script, d.conns.commandLimit())
	a := leaseAnswer{node: n, fields: parseLease(out), err: err}
	var ce *commandError
	if errors.As(err, &ce) && (ce.status == 4 || ce.status == 5 || ce.status == 6) {
		a.status, a.err = ce.status, nil
	}
	return a
}

// walkLease runs the lease script where the lease is: from start, along
// the pointers; when a node on the way cannot be reached, on the other
// nodes, which may hold the lease or a pointer a move left.
func (d *Driver) walkLease(ctx context.Context, start NodeConfig, req driver.LeaseRequest, id string, ttl, heartbeat int) (leaseAnswer, []string) {
	var pointers []string
	visited := map[string]bool{}
	n, mode := start, "take"
	var unreachableErr error
	for hops := 0; hops <= 2*len(d.cfg.Nodes); hops++ {
		visited[n.Name] = true
		a := d.runLease(ctx, n, req, id, ttl, heartbeat, mode)
		switch {
		case a.err != nil:
			if code := driver.CodeOf(a.err); code == driver.CodeHostKey || code == driver.CodeUnauthorized || ctx.Err() != nil {
				return a, pointers
			}
			if unreachableErr == nil {
				unreachableErr = a.err
			}
		case a.status == 5:
			next, err := d.node(a.fields["moved"])
			if err != nil {
				a.err = fmt.Errorf("node %s points the lease to %q, which is no node of the cluster", n.Name, a.fields["moved"])
				return a, pointers
			}
			pointers = append(pointers, n.Name)
			if !visited[next.Name] {
				n, mode = next, "take"
				continue
			}
		case a.status == 6:
			// Nothing on this scanned node.
		default:
			return a, pointers
		}
		// Scan the nodes not seen yet.
		found := false
		for _, m := range d.cfg.Nodes {
			if !visited[m.Name] {
				n, mode, found = m, "scan", true
				break
			}
		}
		if !found {
			break
		}
	}
	return leaseAnswer{node: start, err: fmt.Errorf("the rollout lease of RAUC cluster %s cannot be checked: no node that can be reached holds it, and %v (it may hold a live lease)", d.cfg.Name, unreachableErr)}, pointers
}

// AcquireLease takes, renews or adopts the cluster's lease, wherever it is.
func (d *Driver) AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	if err := d.checkCluster(cluster); err != nil {
		return nil, err
	}
	if req.TTL <= 0 {
		req.TTL = 5 * time.Minute
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	ttl := max(int(req.TTL.Round(time.Second)/time.Second), 1)
	heartbeat := int(req.Heartbeat.Round(time.Second) / time.Second)
	if heartbeat <= 0 || heartbeat > ttl {
		heartbeat = max(ttl/3, 1)
	}
	d.leaseMu.Lock()
	defer d.leaseMu.Unlock()
	start := d.leaseHome()
	h := d.held
	renewal := h != nil && h.owner == oneLine(req.Owner) && h.op == oneLine(req.OperationKey)
	var pointers []string
	if renewal {
		// Renew where this driver put it.
		start, _ = d.node(h.at)
		pointers = h.pointers
		if time.Now().Before(h.stretchedUntil) {
			// Stretched over its node's reboot, which this driver waits for.
			return &driver.Lease{ID: h.id, Cluster: d.cfg.Name, Owner: h.owner, OperationKey: h.op, ExpiresAt: h.expires}, nil
		}
	}
	begin := time.Now()
	a, more := d.walkLease(ctx, start, req, "lease-"+hex.EncodeToString(b[:]), ttl, heartbeat)
	pointers = appendNew(pointers, more...)
	fields := a.fields
	if a.status == 4 {
		now := atoi(fields["now"])
		left := time.Duration(atoi(fields["expires"])-now) * time.Second
		silent, beat := now-atoi(fields["renewed"]), atoi(fields["heartbeat"])
		details := map[string]any{"holder": fields["owner"], "operation_key": fields["operation"], "expires_in": left.String(),
			"expires_at": begin.Add(left).UTC().Format(time.RFC3339), "node": a.node.Name,
			"holder_silent_seconds": silent, "holder_heartbeat_seconds": beat}
		msg := fmt.Sprintf("RAUC cluster %s is being rolled out by %s (operation %s) for another %s: wait for it to finish, or for its lease to expire", d.cfg.Name, fields["owner"], fields["operation"], left)
		if fields["operation"] == oneLine(req.OperationKey) {
			adoptIn := time.Duration(atoi(fields["renewed"])+beat+1-now) * time.Second
			msg = fmt.Sprintf("RAUC cluster %s is being rolled out by %s with this same operation, which renewed its lease %ds ago, within its %ds heartbeat: if that run crashed, applying again in %s adopts its lease", d.cfg.Name, fields["owner"], silent, beat, adoptIn)
			// The executor waits out the heartbeat of the same operation.
			details["heartbeat_seconds"] = beat
		}
		return nil, &driver.Error{Code: driver.CodeLeaseHeld, Message: msg, Details: details}
	}
	if a.err != nil {
		if renewal && d.isRebooting(h.at) {
			return nil, fmt.Errorf("renew the lease of RAUC cluster %s on node %s, which is rebooting: %w", d.cfg.Name, h.at, a.err)
		}
		return nil, fmt.Errorf("take the lease of RAUC cluster %s: %w", d.cfg.Name, a.err)
	}
	left := time.Duration(atoi(fields["expires"])-atoi(fields["now"])) * time.Second
	l := &driver.Lease{ID: fields["id"], Cluster: d.cfg.Name, Owner: fields["owner"], OperationKey: fields["operation"], ExpiresAt: begin.Add(left),
		Adopted: fields["adopted"] != "", PreviousOwner: fields["adopted"]}
	d.held = &heldLease{id: l.ID, owner: l.Owner, op: l.OperationKey, ttl: ttl, heartbeat: heartbeat, at: a.node.Name, pointers: pointers, expires: l.ExpiresAt}
	return l, nil
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		seen := false
		for _, x := range list {
			seen = seen || x == m
		}
		if !seen {
			list = append(list, m)
		}
	}
	return list
}

// prepareReboot readies node n, which this driver is about to reboot
// (its view v read just before), and returns what to call when the reboot
// is over:
//   - n is marked as about to reboot, so that no move in a parallel
//     activation puts the lease on it;
//   - a reboot note goes onto another node (n's HA partner, else one not
//     going down): while n cannot be reached, every reader of the cluster,
//     including an apply started after this one crashed, shows it rebooting
//     into its other slot, for boot_timeout at most, instead of down;
//   - this driver's lease, if it is on n, moves to that node too; in a
//     cluster of one it is stretched over boot_timeout instead.
func (d *Driver) prepareReboot(ctx context.Context, n NodeConfig, v *nodeView) (func(), error) {
	d.leaseMu.Lock()
	defer d.leaseMu.Unlock()
	if d.leaving == nil {
		d.leaving = map[string]int{}
	}
	d.leaving[n.Name]++
	to, ok := d.leaseTarget(n)
	noted := false
	done := func() {
		if noted {
			rm := "rm -f " + shq(to.WorkDir+"/rebooting-"+n.Name)
			_, _ = d.conns.run(context.WithoutCancel(ctx), to, rm, d.conns.commandLimit())
		}
		d.leaseMu.Lock()
		defer d.leaseMu.Unlock()
		if d.leaving[n.Name]--; d.leaving[n.Name] <= 0 {
			delete(d.leaving, n.Name)
		}
		if d.held != nil && d.held.at == n.Name {
			d.held.stretchedUntil = time.Time{}
		}
	}
	fail := func(err error) (func(), error) {
		done()
		return func() {}, err
	}
	if ok {
		// A note that cannot be written costs only a clearer view after a
		// crash: the reboot goes on without it.
		_, err := d.conns.runAs(ctx, to, "writing a reboot note in work_dir", d.rebootNoteScript(n, to, v), d.conns.commandLimit())
		noted = err == nil
	}
	h := d.held
	if h == nil || h.at != n.Name {
		return done, nil
	}
	if !ok {
		if err := d.stretchLease(ctx, n, h); err != nil {
			return fail(err)
		}
		return done, nil
	}
	if err := d.moveLease(ctx, h, n, to); err != nil {
		return fail(err)
	}
	return done, nil
}

// rebootNoteScript writes work_dir/rebooting-<n> on node to: until when
// (to's clock, boot_timeout from now) n is to be shown rebooting, and the
// partitions it reboots from and into.
func (d *Driver) rebootNoteScript(n, to NodeConfig, v *nodeView) string {
	f := to.WorkDir + "/rebooting-" + n.Name
	boot := int(d.cfg.BootTimeout.Round(time.Second) / time.Second)
	lines := strings.Join([]string{
		"node=" + n.Name,
		"active_version=" + oneLine(v.bootedVer), "active_image=" + d.imageForChecksum(v.booted.SlotStatus.Checksum.SHA256),
		"alternate_version=" + oneLine(v.otherVer), "alternate_image=" + d.imageForChecksum(v.other.SlotStatus.Checksum.SHA256),
	}, "\n")
	return fmt.Sprintf("mkdir -p %s && { printf '%%s\\n' %s; echo \"until=$(( $(date +%%s) + %d ))\"; } > %s && mv %s %s",
		shq(to.WorkDir), shq(lines), boot, shq(f+".tmp"), shq(f+".tmp"), shq(f))
}

// leaseTarget picks where the lease goes while n reboots: n's HA partner
// (the plan never takes both down together), else the first other node
// that no activation of this driver is about to reboot. Called under leaseMu.
func (d *Driver) leaseTarget(n NodeConfig) (NodeConfig, bool) {
	free := func(m NodeConfig) bool { return m.Name != n.Name && d.leaving[m.Name] == 0 && !d.isRebooting(m.Name) }
	for _, m := range d.cfg.Nodes {
		if m.Name == n.HAPartner && free(m) {
			return m, true
		}
	}
	for _, m := range d.cfg.Nodes {
		if free(m) {
			return m, true
		}
	}
	return NodeConfig{}, false
}

// moveLease writes the lease on node to, then turns n's copy into a
// pointer to it. Called under leaseMu.
func (d *Driver) moveLease(ctx context.Context, h *heldLease, n, to NodeConfig) error {
	place := fmt.Sprintf(placeScript, shq(to.WorkDir), shq(h.id), shq(h.owner), shq(h.op), h.ttl, h.heartbeat)
	if out, err := d.conns.runAs(ctx, to, "placing the lease on work_dir/lease", place, d.conns.commandLimit()); err != nil {
		var ce *commandError
		if errors.As(err, &ce) && ce.status == 4 {
			f := parseLease(out)
			return stepError(driver.CodeLeaseHeld, n, "reboot", "the rollout lease cannot move to node %s before this node reboots: %s holds a lease there", to.Name, f["owner"])
		}
		return stepError(driver.CodeUnavailable, n, "reboot", "the rollout lease could not be moved to node %s before this node reboots, so the reboot did not start: %v", to.Name, err)
	}
	point := fmt.Sprintf(pointScript, shq(n.WorkDir), shq(h.id), shq(to.Name))
	if out, err := d.conns.runAs(ctx, n, "moving the lease off work_dir/lease", point, d.conns.commandLimit()); err != nil {
		// Take the copy back: the lease stays where it was, or is lost.
		_, _ = d.conns.runAs(context.WithoutCancel(ctx), to, leaseLabel, fmt.Sprintf(releaseScript, shq(to.WorkDir), shq(h.id)), d.conns.commandLimit())
		var ce *commandError
		if errors.As(err, &ce) && ce.status == 4 {
			if parseLease(out)["id"] == h.id {
				return stepError(driver.CodeLeaseLost, n, "reboot", "the rollout lease %s of RAUC cluster %s expired by this node's clock without a renewal, so the reboot did not start: the rollout stopped rather than act beside another operation that may take the cluster now", h.id, d.cfg.Name)
			}
			return stepError(driver.CodeLeaseLost, n, "reboot", "the rollout lease of RAUC cluster %s is no longer %s: the rollout stopped rather than act without it", d.cfg.Name, h.id)
		}
		return stepError(driver.CodeUnavailable, n, "reboot", "the rollout lease could not be moved off this node before its reboot, so the reboot did not start: %v", err)
	}
	h.at = to.Name
	h.pointers = appendNew(h.pointers, n.Name)
	return nil
}

// stretchLease renews the lease on n (about to reboot, with nowhere to
// move it) for boot_timeout longer, heartbeat included, so that no one
// takes it while n is down; renewals find it stretched until then.
func (d *Driver) stretchLease(ctx context.Context, n NodeConfig, h *heldLease) error {
	boot := int(d.cfg.BootTimeout.Round(time.Second) / time.Second)
	req := driver.LeaseRequest{Owner: h.owner, OperationKey: h.op}
	a := d.runLease(ctx, n, req, h.id, h.ttl+boot, h.heartbeat+boot, "take")
	if a.err != nil || a.status != 0 || a.fields["id"] != h.id {
		return stepError(driver.CodeLeaseHeld, n, "reboot", "the rollout lease could not be renewed over this node's reboot, so the reboot did not start: %v", a.err)
	}
	h.stretchedUntil = time.Now().Add(d.cfg.BootTimeout)
	h.expires = time.Now().Add(time.Duration(h.ttl+boot) * time.Second)
	return nil
}

// ReleaseLease removes the lease if it is still this one, and the pointers
// a move left.
func (d *Driver) ReleaseLease(ctx context.Context, cluster, leaseID string) error {
	if err := d.checkCluster(cluster); err != nil {
		return err
	}
	d.leaseMu.Lock()
	defer d.leaseMu.Unlock()
	at, pointers := d.leaseHome(), []string(nil)
	if h := d.held; h != nil && h.id == leaseID {
		at, _ = d.node(h.at)
		pointers = h.pointers
	} else if f, n, err := d.findLease(ctx); err == nil && f["id"] == leaseID {
		at = n
	}
	if _, err := d.conns.runAs(ctx, at, leaseLabel, fmt.Sprintf(releaseScript, shq(at.WorkDir), shq(leaseID)), d.conns.commandLimit()); err != nil {
		return fmt.Errorf("release the lease of RAUC cluster %s on node %s: %w", d.cfg.Name, at.Name, err)
	}
	if d.held != nil && d.held.id == leaseID {
		d.held = nil
	}
	for _, name := range pointers {
		if n, err := d.node(name); err == nil {
			// A pointer left behind only sends the next holder to a node
			// without a lease, where it takes one: harmless if this fails.
			_, _ = d.conns.runAs(ctx, n, leaseLabel, fmt.Sprintf(releaseScript, shq(n.WorkDir), shq("moved")), d.conns.commandLimit())
		}
	}
	return nil
}

// findLease reads the lease where it is, without changing it: from the
// home along the pointers, and on the other nodes when one on the way
// cannot be reached.
func (d *Driver) findLease(ctx context.Context) (map[string]string, NodeConfig, error) {
	visited := map[string]bool{}
	n := d.leaseHome()
	var lastErr error
	for hops := 0; hops <= 2*len(d.cfg.Nodes); hops++ {
		visited[n.Name] = true
		// The node's clock comes with it (now=), for whoever checks its expiry.
		out, err := d.conns.runAs(ctx, n, "reading work_dir/lease", "cat "+shq(n.WorkDir+"/lease")+" 2>/dev/null || true; echo now=$(date +%s)", d.conns.commandLimit())
		if err == nil {
			f := parseLease(out)
			if next, ok := f["moved"]; ok {
				if m, err := d.node(next); err == nil && !visited[m.Name] {
					n = m
					continue
				}
			} else if f["id"] != "" || lastErr == nil {
				return f, n, nil
			}
		} else {
			if code := driver.CodeOf(err); code == driver.CodeHostKey || code == driver.CodeUnauthorized {
				return nil, n, err
			}
			lastErr = err
		}
		found := false
		for _, m := range d.cfg.Nodes {
			if !visited[m.Name] {
				n, found = m, true
				break
			}
		}
		if !found {
			break
		}
	}
	return nil, n, lastErr
}

func parseLease(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func atoi(s string) int {
	v, _ := strconv.Atoi(strings.TrimSpace(s))
	return v
}
