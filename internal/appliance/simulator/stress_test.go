package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// runStress has clients hammer two simulators sharing one state file for
// d: every client adds faults (counted), takes and releases the lease
// (mutual exclusion checked), reads clusters, events and the ledger, and
// stages nodes. At the end, no fault was lost, no two clients held the
// lease at once, and no request failed with a 5xx.
func runStress(t *testing.T, clients int, d time.Duration) {
	path := filepath.Join(t.TempDir(), "state.json")
	var servers []*httptest.Server
	for i := 0; i < 2; i++ {
		s, err := New(Options{StatePath: path, Token: testToken, TimeScale: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		servers = append(servers, ts)
		t.Cleanup(func() {
			ts.Close()
			// Close releases the state file's lock: a failure would leak it.
			if err := s.Close(); err != nil {
				t.Errorf("closing simulator %d: %v", i, err)
			}
			reportExchanges(t, s)
		})
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: 2 * clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	send := func(base, method, path string, body any, hdr ...string) (int, []byte, error) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, r)
		req.Header.Set("Authorization", "Bearer "+testToken)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer func() { _ = resp.Body.Close() }() // read to the end below
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	// An image to stage, uploaded once.
	data, sum := build(t, spec("1.1", []string{"1.0"}))
	req, _ := http.NewRequest("POST", servers[0].URL+"/v1/clusters/demo/images", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sum)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var im api.Image
	err = json.NewDecoder(resp.Body).Decode(&im)
	_ = resp.Body.Close() // the decode error, checked below, is what matters
	if err != nil || (resp.StatusCode != 201 && resp.StatusCode != 200) {
		t.Fatalf("upload: status %d, decoding the image: %v", resp.StatusCode, err)
	}

	var faultsAdded, holders, maxHolders, requests, serverErrors atomic.Int64
	var firstErr sync.Once
	var errMsg atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			base := servers[c%2].URL
			check := func(status int, b []byte, err error) bool {
				requests.Add(1)
				if err != nil || status >= 500 {
					serverErrors.Add(1)
					firstErr.Do(func() { errMsg.Store(fmt.Sprintf("status %d err %v body %s", status, err, b)) })
					return false
				}
				return true
			}
			for i := 0; time.Now().Before(deadline); i++ {
				switch i % 5 {
				case 0:
					st, b, err := send(base, "POST", "/v1/faults", api.Fault{Kind: api.FaultSlow, Node: "n4", Factor: 1})
					if check(st, b, err) && st == 201 {
						faultsAdded.Add(1)
					}
				case 1:
					st, b, err := send(base, "POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: fmt.Sprintf("c%d", c), OperationKey: "k", TTLSeconds: 30})
					if !check(st, b, err) || st != 200 {
						continue
					}
					var l api.Lease
					if err := json.Unmarshal(b, &l); err != nil {
						// Without its ID the lease cannot be released: stop this client.
						t.Errorf("client %d: decoding the lease %s: %v", c, b, err)
						return
					}
					if n := holders.Add(1); n > maxHolders.Load() {
						maxHolders.Store(n)
					}
					st, b, err = send(base, "GET", "/v1/clusters/demo", nil)
					check(st, b, err)
					holders.Add(-1)
					st, b, err = send(base, "DELETE", "/v1/clusters/demo/lease/"+l.ID, nil)
					check(st, b, err)
				case 2:
					st, b, err := send(base, "GET", "/v1/clusters", nil)
					check(st, b, err)
				case 3:
					st, b, err := send(base, "POST", fmt.Sprintf("/v1/clusters/demo/nodes/n%d/stage", 1+c%4), api.StageRequest{ImageID: im.ID}, api.HeaderIdempotencyKey, fmt.Sprintf("c%d-%d", c, i))
					check(st, b, err) // 202, 409 (busy, leased) are all fine
				case 4:
					st, b, err := send(base, "GET", "/v1/clusters/demo/events?since=0", nil)
					check(st, b, err)
				}
			}
		}(c)
	}
	wg.Wait()
	if serverErrors.Load() > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", serverErrors.Load(), requests.Load(), errMsg.Load())
	}
	if maxHolders.Load() > 1 {
		t.Fatalf("%d clients held the lease at once", maxHolders.Load())
	}
	st, b, err := send(servers[1].URL, "GET", "/v1/faults", nil)
	if err != nil || st != 200 {
		t.Fatal(st, err)
	}
	var fl api.FaultList
	if err := json.Unmarshal(b, &fl); err != nil {
		t.Fatalf("decoding the faults %s: %v", b, err)
	}
	if int64(len(fl.Faults)) != faultsAdded.Load() {
		t.Fatalf("lost updates: %d faults recorded, %d added", len(fl.Faults), faultsAdded.Load())
	}
	t.Logf("%d clients, %s: %d requests, %d faults added, all recorded", clients, d, requests.Load(), faultsAdded.Load())
}

// TestConcurrentClientsShort is the quick version of the stress test; the
// 10-second one runs with -tags stress (see stress_long_test.go).
func TestConcurrentClientsShort(t *testing.T) {
	runStress(t, 200, 300*time.Millisecond)
}
