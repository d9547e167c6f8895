package simulator

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// docs/api/openapi.yaml is the API's written contract; these tests keep it
// equal to what the simulator serves, so that the document cannot drift
// silently from the code: a route added to Routes(), a field added to a
// wire type or a constant added to an enum fails here until the document
// says it too. Every check is a function returning the problems it finds,
// and TestOpenAPI_ChecksCatchDrift proves that each of them can fail.

// oaDocPath is the document, relative to this package's directory (where
// go test runs).
const oaDocPath = "../../../docs/api/openapi.yaml"

// oaMethods are the keys of an OpenAPI path item that are operations.
var oaMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

func oaLoad(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(oaDocPath)
	if err != nil {
		t.Fatalf("reading the OpenAPI document: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", oaDocPath, err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Fatalf("%s: openapi is %q, want 3.0.x", oaDocPath, v)
	}
	return doc
}

// oaMap, oaList and oaStr read the generic YAML tree; a missing or mistyped node is nil.
func oaMap(v any) map[string]any {
	out, _ := v.(map[string]any)
	return out
}

func oaList(v any) []any {
	out, _ := v.([]any)
	return out
}

func oaStr(v any) string {
	s, _ := v.(string)
	return s
}

// oaStrings returns the scalars of a YAML sequence as strings.
func oaStrings(v any) []string {
	var out []string
	for _, x := range oaList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// oaOp is one (method, path) of the document.
type oaOp struct {
	method, path string
	path0        map[string]any // the path item (path-level parameters)
	op           map[string]any
}

func (o oaOp) String() string { return o.method + " " + o.path }

func oaOps(doc map[string]any) []oaOp {
	var out []oaOp
	for p, item := range oaMap(doc["paths"]) {
		for _, meth := range oaMethods {
			if op := oaMap(oaMap(item)[meth]); op != nil {
				out = append(out, oaOp{strings.ToUpper(meth), p, oaMap(item), op})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// oaPathOf turns a ServeMux pattern into an OpenAPI path: "{$}"
// (exact match of a path ending in "/") is dropped, "{name...}" (the rest
// of the path) becomes "{name}".
func oaPathOf(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// oaCheckRoutes compares, both ways, the operations of the document with
// the routes the simulator serves.
func oaCheckRoutes(doc map[string]any, served []Route) []string {
	want := map[string]bool{}
	for _, r := range served {
		want[r.Method+" "+oaPathOf(r.Pattern)] = true
	}
	have := map[string]bool{}
	for _, o := range oaOps(doc) {
		have[o.String()] = true
	}
	var problems []string
	for _, k := range oaKeys(want) {
		if !have[k] {
			problems = append(problems, "served but not documented: "+k)
		}
	}
	for _, k := range oaKeys(have) {
		if !want[k] {
			problems = append(problems, "documented but not served: "+k)
		}
	}
	return problems
}

var oaPathParam = regexp.MustCompile(`\{([^}]+)\}`)

// oaParameters returns an operation's parameters (path-level ones first,
// overridden by operation-level ones, as OpenAPI says), $refs resolved.
func oaParameters(doc map[string]any, o oaOp) []map[string]any {
	byKey := map[string]map[string]any{}
	var order []string
	for _, src := range [][]any{oaList(o.path0["parameters"]), oaList(o.op["parameters"])} {
		for _, p := range src {
			pm := oaResolve(doc, oaMap(p))
			k := oaStr(pm["in"]) + ":" + oaStr(pm["name"])
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = pm
		}
	}
	out := make([]map[string]any, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out
}

// oaCheckPathParams checks that every {param} of a path is declared as a
// required path parameter of each of its operations, and nothing more:
// otherwise generated clients cannot build the URL.
func oaCheckPathParams(doc map[string]any) []string {
	var problems []string
	for _, o := range oaOps(doc) {
		inPath := map[string]bool{}
		for _, mm := range oaPathParam.FindAllStringSubmatch(o.path, -1) {
			inPath[mm[1]] = true
		}
		declared := map[string]bool{}
		for _, p := range oaParameters(doc, o) {
			if oaStr(p["in"]) != "path" {
				continue
			}
			name := oaStr(p["name"])
			declared[name] = true
			if !inPath[name] {
				problems = append(problems, fmt.Sprintf("%s declares path parameter %q, which is not in the path", o, name))
			}
			if req, _ := p["required"].(bool); !req {
				problems = append(problems, fmt.Sprintf("%s: path parameter %q must be required", o, name))
			}
		}
		for _, name := range oaKeys(inPath) {
			if !declared[name] {
				problems = append(problems, fmt.Sprintf("%s does not declare path parameter %q", o, name))
			}
		}
	}
	return problems
}

// oaResolve follows a local $ref ("#/components/schemas/Task"); it returns
// the node itself when it is not a reference, nil when the ref dangles.
func oaResolve(doc map[string]any, node map[string]any) map[string]any {
	for range 10 { // a chain of refs, bounded against cycles
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		node = oaLookup(doc, ref)
		if node == nil {
			return nil
		}
	}
	return nil
}

// oaLookup returns the node a local JSON pointer names, or nil.
func oaLookup(doc map[string]any, ref string) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		cur = oaMap(cur)[part]
		if cur == nil {
			return nil
		}
	}
	return oaMap(cur)
}

// oaWalk calls fn on every mapping of the tree, with its location.
func oaWalk(node any, where string, fn func(where string, n map[string]any)) {
	switch v := node.(type) {
	case map[string]any:
		fn(where, v)
		for _, k := range oaKeys(v) {
			oaWalk(v[k], where+"/"+k, fn)
		}
	case []any:
		for i, x := range v {
			oaWalk(x, where+"/"+strconv.Itoa(i), fn)
		}
	}
}

// oaCheckRefs checks that every $ref is local and resolves, and that every
// component is used (an unused one is usually a leftover of a rename).
func oaCheckRefs(doc map[string]any) []string {
	var problems []string
	used := map[string]bool{}
	oaWalk(doc, "#", func(where string, n map[string]any) {
		ref, ok := n["$ref"].(string)
		if !ok {
			return
		}
		used[ref] = true
		if oaLookup(doc, ref) == nil {
			problems = append(problems, fmt.Sprintf("%s: $ref %q does not resolve", where, ref))
		}
	})
	for _, kind := range []string{"schemas", "parameters", "responses", "headers"} {
		for _, name := range oaKeys(oaMap(oaMap(doc["components"])[kind])) {
			ref := "#/components/" + kind + "/" + name
			if !used[ref] {
				problems = append(problems, ref+" is never used")
			}
		}
	}
	return problems
}

// oaRequiresBearer reports whether an operation needs the bearer token:
// the document-wide security applies unless the operation overrides it.
func oaRequiresBearer(doc map[string]any, o oaOp) bool {
	sec, overridden := o.op["security"]
	if !overridden {
		sec = doc["security"]
	}
	for _, req := range oaList(sec) {
		if _, ok := oaMap(req)["bearerAuth"]; ok {
			return true
		}
	}
	return false
}

// oaCheckSecurity checks that the document asks for the bearer token on
// exactly the /v1 routes (the status page, /healthz and the download
// site are public), and that a secured operation documents its 401.
func oaCheckSecurity(doc map[string]any) []string {
	var problems []string
	if oaMap(oaMap(oaMap(doc["components"])["securitySchemes"])["bearerAuth"])["scheme"] != "bearer" {
		problems = append(problems, "components/securitySchemes/bearerAuth is not an http bearer scheme")
	}
	for _, o := range oaOps(doc) {
		v1 := strings.HasPrefix(o.path, "/v1/")
		switch bearer := oaRequiresBearer(doc, o); {
		case v1 && !bearer:
			problems = append(problems, o.String()+" is a /v1 route but does not require the bearer token")
		case !v1 && bearer:
			problems = append(problems, o.String()+" is public but the document requires the bearer token")
		}
		if _, ok := oaMap(o.op["responses"])["401"]; v1 && !ok {
			problems = append(problems, o.String()+" does not document its 401 answer")
		}
	}
	return problems
}

// oaCheckHeaders checks that the headers the document names are the API's,
// and that every JSON POST of /v1 (all but the upload, which is
// idempotent by its sha256) accepts an Idempotency-Key.
func oaCheckHeaders(doc map[string]any) []string {
	var problems []string
	params := oaMap(oaMap(doc["components"])["parameters"])
	for key, want := range map[string]string{
		"IdempotencyKey": api.HeaderIdempotencyKey,
		"LeaseID":        api.HeaderLeaseID,
		"ContentSHA256":  api.HeaderContentSHA256,
	} {
		p := oaMap(params[key])
		if oaStr(p["name"]) != want || oaStr(p["in"]) != "header" {
			problems = append(problems, fmt.Sprintf("components/parameters/%s is %s %q, want header %q", key, oaStr(p["in"]), oaStr(p["name"]), want))
		}
	}
	for _, o := range oaOps(doc) {
		if o.method != "POST" || !strings.HasPrefix(o.path, "/v1/") {
			continue
		}
		headers := map[string]bool{}
		for _, p := range oaParameters(doc, o) {
			if oaStr(p["in"]) == "header" {
				headers[oaStr(p["name"])] = true
			}
		}
		upload := oaStr(o.op["operationId"]) == "uploadImage"
		if !upload && !headers[api.HeaderIdempotencyKey] {
			problems = append(problems, o.String()+" does not accept "+api.HeaderIdempotencyKey)
		}
		if upload && !headers[api.HeaderContentSHA256] {
			problems = append(problems, o.String()+" does not take "+api.HeaderContentSHA256)
		}
	}
	return problems
}

// oaWireType is a Go type of the wire format and the schema describing it.
type oaWireType struct {
	schema string
	typ    reflect.Type
	// request types are decoded strictly (unknown fields are a 400), so
	// their schema forbids additional properties, and they may require
	// less than every field; a response schema requires exactly the
	// fields that are always sent (those without omitempty).
	request bool
}

var oaWireTypes = []oaWireType{
	{"Error", reflect.TypeFor[api.Error](), false},
	{"Image", reflect.TypeFor[api.Image](), false},
	{"ImageList", reflect.TypeFor[api.ImageList](), false},
	{"Manifest", reflect.TypeFor[appliance.Manifest](), false},
	{"Component", reflect.TypeFor[appliance.Component](), false},
	{"Task", reflect.TypeFor[api.Task](), false},
	{"Lease", reflect.TypeFor[api.Lease](), false},
	{"Event", reflect.TypeFor[api.Event](), false},
	{"EventList", reflect.TypeFor[api.EventList](), false},
	{"Outage", reflect.TypeFor[api.Outage](), false},
	{"Ledger", reflect.TypeFor[api.Ledger](), false},
	{"FaultList", reflect.TypeFor[api.FaultList](), false},
	{"Stats", reflect.TypeFor[Stats](), false},
	{"ClusterList", reflect.TypeFor[api.ClusterList](), false},
	{"Cluster", reflect.TypeFor[appliance.Cluster](), false},
	{"Node", reflect.TypeFor[appliance.Node](), false},
	{"Partition", reflect.TypeFor[appliance.Partition](), false},
	{"HAGroup", reflect.TypeFor[appliance.HAGroup](), false},
	{"Resource", reflect.TypeFor[appliance.Resource](), false},
	{"RolloutStatus", reflect.TypeFor[appliance.RolloutStatus](), false},
	{"ClockView", reflect.TypeFor[ClockView](), false},
	{"Fault", reflect.TypeFor[api.Fault](), true}, // request of POST /v1/faults and answer
	{"DownloadRequest", reflect.TypeFor[api.DownloadRequest](), true},
	{"StageRequest", reflect.TypeFor[api.StageRequest](), true},
	{"ActivateRequest", reflect.TypeFor[api.ActivateRequest](), true},
	{"MoveResourceRequest", reflect.TypeFor[api.MoveResourceRequest](), true},
	{"LeaseRequest", reflect.TypeFor[api.LeaseRequest](), true},
	{"LicenseRequest", reflect.TypeFor[LicenseRequest](), true},
	{"SuperclusterRequest", reflect.TypeFor[SuperclusterRequest](), true},
	{"MaintenanceRequest", reflect.TypeFor[MaintenanceRequest](), true},
	{"AdvanceRequest", reflect.TypeFor[AdvanceRequest](), true},
}

// oaEnumSchemas are the schemas that describe no Go struct but a set of
// constants; TestOpenAPI_EnumsMatchGoConstants checks them.
var oaEnumSchemas = []string{"ErrorCode", "Role", "NodeState", "FaultKind"}

// oaJSONField is a field as encoding/json sees it.
type oaJSONField struct {
	name      string
	omitempty bool
	typ       reflect.Type
}

func oaJSONFields(t reflect.Type) []oaJSONField {
	var out []oaJSONField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, oaJSONFields(f.Type)...) // embedded: promoted fields
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, oaJSONField{name, slices.Contains(strings.Split(opts, ","), "omitempty"), f.Type})
	}
	return out
}

// oaCheckWireTypes checks every schema of oaWireTypes against its Go type:
// the same property names (both ways), compatible types, $refs to the
// right schemas, and what is required; and that no object schema escapes
// the check.
func oaCheckWireTypes(doc map[string]any) []string {
	var problems []string
	schemas := oaMap(oaMap(doc["components"])["schemas"])
	schemaOf := map[reflect.Type]string{}
	checked := map[string]bool{}
	for _, w := range oaWireTypes {
		schemaOf[w.typ] = w.schema
		checked[w.schema] = true
	}
	for _, name := range oaEnumSchemas {
		checked[name] = true
	}
	for _, name := range oaKeys(schemas) {
		if !checked[name] {
			problems = append(problems, fmt.Sprintf("schema %s is checked against no Go type: add it to oaWireTypes or oaEnumSchemas", name))
		}
	}
	for _, w := range oaWireTypes {
		s := oaMap(schemas[w.schema])
		where := "schema " + w.schema
		if s == nil {
			problems = append(problems, fmt.Sprintf("%s (Go %s) is missing", where, w.typ))
			continue
		}
		if oaStr(s["type"]) != "object" {
			problems = append(problems, where+" is not an object")
		}
		props := oaMap(s["properties"])
		fields := oaJSONFields(w.typ)
		inGo := map[string]bool{}
		alwaysSent := map[string]bool{}
		for _, f := range fields {
			inGo[f.name] = true
			if !f.omitempty {
				alwaysSent[f.name] = true
			}
			prop, ok := props[f.name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s lacks property %q of Go %s", where, f.name, w.typ))
				continue
			}
			problems = append(problems, oaCheckPropType(doc, where+"."+f.name, oaMap(prop), f.typ, schemaOf)...)
		}
		for _, p := range oaKeys(props) {
			if !inGo[p] {
				problems = append(problems, fmt.Sprintf("%s has property %q, which Go %s does not have", where, p, w.typ))
			}
		}
		required := map[string]bool{}
		for _, r := range oaStrings(s["required"]) {
			required[r] = true
			if !inGo[r] {
				problems = append(problems, fmt.Sprintf("%s requires %q, which Go %s does not have", where, r, w.typ))
			}
		}
		if w.request {
			if ap, ok := s["additionalProperties"].(bool); !ok || ap {
				problems = append(problems, where+" must say additionalProperties: false: the simulator refuses unknown fields with 400")
			}
			continue
		}
		for _, f := range oaKeys(alwaysSent) {
			if !required[f] {
				problems = append(problems, fmt.Sprintf("%s: %q is always sent (no omitempty) but not required", where, f))
			}
		}
		for _, r := range oaKeys(required) {
			if inGo[r] && !alwaysSent[r] {
				problems = append(problems, fmt.Sprintf("%s requires %q, which Go omits when empty", where, r))
			}
		}
	}
	return problems
}

var oaTimeType = reflect.TypeFor[time.Time]()

// oaCheckPropType checks that a property schema describes values of Go type t.
func oaCheckPropType(doc map[string]any, where string, prop map[string]any, t reflect.Type, schemaOf map[reflect.Type]string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != oaTimeType {
		want, ok := schemaOf[t]
		if !ok {
			return []string{fmt.Sprintf("%s: Go %s has no schema in oaWireTypes", where, t)}
		}
		if ref := oaStr(prop["$ref"]); ref != "#/components/schemas/"+want {
			return []string{fmt.Sprintf("%s: $ref is %q, want #/components/schemas/%s (Go %s)", where, ref, want, t)}
		}
		return nil
	}
	s := oaResolve(doc, prop)
	if s == nil {
		return []string{fmt.Sprintf("%s: $ref %q does not resolve", where, oaStr(prop["$ref"]))}
	}
	typ := oaStr(s["type"])
	bad := func(want string) []string {
		return []string{fmt.Sprintf("%s: type %q, want %s for Go %s", where, typ, want, t)}
	}
	switch {
	case t == oaTimeType:
		if typ != "string" || oaStr(s["format"]) != "date-time" {
			return bad("string with format date-time")
		}
	case t.Kind() == reflect.String:
		if typ != "string" {
			return bad("string")
		}
	case t.Kind() == reflect.Bool:
		if typ != "boolean" {
			return bad("boolean")
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		if typ != "integer" {
			return bad("integer")
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if typ != "number" {
			return bad("number")
		}
	case t.Kind() == reflect.Slice:
		if typ != "array" {
			return bad("array")
		}
		return oaCheckPropType(doc, where+"[]", oaMap(s["items"]), t.Elem(), schemaOf)
	case t.Kind() == reflect.Map:
		if typ != "object" {
			return bad("object")
		}
		if t.Elem().Kind() != reflect.Interface {
			ap := oaMap(s["additionalProperties"])
			if ap == nil {
				return []string{fmt.Sprintf("%s: additionalProperties must describe the values of Go %s", where, t)}
			}
			return oaCheckPropType(doc, where+"{}", ap, t.Elem(), schemaOf)
		}
	}
	return nil
}

// oaGoConsts returns the string constants of a Go package (its non-test
// files in dir) that keep(name, typeName) selects. They are read from the
// source because constants cannot be enumerated by reflection; the whole
// package is read, so that moving a constant to another file changes nothing.
func oaGoConsts(t *testing.T, dir string, keep func(name, typeName string) bool) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				typeName := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typeName = id.Name
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) || !keep(n.Name, typeName) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatalf("%s: constant %s: %v", file, n.Name, err)
					}
					out = append(out, v)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no constant selected: the package changed shape, update the test", dir)
	}
	return out
}

func oaPrefixed(p string) func(name, _ string) bool {
	return func(name, _ string) bool { return strings.HasPrefix(name, p) }
}

func oaOfType(typ string) func(_, typeName string) bool {
	return func(_, typeName string) bool { return typeName == typ }
}

// oaEnumCheck is an enum of the document and the values it must list.
type oaEnumCheck struct {
	where string // "Schema" or "Schema.property"
	want  []string
}

// oaEnumOf returns the enum of a schema or of one of its properties.
func oaEnumOf(doc map[string]any, where string) ([]string, bool) {
	name, prop, hasProp := strings.Cut(where, ".")
	s := oaMap(oaMap(oaMap(doc["components"])["schemas"])[name])
	if hasProp {
		s = oaResolve(doc, oaMap(oaMap(s["properties"])[prop]))
	}
	e, ok := s["enum"]
	return oaStrings(e), ok
}

func oaCheckEnums(doc map[string]any, checks []oaEnumCheck) []string {
	var problems []string
	for _, c := range checks {
		got, ok := oaEnumOf(doc, c.where)
		if !ok {
			problems = append(problems, c.where+" has no enum")
			continue
		}
		have, want := oaSet(got), oaSet(c.want)
		for _, v := range oaKeys(want) {
			if !have[v] {
				problems = append(problems, fmt.Sprintf("%s lacks %q", c.where, v))
			}
		}
		for _, v := range oaKeys(have) {
			if !want[v] {
				problems = append(problems, fmt.Sprintf("%s lists %q, which the code does not have", c.where, v))
			}
		}
	}
	return problems
}

func oaEnumChecks(t *testing.T) []oaEnumCheck {
	t.Helper()
	roles := make([]string, len(appliance.ValidRoles))
	for i, r := range appliance.ValidRoles {
		roles[i] = string(r)
	}
	return []oaEnumCheck{
		{"ErrorCode", oaGoConsts(t, "../api", oaPrefixed("Code"))},
		{"FaultKind", oaGoConsts(t, "../api", oaPrefixed("Fault"))},
		{"Task.state", oaGoConsts(t, "../api", oaPrefixed("Task"))},
		{"Task.kind", oaGoConsts(t, "./engine", oaPrefixed("Task"))},
		{"Event.kind", oaGoConsts(t, "./engine", oaPrefixed("Event"))},
		{"Outage.kind", oaGoConsts(t, "./engine", oaPrefixed("Outage"))},
		{"NodeState", oaGoConsts(t, "..", oaOfType("NodeState"))},
		{"Role", roles},
		{"Role", oaGoConsts(t, "..", oaOfType("Role"))},
		{"Resource.state", oaGoConsts(t, "..", oaPrefixed("Resource"))},
	}
}

func TestOpenAPI_DescribesEveryRoute(t *testing.T) {
	doc := oaLoad(t)
	reportProblems(t, oaCheckRoutes(doc, Routes()))
	reportProblems(t, oaCheckPathParams(doc))
}

func TestOpenAPI_EveryRefResolvesAndEveryComponentIsUsed(t *testing.T) {
	reportProblems(t, oaCheckRefs(oaLoad(t)))
}

func TestOpenAPI_SchemasHaveEveryFieldOfTheGoTypes(t *testing.T) {
	reportProblems(t, oaCheckWireTypes(oaLoad(t)))
}

func TestOpenAPI_EnumsMatchGoConstants(t *testing.T) {
	reportProblems(t, oaCheckEnums(oaLoad(t), oaEnumChecks(t)))
}

func TestOpenAPI_HeadersAreTheAPIs(t *testing.T) {
	reportProblems(t, oaCheckHeaders(oaLoad(t)))
}

// TestOpenAPI_BearerAuthExactlyOnV1Routes checks what the document says
// about authentication, then that the simulator does it: every /v1 route
// answers 401 without a token, and no public route does.
func TestOpenAPI_BearerAuthExactlyOnV1Routes(t *testing.T) {
	doc := oaLoad(t)
	reportProblems(t, oaCheckSecurity(doc))

	srv, err := New(Options{Token: "openapi-test-token", Clock: NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	// Real values where a public route needs one to answer 200.
	values := map[string]string{"c": "demo", "n": "n1", "r": "none", "id": "none", "name": "1.1.tar.sha256"}
	for _, o := range oaOps(doc) {
		path := oaPathParam.ReplaceAllStringFunc(o.path, func(p string) string { return values[strings.Trim(p, "{}")] })
		req, err := http.NewRequest(o.method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		_ = resp.Body.Close() // read-only body
		secured := oaRequiresBearer(doc, o)
		if got := resp.StatusCode == http.StatusUnauthorized; got != secured {
			t.Errorf("%s without a token: HTTP %d; the document says bearer required: %v", o, resp.StatusCode, secured)
		}
		// Every 401 carries the same challenge, as the Unauthorized
		// response of the document says.
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode == http.StatusUnauthorized && ch != `Bearer realm="appliance"` {
			t.Errorf("%s without a token: 401 with WWW-Authenticate %q, want %q", o, ch, `Bearer realm="appliance"`)
		}
	}
}

// TestOpenAPI_ChecksCatchDrift proves that every check above can fail: on
// a document damaged in one place each, the check responsible reports it.
func TestOpenAPI_ChecksCatchDrift(t *testing.T) {
	cases := []struct {
		name   string
		damage func(doc map[string]any)
		check  func(doc map[string]any) []string
		want   string
	}{
		{"a served route is not documented", func(doc map[string]any) {
			delete(oaMap(oaMap(doc["paths"])["/v1/clusters/{c}/nodes/{n}/stage"]), "post")
		}, func(doc map[string]any) []string { return oaCheckRoutes(doc, Routes()) },
			"served but not documented: POST /v1/clusters/{c}/nodes/{n}/stage"},
		{"a documented route is not served", func(doc map[string]any) {
			oaMap(doc["paths"])["/v1/clusters/{c}/images:download"] = map[string]any{"post": map[string]any{}}
		}, func(doc map[string]any) []string { return oaCheckRoutes(doc, Routes()) },
			"documented but not served: POST /v1/clusters/{c}/images:download"},
		{"the status page is documented under another path", func(doc map[string]any) {
			paths := oaMap(doc["paths"])
			paths["/status"] = paths["/"]
			delete(paths, "/")
		}, func(doc map[string]any) []string { return oaCheckRoutes(doc, Routes()) },
			"served but not documented: GET /"},
		{"a path parameter is not declared", func(doc map[string]any) {
			delete(oaMap(oaMap(doc["paths"])["/v1/tasks/{id}"]), "parameters")
		}, oaCheckPathParams, `GET /v1/tasks/{id} does not declare path parameter "id"`},
		{"a $ref dangles", func(doc map[string]any) {
			oaMap(oaMap(oaMap(oaMap(doc["components"])["schemas"])["Node"])["properties"])["active"] = map[string]any{"$ref": "#/components/schemas/Partitoin"}
		}, oaCheckRefs, `$ref "#/components/schemas/Partitoin" does not resolve`},
		{"a component is unused", func(doc map[string]any) {
			oaMap(oaMap(doc["components"])["schemas"])["Leftover"] = map[string]any{"type": "object"}
		}, oaCheckRefs, "#/components/schemas/Leftover is never used"},
		{"a Go field is missing from its schema", func(doc map[string]any) {
			delete(oaMap(oaMap(oaMap(oaMap(doc["components"])["schemas"])["Task"])["properties"]), "progress")
		}, oaCheckWireTypes, `schema Task lacks property "progress"`},
		{"a schema has a field Go does not have", func(doc map[string]any) {
			oaMap(oaMap(oaMap(oaMap(doc["components"])["schemas"])["Node"])["properties"])["uptime"] = map[string]any{"type": "integer"}
		}, oaCheckWireTypes, `schema Node has property "uptime"`},
		{"a property has the wrong type", func(doc map[string]any) {
			oaMap(oaMap(oaMap(oaMap(doc["components"])["schemas"])["Image"])["properties"])["size_bytes"] = map[string]any{"type": "string"}
		}, oaCheckWireTypes, `schema Image.size_bytes: type "string", want integer`},
		{"a nested struct refers to the wrong schema", func(doc map[string]any) {
			oaMap(oaMap(oaMap(oaMap(doc["components"])["schemas"])["Node"])["properties"])["alternate"] = map[string]any{"$ref": "#/components/schemas/Resource"}
		}, oaCheckWireTypes, "schema Node.alternate: $ref is"},
		{"an always-sent field is not required", func(doc map[string]any) {
			s := oaMap(oaMap(oaMap(doc["components"])["schemas"])["Lease"])
			s["required"] = []any{"id", "cluster", "owner", "operation_key"}
		}, oaCheckWireTypes, `schema Lease: "expires_at" is always sent`},
		{"a request schema allows unknown fields", func(doc map[string]any) {
			delete(oaMap(oaMap(oaMap(doc["components"])["schemas"])["StageRequest"]), "additionalProperties")
		}, oaCheckWireTypes, "schema StageRequest must say additionalProperties: false"},
		{"an object schema is checked against no Go type", func(doc map[string]any) {
			oaMap(oaMap(doc["components"])["schemas"])["Orphan"] = map[string]any{"type": "object"}
		}, oaCheckWireTypes, "schema Orphan is checked against no Go type"},
		{"an error code is missing", func(doc map[string]any) {
			s := oaMap(oaMap(oaMap(doc["components"])["schemas"])["ErrorCode"])
			s["enum"] = slices.DeleteFunc(oaList(s["enum"]), func(v any) bool { return v == "disk_full" })
		}, func(doc map[string]any) []string { return oaCheckEnums(doc, oaEnumChecks(t)) }, `ErrorCode lacks "disk_full"`},
		{"an enum lists a value the code does not have", func(doc map[string]any) {
			s := oaMap(oaMap(oaMap(doc["components"])["schemas"])["NodeState"])
			s["enum"] = append(oaList(s["enum"]), "hibernating")
		}, func(doc map[string]any) []string { return oaCheckEnums(doc, oaEnumChecks(t)) }, `NodeState lists "hibernating"`},
		{"a /v1 route is public", func(doc map[string]any) {
			oaMap(oaMap(oaMap(doc["paths"])["/v1/clusters"])["get"])["security"] = []any{}
		}, oaCheckSecurity, "GET /v1/clusters is a /v1 route but does not require the bearer token"},
		{"a public route requires the token", func(doc map[string]any) {
			delete(oaMap(oaMap(oaMap(doc["paths"])["/healthz"])["get"]), "security")
		}, oaCheckSecurity, "GET /healthz is public but the document requires the bearer token"},
		{"a header is misspelt", func(doc map[string]any) {
			oaMap(oaMap(oaMap(doc["components"])["parameters"])["LeaseID"])["name"] = "X-Lease-Id"
		}, oaCheckHeaders, `components/parameters/LeaseID is header "X-Lease-Id", want header "X-Lease-ID"`},
		{"a POST forgets the Idempotency-Key", func(doc map[string]any) {
			delete(oaMap(oaMap(oaMap(doc["paths"])["/v1/clusters/{c}/finalize"])["post"]), "parameters")
		}, oaCheckHeaders, "POST /v1/clusters/{c}/finalize does not accept Idempotency-Key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if p := c.check(oaLoad(t)); len(p) != 0 {
				t.Fatalf("the undamaged document already fails this check: %v", p)
			}
			doc := oaLoad(t)
			c.damage(doc)
			problems := c.check(doc)
			for _, p := range problems {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Errorf("the check did not reportProblems %q; it reported %q", c.want, problems)
		})
	}
}

// reportProblems fails the test with every problem, one per line.
func reportProblems(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

func oaSet(xs []string) map[string]bool {
	out := make(map[string]bool, len(xs))
	for _, x := range xs {
		out[x] = true
	}
	return out
}

func oaKeys[V any](mm map[string]V) []string { return appliance.SortedKeys(mm) }
