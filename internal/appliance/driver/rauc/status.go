package rauc

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// raucStatus is `rauc status --detailed --output-format=json`.
type raucStatus struct {
	Compatible  string                `json:"compatible"`
	Booted      string                `json:"booted"`       // bootname of the booted slot
	BootPrimary string                `json:"boot_primary"` // slot name the bootloader boots next
	Slots       []map[string]raucSlot `json:"slots"`
}

type raucSlot struct {
	Name       string `json:"-"`
	Class      string `json:"class"`
	Bootname   string `json:"bootname"`
	State      string `json:"state"`       // booted, active, inactive
	BootStatus string `json:"boot_status"` // good, bad
	SlotStatus struct {
		Bundle struct {
			Compatible  *string `json:"compatible"`
			Version     string  `json:"version"`
			Description string  `json:"description"`
		} `json:"bundle"`
		Checksum struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"checksum"`
		Status string `json:"status"`
	} `json:"slot_status"`
}

// slots returns the booted slot and its counterpart of the same class.
func (s *raucStatus) slots() (booted, other *raucSlot, err error) {
	var all []*raucSlot
	for _, m := range s.Slots {
		for name, sl := range m {
			sl.Name = name
			all = append(all, &sl)
		}
	}
	for _, sl := range all {
		if sl.State == "booted" || (sl.Bootname != "" && sl.Bootname == s.Booted) {
			booted = sl
			break
		}
	}
	if booted == nil {
		return nil, nil, fmt.Errorf("rauc status names no booted slot (booted %q)", s.Booted)
	}
	for _, sl := range all {
		if sl != booted && sl.Class == booted.Class && sl.Bootname != "" {
			other = sl
			break
		}
	}
	if other == nil {
		return nil, nil, fmt.Errorf("rauc status has no second bootable slot of class %s: an A/B update needs two", booted.Class)
	}
	return booted, other, nil
}

// nodeView is what one read of a node found.
type nodeView struct {
	cfg       NodeConfig
	err       error // not reachable or not readable
	status    raucStatus
	booted    *raucSlot
	other     *raucSlot
	bootedVer string
	otherVer  string
	healthy   bool
	healthMsg string
	// pendingGood is the slot an activation booted and has not yet marked
	// good (work_dir/pending-good), "" when none is pending.
	pendingGood string
	// rebootNotes are the reboot notes this node keeps for others
	// (work_dir/rebooting-*) that have not run out, by node name.
	rebootNotes map[string]rebootNote
	// leaseFile is the node's work_dir/lease (a lease, a pointer left by a
	// move, or nothing) and its clock ("now"), read with its status.
	leaseFile map[string]string
}

// rebootNote is what a driver about to reboot a node left on another: the
// node's partitions before the reboot (lease.go, prepareReboot).
type rebootNote struct {
	active, alternate appliance.Partition
}

// parseRebootNotes reads readNode's @@rebooting part: the node's clock,
// then each note, ended by @@end. Notes past their until are dropped.
func parseRebootNotes(part string) map[string]rebootNote {
	now := 0
	out := map[string]rebootNote{}
	f := map[string]string{}
	for _, line := range strings.Split(part, "\n") {
		line = strings.TrimSpace(line)
		if line == "@@end" {
			if f["node"] != "" && atoi(f["until"]) > now {
				out[f["node"]] = rebootNote{
					active:    appliance.Partition{Version: f["active_version"], ImageID: f["active_image"], Bootable: true},
					alternate: appliance.Partition{Version: f["alternate_version"], ImageID: f["alternate_image"], Bootable: f["alternate_version"] != ""},
				}
			}
			f = map[string]string{}
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			if k == "now" {
				now = atoi(val)
			} else {
				f[k] = val
			}
		}
	}
	return out
}

// readNode reads a node's RAUC status, the versions of both slots and its
// health, in one SSH session. withHealth false skips the health command.
func (d *Driver) readNode(ctx context.Context, n NodeConfig, withHealth bool) *nodeView {
	v := &nodeView{cfg: n}
	notes := n.WorkDir + "/slots"
	// Each part is marked, so that a command's own output cannot be taken
	// for another's; the version and health commands run in subshells with
	// their exit status reported.
	script := "rauc status --detailed --output-format=json || echo '@@rauc-failed'\n" +
		"echo; echo '@@notes'; cat " + shq(notes) + "/*.version 2>/dev/null\n" +
		"echo '@@pending'; cat " + shq(n.WorkDir+"/pending-good") + " 2>/dev/null\n" +
		"echo '@@rebooting'; echo \"now=$(date +%s)\"; for f in " + shq(n.WorkDir) + "/rebooting-*; do [ -f \"$f\" ] && cat \"$f\" && echo '@@end'; done\n" +
		"echo '@@lease'; echo \"now=$(date +%s)\"; cat " + shq(n.WorkDir+"/lease") + " 2>/dev/null\n" +
		"echo '@@version'; (" + d.cfg.VersionCommand + ") 2>&1; echo \"@@rc=$?\"\n"
	label := "rauc status --detailed --output-format=json` and the version command `" + shortCommand(d.cfg.VersionCommand)
	if withHealth && d.cfg.HealthCommand != "" {
		script += "echo '@@health'; (" + d.cfg.HealthCommand + ") 2>&1; echo \"@@rc=$?\"\n"
		label += "` and the health command `" + shortCommand(d.cfg.HealthCommand)
	}
	out, err := d.conns.runAs(ctx, n, label, script, d.conns.commandLimit())
	if err != nil {
		v.err = err
		return v
	}
	jsonPart, rest, _ := strings.Cut(out, "\n@@notes\n")
	notePart, rest, _ := strings.Cut(rest, "@@pending\n")
	pendingPart, rest, _ := strings.Cut(rest, "@@rebooting\n")
	rebootPart, rest, _ := strings.Cut(rest, "@@lease\n")
	leasePart, rest, _ := strings.Cut(rest, "@@version\n")
	v.pendingGood = strings.TrimSpace(pendingPart)
	v.rebootNotes = parseRebootNotes(rebootPart)
	v.leaseFile = parseLease(leasePart)
	versionPart, healthPart, _ := strings.Cut(rest, "@@health\n")
	if strings.Contains(jsonPart, "@@rauc-failed") {
		v.err = fmt.Errorf("node %s: rauc status failed: %s", n.Name, strings.TrimSpace(strings.ReplaceAll(jsonPart, "@@rauc-failed", "")))
		return v
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(jsonPart)), &v.status); err != nil {
		v.err = fmt.Errorf("node %s: rauc status is not the JSON RAUC prints: %v", n.Name, err)
		return v
	}
	v.booted, v.other, err = v.status.slots()
	if err != nil {
		v.err = fmt.Errorf("node %s: %v", n.Name, err)
		return v
	}
	noted := map[string]string{}
	for _, line := range strings.Split(notePart, "\n") {
		if b, ver, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			noted[b] = ver
		}
	}
	v.bootedVer = v.booted.SlotStatus.Bundle.Version
	if v.bootedVer == "" {
		// A slot written outside RAUC (the factory image): the running
		// system says, and the answer is noted for when it is not booted.
		ver, ok := commandResult(versionPart)
		if !ok || ver == "" {
			v.err = fmt.Errorf("node %s: the booted slot %s was not installed by RAUC and the version command %q failed: %s", n.Name, v.booted.Bootname, d.cfg.VersionCommand, ver)
			return v
		}
		v.bootedVer = ver
		if noted[v.booted.Bootname] != v.bootedVer {
			_, _ = d.conns.run(ctx, n, fmt.Sprintf("mkdir -p %s && echo %s > %s/%s.version", shq(notes), shq(v.booted.Bootname+"="+v.bootedVer), shq(notes), v.booted.Bootname), d.conns.commandLimit())
		}
	}
	v.otherVer = v.other.SlotStatus.Bundle.Version
	if v.otherVer == "" {
		v.otherVer = noted[v.other.Bootname]
	}
	if !withHealth {
		return v
	}
	if d.cfg.HealthCommand == "" {
		v.healthy = v.booted.BootStatus == "good"
		if !v.healthy {
			v.healthMsg = "the booted slot is not marked good"
		}
		return v
	}
	v.healthMsg, v.healthy = commandResult(healthPart)
	return v
}

// commandResult splits a part of readNode's output into the command's
// output and whether it exited 0.
func commandResult(part string) (string, bool) {
	i := strings.LastIndex(part, "@@rc=")
	if i < 0 {
		return strings.TrimSpace(part), false
	}
	return strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+len("@@rc="):]) == "0"
}

// primaryIsBooted reports whether the bootloader boots the booted slot next.
func (v *nodeView) primaryIsBooted() bool {
	return v.status.BootPrimary == "" || v.status.BootPrimary == v.booted.Name
}

// snapshot reads every node in parallel into a cluster snapshot.
func (d *Driver) snapshot(ctx context.Context) (*appliance.Cluster, []*nodeView, error) {
	views := make([]*nodeView, len(d.cfg.Nodes))
	var wg sync.WaitGroup
	for i, n := range d.cfg.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i] = d.readNode(ctx, n, true)
		}()
	}
	wg.Wait()
	groups, member := haGroups(d.cfg.Nodes)
	c := &appliance.Cluster{Name: d.cfg.Name, HAGroups: groups, HAEnabled: len(groups) > 0, Healthy: true}
	// A node that cannot be reached is rebooting when this driver reboots
	// it, or when another node keeps a reboot note for it: a driver (maybe
	// of an apply that has since crashed) rebooted it less than
	// boot_timeout ago.
	notes := map[string]rebootNote{}
	for _, v := range views {
		if v.err == nil {
			for name, note := range v.rebootNotes {
				notes[name] = note
			}
		}
	}
	for _, v := range views {
		if driver.CodeOf(v.err) == driver.CodeHostKey || driver.CodeOf(v.err) == driver.CodeUnauthorized {
			return nil, nil, v.err
		}
		node := appliance.Node{Name: v.cfg.Name, Role: v.cfg.Role, HAGroup: member[v.cfg.Name]}
		if v.err != nil {
			node.State = appliance.NodeDown
			note, noted := notes[v.cfg.Name]
			if noted {
				node.Active, node.Alternate = note.active, note.alternate
			}
			if d.isRebooting(v.cfg.Name) || noted {
				node.State = appliance.NodeRebooting
			}
			c.Healthy = false
			c.Nodes = append(c.Nodes, node)
			continue
		}
		c.ReportedMembers++
		d.noteCompatible(v.status.Compatible)
		d.finishActivation(ctx, v)
		node.State = appliance.NodeRunning
		node.Healthy = v.healthy
		node.Active = appliance.Partition{Version: v.bootedVer, ImageID: d.imageForChecksum(v.booted.SlotStatus.Checksum.SHA256), Bootable: true, Description: v.booted.SlotStatus.Bundle.Description}
		node.Alternate = appliance.Partition{Version: v.otherVer, ImageID: d.imageForChecksum(v.other.SlotStatus.Checksum.SHA256), Bootable: v.otherVer != "", Description: v.other.SlotStatus.Bundle.Description}
		node.Armed = !v.primaryIsBooted() && !d.isRebooting(v.cfg.Name)
		c.Healthy = c.Healthy && v.healthy
		c.Nodes = append(c.Nodes, node)
	}
	c.Lease = d.leaseHolder(views)
	return c, views, nil
}

// leaseHolder finds the cluster's live lease in the lease files the
// snapshot read, where the lease scripts would (lease.go): from the home
// along the pointers, or, when a node on the way was not read, on any node
// read. Nil when no live lease is found. Expiry and silence are counted by
// the clock of the node holding it, as the scripts count them.
func (d *Driver) leaseHolder(views []*nodeView) *appliance.LeaseHolder {
	byName := map[string]*nodeView{}
	for _, v := range views {
		byName[v.cfg.Name] = v
	}
	var f map[string]string
	v := byName[d.leaseHome().Name]
	for hops := 0; v != nil && v.err == nil && hops <= len(views); hops++ {
		next, moved := v.leaseFile["moved"]
		if !moved {
			f = v.leaseFile
			break
		}
		v = byName[next]
	}
	if f == nil {
		for _, v := range views {
			if v.err == nil && v.leaseFile["id"] != "" {
				f = v.leaseFile
				break
			}
		}
	}
	if f == nil || f["id"] == "" {
		return nil
	}
	now := atoi(f["now"])
	left := atoi(f["expires"]) - now
	if left <= 0 {
		return nil
	}
	return &appliance.LeaseHolder{Owner: f["owner"], OperationKey: f["operation"], ExpiresAt: time.Now().Add(time.Duration(left) * time.Second).UTC(),
		SilentSeconds: now - atoi(f["renewed"]), HeartbeatSeconds: atoi(f["heartbeat"])}
}

// finishActivation completes an activation that an interrupted apply left
// between reboot and mark-good (the executor, seeing the node on its new
// version, would not activate it again): a healthy node booted into the
// pending slot gets it marked good; a node the bootloader took back to the
// other slot drops the note.
func (d *Driver) finishActivation(ctx context.Context, v *nodeView) {
	if v.pendingGood == "" || d.isRebooting(v.cfg.Name) {
		return
	}
	pending := v.cfg.WorkDir + "/pending-good"
	switch {
	case v.pendingGood == v.booted.Bootname && v.healthy:
		if _, err := d.conns.run(ctx, v.cfg, "rauc status mark-good booted && rm -f "+shq(pending), d.conns.commandLimit()); err == nil {
			v.pendingGood = ""
		}
	case v.pendingGood != v.booted.Bootname && v.primaryIsBooted():
		if _, err := d.conns.run(ctx, v.cfg, "rm -f "+shq(pending), d.conns.commandLimit()); err == nil {
			v.pendingGood = ""
		}
	}
}
