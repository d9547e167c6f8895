package appliance

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Manifest describes an image bundle: what version it installs, which running
// versions it may update from, what it carries and what cannot be undone.
type Manifest struct {
	// Version is the version the image installs.
	Version string `json:"version"`
	// SupportedFrom lists the running versions this image may update from.
	// An entry with fewer parts than the running version covers its whole
	// series: "6.4" admits 6.4, 6.4.3 and 6.4 SP2; "6.4.3" admits 6.4.3 only.
	// AnyVersion admits every version (RAUC bundles declare no such limit).
	SupportedFrom []string `json:"supported_from"`
	// Components are the payloads the image carries (S5), each landing in a
	// separate place on the appliance (os, storage, mgmt_image, ...).
	Components []Component `json:"components"`
	// IrreversibleFeatures are features that, once this image is active,
	// make every earlier image unbootable (S9).
	IrreversibleFeatures []string `json:"irreversible_features,omitempty"`
	// Description is free text shown as the alternate image's description (S4).
	Description string `json:"description,omitempty"`
}

// Component is one payload of an image.
type Component struct {
	Name    string `json:"name"`
	Payload string `json:"payload"` // path of the payload inside the bundle
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// AnyVersion in SupportedFrom admits every running version.
const AnyVersion = "*"

// Known component names with behaviour of their own.
const (
	ComponentStorage = "storage" // S14, S19: updated with the active appliance, reverted with it
)

// ParseManifest decodes and validates a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest.json is not valid: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks that every field is well formed, and names the first that is not.
func (m *Manifest) Validate() error {
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("manifest version: %w", err)
	}
	if len(m.SupportedFrom) == 0 {
		return errors.New("manifest supported_from is empty: list the running versions this image may update from")
	}
	for _, s := range m.SupportedFrom {
		if s == AnyVersion {
			continue
		}
		if _, err := ParseVersion(s); err != nil {
			return fmt.Errorf("manifest supported_from: %w", err)
		}
	}
	if len(m.Components) == 0 {
		return errors.New("manifest has no components")
	}
	seen := map[string]bool{}
	for i, c := range m.Components {
		if c.Name == "" {
			return fmt.Errorf("manifest component %d has no name", i)
		}
		if seen[c.Name] {
			return fmt.Errorf("manifest lists component %q twice", c.Name)
		}
		seen[c.Name] = true
		if c.Payload == "" || strings.HasPrefix(c.Payload, "/") || strings.Contains(c.Payload, "..") || c.Payload == "manifest.json" {
			return fmt.Errorf("manifest component %q has an unsafe or empty payload path %q", c.Name, c.Payload)
		}
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("manifest component %q: sha256 must be 64 hex digits", c.Name)
		}
		if c.Size < 0 {
			return fmt.Errorf("manifest component %q has a negative size", c.Name)
		}
	}
	return nil
}

// ParsedVersion returns the manifest's version; Validate has checked it.
func (m *Manifest) ParsedVersion() Version {
	v, _ := ParseVersion(m.Version)
	return v
}

// Supports reports whether the image may update a node that runs from (S8).
func (m *Manifest) Supports(from Version) bool {
	for _, s := range m.SupportedFrom {
		if s == AnyVersion {
			return true
		}
		e, err := ParseVersion(s)
		if err != nil {
			continue
		}
		if coversVersion(s, e, from) {
			return true
		}
	}
	return false
}

// coversVersion reports whether the supported_from entry e (spelt s) admits
// v. "6.4" names the whole series; any other entry names one release and
// admits that release and its rebuilds (a build or revision counts only
// where the entry writes one), never another patch or service pack.
func coversVersion(s string, e, v Version) bool {
	if e.Major != v.Major || e.Minor != v.Minor {
		return false
	}
	parts := strings.Count(strings.Fields(s)[0], ".") + 1
	hasSP := e.ServicePack != 0
	hasBuild := e.Build != 0
	hasRevision := e.Revision != 0
	if parts == 2 && !hasSP && !hasBuild && !hasRevision {
		return true // "6.4": the whole series
	}
	if e.Patch != v.Patch || e.ServicePack != v.ServicePack {
		return false
	}
	if hasBuild && e.Build != v.Build {
		return false
	}
	if hasRevision && e.Revision != v.Revision {
		return false
	}
	return true
}

// ComponentNames returns the names of the components, in manifest order.
func (m *Manifest) ComponentNames() []string {
	out := make([]string, len(m.Components))
	for i, c := range m.Components {
		out[i] = c.Name
	}
	return out
}

// HasComponent reports whether the image carries the named component.
func (m *Manifest) HasComponent(name string) bool {
	for _, c := range m.Components {
		if c.Name == name {
			return true
		}
	}
	return false
}
