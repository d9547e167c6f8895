// Package driver is the boundary between the provider and the systems that
// run appliance software. A Driver reads a cluster as an appliance.Cluster
// snapshot and performs the steps of a rollout (stage, activate, revert,
// promote, move a resource, finalize) under a cluster-wide lease. Each
// implementation says what it can do in its Capabilities, so that a
// configuration asking for more fails at plan time naming the capability
// instead of half-way through an apply.
//
// Implementations: mgmtapi (the Appliance Management API over HTTP, which the
// bundled simulator serves) and rauc (RAUC A/B slots over SSH).
//
// The package does no I/O itself; it holds the interface, the neutral types
// the implementations share and the errors callers can test for.
package driver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Driver reads clusters and acts on them. Every method is safe for
// concurrent use. Errors that callers must tell apart carry a Code (see
// Error); anything else is a failure to reach or understand the system.
type Driver interface {
	// Kind names the driver in messages: "Appliance Management API", "RAUC over SSH".
	Kind() string
	// Capabilities says what this driver can do.
	Capabilities() Capabilities

	// Clusters lists every cluster the driver manages.
	Clusters(ctx context.Context) ([]appliance.Cluster, error)
	// Cluster reads one cluster; an unknown name is an Error with CodeNotFound.
	Cluster(ctx context.Context, name string) (*appliance.Cluster, error)

	// Images lists the images a cluster holds.
	Images(ctx context.Context, cluster string) ([]Image, error)
	// Image reads one image; an unknown id is an Error with CodeNotFound.
	Image(ctx context.Context, cluster, id string) (*Image, error)
	// InspectBundle verifies a local bundle file the way the cluster will
	// (integrity, signature, manifest) without sending it anywhere, for plan
	// time. A bad bundle is an Error with CodeCorruptImage (or
	// CodeUnsigned/CodeBadSignature).
	InspectBundle(ctx context.Context, cluster, path string) (*Bundle, error)
	// Upload sends a local bundle to the cluster and returns the image the
	// cluster made of it. When want.SHA256 is set, a file that no longer
	// matches it is refused before the cluster keeps anything.
	Upload(ctx context.Context, cluster, path string, want Digest) (*Image, error)
	// Download asks the cluster to fetch a bundle itself (CapDownloadByURL).
	Download(ctx context.Context, cluster string, req DownloadRequest) (*Image, error)
	// DeleteImage removes an image from the cluster.
	DeleteImage(ctx context.Context, cluster, id string) error

	// AcquireLease takes or renews the cluster's rollout lease. Another
	// holder's lease is an Error with CodeLeaseHeld naming the holder.
	AcquireLease(ctx context.Context, cluster string, req LeaseRequest) (*Lease, error)
	// ReleaseLease gives the lease back.
	ReleaseLease(ctx context.Context, cluster, leaseID string) error

	// Start begins one action and returns at once with a Task to wait on.
	// The action runs under a.LeaseID; a.IdempotencyKey makes a retried
	// start act once.
	Start(ctx context.Context, cluster string, a Action) (Task, error)
}

// Capability is one thing a driver may or may not be able to do.
type Capability string

// The capabilities a configuration can need.
const (
	CapResources     Capability = "resources on shared storage (fail over and back)"
	CapLicenses      Capability = "cluster licences"
	CapSupercluster  Capability = "supercluster membership and maintenance windows"
	CapDownloadByURL Capability = "downloads by URL (source_url)"
	CapPromote       Capability = "master/standby promotion"
	CapFinalize      Capability = "cluster-wide finalize"
)

// Capabilities is what a driver can do.
type Capabilities struct {
	Resources     bool
	Licenses      bool
	Supercluster  bool
	DownloadByURL bool
	Promote       bool
	Finalize      bool
	// BundleFormat names the image format the driver takes, for messages:
	// "appliance bundle" or "RAUC bundle (.raucb)".
	BundleFormat string
}

// Has reports whether the driver has capability c.
func (c Capabilities) Has(capability Capability) bool {
	switch capability {
	case CapResources:
		return c.Resources
	case CapLicenses:
		return c.Licenses
	case CapSupercluster:
		return c.Supercluster
	case CapDownloadByURL:
		return c.DownloadByURL
	case CapPromote:
		return c.Promote
	case CapFinalize:
		return c.Finalize
	}
	return false
}

// Require returns an error naming the capability when d lacks it, worded
// for a plan-time diagnostic.
func Require(d Driver, capability Capability, why string) error {
	if d.Capabilities().Has(capability) {
		return nil
	}
	return &Error{Code: CodeUnsupported, Message: fmt.Sprintf("%s cannot do %s, which %s needs", d.Kind(), capability, why)}
}

// ActionKind is what an Action does.
type ActionKind string

// The actions of a rollout and of cluster administration.
const (
	ActStage           ActionKind = "stage"            // write ImageID into Node's alternate partition, not booted
	ActActivate        ActionKind = "activate"         // boot Node into its alternate partition (Version expected)
	ActRevert          ActionKind = "revert"           // boot Node back into its previous partition
	ActPromote         ActionKind = "promote"          // make standby Node the master
	ActMoveResource    ActionKind = "move_resource"    // move Resource to node To
	ActFinalize        ActionKind = "finalize"         // cluster-wide step after the last activation
	ActInstallLicense  ActionKind = "install_license"  // install the licences of series Series
	ActSetSupercluster ActionKind = "set_supercluster" // join Supercluster ("" leaves)
	ActMaintenance     ActionKind = "maintenance"      // open (Open) or close a declared maintenance window
)

// Action is one operation on a cluster.
type Action struct {
	Kind         ActionKind
	Node         string
	ImageID      string
	Version      string
	Resource     string
	To           string
	Series       string
	Supercluster string
	Open         bool
	// AutoRevert asks the system to boot the previous partition again when
	// an activation fails.
	AutoRevert bool
	// LeaseID is the rollout lease the action runs under.
	LeaseID string
	// IdempotencyKey makes a retried start act only once.
	IdempotencyKey string
}

// Task is a started action.
type Task interface {
	// ID names the task in messages and logs.
	ID() string
	// Wait blocks until the action has finished or ctx ends. A failed action
	// returns an Error whose Code says why (CodeBootFailed, ...); an error
	// without a Code means the outcome is not known (ctx ended, the system
	// could not be reached): read the cluster to find out.
	Wait(ctx context.Context) error
}

// Image is an image a cluster holds.
type Image struct {
	ID        string
	Cluster   string
	Manifest  appliance.Manifest
	SHA256    string
	SizeBytes int64
	// Source is "upload" or the download URL without credentials.
	Source    string
	CreatedAt time.Time
}

// Bundle is a local bundle file, verified.
type Bundle struct {
	Manifest  appliance.Manifest
	SHA256    string
	SizeBytes int64
	// Signer describes the key that signed it ("" when unsigned).
	Signer string
	// BytesRead is how much of the file the inspection read: 0 when an
	// earlier verification of the unchanged file was remembered.
	BytesRead int64
}

// Digest is what a file is expected to be.
type Digest struct {
	SHA256    string
	SizeBytes int64
}

// DownloadRequest asks a cluster to fetch an image by URL.
type DownloadRequest struct {
	URL    string
	SHA256 string
	Proxy  string
	// IdempotencyKey is new for every attempt, so a failure is never replayed.
	IdempotencyKey string
}

// LeaseRequest takes or renews a lease.
type LeaseRequest struct {
	Owner        string
	OperationKey string
	TTL          time.Duration
	// Heartbeat is how often the holder promises to renew. A holder silent
	// for longer is taken to be dead, and a request with the same
	// OperationKey (the same intent, applied again after a crash) adopts
	// its lease instead of waiting for it to expire. Zero: the driver's default.
	Heartbeat time.Duration
}

// Lease is a cluster's rollout lease.
type Lease struct {
	ID           string
	Cluster      string
	Owner        string
	OperationKey string
	ExpiresAt    time.Time
	// Generation is the lease's fencing token where the cluster has one
	// (the Appliance Management API): higher for every new lease, the same
	// for a renewal. 0 when the driver has none.
	Generation int64
	// Adopted is set when the lease was taken over from a holder of the
	// same operation that missed its heartbeat; PreviousOwner names it.
	Adopted       bool
	PreviousOwner string
}

// Code classifies a driver error.
type Code string

// Error codes callers act on. They match the Appliance Management API's
// codes where the API has one.
const (
	CodeCorruptImage          Code = "corrupt_image"
	CodeVersionNotNewer       Code = "version_not_newer"
	CodeUnsupportedPath       Code = "unsupported_upgrade_path"
	CodeIrreversibleFeature   Code = "irreversible_feature"
	CodePreconditionFailed    Code = "precondition_failed"
	CodeIncompatible          Code = "incompatible" // the bundle is for other hardware (RAUC compatible string)
	CodeUnsigned              Code = "unsigned"
	CodeBadSignature          Code = "bad_signature"
	CodeNotStaged             Code = "not_staged"
	CodeInvalidRequest        Code = "invalid_request"
	CodeUnauthorized          Code = "unauthorized"
	CodeNotFound              Code = "not_found"
	CodeLeaseHeld             Code = "lease_held"
	CodeLeaseLost             Code = "lease_lost" // the action's lease expired, was released or was taken over
	CodeConflict              Code = "conflict"
	CodeRateLimited           Code = "rate_limited"
	CodeDiskFull              Code = "disk_full"
	CodeUnavailable           Code = "unavailable"
	CodeUnsupported           Code = "unsupported" // the driver lacks a capability
	CodeHostKey               Code = "host_key"    // an SSH host key is unknown or changed
	CodeBootFailed            Code = "boot_failed"
	CodeStorageUpdateFailed   Code = "storage_update_failed"
	CodeNodeTimeout           Code = "node_timeout"
	CodeWrongVersionAfterBoot Code = "wrong_version_after_boot"
	CodeHealthCheckFailed     Code = "health_check_failed"
	CodeRevertFailed          Code = "revert_failed"
	CodeDownloadFailed        Code = "download_failed"
	CodeFailed                Code = "failed" // an action failed without saying why
)

// Error is a classified failure. Message is written for an operator and
// never holds a secret.
type Error struct {
	Code    Code
	Message string
	// Status is the HTTP status behind it, if any, for messages.
	Status int
	// Details carries machine-readable facts (e.g. "holder" of a lease).
	Details map[string]any
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err says the cluster or image does not exist.
func IsNotFound(err error) bool { return CodeOf(err) == CodeNotFound }
