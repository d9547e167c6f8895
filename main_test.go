package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
)

func TestProfileCPU_WritesAProfileOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(profileCPUEnv, "")
	profileCPU()()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a profile was written without %s: %v", profileCPUEnv, entries)
	}
	t.Setenv(profileCPUEnv, dir)
	stop := profileCPU()
	stop()
	fi, err := os.Stat(filepath.Join(dir, "cpu-"+strconv.Itoa(os.Getpid())+".pprof"))
	if err != nil {
		t.Fatalf("no profile: %v", err)
	}
	if fi.Size() == 0 {
		t.Fatal("the profile is empty")
	}
}

func TestLessFrequentGC_KeepsAnExplicitGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	env := map[string]string{"GOGC": "50"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	debug.SetGCPercent(50)
	lessFrequentGC(lookup)
	if got := debug.SetGCPercent(50); got != 50 {
		t.Fatalf("GOGC=50 became %d", got)
	}
	delete(env, "GOGC")
	lessFrequentGC(lookup)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("without GOGC the collector runs at %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Fatalf("without GOMEMLIMIT the soft limit is %d, want 256 MiB", got)
	}
}
