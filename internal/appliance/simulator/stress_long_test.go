//go:build stress

package simulator

import (
	"testing"
	"time"
)

// TestStress200ClientsTenSeconds: 200 concurrent clients for 10 s on two
// simulators sharing one state file. Run it with
//
//	go test -race -tags stress -run TestStress ./internal/appliance/simulator/
func TestStress200ClientsTenSeconds(t *testing.T) {
	runStress(t, 200, 10*time.Second)
}
