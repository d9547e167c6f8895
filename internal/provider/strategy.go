package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// policy turns the strategy block into a planner policy, filling the
// defaults an operator expects: auto order, failover on, auto-revert on.
func (s *strategyModel) policy() (rollout.Policy, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := rollout.Policy{Order: rollout.OrderAuto, AutoRevert: true, HealthyDeadline: 30 * time.Minute}
	if s == nil {
		return p, diags
	}
	if v := s.Order.ValueString(); v != "" {
		p.Order = rollout.Order(v)
	}
	p.MaxUnavailable = s.MaxUnavailable.ValueString()
	if !s.HAMode.IsNull() && !s.HAMode.IsUnknown() {
		v := s.HAMode.ValueBool()
		p.HAMode = &v
	}
	if !s.FailoverResources.IsNull() && !s.FailoverResources.IsUnknown() {
		v := s.FailoverResources.ValueBool()
		p.FailoverResources = &v
	}
	if !s.AutoRevert.IsNull() && !s.AutoRevert.IsUnknown() {
		p.AutoRevert = s.AutoRevert.ValueBool()
	}
	durations := []struct {
		val timetypes.GoDuration
		dst *time.Duration
	}{
		{s.MinHealthyTime, &p.MinHealthyTime},
		{s.HealthyDeadline, &p.HealthyDeadline},
		{s.SettleTime, &p.SettleTime},
	}
	for _, d := range durations {
		if d.val.IsNull() || d.val.IsUnknown() {
			continue
		}
		// A malformed duration was refused by validation, naming the
		// attribute; it is not reported twice.
		if v, vd := d.val.ValueGoDuration(); !vd.HasError() {
			*d.dst = v
		}
	}
	return p, diags
}

// strategyAttributes is the schema of a cluster rollout's strategy, shared
// by appliance_cluster_active_version and appliance_supercluster_version.
func strategyAttributes() map[string]schema.Attribute {
	orders := make([]string, len(rollout.Orders))
	for i, o := range rollout.Orders {
		orders[i] = string(o)
	}
	return map[string]schema.Attribute{
		"order": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Activation order: `auto` (default; from the roles the cluster reports), `primary_first` (the primary alone, then the others), " +
				"`standby_first` (the standby management node, then a failover to it, then the old master), `active_first` (the active appliance and its storage, then the standby) or `rolling` (one node at a time, its resources moved away and back).",
			Validators: []validator.String{stringvalidator.OneOf(orders...)},
		},
		"max_unavailable": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "How many nodes may be down at once: a count (`2`) or a percentage of the nodes (`25%`).",
			Validators:          []validator.String{stringvalidator.RegexMatches(maxUnavailablePattern, "must be a whole number such as 2, or a percentage such as 25%")},
		},
		"ha_mode": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Keep HA partners from being down together. Default: on when HA is active on the cluster.",
		},
		"failover_resources": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Move resources off a node before it reboots and back after. Default `true`.",
		},
		"auto_revert": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Revert a node to its previous version when its activation fails, and stop the rollout. Default `true`.",
		},
		"min_healthy_time": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "How long a node must stay healthy before the next wave, as a Go duration. Default `0s`. " +
				"Whatever its value, a node counts as healthy only after 3 consecutive healthy reads, a quarter of a second apart, " +
				"so that health that flaps never passes on one read.",
			CustomType: timetypes.GoDurationType{},
			Validators: []validator.String{nonNegativeDuration{}},
		},
		"healthy_deadline": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "How long to wait for a node to be healthy after its reboot before the rollout fails. Default `30m`. " +
				"It also bounds each activation, resource move and promotion task: a reboot that never reports its end fails the " +
				"rollout after this long, not after the whole `timeouts`.",
			CustomType: timetypes.GoDurationType{},
			Validators: []validator.String{nonNegativeDuration{}},
		},
		"settle_time": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Time the cluster needs to re-form after the update, overriding what it reports.",
			CustomType:          timetypes.GoDurationType{},
			Validators:          []validator.String{nonNegativeDuration{}},
		},
	}
}
