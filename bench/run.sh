#!/usr/bin/env bash
# make bench: every speed figure of the provider as a ratio to a baseline
# measured in the same run, on this machine, printed as one table and
# written to bench/RESULTS.md (which the README's performance section shows).
#
#   uploads     terraform apply of an appliance_software_image (stage = false)
#               with a 1 GiB source_file (BENCH_UPLOAD_GIB=4 for 4 GiB), against
#               curl posting the same file with the same headers to the same
#               standalone simulator; the upload alone is timed from the
#               provider's log, and so is the plan-time verification (the
#               rest of the apply is Terraform, provider starts and the
#               state); reads of the bundle are counted from the
#               provider's log lines (one per pass over the file, see below);
#               peak RSS is the provider processes' VmHWM, sampled from /proc
#               on one more apply that is not timed.
#   fleet plan  terraform plan of 100 clusters (100 images + 100 active
#               versions) against 200 terraform_data resources, wall time and
#               CPU-seconds (Terraform and the provider processes); cluster
#               reads counted by the simulator (GET /v1/stats). The floor is
#               the same plan served by bench/floorprovider: the same schema
#               in terraform-plugin-framework, answering with the planned
#               values of the real plan and doing nothing else, so the
#               table shows what the provider adds to what any framework
#               provider with this schema costs Terraform. The minimal floor
#               is the same configuration planned by bench/minimalprovider:
#               only the attributes the configuration sets, nothing planned
#               but the image's version; what any plugin provider costs.
#   makespans   every preset and the 16-node HA-pairs case with
#               max_unavailable = 8, in simulated seconds, against the plan's
#               batch-by-batch bound and serial time (go test -bench Makespan).
#   planner     10,000 and 100,000 nodes (go test -bench Compute).
#
# Usage: bench/run.sh            (BENCH_RUNS=5 runs of each timed command; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${BENCH_RUNS:-5}
GIB=${BENCH_UPLOAD_GIB:-1}
TERRAFORM=${TERRAFORM:-$(command -v terraform || true)}
[ -n "$TERRAFORM" ] || { echo "bench: no terraform on PATH (make bench builds OpenTofu when missing)"; exit 1; }
command -v curl >/dev/null || { echo "bench: curl is needed for the upload baseline (apt-get install curl)"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/appliance-bench.XXXXXX")
SIM_PID=""
SAMPLER_PID=""
WIRE_NS=""
cleanup() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null || true
	[ -n "$WIRE_NS" ] && ip netns del "$WIRE_NS" 2>/dev/null || true
	if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

BIN=$W/bin/terraform-provider-appliance
go build -o "$BIN" .
go build -o "$W/benchtool" ./bench/benchtool
bt() { "$W/benchtool" "$@"; }
printf 'provider_installation {\n  dev_overrides {\n    "registry.terraform.io/applianceops/appliance" = "%s"\n    "registry.opentofu.org/applianceops/appliance" = "%s"\n  }\n  direct {}\n}\n' "$W/bin" "$W/bin" >"$W/terraformrc"
export TF_CLI_CONFIG_FILE=$W/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
TOKEN=bench-token-$$

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
# start_sim ARGS...: the standalone simulator on a free loopback port (on
# SIM_LISTEN in the network namespace SIM_NETNS when they are set).
start_sim() {
	rm -f "$W/sim.out"
	${SIM_NETNS:+ip netns exec "$SIM_NETNS"} "$BIN" simulator --listen "${SIM_LISTEN:-127.0.0.1:0}" --token "$TOKEN" --state "$W/sim-$RANDOM.json" --time-scale 6000 "$@" >"$W/sim.out" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 100); do
		URL=$(sed -n 's/^export APPLIANCE_ENDPOINT=//p' "$W/sim.out")
		[ -n "$URL" ] && return 0
		sleep 0.1
	done
	echo "bench: the simulator did not start:"; cat "$W/sim.out"; exit 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""; }
api() { curl -sS -H "Authorization: Bearer $TOKEN" "$@"; }

# peak_sampler FILE: writes the highest VmHWM (KiB) of any provider process
# into FILE until killed. Terraform starts the provider as "$BIN" with no
# arguments (the simulator, the same binary, has some), so the exact
# command line finds it.
peak_sampler() {
	local out=$1 max=0 k v rest
	while :; do
		for pid in $(pgrep -x -f "$BIN" || true); do
			[ -r "/proc/$pid/status" ] || continue
			{ while read -r k v rest; do
				if [ "$k" = VmHWM: ] && [ "$v" -gt "$max" ]; then max=$v; echo "$max" >"$out"; fi
			done <"/proc/$pid/status"; } 2>/dev/null || true
		done
		sleep 0.05
	done
}

echo "== bench on $(nproc) cores, $("$TERRAFORM" version | head -1), $(go version | awk '{print $3}')"

# BENCH_ONLY=upload|fleet|go runs one part (while working on the bench).
only() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }
REQ='terraform {
  required_providers {
    appliance = { source = "applianceops/appliance" }
  }
}'
CURL=0 APPLY=0 UPLOAD=0 VERIFY=0 READS=- RSS=0 WIRE_CURL="" WIRE_APPLY=0 WIRE_UPLOAD=0 WIRE_VERIFY=0 WIRE_SKIPPED="" WIRE_RATE="" PLAN=0 BASE=0 FLOORT=0 MINT=0 PLAN_CPU=- BASE_CPU=- FLOOR_CPU=- MIN_CPU=- GETS="- -" BYTES=1 SIZE=0
: >"$W/makespan.out"; : >"$W/planner.out"

# ---------------------------------------------------------------- uploads
if only upload; then
SIZE=$((GIB << 30))
[ -n "${BENCH_UPLOAD_MIB:-}" ] && SIZE=$((BENCH_UPLOAD_MIB << 20)) # quick runs while working on the bench
BUNDLE=$W/upload.bundle
"$BIN" bundle --out "$BUNDLE" --version 1.1 --supported-from 1.0 --components "os:$((SIZE - 3072))" >/dev/null
BYTES=$(stat -c %s "$BUNDLE")
SHA=$(sha256sum "$BUNDLE" | awk '{print $1}')
cat "$BUNDLE" >/dev/null # in the page cache for both sides alike
start_sim
IMG=img-${SHA:0:12}
# write_upload_config: the configuration of one image from $BUNDLE, uploaded
# to the simulator at $URL.
write_upload_config() {
	mkdir -p "$W/up"
	cat >"$W/up/main.tf" <<EOF
$REQ
provider "appliance" {
  endpoint = "$URL"
  token    = "$TOKEN"
}
resource "appliance_software_image" "big" {
  cluster     = "demo"
  source_file = "$BUNDLE"
  stage       = false
}
EOF
}
# upload_runs P N [rss]: N timed runs against the simulator at $URL, each a
# curl upload and a terraform apply, their times in $W/P.*; with rss, one
# more apply, not timed, for the provider's peak RSS. Sampling /proc every
# 50 ms (a pgrep and a read per provider process) takes a tenth of a core or
# more, which on 2 cores slows whichever upload it runs beside, since the
# receiving simulator hashes on both: measured, it made the provider's
# upload look 0.72x curl's throughput where it is 0.93x without it. So no
# timed command, curl's or the provider's, runs beside the sampler.
upload_runs() {
	local P=$1 N=$2 last=$2 i t t0 t1 rss_run
	[ "${3:-}" = rss ] && last=$((N + 1))
	: >"$W/$P.curl.times"; : >"$W/$P.apply.times"; : >"$W/$P.upload.times"; : >"$W/$P.verify.times"
	write_upload_config
	for i in $(seq "$last"); do
		rss_run=""; [ "$i" -gt "$N" ] && rss_run=1
		if [ -z "$rss_run" ]; then
			t=$(curl -sS -o "$W/curl.body" -w '%{time_total} %{http_code}' -X POST -T "$BUNDLE" \
				-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/octet-stream" -H "X-Content-SHA256: $SHA" \
				"$URL/v1/clusters/demo/images")
			[ "${t#* }" = 201 ] || { echo "bench: curl upload answered ${t#* }: $(cat "$W/curl.body")"; exit 1; }
			echo "${t% *}" >>"$W/$P.curl.times"
			api -X DELETE "$URL/v1/clusters/demo/images/$IMG" >/dev/null
		fi

		rm -rf "$W/up/terraform.tfstate"* "$W/cache"
		if [ -n "$rss_run" ]; then
			echo 0 >"$W/rss.now"
			peak_sampler "$W/rss.now" &
			SAMPLER_PID=$!
		fi
		t0=$(now)
		(cd "$W/up" && APPLIANCE_BUNDLE_CACHE_DIR=$W/cache TF_LOG_PROVIDER=INFO TF_LOG_PATH=$W/$P-apply-$i.log \
			"$TERRAFORM" apply -auto-approve -input=false -no-color >"$W/$P-apply-$i.out" 2>&1) ||
			{ echo "bench: terraform apply failed:"; tail -20 "$W/$P-apply-$i.out"; exit 1; }
		t1=$(now)
		# Reads of the bundle: one "image bundle verified" line per plan-time
		# inspection (bytes_read 0 when an unchanged file's verification was
		# reused) and the passes the upload made.
		bt reads "$W/$P-apply-$i.log" >>"$W/reads"
		if [ -n "$rss_run" ]; then
			kill "$SAMPLER_PID"; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
			cat "$W/rss.now" >>"$W/rss"
		else
			bt sub "$t1" "$t0" >>"$W/$P.apply.times"
			# The upload alone: from "uploading image bundle" to "image bundle uploaded".
			bt span "$W/$P-apply-$i.log" "uploading image bundle" "image bundle uploaded" >>"$W/$P.upload.times"
			# Plan-time verification: from "verifying image bundle" to the first
			# "image bundle verified" (the plan's read; the re-plan at apply reads nothing).
			bt first-span "$W/$P-apply-$i.log" "verifying image bundle" "image bundle verified" >>"$W/$P.verify.times"
		fi
		api -X DELETE "$URL/v1/clusters/demo/images/$IMG" >/dev/null
	done
}
: >"$W/reads"; : >"$W/rss"
upload_runs lo "$RUNS" rss
stop_sim
CURL=$(median <"$W/lo.curl.times"); APPLY=$(median <"$W/lo.apply.times"); UPLOAD=$(median <"$W/lo.upload.times"); VERIFY=$(median <"$W/lo.verify.times")

# The same over a wire of BENCH_WIRE_RATE (1gbit, an appliance's management
# port): the simulator in a network namespace of its own behind a veth pair
# whose two ends a token bucket limits, so that curl's upload and the
# provider's meet the same wire. On loopback the simulator's hashing on both
# cores bounds both uploads, so one verifying read costs half of curl's whole
# upload there; over a wire it is small beside the transfer. Needs root (ip
# netns); without it the table says it was not measured. BENCH_WIRE_RATE=off
# skips it.
WIRE_RATE=${BENCH_WIRE_RATE:-1gbit}
if [ "$WIRE_RATE" != off ] && command -v ip >/dev/null && command -v tc >/dev/null && ip netns add "appliance-bench-$$" 2>/dev/null; then
	WIRE_NS=appliance-bench-$$
	ip link add "abh$$" type veth peer name "abn$$"
	ip link set "abn$$" netns "$WIRE_NS"
	ip addr add 10.213.0.1/30 dev "abh$$"
	ip link set "abh$$" up
	tc qdisc add dev "abh$$" root tbf rate "$WIRE_RATE" burst 1mb latency 50ms
	ip netns exec "$WIRE_NS" sh -c "ip addr add 10.213.0.2/30 dev abn$$ && ip link set abn$$ up && ip link set lo up &&
		tc qdisc add dev abn$$ root tbf rate $WIRE_RATE burst 1mb latency 50ms"
	SIM_NETNS=$WIRE_NS SIM_LISTEN=10.213.0.2:0 start_sim
	upload_runs wire "$((RUNS < 3 ? RUNS : 3))"
	stop_sim
	ip netns del "$WIRE_NS"; WIRE_NS=""
	WIRE_CURL=$(median <"$W/wire.curl.times"); WIRE_APPLY=$(median <"$W/wire.apply.times"); WIRE_UPLOAD=$(median <"$W/wire.upload.times"); WIRE_VERIFY=$(median <"$W/wire.verify.times")
elif [ "$WIRE_RATE" != off ]; then
	WIRE_SKIPPED="needs root and iproute2 (ip netns, tc) for a network namespace"
fi
READS=$(sort -n "$W/reads" | tail -1); RSS=$(sort -n "$W/rss" | tail -1)
fi

if only fleet; then
# ------------------------------------------------------------- fleet plan
{
	printf '{"clusters": ['
	for i in $(seq -w 0 99); do
		[ "$i" = 00 ] || printf ','
		printf '{"name": "c%s", "ha_enabled": true, "nodes": [' "$i"
		printf '{"name": "n1", "role": "primary", "ha_group": "g1", "active": {"version": "1.0"}},'
		printf '{"name": "n2", "role": "secondary", "ha_group": "g1", "active": {"version": "1.0"}},'
		printf '{"name": "n3", "role": "secondary", "ha_group": "g2", "active": {"version": "1.0"}},'
		printf '{"name": "n4", "role": "secondary", "ha_group": "g2", "active": {"version": "1.0"}}],'
		printf '"ha_groups": [{"name": "g1", "members": ["n1", "n2"], "min_available": 1}, {"name": "g2", "members": ["n3", "n4"], "min_available": 1}]}'
	done
	printf ']}\n'
} >"$W/fleet.json"
start_sim --topology-file "$W/fleet.json"
SMALL=$W/small.bundle
"$BIN" bundle --out "$SMALL" --version 1.1 --supported-from 1.0 --components os:65536 >/dev/null
mkdir -p "$W/fleet" "$W/base"
{
	printf '%s\nprovider "appliance" {\n  endpoint = "%s"\n  token    = "%s"\n}\n' "$REQ" "$URL" "$TOKEN"
	for i in $(seq -w 0 99); do
		printf 'resource "appliance_software_image" "c%s" {\n  cluster     = "c%s"\n  source_file = "%s"\n}\n' "$i" "$i" "$SMALL"
		printf 'resource "appliance_cluster_active_version" "c%s" {\n  cluster  = "c%s"\n  version  = appliance_software_image.c%s.version\n  image_id = appliance_software_image.c%s.id\n}\n' "$i" "$i" "$i" "$i"
	done
} >"$W/fleet/main.tf"
for i in $(seq -w 0 199); do
	printf 'resource "terraform_data" "r%s" {\n  input = { cluster = "c%s", version = "1.1" }\n}\n' "$i" "$i"
done >"$W/base/main.tf"
# The floor provider, installed under the same source address by a CLI
# configuration of its own, plans a copy of the same configuration.
FLOOR=$W/floor-bin/terraform-provider-appliance
go build -o "$FLOOR" ./bench/floorprovider
printf 'provider_installation {\n  dev_overrides {\n    "registry.terraform.io/applianceops/appliance" = "%s"\n    "registry.opentofu.org/applianceops/appliance" = "%s"\n  }\n  direct {}\n}\n' "$W/floor-bin" "$W/floor-bin" >"$W/floorrc"
mkdir -p "$W/floor"
cp "$W/fleet/main.tf" "$W/floor/main.tf"
# The minimal provider, the same way, plans another copy.
go build -o "$W/min-bin/terraform-provider-appliance" ./bench/minimalprovider
sed "s#$W/floor-bin#$W/min-bin#g" "$W/floorrc" >"$W/minrc"
mkdir -p "$W/min"
cp "$W/fleet/main.tf" "$W/min/main.tf"
CPUTIME=""
[ -x /usr/bin/time ] && CPUTIME=/usr/bin/time
# plan_timed TIMES OUT DIR [VAR=value...]: terraform plan in DIR; appends
# "wall cpu" to TIMES, cpu being the user+sys seconds of Terraform and of
# the provider processes it starts and waits for (GNU time; - without it).
plan_timed() {
	local times=$1 out=$2 dir=$3 t0 t1 cpu=-
	shift 3
	t0=$(now)
	(cd "$dir" && env "$@" ${CPUTIME:+$CPUTIME -f "%U %S" -o "$out.cpu"} "$TERRAFORM" plan -input=false -no-color -out=p >"$out" 2>&1) ||
		{ echo "bench: terraform plan in $dir failed:"; tail -20 "$out"; exit 1; }
	t1=$(now)
	[ -z "$CPUTIME" ] || cpu=$(awk '{print $1 + $2}' "$out.cpu")
	echo "$(bt sub "$t1" "$t0") $cpu" >>"$times"
}
# One untimed plan of the fleet (a warm-up of both sides): the floor
# answers with its planned values.
plan_timed "$W/warmup.times" "$W/fleet.out" "$W/fleet" APPLIANCE_BUNDLE_CACHE_DIR="$W/cache-fleet-0"
(cd "$W/fleet" && "$TERRAFORM" show -json p >"$W/fleet-plan.json")
: >"$W/plan.times"; : >"$W/base.times"; : >"$W/floor.times"; : >"$W/min.times"
for i in $(seq "$RUNS"); do
	plan_timed "$W/base.times" "$W/base.out" "$W/base"
	before=$(api "$URL/v1/stats")
	plan_timed "$W/plan.times" "$W/fleet.out" "$W/fleet" APPLIANCE_BUNDLE_CACHE_DIR="$W/cache-fleet-$i"
	after=$(api "$URL/v1/stats")
	plan_timed "$W/floor.times" "$W/floor.out" "$W/floor" TF_CLI_CONFIG_FILE="$W/floorrc" FLOOR_PLAN_JSON="$W/fleet-plan.json"
	plan_timed "$W/min.times" "$W/min.out" "$W/min" TF_CLI_CONFIG_FILE="$W/minrc"
done
stop_sim
grep -q '200 to add' "$W/fleet.out" || { echo "bench: the fleet plan did not plan 200 resources:"; tail "$W/fleet.out"; exit 1; }
grep -q '200 to add' "$W/min.out" || { echo "bench: the minimal provider did not plan 200 resources:"; tail "$W/min.out"; exit 1; }
# The floor must show the very plan the provider showed. Only Terraform's
# warning about the overrides differs: their paths, and their order, which
# is a map's (so the override lines are left out of the comparison).
without_overrides() { grep -v "^ - .*applianceops/appliance in $W/" "$1"; }
without_overrides "$W/floor.out" | cmp -s - <(without_overrides "$W/fleet.out") ||
	{ echo "bench: the floor provider's plan differs from the provider's:"; without_overrides "$W/floor.out" | diff - <(without_overrides "$W/fleet.out") | head -20; exit 1; }
# The most GETs of any one cluster in the last plan, and the requests made.
GETS=$(bt stats "$before" "$after")
col() { cut -d' ' -f"$1" "$2" | median; }
PLAN=$(col 1 "$W/plan.times"); BASE=$(col 1 "$W/base.times"); FLOORT=$(col 1 "$W/floor.times"); MINT=$(col 1 "$W/min.times")
PLAN_CPU=$(col 2 "$W/plan.times"); BASE_CPU=$(col 2 "$W/base.times"); FLOOR_CPU=$(col 2 "$W/floor.times"); MIN_CPU=$(col 2 "$W/min.times")
fi

# ----------------------------------------------------- makespans, planner
if only go; then
	go test -run '^$' -bench 'Makespan' -benchtime 1x ./internal/appliance/rollout/executor/ >"$W/makespan.out" 2>&1 || { cat "$W/makespan.out"; exit 1; }
	go test -run '^$' -bench 'Compute(10000|100000)$' -benchtime 5x -benchmem ./internal/appliance/rollout/ >"$W/planner.out" 2>&1 || { cat "$W/planner.out"; exit 1; }
fi

# ------------------------------------------------------------------ table
{
	echo "Measured by \`make bench\` on $(nproc) cores ($(date -u +%Y-%m-%d), load average $(cut -d' ' -f1 /proc/loadavg)); every ratio is against a baseline of the same run."
	echo
	echo "| what | measured | baseline (same run) | ratio | target |"
	echo "| --- | --- | --- | --- | --- |"
	awk -v b="$BYTES" -v c="$CURL" -v u="$UPLOAD" -v a="$APPLY" -v g="$(awk -v s="$SIZE" 'BEGIN {print s/1073741824}')" 'BEGIN {
		printf "| upload of a %.2f GiB bundle (the provider'\''s upload alone) | %.2f s, %.0f MB/s | curl: %.2f s, %.0f MB/s | %.2fx curl'\''s throughput | >= 0.9x |\n", g, u, b/u/1e6, c, b/c/1e6, c/u
		printf "| whole `terraform apply` of that image (plan-time verification included) | %.2f s | curl: %.2f s | %.2fx curl'\''s time | <= 1.4x |\n", a, c, a/c }'
	awk -v c="$CURL" -v u="$UPLOAD" -v a="$APPLY" -v v="$VERIFY" 'BEGIN {
		printf "| where that apply'\''s time went (medians) | plan-time verification %.2f s, upload %.2f s, the rest %.2f s (Terraform, four provider starts, the re-plan, the state) | one verifying read plus curl'\''s upload: %.2f s (itself %.2fx curl'\''s time) | %.2fx that floor | |\n", v, u, a-v-u, v+c, (v+c)/c, a/(v+c) }'
	if [ -n "$WIRE_CURL" ]; then
		awk -v b="$BYTES" -v c="$WIRE_CURL" -v u="$WIRE_UPLOAD" -v a="$WIRE_APPLY" -v v="$WIRE_VERIFY" -v r="$WIRE_RATE" 'BEGIN {
			printf "| the same over a %s wire (veth pair, token bucket): the upload alone | %.2f s, %.0f MB/s | curl: %.2f s, %.0f MB/s | %.2fx curl'\''s throughput | >= 0.9x |\n", r, u, b/u/1e6, c, b/c/1e6, c/u
			printf "| the same over a %s wire: whole `terraform apply` | %.2f s (verification %.2f s, upload %.2f s, the rest %.2f s) | curl: %.2f s | %.2fx curl'\''s time | <= 1.4x |\n", r, a, v, u, a-v-u, c, a/c }'
	elif [ -n "$WIRE_SKIPPED" ]; then
		echo "| the same over a wire | not measured: $WIRE_SKIPPED | | | |"
	fi
	echo "| reads of the bundle per \`terraform apply\` (provider log: one line per pass) | $READS | | | 2 |"
	echo "| provider peak RSS during that apply (VmHWM from /proc) | $((RSS / 1024)) MiB | | | <= 64 MiB |"
	# CPU-seconds: what Terraform and the provider processes used, the
	# figure that holds on a shared machine (- without GNU time).
	awk -v p="$PLAN" -v t="$BASE" -v f="$FLOORT" -v pc="$PLAN_CPU" -v tc="$BASE_CPU" -v fc="$FLOOR_CPU" 'BEGIN {
		cpu = (pc != "-" && tc != "-" && fc != "-")
		printf "| `terraform plan` of 100 clusters (100 images + 100 active versions) | %.2f s", p; if (cpu) printf " (%.2f CPU-s)", pc
		printf " | 200 `terraform_data`: %.2f s", t; if (cpu) printf " (%.2f CPU-s)", tc
		printf " | %.2fx", p/t; if (cpu) printf " (CPU %.2fx)", pc/tc; printf " | <= 2x |\n"
		printf "| the floor: that plan served by a framework provider with the same schema that only returns the same planned values (bench/floorprovider) | %.2f s", f; if (cpu) printf " (%.2f CPU-s)", fc
		printf " | 200 `terraform_data`: %.2f s", t; if (cpu) printf " (%.2f CPU-s)", tc
		printf " | %.2fx", f/t; if (cpu) printf " (CPU %.2fx)", fc/tc
		printf "; the provider is %.2fx the floor", p/f; if (cpu) printf " (CPU %.2fx)", pc/fc; printf " | |\n" }'
	awk -v m="$MINT" -v t="$BASE" -v mc="$MIN_CPU" -v tc="$BASE_CPU" 'BEGIN {
		cpu = (mc != "-" && tc != "-")
		printf "| the floor of any plugin provider: the same configuration planned by a framework provider whose resources have only the attributes it sets and plan nothing else (bench/minimalprovider) | %.2f s", m; if (cpu) printf " (%.2f CPU-s)", mc
		printf " | 200 `terraform_data`: %.2f s", t; if (cpu) printf " (%.2f CPU-s)", tc
		printf " | %.2fx", m/t; if (cpu) printf " (CPU %.2fx)", mc/tc; printf " | |\n" }'
	echo "| GETs of one cluster in that plan (most of any cluster; simulator's count) | ${GETS% *} (${GETS#* } requests in all) | | | <= 1 per provider process |"
	awk '/^BenchmarkMakespan/ {
		name=$1; sub(/^BenchmarkMakespan\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i <= NF; i++) { if ($(i) == "sim-s") s=$(i-1); if ($(i) == "bound-s") lb=$(i-1); if ($(i) == "serial-s") se=$(i-1); if ($(i) == "time-scale") sc=$(i-1) }
		tgt = (name ~ /^16-node/) ? "<= 1.02x" : ""
		printf "| makespan %s (simulated s, time scale %g) | %.1f s | bound %.0f s, serial %.0f s | %.3fx bound, %.1fx faster than serial | %s |\n", name, sc, s, lb, se, s/lb, se/s, tgt }' "$W/makespan.out"
	awk '/^BenchmarkCompute/ {
		name=$1; sub(/^BenchmarkCompute/, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i <= NF; i++) { if ($(i) == "ns/op") w=$(i-1); if ($(i) == "cpu-ms/op") c=$(i-1); if ($(i) == "B/op") m=$(i-1) }
		tgt = (name == "100000") ? "< 200 ms" : ""
		printf "| planner, %s nodes | %.1f ms per plan (%.1f ms CPU), %.0f MB | | | %s |\n", name, w/1e6, c, m/1e6, tgt }' "$W/planner.out"
} >"$W/table.md"

echo
cat "$W/table.md"
[ -z "${BENCH_ONLY:-}" ] || exit 0 # a partial table is not kept
cp "$W/table.md" bench/RESULTS.md
# The README's performance section shows the latest table.
if grep -q '<!-- bench:begin -->' README.md; then
	awk -v f=bench/RESULTS.md '
		/<!-- bench:begin -->/ { print; while ((getline l < f) > 0) print l; skip=1; next }
		/<!-- bench:end -->/ { skip=0 }
		!skip' README.md >"$W/README.md" && cp "$W/README.md" README.md
fi
