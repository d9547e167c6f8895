package rauc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// task is an action running in the driver's process.
type task struct {
	id   string
	done chan struct{}
	err  error
}

func (t *task) ID() string { return t.id }

func (t *task) Wait(ctx context.Context) error {
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start begins an action. Stage, activate and revert are what RAUC nodes
// do; everything else is refused naming the missing capability. A retried
// start with the same idempotency key returns the first task.
func (d *Driver) Start(ctx context.Context, cluster string, a driver.Action) (driver.Task, error) {
	if err := d.checkCluster(cluster); err != nil {
		return nil, err
	}
	var run func(context.Context, NodeConfig) error
	switch a.Kind {
	case driver.ActStage:
		run = func(ctx context.Context, n NodeConfig) error { return d.stage(ctx, n, a.ImageID) }
	case driver.ActActivate:
		run = func(ctx context.Context, n NodeConfig) error { return d.activate(ctx, n, a.Version, a.AutoRevert) }
	case driver.ActRevert:
		run = func(ctx context.Context, n NodeConfig) error { return d.revert(ctx, n, false) }
	case driver.ActPromote:
		return nil, driver.Require(d, driver.CapPromote, "a master/standby promotion")
	case driver.ActMoveResource:
		return nil, driver.Require(d, driver.CapResources, "moving resource "+a.Resource)
	case driver.ActFinalize:
		return nil, driver.Require(d, driver.CapFinalize, "the rollout's finalize step")
	case driver.ActInstallLicense:
		return nil, driver.Require(d, driver.CapLicenses, "installing licences")
	case driver.ActSetSupercluster, driver.ActMaintenance:
		return nil, driver.Require(d, driver.CapSupercluster, "supercluster membership")
	default:
		return nil, &driver.Error{Code: driver.CodeInvalidRequest, Message: fmt.Sprintf("unknown action %q", a.Kind)}
	}
	n, err := d.node(a.Node)
	if err != nil {
		return nil, err
	}
	if a.LeaseID != "" {
		if err := d.checkLease(ctx, a.LeaseID); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	if a.IdempotencyKey != "" {
		if t, ok := d.tasks[a.IdempotencyKey]; ok {
			d.mu.Unlock()
			return t, nil
		}
	}
	d.taskSeq++
	t := &task{id: fmt.Sprintf("%s-%s-%d", a.Kind, a.Node, d.taskSeq), done: make(chan struct{})}
	if a.IdempotencyKey != "" {
		d.tasks[a.IdempotencyKey] = t
	}
	d.mu.Unlock()
	// The action outlives the call that started it; its own bounds stop it.
	actx := context.WithoutCancel(ctx)
	go func() {
		defer close(t.done)
		t.err = run(actx, n)
	}()
	return t, nil
}

// checkLease refuses an action under a lease the cluster no longer holds:
// another lease, none, or this one expired by the clock of the node that
// holds it (a holder starved past its lease, whose file no one has
// overwritten yet: another operation may take it at any moment). A lease
// that cannot be read (its node rebooting, with nothing found on the
// others) does not stop the action: the renewals fence the rollout.
func (d *Driver) checkLease(ctx context.Context, id string) error {
	f, n, err := d.findLease(ctx)
	if err != nil {
		if code := driver.CodeOf(err); code == driver.CodeHostKey || code == driver.CodeUnauthorized {
			return err
		}
		return nil
	}
	if f["id"] != id {
		holder := f["owner"]
		if holder == "" {
			holder = "no one"
		}
		return &driver.Error{Code: driver.CodeLeaseLost, Message: fmt.Sprintf("the lease of RAUC cluster %s is no longer %s (held by %s): the rollout stopped rather than act without it", d.cfg.Name, id, holder), Details: map[string]any{"holder": f["owner"]}}
	}
	if now, exp := atoi(f["now"]), atoi(f["expires"]); now > 0 && exp <= now {
		return &driver.Error{Code: driver.CodeLeaseLost, Message: fmt.Sprintf("the lease %s of RAUC cluster %s expired %ds ago by node %s's clock without a renewal: the rollout stopped rather than act beside another operation that may take the cluster now", id, d.cfg.Name, now-exp, n.Name),
			Details: map[string]any{"holder": f["owner"], "node": n.Name}}
	}
	return nil
}

func stepError(code driver.Code, n NodeConfig, step, format string, args ...any) error {
	return &driver.Error{Code: code, Message: fmt.Sprintf("node %s, step %s: ", n.Name, step) + fmt.Sprintf(format, args...), Details: map[string]any{"node": n.Name, "step": step}}
}

// stage writes the image into the node's inactive slot and puts the boot
// order back, so that nothing changes until activation. A node whose
// inactive slot already holds the image is not written again; one left
// armed (primary on the new slot) is only repaired.
func (d *Driver) stage(ctx context.Context, n NodeConfig, imageID string) error {
	img, err := d.imageByID(ctx, imageID)
	if err != nil {
		return err
	}
	v := d.readNode(ctx, n, false)
	if v.err != nil {
		return v.err
	}
	if appliance.SameVersion(v.bootedVer, img.Manifest.Version) && v.primaryIsBooted() {
		return nil // the node runs it already
	}
	if !holds(v.other, img) {
		path := d.bundlePath(n, img.ID)
		if _, err := d.conns.run(ctx, n, "test -f "+shq(path), d.conns.commandLimit()); err != nil {
			var ce *commandError
			if errors.As(err, &ce) {
				return stepError(driver.CodeNotFound, n, "stage", "bundle %s is not on the node (%s): upload the image again", img.ID, path)
			}
			return err
		}
		if _, err := d.conns.run(ctx, n, "rauc install "+shq(path), d.conns.installLimit()); err != nil {
			return classifyInstallError(n, img, err)
		}
		if v = d.readNode(ctx, n, false); v.err != nil {
			return v.err
		}
	}
	if !v.primaryIsBooted() {
		if _, err := d.conns.run(ctx, n, "rauc status mark-active booted", d.conns.commandLimit()); err != nil {
			return stepError(driver.CodeStorageUpdateFailed, n, "stage", "putting the boot order back after install failed (the node is armed: it would boot %s at its next restart; the next apply repairs it): %v", img.Manifest.Version, err)
		}
	}
	return nil
}

// holds reports whether a slot holds the image's payload.
func holds(s *raucSlot, img *driver.Image) bool {
	if s == nil || s.SlotStatus.Checksum.SHA256 == "" {
		return false
	}
	for _, c := range img.Manifest.Components {
		if c.Name == s.Class && c.SHA256 == s.SlotStatus.Checksum.SHA256 {
			return true
		}
	}
	return false
}

func classifyInstallError(n NodeConfig, img *driver.Image, err error) error {
	if driver.CodeOf(err) == driver.CodeNodeTimeout {
		return stepError(driver.CodeNodeTimeout, n, "stage", "rauc install of %s: %v; the node may still be writing its other slot: the next apply stages it again", img.ID, err)
	}
	var ce *commandError
	if !errors.As(err, &ce) {
		return err
	}
	msg := lastLines(ce.stderr)
	switch {
	case strings.Contains(ce.stderr, "Compatible mismatch") || strings.Contains(ce.stderr, "compatible"):
		return stepError(driver.CodeIncompatible, n, "stage", "rauc install refused bundle %s: %s", img.ID, msg)
	case strings.Contains(ce.stderr, "Verify error") || strings.Contains(ce.stderr, "signature verification failed"):
		return stepError(driver.CodeBadSignature, n, "stage", "rauc install refused bundle %s: %s", img.ID, msg)
	case strings.Contains(ce.stderr, "No space left"):
		return stepError(driver.CodeDiskFull, n, "stage", "rauc install of %s ran out of space: %s", img.ID, msg)
	}
	return stepError(driver.CodeStorageUpdateFailed, n, "stage", "rauc install of %s failed: %s", img.ID, msg)
}

func (d *Driver) imageByID(ctx context.Context, id string) (*driver.Image, error) {
	d.mu.Lock()
	img, ok := d.images[id]
	d.mu.Unlock()
	if ok {
		return &img, nil
	}
	return d.Image(ctx, d.cfg.Name, id)
}

// activate boots the node into its other slot, which must hold version,
// waits for it, checks its health and marks the slot good. A node that is
// not healthy in time is reverted when autoRevert asks for it.
func (d *Driver) activate(ctx context.Context, n NodeConfig, version string, autoRevert bool) error {
	v := d.readNode(ctx, n, false)
	if v.err != nil {
		return v.err
	}
	if !appliance.SameVersion(v.bootedVer, version) {
		if !appliance.SameVersion(v.otherVer, version) {
			return stepError(driver.CodeNotStaged, n, "activate", "its other slot holds %q, not %s: stage the image first", v.otherVer, version)
		}
		old := v.bootedVer
		rebooted, err := d.prepareReboot(ctx, n, v)
		if err != nil {
			return err
		}
		defer rebooted()
		// The pending note lets a later read finish this activation (mark
		// the slot good) should this process die after the reboot.
		pending := n.WorkDir + "/pending-good"
		if _, err := d.conns.run(ctx, n, "mkdir -p "+shq(n.WorkDir)+" && echo "+shq(v.other.Bootname)+" > "+shq(pending)+" && rauc status mark-active other", d.conns.commandLimit()); err != nil {
			return stepError(driver.CodeBootFailed, n, "activate", "rauc status mark-active other failed: %v", err)
		}
		booted, err := d.rebootInto(ctx, n, v.other.Bootname)
		if err != nil {
			return err
		}
		if booted != v.other.Bootname {
			return stepError(driver.CodeBootFailed, n, "boot", "it came back on slot %s (%s) instead of %s (%s): the bootloader fell back", booted, old, v.other.Bootname, version)
		}
	}
	if msg, ok := d.awaitHealthy(ctx, n); !ok {
		if !autoRevert {
			return stepError(driver.CodeHealthCheckFailed, n, "health check", "version %s is not healthy after %s: %s; not reverted (auto_revert is off): its slot is not marked good, so the bootloader falls back at its next restart", version, d.cfg.HealthTimeout, msg)
		}
		if err := d.revert(ctx, n, true); err != nil {
			return stepError(driver.CodeRevertFailed, n, "health check", "version %s is not healthy after %s: %s; reverting it failed too: %v", version, d.cfg.HealthTimeout, msg, err)
		}
		return stepError(driver.CodeHealthCheckFailed, n, "health check", "version %s is not healthy after %s: %s; reverted: the node runs its previous slot again", version, d.cfg.HealthTimeout, msg)
	}
	if _, err := d.conns.run(ctx, n, "rauc status mark-good booted && rm -f "+shq(n.WorkDir+"/pending-good"), d.conns.commandLimit()); err != nil {
		return stepError(driver.CodeBootFailed, n, "mark good", "rauc status mark-good failed: %v", err)
	}
	return nil
}

// awaitHealthy runs the health command until it passes or HealthTimeout
// ends. Without a health command the node is healthy once it answers.
func (d *Driver) awaitHealthy(ctx context.Context, n NodeConfig) (string, bool) {
	if d.cfg.HealthCommand == "" {
		return "", true
	}
	deadline := time.Now().Add(d.cfg.HealthTimeout)
	last := ""
	pause := d.backoff()
	for {
		// One attempt may not outlast the health timeout.
		lim := d.conns.commandLimit()
		if left := time.Until(deadline); left < lim.d {
			lim = limit{max(left, 100*time.Millisecond), "health_timeout"}
		}
		out, err := d.conns.run(ctx, n, d.cfg.HealthCommand, lim)
		if err == nil {
			return strings.TrimSpace(out), true
		}
		last = err.Error()
		if time.Now().After(deadline) || ctx.Err() != nil {
			return last, false
		}
		select {
		case <-ctx.Done():
			return last, false
		case <-time.After(pause()):
		}
	}
}

// revert boots the node back into its other slot (marking the booted one
// bad first when markBad) and waits for it.
func (d *Driver) revert(ctx context.Context, n NodeConfig, markBad bool) error {
	v := d.readNode(ctx, n, false)
	if v.err != nil {
		return v.err
	}
	rebooted, err := d.prepareReboot(ctx, n, v)
	if err != nil {
		return err
	}
	defer rebooted()
	cmd := "rauc status mark-active other"
	if markBad {
		cmd = "rauc status mark-bad booted && " + cmd
	}
	if _, err := d.conns.run(ctx, n, cmd, d.conns.commandLimit()); err != nil {
		return stepError(driver.CodeRevertFailed, n, "revert", "%s failed: %v", cmd, err)
	}
	booted, err := d.rebootInto(ctx, n, v.other.Bootname)
	if err != nil {
		return err
	}
	if booted != v.other.Bootname {
		return stepError(driver.CodeRevertFailed, n, "revert", "it came back on slot %s, not %s", booted, v.other.Bootname)
	}
	if _, err := d.conns.run(ctx, n, "rauc status mark-good booted && rm -f "+shq(n.WorkDir+"/pending-good"), d.conns.commandLimit()); err != nil {
		return stepError(driver.CodeRevertFailed, n, "revert", "rauc status mark-good failed: %v", err)
	}
	return nil
}

// rebootInto runs the reboot command, waits for the node to go down (its
// SSH connection drops) and to answer again, and returns the slot it
// booted. The whole of it, dial and reads included, is bounded by
// BootTimeout; the reboot command itself by CommandTimeout.
func (d *Driver) rebootInto(ctx context.Context, n NodeConfig, want string) (string, error) {
	d.setRebooting(n.Name, true)
	defer d.setRebooting(n.Name, false)
	deadline := time.Now().Add(d.cfg.BootTimeout)
	bctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	timedOut := func(step, format string, args ...any) error {
		return stepError(driver.CodeNodeTimeout, n, step, format+" (boot_timeout)", args...)
	}
	d.conns.drop(n.Name)
	cl, err := d.conns.dial(bctx, n)
	if err != nil {
		return "", err
	}
	gone := make(chan struct{})
	go func() {
		_ = cl.Wait()
		close(gone)
	}()
	s, err := d.conns.session(bctx, n, cl)
	if err != nil {
		_ = cl.Close() // abandoned: the session error is the one to report
		return "", unreachable(n, err)
	}
	_, err = runSession(bctx, s, n, d.cfg.RebootCommand, d.cfg.RebootCommand, d.conns.commandLimit())
	var ce *commandError
	if errors.As(err, &ce) {
		_ = cl.Close() // abandoned: the reboot command's failure is the one to report
		return "", stepError(driver.CodeBootFailed, n, "reboot", "the reboot command failed, the node did not reboot: %v", err)
	}
	if driver.CodeOf(err) == driver.CodeNodeTimeout {
		_ = cl.Close() // abandoned: the timeout is the one to report
		return "", stepError(driver.CodeNodeTimeout, n, "reboot", "%v", err)
	}
	// Either it returned (systemctl reboot does) or the connection dropped
	// under it: wait for the drop.
	select {
	case <-gone:
	case <-bctx.Done():
		_ = cl.Close() // abandoned: the node did not go down, which is the error to report
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", timedOut("reboot", "the node did not go down within %s after `%s`", d.cfg.BootTimeout, d.cfg.RebootCommand)
	}
	var last error
	pause := d.backoff()
	for {
		select {
		case <-bctx.Done():
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", timedOut("boot", "the node did not answer within %s after its reboot into slot %s (%v); if it comes back, its bootloader falls back to the previous slot, which was never marked good", d.cfg.BootTimeout, want, last)
		case <-time.After(pause()):
		}
		v := d.readNode(bctx, n, false)
		if v.err == nil {
			return v.status.Booted, nil
		}
		if code := driver.CodeOf(v.err); code == driver.CodeHostKey {
			return "", v.err
		}
		if bctx.Err() == nil {
			last = v.err
		}
	}
}

// backoff returns the pauses between attempts of a wait: from 100ms,
// doubling up to PollInterval, so that a quick node is seen quickly and a
// slow one is not polled hard.
func (d *Driver) backoff() func() time.Duration {
	next := 100 * time.Millisecond
	return func() time.Duration {
		cur := min(next, d.cfg.PollInterval)
		next *= 2
		return cur
	}
}
