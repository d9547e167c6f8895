package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

var _ datasource.DataSourceWithConfigure = (*upgradePathDataSource)(nil)

func newUpgradePathDataSource() datasource.DataSource { return &upgradePathDataSource{} }

type upgradePathDataSource struct{ data *providerData }

type upgradePathModel struct {
	Cluster   types.String `tfsdk:"cluster"`
	From      versionValue `tfsdk:"from"`
	To        versionValue `tfsdk:"to"`
	Direct    types.Bool   `tfsdk:"direct"`
	Reachable types.Bool   `tfsdk:"reachable"`
	Hops      types.List   `tfsdk:"hops"`
	Summary   types.String `tfsdk:"summary"`
	Bundles   types.List   `tfsdk:"bundle_files"`
}

func (d *upgradePathDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_upgrade_path"
}

func (d *upgradePathDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Whether a cluster can update from one version to another, and when the image does not " +
			"support the running version directly, the shortest chain of supported updates through the images the cluster knows.",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the cluster whose images are searched."},
			"from": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Version to update from. Default: the version the cluster runs (the lowest, when nodes differ).",
				CustomType:          versionType{},
			},
			"to": schema.StringAttribute{
				Required: true, MarkdownDescription: "Version to reach; an image of it must be on the cluster.",
				CustomType: versionType{},
			},
			"bundle_files": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Paths of image bundles on this machine to consider as well as the cluster's images. " +
					"A cluster refuses an image it cannot update from, so the later hops of a chain are usually only on disk.",
			},
			"direct":    schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the image of `to` updates from `from` in one step."},
			"reachable": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether some chain of known images reaches `to`."},
			"hops": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The versions to run in turn, from `from` to `to`, e.g. `[\"1.0\", \"1.1\", \"1.3\"]`; empty when unreachable.",
			},
			"summary": schema.StringAttribute{Computed: true, MarkdownDescription: "One sentence for humans, e.g. `1.0 -> 1.1 -> 1.3: apply 1.1 first`."},
		},
	}
}

func (d *upgradePathDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *upgradePathDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data != nil {
		var cancel context.CancelFunc
		ctx, cancel = d.data.planning(ctx)
		defer cancel()
	}
	var m upgradePathModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := m.Cluster.ValueString()
	if m.From.IsNull() || m.From.ValueString() == "" {
		snap, err := d.data.driver.Cluster(ctx, cluster)
		if err != nil {
			resp.Diagnostics.AddError("Cannot read cluster "+cluster, clusterErrorDetail(cluster, err)+planTimeoutNote(ctx))
			return
		}
		m.From = newVersionValue(clusterVersion(snap))
	}
	images, err := d.data.driver.Images(ctx, cluster)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the images of cluster "+cluster, describeAPIError(err)+planTimeoutNote(ctx))
		return
	}
	var known []appliance.Manifest
	for _, img := range images {
		known = append(known, img.Manifest)
	}
	for _, f := range listStrings(m.Bundles) {
		man, _, _, err := bundle.VerifyFile(f)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("bundle_files"), "Image bundle is not usable", describeBundleError(f, err))
			return
		}
		known = append(known, *man)
	}
	var target *appliance.Manifest
	for i := range known {
		if appliance.SameVersion(known[i].Version, m.To.ValueString()) {
			target = &known[i]
		}
	}
	if target == nil {
		resp.Diagnostics.AddAttributeError(path.Root("to"), "No image of this version",
			fmt.Sprintf("neither cluster %s nor bundle_files has an image of version %s.", cluster, m.To.ValueString()))
		return
	}
	from := m.From.ValueString()
	chain := rollout.UpgradeChain(from, target, known)
	m.Direct = types.BoolValue(target.Supports(appliance.MustParseVersion(from)))
	m.Reachable = types.BoolValue(chain != nil)
	m.Hops = stringList(chain)
	switch {
	case chain == nil:
		m.Summary = types.StringValue(fmt.Sprintf("no chain of known images leads from %s to %s: %s updates from %s only", from, target.Version, target.Version, strings.Join(target.SupportedFrom, ", ")))
	case len(chain) <= 2:
		m.Summary = types.StringValue(fmt.Sprintf("%s -> %s: supported directly", from, target.Version))
	default:
		m.Summary = types.StringValue(fmt.Sprintf("%s: apply %s first", strings.Join(chain, " -> "), chain[1]))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
