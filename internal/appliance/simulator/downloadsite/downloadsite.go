// Package downloadsite is the simulator's built-in download site: it stands
// for a vendor's public site, serving bundles made on the fly, so that
// downloads by URL (S1) work without internet.
package downloadsite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

// The built-in download site (S1 without internet): GET
// /site/bundles/{version}.tar serves a bundle made on the fly,
// deterministically (the same URL gives the same bytes and sha256), and
// /site/bundles/{version}.tar.sha256 its sha256. No token: it stands for
// a vendor's public download site. Query parameters shape the manifest:
//
//	from=1.0,1.1         supported_from (default: the series every cluster runs)
//	components=os,storage (default: every component the clusters run)
//	irreversible=f1,f2   irreversible features
//	size=65536           bytes per component payload (default 64 KiB)
//	description=text
const defaultSiteComponentSize = 64 << 10

// maxSiteComponentSize bounds a generated payload (the site must not be a
// way to make the simulator stream forever).
const maxSiteComponentSize = 8 << 30

// Defaults gives what a request leaves out of the manifest: the series the
// clusters run (supported_from) and the components they run.
type Defaults func() (series, components []string, err error)

func specOf(r *http.Request, version string, defaults Defaults) (bundle.Spec, error) {
	q := r.URL.Query()
	list := func(k string) []string {
		var out []string
		for _, v := range strings.Split(q.Get(k), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	spec := bundle.Spec{
		Version:              version,
		SupportedFrom:        list("from"),
		IrreversibleFeatures: list("irreversible"),
		Description:          q.Get("description"),
	}
	if spec.Description == "" {
		spec.Description = "appliance software " + version
	}
	size := int64(defaultSiteComponentSize)
	if v := q.Get("size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > maxSiteComponentSize {
			return spec, fmt.Errorf("size must be a number of bytes up to %d", int64(maxSiteComponentSize))
		}
		size = n
	}
	comps := list("components")
	if len(comps) == 0 || len(spec.SupportedFrom) == 0 {
		series, names, err := defaults()
		if err != nil {
			return spec, err
		}
		if len(spec.SupportedFrom) == 0 {
			spec.SupportedFrom = series
		}
		if len(comps) == 0 {
			comps = names
		}
	}
	sort.Strings(comps)
	for _, c := range comps {
		spec.Components = append(spec.Components, bundle.ComponentSpec{Name: c, Size: size})
	}
	return spec, nil
}

// Handler serves GET .../{name}: {version}.tar and {version}.tar.sha256
// (the route's wildcard is "name"). No token: it stands for a public site.
func Handler(defaults Defaults) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { serve(w, r, defaults) }
}

func serve(w http.ResponseWriter, r *http.Request, defaults Defaults) {
	name := r.PathValue("name")
	wantSum := strings.HasSuffix(name, ".sha256")
	version, ok := strings.CutSuffix(strings.TrimSuffix(name, ".sha256"), ".tar")
	if !ok {
		writeError(w, http.StatusNotFound, "the site serves {version}.tar and {version}.tar.sha256")
		return
	}
	if _, err := appliance.ParseVersion(version); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	spec, err := specOf(r, version, defaults)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if wantSum {
		h := sha256.New()
		if _, err := bundle.Build(h, spec); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(hex.EncodeToString(h.Sum(nil)) + "  " + version + ".tar\n"))
		return
	}
	// Validate the spec before the first byte goes out, so that a bad query
	// is an HTTP error and not a truncated download.
	if _, err := bundle.Build(discardCounter{}, bundle.Spec{Version: spec.Version, SupportedFrom: spec.SupportedFrom, IrreversibleFeatures: spec.IrreversibleFeatures, Components: zeroSized(spec.Components)}); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	_, _ = bundle.Build(w, spec)
}

func zeroSized(cs []bundle.ComponentSpec) []bundle.ComponentSpec {
	out := make([]bundle.ComponentSpec, len(cs))
	for i, c := range cs {
		out[i] = bundle.ComponentSpec{Name: c.Name}
	}
	return out
}

type discardCounter struct{}

func (discardCounter) Write(p []byte) (int, error) { return len(p), nil }

// writeError answers with the API's error body, so that a client reads a
// refused download the way it reads any other refusal.
func writeError(w http.ResponseWriter, status int, msg string) {
	code := api.CodeInvalidRequest
	if status == http.StatusNotFound {
		code = api.CodeNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&api.Error{Status: status, Code: code, Message: msg})
}
