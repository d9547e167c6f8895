package provider

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// readModel and setPlanModel do what tfsdk.Plan's Get and Set do for the
// resource models of the plan path (structs of attr.Value fields tagged
// `tfsdk`, and pointers to such structs for single nested attributes),
// without the framework's reflection: it checks every field's tag against a
// regular expression that it compiles again for every field at every Get
// and Set (internal/reflect.isValidFieldName), which was a third of what
// appliance_software_image's ModifyPlan cost in a 100-cluster plan. The
// fields of each model type are found once; each value is converted by its
// attribute's own type (custom types included), as the framework does.
// Errors name the attribute, like the framework's.

// readModel fills target, a pointer to a model struct, from raw, a value of
// the object type typ (a Plan's or State's Schema.Type()).
func readModel(ctx context.Context, typ attr.Type, raw tftypes.Value, target any) diag.Diagnostics {
	var diags diag.Diagnostics
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		diags.AddError("Value Conversion Error", fmt.Sprintf("readModel: target must be a pointer to a struct, got %T. This is a bug in the provider.", target))
		return diags
	}
	if err := readObject(ctx, typ, raw, v.Elem(), ""); err != nil {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered trying to read the resource's data. This is a bug in the provider.\n\n"+err.Error())
	}
	return diags
}

// setPlanModel sets the plan to src, a pointer to a model struct.
func setPlanModel(ctx context.Context, plan *tfsdk.Plan, src any) diag.Diagnostics {
	var diags diag.Diagnostics
	v := reflect.ValueOf(src)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		diags.AddError("Value Conversion Error", fmt.Sprintf("setPlanModel: src must be a pointer to a struct, got %T. This is a bug in the provider.", src))
		return diags
	}
	val, err := objectValue(ctx, plan.Schema.Type(), v.Elem(), path.Empty(), &diags)
	if diags.HasError() {
		return diags
	}
	if err != nil {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered trying to write the plan. This is a bug in the provider.\n\n"+err.Error())
		return diags
	}
	return append(diags, plan.Set(ctx, val)...)
}

// modelField is one tagged field of a model struct.
type modelField struct {
	index  int
	name   string
	nested bool // a pointer to a model struct: a single nested attribute
}

var modelFields sync.Map // reflect.Type -> []modelField

var attrValueType = reflect.TypeFor[attr.Value]()

func fieldsOf(t reflect.Type) ([]modelField, error) {
	if f, ok := modelFields.Load(t); ok {
		if fields, ok := f.([]modelField); ok {
			return fields, nil
		}
		// Not what fieldsOf stores: computed again below and replaced.
	}
	var out []modelField
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get("tfsdk")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("%s.%s has no tfsdk tag", t, sf.Name)
		}
		switch {
		case sf.Type.Implements(attrValueType):
			out = append(out, modelField{index: i, name: name})
		case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
			out = append(out, modelField{index: i, name: name, nested: true})
		default:
			return nil, fmt.Errorf("%s.%s: unsupported field type %s", t, sf.Name, sf.Type)
		}
	}
	modelFields.Store(t, out)
	return out, nil
}

func attributeTypes(typ attr.Type, at string) (map[string]attr.Type, error) {
	o, ok := typ.(attr.TypeWithAttributeTypes)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not an object type", at, typ)
	}
	return o.AttributeTypes(), nil
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func readObject(ctx context.Context, typ attr.Type, raw tftypes.Value, dst reflect.Value, at string) error {
	if !raw.IsKnown() || raw.IsNull() {
		return fmt.Errorf("%s: received a null or unknown object, which %s cannot hold", strings.TrimPrefix(at+" ", " "), dst.Type())
	}
	types, err := attributeTypes(typ, at)
	if err != nil {
		return err
	}
	fields, err := fieldsOf(dst.Type())
	if err != nil {
		return err
	}
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	if len(vals) != len(fields) {
		return fmt.Errorf("%s: the object has %d attributes, %s has %d fields", at, len(vals), dst.Type(), len(fields))
	}
	for _, f := range fields {
		path := join(at, f.name)
		t, ok := types[f.name]
		val, present := vals[f.name]
		if !ok || !present {
			return fmt.Errorf("%s: no such attribute in the schema", path)
		}
		fv := dst.Field(f.index)
		if f.nested {
			if val.IsNull() {
				fv.SetZero()
				continue
			}
			n := reflect.New(fv.Type().Elem())
			if err := readObject(ctx, t, val, n.Elem(), path); err != nil {
				return err
			}
			fv.Set(n)
			continue
		}
		av, err := t.ValueFromTerraform(ctx, val)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rv := reflect.ValueOf(av)
		if !rv.Type().AssignableTo(fv.Type()) {
			return fmt.Errorf("%s: the schema's type gives %s, the field is %s", path, rv.Type(), fv.Type())
		}
		fv.Set(rv)
	}
	return nil
}

// objectValue is src as a value of typ. Like the framework's Set, it runs
// the values' own validation (xattr.ValidateableAttribute: versions,
// durations) and adds what that finds to diags.
func objectValue(ctx context.Context, typ attr.Type, src reflect.Value, at path.Path, diags *diag.Diagnostics) (tftypes.Value, error) {
	types, err := attributeTypes(typ, at.String())
	if err != nil {
		return tftypes.Value{}, err
	}
	fields, err := fieldsOf(src.Type())
	if err != nil {
		return tftypes.Value{}, err
	}
	if len(types) != len(fields) {
		return tftypes.Value{}, fmt.Errorf("%s: the schema has %d attributes, %s has %d fields", at, len(types), src.Type(), len(fields))
	}
	vals := make(map[string]tftypes.Value, len(fields))
	for _, f := range fields {
		p := at.AtName(f.name)
		t, ok := types[f.name]
		if !ok {
			return tftypes.Value{}, fmt.Errorf("%s: no such attribute in the schema", p)
		}
		fv := src.Field(f.index)
		if f.nested {
			if fv.IsNil() {
				vals[f.name] = tftypes.NewValue(t.TerraformType(ctx), nil)
				continue
			}
			v, err := objectValue(ctx, t, fv.Elem(), p, diags)
			if err != nil {
				return tftypes.Value{}, err
			}
			vals[f.name] = v
			continue
		}
		av, _ := fv.Interface().(attr.Value)
		if av == nil {
			return tftypes.Value{}, fmt.Errorf("%s: no value", p)
		}
		if !t.Equal(av.Type(ctx)) {
			return tftypes.Value{}, fmt.Errorf("%s: value of type %s, the schema's type is %s", p, av.Type(ctx), t)
		}
		if va, ok := av.(xattr.ValidateableAttribute); ok {
			var resp xattr.ValidateAttributeResponse
			va.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: p}, &resp)
			diags.Append(resp.Diagnostics...)
		}
		v, err := av.ToTerraformValue(ctx)
		if err != nil {
			return tftypes.Value{}, fmt.Errorf("%s: %w", p, err)
		}
		vals[f.name] = v
	}
	tt := typ.TerraformType(ctx)
	if err := tftypes.ValidateValue(tt, vals); err != nil {
		return tftypes.Value{}, fmt.Errorf("%s: %w", at, err)
	}
	return tftypes.NewValue(tt, vals), nil
}
