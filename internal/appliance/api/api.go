// Package api holds the wire format of the Appliance Management API v1: the
// bodies that the client sends and the simulator (or a real appliance
// driver) answers. Cluster snapshots are appliance.Cluster. It does no I/O.
package api

import (
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Headers of the API.
const (
	HeaderContentSHA256  = "X-Content-SHA256" // sha256 (hex) of an uploaded bundle, sent ahead of the body
	HeaderIdempotencyKey = "Idempotency-Key"  // makes a retried POST return the first answer instead of acting twice
	HeaderLeaseID        = "X-Lease-ID"       // the lease a mutating operation runs under
	// HeaderLeaseGeneration is the fencing token of that lease: its
	// generation, which every new lease of a cluster raises.
	HeaderLeaseGeneration = "X-Lease-Generation"
	// HeaderBundleSignature carries an upload's detached signature (the
	// bundle's .sig file, base64) for a cluster that requires signed images.
	HeaderBundleSignature = "X-Bundle-Signature"
)

// Error codes. Validation failures come back as 422 with one of the first
// group; the rest pair with their HTTP status.
const (
	CodeCorruptImage          = "corrupt_image"            // S6: 422
	CodeVersionNotNewer       = "version_not_newer"        // S7: 422
	CodeUnsupportedPath       = "unsupported_upgrade_path" // S8: 422
	CodeIrreversibleFeature   = "irreversible_feature"     // S9: 422
	CodePreconditionFailed    = "precondition_failed"      // S10: 422
	CodeUnsigned              = "unsigned"                 // 422: the cluster requires a signed image
	CodeBadSignature          = "bad_signature"            // 422: the signature does not match the bundle or no trusted key
	CodeNotStaged             = "not_staged"               // activate with nothing bootable in the alternate: 422
	CodeInvalidRequest        = "invalid_request"          // 400
	CodeUnauthorized          = "unauthorized"             // 401
	CodeNotFound              = "not_found"                // 404
	CodeLeaseHeld             = "lease_held"               // 409
	CodeLeaseLost             = "lease_lost"               // 409: the request's lease expired, was released or was taken over
	CodeConflict              = "conflict"                 // 409: the node or resource is busy
	CodeRateLimited           = "rate_limited"             // 429: retry after Retry-After seconds
	CodeDiskFull              = "disk_full"                // 507
	CodeInternal              = "internal"                 // 500
	CodeUnavailable           = "unavailable"              // 503
	CodeBootFailed            = "boot_failed"              // task error: the node did not boot the new image (S18)
	CodeStorageUpdateFailed   = "storage_update_failed"    // task error: S19
	CodeNodeTimeout           = "node_timeout"             // task error: the node never came back (S22)
	CodeWrongVersionAfterBoot = "wrong_version_after_boot" // task error: the node came back on the old version (S22)
	CodeDownloadFailed        = "download_failed"          // task error: S1
	CodeRevertFailed          = "revert_failed"            // task error: a revert (automatic or asked for) did not boot; the node is down
)

// Error is the body of every non-2xx answer.
type Error struct {
	Status  int            `json:"-"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// ClusterList is the answer of GET /v1/clusters.
type ClusterList struct {
	Clusters []appliance.Cluster `json:"clusters"`
}

// Image is an image uploaded to or downloaded by a cluster.
type Image struct {
	ID        string             `json:"id"`
	Cluster   string             `json:"cluster"`
	Manifest  appliance.Manifest `json:"manifest"`
	SHA256    string             `json:"sha256"`
	SizeBytes int64              `json:"size_bytes"`
	Source    string             `json:"source"` // "upload" or the download URL (without credentials)
	CreatedAt time.Time          `json:"created_at"`
}

// ImageList is the answer of GET /v1/clusters/{c}/images.
type ImageList struct {
	Images []Image `json:"images"`
}

// DownloadRequest asks the cluster to fetch an image itself (S1).
type DownloadRequest struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256,omitempty"`
	Proxy  string `json:"proxy,omitempty"`
}

// StageRequest writes an image into a node's alternate partition (S3, S4).
type StageRequest struct {
	ImageID string `json:"image_id"`
}

// ActivateRequest reboots a node into its alternate partition.
type ActivateRequest struct {
	// ExpectVersion guards against activating something else than planned.
	ExpectVersion string `json:"expect_version,omitempty"`
	// AutoRevert reverts the node (and its storage) when the activation fails (S18, S19).
	AutoRevert bool `json:"auto_revert"`
}

// MoveResourceRequest fails a resource over to another node, or back (S15).
type MoveResourceRequest struct {
	Node string `json:"node"`
}

// LicenseRequest installs the cluster licenses for a version series, such
// as "6.5" (S10: needed before a cluster of three or more nodes updates).
type LicenseRequest struct {
	Series string `json:"series"`
}

// SuperclusterRequest makes a cluster join a supercluster, or leave it with
// an empty name (S26: leave, upgrade, join a new supercluster).
type SuperclusterRequest struct {
	Name string `json:"name"`
}

// MaintenanceRequest opens or closes a declared maintenance window (S25):
// outages inside it are Declared in the ledger.
type MaintenanceRequest struct {
	Open bool `json:"open"`
}

// LeaseRequest takes or renews the cluster's rollout lease.
type LeaseRequest struct {
	Owner        string `json:"owner"`
	OperationKey string `json:"operation_key"`
	// TTLSeconds is how long (wall clock) the lease lasts from this request:
	// 1 to MaxLeaseTTLSeconds; 0 means DefaultLeaseTTLSeconds.
	TTLSeconds int `json:"ttl_seconds"`
	// HeartbeatSeconds is how often the holder promises to renew: a lease not
	// renewed for longer than that may be adopted by a request with the same
	// operation key (crash adoption). 1 to TTLSeconds; 0 means a third of the TTL.
	HeartbeatSeconds int `json:"heartbeat_seconds,omitempty"`
}

// Lease bounds (seconds).
const (
	DefaultLeaseTTLSeconds = 300
	MaxLeaseTTLSeconds     = 3600
)

// Lease is a cluster's rollout lease: one rollout at a time.
type Lease struct {
	ID           string    `json:"id"`
	Cluster      string    `json:"cluster"`
	Owner        string    `json:"owner"`
	OperationKey string    `json:"operation_key"`
	ExpiresAt    time.Time `json:"expires_at"`
	// Generation is the lease's fencing token: every lease the cluster
	// grants (taken or adopted) has a higher one than all before it; a
	// renewal keeps it. Mutating calls send it in X-Lease-Generation and
	// the cluster refuses one that is not its live lease's (lease_lost).
	Generation int64 `json:"generation"`
	// RenewedAt is when the holder last took or renewed it (wall clock).
	RenewedAt time.Time `json:"renewed_at"`
	// HeartbeatSeconds is the holder's renewal interval (see LeaseRequest).
	HeartbeatSeconds int `json:"heartbeat_seconds"`
	// Adopted is set on the answer that adopted a stale lease of the same
	// operation from PreviousOwner (whose lease id no longer works).
	Adopted       bool   `json:"adopted,omitempty"`
	PreviousOwner string `json:"previous_owner,omitempty"`
}

// Task states.
const (
	TaskPending   = "pending"
	TaskRunning   = "running"
	TaskSucceeded = "succeeded"
	TaskFailed    = "failed"
)

// Task is a long-running operation. GET /v1/tasks/{id}?wait=30s long-polls.
type Task struct {
	ID         string            `json:"id"`
	Cluster    string            `json:"cluster"`
	Kind       string            `json:"kind"` // stage, activate, revert, move_resource, promote, finalize, download, ...
	Target     string            `json:"target,omitempty"`
	State      string            `json:"state"`
	Progress   int               `json:"progress"` // percent
	Error      *Error            `json:"error,omitempty"`
	Result     map[string]string `json:"result,omitempty"`
	CreatedAt  time.Time         `json:"created_at"` // simulated time
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
}

// Done reports whether the task has finished, either way.
func (t *Task) Done() bool { return t.State == TaskSucceeded || t.State == TaskFailed }

// Event is one state change, stamped with simulated time.
type Event struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Cluster string    `json:"cluster"`
	Kind    string    `json:"kind"` // node_state, partition_swap, resource_moved, image_staged, ...
	Node    string    `json:"node,omitempty"`
	Message string    `json:"message"`
}

// EventList is the answer of GET /v1/clusters/{c}/events.
type EventList struct {
	Events []Event `json:"events"`
}

// Outage is an interval of simulated time in which an HA group had fewer
// serving members than its minimum, or a resource had no serving node.
type Outage struct {
	Cluster  string     `json:"cluster"`
	Kind     string     `json:"kind"`    // "ha_group" or "resource"
	Subject  string     `json:"subject"` // the group's or resource's name
	Start    time.Time  `json:"start"`
	End      *time.Time `json:"end,omitempty"` // nil while still out
	Declared bool       `json:"declared"`      // inside a declared offline window (S16 finalize, S25 maintenance)
}

// Ledger is the availability ledger of a cluster.
type Ledger struct {
	Outages []Outage `json:"outages"`
}

// Fault kinds injectable into the simulator.
const (
	FaultBootFailure     = "boot_failure"
	FaultStorageFailure  = "storage_failure"
	FaultNeverReturns    = "never_returns"
	FaultSlow            = "slow"
	FaultReturnsOld      = "returns_old_version"
	FaultFewerMembers    = "fewer_members"
	FaultHTTP5xx         = "http_5xx"
	FaultHTTP429         = "http_429"
	FaultDropUpload      = "drop_upload"
	FaultCorruptDownload = "corrupt_download"
	FaultDiskFull        = "disk_full"
	// FaultRevertFailure makes the node's next revert fail to boot: the
	// automatic revert of a failed activation, or a revert asked for.
	FaultRevertFailure = "revert_failure"
)

// Fault is one injected fault. Count 0 means until cleared.
type Fault struct {
	ID      string `json:"id,omitempty"`
	Kind    string `json:"kind"`
	Cluster string `json:"cluster,omitempty"`
	Node    string `json:"node,omitempty"`
	Count   int    `json:"count,omitempty"`
	// Factor slows a node down (FaultSlow): durations are multiplied by it.
	Factor float64 `json:"factor,omitempty"`
}

// FaultList is the answer of GET /v1/faults.
type FaultList struct {
	Faults []Fault `json:"faults"`
}
