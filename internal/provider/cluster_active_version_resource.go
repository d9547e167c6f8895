package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout/executor"
)

var (
	_ resource.ResourceWithConfigure   = (*clusterActiveVersionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*clusterActiveVersionResource)(nil)
	_ resource.ResourceWithImportState = (*clusterActiveVersionResource)(nil)
)

func newClusterActiveVersionResource() resource.Resource { return &clusterActiveVersionResource{} }

type clusterActiveVersionResource struct{ data *providerData }

type clusterActiveVersionModel struct {
	ID                types.String   `tfsdk:"id"`
	Cluster           types.String   `tfsdk:"cluster"`
	Version           versionValue   `tfsdk:"version"`
	ImageID           types.String   `tfsdk:"image_id"`
	Strategy          *strategyModel `tfsdk:"strategy"`
	RolloutPlan       types.List     `tfsdk:"rollout_plan"`
	RolloutSteps      types.List     `tfsdk:"rollout_steps"`
	NodeVersions      types.Map      `tfsdk:"node_versions"`
	PreviousVersion   types.String   `tfsdk:"previous_version"`
	RollbackAvailable types.Bool     `tfsdk:"rollback_available"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

type strategyModel struct {
	Order             types.String         `tfsdk:"order"`
	MaxUnavailable    types.String         `tfsdk:"max_unavailable"`
	HAMode            types.Bool           `tfsdk:"ha_mode"`
	FailoverResources types.Bool           `tfsdk:"failover_resources"`
	AutoRevert        types.Bool           `tfsdk:"auto_revert"`
	MinHealthyTime    timetypes.GoDuration `tfsdk:"min_healthy_time"`
	HealthyDeadline   timetypes.GoDuration `tfsdk:"healthy_deadline"`
	SettleTime        timetypes.GoDuration `tfsdk:"settle_time"`
}

func (r *clusterActiveVersionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_active_version"
}

func (r *clusterActiveVersionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The version every node of a cluster runs. Changing `version` plans the whole rollout " +
			"(stage, fail over, activate, wait healthy, fail back, finalize, settle) and shows it in `rollout_plan` at " +
			"`terraform plan`; `terraform apply` runs it under a cluster lease, reverting a node whose activation fails. " +
			"Setting `version` to the version in the alternate partition is a rollback, refused at plan time when an " +
			"irreversible feature forbids it. Destroying the resource only removes it from the state: it never downgrades. " +
			"Default `timeouts`: 3h for create and update; an apply cut off by its timeout resumes where it stopped on the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The cluster's name.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the cluster.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"version": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The version every node should run, e.g. `6.5`, `6.5.2`, `4.2.1-b37` or `6.5 SP8`. " +
					"After a refresh it holds the version the cluster runs (the lowest, when nodes differ).",
				CustomType: versionType{},
			},
			"image_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The image to activate, usually `appliance_software_image.<name>.id`. When omitted, the " +
					"cluster's image with `version` is used.",
			},
			"strategy": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "How the rollout proceeds. Omitted: the order suits the cluster's roles, HA partners are never down together, resources fail over and back, failed activations revert.",
				Attributes:          strategyAttributes(),
			},
			"rollout_plan": schema.ListAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "The ordered steps of the rollout, one per line, computed at plan time from the cluster " +
					"as it is: only what is still to do (nodes already on `version`, images already staged, are left out). " +
					"A rollback's activations read `roll back`. After apply it holds the plan that ran. While another operation " +
					"holds the cluster's lease (another state's apply rolling it), it is known only after apply, with a warning naming the holder.",
			},
			"rollout_steps": rolloutStepsAttribute(),
			"node_versions": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "The version each node runs, by node name. A node changed out of band shows here as drift.",
			},
			"previous_version": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The version in every node's alternate partition: what a rollback returns to. Empty when the nodes differ.",
			},
			"rollback_available": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether every node can boot `previous_version` again (false once an irreversible feature is active).",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *clusterActiveVersionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan computes the rollout from the cluster as it is now, so that
// `terraform plan` shows every step and refuses an unsafe or invalid change.
func (r *clusterActiveVersionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() {
			resp.Diagnostics.AddWarning("The cluster keeps its version",
				"Destroying appliance_cluster_active_version only removes it from the Terraform state. The cluster goes on running what it runs now; nothing is downgraded.")
		}
		return
	}
	if r.data == nil {
		return
	}
	var plan, state clusterActiveVersionModel
	resp.Diagnostics.Append(readModel(ctx, req.Plan.Schema.Type(), req.Plan.Raw, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(readModel(ctx, req.State.Schema.Type(), req.State.Raw, &state)...)
	}
	if resp.Diagnostics.HasError() || plan.Cluster.IsUnknown() {
		return
	}
	plan.ID = plan.Cluster
	if plan.Version.IsUnknown() || plan.ImageID.IsUnknown() && !r.canPlanWithoutImageID(plan) {
		r.markUnknown(&plan)
		resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
		return
	}
	snap, err := r.data.driver.Cluster(ctx, plan.Cluster.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cluster"), "Cannot read the cluster", clusterErrorDetail(plan.Cluster.ValueString(), err)+planTimeoutNote(ctx))
		return
	}
	// Terraform plans again at apply and stops the apply if a value this
	// plan knew comes out different then. A reboot a crashed apply left
	// running may end in between, so the plan is made from the cluster as
	// it will be once the reboots under way have ended (the apply waits
	// for them first), and what those reboots decide is left unknown.
	inFlight := len(rollout.InFlight(snap)) > 0
	settled := rollout.AssumeInFlight(snap, plan.Version.ValueString())
	needsRollout := rollout.NeedsRollout(settled, plan.Version.ValueString())
	// Another operation holding the cluster's lease moves it on between
	// this plan and Terraform's final plan at apply, so what this plan
	// would show could differ then ("inconsistent final plan"). What the
	// rollout does is left to the apply, which waits for the lease or is
	// refused by it, and plans from the cluster as that operation left it.
	if holder := snap.HeldByAnother(r.data.owner, rolloutKey(snap.Name, plan.Version.ValueString(), plan.ImageID.ValueString())); holder != nil &&
		(creating || inFlight || needsRollout || configChanged(plan, state)) {
		resp.Diagnostics.AddAttributeWarning(path.Root("cluster"), "Another operation holds the cluster's lease", leaseHeldAtPlan(snap.Name, holder))
		r.markUnknown(&plan)
		resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
		return
	}
	if !needsRollout {
		// Nothing to roll: keep what the state says of the last rollout.
		plan.NodeVersions = versionMap(settled.ActiveVersions())
		plan.RolloutPlan, plan.RolloutSteps, plan.PreviousVersion, plan.RollbackAvailable = state.RolloutPlan, state.RolloutSteps, state.PreviousVersion, state.RollbackAvailable
		if creating || configChanged(plan, state) || inFlight {
			// Apply will write what the partitions hold then, which a
			// staging earlier in the same apply may change.
			if creating {
				plan.RolloutPlan, plan.RolloutSteps = stringList(nil), stepsValue(nil)
			}
			plan.PreviousVersion, plan.RollbackAvailable = types.StringUnknown(), types.BoolUnknown()
		}
		resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
		return
	}

	p, diags := r.data.computePlan(ctx, snap, plan.Version.ValueString(), plan.ImageID, plan.Strategy)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if p == nil {
		// The image comes from an appliance_software_image created in this
		// same apply and was not read at plan time (a source_url image).
		resp.Diagnostics.AddWarning("Rollout plan known after apply",
			fmt.Sprintf("No image of version %s is on cluster %s yet, so the rollout cannot be shown now; it is computed and checked at apply, before any node is touched. "+
				"Use a source_file image, or apply the image first, to see the plan here.", plan.Version.ValueString(), snap.Name))
		r.markUnknown(&plan)
		resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
		return
	}
	for _, w := range p.Warnings {
		resp.Diagnostics.AddAttributeWarning(path.Root("version"), "Rollout warning", w)
	}
	plan.RolloutPlan = stringList(p.Lines())
	plan.RolloutSteps = stepsValue(p.Steps)
	// The nodes will report the image's own spelling of the version
	// ("1.1" for a configured "1.1.0"), so that is what is planned.
	target := map[string]string{}
	for _, n := range snap.Nodes {
		target[n.Name] = p.ToVersion
	}
	plan.NodeVersions = versionMap(target)
	switch v, ok := snap.UniformVersion(); {
	case inFlight:
		// The partitions a reboot under way leaves are known once it ends.
		plan.PreviousVersion = types.StringUnknown()
		plan.RollbackAvailable = types.BoolUnknown()
	case ok && appliance.SameVersion(v, plan.Version.ValueString()):
		// Nothing is activated (a finalize left over): the partitions stay.
		setPartitionFacts(&plan, snap)
	case ok:
		plan.PreviousVersion = types.StringValue(v)
		plan.RollbackAvailable = types.BoolUnknown()
	default:
		plan.PreviousVersion = types.StringUnknown()
		plan.RollbackAvailable = types.BoolUnknown()
	}
	tflog.Info(ctx, "rollout planned", map[string]any{"cluster": snap.Name, "from": p.FromVersion, "to": p.ToVersion, "order": string(p.Order), "steps": len(p.Steps), "waves": p.Waves})
	resp.Diagnostics.Append(setPlanModel(ctx, &resp.Plan, &plan)...)
}

// leaseHeldAtPlan explains a rollout left unknown at plan because another
// operation holds the cluster's lease.
func leaseHeldAtPlan(cluster string, l *appliance.LeaseHolder) string {
	return fmt.Sprintf("Cluster %s is leased by %s (operation %s) until %s: another operation is changing it, so the rollout is known "+
		"only after apply. The apply waits for that operation or is refused by its lease, and touches no node while it holds the lease. "+
		"Run terraform plan again once it has finished to see every step before applying. (Met while applying a plan made "+
		"before that operation took the lease, it makes Terraform report the plan as inconsistent: nothing was changed.)",
		cluster, l.Owner, l.OperationKey, l.ExpiresAt.UTC().Format(time.RFC3339))
}

// configChanged reports whether the configuration asks for an update even
// though no node has to change: a new strategy, image_id or timeouts.
func configChanged(plan, state clusterActiveVersionModel) bool {
	return !plan.Version.Equal(state.Version) || !plan.ImageID.Equal(state.ImageID) ||
		!reflect.DeepEqual(plan.Strategy, state.Strategy) || !plan.Timeouts.Equal(state.Timeouts)
}

// canPlanWithoutImageID: an image_id that is unknown at plan time comes from
// an image created in the same apply; its manifest may have been read from
// its bundle earlier in this plan.
func (r *clusterActiveVersionResource) canPlanWithoutImageID(plan clusterActiveVersionModel) bool {
	if plan.Version.IsUnknown() {
		return false
	}
	_, ok := r.data.plannedImage(plan.Cluster.ValueString(), plan.Version.ValueString())
	return ok
}

func (r *clusterActiveVersionResource) markUnknown(plan *clusterActiveVersionModel) {
	plan.RolloutPlan = types.ListUnknown(types.StringType)
	plan.RolloutSteps = types.ListUnknown(stepObjectType)
	plan.NodeVersions = types.MapUnknown(types.StringType)
	plan.PreviousVersion = types.StringUnknown()
	plan.RollbackAvailable = types.BoolUnknown()
}

func (r *clusterActiveVersionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterActiveVersionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultRolloutTimeout)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, plan, timeout, &resp.State, &resp.Diagnostics)
}

func (r *clusterActiveVersionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan clusterActiveVersionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultRolloutTimeout)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, plan, timeout, &resp.State, &resp.Diagnostics)
}

// stateSetter is what Create's and Update's response states have in common.
type stateSetter interface {
	Set(ctx context.Context, val any) diag.Diagnostics
}

// apply recomputes the plan from the cluster as it is now, checks that it
// holds nothing the operator was not shown, and runs it under the lease.
func (r *clusterActiveVersionResource) apply(ctx context.Context, plan clusterActiveVersionModel, timeout time.Duration, st stateSetter, diags *diag.Diagnostics) {
	if diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := r.data.acting()
	cluster := plan.Cluster.ValueString()
	shown, steps := plan.RolloutPlan, plan.RolloutSteps

	runErr := func() error {
		end, err := r.data.takeTurn(ctx, cluster)
		if err != nil {
			return err
		}
		defer end()
		snap, err := d.Cluster(ctx, cluster)
		if err != nil {
			return fmt.Errorf("reading cluster %s: %s", cluster, describeAPIError(err)+planTimeoutNote(ctx))
		}
		if !rollout.NeedsRollout(snap, plan.Version.ValueString()) && len(rollout.InFlight(snap)) == 0 {
			return nil
		}
		policy, _ := plan.Strategy.policy()
		// The operation key names the intent, not this process: the same
		// rollout applied again after a crash adopts the dead holder's
		// lease as soon as it misses its heartbeat (executor.LeaseHeartbeat).
		key := rolloutKey(cluster, plan.Version.ValueString(), plan.ImageID.ValueString())
		return executor.WithLease(ctx, d, cluster, r.data.owner, key, func(ctx context.Context, leaseID string) error {
			// Reboots under way (a crashed predecessor's) are waited for,
			// never started again; then the plan is made from what they
			// came back as.
			snap, err := executor.AwaitInFlight(ctx, d, cluster, policy.HealthyDeadline, 0)
			if err != nil {
				return err
			}
			if !rollout.NeedsRollout(snap, plan.Version.ValueString()) {
				return nil
			}
			p, pdiags := r.data.computePlan(ctx, snap, plan.Version.ValueString(), plan.ImageID, plan.Strategy)
			diags.Append(pdiags...)
			if pdiags.HasError() {
				return errAlreadyReported
			}
			if p == nil {
				return fmt.Errorf("no image of version %s is on cluster %s", plan.Version.ValueString(), cluster)
			}
			if recomputedPlanHook != nil {
				recomputedPlanHook(p)
			}
			if shownSteps := stepsFrom(plan.RolloutSteps); shownSteps != nil {
				if extra := rollout.NotShown(p.Steps, shownSteps); extra != nil {
					return fmt.Errorf("the cluster changed since the plan was made: the rollout would now include %q, which the plan did not show. Nothing was changed; run terraform plan again", extra.String())
				}
			} else {
				shown, steps = stringList(p.Lines()), stepsValue(p.Steps)
			}
			return executor.Run(ctx, d, p, executor.Options{
				OperationKey:    key,
				LeaseID:         leaseID,
				AutoRevert:      policy.AutoRevert,
				MinHealthyTime:  policy.MinHealthyTime,
				HealthyDeadline: policy.HealthyDeadline,
				SettleDeadline:  settleDeadline(snap, policy),
				Progress:        logProgress(ctx, cluster),
			})
		})
	}()

	// Whatever happened, the state says what every node runs now.
	snap, err := d.Cluster(context.WithoutCancel(ctx), cluster)
	if err != nil {
		diags.AddError("Cannot read cluster "+cluster+" after the rollout", describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	plan.ID = plan.Cluster
	plan.RolloutPlan, plan.RolloutSteps = shown, steps
	if plan.RolloutPlan.IsUnknown() {
		plan.RolloutPlan, plan.RolloutSteps = stringList(nil), stepsValue(nil) // nothing ran
	}
	plan.NodeVersions = versionMap(snap.ActiveVersions())
	setPartitionFacts(&plan, snap)
	if runErr != nil {
		// Record the truth, not the wish: the next plan then shows what is left to do.
		plan.Version = newVersionValue(clusterVersion(snap))
		switch {
		case errors.Is(runErr, errAlreadyReported):
		case errors.Is(ctx.Err(), context.Canceled):
			// Ctrl-C: one error saying where the rollout stopped, not the
			// request the cancellation happened to cut short.
			diags.AddError("Rollout interrupted on cluster "+cluster, interruptedDetail(runErr))
		default:
			diags.AddError("Rollout of cluster "+cluster+" failed", runErr.Error()+timeoutAdvice(ctx, timeout))
		}
	}
	diags.Append(st.Set(ctx, &plan)...)
}

var errAlreadyReported = errors.New("already reported")

// rolloutKey is the operation key of a rollout: the intent (this cluster to
// this version, with this image), the same in every process that applies it.
func rolloutKey(cluster, version, imageID string) string {
	if imageID == "" {
		return fmt.Sprintf("rollout %s -> %s", cluster, version)
	}
	return fmt.Sprintf("rollout %s -> %s (%s)", cluster, version, imageID)
}

// logProgress writes one tflog line per step at INFO.
func logProgress(ctx context.Context, cluster string) func(executor.Event) {
	return func(e executor.Event) {
		f := map[string]any{"cluster": cluster, "step": e.Index + 1, "of": e.Total, "what": e.Step.String()}
		switch {
		case e.Err != nil:
			f["error"] = e.Err.Error()
			tflog.Error(ctx, "rollout step failed", f)
		case e.Skipped:
			tflog.Info(ctx, "rollout step already done", f)
		case e.Done:
			tflog.Info(ctx, "rollout step done", f)
		default:
			tflog.Info(ctx, "rollout step", f)
		}
	}
}

// recomputedPlanHook, when set by a test, sees the plan recomputed at apply
// before it is compared with the plan shown: it plays a cluster that moved
// on between Terraform's last plan and this apply (reasons reworded, waves
// renumbered because earlier ones finished, a step added).
var recomputedPlanHook func(*rollout.Plan)

// defaultRolloutTimeout bounds an apply when the configuration sets no
// timeouts: a rollout reboots nodes one wave at a time and may wait 45-60
// minutes for the cluster to re-form (S17).
const defaultRolloutTimeout = 3 * time.Hour

// timeoutAdvice explains an apply cut off by its own timeout: what is left
// running and how to go on.
func timeoutAdvice(ctx context.Context, timeout time.Duration) string {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ""
	}
	return fmt.Sprintf(". The apply's timeout (%s) ran out: the rollout stopped where it was, and nodes already rebooting finish on their own. "+
		"Run terraform apply again once they are back (the rollout resumes where it stopped), and raise the resource's timeouts if the rollout needs longer", timeout)
}

// interruptedDetail explains an apply interrupted (Ctrl-C, a cancelled
// run) while it rolled the cluster: where it stopped and how to go on.
func interruptedDetail(err error) string {
	const next = "Nodes already rebooting finish on their own. Run terraform apply again: it waits for them and resumes where the rollout stopped."
	var f *executor.Failure
	if !errors.As(err, &f) {
		return "The apply was interrupted before the rollout's first step; no node was touched by it. " + next
	}
	where := fmt.Sprintf("The apply was interrupted at step %d (%s); no later step was started.", f.StepIndex+1, f.Step.String())
	if now := f.ClusterNow(); now != "" {
		where += " " + now + "."
	}
	return where + " " + next
}

// settleDeadline is how long the cluster may take to re-form (S17): its own
// settle time, or the strategy's, plus the healthy deadline as a margin.
func settleDeadline(snap *appliance.Cluster, policy rollout.Policy) time.Duration {
	settle := time.Duration(snap.SettleSeconds) * time.Second
	if policy.SettleTime > 0 {
		settle = policy.SettleTime
	}
	return settle + policy.HealthyDeadline
}

func (r *clusterActiveVersionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	var state clusterActiveVersionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	snap, err := r.data.driver.Cluster(ctx, state.Cluster.ValueString())
	if driver.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+state.Cluster.ValueString(), describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	state.ID = state.Cluster
	// Keep the operator's spelling ("6.5.0") when it names the same release.
	if running := clusterVersion(snap); !appliance.SameVersion(state.Version.ValueString(), running) {
		state.Version = newVersionValue(running)
	}
	state.NodeVersions = versionMap(snap.ActiveVersions())
	setPartitionFacts(&state, snap)
	if state.RolloutPlan.IsNull() || state.RolloutPlan.IsUnknown() {
		state.RolloutPlan = stringList(nil)
	}
	if state.RolloutSteps.IsNull() || state.RolloutSteps.IsUnknown() {
		state.RolloutSteps = stepsValue(nil)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete forgets: a cluster is never downgraded by removing a resource.
func (r *clusterActiveVersionResource) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Info(ctx, "appliance_cluster_active_version removed from state; the cluster keeps its version")
}

// ImportState takes the cluster's name.
func (r *clusterActiveVersionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if req.ID == "" || strings.Contains(req.ID, "/") {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("expected the cluster's name, e.g. demo, got %q", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

func clusterVersion(snap *appliance.Cluster) string {
	if v, ok := snap.UniformVersion(); ok {
		return v
	}
	return snap.LowestVersion()
}

// setPartitionFacts sets previous_version and rollback_available from the alternate partitions.
func setPartitionFacts(m *clusterActiveVersionModel, snap *appliance.Cluster) {
	prev, same, bootable := "", true, true
	for i, n := range snap.Nodes {
		if i == 0 {
			prev = n.Alternate.Version
		} else if !appliance.SameVersion(n.Alternate.Version, prev) {
			same = false
		}
		bootable = bootable && n.Alternate.Bootable && n.Alternate.Version != ""
	}
	if !same {
		prev = ""
	}
	m.PreviousVersion = types.StringValue(prev)
	m.RollbackAvailable = types.BoolValue(same && prev != "" && bootable)
}

func versionMap(m map[string]string) types.Map {
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}

func listStrings(l types.List) []string {
	out := make([]string, 0, len(l.Elements()))
	for _, e := range l.Elements() {
		if s, ok := e.(types.String); ok {
			out = append(out, s.ValueString())
		}
	}
	return out
}
