package bundle

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecallFindsWhatWasRememberedForAnUnchangedFileOnly(t *testing.T) {
	freshCache(t)
	ForgetRemembered()
	t.Cleanup(ForgetRemembered)
	path := filepath.Join(t.TempDir(), "b.raucb")
	if err := os.WriteFile(path, []byte("bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	type found struct{ Version string }
	var got found
	id, ok := Recall(path, "check:keyring-a", &got)
	if ok {
		t.Fatal("recalled a check never made")
	}
	Remember(id, "check:keyring-a", found{"1.1"})
	if _, ok := Recall(path, "check:keyring-a", &got); !ok || got.Version != "1.1" {
		t.Fatalf("same process: %v %+v", ok, got)
	}
	// Another process: only the record on disk is left.
	ForgetRemembered()
	got = found{}
	if _, ok := Recall(path, "check:keyring-a", &got); !ok || got.Version != "1.1" {
		t.Fatalf("new process: %v %+v", ok, got)
	}
	if _, ok := Recall(path, "check:keyring-b", &got); ok {
		t.Fatal("recalled under another key (another keyring)")
	}
	// Rewritten in place with the same size: mtime and ctime differ.
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(path, []byte("BUNDLE"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := Recall(path, "check:keyring-a", &got); ok {
		t.Fatal("recalled for a file that changed")
	}
}

func TestRememberSkipsAFileThatChangedDuringItsCheck(t *testing.T) {
	freshCache(t)
	ForgetRemembered()
	t.Cleanup(ForgetRemembered)
	path := filepath.Join(t.TempDir(), "b.raucb")
	if err := os.WriteFile(path, []byte("bundle"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v string
	id, _ := Recall(path, "k", &v)
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(path, []byte("changed while checked"), 0o600); err != nil {
		t.Fatal(err)
	}
	Remember(id, "k", "checked")
	if _, ok := Recall(path, "k", &v); ok {
		t.Fatal("a file that changed during its check was remembered")
	}
}
