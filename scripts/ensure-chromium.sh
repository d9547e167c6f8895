#!/usr/bin/env bash
# ensure-chromium.sh: install headless Chromium (Debian package "chromium")
# for the status-page browser test, TestStatusPage_ShowsClustersInABrowser.
#
# Idempotent and quiet: when /usr/bin/chromium is already there it does
# nothing; otherwise it installs it with apt-get. Either way it prints one
# line, so that CI logs say which happened. Needs root (or sudo) to install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
	echo "chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
	exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "ensure-chromium: $CHROMIUM is missing and installing it needs root (or sudo)" >&2
		exit 1
	fi
	SUDO=(sudo)
fi

# apt-get's own output goes to a log that is shown only when it fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "ensure-chromium: installing chromium with apt-get failed" >&2
	exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
	echo "ensure-chromium: apt-get installed chromium, but $CHROMIUM is still missing" >&2
	exit 1
fi
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
