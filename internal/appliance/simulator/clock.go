package simulator

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Clock gives the simulated time. Options.Clock nil means the scaled wall
// clock whose epoch is kept in the state file.
type Clock = engine.Clock

// ManualClock is a Clock that moves only when told to (see engine.ManualClock).
type ManualClock = engine.ManualClock

// NewManualClock returns a manual clock set to start.
func NewManualClock(start time.Time) *ManualClock { return engine.NewManualClock(start) }
