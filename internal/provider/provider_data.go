package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/tfrun"
)

// providerData is what Configure hands to every resource and data source.
type providerData struct {
	// driver reads and acts on the clusters: every resource and data source
	// goes through it, whatever system is behind it.
	driver driver.Driver
	// owner names this provider process in rollout leases, so that an
	// operator who meets a held lease can tell whose it is.
	owner string

	// plannedImages holds the manifests of images that an
	// appliance_software_image in this plan will upload: their bundles are
	// read at plan time, so that appliance_cluster_active_version can show
	// the full rollout before the image reaches the cluster.
	mu            sync.Mutex
	plannedImages map[string]appliance.Manifest
	// plannedLicenses holds, by cluster, the licence series that an
	// appliance_cluster_license in this plan will install.
	plannedLicenses map[string][]string
	// plannedStaging holds, per cluster and version, the nodes that an
	// appliance_software_image stages in this Terraform operation. A
	// rollout of the same operation shows those stage steps (they run
	// before its activations, in the same apply) and keeps showing them
	// when Terraform plans it again at apply, after the image staged them;
	// a node that was staged before the operation began is not shown.
	plannedStaging map[string]map[string]bool

	// run is the Terraform run this process serves (runKnown false when
	// its parent does not say), and runs what the run's plans found each
	// bundle file to be: a bundle replaced between a plan and its apply is
	// named, with both checksums, instead of Terraform's "inconsistent
	// final plan" (tfrun).
	// planTimeout bounds each plan-time request of a resource or data
	// source (a plan, a refresh): plan_timeout, default defaultPlanTimeout.
	planTimeout time.Duration

	run      tfrun.Run
	runKnown bool
	runs     *tfrun.Ledger

	// turns holds, by cluster, a one-slot channel: this process's own
	// operations on one cluster (a staging, a licence install, a rollout)
	// take turns. Terraform runs the independent resources of one apply
	// side by side, and the cluster admits one operation at a time under
	// its lease: the second would be refused by its own apply's lease
	// (lease_held naming this process), as a licence installed beside an
	// image's staging once was.
	turns sync.Map
}

// takeTurn waits until no other operation of this process acts on cluster,
// for as long as ctx allows (the resource's timeout), and returns the
// function that ends this operation's turn.
func (d *providerData) takeTurn(ctx context.Context, cluster string) (func(), error) {
	v, _ := d.turns.LoadOrStore(cluster, make(chan struct{}, 1))
	turn, ok := v.(chan struct{})
	if !ok {
		return nil, fmt.Errorf("the turns of cluster %s are a %T, not a channel", cluster, v)
	}
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	default:
	}
	tflog.Info(ctx, "waiting for this apply's other operation on the cluster to end", map[string]any{"cluster": cluster})
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waited for this apply's other operation on cluster %s until %w", cluster, context.Cause(ctx))
	}
}

func newProviderData(drv driver.Driver, version string) *providerData {
	host, _ := os.Hostname()
	d := &providerData{
		driver:        drv,
		owner:         fmt.Sprintf("terraform-provider-appliance/%s pid %d on %s", version, os.Getpid(), host),
		plannedImages: map[string]appliance.Manifest{},

		plannedStaging: map[string]map[string]bool{},
	}
	d.planTimeout = defaultPlanTimeout
	d.run, d.runKnown = tfrun.Current()
	d.runs = &tfrun.Ledger{}
	if dir := bundle.CacheDir(); dir != "" {
		d.runs.Dir = filepath.Join(dir, "runs")
	}
	return d
}

// defaultPlanTimeout is plan_timeout's default: without it, one plan-time
// read of an endpoint that never answers lasts as long as its retries
// (about 7 minutes at the default request_timeout and retry_max).
const defaultPlanTimeout = 2 * time.Minute

// planning bounds one plan-time request (ModifyPlan, a refresh, a data
// source read) by plan_timeout; an error it causes says so (planTimeoutNote).
func (d *providerData) planning(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d.planTimeout, planTimeoutError{d.planTimeout})
}

// bundleChangedSincePlan reports, for a plan that found file to have sum,
// the sum an earlier plan of the same Terraform run found, when it differs:
// the file was replaced between `terraform plan` and the apply.
func (d *providerData) bundleChangedSincePlan(file, sum string) (string, bool) {
	if !d.runKnown {
		return "", false
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	return d.runs.Check(d.run, abs, sum)
}

// bundlePlannedInThisRun returns the sum this run's plan found for file,
// for an apply that acts on it (the delete of a replacement).
func (d *providerData) bundlePlannedInThisRun(file string) (string, bool) {
	if !d.runKnown || d.run.MakesSavedPlan {
		return "", false
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	return d.runs.Planned(d.run, abs)
}

// bundleChangedError is the error of a bundle replaced after its plan.
func bundleChangedError(file, planned, now string) string {
	return fmt.Sprintf("%s changed after the plan was made: the plan has sha256 %s, but the file now has sha256 %s. "+
		"Nothing was uploaded or deleted. Run terraform plan again to plan the file as it is now (or put back the bundle the plan was made with).",
		file, planned, now)
}

// acting is the driver that acts and waits: uncached, since a wait polls
// the cluster until it changes on its own (a node back from its reboot)
// and a cached read would never see that. Plan-time reads use driver,
// which reads each cluster once per operation.
func (d *providerData) acting() driver.Driver {
	if u, ok := d.driver.(interface{ Uncached() driver.Driver }); ok {
		return u.Uncached()
	}
	return d.driver
}

func imageKey(cluster, version string) string {
	if v, err := appliance.ParseVersion(version); err == nil {
		version = fmt.Sprintf("%d.%d.%d.%d.%d", v.Major, v.Minor, v.Patch, v.ServicePack, v.Build)
	}
	return cluster + "\x00" + version
}

func (d *providerData) rememberPlannedImage(cluster string, m appliance.Manifest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.plannedImages[imageKey(cluster, m.Version)] = m
}

func (d *providerData) rememberPlannedStaging(cluster, version string, nodes []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := imageKey(cluster, version)
	if d.plannedStaging[k] == nil {
		d.plannedStaging[k] = map[string]bool{}
	}
	for _, n := range nodes {
		d.plannedStaging[k][n] = true
	}
}

func (d *providerData) stagedInThisOperation(cluster, version string) map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.plannedStaging[imageKey(cluster, version)]
}

func (d *providerData) plannedImage(cluster, version string) (appliance.Manifest, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.plannedImages[imageKey(cluster, version)]
	return m, ok
}

// providerDataFrom unpacks the data Configure handed over; nil before
// Configure has run (validation of a config with unknown provider values).
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T: this is a bug in the provider", data))
		return nil
	}
	return pd
}

// tflogLogger sends go-retryablehttp's request log to tflog at debug level,
// where TF_LOG=debug shows retries. The client never logs headers, so the
// token cannot reach it.
type tflogLogger struct{ ctx context.Context }

func fields(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func (l tflogLogger) Error(msg string, kv ...any) { tflog.Error(l.ctx, msg, fields(kv)) }
func (l tflogLogger) Info(msg string, kv ...any)  { tflog.Debug(l.ctx, msg, fields(kv)) }
func (l tflogLogger) Debug(msg string, kv ...any) { tflog.Trace(l.ctx, msg, fields(kv)) }
func (l tflogLogger) Warn(msg string, kv ...any)  { tflog.Warn(l.ctx, msg, fields(kv)) }
