#!/usr/bin/env bash
# release-check.sh GORELEASER: prove that .goreleaser.yml makes a release the
# Terraform Registry can ingest, without signing or publishing anything.
#
# 1. `goreleaser check` validates the configuration.
# 2. A snapshot release of the same configuration, narrowed to this machine's
#    OS/arch (all 13 targets take minutes; `make release-snapshot` builds
#    them), is made into .demo/release-check/dist, and its output is checked
#    the way the registry reads it: one zip named
#    terraform-provider-appliance_<version>_<os>_<arch>.zip holding
#    terraform-provider-appliance_v<version>; a <name>_<version>_SHA256SUMS
#    that lists the zip and the manifest with their checksums (the manifest's
#    being that of terraform-registry-manifest.json, which the release step
#    uploads under that name); and the binary reports the version and commit
#    the linker flags set.
# Prints one line per step; goreleaser's own log is shown only on failure.
set -euo pipefail

goreleaser=${1:?usage: release-check.sh GORELEASER}
cd "$(dirname "$0")/.."
name=terraform-provider-appliance
work=.demo/release-check
rm -rf "$work" && mkdir -p "$work"
log=$work/goreleaser.log

if ! "$goreleaser" check >"$log" 2>&1; then
	cat "$log" >&2
	echo "release-check: goreleaser check failed" >&2
	exit 1
fi
echo "release-check: goreleaser check: .goreleaser.yml is valid"

goos=$(go env GOOS)
goarch=$(go env GOARCH)
# The configuration, with the build matrix (goos .. ignore) replaced by this
# machine's target and dist moved under $work.
sed -e "/^    goos:\$/,/^        goarch: \"386\"\$/c\\    goos: [$goos]\\n    goarch: [$goarch]" \
	-e "s|^version: 2\$|version: 2\\ndist: $work/dist|" .goreleaser.yml >"$work/goreleaser.yml"
if ! grep -q "^    goos: \[$goos\]\$" "$work/goreleaser.yml" || grep -q '^        goarch: "386"' "$work/goreleaser.yml"; then
	echo "release-check: could not narrow the build matrix of .goreleaser.yml (its goos/goarch/ignore layout changed?)" >&2
	exit 1
fi

start=$SECONDS
if ! "$goreleaser" release --snapshot --clean --skip=sign,publish --config "$work/goreleaser.yml" >"$log" 2>&1; then
	cat "$log" >&2
	echo "release-check: goreleaser release --snapshot failed" >&2
	exit 1
fi
dist=$work/dist
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$dist/metadata.json")
commit=$(git rev-parse HEAD)
fail() {
	echo "release-check: $*" >&2
	exit 1
}
[[ -n "$version" ]] || fail "no version in $dist/metadata.json"

zips=("$dist"/*.zip)
zip=$dist/${name}_${version}_${goos}_${goarch}.zip
[[ ${#zips[@]} -eq 1 && "${zips[0]}" == "$zip" ]] || fail "want exactly $zip, got: ${zips[*]}"
binary=${name}_v${version}
unzip -Z1 "$zip" | grep -qx "$binary" || fail "$zip does not hold $binary: $(unzip -Z1 "$zip" | tr '\n' ' ')"

sums=$dist/${name}_${version}_SHA256SUMS
manifest=${name}_${version}_manifest.json
[[ -f "$sums" ]] || fail "no $sums"
grep -q "  $(basename "$zip")\$" "$sums" || fail "$sums does not list $(basename "$zip")"
grep -q "  $manifest\$" "$sums" || fail "$sums does not list $manifest"
(cd "$dist" && grep "  $(basename "$zip")\$" "$(basename "$sums")" | sha256sum --quiet -c -) || fail "$sums does not match $(basename "$zip")"
# The manifest is uploaded by the release step (release.extra_files), which
# a snapshot skips: its checksum must be that of terraform-registry-manifest.json.
want_sum=$(sha256sum terraform-registry-manifest.json | cut -d' ' -f1)
grep -qx "$want_sum  $manifest" "$sums" || fail "$sums lists $manifest with another checksum than terraform-registry-manifest.json's"
grep -q "name_template: .*_manifest.json" "$dist/config.yaml" || fail "the release publishes no _manifest.json"

rm -rf "$work/unzipped" && mkdir -p "$work/unzipped" && unzip -q "$zip" -d "$work/unzipped"
got=$("$work/unzipped/$binary" version)
[[ "$got" == "$version (commit $commit)" ]] || fail "$binary version says \"$got\", want \"$version (commit $commit)\""

echo "release-check: snapshot $version for $goos/$goarch in $((SECONDS - start))s: $(basename "$zip"), $(basename "$sums"), $manifest; the binary reports $got"
