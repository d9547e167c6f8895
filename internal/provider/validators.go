package provider

// Every validator of the provider's own lives here; the rest come from
// terraform-plugin-framework-validators and the custom types (versionType,
// timetypes.GoDuration), which validate what they parse.

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var (
	sha256Pattern         = regexp.MustCompile(`^[0-9a-f]{64}$`)
	maxUnavailablePattern = regexp.MustCompile(`^([1-9][0-9]*|([1-9][0-9]?|100)%)$`)
)

// nonNegativeDuration refuses a negative Go duration; GoDurationType has
// already refused what is no duration at all.
type nonNegativeDuration struct{}

func (nonNegativeDuration) Description(context.Context) string { return "must not be negative" }
func (v nonNegativeDuration) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v nonNegativeDuration) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err == nil && d < 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q %s: it is how long to wait.", req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// minDuration refuses a Go duration shorter than min: a bound on a wait
// that no command could meet is a mistake, not a wish.
type minDuration struct{ min time.Duration }

func (v minDuration) Description(context.Context) string {
	return fmt.Sprintf("must be at least %s", v.min)
}
func (v minDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v minDuration) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err == nil && d < v.min {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q %s: it is how long to wait.", req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// urlSchemeValidator accepts the schemes appliances download from (S1).
type urlSchemeValidator struct{}

func (urlSchemeValidator) Description(context.Context) string {
	return "must be an absolute http, https or ftp URL"
}
func (v urlSchemeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v urlSchemeValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "ftp"}, u.Scheme) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid image URL",
			fmt.Sprintf("%q %s.", redactURL(req.ConfigValue.ValueString()), v.Description(ctx)))
		return
	}
}
