package lab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Event is one line of a node's record.
type Event struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"` // install, reboot, down, boot, hang, up, no_bootable_slot
	// Slot is the bootname (A or B) installed into or booted.
	Slot    string `json:"slot,omitempty"`
	Version string `json:"version,omitempty"`
	// Fallback is set on a boot that did not boot the primary slot.
	Fallback bool `json:"fallback,omitempty"`
}

// The events of a record.
const (
	EventInstall    = "install"          // RAUC wrote a slot (its post-install handler)
	EventReboot     = "reboot"           // the node's reboot command ran (or the watchdog fired)
	EventDown       = "down"             // rauc service and sshd stopped
	EventBoot       = "boot"             // the bootloader chose a slot
	EventHang       = "hang"             // the booted version never comes up (fault)
	EventUp         = "up"               // sshd accepts connections again
	EventNoBootable = "no_bootable_slot" // the bootloader found no slot to boot
)

// recorder appends events to a node's record file.
type recorder struct {
	mu   sync.Mutex
	path string
}

func (r *recorder) add(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, _ := json.Marshal(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }() // best effort, like the write: add reports nothing
	_, _ = f.Write(append(line, '\n'))
}

// Record reads the node's record, oldest first.
func (n *Node) Record() ([]Event, error) {
	f, err := os.Open(n.path("record.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("lab: read record of %s: %w", n.Name, err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	var out []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("lab: record of %s: bad line %q: %w", n.Name, sc.Text(), err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Count returns how many events of the given kind the node's record holds.
func (n *Node) Count(event string) (int, error) {
	rec, err := n.Record()
	if err != nil {
		return 0, err
	}
	c := 0
	for _, e := range rec {
		if e.Event == event {
			c++
		}
	}
	return c, nil
}

// Interval is a time a node was down: from its services stopping to sshd
// accepting again. An interval still open has a zero Up.
type Interval struct {
	Down, Up time.Time
}

// Downtimes returns the intervals in which the node was down.
func (n *Node) Downtimes() ([]Interval, error) {
	rec, err := n.Record()
	if err != nil {
		return nil, err
	}
	var out []Interval
	var open *Interval
	for _, e := range rec {
		switch e.Event {
		case EventDown:
			if open == nil {
				open = &Interval{Down: e.Time}
			}
		case EventUp:
			if open != nil {
				open.Up = e.Time
				out = append(out, *open)
				open = nil
			}
		}
	}
	if open != nil {
		out = append(out, *open)
	}
	return out, nil
}

// DownTogether reports the first moment at which nodes a and b were both
// down, or the zero time when they never were.
func DownTogether(a, b *Node) (time.Time, error) {
	da, err := a.Downtimes()
	if err != nil {
		return time.Time{}, err
	}
	db, err := b.Downtimes()
	if err != nil {
		return time.Time{}, err
	}
	far := time.Now().Add(24 * time.Hour)
	end := func(t time.Time) time.Time {
		if t.IsZero() {
			return far
		}
		return t
	}
	for _, x := range da {
		for _, y := range db {
			start := x.Down
			if y.Down.After(start) {
				start = y.Down
			}
			stop := end(x.Up)
			if end(y.Up).Before(stop) {
				stop = end(y.Up)
			}
			if start.Before(stop) {
				return start, nil
			}
		}
	}
	return time.Time{}, nil
}
