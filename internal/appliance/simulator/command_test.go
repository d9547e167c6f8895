package simulator

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	// The port is free for the caller only once this listener is closed.
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
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
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
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
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := http.Get(s.URL() + "/healthz"); err == nil {
		t.Fatal("an untrusting client connected")
	}
}
