package client

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

func TestNewRejectsEndpointsThatAreNotAbsoluteHTTPURLs(t *testing.T) {
	for endpoint, want := range map[string]string{
		"":                          "endpoint is required",
		"appliance.example.com":     "absolute http",
		"ftp://appliance.example":   "absolute http",
		"https://":                  "absolute http",
		"https://u:p@appliance/":    "must not carry credentials",
		"https://appliance/?x=1":    "query",
		"http://[::1:bad":           "not a URL",
		"https://appliance.example": "",
		"http://127.0.0.1:8080/api": "",
	} {
		_, err := New(Config{Endpoint: endpoint, Token: testToken})
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", endpoint, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: err %v, want it to mention %q", endpoint, err, want)
		}
	}
}

func TestNewRejectsACACertPEMThatIsNotPEM(t *testing.T) {
	for text, want := range map[string]string{
		"not a certificate": "no PEM certificate",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n": "not a valid certificate",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n": "not a CERTIFICATE",
	} {
		_, err := New(Config{Endpoint: "https://appliance", CACertPEM: text})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "ca_cert_pem") {
			t.Errorf("%q: err %v, want a ca_cert_pem error mentioning %q", text, err, want)
		}
	}
}

func TestCACertPEMIsTrustedAndAnUnknownCAIsRefusedWithoutRetrying(t *testing.T) {
	n := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n++
		writeJSON(w, 200, appliance.Cluster{Name: "c1"})
	}))
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	c, err := New(Config{Endpoint: srv.URL, Token: testToken, CACertPEM: caPEM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCluster(context.Background(), "c1"); err != nil {
		t.Fatalf("with the CA: %v", err)
	}

	c, _ = New(Config{Endpoint: srv.URL, Token: testToken, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	before := n
	_, err = c.GetCluster(context.Background(), "c1")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
	if n != before || strings.Contains(err.Error(), "giving up") {
		t.Fatalf("a certificate error was retried: %v", err)
	}

	c, _ = New(Config{Endpoint: srv.URL, Token: testToken, Insecure: true})
	if _, err := c.GetCluster(context.Background(), "c1"); err != nil {
		t.Fatalf("insecure: %v", err)
	}
}

func TestTLSConfigAsksForAtLeastTLS1_2(t *testing.T) {
	tc, err := tlsConfig(Config{})
	if err != nil || tc.MinVersion < 0x0303 {
		t.Fatalf("MinVersion %x, %v", tc.MinVersion, err)
	}
}
