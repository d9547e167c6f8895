package simulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// These tests are about the API description itself and about the checker
// that holds the simulator to it (contract_test.go): the routes served are
// the operations documented, authentication is where the document says,
// the documented server is where the simulator listens, and the checker
// fails an exchange that breaks the document in each way it can.

// docPathOf turns a ServeMux pattern into an OpenAPI path: "{$}" (exact
// match of a path ending in "/") is dropped, "{name...}" becomes "{name}".
func docPathOf(pattern string) string {
	return strings.ReplaceAll(strings.TrimSuffix(pattern, "{$}"), "...}", "}")
}

func TestContract_ServedRoutesAreTheDocumentedOperations(t *testing.T) {
	served := map[string]bool{}
	for _, r := range Routes() {
		served[r.Method+" "+docPathOf(r.Pattern)] = true
	}
	documented := map[string]bool{}
	for path, item := range testContract.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, op := range sortedKeys(served) {
		if !documented[op] {
			t.Errorf("served but not in %s: %s", apiDocPath, op)
		}
	}
	for _, op := range sortedKeys(documented) {
		if !served[op] {
			t.Errorf("in %s but not served: %s", apiDocPath, op)
		}
	}
	if len(documented) < 30 {
		t.Errorf("only %d operations documented: the document did not load whole", len(documented))
	}
}

// TestContract_BearerAuthExactlyOnV1Routes: the document requires the
// bearer token on every /v1 operation and on no other, and the simulator
// answers 401 with the challenge exactly there.
func TestContract_BearerAuthExactlyOnV1Routes(t *testing.T) {
	h := newHarness(t, "")
	values := strings.NewReplacer("{c}", "demo", "{n}", "n1", "{r}", "none", "{id}", "none", "{name}", "1.1.tar.sha256")
	for path, item := range testContract.doc.Paths.Map() {
		for method, op := range item.Operations() {
			security := testContract.doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			secured := len(security) > 0
			if want := strings.HasPrefix(path, "/v1/"); secured != want {
				t.Errorf("%s %s: the document requires a token: %v, want %v", method, path, secured, want)
			}
			req, err := http.NewRequest(method, h.ts.URL+values.Replace(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := h.ts.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close() // read to the end
			if got := resp.StatusCode == http.StatusUnauthorized; got != secured {
				t.Errorf("%s %s without a token: HTTP %d; the document says a token is required: %v", method, path, resp.StatusCode, secured)
			}
			if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode == http.StatusUnauthorized && ch != `Bearer realm="appliance"` {
				t.Errorf("%s %s without a token: 401 with WWW-Authenticate %q, want %q", method, path, ch, `Bearer realm="appliance"`)
			}
		}
	}
}

// The document's server is the standalone simulator's default address,
// which `make sim` uses: a reader can paste the URL.
func TestContract_ServerIsTheStandaloneSimulatorsDefaultAddress(t *testing.T) {
	// The document as written: the checker's copy has no servers (it routes
	// by path alone).
	doc, err := openapi3.NewLoader().LoadFromFile(apiDocPath)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	if len(urls) != 1 || urls[0] != "http://"+DefaultListen {
		t.Errorf("servers of %s: %v, want [http://%s]", apiDocPath, urls, DefaultListen)
	}
}

// exchangeFailures sends one request through a checker around h and
// returns what the checker found.
func exchangeFailures(t *testing.T, h http.Handler, method, path, body string) []string {
	t.Helper()
	k := &exchangeChecker{contract: testContract}
	ts := httptest.NewServer(k.wrap(h))
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // read to the end
	ts.Close()            // waits for the handler, and so for the check
	return k.takeFailures()
}

// answering is a handler that answers every request with status and body.
func answering(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

const validClock = `{"now":"2026-01-01T00:00:00Z","time_scale":0,"manual":true}`

func requireOneFailure(t *testing.T, failures []string, wants ...string) {
	t.Helper()
	if len(failures) != 1 {
		t.Fatalf("want exactly one failure, got %d: %q", len(failures), failures)
	}
	t.Logf("the checker says: %s", failures[0])
	for _, w := range wants {
		if !strings.Contains(failures[0], w) {
			t.Errorf("the failure does not say %q: %s", w, failures[0])
		}
	}
}

func TestContract_AcceptsAnExchangeThatFollowsTheDocument(t *testing.T) {
	if f := exchangeFailures(t, answering(200, validClock), "GET", "/v1/clock", ""); len(f) != 0 {
		t.Fatalf("a valid exchange failed: %q", f)
	}
}

func TestContract_FailsAResponseOfTheWrongType(t *testing.T) {
	f := exchangeFailures(t, answering(200, `{"now":"2026-01-01T00:00:00Z","time_scale":"fast","manual":true}`), "GET", "/v1/clock", "")
	requireOneFailure(t, f, "GET /v1/clock", "-> 200", "time_scale", "number")
}

func TestContract_FailsAResponseFieldTheDocumentDoesNotName(t *testing.T) {
	f := exchangeFailures(t, answering(200, strings.TrimSuffix(validClock, "}")+`,"leap_seconds":1}`), "GET", "/v1/clock", "")
	requireOneFailure(t, f, "GET /v1/clock", "-> 200", "leap_seconds")
}

func TestContract_FailsAStatusTheDocumentDoesNotList(t *testing.T) {
	f := exchangeFailures(t, answering(http.StatusTeapot, `{}`), "GET", "/v1/clock", "")
	requireOneFailure(t, f, "GET /v1/clock", "-> 418", "status is not supported")
}

func TestContract_FailsARequestTheDocumentForbidsButTheServerAccepts(t *testing.T) {
	f := exchangeFailures(t, answering(200, validClock), "POST", "/v1/clock/advance", `{"seconds":"soon"}`)
	requireOneFailure(t, f, "POST /v1/clock/advance", "-> 200", "accepted a request the document forbids", "seconds")
}

func TestContract_AcceptsARefusalOfARequestTheDocumentForbids(t *testing.T) {
	f := exchangeFailures(t, answering(400, `{"code":"invalid_request","message":"seconds must be a number"}`), "POST", "/v1/clock/advance", `{"seconds":"soon"}`)
	if len(f) != 0 {
		t.Fatalf("refusing a forbidden request with a documented 400 failed: %q", f)
	}
}

func TestContract_FailsARouteTheDocumentDoesNotHave(t *testing.T) {
	f := exchangeFailures(t, answering(200, `{}`), "GET", "/v1/gossip", "")
	requireOneFailure(t, f, "GET /v1/gossip", "-> 200", "no operation")
}

func TestContract_AcceptsAnUnknownPathAnsweredNotFound(t *testing.T) {
	if f := exchangeFailures(t, answering(404, `{"code":"not_found","message":"no route"}`), "GET", "/favicon.ico", ""); len(f) != 0 {
		t.Fatalf("an unknown path answered 404 failed: %q", f)
	}
}

// TestContract_FailsTheSimulatorWhenTheDocumentDrifts runs the real
// simulator against a copy of the document whose ClockView lost a property:
// the simulator's own answer then fails, as a field added to the Go type
// and not to the document would.
func TestContract_FailsTheSimulatorWhenTheDocumentDrifts(t *testing.T) {
	drifted, err := loadContract(apiDocPath)
	if err != nil {
		t.Fatal(err)
	}
	clock := drifted.doc.Components.Schemas["ClockView"]
	if clock == nil || clock.Value == nil || clock.Value.Properties["manual"] == nil {
		t.Fatalf("the document has no ClockView schema with a manual property: update this test")
	}
	delete(clock.Value.Properties, "manual")
	clock.Value.Required = slicesWithout(clock.Value.Required, "manual")

	srv, err := New(Options{Token: testToken, Clock: NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }() // in-memory: nothing to lose
	k := &exchangeChecker{contract: drifted}
	ts := httptest.NewServer(k.wrap(srv.routes()))
	req, _ := http.NewRequest("GET", ts.URL+"/v1/clock", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // read to the end
	ts.Close()
	requireOneFailure(t, k.takeFailures(), "GET /v1/clock", "-> 200", "manual")
}

func slicesWithout(xs []string, drop string) []string {
	var out []string
	for _, x := range xs {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
