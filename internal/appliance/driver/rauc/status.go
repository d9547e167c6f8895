package rauc

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

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
}

// readNode reads a node's RAUC status, the versions of both slots and its
// health. withHealth false skips the health command.
func (d *Driver) readNode(ctx context.Context, n NodeConfig, withHealth bool) *nodeView {
	v := &nodeView{cfg: n}
	notes := n.WorkDir + "/slots"
	out, err := d.conns.run(ctx, n, "rauc status --detailed --output-format=json && echo && echo '@@notes' && (cat "+shq(notes)+"/*.version 2>/dev/null || true)", d.cfg.CommandTimeout)
	if err != nil {
		v.err = err
		return v
	}
	jsonPart, notePart, _ := strings.Cut(out, "\n@@notes\n")
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
		// A slot written outside RAUC (the factory image): ask the
		// running system, and note the answer for when it is not booted.
		out, err := d.conns.run(ctx, n, d.cfg.VersionCommand, d.cfg.CommandTimeout)
		if err != nil {
			v.err = fmt.Errorf("node %s: the version command failed: %w", n.Name, err)
			return v
		}
		v.bootedVer = strings.TrimSpace(out)
		if v.bootedVer != "" && noted[v.booted.Bootname] != v.bootedVer {
			_, _ = d.conns.run(ctx, n, fmt.Sprintf("mkdir -p %s && echo %s > %s/%s.version", shq(notes), shq(v.booted.Bootname+"="+v.bootedVer), shq(notes), v.booted.Bootname), d.cfg.CommandTimeout)
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
	out, err = d.conns.run(ctx, n, d.cfg.HealthCommand, d.cfg.CommandTimeout)
	v.healthy = err == nil
	if err != nil {
		v.healthMsg = err.Error()
	} else {
		v.healthMsg = strings.TrimSpace(out)
	}
	return v
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
	for _, v := range views {
		if driver.CodeOf(v.err) == driver.CodeHostKey || driver.CodeOf(v.err) == driver.CodeUnauthorized {
			return nil, nil, v.err
		}
		node := appliance.Node{Name: v.cfg.Name, Role: v.cfg.Role, HAGroup: member[v.cfg.Name]}
		if v.err != nil {
			node.State = appliance.NodeDown
			if d.isRebooting(v.cfg.Name) {
				node.State = appliance.NodeRebooting
			}
			c.Healthy = false
			c.Nodes = append(c.Nodes, node)
			continue
		}
		c.ReportedMembers++
		d.noteCompatible(v.status.Compatible)
		node.State = appliance.NodeRunning
		node.Healthy = v.healthy
		node.Active = appliance.Partition{Version: v.bootedVer, ImageID: d.imageForChecksum(v.booted.SlotStatus.Checksum.SHA256), Bootable: true, Description: v.booted.SlotStatus.Bundle.Description}
		node.Alternate = appliance.Partition{Version: v.otherVer, ImageID: d.imageForChecksum(v.other.SlotStatus.Checksum.SHA256), Bootable: v.otherVer != "", Description: v.other.SlotStatus.Bundle.Description}
		node.Armed = !v.primaryIsBooted() && !d.isRebooting(v.cfg.Name)
		c.Healthy = c.Healthy && v.healthy
		c.Nodes = append(c.Nodes, node)
	}
	return c, views, nil
}
