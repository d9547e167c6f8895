package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// runStress has clients hammer two simulators sharing one state file for
// d: every client adds faults (counted), takes and releases the lease
// (mutual exclusion checked), reads clusters, events and the ledger, and
// stages nodes. At the end, no fault was lost, the mutations the server
// accepted under two different leases never overlapped, and no request
// failed with a 5xx.
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

	var faultsAdded, believers, maxBelievers, refusedLost, requests, serverErrors atomic.Int64
	var accepted acceptedWindows
	// fenced counts the mutations the server refused because their lease
	// was gone (a holder starved past its heartbeat and adopted, or past
	// its expiry); any other refusal of a holder's mutation is a failure.
	fenced := func(st int, b []byte) {
		if st != 409 {
			return
		}
		var e api.Error
		if json.Unmarshal(b, &e) == nil && e.Code == api.CodeLeaseLost {
			refusedLost.Add(1)
			return
		}
		t.Errorf("a holder's mutation under its lease was refused with %d: %s", st, b)
	}
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
					if n := believers.Add(1); n > maxBelievers.Load() {
						maxBelievers.Store(n)
					}
					// Two mutations under the lease, with a read between.
					// The first's answer and the second's sending bound
					// an interval inside the one in which the server
					// accepted this holder's mutations.
					under := []string{api.HeaderLeaseID, l.ID, api.HeaderLeaseGeneration, strconv.FormatInt(l.Generation, 10)}
					st, b, err = send(base, "POST", "/v1/clusters/demo/maintenance", api.MaintenanceRequest{Open: true}, under...)
					opened := time.Now()
					firstOK := check(st, b, err) && st == 200
					fenced(st, b)
					st, b, err = send(base, "GET", "/v1/clusters/demo", nil)
					check(st, b, err)
					closing := time.Now()
					st, b, err = send(base, "POST", "/v1/clusters/demo/maintenance", api.MaintenanceRequest{Open: false}, under...)
					if check(st, b, err) && st == 200 && firstOK {
						accepted.add(l.Generation, opened, closing)
					}
					fenced(st, b)
					believers.Add(-1)
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
	// What must hold is what the server accepted: the mutations it took
	// under two different leases never overlap. What clients believe can
	// overlap on a loaded machine (a holder starved past its heartbeat is
	// adopted while it still thinks it holds the lease); the server then
	// refuses that holder's next mutation (lease_lost), counted below.
	if err := accepted.overlap(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d holders' mutations accepted, never overlapping; %d mutations of holders whose lease was gone refused (lease_lost); at most %d clients believed they held the lease at once",
		accepted.len(), refusedLost.Load(), maxBelievers.Load())
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

// acceptedWindows are, for each holder whose two mutations under its lease
// were both accepted, an interval inside the one in which the server
// accepted them: from the first one's answer to the second one's sending.
// If two of them overlap, the server accepted mutations under two leases
// at once.
type acceptedWindows struct {
	mu sync.Mutex
	ws []acceptedWindow
}

type acceptedWindow struct {
	generation int64
	from, to   time.Time
}

func (a *acceptedWindows) add(gen int64, from, to time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ws = append(a.ws, acceptedWindow{gen, from, to})
}

func (a *acceptedWindows) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ws)
}

// overlap names two windows of different leases that overlap.
func (a *acceptedWindows) overlap() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ws := append([]acceptedWindow(nil), a.ws...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].from.Before(ws[j].from) })
	for i, far := 1, 0; i < len(ws); i++ {
		// far is the window seen so far that ends last.
		if p, w := ws[far], ws[i]; w.from.Before(p.to) && w.generation != p.generation {
			return fmt.Errorf("the server accepted mutations under two leases at once: generation %d from %s to %s, generation %d from %s",
				p.generation, p.from.Format(time.StampMicro), p.to.Format(time.StampMicro), w.generation, w.from.Format(time.StampMicro))
		}
		if ws[i].to.After(ws[far].to) {
			far = i
		}
	}
	return nil
}

// The stress test's check finds two leases' accepted mutations that
// overlap, also when a window in between ends earlier, and lets windows
// follow each other.
func TestAcceptedWindows_FindsMutationsOfTwoLeasesThatOverlap(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	var a acceptedWindows
	a.add(1, at(0), at(10))
	a.add(2, at(10), at(20))
	a.add(3, at(21), at(22))
	if err := a.overlap(); err != nil {
		t.Fatalf("windows one after another: %v", err)
	}
	var b acceptedWindows
	b.add(5, at(30), at(100))
	b.add(5, at(40), at(41)) // the same lease: no overlap with itself
	b.add(6, at(50), at(60)) // inside 5's first window, behind its second
	if err := b.overlap(); err == nil || !strings.Contains(err.Error(), "generation 5") || !strings.Contains(err.Error(), "generation 6") {
		t.Fatalf("an overlap behind a shorter window: %v", err)
	}
}
