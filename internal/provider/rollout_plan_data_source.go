package provider

import (
	"context"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*rolloutPlanDataSource)(nil)

func newRolloutPlanDataSource() datasource.DataSource { return &rolloutPlanDataSource{} }

// rolloutPlanDataSource computes the plan a version change would run,
// without running it: for reviews, policy checks and change tickets.
type rolloutPlanDataSource struct{ data *providerData }

type rolloutPlanModel struct {
	Cluster     types.String   `tfsdk:"cluster"`
	Version     versionValue   `tfsdk:"version"`
	ImageID     types.String   `tfsdk:"image_id"`
	Strategy    *strategyModel `tfsdk:"strategy"`
	Steps       types.List     `tfsdk:"steps"`
	Order       types.String   `tfsdk:"order"`
	FromVersion types.String   `tfsdk:"from_version"`
	Rollback    types.Bool     `tfsdk:"rollback"`
	Waves       types.Int64    `tfsdk:"waves"`
	LowerBound  types.Int64    `tfsdk:"lower_bound"`
	Warnings    types.List     `tfsdk:"warnings"`
}

func (d *rolloutPlanDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_rollout_plan"
}

func (d *rolloutPlanDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	strategy := map[string]schema.Attribute{
		"order":              schema.StringAttribute{Optional: true, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"max_unavailable":    schema.StringAttribute{Optional: true, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"ha_mode":            schema.BoolAttribute{Optional: true, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"failover_resources": schema.BoolAttribute{Optional: true, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"auto_revert":        schema.BoolAttribute{Optional: true, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"min_healthy_time":   schema.StringAttribute{Optional: true, CustomType: timetypes.GoDurationType{}, Validators: []validator.String{nonNegativeDuration{}}, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"healthy_deadline":   schema.StringAttribute{Optional: true, CustomType: timetypes.GoDurationType{}, Validators: []validator.String{nonNegativeDuration{}}, MarkdownDescription: "As in `appliance_cluster_active_version`."},
		"settle_time":        schema.StringAttribute{Optional: true, CustomType: timetypes.GoDurationType{}, Validators: []validator.String{nonNegativeDuration{}}, MarkdownDescription: "As in `appliance_cluster_active_version`."},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The rollout that moving a cluster to `version` would run, computed and proven safe exactly as " +
			"`appliance_cluster_active_version` does at plan time, without changing anything. A change the cluster would refuse (a damaged or unsuitable image, a version that is not newer, an unsupported upgrade path, a rollback that irreversible features forbid, a missing licence, an HA partner already down) is an error here too.",
		Attributes: map[string]schema.Attribute{
			"cluster":      schema.StringAttribute{Required: true, MarkdownDescription: "Name of the cluster."},
			"version":      schema.StringAttribute{Required: true, CustomType: versionType{}, MarkdownDescription: "Version to plan for."},
			"image_id":     schema.StringAttribute{Optional: true, MarkdownDescription: "Image to plan with; default the cluster's image of `version`."},
			"strategy":     schema.SingleNestedAttribute{Optional: true, Attributes: strategy, MarkdownDescription: "How the rollout would proceed."},
			"steps":        schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The steps, one per line, in order; empty when the cluster already runs `version`."},
			"order":        schema.StringAttribute{Computed: true, MarkdownDescription: "The activation order chosen (never `auto`)."},
			"from_version": schema.StringAttribute{Computed: true, MarkdownDescription: "The version the cluster runs (the lowest, when nodes differ)."},
			"rollback":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether this is a rollback to the alternate partition."},
			"waves":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of activation waves."},
			"lower_bound":  schema.Int64Attribute{Computed: true, MarkdownDescription: "The fewest waves any safe plan could have; `waves` equals it."},
			"warnings":     schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "What the operator should know first, such as irreversible features."},
		},
	}
}

func (d *rolloutPlanDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *rolloutPlanDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = d.data.planning(ctx)
		defer cancel()
	}
	var m rolloutPlanModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := m.Cluster.ValueString()
	snap, err := d.data.driver.Cluster(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+cluster, clusterErrorDetail(cluster, err)+planTimeoutNote(ctx))
		return
	}
	m.FromVersion = types.StringValue(clusterVersion(snap))
	if !rollout.NeedsRollout(snap, m.Version.ValueString()) {
		m.Steps, m.Warnings = stringList(nil), stringList(nil)
		m.Order, m.Rollback = types.StringValue(""), types.BoolValue(false)
		m.Waves, m.LowerBound = types.Int64Value(0), types.Int64Value(0)
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		return
	}
	p, diags := d.data.computePlan(ctx, snap, m.Version.ValueString(), m.ImageID, m.Strategy)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if p == nil {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "No image for this version",
			"cluster "+cluster+" has no image of version "+m.Version.ValueString()+" to plan with")
		return
	}
	m.Steps = stringList(p.Lines())
	m.Order = types.StringValue(string(p.Order))
	m.Rollback = types.BoolValue(p.Rollback)
	m.Waves = types.Int64Value(int64(p.Waves))
	m.LowerBound = types.Int64Value(int64(p.LowerBound))
	m.Warnings = stringList(p.Warnings)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
