// Command minimalprovider is the bench's floor of any plugin provider for a
// fleet plan (bench only, never shipped): a terraform-plugin-framework
// provider whose appliance_software_image and
// appliance_cluster_active_version have only the attributes the fleet
// configuration sets (cluster, source_file, version, image_id) plus id, and
// plan nothing but the image's version, so that the active versions'
// version is known at plan as with the real provider. No client, no
// validators, no plan modifiers, no rollout: what is left is what Terraform
// and the framework cost for 200 resources of a plugin provider (three
// provider starts, the gRPC calls, Terraform's checks of each planned
// value). bench/floorprovider is the floor for the real schema and the real
// planned values; this one says whether any provider could plan the fleet
// within a given multiple of terraform_data on this machine.
package main

import (
	"context"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// plannedVersion is the version the bench's bundle carries.
const plannedVersion = "1.1"

func main() {
	// The real provider's process settings (main.go): no SDK logs nobody
	// asked for, a less frequent GC; so that the floors differ only in what
	// they serve.
	if os.Getenv("TF_LOG") == "" && os.Getenv("TF_LOG_PROVIDER") == "" {
		for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
			if _, set := os.LookupEnv(v); !set {
				_ = os.Setenv(v, "off")
			}
		}
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(256 << 20)
	err := providerserver.Serve(context.Background(), func() provider.Provider { return minimalProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/applianceops/appliance"})
	if err != nil {
		log.Fatal(err)
	}
}

type minimalProvider struct{}

func (minimalProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "appliance"
}

// Schema takes the provider block of the fleet configuration.
func (minimalProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{Attributes: map[string]providerschema.Attribute{
		"endpoint": providerschema.StringAttribute{Optional: true},
		"token":    providerschema.StringAttribute{Optional: true, Sensitive: true},
	}}
}

func (minimalProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (minimalProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

func (minimalProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource {
			return &minimalResource{typeName: "appliance_software_image", attrs: []string{"cluster"}, optional: []string{"source_file"}, computed: []string{"version"}}
		},
		func() resource.Resource {
			return &minimalResource{typeName: "appliance_cluster_active_version", attrs: []string{"cluster", "version"}, optional: []string{"image_id"}}
		},
	}
}

// minimalResource has string attributes only: id (computed), required
// attrs, optional ones and computed ones; a computed version is planned as
// plannedVersion.
type minimalResource struct {
	typeName                  string
	attrs, optional, computed []string
}

var _ resource.ResourceWithModifyPlan = (*minimalResource)(nil)

func (r *minimalResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.typeName
}

func (r *minimalResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	a := map[string]schema.Attribute{"id": schema.StringAttribute{Computed: true}}
	for _, n := range r.attrs {
		a[n] = schema.StringAttribute{Required: true}
	}
	for _, n := range r.optional {
		a[n] = schema.StringAttribute{Optional: true}
	}
	for _, n := range r.computed {
		a[n] = schema.StringAttribute{Computed: true}
	}
	resp.Schema = schema.Schema{Attributes: a}
}

func (r *minimalResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	for _, n := range r.computed {
		if n == "version" {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("version"), types.StringValue(plannedVersion))...)
		}
	}
}

func (r *minimalResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {}
func (r *minimalResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse)       {}
func (r *minimalResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}
func (r *minimalResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
