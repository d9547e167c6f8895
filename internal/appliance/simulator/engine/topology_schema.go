package engine

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TopologySchemaJSON is the JSON Schema of topology files, published in the
// guide on rehearsing a change window so that editors can check a file as
// it is written; LoadTopologyFile validates every file against it.
//
//go:embed topology.schema.json
var TopologySchemaJSON []byte

const topologySchemaURL = "https://github.com/applianceops/terraform-provider-appliance/topology.schema.json"

var topologySchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(TopologySchemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(topologySchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(topologySchemaURL)
})

// validateTopologyJSON checks a topology file's text against the schema and
// says where each problem is, e.g. "at /clusters/0/nodes/1: missing property 'role'".
func validateTopologyJSON(data []byte) error {
	sch, err := topologySchema()
	if err != nil {
		return fmt.Errorf("the topology schema does not compile (a bug in the simulator): %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		// The first line names the schema; the rest says what is wrong where.
		msg := ve.Error()
		if _, rest, ok := strings.Cut(msg, "\n"); ok {
			msg = rest
		}
		return fmt.Errorf("it does not match the topology schema:\n%s", strings.ReplaceAll(msg, "- at '", "- at '#"))
	}
	return err
}
