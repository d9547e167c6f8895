package simulator

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

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
	resp.Body.Close()
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

func TestRunCommandRejectsBadFlags(t *testing.T) {
	var out, errb syncBuffer
	if code := RunCommand([]string{"--topology", "nope", "--listen", freePort(t), "--state", filepath.Join(t.TempDir(), "s.json")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "unknown topology") {
		t.Fatalf("code %d stderr %q", code, errb.String())
	}
	if code := RunCommand([]string{"--bogus"}, io.Discard, &errb); code != 2 {
		t.Fatalf("code %d", code)
	}
}

func TestGeneratedTLS(t *testing.T) {
	s, err := Start(t.Context(), Options{Token: "tok", GenerateTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("url %s", s.URL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("bad CA PEM")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := http.Get(s.URL() + "/healthz"); err == nil {
		t.Fatal("an untrusting client connected")
	}
}
