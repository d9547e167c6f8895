package rollout

import (
	"errors"
	"strings"
	"testing"
)

// TestVerify_RejectsUnsafePlans breaks good plans one rule at a time and
// requires the proof to name the broken rule at the right step.
func TestVerify_RejectsUnsafePlans(t *testing.T) {
	type mutation struct {
		req    Request
		mutate func(p *Plan)
		want   string
	}
	avere := Request{Cluster: avere4(), Target: manifest("1.1", "1.0")}
	nw := Request{Cluster: netware(), Target: manifest("6.5 SP8", "6.5")}
	vcaReq := Request{Cluster: vca(), Target: manifest("2.1", "2.0")}
	find := func(p *Plan, kind StepKind, who string) int {
		for i, s := range p.Steps {
			if s.Kind == kind && (s.Node == who || s.Resource == who) {
				return i
			}
		}
		t.Fatalf("no %s %s", kind, who)
		return -1
	}
	remove := func(p *Plan, i int) { p.Steps = append(p.Steps[:i], p.Steps[i+1:]...) }
	for name, m := range map[string]mutation{
		"HA partners together": {avere, func(p *Plan) {
			// n4 joins its partner n3 in wave 2.
			i := find(p, StepActivate, "n4")
			s := p.Steps[i]
			remove(p, i)
			s.Wave = 2
			j := find(p, StepActivate, "n3")
			p.Steps = append(p.Steps[:j+1], append([]Step{s}, p.Steps[j+1:]...)...)
		}, "HA group p2 falls to 0"},
		"not staged": {avere, func(p *Plan) { remove(p, find(p, StepStage, "n3")) }, "no bootable 1.1"},
		"activated twice": {avere, func(p *Plan) {
			p.Steps = append(p.Steps, Step{Wave: 3, Kind: StepActivate, Node: "n4", Version: "1.1"})
		}, "activated twice"},
		"never awaited":       {avere, func(p *Plan) { remove(p, find(p, StepAwaitHealthy, "n4")) }, "never awaited"},
		"next wave too early": {avere, func(p *Plan) { remove(p, find(p, StepAwaitHealthy, "n3")) }, "not healthy"},
		"primary not first": {avere, func(p *Plan) {
			p.Steps = append(p.Steps[:4],
				Step{Wave: 1, Kind: StepActivate, Node: "n3", Version: "1.1"}, Step{Wave: 1, Kind: StepAwaitHealthy, Node: "n3"},
				Step{Wave: 2, Kind: StepActivate, Node: "n1", Version: "1.1"}, Step{Wave: 2, Kind: StepAwaitHealthy, Node: "n1"})
		}, "role order: n1 (primary) must be healthy on 1.1 before n3"},
		"resource left behind":      {nw, func(p *Plan) { remove(p, find(p, StepMoveResource, "vol2")) }, "vol2 has no serving node"},
		"move to a disallowed node": {nw, func(p *Plan) { p.Steps[find(p, StepMoveResource, "vol2")].To = "s1" }, "may not run on s1"},
		"fail back elsewhere": {nw, func(p *Plan) {
			p.Steps = append(p.Steps, Step{Wave: 3, Kind: StepFailBack, Resource: "pool1", From: "s1", To: "s3"})
		}, "prefers s1"},
		"not back home":        {nw, func(p *Plan) { remove(p, find(p, StepFailBack, "share3")) }, "not its preferred node"},
		"finalize not offline": {nw, func(p *Plan) { p.Steps[len(p.Steps)-1].Offline = false }, "finalize"},
		"max_unavailable": {nw, func(p *Plan) {
			// s2 reboots with s1.
			i := find(p, StepActivate, "s2")
			s := p.Steps[i]
			remove(p, i)
			s.Wave = 1
			j := find(p, StepActivate, "s1")
			p.Steps = append(p.Steps[:j+1], append([]Step{s}, p.Steps[j+1:]...)...)
		}, "2 nodes down at once; max_unavailable allows 1"},
		"no promotion":     {vcaReq, func(p *Plan) { remove(p, find(p, StepPromote, "mgmt2")) }, "before its updated standby is promoted"},
		"wrong wave count": {avere, func(p *Plan) { p.Waves = 2 }, "says 2 waves"},
		"wrong version":    {avere, func(p *Plan) { p.Steps[find(p, StepActivate, "n4")].Version = "1.2" }, "not the target"},
	} {
		t.Run(name, func(t *testing.T) {
			p := mustCompute(t, m.req)
			if err := Verify(m.req, p); err != nil {
				t.Fatalf("the unmutated plan fails: %v", err)
			}
			m.mutate(p)
			err := Verify(m.req, p)
			var sv *SafetyViolation
			if !errors.As(err, &sv) {
				t.Fatalf("Verify = %v, want a SafetyViolation\n%s", err, lines(p))
			}
			if !strings.Contains(sv.Constraint, m.want) {
				t.Errorf("violation %q, want %q", sv.Error(), m.want)
			}
		})
	}
}
