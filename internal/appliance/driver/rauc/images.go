package rauc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	bundlefile "github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle" // the helper tests call bundle()
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// raucInfo is the part of `rauc info --output-format=json` the driver reads.
type raucInfo struct {
	Compatible  string                         `json:"compatible"`
	Version     string                         `json:"version"`
	Description *string                        `json:"description"`
	Build       *string                        `json:"build"`
	Images      []map[string]raucInfoImageJSON `json:"images"`
}

type raucInfoImageJSON struct {
	Filename string `json:"filename"`
	Checksum string `json:"checksum"`
	Size     int64  `json:"size"`
}

var signerRE = regexp.MustCompile(`Verified (?:detached |inline )?signature by '([^']*)'`)

// InspectBundle verifies a local bundle with RAUC itself against the
// cluster's keyring and checks its compatible string against the nodes'.
// What `rauc info` found is remembered by the file's identity and the
// keyring (bundle.Remember): Terraform's re-plan at apply and the upload
// do not read the bundle and run `rauc info` again while neither changed.
// The nodes verify the bundle again when they install it.
func (d *Driver) InspectBundle(ctx context.Context, cluster, path string) (*driver.Bundle, error) {
	if err := d.checkCluster(cluster); err != nil {
		return nil, err
	}
	v, err := d.verifyLocally(ctx, path)
	if err != nil {
		return nil, err
	}
	want, err := d.compatible(ctx)
	if err != nil {
		return nil, err
	}
	if want != "" && v.Compatible != want {
		return nil, &driver.Error{Code: driver.CodeIncompatible, Message: fmt.Sprintf("bundle %s is for compatible %q, but the nodes of cluster %s are %q: it was built for other hardware or another product", path, v.Compatible, d.cfg.Name, want),
			Details: map[string]any{"bundle_compatible": v.Compatible, "compatible": want}}
	}
	return &driver.Bundle{Manifest: v.Manifest, SHA256: v.SHA256, SizeBytes: v.SizeBytes, Signer: v.Signer}, nil
}

// verifiedBundle is what reading a bundle and `rauc info` found.
type verifiedBundle struct {
	Manifest   appliance.Manifest `json:"manifest"`
	SHA256     string             `json:"sha256"`
	SizeBytes  int64              `json:"size_bytes"`
	Signer     string             `json:"signer,omitempty"`
	Compatible string             `json:"compatible"`
}

// verifyLocally hashes the bundle and has `rauc info` check its signature
// against the keyring, or recalls what an earlier check of the unchanged
// file against the same keyring found. Refusals are not remembered.
func (d *Driver) verifyLocally(ctx context.Context, path string) (*verifiedBundle, error) {
	keyringText := d.cfg.Keyring
	if d.cfg.KeyringFile != "" {
		data, err := os.ReadFile(d.cfg.KeyringFile)
		if err != nil {
			return nil, fmt.Errorf("RAUC keyring: %w", err)
		}
		keyringText = string(data)
	}
	ks := sha256.Sum256([]byte(keyringText))
	key := "rauc-info\x00" + d.cfg.RaucCommand + "\x00" + hex.EncodeToString(ks[:])
	var v verifiedBundle
	id, hit := bundlefile.Recall(path, key, &v)
	if hit && v.Manifest.Validate() == nil && len(v.SHA256) == 64 {
		return &v, nil
	}
	sum, size, err := fileDigest(path)
	if err != nil {
		return nil, &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("bundle %s cannot be read: %v", path, err)}
	}
	if _, err := exec.LookPath(d.cfg.RaucCommand); err != nil {
		return nil, &driver.Error{Code: driver.CodeUnsupported, Message: fmt.Sprintf("verifying RAUC bundle %s needs the rauc command where Terraform runs (Debian/Ubuntu: apt-get install rauc), so that its signature is checked against the keyring before anything is copied; %q was not found", path, d.cfg.RaucCommand)}
	}
	keyring, cleanup, err := d.keyringFile()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	// rauc info reads the whole bundle to check its signature: bounded,
	// like the copy and the install, by install_timeout.
	cctx, cancel := context.WithTimeout(ctx, d.cfg.InstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, d.cfg.RaucCommand, "info", "--keyring="+keyring, "--output-format=json", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if cctx.Err() != nil {
			return nil, fmt.Errorf("rauc info %s did not finish within %s", path, d.conns.installLimit())
		}
		return nil, classifyInfoError(path, stderr.String())
	}
	var info raucInfo
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return nil, &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("rauc info of bundle %s gave no readable manifest: %v", path, err)}
	}
	man, err := manifestOf(info)
	if err != nil {
		return nil, &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("bundle %s: %v", path, err)}
	}
	v = verifiedBundle{Manifest: *man, SHA256: sum, SizeBytes: size, Compatible: info.Compatible}
	if m := signerRE.FindStringSubmatch(stderr.String()); m != nil {
		v.Signer = m[1]
	}
	if id.Size == size {
		bundlefile.Remember(id, key, v) // only if the file is still the one it was when the check began
	}
	return &v, nil
}

// classifyInfoError turns rauc info's complaint into a driver error.
func classifyInfoError(path, stderr string) error {
	msg := lastLines(stderr)
	switch {
	case strings.Contains(stderr, "Verify error:"):
		return &driver.Error{Code: driver.CodeBadSignature, Message: fmt.Sprintf("bundle %s is not signed by a key of the cluster's keyring: %s", path, msg)}
	case strings.Contains(stderr, "signature verification failed"):
		return &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("bundle %s is corrupt: its content does not match its signature: %s", path, msg)}
	default:
		return &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("bundle %s is not a valid RAUC bundle: %s", path, msg)}
	}
}

func lastLines(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.HasPrefix(l, "rauc-Message:") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, strings.TrimSpace(l))
	}
	out := strings.Join(keep, "; ")
	if len(out) > 500 {
		out = out[:500]
	}
	return out
}

// manifestOf maps a RAUC manifest onto the domain's: the version, every
// image as a component, and no limit on the versions it updates from
// (RAUC bundles declare none).
func manifestOf(info raucInfo) (*appliance.Manifest, error) {
	m := &appliance.Manifest{Version: info.Version, SupportedFrom: []string{appliance.AnyVersion}}
	if info.Description != nil {
		m.Description = *info.Description
	}
	for _, img := range info.Images {
		for class, i := range img {
			m.Components = append(m.Components, appliance.Component{Name: class, Payload: i.Filename, SHA256: i.Checksum, Size: i.Size})
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *Driver) keyringFile() (string, func(), error) {
	if d.cfg.KeyringFile != "" {
		return d.cfg.KeyringFile, func() {}, nil
	}
	f, err := os.CreateTemp("", "rauc-keyring-*.pem")
	if err != nil {
		return "", nil, err
	}
	_, err = f.WriteString(d.cfg.Keyring)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name()) // best-effort cleanup of a half-written temp file: the write error is the one to report
		return "", nil, err
	}
	// The cleanup is best effort: a leftover temp file holds only the public keyring.
	return f.Name(), func() { _ = os.Remove(f.Name()) }, nil
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// imageNote is what the driver keeps next to a bundle on each node.
type imageNote struct {
	Image      driver.Image `json:"image"`
	Compatible string       `json:"compatible"`
}

func imageID(sha string) string { return "raucb-" + sha[:16] }

func (d *Driver) bundlePath(n NodeConfig, id string) string {
	return n.WorkDir + "/bundles/" + id + ".raucb"
}

// Upload verifies the bundle, then copies it to every node in parallel
// with its note. The nodes verify it again when installing.
func (d *Driver) Upload(ctx context.Context, cluster, path string, want driver.Digest) (*driver.Image, error) {
	b, err := d.InspectBundle(ctx, cluster, path)
	if err != nil {
		return nil, err
	}
	if want.SHA256 != "" && !strings.EqualFold(want.SHA256, b.SHA256) {
		return nil, &driver.Error{Code: driver.CodeCorruptImage, Message: fmt.Sprintf("bundle %s has sha256 %s, not the expected %s: it changed since it was planned", path, b.SHA256, want.SHA256)}
	}
	img := driver.Image{ID: imageID(b.SHA256), Cluster: d.cfg.Name, Manifest: b.Manifest, SHA256: b.SHA256, SizeBytes: b.SizeBytes, Source: "upload", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	note, _ := json.Marshal(imageNote{Image: img, Compatible: d.knownCompatible()})
	ictx, cancel := context.WithTimeout(ctx, d.cfg.InstallTimeout)
	defer cancel()
	err = d.eachNode(ictx, func(ctx context.Context, n NodeConfig) error {
		remote := d.bundlePath(n, img.ID)
		// Already there (a retried apply): keep it.
		if out, err := d.conns.run(ctx, n, "cat "+shq(remote+".json")+" 2>/dev/null || true", d.conns.commandLimit()); err == nil && strings.Contains(out, b.SHA256) {
			return nil
		}
		if err := d.conns.upload(ctx, n, path, remote); err != nil {
			return err
		}
		_, err := d.conns.run(ctx, n, "printf '%s\\n' "+shq(string(note))+" > "+shq(remote+".json.part")+" && mv "+shq(remote+".json.part")+" "+shq(remote+".json"), d.conns.commandLimit())
		return err
	})
	if err != nil {
		return nil, err
	}
	d.rememberImage(img)
	return &img, nil
}

// Download is not something RAUC nodes do for the provider.
func (d *Driver) Download(ctx context.Context, cluster string, req driver.DownloadRequest) (*driver.Image, error) {
	return nil, driver.Require(d, driver.CapDownloadByURL, "source_url")
}

// Images lists the bundles the driver copied to the nodes (read from the
// notes on every reachable node).
func (d *Driver) Images(ctx context.Context, cluster string) ([]driver.Image, error) {
	if err := d.checkCluster(cluster); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	byID := map[string]driver.Image{}
	reached := 0
	err := d.eachNode(ctx, func(ctx context.Context, n NodeConfig) error {
		out, err := d.conns.run(ctx, n, "cat "+shq(n.WorkDir)+"/bundles/*.raucb.json 2>/dev/null || true", d.conns.commandLimit())
		if err != nil {
			if driver.CodeOf(err) == driver.CodeHostKey {
				return err
			}
			return nil // a node that is down does not hide the others' images
		}
		mu.Lock()
		defer mu.Unlock()
		reached++
		for _, line := range strings.Split(out, "\n") {
			var note imageNote
			if json.Unmarshal([]byte(line), &note) == nil && note.Image.ID != "" {
				byID[note.Image.ID] = note.Image
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reached == 0 {
		return nil, fmt.Errorf("no node of RAUC cluster %s can be reached over SSH", d.cfg.Name)
	}
	out := make([]driver.Image, 0, len(byID))
	for _, id := range appliance.SortedKeys(byID) {
		out = append(out, byID[id])
		d.rememberImage(byID[id])
	}
	return out, nil
}

// Image reads one image.
func (d *Driver) Image(ctx context.Context, cluster, id string) (*driver.Image, error) {
	imgs, err := d.Images(ctx, cluster)
	if err != nil {
		return nil, err
	}
	for _, img := range imgs {
		if img.ID == id {
			return &img, nil
		}
	}
	return nil, &driver.Error{Code: driver.CodeNotFound, Message: fmt.Sprintf("RAUC cluster %s holds no bundle %s", d.cfg.Name, id)}
}

// DeleteImage removes the bundle and its note from every node; slots that
// hold it are left alone.
func (d *Driver) DeleteImage(ctx context.Context, cluster, id string) error {
	if err := d.checkCluster(cluster); err != nil {
		return err
	}
	if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(id) {
		return &driver.Error{Code: driver.CodeInvalidRequest, Message: fmt.Sprintf("%q is not a RAUC bundle id", id)}
	}
	return d.eachNode(ctx, func(ctx context.Context, n NodeConfig) error {
		p := d.bundlePath(n, id)
		_, err := d.conns.run(ctx, n, "rm -f "+shq(p)+" "+shq(p+".json"), d.conns.commandLimit())
		return err
	})
}

func (d *Driver) rememberImage(img driver.Image) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.images[img.ID] = img
}

// imageForChecksum finds a known image whose component has this checksum.
func (d *Driver) imageForChecksum(sum string) string {
	if sum == "" {
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.images))
	for id := range d.images {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, c := range d.images[id].Manifest.Components {
			if c.SHA256 == sum {
				return id
			}
		}
	}
	return ""
}

// eachNode runs f on every node in parallel and joins the errors.
func (d *Driver) eachNode(ctx context.Context, f func(context.Context, NodeConfig) error) error {
	errs := make([]error, len(d.cfg.Nodes))
	var wg sync.WaitGroup
	for i, n := range d.cfg.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(ctx, n)
		}()
	}
	wg.Wait()
	// A classified error first, so that callers see its code.
	for _, err := range errs {
		if driver.CodeOf(err) != "" {
			return err
		}
	}
	return errors.Join(errs...)
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
