// Command chaos is `make chaos`: it runs interrupted rolling upgrades of an
// 8-node simulated cluster through the real terraform CLI and prints one
// summary line (progress goes to stderr). See internal/chaos.
//
//	go run ./bench/chaos -n 50 -provider bin/terraform-provider-appliance
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/chaos"
)

func main() {
	var o chaos.Options
	flag.IntVar(&o.Trials, "n", 50, "interrupted rollouts to run")
	flag.Uint64Var(&o.Seed, "seed", 0, "seed of the kill moments (default: from the clock; printed in the summary)")
	flag.StringVar(&o.Terraform, "terraform", "terraform", "terraform or tofu CLI")
	flag.StringVar(&o.Provider, "provider", "bin/terraform-provider-appliance", "the built provider binary")
	flag.StringVar(&o.Dir, "dir", "", "directory for trial files (default: a temp dir, removed)")
	flag.BoolVar(&o.KeepDir, "keep", false, "keep the temp dir (state, logs) for inspection")
	flag.Float64Var(&o.TimeScale, "time-scale", 30, "simulated seconds per wall second")
	flag.IntVar(&o.MaxReapplies, "max-reapplies", 40, "bound on applies after the interrupted one")
	flag.DurationVar(&o.ReapplyPause, "reapply-pause", 5*time.Second, "wait after a failed re-apply")
	flag.DurationVar(&o.TrialBudget, "trial-budget", 5*time.Minute, "bound on one trial")
	flag.IntVar(&o.SimulatorKillEvery, "simulator-kill-every", 3, "also kill and restart the simulator in every n-th trial (negative: never)")
	flag.Parse()
	o.Progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := chaos.Run(ctx, o)
	if len(sum.Trials) > 0 || err == nil {
		fmt.Println(sum.Line())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if !sum.Clean() {
		os.Exit(1)
	}
}
