package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// compare_versions and compatible make the provider's version arithmetic
// usable in preconditions and check blocks, where string comparison of
// versions ("6.10" < "6.9") would silently be wrong.

type compareVersionsFunction struct{}

func newCompareVersionsFunction() function.Function { return compareVersionsFunction{} }

func (compareVersionsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "compare_versions"
}

func (compareVersionsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Compare two appliance versions",
		MarkdownDescription: "Returns -1, 0 or 1 as `a` is older than, the same release as, or newer than `b`. " +
			"Understands `6.5`, `6.5.2`, `4.2.1-b37` and `6.5 SP8`; `6.5` and `6.5.0` are the same release.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "a", MarkdownDescription: "First version."},
			function.StringParameter{Name: "b", MarkdownDescription: "Second version."},
		},
		Return: function.Int64Return{},
	}
}

func (compareVersionsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	va, vb, ferr := versionArgs(ctx, req)
	if ferr != nil {
		resp.Error = ferr
		return
	}
	resp.Error = resp.Result.Set(ctx, int64(va.Compare(vb)))
}

type compatibleFunction struct{}

func newCompatibleFunction() function.Function { return compatibleFunction{} }

func (compatibleFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "compatible"
}

func (compatibleFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether two appliance versions can run side by side",
		MarkdownDescription: "Returns true when `a` and `b` share major and minor version: patch releases are " +
			"compatible, major and minor releases are not (the supercluster rule).",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "a", MarkdownDescription: "First version."},
			function.StringParameter{Name: "b", MarkdownDescription: "Second version."},
		},
		Return: function.BoolReturn{},
	}
}

func (compatibleFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	va, vb, ferr := versionArgs(ctx, req)
	if ferr != nil {
		resp.Error = ferr
		return
	}
	resp.Error = resp.Result.Set(ctx, va.CompatibleWith(vb))
}

// versionArgs parses the two version arguments both functions take, naming
// the argument that is malformed.
func versionArgs(ctx context.Context, req function.RunRequest) (appliance.Version, appliance.Version, *function.FuncError) {
	var a, b string
	if err := req.Arguments.Get(ctx, &a, &b); err != nil {
		return appliance.Version{}, appliance.Version{}, err
	}
	va, err := appliance.ParseVersion(a)
	if err != nil {
		return appliance.Version{}, appliance.Version{}, function.NewArgumentFuncError(0, err.Error())
	}
	vb, err := appliance.ParseVersion(b)
	if err != nil {
		return appliance.Version{}, appliance.Version{}, function.NewArgumentFuncError(1, err.Error())
	}
	return va, vb, nil
}
