package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// durationValidator accepts Go durations such as "90s" or "45m".
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a Go duration such as 30s, 5m or 1h"
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// versionValidator rejects malformed versions at plan time.
type versionValidator struct{}

func (versionValidator) Description(context.Context) string {
	return "must be an appliance version such as 6.5, 6.5.2, 4.2.1-b37 or \"6.5 SP8\""
}
func (v versionValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v versionValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := appliance.ParseVersion(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid version", err.Error())
	}
}
