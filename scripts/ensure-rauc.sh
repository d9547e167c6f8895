#!/usr/bin/env bash
# ensure-rauc.sh: install what the RAUC test lab runs (Debian packages
# "rauc", "dbus", "openssh-server", "squashfs-tools"; "util-linux" and
# "mount" give each node's sshd a passwd of its own) for the RAUC driver's
# tests and `make rauc-lab`.
#
# Idempotent and quiet: when every program is already there it does nothing;
# otherwise it installs the missing packages with apt-get. Either way it
# prints one line, so that CI logs say which happened. Needs root (or sudo)
# to install; the lab itself also runs as root (sshd and rauc service).
set -euo pipefail

# program -> package
declare -A NEED=(
	[/usr/bin/rauc]=rauc
	[/usr/bin/dbus-daemon]=dbus
	[/usr/sbin/sshd]=openssh-server
	[/usr/lib/openssh/sftp-server]=openssh-server
	[/usr/bin/mksquashfs]=squashfs-tools
	[/usr/bin/unshare]=util-linux
	[/usr/bin/mount]=mount
)

missing=()
for prog in "${!NEED[@]}"; do
	if [[ ! -x "$prog" ]]; then
		missing+=("${NEED[$prog]}")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "rauc lab present: $(/usr/bin/rauc --version 2>/dev/null | head -1), $(/usr/sbin/sshd -V 2>&1 | head -1 || true)"
	exit 0
fi
# One package may stand for several programs.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "ensure-rauc: ${missing[*]} missing and installing needs root (or sudo)" >&2
		exit 1
	fi
	SUDO=(sudo)
fi

# apt-get's own output goes to a log that is shown only when it fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "ensure-rauc: installing ${missing[*]} with apt-get failed" >&2
	exit 1
fi

for prog in "${!NEED[@]}"; do
	if [[ ! -x "$prog" ]]; then
		echo "ensure-rauc: apt-get installed ${missing[*]}, but $prog is still missing" >&2
		exit 1
	fi
done
echo "rauc lab installed (${missing[*]}): $(/usr/bin/rauc --version 2>/dev/null | head -1)"
