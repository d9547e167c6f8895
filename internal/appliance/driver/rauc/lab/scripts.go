package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// bootloaderBackend is RAUC's `custom` bootloader backend for one node: it
// plays the hardware's bootloader environment. State lives in files under
// boot/: primary (the slot tried first), left.X (boot attempts left for slot
// X) and good.X (present once X was marked good; a good slot is not counted
// down). RAUC calls it as
//
//	get-primary | set-primary SLOT | get-state SLOT | set-state SLOT good|bad | get-current
//
// The lab's boot (node.boot) reads the same files to choose the slot.
const bootloaderBackend = `#!/bin/sh
# The lab's bootloader environment (plays hardware). See package lab.
# Only shell builtins read the state (read, test, echo): RAUC runs this three
# times for every rauc status, and each program started costs more than the
# whole script.
set -eu
B=%[1]s
N=%[2]d
other() { if [ "$1" = A ]; then o=B; else o=A; fi; }
# get NAME: v is the file's first line, "" when it does not exist.
get() { v=""; if [ -f "$B/$1" ]; then read -r v < "$B/$1" || true; fi; }
bootable() {
	[ -e "$B/good.$1" ] && return 0
	get "left.$1"
	[ "${v:-0}" -gt 0 ]
}
put() { printf '%%s\n' "$2" > "$B/$1.tmp" && mv "$B/$1.tmp" "$B/$1"; }
case "${1:-}" in
get-primary)
	get primary; p=$v; other "$p"
	if bootable "$p"; then echo "$p"; elif bootable "$o"; then echo "$o"; else echo "$p"; fi ;;
set-primary)
	put primary "$2"
	if [ ! -e "$B/good.$2" ]; then put "left.$2" "$N"; fi ;;
get-state)
	if bootable "$2"; then echo good; else echo bad; fi ;;
set-state)
	case "$3" in
	good) put "left.$2" "$N"; put "good.$2" 1 ;;
	bad) put "left.$2" 0; rm -f "$B/good.$2" ;;
	*) echo "set-state: unknown state $3" >&2; exit 1 ;;
	esac ;;
get-current)
	get current; echo "$v" ;;
*)
	echo "bootloader backend: unknown command ${1:-}" >&2; exit 1 ;;
esac
`

// rebootCommand is the node's `reboot` (and `systemctl reboot` is not
// available in the lab): it asks the lab to reboot the node, which plays the
// hardware, and returns at once as `systemctl reboot` does. The SSH
// connection drops when the lab stops sshd a moment later.
const rebootCommand = `#!/bin/sh
# Plays the hardware: asks the lab to reboot this node. See package lab.
date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%NZ > %[1]s.tmp && mv %[1]s.tmp %[1]s
echo "rebooting"
`

// healthCommand is the node's `lab-health`: the appliance's own health
// check. It fails when the lab's fault switch says the booted version is
// unhealthy.
const healthCommand = `#!/bin/sh
# The node's health check; the fault switch (plays a broken release) decides.
# Shell builtins only: the driver runs it at every read of the node.
v=""
while IFS= read -r line; do
	case "$line" in VERSION_ID=*) v=${line#VERSION_ID=} ;; esac
done < %[1]s
if [ -f %[2]s ]; then
	while read -r fv ff; do
		if [ "$fv" = "$v" ] && [ "$ff" = unhealthy ]; then
			echo "health check failed: version $v does not serve" >&2
			exit 1
		fi
	done < %[2]s
fi
echo "healthy: version $v"
`

// postInstallHandler is RAUC's post-install handler: it appends the install
// to the lab's record. RAUC runs it after it wrote a slot.
const postInstallHandler = `#!/bin/sh
# Records each install in the lab's record (not part of the played hardware:
# a real appliance may run any post-install handler here).
slot=""
for s in $RAUC_TARGET_SLOTS; do
	eval "slot=\${RAUC_SLOT_BOOTNAME_$s:-}"
done
version=$(sed -n 's/^version=//p' "$RAUC_BUNDLE_MOUNT_POINT/manifest.raucm")
printf '{"time":"%%s","event":"install","slot":"%%s","version":"%%s"}\n' "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%NZ)" "$slot" "$version" >> %[1]s
`

// VersionCommand reads the running version on a lab node: the booted root's
// os-release, which the lab mounts (copies) at RAUC_LAB_ROOT, read the way
// the driver's default reads /etc/os-release on a real appliance (sourced by
// the shell, which starts no program).
const VersionCommand = `. "$RAUC_LAB_ROOT/etc/os-release" && echo "$VERSION_ID"`

// HealthCommand is the health command of lab nodes.
const HealthCommand = "lab-health"

// RebootCommand is the reboot command of lab nodes.
const RebootCommand = "reboot"

const systemConf = `[system]
compatible=%[1]s
bootloader=custom
data-directory=%[2]s/data
mountprefix=%[2]s/mnt
max-bundle-download-size=67108864

[handlers]
bootloader-custom-backend=%[2]s/bin/bootloader-backend
post-install=%[2]s/bin/post-install

[keyring]
path=%[3]s

[slot.rootfs.0]
device=%[2]s/slotA.img
type=raw
bootname=A

[slot.rootfs.1]
device=%[2]s/slotB.img
type=raw
bootname=B
`

const busConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private system bus for one lab node. -->
<busconfig>
  <type>system</type>
  <listen>unix:path=%[1]s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`

const sshdConfig = `# sshd of one lab node
Port %[1]d
ListenAddress 127.0.0.1
HostKey %[2]s/ssh_host_ed25519_key
AuthorizedKeysFile %[2]s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile %[2]s/sshd.pid
LogLevel INFO
MaxStartups 100
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
# HOME of its own: sessions must not run the root dotfiles of the machine the lab runs on.
SetEnv HOME=%[2]s/home DBUS_SYSTEM_BUS_ADDRESS=unix:path=%[2]s/bus.sock PATH=%[2]s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin RAUC_LAB_ROOT=%[2]s/root
`

// writeScripts writes the node's configuration and commands.
func (n *Node) writeScripts(compatible, keyring string, attempts int) error {
	files := []struct {
		path string
		body string
		mode os.FileMode
	}{
		{"bin/bootloader-backend", fmt.Sprintf(bootloaderBackend, shq(n.path("boot")), attempts), 0o755},
		{"bin/reboot", fmt.Sprintf(rebootCommand, shq(n.path("reboot.request"))), 0o755},
		{"bin/lab-health", fmt.Sprintf(healthCommand, shq(n.path("root/etc/os-release")), shq(n.path("faults"))), 0o755},
		{"bin/post-install", fmt.Sprintf(postInstallHandler, shq(n.path("record.jsonl"))), 0o755},
		{"system.conf", fmt.Sprintf(systemConf, compatible, n.Dir, keyring), 0o644},
		{"bus.conf", fmt.Sprintf(busConf, n.path("bus.sock")), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(n.Dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			return err
		}
	}
	return nil
}
