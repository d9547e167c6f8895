// Package mgmtapi is the driver for the Appliance Management API (v1): the
// vendor-neutral REST API that the bundled simulator serves. It adapts the
// HTTP client (package client) to the driver boundary: wire types become
// the driver's neutral types and API errors become classified driver errors.
package mgmtapi

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// Driver drives clusters through an Appliance Management API endpoint.
type Driver struct {
	c       *client.Client
	trusted []ed25519.PublicKey
	// leases are the fencing tokens of the leases this driver took, shared
	// by its copies (Uncached).
	leases *leaseBook
}

// leaseBook maps the id of each lease this driver took to its generation,
// the fencing token every action under it sends (X-Lease-Generation).
type leaseBook struct {
	mu  sync.Mutex
	gen map[string]int64
}

func (b *leaseBook) set(id string, gen int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen[id] = gen
}

func (b *leaseBook) get(id string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen[id]
}

func (b *leaseBook) drop(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.gen, id)
}

// Option configures a Driver.
type Option func(*Driver)

// WithTrustedKeys makes InspectBundle require a bundle signed by one of keys.
func WithTrustedKeys(keys []ed25519.PublicKey) Option {
	return func(d *Driver) { d.trusted = keys }
}

// New returns a driver that talks through c. Given a client.Cached client,
// its cluster reads come from the process's snapshot cache; Uncached gives
// the driver that waits must poll through.
func New(c *client.Client, opts ...Option) *Driver {
	d := &Driver{c: c, leases: &leaseBook{gen: map[string]int64{}}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Uncached returns a driver over the same connections whose cluster reads
// always reach the endpoint: a rollout's health waits poll through it.
func (d *Driver) Uncached() driver.Driver {
	cp := *d
	cp.c = d.c.Uncached()
	return &cp
}

// Client is the underlying HTTP client, for callers that need API-only
// facts (events, the availability ledger) beyond the driver boundary.
func (d *Driver) Client() *client.Client { return d.c }

var _ driver.Driver = (*Driver)(nil)

// Kind names the driver in messages.
func (d *Driver) Kind() string { return "the Appliance Management API at " + d.c.Endpoint() }

// Capabilities: the API can do everything the domain knows.
func (d *Driver) Capabilities() driver.Capabilities {
	return driver.Capabilities{
		Resources: true, Licenses: true, Supercluster: true, DownloadByURL: true, Promote: true, Finalize: true,
		BundleFormat: "appliance bundle",
	}
}

// Clusters lists the endpoint's clusters.
func (d *Driver) Clusters(ctx context.Context) ([]appliance.Cluster, error) {
	cs, err := d.c.ListClusters(ctx)
	return cs, classify(err)
}

// Cluster reads one cluster.
func (d *Driver) Cluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	c, err := d.c.GetCluster(ctx, name)
	return c, classify(err)
}

// Images lists a cluster's images.
func (d *Driver) Images(ctx context.Context, cluster string) ([]driver.Image, error) {
	imgs, err := d.c.ListImages(ctx, cluster)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]driver.Image, len(imgs))
	for i := range imgs {
		out[i] = image(&imgs[i])
	}
	return out, nil
}

// Image reads one image.
func (d *Driver) Image(ctx context.Context, cluster, id string) (*driver.Image, error) {
	img, err := d.c.GetImage(ctx, cluster, id)
	if err != nil {
		return nil, classify(err)
	}
	out := image(img)
	return &out, nil
}

// InspectBundle verifies a bundle file as the cluster will (S6): every
// payload's digest against the manifest and the whole file's sha256, from
// one read, remembered while the file is unchanged (bundle.InspectFile);
// with trusted keys, also its detached signature (BUNDLE.sig).
func (d *Driver) InspectBundle(_ context.Context, _ string, path string) (*driver.Bundle, error) {
	in, err := bundle.InspectFile(path)
	if err != nil {
		var ce *bundle.CorruptError
		if errors.As(err, &ce) {
			return nil, &driver.Error{Code: driver.CodeCorruptImage, Message: err.Error(), Err: err}
		}
		return nil, err
	}
	out := &driver.Bundle{Manifest: in.Manifest, SHA256: in.SHA256, SizeBytes: in.SizeBytes, BytesRead: in.BytesRead}
	if len(d.trusted) == 0 {
		return out, nil
	}
	sig, err := bundle.ReadSignatureFile(path)
	if err != nil {
		return nil, &driver.Error{Code: driver.CodeBadSignature, Message: err.Error(), Err: err}
	}
	if out.Signer, err = bundle.CheckSignature(sig, in.SHA256, in.SizeBytes, d.trusted); err != nil {
		return nil, err
	}
	return out, nil
}

// Upload streams a bundle to the cluster. With want.SHA256 known (planned)
// the file is read once, hashed as it streams: a file changed since the
// plan is refused by the cluster, which keeps nothing, and the error names
// both sums.
func (d *Driver) Upload(ctx context.Context, cluster, path string, want driver.Digest) (*driver.Image, error) {
	img, err := d.c.UploadImageExpecting(ctx, cluster, path, client.Expected{SHA256: want.SHA256, SizeBytes: want.SizeBytes})
	var changed *client.FileChangedError
	if errors.As(err, &changed) {
		return nil, &driver.Error{Code: driver.CodePreconditionFailed, Message: changed.Error(), Err: err}
	}
	if err != nil {
		return nil, classify(err)
	}
	if want.SHA256 != "" && !strings.EqualFold(want.SHA256, img.SHA256) {
		return nil, driver.Errorf(driver.CodeCorruptImage,
			"cluster %s received a bundle with sha256 %s, but %s was planned: %s changed since terraform plan; the image %s was left on the cluster for inspection",
			cluster, img.SHA256, want.SHA256, path, img.ID)
	}
	out := image(img)
	return &out, nil
}

// Download asks the cluster to fetch the image itself (S1) and waits for it.
func (d *Driver) Download(ctx context.Context, cluster string, req driver.DownloadRequest) (*driver.Image, error) {
	t, err := d.c.DownloadImage(ctx, cluster, api.DownloadRequest{URL: req.URL, SHA256: req.SHA256, Proxy: req.Proxy}, req.IdempotencyKey)
	if err != nil {
		return nil, classify(err)
	}
	done, err := d.c.WaitTask(ctx, t.ID)
	if err != nil {
		return nil, classify(err)
	}
	if err := taskError(done); err != nil {
		return nil, err
	}
	id := done.Result["image_id"]
	if id == "" {
		return nil, fmt.Errorf("download task %s succeeded without naming the image", done.ID)
	}
	return d.Image(ctx, cluster, id)
}

// DeleteImage removes an image.
func (d *Driver) DeleteImage(ctx context.Context, cluster, id string) error {
	return classify(d.c.DeleteImage(ctx, cluster, id))
}

// AcquireLease takes or renews the cluster's lease.
func (d *Driver) AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	l, err := d.c.AcquireLease(ctx, cluster, api.LeaseRequest{
		Owner: req.Owner, OperationKey: req.OperationKey, TTLSeconds: int((req.TTL + time.Second - 1) / time.Second),
		HeartbeatSeconds: int((req.Heartbeat + time.Second - 1) / time.Second),
	})
	if err != nil {
		return nil, classify(err)
	}
	if l.Generation > 0 {
		d.leases.set(l.ID, l.Generation)
	}
	return &driver.Lease{ID: l.ID, Cluster: l.Cluster, Owner: l.Owner, OperationKey: l.OperationKey, ExpiresAt: l.ExpiresAt,
		Adopted: l.Adopted, PreviousOwner: l.PreviousOwner, Generation: l.Generation}, nil
}

// ReleaseLease gives the lease back.
func (d *Driver) ReleaseLease(ctx context.Context, cluster, leaseID string) error {
	err := classify(d.c.ReleaseLease(ctx, cluster, leaseID))
	if err == nil {
		d.leases.drop(leaseID)
	}
	return err
}

// Start begins an action. Node and cluster operations are API tasks; the
// administrative calls answer at once and come back as finished tasks.
func (d *Driver) Start(ctx context.Context, cluster string, a driver.Action) (driver.Task, error) {
	c := d.c
	if a.LeaseID != "" {
		// The lease's generation goes with it (its fencing token), so that
		// the cluster refuses the action if the lease is no longer live.
		c = c.WithLeaseGeneration(a.LeaseID, d.leases.get(a.LeaseID))
	}
	var t *api.Task
	var err error
	switch a.Kind {
	case driver.ActStage:
		t, err = c.Stage(ctx, cluster, a.Node, a.ImageID, a.IdempotencyKey)
	case driver.ActActivate:
		t, err = c.Activate(ctx, cluster, a.Node, api.ActivateRequest{ExpectVersion: a.Version, AutoRevert: a.AutoRevert}, a.IdempotencyKey)
	case driver.ActRevert:
		t, err = c.Revert(ctx, cluster, a.Node, a.IdempotencyKey)
	case driver.ActPromote:
		t, err = c.Promote(ctx, cluster, a.Node, a.IdempotencyKey)
	case driver.ActMoveResource:
		t, err = c.MoveResource(ctx, cluster, a.Resource, a.To, a.IdempotencyKey)
	case driver.ActFinalize:
		t, err = c.Finalize(ctx, cluster, a.IdempotencyKey)
	case driver.ActInstallLicense:
		_, err = c.InstallLicense(ctx, cluster, a.Series)
		return finished(string(a.Kind)+" "+a.Series, err)
	case driver.ActSetSupercluster:
		_, err = c.SetSupercluster(ctx, cluster, a.Supercluster)
		return finished(string(a.Kind)+" "+a.Supercluster, err)
	case driver.ActMaintenance:
		_, err = c.SetMaintenance(ctx, cluster, a.Open)
		return finished(string(a.Kind), err)
	default:
		return nil, fmt.Errorf("the Appliance Management API driver does not know action %q", a.Kind)
	}
	if err != nil {
		return nil, classify(err)
	}
	return &task{c: d.c, id: t.ID}, nil
}

// task is an API task, waited for with the long-poll.
type task struct {
	c  *client.Client
	id string
}

func (t *task) ID() string { return t.id }

func (t *task) Wait(ctx context.Context) error {
	done, err := t.c.WaitTask(ctx, t.id)
	if err != nil {
		return classify(err)
	}
	return taskError(done)
}

// doneTask is an action the API answered synchronously.
type doneTask struct{ id string }

func (t doneTask) ID() string                 { return t.id }
func (t doneTask) Wait(context.Context) error { return nil }

func finished(id string, err error) (driver.Task, error) {
	if err != nil {
		return nil, classify(err)
	}
	return doneTask{id: id}, nil
}

// taskError is a failed task's error. A task that failed without saying
// why is still a failure, never a success.
func taskError(t *api.Task) error {
	if t.State != api.TaskFailed {
		return nil
	}
	if t.Error != nil {
		e := fromAPI(t.Error)
		e.Message = fmt.Sprintf("task %s (%s %s) failed: %s", t.ID, t.Kind, t.Target, t.Error.Message)
		return e
	}
	return &driver.Error{Code: driver.CodeFailed, Message: fmt.Sprintf("task %s (%s %s) failed without saying why", t.ID, t.Kind, t.Target)}
}

// classify turns an API error into a driver error with the same code,
// keeping the original in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		return err
	}
	e := fromAPI(ae)
	e.Err = err
	return e
}

func fromAPI(ae *api.Error) *driver.Error {
	return &driver.Error{Code: driver.Code(ae.Code), Message: ae.Message, Status: ae.Status, Details: ae.Details}
}

func image(img *api.Image) driver.Image {
	return driver.Image{
		ID: img.ID, Cluster: img.Cluster, Manifest: img.Manifest, SHA256: img.SHA256,
		SizeBytes: img.SizeBytes, Source: img.Source, CreatedAt: img.CreatedAt,
	}
}
