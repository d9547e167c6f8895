package rollout

import (
	"errors"
	"math/rand"
	"os"
	"testing"
)

// propertyCases is how many random requests the property test plans in a
// normal `go test` run; -short runs a tenth, ROLLOUT_STRESS=1 ten times more.
const propertyCases = 12000

// TestProperty_SafeAndOptimal plans random topologies, policies and
// failures (seeded, so every run sees the same cases) and requires of every
// plan: no safety violation, waves equal to the lower bound, the waves obey
// an independent model of the constraints, and, for up to 10 nodes, the
// lower bound equals the optimum found by exhaustive search.
func TestProperty_SafeAndOptimal(t *testing.T) {
	cases := propertyCases
	if os.Getenv("ROLLOUT_STRESS") != "" {
		cases *= 10
	}
	if testing.Short() {
		cases /= 10
	}
	rng := rand.New(rand.NewSource(20261122))
	planned, refused, exhaustive := 0, 0, 0
	// Run until `cases` plans were made and proven, not merely `cases`
	// requests: the refused ones prove validation, not planning.
	for c := 0; planned < cases; c++ {
		opts := genOptions{maxNodes: 10, maxResources: 4, failures: c%3 == 0}
		switch {
		case c%200 == 199:
			opts = genOptions{maxNodes: 1000, maxResources: 300, failures: c%3 == 0}
		case c%10 == 9:
			opts = genOptions{maxNodes: 60, maxResources: 30, failures: c%3 == 0}
		}
		req := genRequest(rng, opts)
		p, err := Compute(req)
		var sv *SafetyViolation
		if errors.As(err, &sv) {
			t.Fatalf("case %d: %v\n%s", c, err, describe(req))
		}
		todo, judge := bruteModel(req)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("case %d: error %T %v", c, err, err)
			}
			refused++
			continue
		}
		planned++
		if p.Waves != p.LowerBound {
			t.Fatalf("case %d: %d waves, lower bound %d\n%s\n%s", c, p.Waves, p.LowerBound, describe(req), lines(p))
		}
		block, blocks, complete := planBlocks(p, todo)
		if !complete || !judge(block, blocks) {
			t.Fatalf("case %d: the plan breaks the independent model\n%s\n%s", c, describe(req), lines(p))
		}
		checkResume(t, rng, c, req, p)
		if len(todo) <= 10 {
			exhaustive++
			if opt := bruteOptimum(req); opt != p.LowerBound {
				t.Fatalf("case %d: exhaustive optimum %d, planner bound %d with %d waves\n%s\n%s", c, opt, p.LowerBound, p.Waves, describe(req), lines(p))
			}
		}
	}
	t.Logf("%d cases: %d planned (%d checked exhaustively), %d refused at validation", planned+refused, planned, exhaustive, refused)
	if refused > planned {
		t.Errorf("%d cases refused against %d planned: the generator tests validation more than planning", refused, planned)
	}
}

// checkResume interrupts the plan after a random wave, plays the steps done
// so far on the snapshot, and plans again: the new plan must activate
// exactly the nodes not yet activated, in no more waves than were left.
func checkResume(t *testing.T, rng *rand.Rand, c int, req Request, p *Plan) {
	t.Helper()
	if p.Waves < 2 {
		return
	}
	cutWave := 1 + rng.Intn(p.Waves-1)
	cut := 0
	for cut < len(p.Steps) && p.Steps[cut].Wave <= cutWave {
		cut++
	}
	done := map[string]bool{}
	for _, s := range p.Steps[:cut] {
		if s.Kind == StepActivate {
			done[s.Node] = true
		}
	}
	req2 := req
	req2.Cluster = applySteps(req.Cluster, p.Steps[:cut])
	p2, err := Compute(req2)
	if err != nil {
		t.Fatalf("case %d: resuming after wave %d: %v\n%s\n%s", c, cutWave, err, describe(req), lines(p))
	}
	left := map[string]bool{}
	for _, s := range p.Steps[cut:] {
		if s.Kind == StepActivate {
			left[s.Node] = true
		}
	}
	for _, s := range p2.Steps {
		if s.Kind == StepActivate {
			if done[s.Node] {
				t.Fatalf("case %d: resumed plan activates %s again", c, s.Node)
			}
			delete(left, s.Node)
		}
	}
	if len(left) > 0 || p2.Waves > p.Waves-cutWave || p2.Waves != p2.LowerBound {
		t.Fatalf("case %d: resumed after wave %d: %d waves (bound %d), %d were left; skipped %v\n%s\n--- resumed\n%s", c, cutWave, p2.Waves, p2.LowerBound, p.Waves-cutWave, left, lines(p), lines(p2))
	}
}

// TestProperty_ResourceConflictGraphs targets the hard part of the bound:
// resources allowed on two or three nodes make wave assignment a graph
// colouring. Every plan must still reach its bound, and the bound must be
// the exhaustive optimum wherever exhaustive search is affordable.
func TestProperty_ResourceConflictGraphs(t *testing.T) {
	cases := 3000
	if os.Getenv("ROLLOUT_STRESS") != "" {
		cases = 30000
	}
	if testing.Short() {
		cases /= 10
	}
	rng := rand.New(rand.NewSource(7))
	for c := 0; c < cases; c++ {
		maxNodes := 10
		if c%5 == 4 {
			maxNodes = 80
		}
		req := genConflicts(rng, maxNodes)
		p, err := Compute(req)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", c, err, describe(req))
		}
		if p.Waves != p.LowerBound {
			t.Fatalf("case %d: %d waves, bound %d\n%s\n%s", c, p.Waves, p.LowerBound, describe(req), lines(p))
		}
		if todo, _ := bruteModel(req); len(todo) <= 10 {
			if opt := bruteOptimum(req); opt != p.Waves {
				t.Fatalf("case %d: optimum %d, planner %d waves\n%s\n%s", c, opt, p.Waves, describe(req), lines(p))
			}
		}
	}
}
