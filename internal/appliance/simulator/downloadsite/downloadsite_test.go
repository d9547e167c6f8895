package downloadsite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /site/bundles/{name}", Handler(func() ([]string, []string, error) {
		return []string{"1.0"}, []string{"os", "storage"}, nil
	}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.Bytes()
}

// The same URL gives the same bytes, and .sha256 their sum; a bundle
// asked for without from= or components= fits what the clusters run.
func TestABundleIsDeterministicAndFitsTheClusters(t *testing.T) {
	ts := site(t)
	status, tar := get(t, ts.URL+"/site/bundles/1.1.tar?size=100")
	_, again := get(t, ts.URL+"/site/bundles/1.1.tar?size=100")
	_, sum := get(t, ts.URL+"/site/bundles/1.1.tar.sha256?size=100")
	h := sha256.Sum256(tar)
	if status != 200 || !bytes.Equal(tar, again) || strings.Fields(string(sum))[0] != hex.EncodeToString(h[:]) {
		t.Fatalf("status %d, %d bytes, sum %q", status, len(tar), sum)
	}
	m, err := bundle.Verify(bytes.NewReader(tar))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.1" || strings.Join(m.SupportedFrom, ",") != "1.0" || strings.Join(m.ComponentNames(), ",") != "os,storage" {
		t.Errorf("manifest %+v", m)
	}
}

func TestBadRequestsAreRefusedBeforeAnyByte(t *testing.T) {
	ts := site(t)
	for path, want := range map[string]int{
		"/site/bundles/1.1.zip":            404,
		"/site/bundles/latest.tar":         400,
		"/site/bundles/1.1.tar?size=-1":    400,
		"/site/bundles/1.1.tar?size=1e99":  400,
		"/site/bundles/1.1.tar?from=bogus": 400,
	} {
		status, body := get(t, ts.URL+path)
		if status != want || !bytes.Contains(body, []byte(`"code"`)) {
			t.Errorf("%s: %d %s, want %d with an API error body", path, status, body, want)
		}
	}
}
