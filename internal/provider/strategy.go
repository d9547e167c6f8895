package provider

import (
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

var maxUnavailablePattern = regexp.MustCompile(`^([1-9][0-9]*|([1-9][0-9]?|100)%)$`)

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
		name string
		raw  string
		dst  *time.Duration
	}{
		{"min_healthy_time", s.MinHealthyTime.ValueString(), &p.MinHealthyTime},
		{"healthy_deadline", s.HealthyDeadline.ValueString(), &p.HealthyDeadline},
		{"settle_time", s.SettleTime.ValueString(), &p.SettleTime},
	}
	for _, d := range durations {
		if d.raw == "" {
			continue
		}
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			diags.AddAttributeError(path.Root("strategy").AtName(d.name), "Invalid duration", err.Error())
			continue
		}
		*d.dst = v
	}
	return p, diags
}
