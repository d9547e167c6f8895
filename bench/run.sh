#!/usr/bin/env bash
# Benchmarks, reported as ratios against a baseline measured in the same run:
#   - the planner at 1,000 and 10,000 nodes against 100 nodes, beside n log n;
#   - bundle verification against a bare sha256 of the same bytes.
# Usage: bench/run.sh [count]   (default 5 runs of each benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench 'Compute(100|1000|10000)$' -benchmem -count "$count" ./internal/appliance/rollout/ | tee -a "$out"
go test -run '^$' -bench 'Verify' -benchmem -count "$count" ./internal/appliance/bundle/ | tee -a "$out"

echo
echo "== ratios (medians of $count runs, same machine, same run)"
awk '
  /^Benchmark/ {
    name=$1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) if ($(i) == "ns/op") { v[name] = v[name] " " $(i-1) }
  }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    c100 = median(v["BenchmarkCompute100"]); c1k = median(v["BenchmarkCompute1000"]); c10k = median(v["BenchmarkCompute10000"])
    printf "planner 10,000 nodes: %.2f ms per plan (target <= 50 ms)\n", c10k / 1e6
    printf "planner 1,000 -> 10,000 nodes: x%.1f time; n log n would be x%.1f, n^2 x100\n", c10k / c1k, (10000 * log(10000)) / (1000 * log(1000))
    printf "planner 100 -> 1,000 nodes: x%.1f time; n log n would be x%.1f\n", c1k / c100, (1000 * log(1000)) / (100 * log(100))
    ver = median(v["BenchmarkVerify"]); base = median(v["BenchmarkVerifyBaselineSHA256"])
    printf "bundle verify vs bare sha256 of the same bytes: x%.2f time\n", ver / base
  }' "$out"
