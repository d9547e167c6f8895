package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestSoftwareImage_ExactlyOneOfSourceFileAndSourceURL: a configuration
// with neither source or with both is refused at validation, naming both
// attributes; one source passes, and an unknown one (from another
// resource) is judged once it is known.
func TestSoftwareImage_ExactlyOneOfSourceFileAndSourceURL(t *testing.T) {
	ctx := context.Background()
	r := &softwareImageResource{}
	var s resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &s)
	typ, ok := s.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatalf("the schema's Terraform type is a %T, not a tftypes.Object", s.Schema.Type().TerraformType(ctx))
	}
	config := func(file, url any) tfsdk.Config {
		vals := map[string]tftypes.Value{}
		for name, at := range typ.AttributeTypes {
			vals[name] = tftypes.NewValue(at, nil)
		}
		vals["cluster"] = tftypes.NewValue(tftypes.String, "demo")
		vals["source_file"] = tftypes.NewValue(tftypes.String, file)
		vals["source_url"] = tftypes.NewValue(tftypes.String, url)
		return tfsdk.Config{Schema: s.Schema, Raw: tftypes.NewValue(typ, vals)}
	}
	cases := map[string]struct {
		file, url any
		want      string
	}{
		"neither":        {nil, nil, "No attribute specified when one (and only one) of [source_file,source_url] is required"},
		"both":           {"/b/1.1.bundle", "https://example.com/1.1.bundle", "2 attributes specified when one (and only one) of [source_file,source_url] is required"},
		"file":           {"/b/1.1.bundle", nil, ""},
		"url":            {nil, "https://example.com/1.1.bundle", ""},
		"unknown file":   {tftypes.UnknownValue, "https://example.com/1.1.bundle", ""},
		"unknown, other": {tftypes.UnknownValue, nil, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var resp resource.ValidateConfigResponse
			r.ValidateConfig(ctx, resource.ValidateConfigRequest{Config: config(tc.file, tc.url)}, &resp)
			got := ""
			for _, d := range resp.Diagnostics.Errors() {
				got += d.Detail()
			}
			switch {
			case tc.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("errors %q, want %q", got, tc.want)
			}
		})
	}
}
