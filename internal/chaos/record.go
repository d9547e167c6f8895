package chaos

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/simclient"
)

// Record is what the simulator's own record says of a trial: its events
// (every reboot it started) and its availability ledger.
type Record struct {
	// Activations counts, per node, the reboots into the target version.
	Activations map[string]int
	// DoubleActivations lists the nodes activated more than once for the
	// target ("n3 x2"): a crash or a resume that redid a done step.
	DoubleActivations []string
	// OutageSeconds is the simulated time during which an HA group was
	// below its minimum or a resource had no serving node, outside any
	// declared offline window.
	OutageSeconds float64
	// AllAtTarget: every node runs the target and serves.
	AllAtTarget bool
	// NotAtTarget lists the nodes that do not ("n4 1.0 rebooting").
	NotAtTarget []string
}

// activationEvent is the simulator's event for a reboot into the
// alternate partition: "node n3 reboots into its alternate partition (1.1)".
var activationEvent = regexp.MustCompile(`^node (\S+) reboots into its alternate partition \(([^)]*)\)`)

func readRecord(ctx context.Context, sim *simulator) (Record, error) {
	rec := Record{Activations: map[string]int{}}
	c, err := client.New(client.Config{Endpoint: sim.endpoint, Token: sim.token, RetryMax: 5})
	if err != nil {
		return rec, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	snap, err := c.GetCluster(ctx, clusterName)
	if err != nil {
		return rec, fmt.Errorf("reading the cluster: %w", err)
	}
	events, err := c.Events(ctx, clusterName, 0)
	if err != nil {
		return rec, fmt.Errorf("reading the events: %w", err)
	}
	ledger, err := c.Ledger(ctx, clusterName)
	if err != nil {
		return rec, fmt.Errorf("reading the ledger: %w", err)
	}
	clock, err := sim.clock(ctx)
	if err != nil {
		return rec, fmt.Errorf("reading the clock: %w", err)
	}

	for _, e := range events {
		if m := activationEvent.FindStringSubmatch(e.Message); m != nil && appliance.SameVersion(m[2], toVersion) {
			rec.Activations[m[1]]++
		}
	}
	rec.AllAtTarget = true
	for _, n := range snap.Nodes {
		if !appliance.SameVersion(n.Active.Version, toVersion) || !n.State.Serving() {
			rec.AllAtTarget = false
			rec.NotAtTarget = append(rec.NotAtTarget, fmt.Sprintf("%s %s %s", n.Name, n.Active.Version, n.State))
		}
		switch k := rec.Activations[n.Name]; {
		case k > 1:
			rec.DoubleActivations = append(rec.DoubleActivations, fmt.Sprintf("%s x%d", n.Name, k))
		case k == 0 && appliance.SameVersion(n.Active.Version, toVersion):
			// A node on the target without a recorded reboot means the
			// record no longer reads as this harness expects: say so
			// rather than count zero double activations.
			return rec, fmt.Errorf("node %s runs %s but no event records its activation: the simulator's event messages changed; update activationEvent", n.Name, toVersion)
		}
	}
	sort.Strings(rec.DoubleActivations)
	for _, o := range ledger.Outages {
		if o.Declared {
			continue
		}
		end := clock.Now
		if o.End != nil {
			end = *o.End
		}
		rec.OutageSeconds += end.Sub(o.Start).Seconds()
	}
	return rec, nil
}

func (r Record) describe() string {
	var parts []string
	if r.AllAtTarget {
		parts = append(parts, "all nodes on "+toVersion)
	} else {
		parts = append(parts, "not on "+toVersion+": "+strings.Join(r.NotAtTarget, ", "))
	}
	parts = append(parts, fmt.Sprintf("double activations %d", len(r.DoubleActivations)))
	if len(r.DoubleActivations) > 0 {
		parts[len(parts)-1] += " (" + strings.Join(r.DoubleActivations, ", ") + ")"
	}
	parts = append(parts, fmt.Sprintf("undeclared outage %gs", r.OutageSeconds))
	return strings.Join(parts, ", ")
}

// clock reads the simulated clock (a simulator-only endpoint, so not the
// production client's).
func (sim *simulator) clock(ctx context.Context) (clockNow, error) {
	c, err := simclient.New(simclient.Config{Endpoint: sim.endpoint, Token: sim.token})
	if err != nil {
		return clockNow{}, err
	}
	v, err := c.Clock(ctx)
	if err != nil {
		return clockNow{}, err
	}
	return clockNow{Now: v.Now}, nil
}

// clockNow is the part of the simulated clock a record uses.
type clockNow struct{ Now time.Time }
