// Command floorprovider is the bench's floor for a fleet plan (bench only,
// never shipped): a terraform-plugin-framework provider that serves the
// real provider's schema (every resource, data source and function, so
// Terraform loads and checks the same schema) but whose
// appliance_software_image and appliance_cluster_active_version do no work
// of their own at plan time. ModifyPlan answers each resource with the
// planned value the real provider planned for it in the same bench run
// (read from `terraform show -json` of that plan, FLOOR_PLAN_JSON), so
// Terraform core receives, checks, stores and renders values of the same
// size. It has no client, reads no bundle and computes no rollout; what
// the framework does for this schema (validators, plan modifiers, the
// reflection-free part of its plan pass) is left in, because any framework
// provider with this schema pays it. The distance from the real provider to
// this floor is what the provider itself costs; the distance from this
// floor to terraform_data is what any plugin provider with this schema
// costs Terraform.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math/big"
	"os"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	appliance "github.com/applianceops/terraform-provider-appliance/internal/provider"
)

// planJSONEnv names the `terraform show -json` output of the real
// provider's plan of the same configuration.
const planJSONEnv = "FLOOR_PLAN_JSON"

func main() {
	// The process settings of the real provider (main.go): no unrequested
	// SDK logs, a less frequent GC. Without them the floor would not be one.
	appliance.QuietUnrequestedLogs()
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(256 << 20)
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &floorProvider{Provider: appliance.New("floor")()} },
		providerserver.ServeOpts{Address: "registry.terraform.io/applianceops/appliance"})
	if err != nil {
		log.Fatal(err)
	}
}

// floorProvider is the real provider with a no-op Configure and the two
// fleet resources replaced by floor resources of the same schema.
type floorProvider struct{ provider.Provider }

func (p *floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *floorProvider) Resources(ctx context.Context) []func() resource.Resource {
	var out []func() resource.Resource
	for _, newResource := range p.Provider.Resources(ctx) {
		r := newResource()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "appliance"}, &md)
		switch md.TypeName {
		case "appliance_software_image", "appliance_cluster_active_version":
			var sr resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sr)
			f := &floorResource{typeName: md.TypeName, schema: sr}
			out = append(out, func() resource.Resource { return f })
		default:
			out = append(out, newResource)
		}
	}
	return out
}

type floorResource struct {
	typeName string
	schema   resource.SchemaResponse
}

var _ resource.ResourceWithModifyPlan = (*floorResource)(nil)

func (r *floorResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.typeName
}

func (r *floorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	*resp = r.schema
}

// ModifyPlan replaces the framework's proposed plan with the real
// provider's planned value for the resource of the same cluster.
func (r *floorResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var attrs map[string]tftypes.Value
	if err := req.Plan.Raw.As(&attrs); err != nil {
		resp.Diagnostics.AddError("floor: plan", err.Error())
		return
	}
	var cluster string
	if err := attrs["cluster"].As(&cluster); err != nil {
		resp.Diagnostics.AddError("floor: cluster", err.Error())
		return
	}
	v, err := plannedValue(r.typeName, cluster, req.Plan.Raw.Type())
	if err != nil {
		resp.Diagnostics.AddError("floor: planned value", err.Error())
		return
	}
	resp.Plan.Raw = v
}

func (r *floorResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {}
func (r *floorResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse)       {}
func (r *floorResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}
func (r *floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// planned holds the real plan's values by resource type and cluster, read
// once per process on the first PlanResourceChange.
var planned struct {
	once   sync.Once
	err    error
	values map[string]map[string]json.RawMessage // type -> cluster -> {after, after_unknown}
}

type change struct {
	After        json.RawMessage `json:"after"`
	AfterUnknown json.RawMessage `json:"after_unknown"`
}

func plannedValue(typeName, cluster string, typ tftypes.Type) (tftypes.Value, error) {
	planned.once.Do(loadPlanned)
	if planned.err != nil {
		return tftypes.Value{}, planned.err
	}
	raw, ok := planned.values[typeName][cluster]
	if !ok {
		return tftypes.Value{}, fmt.Errorf("%s has no planned %s for cluster %q", os.Getenv(planJSONEnv), typeName, cluster)
	}
	var c change
	if err := json.Unmarshal(raw, &c); err != nil {
		return tftypes.Value{}, err
	}
	var after, unknown any
	if err := json.Unmarshal(c.After, &after); err != nil {
		return tftypes.Value{}, err
	}
	_ = json.Unmarshal(c.AfterUnknown, &unknown)
	return toValue(typ, after, unknown)
}

func loadPlanned() {
	b, err := os.ReadFile(os.Getenv(planJSONEnv))
	if err != nil {
		planned.err = fmt.Errorf("%s: %w", planJSONEnv, err)
		return
	}
	var plan struct {
		ResourceChanges []struct {
			Type   string          `json:"type"`
			Change json.RawMessage `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(b, &plan); err != nil {
		planned.err = err
		return
	}
	planned.values = map[string]map[string]json.RawMessage{}
	for _, rc := range plan.ResourceChanges {
		var c change
		if err := json.Unmarshal(rc.Change, &c); err != nil {
			planned.err = err
			return
		}
		var a struct {
			Cluster string `json:"cluster"`
		}
		_ = json.Unmarshal(c.After, &a)
		if planned.values[rc.Type] == nil {
			planned.values[rc.Type] = map[string]json.RawMessage{}
		}
		planned.values[rc.Type][a.Cluster] = rc.Change
	}
}

// toValue builds a value of typ from a plan JSON value and its
// after_unknown counterpart (true where the value is unknown).
func toValue(typ tftypes.Type, v, unknown any) (tftypes.Value, error) {
	if u, ok := unknown.(bool); ok && u {
		return tftypes.NewValue(typ, tftypes.UnknownValue), nil
	}
	if v == nil {
		return tftypes.NewValue(typ, nil), nil
	}
	switch {
	case typ.Is(tftypes.String):
		s, _ := v.(string)
		return tftypes.NewValue(typ, s), nil
	case typ.Is(tftypes.Bool):
		b, _ := v.(bool)
		return tftypes.NewValue(typ, b), nil
	case typ.Is(tftypes.Number):
		f, _ := v.(float64)
		return tftypes.NewValue(typ, new(big.Float).SetFloat64(f)), nil
	case typ.Is(tftypes.List{}), typ.Is(tftypes.Set{}):
		var et tftypes.Type
		switch c := typ.(type) {
		case tftypes.List:
			et = c.ElementType
		case tftypes.Set:
			et = c.ElementType
		default:
			return tftypes.Value{}, fmt.Errorf("floor: type %s is a list or set but not a tftypes.List or tftypes.Set", typ)
		}
		in, _ := v.([]any)
		us, _ := unknown.([]any)
		out := make([]tftypes.Value, len(in))
		for i, e := range in {
			var u any
			if i < len(us) {
				u = us[i]
			}
			ev, err := toValue(et, e, u)
			if err != nil {
				return tftypes.Value{}, err
			}
			out[i] = ev
		}
		return tftypes.NewValue(typ, out), nil
	case typ.Is(tftypes.Map{}):
		m, ok := typ.(tftypes.Map)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("floor: type %s is a map but not a tftypes.Map", typ)
		}
		et := m.ElementType
		in, _ := v.(map[string]any)
		us, _ := unknown.(map[string]any)
		out := make(map[string]tftypes.Value, len(in))
		for k, e := range in {
			ev, err := toValue(et, e, us[k])
			if err != nil {
				return tftypes.Value{}, err
			}
			out[k] = ev
		}
		return tftypes.NewValue(typ, out), nil
	case typ.Is(tftypes.Object{}):
		o, ok := typ.(tftypes.Object)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("floor: type %s is an object but not a tftypes.Object", typ)
		}
		in, _ := v.(map[string]any)
		us, _ := unknown.(map[string]any)
		out := make(map[string]tftypes.Value, len(o.AttributeTypes))
		for k, at := range o.AttributeTypes {
			ev, err := toValue(at, in[k], us[k])
			if err != nil {
				return tftypes.Value{}, err
			}
			out[k] = ev
		}
		return tftypes.NewValue(typ, out), nil
	}
	return tftypes.Value{}, fmt.Errorf("floor: type %s is not handled", typ)
}
