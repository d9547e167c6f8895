package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTopologySchema_AcceptsEveryPresetAndTheExampleFile: what the
// simulator itself starts from, written out as a file, is valid against the
// published schema, and so is the documented example with faults.
func TestTopologySchema_AcceptsEveryPresetAndTheExampleFile(t *testing.T) {
	for _, name := range PresetNames() {
		topo, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(topo)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateTopologyJSON(b); err != nil {
			t.Errorf("preset %s written as a file: %v", name, err)
		}
	}
	p := filepath.Join("..", "testdata", "two-sites.json")
	if _, err := LoadTopologyFile(p); err != nil {
		t.Errorf("%s: %v", p, err)
	}
}

// TestTopologySchema_RefusesMistakesNamingWhere: a misspelled field, a
// role the simulator does not know, a fault kind it cannot inflict and a
// node without its active partition are refused when the file is loaded,
// each naming the place in the file.
func TestTopologySchema_RefusesMistakesNamingWhere(t *testing.T) {
	cases := map[string]struct{ file, want string }{
		"misspelled field": {
			`{"clusters": [{"name": "c", "nodes": [{"name": "a", "role": "member", "active": {"version": "1.0"}}], "reboot_secs": 5}]}`,
			"at '#/clusters/0'", // additional property reboot_secs
		},
		"unknown role": {
			`{"clusters": [{"name": "c", "nodes": [{"name": "a", "role": "leader", "active": {"version": "1.0"}}]}]}`,
			"at '#/clusters/0/nodes/0/role'",
		},
		"unknown fault": {
			`{"clusters": [{"name": "c", "nodes": [{"name": "a", "role": "member", "active": {"version": "1.0"}}]}], "faults": [{"kind": "meteor"}]}`,
			"at '#/faults/0/kind'",
		},
		"node without active partition": {
			`{"clusters": [{"name": "c", "nodes": [{"name": "a", "role": "member"}]}]}`,
			"missing property 'active'",
		},
		"no cluster": {`{"clusters": []}`, "at '#/clusters'"},
		"licence not a series": {
			`{"clusters": [{"name": "c", "licenses": ["6.5.2"], "nodes": [{"name": "a", "role": "member", "active": {"version": "6.0"}}]}]}`,
			"at '#/clusters/0/licenses/0'",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "topology.json")
			if err := os.WriteFile(p, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTopologyFile(p)
			if err == nil {
				t.Fatalf("loaded a topology that should be refused: %s", tc.file)
			}
			if !strings.Contains(err.Error(), "does not match the topology schema") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name the schema and %q", err, tc.want)
			}
		})
	}
}
