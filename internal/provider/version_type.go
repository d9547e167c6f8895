package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// versionType is the type of every attribute that names an appliance
// version. The string is parsed once, where it enters (validation), and
// two spellings of one release ("1.1" and "1.1.0", "6.5 SP8" and
// "6.5.0 SP8") are semantically equal: Terraform shows no difference
// between them and keeps the operator's spelling.
type versionType struct{ basetypes.StringType }

var (
	_ basetypes.StringTypable                    = versionType{}
	_ basetypes.StringValuableWithSemanticEquals = versionValue{}
	_ xattr.ValidateableAttribute                = versionValue{}
)

func (t versionType) Equal(o attr.Type) bool {
	other, ok := o.(versionType)
	return ok && t.StringType.Equal(other.StringType)
}

func (versionType) String() string { return "versionType" }

func (versionType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return versionValue{StringValue: in}, nil
}

func (t versionType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return versionValue{StringValue: s}, nil
}

func (versionType) ValueType(context.Context) attr.Value { return versionValue{} }

// versionValue is an appliance version as Terraform holds it.
type versionValue struct{ basetypes.StringValue }

func newVersionValue(s string) versionValue {
	return versionValue{StringValue: basetypes.NewStringValue(s)}
}

func (v versionValue) Equal(o attr.Value) bool {
	other, ok := o.(versionValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

func (versionValue) Type(context.Context) attr.Type { return versionType{} }

// StringSemanticEquals: one release, however it is spelled.
func (v versionValue) StringSemanticEquals(_ context.Context, o basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := o.(versionValue)
	if !ok {
		return false, nil
	}
	return appliance.SameVersion(v.ValueString(), other.ValueString()), nil
}

// ValidateAttribute refuses, at plan time, a string that is no version,
// naming the accepted forms.
func (v versionValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if _, err := appliance.ParseVersion(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid version", err.Error())
	}
}

// Parsed returns the version; call only on a known, validated value.
func (v versionValue) Parsed() (appliance.Version, error) {
	return appliance.ParseVersion(v.ValueString())
}
