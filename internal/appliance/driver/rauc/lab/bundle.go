package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BundleSpec describes a bundle to build.
type BundleSpec struct {
	Version string
	// Compatible defaults to the lab's compatible string.
	Compatible  string
	Description string
	// SupportedFrom, when set, goes into the manifest's [meta.appliance]
	// section as supported-from (space-separated versions).
	SupportedFrom []string
	// Signer defaults to the lab's keyring signer; NewSigner makes one
	// outside the keyring.
	Signer *Signer
	// Corrupt damages the bundle after signing (its payload is cut short).
	Corrupt bool
}

// NewSigner makes a CA that is not in the nodes' keyring.
func (l *Lab) NewSigner(name string) (*Signer, error) {
	return newSigner(l.Dir, name)
}

// BuildBundle builds a RAUC bundle (format plain: verity bundles need
// device-mapper, which these machines lack) with `rauc bundle`, and returns
// its path. The image is a root file system whose os-release names the
// version.
func (l *Lab) BuildBundle(spec BundleSpec) (string, error) {
	if spec.Compatible == "" {
		spec.Compatible = l.opts.Compatible
	}
	if spec.Signer == nil {
		spec.Signer = l.Signer
	}
	l.mu.Lock()
	l.bundles++
	k := l.bundles
	l.mu.Unlock()
	dir := filepath.Join(l.Dir, "bundles", fmt.Sprintf("%d-src", k))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }() // best-effort cleanup of the sources: the bundle is built (or failed) by then
	img := make([]byte, 64<<10)
	copy(img, slotImage(spec.Version))
	if err := writeFile(filepath.Join(dir, "rootfs.img"), img, 0o644); err != nil {
		return "", err
	}
	var m strings.Builder
	fmt.Fprintf(&m, "[update]\ncompatible=%s\nversion=%s\n", spec.Compatible, spec.Version)
	if spec.Description != "" {
		fmt.Fprintf(&m, "description=%s\n", spec.Description)
	}
	m.WriteString("\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.img\n")
	if len(spec.SupportedFrom) > 0 {
		fmt.Fprintf(&m, "\n[meta.appliance]\nsupported-from=%s\n", strings.Join(spec.SupportedFrom, " "))
	}
	if err := writeFile(filepath.Join(dir, "manifest.raucm"), []byte(m.String()), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(l.Dir, "bundles", fmt.Sprintf("lab-%s-%d.raucb", spec.Version, k))
	cmd := exec.Command("rauc", "bundle", "--cert="+spec.Signer.CertPath, "--key="+spec.Signer.KeyPath, dir, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: rauc bundle: %w: %s", err, b)
	}
	if spec.Corrupt {
		fi, err := os.Stat(out)
		if err != nil {
			return "", err
		}
		f, err := os.OpenFile(out, os.O_RDWR, 0)
		if err != nil {
			return "", err
		}
		// Overwrite a stretch of the squashfs payload: the signature no
		// longer matches what it covers.
		_, err = f.WriteAt([]byte(strings.Repeat("corrupt!", 64)), fi.Size()/4)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	}
	return out, nil
}
