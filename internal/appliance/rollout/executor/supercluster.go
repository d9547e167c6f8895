package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// SuperOptions tune a supercluster run.
type SuperOptions struct {
	// Owner names this process in each member's lease.
	Owner string
	// Cluster gives the options of one member's rollout (its operation
	// key, revert policy and deadlines).
	Cluster func(cluster string, p *rollout.Plan) Options
}

// RunSupercluster executes a supercluster plan. Like Run it is
// level-triggered: before each membership or window step it reads the
// cluster and skips what already holds, and every member's rollout is a Run
// under that member's own lease, so an interrupted apply resumes from what
// the clusters show.
func RunSupercluster(ctx context.Context, d driver.Driver, sp *rollout.SuperPlan, opts SuperOptions) error {
	roll := func(ctx context.Context, s rollout.SuperStep) error {
		o := opts.Cluster(s.Cluster, s.Plan)
		err := WithLease(ctx, d, s.Cluster, opts.Owner, o.OperationKey, func(ctx context.Context, leaseID string) error {
			o.LeaseID = leaseID
			return Run(ctx, d, s.Plan, o)
		})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", s.Cluster, err)
		}
		return nil
	}
	for i := 0; i < len(sp.Steps); i++ {
		s := sp.Steps[i]
		switch s.Kind {
		case rollout.SuperRoll:
			if !sp.ParallelRolls {
				if err := roll(ctx, s); err != nil {
					return withContext(sp, s, err)
				}
				continue
			}
			// Inside a maintenance window every cluster goes at once.
			j := i
			for j < len(sp.Steps) && sp.Steps[j].Kind == rollout.SuperRoll {
				j++
			}
			errs := make([]error, j-i)
			var wg sync.WaitGroup
			for k := i; k < j; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[k-i] = roll(ctx, sp.Steps[k])
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return withContext(sp, s, err)
			}
			i = j - 1
		case rollout.SuperOpenWindow, rollout.SuperCloseWindow:
			open := s.Kind == rollout.SuperOpenWindow
			for _, c := range s.Clusters {
				if err := ensure(ctx, d, c, func(cl *appliance.Cluster) bool { return cl.MaintenanceWindow == open },
					driver.Action{Kind: driver.ActMaintenance, Open: open}); err != nil {
					verb := "closing"
					if open {
						verb = "opening"
					}
					return fmt.Errorf("%s the maintenance window on %s: %w", verb, c, err)
				}
			}
		case rollout.SuperLeave:
			if err := ensure(ctx, d, s.Cluster, func(cl *appliance.Cluster) bool { return cl.Supercluster != s.Supercluster },
				driver.Action{Kind: driver.ActSetSupercluster, Supercluster: ""}); err != nil {
				return fmt.Errorf("taking %s out of supercluster %s: %w", s.Cluster, s.Supercluster, err)
			}
		case rollout.SuperJoin:
			members := s.Clusters
			if s.Cluster != "" {
				members = []string{s.Cluster}
			}
			for _, c := range members {
				if err := ensure(ctx, d, c, func(cl *appliance.Cluster) bool { return cl.Supercluster == s.Supercluster },
					driver.Action{Kind: driver.ActSetSupercluster, Supercluster: s.Supercluster}); err != nil {
					return fmt.Errorf("joining %s to supercluster %s: %w", c, s.Supercluster, err)
				}
			}
		default:
			return fmt.Errorf("the executor does not know supercluster step %q", s.Kind)
		}
	}
	return nil
}

// ensure runs a, unless the cluster already shows its effect.
func ensure(ctx context.Context, d driver.Driver, cluster string, holds func(*appliance.Cluster) bool, a driver.Action) error {
	c, err := d.Cluster(ctx, cluster)
	if err != nil {
		return err
	}
	if holds(c) {
		return nil
	}
	if err := leaseStillOurs(ctx); err != nil {
		return err
	}
	t, err := d.Start(ctx, cluster, a)
	if err != nil {
		return err
	}
	return t.Wait(ctx)
}

// withContext says where a failed member's rollout leaves the supercluster.
func withContext(sp *rollout.SuperPlan, s rollout.SuperStep, err error) error {
	switch sp.Strategy {
	case rollout.SuperMaintenanceWindow:
		return fmt.Errorf("%w. The maintenance window stays open on %s: the service is still down; fix the failure and apply again", err, strings.Join(sp.Order, ", "))
	case rollout.SuperIncremental:
		return fmt.Errorf("%w. %s is out of supercluster %s; the next apply continues from here", err, s.Cluster, sp.Supercluster)
	}
	return err
}

// Do runs one administrative action (a licence, a membership, a window)
// and waits for it: resources never wait on tasks themselves.
func Do(ctx context.Context, d driver.Driver, cluster string, a driver.Action) error {
	if err := leaseStillOurs(ctx); err != nil {
		return err
	}
	t, err := d.Start(ctx, cluster, a)
	if err != nil {
		return err
	}
	return t.Wait(ctx)
}
