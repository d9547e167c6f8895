// Package simulator is the bundled simulator of clustered appliances: the
// Appliance Management API (v1) over HTTP, backed by a state machine that
// reproduces the behaviours S1-S26 of DOMAIN.md with scaled time and
// injectable faults.
//
// Time is simulated: sim time = epoch + (wall now - wall epoch) x time scale,
// with the epoch kept in the state file, so that a reboot started by one
// process has finished when the next process looks. Nothing runs in the
// background: every request first advances the state machine to "now"
// (lazily), applying every timer that fell due at the simulated instant it
// fell due, so that events and the availability ledger carry exact times.
//
// The state lives in a JSON file, locked per transaction (flock on a lock
// file next to it), so that several simulators in one or several processes
// can share it: the provider's embedded simulator is started anew by every
// `terraform` command.
package simulator
