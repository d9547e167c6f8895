package engine

import (
	"sync"
	"time"
)

// Clock gives the simulated time. Options.Clock nil means the scaled wall
// clock whose epoch is kept in the state file.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that moves only when told to: unit tests use it to
// make a 90-second reboot take no wall time at all, and POST /v1/clock/advance
// moves it over the API.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a manual clock set to start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start.UTC()}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (negative d is ignored: simulated
// time never goes back).
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clockState is the scaled clock's epoch, persisted so that every process
// sharing the state file agrees on the simulated time.
type clockState struct {
	EpochWall time.Time `json:"epoch_wall"`
	EpochSim  time.Time `json:"epoch_sim"`
	Scale     float64   `json:"time_scale"`
	// Last is the latest simulated time any process has seen; simulated time
	// never goes back, even when the wall clock is stepped back.
	Last time.Time `json:"last"`
}

// simNow maps a wall time to simulated time.
func (c clockState) simNow(wall time.Time) time.Time {
	d := float64(wall.Sub(c.EpochWall)) * c.Scale
	t := c.EpochSim.Add(time.Duration(d)).UTC()
	if t.Before(c.Last) {
		return c.Last
	}
	return t
}

// WallDelay is how long (wall time) until the simulated instant at, so that
// a long-poll can sleep exactly until a task is due.
func (c clockState) WallDelay(now, at time.Time) time.Duration {
	if !at.After(now) || c.Scale <= 0 {
		return 0
	}
	return time.Duration(float64(at.Sub(now)) / c.Scale)
}
