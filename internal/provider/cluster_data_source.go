package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

var _ datasource.DataSourceWithConfigure = (*clusterDataSource)(nil)

func newClusterDataSource() datasource.DataSource { return &clusterDataSource{} }

type clusterDataSource struct{ data *providerData }

type clusterDataModel struct {
	Name            types.String `tfsdk:"name"`
	Version         types.String `tfsdk:"version"`
	Uniform         types.Bool   `tfsdk:"uniform"`
	Healthy         types.Bool   `tfsdk:"healthy"`
	HAEnabled       types.Bool   `tfsdk:"ha_enabled"`
	Supercluster    types.String `tfsdk:"supercluster"`
	ReportedMembers types.Int64  `tfsdk:"reported_members"`
	Nodes           types.List   `tfsdk:"nodes"`
	HAGroups        types.List   `tfsdk:"ha_groups"`
	Resources       types.List   `tfsdk:"resources"`
}

var (
	nodeAttrTypes = map[string]attr.Type{
		"name": types.StringType, "role": types.StringType, "ha_group": types.StringType,
		"state": types.StringType, "healthy": types.BoolType,
		"active_version": types.StringType, "alternate_version": types.StringType,
		"alternate_bootable": types.BoolType, "alternate_description": types.StringType,
	}
	groupAttrTypes = map[string]attr.Type{
		"name": types.StringType, "members": types.ListType{ElemType: types.StringType}, "min_available": types.Int64Type,
	}
	resourceAttrTypes = map[string]attr.Type{
		"name": types.StringType, "current_node": types.StringType, "preferred_node": types.StringType,
		"state": types.StringType, "shared_storage": types.BoolType,
	}
)

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A cluster's topology, versions, partitions and health, for modules, `check` blocks and preconditions.",
		Attributes: map[string]schema.Attribute{
			"name":             schema.StringAttribute{Required: true, MarkdownDescription: "Name of the cluster."},
			"version":          str("The version every node runs, or the lowest when they differ."),
			"uniform":          schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether every node runs the same version (false after a partial update)."},
			"healthy":          schema.BoolAttribute{Computed: true, MarkdownDescription: "The cluster's own health verdict."},
			"ha_enabled":       schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether HA is active on the cluster (HA mode defaults to it)."},
			"supercluster":     str("The supercluster the cluster belongs to, if any."),
			"reported_members": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many members the cluster itself reports; fewer than its nodes is a symptom of a failed update."},
			"nodes": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The nodes, with both boot partitions.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":                  str("Node name."),
					"role":                  str("primary, secondary, master, standby, active, compute or member."),
					"ha_group":              str("The HA group the node belongs to, if any."),
					"state":                 str("running, rebooting, settling, down or offline."),
					"healthy":               schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the node reports healthy."},
					"active_version":        str("Version in the active partition: what the node runs."),
					"alternate_version":     str("Version in the alternate partition: what an activation would boot."),
					"alternate_bootable":    schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the alternate partition can still be booted."},
					"alternate_description": str("Description of the staged image."),
				}},
			},
			"ha_groups": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "HA groups: members that must keep `min_available` serving.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":          str("Group name."),
					"members":       schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Member nodes."},
					"min_available": schema.Int64Attribute{Computed: true, MarkdownDescription: "Members that must be serving at all times."},
				}},
			},
			"resources": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Cluster resources (pools, volumes, VMs) and where they run.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":           str("Resource name."),
					"current_node":   str("Node serving it now; empty while offline."),
					"preferred_node": str("Node it returns to."),
					"state":          str("online, offline, moving or upgrade."),
					"shared_storage": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it lives on shared storage."},
				}},
			},
		},
	}
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = d.data.planning(ctx)
		defer cancel()
	}
	var m clusterDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	snap, err := d.data.driver.Cluster(ctx, m.Name.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot read cluster "+m.Name.ValueString(), clusterErrorDetail(m.Name.ValueString(), err)+planTimeoutNote(ctx))
		return
	}
	_, uniform := snap.UniformVersion()
	m.Version = types.StringValue(clusterVersion(snap))
	m.Uniform = types.BoolValue(uniform)
	m.Healthy = types.BoolValue(snap.Healthy)
	m.HAEnabled = types.BoolValue(snap.HAEnabled)
	m.Supercluster = types.StringValue(snap.Supercluster)
	m.ReportedMembers = types.Int64Value(int64(snap.ReportedMembers))
	m.Nodes = nodesList(snap.Nodes)
	m.HAGroups = groupsList(snap.HAGroups)
	m.Resources = resourcesList(snap.Resources)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func nodesList(nodes []appliance.Node) types.List {
	t := types.ObjectType{AttrTypes: nodeAttrTypes}
	vals := make([]attr.Value, len(nodes))
	for i, n := range nodes {
		vals[i] = types.ObjectValueMust(nodeAttrTypes, map[string]attr.Value{
			"name": types.StringValue(n.Name), "role": types.StringValue(string(n.Role)), "ha_group": types.StringValue(n.HAGroup),
			"state": types.StringValue(string(n.State)), "healthy": types.BoolValue(n.Healthy),
			"active_version": types.StringValue(n.Active.Version), "alternate_version": types.StringValue(n.Alternate.Version),
			"alternate_bootable": types.BoolValue(n.Alternate.Bootable), "alternate_description": types.StringValue(n.Alternate.Description),
		})
	}
	return types.ListValueMust(t, vals)
}

func groupsList(groups []appliance.HAGroup) types.List {
	t := types.ObjectType{AttrTypes: groupAttrTypes}
	vals := make([]attr.Value, len(groups))
	for i, g := range groups {
		vals[i] = types.ObjectValueMust(groupAttrTypes, map[string]attr.Value{
			"name": types.StringValue(g.Name), "members": stringList(g.Members), "min_available": types.Int64Value(int64(g.MinAvailable)),
		})
	}
	return types.ListValueMust(t, vals)
}

func resourcesList(res []appliance.Resource) types.List {
	t := types.ObjectType{AttrTypes: resourceAttrTypes}
	vals := make([]attr.Value, len(res))
	for i, r := range res {
		vals[i] = types.ObjectValueMust(resourceAttrTypes, map[string]attr.Value{
			"name": types.StringValue(r.Name), "current_node": types.StringValue(r.CurrentNode), "preferred_node": types.StringValue(r.PreferredNode),
			"state": types.StringValue(r.State), "shared_storage": types.BoolValue(r.SharedStorage),
		})
	}
	return types.ListValueMust(t, vals)
}
