// Package filelock is the exclusive lock a simulator takes on its state file
// for one transaction, so that several simulators in one or several
// processes can share a state file: flock where the system has it, an
// exclusively created lock file elsewhere.
package filelock

// New returns an unlocked lock on the file at path (created on first Lock).
func New(path string) *Lock { return &Lock{path: path} }
