// Package provider is the Terraform provider: configuration, resources, data
// sources and functions, built on terraform-plugin-framework.
package provider

import (
	"context"
	"crypto/ed25519"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
)

// Environment variables the provider reads when its configuration is silent.
const (
	EnvEndpoint = "APPLIANCE_ENDPOINT"
	EnvToken    = "APPLIANCE_TOKEN"
)

var (
	_ provider.Provider              = (*applianceProvider)(nil)
	_ provider.ProviderWithFunctions = (*applianceProvider)(nil)
)

// New returns the provider factory for providerserver.Serve and tests.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &applianceProvider{version: version} }
}

type applianceProvider struct {
	version string
}

type providerModel struct {
	Endpoint       types.String         `tfsdk:"endpoint"`
	Token          types.String         `tfsdk:"token"`
	Insecure       types.Bool           `tfsdk:"insecure"`
	CACertPEM      types.String         `tfsdk:"ca_cert_pem"`
	RetryMax       types.Int64          `tfsdk:"retry_max"`
	RequestTimeout timetypes.GoDuration `tfsdk:"request_timeout"`
	RetryAfterMax  timetypes.GoDuration `tfsdk:"retry_after_max"`
	PlanTimeout    timetypes.GoDuration `tfsdk:"plan_timeout"`
	TrustedKeys    types.List           `tfsdk:"trusted_keys"`
	Simulator      *simulatorModel      `tfsdk:"simulator"`
	RAUC           *raucModel           `tfsdk:"rauc"`
}

type simulatorModel struct {
	StateFile    types.String  `tfsdk:"state_file"`
	Topology     types.String  `tfsdk:"topology"`
	TopologyFile types.String  `tfsdk:"topology_file"`
	TimeScale    types.Float64 `tfsdk:"time_scale"`
}

func (p *applianceProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "appliance"
	resp.Version = p.version
}

func (p *applianceProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Makes the software version of clustered appliances declarative, against an " +
			"Appliance Management API endpoint, the bundled simulator, or RAUC appliances over SSH (the `rauc` block).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Base URL of the Appliance Management API, e.g. `https://appliances.example.com`. " +
					"Defaults to the `" + EnvEndpoint + "` environment variable. Conflicts with `simulator`.",
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Bearer token for the API. Defaults to the `" + EnvToken + "` environment variable. Never stored in state.",
			},
			"insecure": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip TLS certificate verification. Only for lab appliances with self-signed certificates; prefer `ca_cert_pem`.",
			},
			"ca_cert_pem": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM-encoded CA certificate(s) to trust for the endpoint, in addition to the system roots.",
			},
			"retry_max": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "How many times a failed request that is safe to repeat is retried (connection errors, 429, 502-504). Default 4.",
				Validators:          []validator.Int64{int64validator.Between(0, 20)},
			},
			"retry_after_max": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Longest wait honoured when the API answers 429 or 503 with `Retry-After`, as a Go duration such as `30s`. " +
					"A longer `Retry-After` is cut to this, and when the retries run out the error says what the cluster asked for. " +
					"A request never waits past its operation's deadline. Default `30s`.",
				CustomType: timetypes.GoDurationType{},
				Validators: []validator.String{nonNegativeDuration{}},
			},
			"trusted_keys": schema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Ed25519 public keys (PEM `PUBLIC KEY` blocks, as `openssl pkey -pubout` or " +
					"`terraform-provider-appliance bundle keygen` writes them) trusted to sign image bundles. When set, a " +
					"`source_file` bundle must have a detached signature (`BUNDLE.sig`, made by `terraform-provider-appliance " +
					"bundle sign`) by one of them, or the plan fails: unsigned, or signed by another key, or changed after signing.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"plan_timeout": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Bound on the requests of one plan or refresh of a resource or data source (reading clusters, images, leases), " +
					"retries included, as a Go duration such as `2m`: an endpoint that does not answer fails the plan with an error naming it " +
					"instead of holding it for every retry. Verifying a local bundle is not counted; applies have their own `timeouts`. Default `2m`.",
				CustomType: timetypes.GoDurationType{},
				Validators: []validator.String{minDuration{min: time.Second}},
			},
			"request_timeout": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Timeout of one HTTP request attempt, as a Go duration such as `60s`. Long operations are tasks and are not bound by it. Default `60s`.",
				CustomType:          timetypes.GoDurationType{},
				Validators:          []validator.String{nonNegativeDuration{}},
			},
		},
		Blocks: map[string]schema.Block{
			"rauc": raucBlock(),
			"simulator": schema.SingleNestedBlock{
				MarkdownDescription: "Start the bundled appliance simulator inside the provider, on a loopback port, instead of " +
					"talking to `endpoint`. The cluster lives in `state_file`, so separate `terraform` runs see the same cluster.",
				Attributes: map[string]schema.Attribute{
					"state_file": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "File that holds the simulated clusters. Relative paths are relative to the working directory. Required when the block is present.",
					},
					"topology": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Name of a topology preset for a new state file. Default `primary-ha` (a primary and three secondaries in two HA pairs).",
					},
					"topology_file": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "JSON topology file for a new state file, for any other shape. Conflicts with `topology`.",
					},
					"time_scale": schema.Float64Attribute{
						Optional:            true,
						MarkdownDescription: "Simulated seconds per wall-clock second. Default `600`: a 90-second reboot takes 0.15 s.",
						Validators:          []validator.Float64{float64validator.AtLeast(1)},
					},
				},
				Validators: []validator.Object{
					objectvalidator.ConflictsWith(path.MatchRoot("endpoint")),
				},
			},
		},
	}
}

func (p *applianceProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.RAUC != nil {
		p.configureRAUC(ctx, cfg.RAUC, resp)
		setPlanTimeout(resp, cfg.PlanTimeout)
		return
	}
	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() {
		resp.Diagnostics.AddError("Provider configuration depends on values known only after apply",
			"endpoint and token must be known at plan time: the provider reads the cluster to plan the rollout.")
		return
	}

	ccfg := client.Config{
		Endpoint:  cfg.Endpoint.ValueString(),
		Token:     cfg.Token.ValueString(),
		Insecure:  cfg.Insecure.ValueBool(),
		CACertPEM: cfg.CACertPEM.ValueString(),
		UserAgent: "terraform-provider-appliance/" + p.version,
		Logger:    tflogLogger{ctx: ctx},
	}
	if !cfg.RetryMax.IsNull() {
		ccfg.RetryMax = int(cfg.RetryMax.ValueInt64())
	}
	if !cfg.RequestTimeout.IsNull() {
		ccfg.RequestTimeout, _ = cfg.RequestTimeout.ValueGoDuration() // validated by the schema
	}
	if !cfg.RetryAfterMax.IsNull() {
		ccfg.RetryAfterMax, _ = cfg.RetryAfterMax.ValueGoDuration() // validated by the schema
	}

	if cfg.Simulator != nil {
		sim, diags := startEmbeddedSimulator(ctx, cfg.Simulator)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		ccfg.Endpoint, ccfg.Token = sim.URL(), sim.Token()
	}
	if ccfg.Endpoint == "" {
		ccfg.Endpoint = os.Getenv(EnvEndpoint)
	}
	if ccfg.Token == "" {
		ccfg.Token = os.Getenv(EnvToken)
	}
	if ccfg.Endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "No appliance endpoint",
			"Set endpoint in the provider block or the "+EnvEndpoint+" environment variable, or add a simulator block to use the bundled simulator.")
		return
	}
	if ccfg.Token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "No appliance token",
			"Set token in the provider block or the "+EnvToken+" environment variable.")
		return
	}
	if ccfg.Insecure {
		resp.Diagnostics.AddWarning("TLS verification is off",
			"insecure = true accepts any certificate from the endpoint. Use ca_cert_pem to trust a private CA instead.")
	}

	var trusted []ed25519.PublicKey
	if !cfg.TrustedKeys.IsNull() && !cfg.TrustedKeys.IsUnknown() {
		var texts []string
		resp.Diagnostics.Append(cfg.TrustedKeys.ElementsAs(ctx, &texts, false)...)
		for i, text := range texts {
			k, err := bundle.ParsePublicKey(text)
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("trusted_keys").AtListIndex(i), "Invalid trusted key", err.Error())
				continue
			}
			trusted = append(trusted, k)
		}
		if resp.Diagnostics.HasError() {
			return
		}
	}

	c, err := client.New(ccfg)
	if err != nil {
		resp.Diagnostics.AddError("Invalid appliance API configuration", err.Error())
		return
	}
	tflog.Debug(ctx, "appliance provider configured", map[string]any{"endpoint": ccfg.Endpoint, "simulator": cfg.Simulator != nil})

	// Plan-time reads come from a snapshot cache: each cluster is read once
	// per provider process until something changes it (see providerData.acting).
	data := newProviderData(mgmtapi.New(c.Cached(), mgmtapi.WithTrustedKeys(trusted)), p.version)
	resp.ResourceData = data
	resp.DataSourceData = data
	setPlanTimeout(resp, cfg.PlanTimeout)
}

// setPlanTimeout gives the configured plan_timeout to the provider data
// Configure made.
func setPlanTimeout(resp *provider.ConfigureResponse, limit timetypes.GoDuration) {
	data, ok := resp.ResourceData.(*providerData)
	if !ok || limit.IsNull() || limit.IsUnknown() {
		return
	}
	if d, _ := limit.ValueGoDuration(); d > 0 { // validated by the schema
		data.planTimeout = d
	}
}

func (p *applianceProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newSoftwareImageResource,
		newClusterActiveVersionResource,
		newSuperclusterVersionResource,
		newClusterLicenseResource,
	}
}

func (p *applianceProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newClusterDataSource,
		newUpgradePathDataSource,
		newRolloutPlanDataSource,
	}
}

func (p *applianceProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{
		newCompareVersionsFunction,
		newCompatibleFunction,
	}
}
