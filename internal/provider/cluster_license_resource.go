package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout/executor"
)

var (
	_ resource.ResourceWithConfigure   = (*clusterLicenseResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*clusterLicenseResource)(nil)
	_ resource.ResourceWithImportState = (*clusterLicenseResource)(nil)
)

func newClusterLicenseResource() resource.Resource { return &clusterLicenseResource{} }

// clusterLicenseResource is the licence a cluster needs before it may run a
// new release series (S10: a NetWare cluster of three or more nodes refuses
// 6.5 until the 6.5 cluster licences are installed).
type clusterLicenseResource struct{ data *providerData }

type clusterLicenseModel struct {
	ID      types.String `tfsdk:"id"`
	Cluster types.String `tfsdk:"cluster"`
	Series  types.String `tfsdk:"series"`
}

// seriesPattern is how licences name a release series: major.minor.
var seriesPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

func (r *clusterLicenseResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_license"
}

func (r *clusterLicenseResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The cluster licences for one release series, installed on a cluster. Some appliances " +
			"(a NetWare-style cluster of three or more nodes) refuse to move to a new series until its licences are " +
			"installed; declaring them here makes that step part of the configuration. An `appliance_cluster_active_version` " +
			"that lists this resource in `depends_on` is planned as if the licence were already installed, and applied " +
			"after it.\n\n" +
			"Licences cannot be uninstalled through the Appliance Management API, as on the appliances themselves: " +
			"destroying this resource only removes it from the Terraform state (the plan warns), and the licence stays " +
			"on the cluster. A licence that disappears from the cluster (removed by hand) is installed again by the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`CLUSTER/SERIES`, e.g. `ncs/6.5`; also the import ID.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the cluster.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"series": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The release series the licences are for, as `MAJOR.MINOR` (e.g. `6.5`): one licence " +
					"covers every patch and service pack of its series.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{stringvalidator.RegexMatches(seriesPattern,
					"must be a release series MAJOR.MINOR such as 6.5 (a licence covers every patch of its series)")},
			},
		},
	}
}

func (r *clusterLicenseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan checks at plan time that the cluster exists, and tells the
// rollouts planned after it that the licence will be there.
func (r *clusterLicenseResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() {
			resp.Diagnostics.AddWarning("The licence stays installed",
				"Destroying appliance_cluster_license only removes it from the Terraform state: cluster licences cannot be uninstalled through the Appliance Management API, so the cluster keeps it.")
		}
		return
	}
	if r.data == nil {
		return
	}
	var plan clusterLicenseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Cluster.IsUnknown() || plan.Series.IsUnknown() {
		return
	}
	cluster, series := plan.Cluster.ValueString(), plan.Series.ValueString()
	if err := driver.Require(r.data.driver, driver.CapLicenses, "appliance_cluster_license"); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cluster"), "Licences are not supported here", err.Error())
		return
	}
	snap, err := r.data.driver.Cluster(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cluster"), "Cannot read the cluster", clusterErrorDetail(cluster, err)+planTimeoutNote(ctx))
		return
	}
	if req.State.Raw.IsNull() && len(snap.Licenses) == 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("cluster"), "The cluster reports no licences",
			fmt.Sprintf("Cluster %s reports no installed licence, which usually means it does not enforce licensing. Installing the %s licence is harmless, but from then on the cluster may ask for a licence of every new series.", cluster, series))
	}
	r.data.rememberPlannedLicense(cluster, series)
	plan.ID = types.StringValue(cluster + "/" + series)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *clusterLicenseResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterLicenseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, series := plan.Cluster.ValueString(), plan.Series.ValueString()
	// Installing a licence that is already there changes nothing, so a
	// retried or repeated create is safe.
	d := r.data.acting()
	end, err := r.data.takeTurn(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddError("Cannot install the "+series+" licence on cluster "+cluster, err.Error())
		return
	}
	defer end()
	if err := executor.Do(ctx, d, cluster, driver.Action{Kind: driver.ActInstallLicense, Series: series}); err != nil {
		resp.Diagnostics.AddError("Cannot install the "+series+" licence on cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	snap, err := d.Cluster(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+cluster+" after installing the licence", describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	if !hasLicense(snap, series) {
		resp.Diagnostics.AddError("The licence did not install",
			fmt.Sprintf("cluster %s accepted the %s licence but does not list it afterwards (it lists %s); check the cluster's licensing", cluster, series, strings.Join(snap.Licenses, ", ")))
		return
	}
	tflog.Info(ctx, "cluster licence installed", map[string]any{"cluster": cluster, "series": series})
	plan.ID = types.StringValue(cluster + "/" + series)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read looks for the licence in the cluster snapshot; one that is gone is
// removed from the state, so the next plan installs it again.
func (r *clusterLicenseResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = r.data.planning(ctx)
		defer cancel()
	}
	var state clusterLicenseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, series := state.Cluster.ValueString(), state.Series.ValueString()
	snap, err := r.data.driver.Cluster(ctx, cluster)
	if driver.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	if !hasLicense(snap, series) {
		tflog.Warn(ctx, "licence is no longer installed; removing it from state", map[string]any{"cluster": cluster, "series": series})
		resp.State.RemoveResource(ctx)
		return
	}
	state.ID = types.StringValue(cluster + "/" + series)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called: both arguments force a replacement.
func (r *clusterLicenseResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan clusterLicenseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete forgets: the API has no way to uninstall a licence, as the
// appliances themselves have none.
func (r *clusterLicenseResource) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Info(ctx, "appliance_cluster_license removed from state; the licence stays installed on the cluster")
}

// ImportState takes "cluster/series".
func (r *clusterLicenseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, series, ok := strings.Cut(req.ID, "/")
	if !ok || cluster == "" || !seriesPattern.MatchString(series) {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("expected CLUSTER/SERIES, e.g. ncs/6.5, got %q", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster"), cluster)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("series"), series)...)
}

// hasLicense reports whether the cluster holds a licence for series.
func hasLicense(snap *appliance.Cluster, series string) bool {
	for _, l := range snap.Licenses {
		if appliance.SameVersion(l, series) {
			return true
		}
	}
	return false
}

// withPlannedLicenses returns the snapshot with the licences that an
// appliance_cluster_license of this plan will install, so that a rollout
// which depends on one is planned as it will run.
func (d *providerData) withPlannedLicenses(snap *appliance.Cluster) *appliance.Cluster {
	d.mu.Lock()
	planned := d.plannedLicenses[snap.Name]
	d.mu.Unlock()
	var missing []string
	for _, s := range planned {
		if !hasLicense(snap, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return snap
	}
	out := snap.Clone()
	out.Licenses = append(out.Licenses, missing...)
	return out
}

func (d *providerData) rememberPlannedLicense(cluster, series string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plannedLicenses == nil {
		d.plannedLicenses = map[string][]string{}
	}
	for _, s := range d.plannedLicenses[cluster] {
		if appliance.SameVersion(s, series) {
			return
		}
	}
	d.plannedLicenses[cluster] = append(d.plannedLicenses[cluster], series)
}
