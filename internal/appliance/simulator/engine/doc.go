// Package engine is the simulator's state machine: clusters, nodes, tasks,
// leases, the simulated clock, injected faults, the availability ledger,
// events and their persistence. It reproduces the behaviours S1-S26 of
// DOMAIN.md; the HTTP layer (package simulator) only decodes requests and
// encodes answers around a Tx.
//
// Time is simulated: sim time = epoch + (wall now - wall epoch) x time scale,
// with the epoch kept in the state file, so that a reboot started by one
// process has finished when the next process looks. Nothing runs in the
// background: every transaction first advances the state machine to "now"
// (lazily), applying every timer that fell due at the simulated instant it
// fell due, so that events and the availability ledger carry exact times.
//
// The state lives in a JSON file, locked per transaction (package
// filelock), so that several simulators in one or several processes can
// share it: the provider's embedded simulator is started anew by every
// `terraform` command.
//
// Durations (simulated seconds, per cluster, overridable in a topology
// file): reboot 90 (active-standby 180, master-standby/supercluster/netware
// 120), stage 30, resource move 5, promote 10, finalize 60, download 20
// (at least; the real transfer may take longer), settle as the cluster's
// settle_seconds (active-standby: 45 min). A never_returns node is given up
// after 3 reboot times; slow faults multiply a node's durations.
//
// Leases expire in wall-clock time (their job is to fence processes), so
// Lease.ExpiresAt is a wall-clock instant; everything else is simulated time.
package engine
