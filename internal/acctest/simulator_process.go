package acctest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
)

// StartSimulator runs the provider binary's standalone simulator
// (`terraform-provider-appliance simulator`, preset primary-ha: cluster
// demo, n1..n4 on 1.0) on a loopback port, its state and log in dir, at
// timeScale times the real clock, and returns its endpoint and token once
// it answers. It is stopped with SIGINT, as an operator stops it, when the
// test ends. A process of its own, not the in-process simulator, because
// the CLI's provider processes must reach it across their lifetimes.
func StartSimulator(t testing.TB, provider, dir string, timeScale int) (endpoint, token string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	token = "acc-sim-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	log, err := os.Create(filepath.Join(dir, "simulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(provider, "simulator", "--listen", addr, "--state", filepath.Join(dir, "sim.json"),
		"--topology", "primary-ha", "--time-scale", strconv.Itoa(timeScale), "--token", token)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		_ = log.Close()
	})
	endpoint = "http://" + addr
	c, err := client.New(client.Config{Endpoint: endpoint, Token: token, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := c.GetCluster(context.Background(), "demo"); err == nil {
			return endpoint, token
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulator did not answer within 15s (log: %s)", log.Name())
		}
	}
}
