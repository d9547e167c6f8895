package simulator

import "github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"

// The preset topologies (documented on the engine's constants), named here
// too so that callers of the simulator need only this package.
const (
	PresetPrimaryHA     = engine.PresetPrimaryHA
	PresetActiveStandby = engine.PresetActiveStandby
	PresetMasterStandby = engine.PresetMasterStandby
	PresetSupercluster  = engine.PresetSupercluster
	PresetNetWare       = engine.PresetNetWare
	DefaultPreset       = engine.DefaultPreset
)

// PresetNames lists the preset topologies, sorted.
func PresetNames() []string { return engine.PresetNames() }
