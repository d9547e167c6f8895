//go:build !linux

package tfrun

// parentProcess: only Linux's /proc is read; elsewhere no run is known.
func parentProcess() (process, bool) { return process{}, false }
