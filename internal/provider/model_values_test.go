package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

func resourceSchema(t *testing.T, r resource.Resource) resource.SchemaResponse {
	t.Helper()
	var resp resource.SchemaResponse
	r.Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	return resp
}

func timeoutsValue(t *testing.T, create string) timeouts.Value {
	t.Helper()
	attrs := map[string]attr.Value{"create": types.StringNull(), "update": types.StringNull()}
	if create != "" {
		attrs["create"] = types.StringValue(create)
	}
	return timeouts.Value{Object: types.ObjectValueMust(map[string]attr.Type{"create": types.StringType, "update": types.StringType}, attrs)}
}

// activeVersionModels are plans the active version's ModifyPlan meets and
// sets: a planned rollout with a strategy and timeouts, values left
// unknown, nothing to roll (no strategy, null lists).
func activeVersionModels(t *testing.T) []clusterActiveVersionModel {
	steps := []rollout.Step{
		{Wave: 0, Kind: rollout.StepKind("stage"), Node: "n1", Version: "1.1"},
		{Wave: 1, Kind: rollout.StepKind("activate"), Node: "n1", Version: "1.1", Reason: "primary first"},
		{Wave: 1, Kind: rollout.StepKind("move_resource"), Resource: "vip", From: "n1", To: "n2"},
	}
	full := clusterActiveVersionModel{
		ID: types.StringValue("c1"), Cluster: types.StringValue("c1"), Version: newVersionValue("1.1"), ImageID: types.StringValue("img-1"),
		Strategy: &strategyModel{
			Order: types.StringValue("primary_first"), MaxUnavailable: types.StringValue("50%"), HAMode: types.BoolValue(true),
			FailoverResources: types.BoolNull(), AutoRevert: types.BoolValue(false),
			MinHealthyTime: timetypes.NewGoDurationValueFromStringMust("3s"), HealthyDeadline: timetypes.NewGoDurationNull(), SettleTime: timetypes.NewGoDurationUnknown(),
		},
		RolloutPlan: stringList([]string{"1. wave 0: stage n1 -> 1.1", "2. wave 1: activate n1 -> 1.1"}), RolloutSteps: stepsValue(steps),
		NodeVersions: versionMap(map[string]string{"n1": "1.1", "n2": "1.0"}), PreviousVersion: types.StringValue("1.0"),
		RollbackAvailable: types.BoolValue(true), Timeouts: timeoutsValue(t, "2h"),
	}
	unknown := full
	unknown.Strategy = nil
	unknown.ImageID = types.StringUnknown()
	(&clusterActiveVersionResource{}).markUnknown(&unknown)
	unknown.Timeouts = timeoutsValue(t, "")
	unknown.Timeouts.Object = types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType})
	nothing := unknown
	nothing.Version = newVersionValue("1.0.0")
	nothing.ImageID = types.StringNull()
	nothing.RolloutPlan, nothing.RolloutSteps = stringList(nil), stepsValue(nil)
	nothing.NodeVersions = types.MapNull(types.StringType)
	return []clusterActiveVersionModel{full, unknown, nothing}
}

func softwareImageModels(t *testing.T) []softwareImageModel {
	planned := softwareImageModel{
		ID: types.StringUnknown(), Cluster: types.StringValue("c1"), SourceFile: types.StringValue("/tmp/x.bundle"), SourceURL: types.StringNull(),
		Proxy: types.StringNull(), ProxyWO: types.StringNull(), ProxyWOVersion: types.Int64Null(), SHA256: types.StringValue(strings.Repeat("a", 64)),
		Stage: types.BoolValue(true), Version: types.StringValue("1.1"), SupportedFrom: stringList([]string{"1.0"}),
		IrreversibleFeatures: stringList(nil), Components: stringList([]string{"os", "apps"}), SizeBytes: types.Int64Value(68096),
		Description: types.StringValue(""), StagedNodes: stringList([]string{"n1", "n2"}), Timeouts: timeoutsValue(t, "10m"),
	}
	unknown := planned
	unknown.SourceFile, unknown.SourceURL = types.StringNull(), types.StringValue("https://example.com/x.bundle")
	unknown.Version, unknown.StagedNodes, unknown.SupportedFrom = types.StringUnknown(), types.ListUnknown(types.StringType), types.ListNull(types.StringType)
	unknown.Timeouts.Object = types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType})
	return []softwareImageModel{planned, unknown}
}

// The plan ModifyPlan writes, and the models it reads, are the same through
// readModel/setPlanModel as through the framework's Get and Set.
func TestModelValuesMatchTheFrameworksGetAndSet(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, schema resource.SchemaResponse, model any) {
		t.Helper()
		viaFramework := tfsdk.Plan{Schema: schema.Schema}
		if d := viaFramework.Set(ctx, model); d.HasError() {
			t.Fatalf("framework Set: %v", d)
		}
		viaModel := tfsdk.Plan{Schema: schema.Schema}
		if d := setPlanModel(ctx, &viaModel, model); d.HasError() {
			t.Fatalf("setPlanModel: %v", d)
		}
		if !viaModel.Raw.Equal(viaFramework.Raw) {
			t.Fatalf("setPlanModel wrote\n%s\nthe framework's Set wrote\n%s", viaModel.Raw, viaFramework.Raw)
		}
		fromFramework := reflect.New(reflect.TypeOf(model).Elem())
		if d := viaFramework.Get(ctx, fromFramework.Interface()); d.HasError() {
			t.Fatalf("framework Get: %v", d)
		}
		fromModel := reflect.New(reflect.TypeOf(model).Elem())
		if d := readModel(ctx, schema.Schema.Type(), viaFramework.Raw, fromModel.Interface()); d.HasError() {
			t.Fatalf("readModel: %v", d)
		}
		// Written back, both reads give the same value again.
		a, b := tfsdk.Plan{Schema: schema.Schema}, tfsdk.Plan{Schema: schema.Schema}
		a.Set(ctx, fromFramework.Interface())
		b.Set(ctx, fromModel.Interface())
		if !a.Raw.Equal(b.Raw) || !a.Raw.Equal(viaFramework.Raw) {
			t.Fatalf("readModel read\n%s\nthe framework's Get read\n%s", b.Raw, a.Raw)
		}
		if !reflect.DeepEqual(fromFramework.Interface(), fromModel.Interface()) {
			t.Fatalf("readModel read %#v,\nthe framework's Get read %#v", fromModel.Interface(), fromFramework.Interface())
		}
	}
	av := resourceSchema(t, &clusterActiveVersionResource{})
	for i, m := range activeVersionModels(t) {
		t.Run("cluster_active_version "+string(rune('a'+i)), func(t *testing.T) { check(t, av, &m) })
	}
	img := resourceSchema(t, &softwareImageResource{})
	for i, m := range softwareImageModels(t) {
		t.Run("software_image "+string(rune('a'+i)), func(t *testing.T) { check(t, img, &m) })
	}
}

// A version that is no version, or a duration that is none, is refused
// when the plan is set, as the framework's Set refuses it (the value's own
// validation), with the same message and attribute.
func TestSetPlanModelRunsTheValuesOwnValidationAsTheFrameworkDoes(t *testing.T) {
	ctx := context.Background()
	schema := resourceSchema(t, &clusterActiveVersionResource{})
	badVersion := activeVersionModels(t)[0]
	badVersion.Version = newVersionValue("not a version")
	badDuration := activeVersionModels(t)[0]
	badDuration.Strategy.MinHealthyTime = timetypes.GoDuration{StringValue: types.StringValue("3 parsecs")}
	for name, m := range map[string]clusterActiveVersionModel{"version": badVersion, "min_healthy_time": badDuration} {
		t.Run(name, func(t *testing.T) {
			viaFramework := tfsdk.Plan{Schema: schema.Schema}
			want := viaFramework.Set(ctx, &m)
			viaModel := tfsdk.Plan{Schema: schema.Schema}
			got := setPlanModel(ctx, &viaModel, &m)
			if got.ErrorsCount() != 1 || !got.Equal(want) {
				t.Fatalf("setPlanModel: %v; the framework's Set: %v", got, want)
			}
		})
	}
}

// A model that does not match the schema is a bug: it is reported, not
// written, and nothing panics.
func TestModelValuesReportAModelThatDoesNotMatchTheSchema(t *testing.T) {
	ctx := context.Background()
	schema := resourceSchema(t, &clusterActiveVersionResource{})
	m := activeVersionModels(t)[0]
	m.RolloutSteps = stringList([]string{"a step as a string"})
	p := tfsdk.Plan{Schema: schema.Schema}
	if d := setPlanModel(ctx, &p, &m); !d.HasError() || !strings.Contains(d[0].Detail(), "rollout_steps") {
		t.Fatalf("want an error naming rollout_steps, got %v", d)
	}
	var img softwareImageModel
	raw := tftypes.NewValue(schema.Schema.Type().TerraformType(ctx), nil)
	if d := readModel(ctx, schema.Schema.Type(), raw, &img); !d.HasError() {
		t.Fatal("a null object read into a model: want an error")
	}
	var wrong clusterActiveVersionModel
	imgSchema := resourceSchema(t, &softwareImageResource{})
	p = tfsdk.Plan{Schema: imgSchema.Schema}
	p.Set(ctx, &softwareImageModels(t)[0])
	if d := readModel(ctx, imgSchema.Schema.Type(), p.Raw, &wrong); !d.HasError() {
		t.Fatal("an image plan read into an active version model: want an error")
	}
}
