package simulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// api/openapi.yaml is the API's written contract. These tests hold the
// simulator to it with kin-openapi: TestMain loads the document and wraps
// the handler of every simulator the package's tests build (wrapHandler),
// so that every request a test sends and every response it gets is
// validated against the document (openapi3filter). A failing exchange fails
// the test that made it, naming the route, the status and the schema error.

// apiDocPath is the document, relative to this package's directory (where
// go test runs).
const apiDocPath = "../../../api/openapi.yaml"

// maxRecordedBody bounds what an exchange keeps of a body for validation;
// a larger body is still served, and its schema is not checked.
const maxRecordedBody = 1 << 20

// apiContract is the loaded document and a router that finds its operations.
type apiContract struct {
	doc    *openapi3.T
	router routers.Router
}

// loadContract loads and validates the document. The copy used for
// validation is strict: an object schema that does not say whether other
// properties are allowed allows none, so a field the simulator sends (or
// accepts) that the document does not name fails until it is documented.
// Requests are routed by path alone: test servers listen on random ports,
// which the servers list (the standalone simulator's address) cannot name.
func loadContract(path string) (*apiContract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading the API description %s: %w", path, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	strict := *doc
	strict.Servers = nil
	forbidUndeclaredProperties(&strict)
	router, err := gorillamux.NewRouter(&strict)
	if err != nil {
		return nil, fmt.Errorf("routing %s: %w", path, err)
	}
	return &apiContract{doc: &strict, router: router}, nil
}

// forbidUndeclaredProperties sets additionalProperties: false on every
// object schema of doc that has properties and says nothing about others.
func forbidUndeclaredProperties(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range list {
				walk(x)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

// exchangeChecker validates the exchanges of one simulator and keeps the
// failures until a test reports them.
type exchangeChecker struct {
	contract *apiContract
	// exercised counts the exchanges per operation (nil: not counted).
	exercised *sync.Map // "GET /v1/clock" -> *countedOp

	pending sync.WaitGroup // checks in flight

	mu       sync.Mutex
	failures []string
}

func (k *exchangeChecker) fail(format string, args ...any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failures = append(k.failures, fmt.Sprintf(format, args...))
}

// takeFailures waits for the checks in flight and returns the failures
// not yet taken.
func (k *exchangeChecker) takeFailures() []string {
	k.pending.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.failures
	k.failures = nil
	return out
}

// wrap serves next and validates each exchange once next has answered.
func (k *exchangeChecker) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &recordingBody{ReadCloser: r.Body}
		if r.Body == nil || r.Body == http.NoBody {
			body.eof = true
		} else {
			r.Body = body
		}
		rec := &recordingWriter{ResponseWriter: w}
		// The request as it arrived, before the handler (or the mux) sees it.
		sent := r.Clone(context.Background())
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return // the connection was dropped on purpose: no response
		}
		// Validated off the request's path, so that checking never slows
		// the exchange it checks (the stress test counts on its timing);
		// takeFailures waits for the checks in flight.
		ex := exchange{
			request:     sent,
			requestBody: body.buf.Bytes(), requestWhole: body.eof && !body.truncated,
			status: rec.statusCode(), header: rec.Header().Clone(),
			responseBody: rec.buf.Bytes(), responseWhole: !rec.truncated,
		}
		k.pending.Add(1)
		go func() {
			defer k.pending.Done()
			k.check(ex)
		}()
	})
}

// exchange is one request and its response, as recorded for checking.
type exchange struct {
	request       *http.Request
	requestBody   []byte
	requestWhole  bool // requestBody is the whole body (the handler read it to the end)
	status        int
	header        http.Header
	responseBody  []byte
	responseWhole bool
}

// operationsExercised counts, per documented operation ("GET /v1/clock"),
// the exchanges of this test run's simulators that reached it.
var operationsExercised sync.Map

func (k *exchangeChecker) check(ex exchange) {
	r, status := ex.request, ex.status
	route, pathParams, err := k.contract.router.FindRoute(r)
	if err != nil {
		// A path the document does not have must be refused as unknown
		// (a browser asks for /favicon.ico); answering it is serving an
		// undocumented route.
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			k.fail("%s %s -> %d: no operation of %s matches this request: %v", r.Method, r.URL.Path, status, apiDocPath, err)
		}
		return
	}
	op := r.Method + " " + route.Path
	if k.exercised != nil {
		n, _ := k.exercised.LoadOrStore(op, new(countedOp))
		if c, ok := n.(*countedOp); ok {
			c.add(status)
		} else {
			k.fail("the exercised operations map holds a %T for %s, not a *countedOp", n, op)
		}
	}

	opts := &openapi3filter.Options{
		IncludeResponseStatus: true, // a status the document does not list fails
		MultiError:            true,
		AuthenticationFunc:    bearerPresent,
		// A body the handler stopped reading (it refused the request
		// early) is not all there: only its headers are checked.
		ExcludeRequestBody:  !ex.requestWhole,
		ExcludeResponseBody: !ex.responseWhole,
	}
	r.Body = io.NopCloser(bytes.NewReader(ex.requestBody))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: opts}
	ctx := context.Background()
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && status < 400 {
		k.fail("%s (%s) -> %d: the simulator accepted a request the document forbids: %v", op, r.URL.RequestURI(), status, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: ex.header, Options: opts}
	out.SetBodyBytes(ex.responseBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		k.fail("%s (%s) -> %d: the response is not what the document says: %v\nbody: %.600s", op, r.URL.RequestURI(), status, err, ex.responseBody)
	}
}

// bearerPresent is the document's bearerAuth scheme as a client sees it: a
// bearer token is sent. Whether it is the right one is the simulator's
// business (a wrong one is answered 401, which the document lists).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not one these tests know", in.SecuritySchemeName)
	}
	// The scheme name is case-insensitive (RFC 9110, 11.1).
	scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no bearer token in the Authorization header")
	}
	return nil
}

// countedOp counts the exchanges of one operation, and those that succeeded.
type countedOp struct {
	mu          sync.Mutex
	total, good int
}

func (c *countedOp) add(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	if status < 400 {
		c.good++
	}
}

// recordingBody keeps what the handler reads of a request body.
type recordingBody struct {
	io.ReadCloser
	buf       bytes.Buffer
	eof       bool
	truncated bool
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.buf.Len()+n > maxRecordedBody {
		b.truncated = true
	} else {
		b.buf.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

// recordingWriter keeps the status and body a handler writes, passing both
// through. Unwrap lets http.ResponseController reach the real writer.
type recordingWriter struct {
	http.ResponseWriter
	status    int
	buf       bytes.Buffer
	truncated bool
	hijacked  bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.buf.Len()+len(p) > maxRecordedBody {
		w.truncated = true
	} else {
		w.buf.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over (the simulator drops one this way to
// play a network failure): there is no response left to validate.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *recordingWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// exchangeCheckers maps each simulator the tests built to its checker.
var exchangeCheckers sync.Map // *Server -> *exchangeChecker

// testContract is the document, loaded once by TestMain.
var testContract *apiContract

// reportExchanges fails t with every exchange of srv that broke the
// document and was not reported yet. The harness calls it when its test
// ends; TestMain reports what no test did.
func reportExchanges(t testing.TB, srv *Server) {
	t.Helper()
	v, ok := exchangeCheckers.Load(srv)
	if !ok {
		t.Errorf("the simulator was built without the API description's validation (wrapHandler not set)")
		return
	}
	k, ok := v.(*exchangeChecker)
	if !ok {
		t.Errorf("exchangeCheckers holds a %T for the simulator, not an *exchangeChecker", v)
		return
	}
	for _, f := range countedLines(k.takeFailures()) {
		t.Errorf("API description %s: %s", apiDocPath, f)
	}
}

func TestMain(m *testing.M) {
	c, err := loadContract(apiDocPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testContract = c
	// The status page is HTML: its body is checked as the string it is.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	wrapHandler = func(s *Server, h http.Handler) http.Handler {
		k := &exchangeChecker{contract: c, exercised: &operationsExercised}
		exchangeCheckers.Store(s, k)
		return k.wrap(h)
	}
	code := m.Run()

	// Exchanges of simulators no harness owned (Start, stress servers).
	var left []string
	exchangeCheckers.Range(func(_, v any) bool {
		k, ok := v.(*exchangeChecker)
		if !ok {
			left = append(left, fmt.Sprintf("exchangeCheckers holds a %T, not an *exchangeChecker", v))
			return true
		}
		left = append(left, k.takeFailures()...)
		return true
	})
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "--- FAIL: exchanges that break the API description %s:\n", apiDocPath)
		for _, f := range countedLines(left) {
			fmt.Fprintln(os.Stderr, "    "+f)
		}
		code = 1
	}
	if code == 0 && wholeSuiteRan() {
		if missing := operationsNeverSucceeded(c); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "--- FAIL: operations of %s that no test exchanged successfully (add a test that does):\n    %s\n",
				apiDocPath, strings.Join(missing, "\n    "))
			code = 1
		}
	}
	os.Exit(code)
}

// wholeSuiteRan says whether every test of the package ran (no -run or
// -skip), so that an operation no exchange reached means no test uses it.
func wholeSuiteRan() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// operationsNeverSucceeded lists the documented operations that no
// exchange of this run answered with a status below 400.
func operationsNeverSucceeded(c *apiContract) []string {
	var missing []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			v, _ := operationsExercised.Load(op) // nil if no exchange reached op
			if c, ok := v.(*countedOp); !ok || c.good == 0 {
				missing = append(missing, op)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// countedLines returns the distinct lines of lines, in their first order,
// each repeated one followed by how often it came.
func countedLines(lines []string) []string {
	count := map[string]int{}
	var order []string
	for _, l := range lines {
		if count[l] == 0 {
			order = append(order, l)
		}
		count[l]++
	}
	for i, l := range order {
		if n := count[l]; n > 1 {
			order[i] = fmt.Sprintf("%s (%d times)", l, n)
		}
	}
	return order
}
