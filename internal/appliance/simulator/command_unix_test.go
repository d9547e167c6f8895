//go:build unix

package simulator

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunCommandPrintsURLAndTokenAndStopsOnSIGTERM(t *testing.T) {
	addr := freePort(t)
	state := filepath.Join(t.TempDir(), "s.json")
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- RunCommand([]string{"--listen", addr, "--state", state, "--topology", "netware", "--time-scale", "60"}, &out, &errb)
	}()
	var token string
	for i := 0; i < 200 && token == ""; i++ {
		time.Sleep(10 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "export APPLIANCE_TOKEN="); ok {
				token = v
			}
		}
	}
	if len(token) < 32 {
		t.Fatalf("no generated token in %q (stderr %q)", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "http://"+addr) {
		t.Fatalf("no URL in %q", out.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/clusters/ncs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	// The token appears once on stdout, never in the state file.
	if strings.Count(out.String(), token) != 1 {
		t.Errorf("token printed %d times", strings.Count(out.String(), token))
	}
	data, _ := os.ReadFile(state)
	if bytes.Contains(data, []byte(token)) || strings.Contains(errb.String(), token) {
		t.Error("the token leaked into the state file or stderr")
	}
}
