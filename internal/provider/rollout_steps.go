package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// rollout_steps is the plan as data: one object per step, next to the
// human-readable rollout_plan. Apply compares these, never the text, so a
// reworded reason or a renumbered wave is not a change of plan; policies
// (OPA, Sentinel, check blocks) can read them without parsing prose.

var stepAttrTypes = map[string]attr.Type{
	"wave":     types.Int64Type,
	"kind":     types.StringType,
	"node":     types.StringType,
	"version":  types.StringType,
	"resource": types.StringType,
	"from":     types.StringType,
	"to":       types.StringType,
	"reason":   types.StringType,
}

var stepObjectType = types.ObjectType{AttrTypes: stepAttrTypes}

func rolloutStepsAttribute() schema.ListNestedAttribute {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	return schema.ListNestedAttribute{
		Computed: true,
		MarkdownDescription: "The steps of `rollout_plan` as data, in the same order, for policy checks and tooling. " +
			"Apply compares these with the steps it recomputes from the cluster: steps already done drop out, but a step " +
			"the plan did not show stops the apply before anything changes.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"wave": schema.Int64Attribute{Computed: true, MarkdownDescription: "The activation wave: 0 for staging, which never interrupts service; steps of one wave run together."},
			"kind": str("What the step does: `stage`, `move_resource`, `activate`, `await_healthy`, `promote`, `fail_back`, `finalize` or `settle`. " +
				"In a rollback `activate` boots the previous image in the alternate partition."),
			"node":     str("The node the step acts on; empty for cluster-wide steps and resource moves."),
			"version":  str("The version the node or cluster goes to, where the step changes one."),
			"resource": str("The resource a `move_resource` or `fail_back` moves."),
			"from":     str("The node a resource leaves."),
			"to":       str("The node a resource goes to."),
			"reason":   str("Why the step is there, in words."),
		}},
	}
}

// stepsValue is the attribute value of a plan's steps.
func stepsValue(steps []rollout.Step) types.List {
	vals := make([]attr.Value, len(steps))
	for i, s := range steps {
		vals[i] = types.ObjectValueMust(stepAttrTypes, stepAttrs(s))
	}
	return types.ListValueMust(stepObjectType, vals)
}

// stepAttrs is the attributes of one step's object in rollout_steps.
func stepAttrs(s rollout.Step) map[string]attr.Value {
	return map[string]attr.Value{
		"wave":     types.Int64Value(int64(s.Wave)),
		"kind":     types.StringValue(string(s.Kind)),
		"node":     types.StringValue(s.Node),
		"version":  types.StringValue(s.Version),
		"resource": types.StringValue(s.Resource),
		"from":     types.StringValue(s.From),
		"to":       types.StringValue(s.To),
		"reason":   types.StringValue(s.Reason),
	}
}

// stepsFrom reads steps back from the attribute; nil when it is null or unknown.
func stepsFrom(l types.List) []rollout.Step {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	out := make([]rollout.Step, 0, len(l.Elements()))
	for _, v := range l.Elements() {
		o, ok := v.(types.Object)
		if !ok {
			continue
		}
		a := o.Attributes()
		get := func(k string) string {
			if s, ok := a[k].(types.String); ok {
				return s.ValueString()
			}
			return ""
		}
		var wave int64
		if w, ok := a["wave"].(types.Int64); ok {
			wave = w.ValueInt64()
		}
		out = append(out, rollout.Step{
			Wave: int(wave), Kind: rollout.StepKind(get("kind")), Node: get("node"), Version: get("version"),
			Resource: get("resource"), From: get("from"), To: get("to"), Reason: get("reason"),
		})
	}
	return out
}

// The supercluster's steps carry the cluster they belong to; membership and
// window steps have kinds of their own (leave_supercluster,
// join_supercluster with `to` naming it, open_maintenance_window,
// close_maintenance_window) and name every cluster they touch, comma-separated.

var superStepAttrTypes = func() map[string]attr.Type {
	m := map[string]attr.Type{"cluster": types.StringType}
	for k, v := range stepAttrTypes {
		m[k] = v
	}
	return m
}()

var superStepObjectType = types.ObjectType{AttrTypes: superStepAttrTypes}

func superRolloutStepsAttribute() schema.ListNestedAttribute {
	a := rolloutStepsAttribute()
	a.MarkdownDescription = "The steps of `rollout_plan` as data, in the same order, each with its `cluster`. " +
		"Supercluster steps have kinds of their own: `open_maintenance_window`, `close_maintenance_window`, " +
		"`leave_supercluster` and `join_supercluster` (`to` names the supercluster). Apply compares these with the steps " +
		"it recomputes: steps already done drop out, but a step the plan did not show stops the apply before anything changes."
	attrs := map[string]schema.Attribute{"cluster": schema.StringAttribute{Computed: true, MarkdownDescription: "The cluster (or clusters, comma-separated) the step acts on."}}
	for k, v := range a.NestedObject.Attributes {
		attrs[k] = v
	}
	a.NestedObject = schema.NestedAttributeObject{Attributes: attrs}
	return a
}

func superStepsValue(steps []rollout.ClusterStep) types.List {
	vals := make([]attr.Value, len(steps))
	for i, s := range steps {
		m := stepAttrs(s.Step)
		m["cluster"] = types.StringValue(s.Cluster)
		vals[i] = types.ObjectValueMust(superStepAttrTypes, m)
	}
	return types.ListValueMust(superStepObjectType, vals)
}

func superStepsFrom(l types.List) []rollout.ClusterStep {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	out := make([]rollout.ClusterStep, 0, len(l.Elements()))
	for _, v := range l.Elements() {
		o, ok := v.(types.Object)
		if !ok {
			continue
		}
		a := o.Attributes()
		c, _ := a["cluster"].(types.String)
		inner := map[string]attr.Value{}
		for k, t := range stepAttrTypes {
			inner[k] = a[k]
			_ = t
		}
		st := stepsFrom(types.ListValueMust(stepObjectType, []attr.Value{types.ObjectValueMust(stepAttrTypes, inner)}))
		out = append(out, rollout.ClusterStep{Cluster: c.ValueString(), Step: st[0]})
	}
	return out
}

func superStrategyNames() []string {
	out := make([]string, len(rollout.SuperStrategies))
	for i, s := range rollout.SuperStrategies {
		out[i] = string(s)
	}
	return out
}
