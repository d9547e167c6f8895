package rules

import (
	"encoding/json"
	"fmt"
	"os"
)

// Golden is the table of golden answers in testdata/golden.json: real
// release spellings and upgrade paths of the vendor documents, with the
// answer an appliance gives. The tests of this package check it against
// package appliance (the provider's side) and these rules; the
// simulator's tests check the upgrade paths through its API.
type Golden struct {
	About string `json:"_about"`
	Order []struct {
		A    string `json:"a"`
		B    string `json:"b"`
		Want int    `json:"want"`
	} `json:"order"`
	Unreadable []string `json:"unreadable"`
	Paths      []struct {
		Running       string   `json:"running"`
		Target        string   `json:"target"`
		SupportedFrom []string `json:"supported_from"`
		Want          Verdict  `json:"want"`
		Why           string   `json:"why,omitempty"`
	} `json:"paths"`
	Compatible []struct {
		A    string `json:"a"`
		B    string `json:"b"`
		Want bool   `json:"want"`
	} `json:"compatible"`
	Rollback []struct {
		Active               string   `json:"active"`
		Target               string   `json:"target"`
		IrreversibleFeatures []string `json:"irreversible_features"`
		Want                 bool     `json:"want"`
	} `json:"rollback"`
}

// ReadGolden reads a golden table; unknown fields are refused, so that a
// typo in the table is not a silently ignored row.
func ReadGolden(path string) (*Golden, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // only read
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var g Golden
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("golden table %s: %w", path, err)
	}
	if len(g.Order) == 0 || len(g.Paths) == 0 {
		return nil, fmt.Errorf("golden table %s has no rows", path)
	}
	return &g, nil
}
