package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Config configures an Engine.
type Config struct {
	// StatePath is the JSON state file; "" keeps the state in memory.
	StatePath string
	// Topology is the shape a missing state file starts from, and
	// TopologyName the name recorded for it.
	Topology     *Topology
	TopologyName string
	// TimeScale is simulated seconds per wall second (positive).
	TimeScale float64
	// Clock replaces the scaled wall clock (tests: NewManualClock).
	Clock Clock
	// Worker identifies this process in the records of tasks it does real
	// I/O for (downloads), so that another process can tell them orphaned.
	Worker string
}

// Engine is the state machine of the simulated clusters behind one state
// file: every Tx advances it to "now" first, then runs one request.
type Engine struct {
	cfg   Config
	store *store

	notifyMu sync.Mutex
	notifyCh chan struct{} // closed and replaced on every committed change
}

// Open opens (or creates) the state file at once, so that a bad topology
// or a damaged state file is reported here.
func Open(cfg Config) (*Engine, error) {
	if cfg.TimeScale <= 0 {
		return nil, errors.New("simulator: time scale must be positive")
	}
	if cfg.Worker == "" {
		cfg.Worker = RandomID(8)
	}
	e := &Engine{cfg: cfg, notifyCh: make(chan struct{})}
	e.store = newStore(cfg.StatePath, func() (*State, error) {
		wall := time.Now()
		cl := clockState{EpochWall: wall.UTC(), EpochSim: wall.UTC().Truncate(time.Second), Scale: cfg.TimeScale}
		now := cl.simNow(wall)
		if cfg.Clock != nil {
			now = cfg.Clock.Now().UTC()
			cl.EpochSim = now
		}
		return newState(cfg.TopologyName, cfg.Topology, cl, now)
	})
	// Touch the state once: creates a missing file, rejects a damaged one.
	if err := e.Tx(func(*Tx) error { return nil }); err != nil {
		_ = e.store.close()
		return nil, err
	}
	return e, nil
}

// Close releases the state file's lock.
func (e *Engine) Close() error { return e.store.close() }

// Manual reports whether the clock is a test's clock rather than the
// scaled wall clock.
func (e *Engine) Manual() bool { return e.cfg.Clock != nil }

// Clock is the clock given in Config (nil for the scaled wall clock).
func (e *Engine) Clock() Clock { return e.cfg.Clock }

// Worker identifies this process in task records.
func (e *Engine) Worker() string { return e.cfg.Worker }

// Tx is one transaction: the state, the simulated instant, and whether
// the request changed anything (then the state is saved).
type Tx struct {
	St    *State
	Now   time.Time
	Dirty bool
	eng   *Engine
}

// Tx runs fn in a state transaction at the current simulated time, after
// advancing the state machine to it.
func (e *Engine) Tx(fn func(*Tx) error) error {
	changed := false
	err := e.store.update(func(st *State) (bool, error) {
		t := &Tx{St: st, eng: e}
		dirty := false
		if e.cfg.Clock == nil && st.Clock.Scale != e.cfg.TimeScale {
			// Another time scale than the state was made with: re-base the
			// epoch at the current simulated time, so time stays continuous.
			wall := time.Now()
			now := st.Clock.simNow(wall)
			st.Clock = clockState{EpochWall: wall.UTC(), EpochSim: now, Scale: e.cfg.TimeScale, Last: now}
			dirty = true
		}
		t.Now = e.now(st)
		if st.advance(t.Now) {
			dirty = true
		}
		t.reapOrphans()
		err := fn(t)
		dirty = dirty || t.Dirty
		if dirty && t.Now.After(st.Clock.Last) {
			st.Clock.Last = t.Now
		}
		changed = dirty
		return dirty, err
	})
	if changed {
		e.notify()
	}
	return err
}

// Refresh re-reads the clock (after a manual clock moved inside the
// transaction) and applies every timer that fell due.
func (t *Tx) Refresh() {
	t.Now = t.eng.now(t.St)
	if t.St.advance(t.Now) {
		t.Dirty = true
	}
}

// now is the simulated time.
func (e *Engine) now(st *State) time.Time {
	if e.cfg.Clock != nil {
		n := e.cfg.Clock.Now().UTC()
		if n.Before(st.Clock.Last) {
			return st.Clock.Last
		}
		return n
	}
	return st.Clock.simNow(time.Now())
}

// Changes returns a channel closed at the next committed change in this
// process, so that long-polls wake at once instead of on their next tick.
func (e *Engine) Changes() <-chan struct{} {
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	return e.notifyCh
}

func (e *Engine) notify() {
	e.notifyMu.Lock()
	close(e.notifyCh)
	e.notifyCh = make(chan struct{})
	e.notifyMu.Unlock()
}

// RandomID returns n random bytes in hex.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WallNow is the wall clock of leases and download heartbeats (which fence
// processes, whose pace is wall-clock whatever the time scale); a variable
// so that tests can move it.
var WallNow = time.Now

// Changed records that the request changed cs: the ledger and the
// cluster's health are brought up to date with it.
func (t *Tx) Changed(cs *ClusterState) {
	t.Dirty = true
	updateAvailability(cs, t.Now)
	UpdateHealth(cs)
}
