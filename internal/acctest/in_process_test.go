package acctest

import (
	"strings"
	"testing"
)

func TestCheckPrimaryFirstHA_RefusesAPlanThatActivatesAPartnerBesideThePrimaryOrBeforeIt(t *testing.T) {
	good := []string{
		"1. wave 0: stage n1 -> 1.1", "2. wave 0: stage n2 -> 1.1",
		"5. wave 1: activate n1 -> 1.1 (primary first)",
		"7. wave 2: activate n3 -> 1.1 (after the primary)",
		"9. wave 3: activate n2 -> 1.1", "10. wave 3: activate n4 -> 1.1",
	}
	if err := CheckPrimaryFirstHA(good); err != nil {
		t.Errorf("a primary-first plan with partners apart: %v", err)
	}
	for name, c := range map[string]struct {
		lines []string
		want  string
	}{
		"partners in one wave": {[]string{"1. wave 1: activate n1", "2. wave 2: activate n3", "3. wave 2: activate n4", "4. wave 3: activate n2"}, "S12"},
		"primary not first":    {[]string{"1. wave 1: activate n3", "2. wave 1: activate n1", "3. wave 2: activate n2", "4. wave 3: activate n4"}, "S11"},
		"a node left out":      {[]string{"1. wave 1: activate n1", "2. wave 2: activate n2", "3. wave 3: activate n3"}, "n4 is never activated"},
		"staged only":          {[]string{"1. wave 0: stage n1", "2. wave 0: stage n2", "3. wave 0: stage n3", "4. wave 0: stage n4"}, "never activated"},
	} {
		if err := CheckPrimaryFirstHA(c.lines); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestActivationWaves_CountsRollbacksAsActivations(t *testing.T) {
	got := ActivationWaves([]string{"1. wave 1: roll back n1 -> 1.0", "2. wave 1: await_healthy n1 (deadline 45m0s)", "3. wave 2: activate n2 -> 1.0"})
	if len(got) != 2 || got["n1"] != 1 || got["n2"] != 2 {
		t.Errorf("waves %v, want n1 in 1 and n2 in 2", got)
	}
}
