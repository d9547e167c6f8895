// Package bundle is the image bundle format: an uncompressed tar archive whose
// first entry is manifest.json (an appliance.Manifest) followed by one regular
// file per component, at the manifest's payload path, with the manifest's
// size and sha256.
//
// The manifest comes first so that a reader learns what to expect before the
// payloads stream past: Verify checks a multi-GB bundle in one pass and
// constant memory, which is what an appliance receiving an upload must do.
// Build writes bundles of any size for tests and for the simulator.
package bundle

// manifestName is the name of the first entry of every bundle.
const manifestName = "manifest.json"

// maxManifestSize bounds how much of manifest.json Verify will read, so that
// a hostile bundle cannot make the verifier allocate without limit.
const maxManifestSize = 1 << 20

// payloadDir is where Build puts the payloads; Verify accepts any path the
// manifest names.
const payloadDir = "payloads/"
