package simulator

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func TestATopologyWithTrustedKeysRequiresSignedUploads(t *testing.T) {
	key, _ := bundle.GenerateKey()
	pubKey, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		t.Fatalf("the key's public half is a %T, not an ed25519.PublicKey", key.Public())
	}
	pubPEM, _ := bundle.EncodePublicKey(pubKey)
	keyJSON, _ := json.Marshal(string(pubPEM))
	path := writeTopology(t, fmt.Sprintf(`{"trusted_keys": [%s], "clusters": [{"name": "c", "nodes": [{"name": "a", "role": "member", "active": {"version": "1.0"}}]}]}`, keyJSON))
	h := newHarnessOpts(t, Options{TopologyFile: path})

	data, sha := build(t, spec("1.1", []string{"1.0"}))
	status, body := h.upload("c", data, sha)
	if status != http.StatusUnprocessableEntity || !json.Valid(body) {
		t.Fatalf("unsigned upload: %d %s", status, body)
	}
	var e api.Error
	_ = json.Unmarshal(body, &e)
	if e.Code != api.CodeUnsigned {
		t.Fatalf("unsigned upload: code %q (%s), want %s", e.Code, e.Message, api.CodeUnsigned)
	}

	sig := bundle.Sign(key, sha, int64(len(data)))
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/clusters/c/images", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sha)
	req.Header.Set(api.HeaderBundleSignature, base64.StdEncoding.EncodeToString(sig.Encode()))
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signed upload: %d", resp.StatusCode)
	}
}

func TestStatsCountEveryRequestAndTheReadsOfEachCluster(t *testing.T) {
	h := newHarness(t, engine.PresetSupercluster)
	for range 3 {
		h.cluster("dma1")
	}
	h.cluster("dma2")
	h.call("GET", "/v1/clusters", nil, 200, nil)
	var st Stats
	h.call("GET", "/v1/stats", nil, 200, &st)
	if st.ClusterGets["dma1"] != 3 || st.ClusterGets["dma2"] != 1 || st.ClusterGets["dma3"] != 0 {
		t.Fatalf("cluster gets %v, want dma1 3, dma2 1", st.ClusterGets)
	}
	if st.Requests != 6 { // 4 cluster reads, the list, and this stats read
		t.Fatalf("requests %d, want 6", st.Requests)
	}
}
