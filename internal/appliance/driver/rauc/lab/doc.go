// Package lab starts a RAUC test lab on one machine: N appliance nodes, each a
// real `rauc service` on a private D-Bus system bus with two file-backed
// slots, reached through a real OpenSSH server on a loopback port whose
// sessions see that node's bus. Tests of the RAUC driver and `make rauc-lab`
// use it.
//
// Only the hardware is played, and only here:
//   - the bootloader: a `custom` RAUC bootloader backend (a shell script)
//     keeps the primary slot, each slot's remaining boot attempts and whether
//     it was marked good in files, the way U-Boot's BOOT_ORDER/BOOT_x_LEFT
//     do; at each boot the lab picks the slot the way such a bootloader does
//     and falls back from a slot whose attempts ran out without being marked
//     good;
//   - mounting the booted root file system: the lab copies the booted slot's
//     os-release (the first bytes of the slot image) to the node's root;
//   - the reboot: the node's `reboot` command asks the lab to stop the node's
//     rauc service and sshd (dropping every SSH connection, as a real reboot
//     does), wait, and start them again booted into the slot the bootloader
//     chose (`rauc service --override-boot-slot=...`);
//   - the appliance's root account: its login shell is /bin/sh, as on most
//     embedded systems (the node's sshd sees a passwd of its own, bind-mounted
//     in a mount namespace of its own), so the driver's scripts run in a
//     POSIX sh as on a real node, not in the machine's bash;
//   - faults: a switch per node makes a chosen version fail its health check
//     (the node's `lab-health` command) or never come back (the node hangs
//     until the lab's watchdog reboots it, which uses up boot attempts).
//
// Everything else is the real software: RAUC verifies and installs bundles,
// keeps slot status and talks to the bootloader backend; dbus-daemon carries
// its D-Bus API; sshd authenticates and runs the commands.
//
// The lab keeps a record per node (an append-only JSON-lines file: installs,
// reboots, boots with their slot and version, down and up times) that tests
// read to assert how often a node was installed or rebooted and that HA
// partners were never down together.
//
// The lab needs root (sshd and rauc service run as root) and the Debian
// packages rauc, dbus, openssh-server, squashfs-tools, util-linux and mount
// (scripts/ensure-rauc.sh installs them).
package lab
