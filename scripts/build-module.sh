#!/usr/bin/env bash
# build-module.sh MODULE VERSION PACKAGE DEST: make sure DEST holds the
# command PACKAGE (a directory inside the module, e.g. ./cmd/tofu or .) of
# the Go module MODULE at VERSION, building it once from the Go module proxy
# when DEST is missing.
#
# The module source is downloaded (`go mod download`), copied somewhere
# writable and built there with its own go.mod. That works where `go install
# MODULE@VERSION` does not: modules with replace directives (OpenTofu), and
# modules whose version list the proxy refuses (changie). DEST is meant to
# live in a per-user cache outside the clone, its path naming the version,
# so that a fresh clone on a warm machine (CI) builds nothing. The binary is
# written under a temporary name and moved into place: an interrupted build
# never leaves a half-written DEST. Prints one line when DEST is there.
# BUILD_LDFLAGS, when set, are the linker flags of the module's own release
# build (OpenTofu's marks the binary a release instead of a -dev build).
set -euo pipefail

module=${1:?usage: build-module.sh MODULE VERSION PACKAGE DEST}
version=${2:?usage: build-module.sh MODULE VERSION PACKAGE DEST}
package=${3:?usage: build-module.sh MODULE VERSION PACKAGE DEST}
dest=${4:?usage: build-module.sh MODULE VERSION PACKAGE DEST}

if [[ -x "$dest" ]]; then
	exit 0
fi
mkdir -p "$(dirname "$dest")"
echo "building $module $version once into $dest (minutes, once per machine)"
src=$(go mod download -json "${module}@${version}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
if [[ -z "$src" ]]; then
	echo "build-module: go mod download ${module}@${version} gave no source directory" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
log=$work/build.log
if ! (cd "$work/src" && GOFLAGS=-mod=mod go build -trimpath -ldflags "${BUILD_LDFLAGS:-}" -o "$work/bin" "$package") >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: building $package of ${module}@${version} failed" >&2
	exit 1
fi
mv -f "$work/bin" "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
echo "built $dest"
