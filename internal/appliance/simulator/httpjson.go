package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

// jsonHandler answers a JSON request inside a state transaction. body is
// the request body, read before the transaction so that a slow client
// never holds the state lock.
type jsonHandler func(t *engine.Tx, r *http.Request, body []byte) (status int, v any, err error)

// json wraps h with injected HTTP faults (cluster routes), Idempotency-Key
// replay and JSON encoding. Authentication is not its business: every /v1
// route is wrapped in requireToken where the routes are listed.
func (s *Server) json(h jsonHandler, clusterRoute bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		if err != nil {
			writeError(w, engine.BadRequest("reading the request body: %v", err))
			return
		}
		if len(body) > maxJSONBody {
			writeError(w, engine.APIError(http.StatusRequestEntityTooLarge, api.CodeInvalidRequest, "request body too large"))
			return
		}
		key := r.Header.Get(api.HeaderIdempotencyKey)
		route := r.Method + " " + r.URL.Path
		var status int
		var out []byte
		var faultStatus int
		err = s.eng.Tx(func(t *engine.Tx) error {
			if clusterRoute {
				if fs := t.HTTPFault(r.PathValue("c")); fs != 0 {
					faultStatus = fs
					return nil
				}
			}
			if key != "" && r.Method == http.MethodPost {
				if rec := t.St.Idem(key); rec != nil {
					if rec.Route != route {
						return engine.APIError(http.StatusUnprocessableEntity, api.CodeInvalidRequest, "Idempotency-Key %q was already used for %s", key, rec.Route)
					}
					status, out = rec.Status, rec.Body
					return nil
				}
			}
			st, v, err := h(t, r, body)
			if err != nil {
				return err
			}
			status = st
			if v != nil {
				if out, err = json.Marshal(v); err != nil {
					return err
				}
			}
			if key != "" && r.Method == http.MethodPost && status < 300 {
				t.St.Remember(engine.IdemRecord{Key: key, Route: route, Status: status, Body: out})
				t.Dirty = true
			}
			return nil
		})
		switch {
		case faultStatus != 0:
			writeFault(w, faultStatus)
		case err != nil:
			writeError(w, asAPIError(err))
		default:
			if out == nil {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(out)
			_, _ = w.Write([]byte("\n"))
		}
	}
}

// asAPIError turns any error into the API's error body; a non-API error is
// an internal error (its message is ours, never a secret).
func asAPIError(err error) *api.Error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	return engine.APIError(http.StatusInternalServerError, api.CodeInternal, "%v", err)
}

// writeError writes an API error.
func writeError(w http.ResponseWriter, e *api.Error) {
	w.Header().Set("Content-Type", "application/json")
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// requireToken answers 401, with the WWW-Authenticate challenge, to a
// request without the right bearer token, and passes the others to h. It
// is the one place where the API refuses a request for its token.
func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="appliance"`)
			writeError(w, engine.APIError(http.StatusUnauthorized, api.CodeUnauthorized, "missing or wrong bearer token"))
			return
		}
		h(w, r)
	}
}

// writeFault answers with an injected HTTP fault: a 429 asks to retry at
// once (Retry-After: 0), a 503 after a second (Retry-After: 1), so that a
// client that honours the header is seen doing so.
func writeFault(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
		writeError(w, engine.APIError(status, api.CodeRateLimited, "too many requests (injected fault)"))
		return
	}
	w.Header().Set("Retry-After", "1")
	writeError(w, engine.APIError(status, api.CodeUnavailable, "service unavailable (injected fault)"))
}

// decodeRequired decodes the JSON body of a route whose body the API
// description requires: an empty one is refused, not read as zero values
// (an empty advance must not pass for "advance by 0 s").
func decodeRequired(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return engine.BadRequest("the request needs a JSON body")
	}
	return decode(body, v)
}

// decode decodes a JSON body strictly; an empty body decodes to zero (the
// body is optional: activate).
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return engine.BadRequest("the request body is not valid: %v", err)
	}
	return nil
}

func jsonEncoder(w io.Writer) *json.Encoder { return json.NewEncoder(w) }
