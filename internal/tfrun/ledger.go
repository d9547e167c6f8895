package tfrun

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Ledger remembers, per run, the sha256 each bundle file had when the run
// first planned it: in memory for this process, and in a small record under
// Dir for the run's other processes. An empty Dir keeps it in memory only.
type Ledger struct {
	Dir string

	mu     sync.Mutex
	mem    map[string]string
	pruned bool
}

// ledgerTTL is how long a record is kept: a saved plan older than this is
// applied without the check (Terraform refuses most of them anyway, as the
// state has moved on).
const ledgerTTL = 30 * 24 * time.Hour

type ledgerRecord struct {
	Run      string    `json:"run"`
	File     string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Recorded time.Time `json:"recorded"`
}

// Planned returns the sha256 the run recorded for file.
func (l *Ledger) Planned(run Run, file string) (string, bool) {
	k := ledgerKey(run, file)
	l.mu.Lock()
	sum, ok := l.mem[k]
	l.mu.Unlock()
	if ok || l.Dir == "" {
		return sum, ok
	}
	data, err := os.ReadFile(filepath.Join(l.Dir, k+".json"))
	if err != nil {
		return "", false
	}
	var rec ledgerRecord
	if json.Unmarshal(data, &rec) != nil || rec.Run != run.Key || rec.File != file || len(rec.SHA256) != 64 ||
		time.Since(rec.Recorded) > ledgerTTL {
		return "", false
	}
	sum = strings.ToLower(rec.SHA256)
	l.mu.Lock()
	if l.mem == nil {
		l.mem = map[string]string{}
	}
	l.mem[k] = sum // the run's other resources of this file ask again
	l.mu.Unlock()
	return sum, true
}

// Record remembers sum as what the run planned for file, replacing what it
// recorded before (a new `terraform plan -out` of the same plan file).
func (l *Ledger) Record(run Run, file, sum string) {
	k := ledgerKey(run, file)
	sum = strings.ToLower(sum)
	l.mu.Lock()
	if l.mem == nil {
		l.mem = map[string]string{}
	}
	if l.mem[k] == sum {
		// This process recorded it already: many resources of one
		// configuration may share a bundle file (100 images of one file
		// were 100 writes and 100 scans of the directory per plan).
		l.mu.Unlock()
		return
	}
	l.mem[k] = sum
	prune := !l.pruned
	l.pruned = true
	l.mu.Unlock()
	if l.Dir == "" || os.MkdirAll(l.Dir, 0o700) != nil {
		return
	}
	data, err := json.Marshal(ledgerRecord{Run: run.Key, File: file, SHA256: sum, Recorded: time.Now().UTC()})
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(l.Dir, ".run-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(l.Dir, k+".json")) != nil {
		_ = os.Remove(tmp.Name())
	}
	if prune {
		l.prune()
	}
}

// prune removes records older than ledgerTTL; once per process is enough.
func (l *Ledger) prune() {
	entries, err := os.ReadDir(l.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".json") && time.Since(fi.ModTime()) > ledgerTTL {
			_ = os.Remove(filepath.Join(l.Dir, e.Name()))
		}
	}
}

func ledgerKey(run Run, file string) string {
	sum := sha256.Sum256([]byte(run.Key + "\x00" + file))
	return hex.EncodeToString(sum[:16])
}

// Check is what a plan of file, found to have sum, does with the ledger:
// the first plan of a run records the sum, and a later plan of the same run
// (Terraform's final plan at apply) returns the recorded sum and true when
// the file no longer has it. `terraform plan -out` always records: a new
// plan into the same file replaces the old one.
func (l *Ledger) Check(run Run, file, sum string) (planned string, changed bool) {
	if run.MakesSavedPlan {
		l.Record(run, file, sum)
		return "", false
	}
	planned, had := l.Planned(run, file)
	switch {
	case had:
		return planned, !strings.EqualFold(planned, sum)
	case !run.AppliesSavedPlan:
		l.Record(run, file, sum)
	}
	return "", false
}
