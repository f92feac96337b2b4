#!/usr/bin/env bash
# make bench: installs what is missing, builds, runs the runtime benches, then
# the camera-fleet scenarios against one api process, and prints a table.
#   BUILD=build-x     build dir (default build)
#   DURATION=S        seconds of /logs load per scenario (default 10)
#   STORE_DIR=DIR     where bench_store makes its stores (default /tmp)
#   FLEETS="N ..."    camera counts (default: 1000 10000 and the largest one
#                     api process can hold: the open-file hard limit - 100,
#                     at most FLEET_MAX, default 100000)
# Loopback only; every run is bounded in time and stops by itself.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
bash scripts/deps.sh
bash scripts/build.sh "$BUILD"
bin=$BUILD/bin

for b in bench_jsonw bench_eol bench_http1; do
    if [ -x "$bin/$b" ]; then
        echo "== $b"
        "$bin/$b"
    fi
done

# camera --store through the real camera: appends per --fsync policy and
# recovery of 10,000 and 1,000,000 events (STORE_DIR: the filesystem to
# measure, default /tmp).
echo "== bench_store"
"$bin/bench_store" --camera "$bin/camera" --dir "${STORE_DIR:-/tmp}"

# The api needs ~10 fds of its own besides one per camera, 8 operators and
# the bench's /metrics probe: 100 spare is plenty.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
max=$((hard - 100))
[ "$max" -gt "${FLEET_MAX:-100000}" ] && max=${FLEET_MAX:-100000}
per_proc=$((hard - 100 < 10000 ? hard - 100 : 10000))
FLEETS=${FLEETS:-"1000 10000 $max"}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== fleet: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
    "open-file limit $hard"
for n in $FLEETS; do
    # --max-polls: the api's default (10000) would refuse the largest fleet.
    "$bin/bench_fleet" --api "$bin/api" --api-arg --max-polls --api-arg "$n" \
        --cameras "$n" --operators 8 --records 100 --duration "$DURATION" \
        --per-proc "$per_proc" --label "$n" 2>/dev/null | tee -a "$out" || true
done

echo
echo "| cameras | connected | connect s | api RSS MiB before / idle / after load |" \
    "B per idle camera | kernel slab B per camera | api CPU % idle | /logs per s | p50 ms | p90 ms | p99 ms | max ms |" \
    "api CPU us per /logs | replies (status=count; 0 = transport error) |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
    printf "| %s | %s | %s | %.1f / %.1f / %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        v["cameras"], v["connected"], v["connect_s"], v["rss0_kb"] / 1024, v["rss1_kb"] / 1024,
        v["rss2_kb"] / 1024, v["per_cam_b"], v["slab_b"], v["cpu_idle_pct"], v["logs_per_s"], v["p50_ms"],
        v["p90_ms"], v["p99_ms"], v["max_ms"], v["cpu_per_logs_us"], v["codes"]
}' "$out"
