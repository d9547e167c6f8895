package simulator

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Options configure a simulator.
type Options struct {
	// StatePath is the JSON state file; "" keeps the state in memory.
	StatePath string
	// Topology is a preset name (see PresetNames); default "primary-ha".
	Topology string
	// TopologyFile is a JSON Topology; it wins over Topology.
	TopologyFile string
	// TimeScale is simulated seconds per wall second; default 1.
	TimeScale float64
	// Token is the bearer token every /v1 request must carry. Required for
	// Start; RunCommand generates one if empty.
	Token string
	// Listen is the address to listen on; default 127.0.0.1:0.
	Listen string
	// Clock replaces the scaled wall clock (tests: NewManualClock).
	Clock Clock
	// TLSCertFile and TLSKeyFile serve HTTPS with that certificate.
	TLSCertFile, TLSKeyFile string
	// GenerateTLS serves HTTPS with a self-signed certificate made at start
	// (see Server.CACertPEM).
	GenerateTLS bool
	// ErrorLog receives what the HTTP server and the handlers have to
	// report (a handler's panic with its stack, a failed accept); nil means
	// standard error. TLS handshake failures of clients that do not trust a
	// self-signed certificate yet are left out: they are expected noise.
	ErrorLog io.Writer
	// TrustedKeys are ed25519 public keys (PEM); when any are given (here
	// or in the topology's trusted_keys), every image must be signed by one.
	TrustedKeys []string
}

// wrapHandler, when set, wraps the handler of every simulator New builds.
// Only this package's tests set it (in TestMain), to validate every request
// and response they exchange against the API description; production code
// leaves it nil.
var wrapHandler func(*Server, http.Handler) http.Handler

// Server is a running simulator.
type Server struct {
	opts    Options
	eng     *engine.Engine
	handler http.Handler
	trusted []ed25519.PublicKey
	log     *log.Logger // the server's and the handlers' error log
	stats   requestStats

	ln    net.Listener
	srv   *http.Server
	url   string
	caPEM []byte

	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup // downloads in flight
}

// New builds a simulator without listening: Handler serves it (tests use
// httptest). The state file is opened (or created) at once, so that a bad
// topology or a damaged state file is reported here.
func New(opts Options) (*Server, error) {
	if opts.TimeScale == 0 {
		opts.TimeScale = 1
	}
	if opts.TimeScale < 0 {
		return nil, errors.New("simulator: time scale must be positive")
	}
	if opts.Topology == "" {
		opts.Topology = engine.DefaultPreset
	}
	topo, name, err := loadTopology(opts)
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrustedKeys(append(append([]string(nil), opts.TrustedKeys...), topo.TrustedKeys...))
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	eng, err := engine.Open(engine.Config{
		StatePath: opts.StatePath, Topology: topo, TopologyName: name,
		TimeScale: opts.TimeScale, Clock: opts.Clock,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, eng: eng, trusted: trusted, log: newErrorLog(opts.ErrorLog)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	if wrapHandler != nil {
		s.handler = wrapHandler(s, s.handler)
	}
	return s, nil
}

func loadTopology(opts Options) (*engine.Topology, string, error) {
	if opts.TopologyFile != "" {
		t, err := engine.LoadTopologyFile(opts.TopologyFile)
		return t, "file:" + opts.TopologyFile, err
	}
	t, err := engine.Preset(opts.Topology)
	return t, opts.Topology, err
}

// Start builds a simulator and serves it on opts.Listen in a goroutine.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Token == "" {
		return nil, errors.New("simulator: a token is required")
	}
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		// Close only releases what New took (nothing is written): the
		// listen error is the one to report.
		_ = s.Close()
		return nil, fmt.Errorf("simulator: %w", err)
	}
	scheme := "http"
	var tlsCfg *tls.Config
	switch {
	case opts.TLSCertFile != "" || opts.TLSKeyFile != "":
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			// Nothing was served yet and nothing is written: the certificate
			// error is the one to report.
			_ = ln.Close()
			_ = s.Close()
			return nil, fmt.Errorf("simulator: loading TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case opts.GenerateTLS:
		cert, caPEM, err := selfSignedCert()
		if err != nil {
			// Nothing was served yet and nothing is written: the certificate
			// error is the one to report.
			_ = ln.Close()
			_ = s.Close()
			return nil, fmt.Errorf("simulator: generating a TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.caPEM = caPEM
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
		scheme = "https"
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.log}
	go func() { _ = s.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			// The caller stopped the simulator by cancelling ctx: there is
			// nobody left to report an error of Close to.
			_ = s.Close()
		case <-s.ctx.Done():
		}
	}()
	return s, nil
}

// URL is the base URL the simulator serves on ("" for New without Start).
func (s *Server) URL() string { return s.url }

// Token is the bearer token clients must send.
func (s *Server) Token() string { return s.opts.Token }

// CACertPEM is the self-signed certificate of a GenerateTLS simulator, for
// a client to trust; nil otherwise.
func (s *Server) CACertPEM() []byte { return s.caPEM }

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops serving, waits for downloads in flight and releases the state lock.
func (s *Server) Close() error {
	s.cancel()
	var err error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.srv.Shutdown(ctx)
		cancel()
		if err != nil {
			_ = s.srv.Close()
		}
	}
	s.bg.Wait()
	if cerr := s.eng.Close(); err == nil {
		err = cerr
	}
	return err
}

// authorized checks the bearer token in constant time. The scheme is
// case-insensitive (RFC 9110: "bearer x" is "Bearer x").
func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || s.opts.Token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) == 1
}
