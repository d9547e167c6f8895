package simulator

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// newErrorLog is the simulator's error log on w (standard error when nil).
// Embedded in the provider, standard error is the plugin's, which
// Terraform keeps in its log: a panic leaves a trace there, not on the
// user's terminal.
func newErrorLog(w io.Writer) *log.Logger {
	if w == nil {
		w = os.Stderr
	}
	return log.New(dropTLSNoise{w}, "appliance simulator: ", log.LstdFlags)
}

// dropTLSNoise forwards log lines except the TLS handshake failures of
// clients that do not trust a self-signed certificate (yet): every
// `terraform` command that starts without ca_cert_pem would log one.
type dropTLSNoise struct{ w io.Writer }

func (d dropTLSNoise) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// recoverPanics answers a handler's panic with 500 internal and logs it
// with its stack, so that a bug leaves a trace instead of a dropped
// connection. The log names the route pattern, never the path: a path may
// carry a lease id, which is a capability.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // net/http's sentinel, compared as net/http does
				panic(v) // a deliberate abort (the drop_upload fault): net/http handles it
			}
			route := r.Pattern
			if route == "" {
				route = r.Method + " (no route)"
			}
			s.log.Printf("panic serving %s: %v\n%s", route, v, debug.Stack())
			writeError(w, engine.APIError(http.StatusInternalServerError, api.CodeInternal, "the simulator failed serving %s: %v", route, v))
		}()
		h.ServeHTTP(w, r)
	})
}
