package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout/executor"
)

var (
	_ resource.ResourceWithConfigure   = (*superclusterVersionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*superclusterVersionResource)(nil)
	_ resource.ResourceWithImportState = (*superclusterVersionResource)(nil)
)

// defaultSuperclusterTimeout: an incremental upgrade (S26) takes five times
// as long as a maintenance window or more, cluster after cluster.
const defaultSuperclusterTimeout = 12 * time.Hour

func newSuperclusterVersionResource() resource.Resource { return &superclusterVersionResource{} }

type superclusterVersionResource struct{ data *providerData }

type superclusterVersionModel struct {
	ID                     types.String   `tfsdk:"id"`
	Supercluster           types.String   `tfsdk:"supercluster"`
	Version                versionValue   `tfsdk:"version"`
	Strategy               types.String   `tfsdk:"strategy"`
	Images                 types.Map      `tfsdk:"images"`
	ClusterStrategy        *strategyModel `tfsdk:"cluster_strategy"`
	Clusters               types.List     `tfsdk:"clusters"`
	RolloutPlan            types.List     `tfsdk:"rollout_plan"`
	RolloutSteps           types.List     `tfsdk:"rollout_steps"`
	ExpectedUnavailability types.String   `tfsdk:"expected_unavailability"`
	ClusterVersions        types.Map      `tfsdk:"cluster_versions"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
}

func (r *superclusterVersionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_supercluster_version"
}

func (r *superclusterVersionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "One version across every cluster of a supercluster. All clusters of a supercluster must run " +
			"compatible versions: patch releases are compatible and roll one cluster at a time (`rolling`); a major " +
			"or minor release needs either a `maintenance_window` (every cluster down and upgraded together, the service " +
			"unavailable, fastest) or `incremental` (each cluster leaves, upgrades and joins a new supercluster, the " +
			"service up at reduced capacity, much longer). The plan shows the order of the clusters, every step inside each, " +
			"and the expected unavailability. Destroying the resource only removes it from the state. Default `timeouts`: 12h.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The supercluster's name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"supercluster": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the supercluster.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"version": schema.StringAttribute{
				Required: true, CustomType: versionType{},
				MarkdownDescription: "The version every cluster should run. After a refresh, the lowest version any cluster runs.",
			},
			"strategy": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`auto` (default: `rolling` when the version is compatible with what the clusters run, " +
					"otherwise the plan asks you to choose), `rolling`, `maintenance_window` or `incremental`.",
				Validators: []validator.String{stringvalidator.OneOf(superStrategyNames()...)},
			},
			"images": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The image to activate on each cluster, by cluster name, e.g. " +
					"`{ for k, v in appliance_software_image.next : k => v.id }`. A cluster left out uses its image of `version`.",
			},
			"cluster_strategy": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "How each cluster's own rollout proceeds, as `strategy` of `appliance_cluster_active_version`. In a maintenance window every node may go at once.",
				Attributes:          strategyAttributes(),
			},
			"clusters": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The member clusters, in the order they are upgraded.",
			},
			"rollout_plan": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Every step, one per line, prefixed with its cluster, computed at plan time.",
			},
			"rollout_steps": superRolloutStepsAttribute(),
			"expected_unavailability": schema.StringAttribute{
				Computed: true, MarkdownDescription: "What the service loses while the plan runs.",
			},
			"cluster_versions": schema.MapAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The version each cluster runs (the lowest of its nodes), by cluster name.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *superclusterVersionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// superPlan is the supercluster's plan plus what the resource needs to
// show it: clusters whose images are not readable yet.
type superPlan struct {
	*rollout.SuperPlan
	snaps map[string]*appliance.Cluster
	// deferred names clusters whose image is created in this same apply and
	// could not be read at plan time (a source_url image): the plan is then
	// computed, and checked, at apply.
	deferred []string
}

// members returns the supercluster's clusters: those that name it, those in
// the temporary supercluster of an incremental upgrade, and those the state
// remembers (a cluster that left and was not yet back).
func members(all []appliance.Cluster, name string, remembered []string) map[string]*appliance.Cluster {
	keep := map[string]bool{}
	for _, n := range remembered {
		keep[n] = true
	}
	out := map[string]*appliance.Cluster{}
	for i := range all {
		c := &all[i]
		if rollout.IsMember(c, name) || keep[c.Name] {
			out[c.Name] = c
		}
	}
	return out
}

// plan reads the members, plans each member's rollout with the cluster
// planner and hands them to the supercluster planner.
func (r *superclusterVersionResource) plan(ctx context.Context, m superclusterVersionModel, remembered []string) (*superPlan, diag.Diagnostics) {
	var diags diag.Diagnostics
	name, version := m.Supercluster.ValueString(), m.Version.ValueString()
	all, err := r.data.driver.Clusters(ctx)
	if err != nil {
		diags.AddError("Cannot list the clusters", describeAPIError(err)+planTimeoutNote(ctx))
		return nil, diags
	}
	found := members(all, name, remembered)
	if len(found) == 0 {
		diags.AddAttributeError(path.Root("supercluster"), "No such supercluster",
			fmt.Sprintf("no cluster reports membership of supercluster %q; the appliance_cluster data source shows each cluster's supercluster", name))
		return nil, diags
	}
	if err := driver.Require(r.data.driver, driver.CapSupercluster, "appliance_supercluster_version"); err != nil {
		diags.AddError("Superclusters are not supported here", err.Error())
		return nil, diags
	}
	req := rollout.SuperRequest{Supercluster: name, Version: version, Strategy: rollout.SuperStrategy(m.Strategy.ValueString()),
		Members: found, Plans: map[string]*rollout.Plan{}}
	strategy, err := rollout.ChooseSuperStrategy(req)
	if err != nil {
		diags.AddAttributeError(path.Root("strategy"), "Choose how to cross an incompatible release", err.Error())
		return nil, diags
	}
	req.Strategy = strategy

	images := map[string]types.String{}
	if !m.Images.IsNull() && !m.Images.IsUnknown() {
		for k, v := range m.Images.Elements() {
			if s, ok := v.(types.String); ok {
				images[k] = s
			}
		}
	}
	opts := planOptions{inSupercluster: true, maintenanceWindow: strategy == rollout.SuperMaintenanceWindow}
	var deferred []string
	for _, n := range appliance.SortedKeys(found) {
		img, ok := images[n]
		if !ok {
			img = types.StringNull()
			if m.Images.IsUnknown() {
				img = types.StringUnknown()
			}
		}
		snap := found[n]
		if !rollout.NeedsRollout(snap, version) {
			continue
		}
		p, pdiags := r.data.planWith(ctx, snap, version, img, m.ClusterStrategy, opts)
		diags.Append(pdiags...)
		if pdiags.HasError() {
			return nil, diags
		}
		if p == nil && img.IsUnknown() {
			deferred = append(deferred, n)
			continue
		}
		if p == nil {
			diags.AddAttributeError(path.Root("images"), "No image for a cluster",
				fmt.Sprintf("cluster %s has no image of version %s yet: declare an appliance_software_image for it and name it in images", n, version))
			return nil, diags
		}
		req.Plans[n] = p
	}
	return &superPlan{SuperPlan: rollout.Supercluster(req), snaps: found, deferred: deferred}, diags
}

func (r *superclusterVersionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() {
			resp.Diagnostics.AddWarning("The clusters keep their versions",
				"Destroying appliance_supercluster_version only removes it from the Terraform state; nothing is downgraded.")
		}
		return
	}
	if r.data == nil {
		return
	}
	var plan, state superclusterVersionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() || plan.Supercluster.IsUnknown() || plan.Version.IsUnknown() || plan.Strategy.IsUnknown() {
		return
	}
	plan.ID = plan.Supercluster
	sp, diags := r.plan(ctx, plan, listStrings(state.Clusters))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.Clusters = stringList(sp.Order)
	plan.ExpectedUnavailability = types.StringValue(sp.Unavailability)
	if len(sp.deferred) > 0 {
		resp.Diagnostics.AddWarning("Rollout plan known after apply",
			fmt.Sprintf("The images of %s are created in this apply and their manifests are not readable yet, so the rollout cannot be shown now; "+
				"it is computed and checked at apply, before any node is touched. Use source_file images, or apply the images first, to see it here.",
				strings.Join(sp.deferred, ", ")))
		plan.RolloutPlan = types.ListUnknown(types.StringType)
		plan.RolloutSteps = types.ListUnknown(superStepObjectType)
		plan.ClusterVersions = types.MapUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if len(sp.Steps) == 0 {
		versions, vdiags := r.clusterVersions(ctx, sp.Order)
		resp.Diagnostics.Append(vdiags...)
		plan.ClusterVersions = versions
		if creating || state.RolloutPlan.IsNull() {
			plan.RolloutPlan, plan.RolloutSteps = stringList(nil), superStepsValue(nil)
		} else {
			plan.RolloutPlan, plan.RolloutSteps = state.RolloutPlan, state.RolloutSteps
		}
	} else {
		current, vdiags := r.clusterVersions(ctx, sp.Order)
		resp.Diagnostics.Append(vdiags...)
		target := map[string]string{}
		for n, v := range current.Elements() {
			if s, ok := v.(types.String); ok {
				target[n] = s.ValueString()
			}
		}
		// Clusters that roll will report the image's own spelling.
		for _, st := range sp.Steps {
			if st.Kind == rollout.SuperRoll {
				target[st.Cluster] = st.Plan.ToVersion
			}
		}
		plan.ClusterVersions = versionMap(target)
		plan.RolloutPlan, plan.RolloutSteps = stringList(sp.Lines()), superStepsValue(sp.Flat())
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *superclusterVersionResource) clusterVersions(ctx context.Context, names []string) (types.Map, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := map[string]string{}
	for _, n := range names {
		snap, err := r.data.driver.Cluster(ctx, n)
		if err != nil {
			diags.AddError("Cannot read cluster "+n, describeAPIError(err)+planTimeoutNote(ctx))
			return types.MapNull(types.StringType), diags
		}
		out[n] = clusterVersion(snap)
	}
	return versionMap(out), diags
}

func (r *superclusterVersionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan superclusterVersionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultSuperclusterTimeout)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, plan, timeout, &resp.State, &resp.Diagnostics)
}

func (r *superclusterVersionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan superclusterVersionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultSuperclusterTimeout)
	resp.Diagnostics.Append(diags...)
	r.apply(ctx, plan, timeout, &resp.State, &resp.Diagnostics)
}

// apply recomputes the plan, checks it holds nothing the operator was not
// shown, and runs it.
func (r *superclusterVersionResource) apply(ctx context.Context, plan superclusterVersionModel, timeout time.Duration, st stateSetter, diags *diag.Diagnostics) {
	if diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	shown, steps := plan.RolloutPlan, plan.RolloutSteps
	order := listStrings(plan.Clusters)
	sp, pdiags := r.plan(ctx, plan, order)
	diags.Append(pdiags...)
	if pdiags.HasError() {
		return
	}
	if len(sp.deferred) > 0 {
		diags.AddError("Images missing at apply", "the images of "+strings.Join(sp.deferred, ", ")+" are still unknown at apply: this is a bug in the provider")
		return
	}
	var runErr error
	if shownSteps := superStepsFrom(plan.RolloutSteps); shownSteps != nil {
		if extra := rollout.NotShownClusterSteps(sp.Flat(), shownSteps); extra != nil {
			runErr = fmt.Errorf("the clusters changed since the plan was made: the rollout would now include %q on %s, which the plan did not show. Nothing was changed; run terraform plan again", extra.String(), extra.Cluster)
		}
	} else {
		shown, steps = stringList(sp.Lines()), superStepsValue(sp.Flat())
	}
	if runErr == nil && len(sp.Steps) > 0 {
		runErr = r.run(ctx, plan, sp)
	}

	// Whatever happened, the state says what every cluster runs now.
	versions, vdiags := r.clusterVersions(context.WithoutCancel(ctx), sp.Order)
	diags.Append(vdiags...)
	plan.ID = plan.Supercluster
	plan.Clusters = stringList(sp.Order)
	plan.RolloutPlan, plan.RolloutSteps = shown, steps
	plan.ExpectedUnavailability = types.StringValue(sp.Unavailability)
	plan.ClusterVersions = versions
	if runErr != nil {
		plan.Version = newVersionValue(lowestOf(versions))
		if errors.Is(ctx.Err(), context.Canceled) {
			diags.AddError("Upgrade of supercluster "+plan.Supercluster.ValueString()+" interrupted", interruptedDetail(runErr))
		} else {
			diags.AddError("Upgrade of supercluster "+plan.Supercluster.ValueString()+" failed", runErr.Error()+timeoutAdvice(ctx, timeout))
		}
	}
	diags.Append(st.Set(ctx, &plan)...)
}

// run executes the supercluster plan through the executor.
func (r *superclusterVersionResource) run(ctx context.Context, m superclusterVersionModel, sp *superPlan) error {
	policy, _ := m.ClusterStrategy.policy()
	return executor.RunSupercluster(ctx, r.data.acting(), sp.SuperPlan, executor.SuperOptions{
		Owner: r.data.owner,
		Cluster: func(cluster string, p *rollout.Plan) executor.Options {
			tflog.Info(ctx, "supercluster: rolling cluster", map[string]any{"supercluster": sp.Supercluster, "cluster": cluster, "steps": len(p.Steps)})
			return executor.Options{
				OperationKey: "supercluster " + sp.Supercluster + ": " + rolloutKey(cluster, sp.Version, p.ImageID),
				AutoRevert:   policy.AutoRevert, MinHealthyTime: policy.MinHealthyTime, HealthyDeadline: policy.HealthyDeadline,
				SettleDeadline: settleDeadline(sp.snaps[cluster], policy),
			}
		},
	})
}

func (r *superclusterVersionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	var state superclusterVersionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	all, err := r.data.driver.Clusters(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the clusters", describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	found := members(all, state.Supercluster.ValueString(), listStrings(state.Clusters))
	if len(found) == 0 {
		resp.State.RemoveResource(ctx)
		return
	}
	order := appliance.SortedKeys(found)
	versions := map[string]string{}
	for _, n := range order {
		versions[n] = clusterVersion(found[n])
	}
	state.ID = state.Supercluster
	state.Clusters = stringList(order)
	state.ClusterVersions = versionMap(versions)
	if low := lowestOf(state.ClusterVersions); !appliance.SameVersion(low, state.Version.ValueString()) {
		state.Version = newVersionValue(low)
	}
	if state.RolloutPlan.IsNull() || state.RolloutPlan.IsUnknown() {
		state.RolloutPlan = stringList(nil)
	}
	if state.RolloutSteps.IsNull() || state.RolloutSteps.IsUnknown() {
		state.RolloutSteps = superStepsValue(nil)
	}
	if state.ExpectedUnavailability.IsNull() || state.ExpectedUnavailability.IsUnknown() {
		state.ExpectedUnavailability = types.StringValue("")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete forgets: no cluster is ever downgraded by removing a resource.
func (r *superclusterVersionResource) Delete(ctx context.Context, _ resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Info(ctx, "appliance_supercluster_version removed from state; the clusters keep their versions")
}

// ImportState takes the supercluster's name.
func (r *superclusterVersionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if req.ID == "" {
		resp.Diagnostics.AddError("Invalid import ID", "expected the supercluster's name, e.g. sc1")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("supercluster"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// lowestOf returns the oldest version in a map of versions.
func lowestOf(m types.Map) string {
	var low string
	var lowV appliance.Version
	keys := make([]string, 0, len(m.Elements()))
	for k := range m.Elements() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := m.Elements()[k].(types.String)
		if !ok {
			continue
		}
		v, err := appliance.ParseVersion(s.ValueString())
		if err != nil {
			continue
		}
		if low == "" || v.Less(lowV) {
			low, lowV = s.ValueString(), v
		}
	}
	return low
}
