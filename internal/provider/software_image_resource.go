package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout/executor"
)

var (
	_ resource.ResourceWithConfigure   = (*softwareImageResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*softwareImageResource)(nil)
	_ resource.ResourceWithImportState = (*softwareImageResource)(nil)
)

func newSoftwareImageResource() resource.Resource { return &softwareImageResource{} }

type softwareImageResource struct{ data *providerData }

type softwareImageModel struct {
	ID                   types.String   `tfsdk:"id"`
	Cluster              types.String   `tfsdk:"cluster"`
	SourceFile           types.String   `tfsdk:"source_file"`
	SourceURL            types.String   `tfsdk:"source_url"`
	Proxy                types.String   `tfsdk:"proxy"`
	ProxyWO              types.String   `tfsdk:"proxy_wo"`
	ProxyWOVersion       types.Int64    `tfsdk:"proxy_wo_version"`
	SHA256               types.String   `tfsdk:"sha256"`
	Stage                types.Bool     `tfsdk:"stage"`
	Version              types.String   `tfsdk:"version"`
	SupportedFrom        types.List     `tfsdk:"supported_from"`
	IrreversibleFeatures types.List     `tfsdk:"irreversible_features"`
	Components           types.List     `tfsdk:"components"`
	SizeBytes            types.Int64    `tfsdk:"size_bytes"`
	Description          types.String   `tfsdk:"description"`
	StagedNodes          types.List     `tfsdk:"staged_nodes"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

func (r *softwareImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_software_image"
}

func (r *softwareImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computedList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An image bundle present and validated on a cluster and staged into the alternate boot " +
			"partition of every node that still runs an older version. Staging never interrupts service. " +
			"The bundle is checked at plan time when it is a local file: a corrupt bundle, a version that is not " +
			"newer than the cluster's or an unsupported upgrade path fail the plan, not the apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The image's ID on the cluster.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the cluster the image is for.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"source_file": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of a bundle on the machine running Terraform; the provider streams it to the cluster" +
					". A changed file (new checksum) replaces the image.",
				PlanModifiers: []planmodifier.String{replaceUnlessImported()},
				// Exactly one of source_file and source_url: ValidateConfig.
			},
			"source_url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "http, https or ftp URL the cluster downloads the bundle from itself.",
				PlanModifiers:       []planmodifier.String{replaceUnlessImported()},
				Validators:          []validator.String{urlSchemeValidator{}},
			},
			"proxy": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Proxy URL the cluster uses for `source_url`. Deprecated: it is kept in the state, with any " +
					"credentials it carries; use `proxy_wo`.",
				DeprecationMessage: "proxy is kept in the Terraform state, with any credentials it carries; use proxy_wo (Terraform 1.11 or later), which never is.",
				Validators: []validator.String{
					stringvalidator.AlsoRequires(path.MatchRoot("source_url")),
					stringvalidator.ConflictsWith(path.MatchRoot("proxy_wo")),
				},
			},
			"proxy_wo": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				MarkdownDescription: "Proxy URL the cluster uses for `source_url`, e.g. `http://user:password@proxy.example.com:3128`. " +
					"Write-only (Terraform 1.11 or later): the provider hands it to the cluster for the download and keeps it in " +
					"neither the plan nor the state, so credentials in it never reach a state file. It is used only while the " +
					"cluster downloads the image.",
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("source_url"))},
			},
			"proxy_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "A number you change when `proxy_wo` changes, since Terraform cannot see a write-only value change. " +
					"A proxy only matters while an image downloads, so a new version changes nothing on the cluster.",
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("proxy_wo"))},
			},
			"sha256": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "SHA-256 of the bundle, hex. Computed from `source_file`; when set, the bundle must match it. " +
					"Strongly recommended with `source_url`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
				Validators:    []validator.String{stringvalidator.RegexMatches(sha256Pattern, "must be 64 lowercase hex digits")},
			},
			"stage": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Stage the image into the alternate partition of every node that runs an older version. " +
					"Default `true`. With `false` the image is only uploaded and validated. Each node's staging may take at most " +
					"30 minutes: a node that is slower fails the apply, naming it, instead of holding it for the whole `timeouts`.",
			},
			"version":               schema.StringAttribute{Computed: true, MarkdownDescription: "Version the image installs, from its manifest."},
			"supported_from":        computedList("Running versions the image may update from; from any other it is refused."),
			"irreversible_features": computedList("Features that, once this image is active, make earlier images unbootable: no rollback past it."),
			"components":            computedList("Components the image carries, each landing in its own place on a node, e.g. `os`, `storage`."),
			"size_bytes":            schema.Int64Attribute{Computed: true, MarkdownDescription: "Size of the bundle in bytes."},
			"description":           schema.StringAttribute{Computed: true, MarkdownDescription: "Description shown as the alternate image's description."},
			"staged_nodes": computedList("Nodes that hold the image in their active or alternate partition. An alternate " +
				"overwritten out of band shows here as drift, and the next apply stages the image again."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *softwareImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan reads a local bundle at plan time, so that the plan shows the
// image's version and components and refuses a bad image before apply.
func (r *softwareImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data == nil {
		return
	}
	if req.Plan.Raw.IsNull() {
		r.planDestroy(ctx, req, resp)
		return
	}
	var plan, state softwareImageModel
	resp.Diagnostics.Append(readModel(ctx, req.Plan.Schema.Type(), req.Plan.Raw, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(readModel(ctx, req.State.Schema.Type(), req.State.Raw, &state)...)
	}
	if resp.Diagnostics.HasError() || plan.Cluster.IsUnknown() {
		return
	}

	var manifest *appliance.Manifest
	if !plan.SourceFile.IsNull() && !plan.SourceFile.IsUnknown() {
		tflog.Info(ctx, "verifying image bundle", map[string]any{"file": plan.SourceFile.ValueString()})
		b, err := r.data.driver.InspectBundle(ctx, plan.Cluster.ValueString(), plan.SourceFile.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("source_file"), "Image bundle is not usable", describeBundleError(plan.SourceFile.ValueString(), err))
			return
		}
		// One line per inspection says whether the bundle was read or an
		// unchanged file's earlier verification reused (make bench counts them).
		tflog.Info(ctx, "image bundle verified", map[string]any{"file": plan.SourceFile.ValueString(), "bytes_read": b.BytesRead, "sha256": b.SHA256})
		m, sum, size := &b.Manifest, b.SHA256, b.SizeBytes
		if want := plan.SHA256.ValueString(); !plan.SHA256.IsUnknown() && want != "" && want != sum {
			if creating || !strings.EqualFold(want, state.SHA256.ValueString()) {
				resp.Diagnostics.AddAttributeError(path.Root("sha256"), "Image bundle checksum mismatch",
					fmt.Sprintf("%s has sha256 %s, but sha256 is set to %s: the file is not the bundle you meant, or it was damaged in transit.", plan.SourceFile.ValueString(), sum, want))
				return
			}
		}
		if planned, changed := r.data.bundleChangedSincePlan(plan.SourceFile.ValueString(), sum); changed {
			// Terraform's final plan at apply: the file is not what was
			// planned. Said here, before Terraform compares the plans.
			resp.Diagnostics.AddAttributeError(path.Root("source_file"), "Image bundle changed since the plan",
				bundleChangedError(plan.SourceFile.ValueString(), planned, sum))
			return
		}
		if !creating && state.SHA256.ValueString() != "" && state.SHA256.ValueString() != sum {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("sha256"))
		}
		manifest = m
		plan.SHA256 = types.StringValue(sum)
		plan.SizeBytes = types.Int64Value(size)
		setManifest(&plan, m, &resp.Diagnostics)
		r.data.rememberPlannedImage(plan.Cluster.ValueString(), *m)
	} else if !creating {
		// A downloaded image keeps what the cluster reported.
		plan.SHA256, plan.SizeBytes, plan.Version, plan.Description = state.SHA256, state.SizeBytes, state.Version, state.Description
		plan.SupportedFrom, plan.IrreversibleFeatures, plan.Components = state.SupportedFrom, state.IrreversibleFeatures, state.Components
	}
	if !creating {
		plan.ID = state.ID
	}

	// The requests to the cluster are bounded by plan_timeout; reading a
	// local bundle above is not (it is as long as the file).
	ctx, cancel := r.data.planning(ctx)
	defer cancel()
	snap, err := r.data.driver.Cluster(ctx, plan.Cluster.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cluster"), "Cannot read the cluster", clusterErrorDetail(plan.Cluster.ValueString(), err)+planTimeoutNote(ctx))
		return
	}
	if creating && manifest != nil {
		holds := r.clusterHolds(ctx, plan.Cluster.ValueString(), plan.SHA256.ValueString())
		switch {
		case installedFromAnImage(snap, manifest.Version):
			// A node runs this version or holds it as its rollback
			// target: the image is installed, and uploading it again only
			// gives the cluster its record back (an image deleted out of
			// band, a replacement). It is no update, so it is not judged
			// as one.
		case holds:
			// A replacement (a taint) deletes the cluster's copy before
			// it uploads again; the upload is then judged as an update.
			// Refuse now what the apply would refuse after the delete.
			if err := rollout.CheckImageFits(snap, manifest); err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("source_file"), "Replacing this image would lose it",
					"the replacement would delete the cluster's copy of this image and upload it again, and the cluster would then refuse it: "+err.Error()+
						". Nothing was changed. Keep the image (terraform untaint, or drop the -replace), or remove it from the configuration.")
				return
			}
		default:
			if err := rollout.CheckImageFits(snap, manifest); err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("source_file"), "Image cannot update this cluster", err.Error())
				return
			}
		}
	}

	// staged_nodes: the nodes that hold the image now, plus those that
	// still need it when staging is on.
	version := plan.Version.ValueString()
	if plan.Version.IsUnknown() || version == "" {
		if creating {
			plan.StagedNodes = types.ListUnknown(types.StringType)
		} else {
			plan.StagedNodes = state.StagedNodes
		}
	} else {
		id := ""
		if !creating {
			id = state.ID.ValueString()
		}
		want := rollout.StagedNodes(snap, id, version)
		if plan.Stage.ValueBool() {
			want = union(want, rollout.NodesNeeding(snap, version))
			var staging []string
			for _, s := range rollout.Staging(snap, id, version).Steps {
				staging = append(staging, s.Node)
			}
			r.data.rememberPlannedStaging(plan.Cluster.ValueString(), version, staging)
		}
		plan.StagedNodes = stringList(want)
	}
	resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
}

func (r *softwareImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan softwareImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, 60*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cluster := plan.Cluster.ValueString()

	// A node that a killed apply left rebooting cannot take the image yet
	// (a RAUC node is reached over SSH): wait for its reboot first, as a
	// rollout does, within this create's timeout. The next apply after a
	// kill meets this when the CLI kept no record of an image created just
	// before it: OpenTofu 1.10 had not written the image to its local
	// state by the SIGKILL of the RAUC SIGKILL test (Terraform 1.11 had),
	// so its next apply creates the image again while n1 reboots.
	// Reboots that a live operation of another apply drives under the
	// cluster's lease are its rollout, not a killed apply's leftovers:
	// this apply is refused by the lease, naming it, rather than held
	// until that rollout ends. A holder killed moments ago still counts as
	// alive until it misses its heartbeat, so it is watched that long.
	if snap, err := r.data.driver.Cluster(ctx, cluster); err == nil && len(rollout.InFlight(snap)) > 0 {
		if l := r.liveOtherHolder(ctx, cluster, snap.Lease); l != nil {
			resp.Diagnostics.AddError("Image not uploaded to cluster "+cluster, fmt.Sprintf(
				"cluster %s is leased by %s (operation %s) until %s, which is rebooting %s: another operation is changing it. Nothing was uploaded; apply again once it has finished.",
				cluster, l.Owner, l.OperationKey, l.ExpiresAt.UTC().Format(time.RFC3339), strings.Join(rollout.InFlight(snap), ", ")))
			return
		}
		tflog.Info(ctx, "waiting for reboots in flight before the upload", map[string]any{"cluster": cluster, "nodes": rollout.InFlight(snap)})
		if _, err := executor.AwaitInFlight(ctx, r.data.driver, cluster, timeout, 0); err != nil {
			resp.Diagnostics.AddError("Image not uploaded to cluster "+cluster, describeAPIError(err))
			return
		}
	}

	var img *driver.Image
	var err error
	if !plan.SourceFile.IsNull() {
		tflog.Info(ctx, "uploading image bundle", map[string]any{"cluster": cluster, "file": plan.SourceFile.ValueString()})
		want := driver.Digest{}
		if !plan.SHA256.IsUnknown() {
			want.SHA256 = plan.SHA256.ValueString()
		}
		if !plan.SizeBytes.IsUnknown() {
			want.SizeBytes = plan.SizeBytes.ValueInt64()
		}
		before := bundle.ReadsSoFar()
		img, err = r.data.driver.Upload(ctx, cluster, plan.SourceFile.ValueString(), want)
		after := bundle.ReadsSoFar()
		tflog.Info(ctx, "image bundle uploaded", map[string]any{"file": plan.SourceFile.ValueString(),
			"file_passes": after.Passes - before.Passes, "bytes_read": after.Bytes - before.Bytes})
	} else {
		// A write-only value is in the configuration only, never in the plan.
		var proxy types.String
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("proxy_wo"), &proxy)...)
		if proxy.IsNull() {
			proxy = plan.Proxy
		}
		img, err = r.download(ctx, plan, proxy.ValueString())
	}
	if err != nil {
		resp.Diagnostics.AddError("Image rejected by cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	if want := plan.SHA256.ValueString(); !plan.SHA256.IsUnknown() && want != "" && !strings.EqualFold(want, img.SHA256) {
		resp.Diagnostics.AddError("Image checksum mismatch",
			fmt.Sprintf("cluster %s received a bundle with sha256 %s, but %s was expected. The image %s was left on the cluster for inspection; delete it or fix sha256.", cluster, img.SHA256, want, img.ID))
	}
	plan.ID = types.StringValue(img.ID)
	// Record the image before staging: if staging fails, Terraform still
	// knows the image exists on the cluster and will not upload it twice.
	resp.Diagnostics.Append(r.setFromImage(ctx, &plan, img, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.stageAndRead(ctx, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// liveOtherHolder returns the lease's holder when it is another process
// that keeps renewing it: watched for up to its heartbeat (and a second),
// since a holder killed moments ago has not yet missed it. Nil when the
// lease is free, this process's, or its holder stops renewing (a killed
// apply, whose reboots are then waited for).
func (r *softwareImageResource) liveOtherHolder(ctx context.Context, cluster string, l *appliance.LeaseHolder) *appliance.LeaseHolder {
	if l == nil || l.Owner == r.data.owner || !l.Alive() {
		return nil
	}
	deadline := time.Now().Add(time.Duration(l.HeartbeatSeconds+1) * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return l
		case <-time.After(time.Second):
		}
		snap, err := r.data.acting().Cluster(ctx, cluster) // uncached: it watches the lease change
		if err != nil {
			return l
		}
		if snap.Lease == nil || snap.Lease.Owner != l.Owner || !snap.Lease.Alive() {
			return nil
		}
		l = snap.Lease
		if l.SilentSeconds == 0 {
			return l // it has just renewed: alive
		}
	}
	return l
}

func (r *softwareImageResource) download(ctx context.Context, plan softwareImageModel, proxy string) (*driver.Image, error) {
	cluster := plan.Cluster.ValueString()
	tflog.Info(ctx, "cluster downloads image", map[string]any{"cluster": cluster, "url": redactURL(plan.SourceURL.ValueString())})
	// The key is new for every attempt: it guards against a retried request
	// acting twice, and must never replay an earlier attempt's failure.
	return r.data.driver.Download(ctx, cluster, driver.DownloadRequest{
		URL: plan.SourceURL.ValueString(), SHA256: plan.SHA256.ValueString(), Proxy: proxy,
		IdempotencyKey: fmt.Sprintf("download/%s/%d", cluster, time.Now().UnixNano()),
	})
}

// stageAndRead stages the image where it is missing, then reads back what
// the nodes hold.
func (r *softwareImageResource) stageAndRead(ctx context.Context, m *softwareImageModel, diags *diag.Diagnostics) {
	cluster := m.Cluster.ValueString()
	d := r.data.acting()
	if m.Stage.ValueBool() {
		// The snapshot the staging starts from is read in this process's
		// turn on the cluster, after whatever else this apply did there.
		end, err := r.data.takeTurn(ctx, cluster)
		if err != nil {
			diags.AddError("Staging interrupted on cluster "+cluster, stagingInterrupted(ctx, err))
			if m.StagedNodes.IsUnknown() {
				m.StagedNodes = stringList(nil) // the next refresh reads what the nodes hold
			}
			return
		}
		defer end()
	}
	snap, err := d.Cluster(ctx, cluster)
	switch {
	case err != nil && ctx.Err() != nil && m.Stage.ValueBool():
		// Ctrl-C before the staging began: the same one error as during it.
		diags.AddError("Staging interrupted on cluster "+cluster, stagingInterrupted(ctx, err))
		if m.StagedNodes.IsUnknown() {
			m.StagedNodes = stringList(nil) // the next refresh reads what the nodes hold
		}
		return
	case err != nil:
		diags.AddError("Cannot read cluster "+cluster, describeAPIError(err))
		return
	}
	if m.Stage.ValueBool() {
		// The operation key names the intent, not this process: the same
		// staging applied again after a crash adopts the dead holder's
		// lease as soon as it misses its heartbeat. (Each run's idempotency
		// keys carry an attempt of their own, so no earlier answer is
		// replayed.)
		op := fmt.Sprintf("stage %s on %s", m.ID.ValueString(), cluster)
		err := executor.Stage(ctx, d, snap, m.ID.ValueString(), m.Version.ValueString(), r.data.owner, executor.Options{OperationKey: op})
		switch {
		case err != nil && ctx.Err() != nil:
			// Ctrl-C or the timeout: one error saying so, not one per
			// request that the cancellation cut short.
			diags.AddError("Staging interrupted on cluster "+cluster, stagingInterrupted(ctx, err))
		case err != nil:
			diags.AddError("Staging failed on cluster "+cluster,
				describeAPIError(err)+planTimeoutNote(ctx)+". Nodes keep running their active image (staging never interrupts service); the next apply stages the nodes that are still missing.")
		}
		// Read back what the nodes hold even when the apply was cut short,
		// so that the state records it: a bounded read of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		after, rerr := d.Cluster(rctx, cluster)
		cancel()
		switch {
		case rerr == nil:
			snap = after
		case err == nil:
			diags.AddError("Cannot read cluster "+cluster, describeAPIError(rerr)+planTimeoutNote(ctx))
			return
		}
		// Otherwise the staging error says it all; staged_nodes is what
		// the nodes held before, and the next refresh corrects it.
	}
	m.StagedNodes = stringList(rollout.StagedNodes(snap, m.ID.ValueString(), m.Version.ValueString()))
}

// stagingInterrupted explains a staging cut short by Ctrl-C or the
// resource's timeout.
func stagingInterrupted(ctx context.Context, err error) string {
	why := "The apply was interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "The create or update timeout ran out"
	}
	where := " before the staging began"
	var f *executor.Failure
	if errors.As(err, &f) {
		where = fmt.Sprintf(" while staging, at step %d (%s)", f.StepIndex+1, f.Step.String())
	}
	// Not the request the cancellation cut short ("context canceled"):
	// where it stopped, and how to go on.
	return why + where + ". Nodes keep running their active image (staging never interrupts service); the next apply stages the nodes that are still missing."
}

func (r *softwareImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	var state softwareImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := state.Cluster.ValueString()
	img, err := r.data.driver.Image(ctx, cluster, state.ID.ValueString())
	if driver.IsNotFound(err) {
		tflog.Warn(ctx, "image is gone from the cluster; removing it from state", map[string]any{"cluster": cluster, "id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read image "+state.ID.ValueString(), describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	snap, err := r.data.driver.Cluster(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	resp.Diagnostics.Append(r.setFromImage(ctx, &state, img, snap)...)
	if state.Stage.IsNull() {
		state.Stage = types.BoolValue(true) // import: the default
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *softwareImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan softwareImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, 60*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.stageAndRead(ctx, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// installedFromAnImage reports whether a node runs version, or holds it
// in its alternate partition, as written from an image record of the
// cluster's (the partition names the image). Uploading that image again
// gives the cluster its record back (deleted out of band, or replaced); the
// cluster judges it as no update. A factory image has no record, so a
// bundle of the version it runs is still judged, and refused, as an update.
func installedFromAnImage(snap *appliance.Cluster, version string) bool {
	for _, n := range snap.Nodes {
		for _, p := range []appliance.Partition{n.Active, n.Alternate} {
			if p.ImageID != "" && appliance.SameVersion(p.Version, version) {
				return true
			}
		}
	}
	return false
}

// planDestroy says, at plan time, that an image a node runs or holds in its
// alternate partition stays on the cluster: destroying it (or replacing it)
// only removes it from the state.
func (r *softwareImageResource) planDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	ctx, cancel := r.data.planning(ctx)
	defer cancel()
	var state softwareImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.Cluster.IsNull() {
		return
	}
	snap, err := r.data.driver.Cluster(ctx, state.Cluster.ValueString())
	if err != nil {
		return // Delete decides with what it reads then
	}
	if inUse := rollout.StagedNodes(snap, state.ID.ValueString(), state.Version.ValueString()); len(inUse) > 0 {
		resp.Diagnostics.AddWarning("The image stays on the cluster",
			fmt.Sprintf("Image %s (%s) is what %s run or hold as their rollback target in the alternate partition, so the provider never deletes it: "+
				"destroying or replacing appliance_software_image only removes it from the Terraform state. Delete it by hand once no node needs it.",
				state.ID.ValueString(), state.Version.ValueString(), strings.Join(inUse, ", ")))
	}
}

func (r *softwareImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state softwareImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := state.Cluster.ValueString()
	if file := state.SourceFile.ValueString(); file != "" {
		// The delete of a replacement runs before Terraform plans the new
		// image again: a bundle replaced since the plan keeps the old image.
		if planned, ok := r.data.bundlePlannedInThisRun(file); ok {
			if b, err := r.data.driver.InspectBundle(ctx, cluster, file); err == nil && !strings.EqualFold(b.SHA256, planned) {
				resp.Diagnostics.AddAttributeError(path.Root("source_file"), "Image bundle changed since the plan",
					bundleChangedError(file, planned, b.SHA256))
				return
			}
		}
	}
	snap, err := r.data.acting().Cluster(ctx, cluster)
	if err != nil && !driver.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot read cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	if snap != nil {
		if inUse := rollout.StagedNodes(snap, state.ID.ValueString(), state.Version.ValueString()); len(inUse) > 0 {
			// Never delete what a node runs or needs to roll back to.
			tflog.Warn(ctx, "image kept on the cluster: nodes run it or hold it as their rollback target", map[string]any{"cluster": cluster, "id": state.ID.ValueString(), "nodes": inUse})
			return
		}
	}
	err = r.data.driver.DeleteImage(ctx, cluster, state.ID.ValueString())
	if err != nil && !driver.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete image "+state.ID.ValueString(), describeAPIError(err)+planTimeoutNote(ctx))
	}
}

// ImportState takes "cluster/image_id".
func (r *softwareImageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, id, ok := strings.Cut(req.ID, "/")
	if !ok || cluster == "" || id == "" {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("expected CLUSTER/IMAGE_ID, e.g. demo/img-3f2a, got %q", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster"), cluster)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("stage"), true)...)
}

// setFromImage copies what the cluster reports of an image into m; with a
// snapshot it also sets staged_nodes.
func (r *softwareImageResource) setFromImage(_ context.Context, m *softwareImageModel, img *driver.Image, snap *appliance.Cluster) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(img.ID)
	m.SHA256 = types.StringValue(img.SHA256)
	m.SizeBytes = types.Int64Value(img.SizeBytes)
	setManifest(m, &img.Manifest, &diags)
	if snap != nil {
		m.StagedNodes = stringList(rollout.StagedNodes(snap, img.ID, img.Manifest.Version))
	}
	return diags
}

func setManifest(m *softwareImageModel, man *appliance.Manifest, _ *diag.Diagnostics) {
	m.Version = types.StringValue(man.Version)
	m.Description = types.StringValue(man.Description)
	m.SupportedFrom = stringList(man.SupportedFrom)
	m.IrreversibleFeatures = stringList(man.IrreversibleFeatures)
	m.Components = stringList(man.ComponentNames())
}

// replaceUnlessImported replaces the image when its source changes, but not
// when the prior state has no source at all: an imported image, whose
// source the cluster cannot know, gets it recorded in place.
func replaceUnlessImported() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = !req.StateValue.IsNull()
	}, "Replaces the image when its source changes, except after an import.", "Replaces the image when its source changes, except after an import.")
}

// clusterHolds reports whether the cluster already has an image with this
// checksum: uploading it again adopts that image, which the cluster accepts
// whatever version it runs now.
func (r *softwareImageResource) clusterHolds(ctx context.Context, cluster, sum string) bool {
	images, err := r.data.driver.Images(ctx, cluster)
	if err != nil {
		return false // the checks below then decide, as for a new image
	}
	for _, img := range images {
		if strings.EqualFold(img.SHA256, sum) {
			return true
		}
	}
	return false
}

func stringList(items []string) types.List {
	vals := make([]attr.Value, len(items))
	for i, s := range items {
		vals[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, vals)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
