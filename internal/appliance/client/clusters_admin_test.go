package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClusterAdministrationCallsUseTheirRoutes(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "c1", "supercluster": "sc2"})
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.InstallLicense(ctx, "c1", "6.5"); err != nil {
		t.Fatal(err)
	}
	snap, err := c.SetSupercluster(ctx, "c1", "sc2")
	if err != nil || snap.Supercluster != "sc2" {
		t.Fatalf("SetSupercluster: %v %+v", err, snap)
	}
	if _, err := c.SetMaintenance(ctx, "c1", true); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`POST /v1/clusters/c1/licenses {"series":"6.5"}`,
		`POST /v1/clusters/c1/supercluster {"name":"sc2"}`,
		`POST /v1/clusters/c1/maintenance {"open":true}`,
	}
	if len(got) != len(want) {
		t.Fatalf("requests: %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, got[i], want[i])
		}
	}
}
