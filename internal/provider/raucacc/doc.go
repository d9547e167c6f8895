// Package raucacc holds the provider's acceptance tests against the RAUC
// lab (real RAUC, D-Bus and OpenSSH, only bootloader and reboot played),
// through the real Terraform CLI. They live in a test binary of their own
// so that their minutes of real reboots run beside the provider package's
// tests instead of after them, under a timeout of their own.
package raucacc
