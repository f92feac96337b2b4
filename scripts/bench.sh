#!/usr/bin/env bash
# make bench: installs what is missing, builds, runs the runtime benches, the
# camera-fleet scenarios against one api process, the unauthenticated flood,
# the camera against an endless 500 and the held-TLS-poll probes, and prints
# a table of each.
#   FULL=1            the bigger runs (about 4 minutes instead of 1.5): the
#                     largest fleet too, 40 flood connections, 10,000 TLS polls
#   BUILD=build-x     build dir (default build)
#   DURATION=S        seconds of /logs load per scenario (default 10)
#   STORE_DIR=DIR     where bench_store makes its stores (default /tmp)
#   FLEETS="N ..."    camera counts (default 1000 10000; FULL=1 adds the
#                     largest one api process can hold: the open-file hard
#                     limit - 100, at most FLEET_MAX, default 100000)
#   FLOOD_CONNS=N     connections per flood (default 10; FULL=1: 40)
#   FLOOD_LENGTHS="B ..."  Content-Lengths flooded (default 33000000 16000000);
#                     one endless chunked flood follows
#   TLS_POLLS=N       held TLS polls per ALPN protocol (default 1000; FULL=1:
#                     10000; 0 skips)
#   WEB_RUNS=N        clicks timed by the operator-page probe (default 5; 0
#                     skips; needs Debian's chromium and python3-selenium)
# Loopback only; every run is bounded in time and stops by itself.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
FULL=${FULL:-0}
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

# The api's cache (issue 21): uplink bytes and api CPU per repeated /logs of
# a real camera holding 10,000 events, RSS with 1,000 cameras x 10,000 events
# offered against --cache-bytes, /logs?stale=1 latency (bench/bench_cache.py;
# CACHE_CAMERAS=N for fewer cameras).
echo "== cache"
python3 bench/bench_cache.py --bin "$bin" --cameras "${CACHE_CAMERAS:-1000}" --rounds 100 ||
    true

# The api needs ~10 fds of its own besides one per camera, 8 operators and
# the bench's /metrics probe: 100 spare is plenty.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
max=$((hard - 100))
[ "$max" -gt "${FLEET_MAX:-100000}" ] && max=${FLEET_MAX:-100000}
per_proc=$((hard - 100 < 10000 ? hard - 100 : 10000))
if [ "$FULL" = 1 ]; then
    FLEETS=${FLEETS:-"1000 10000 $max"}
    FLOOD_CONNS=${FLOOD_CONNS:-40}
    TLS_POLLS=${TLS_POLLS:-10000}
fi
FLEETS=${FLEETS:-"1000 10000"}
FLOOD_CONNS=${FLOOD_CONNS:-10}
FLOOD_LENGTHS=${FLOOD_LENGTHS:-"33000000 16000000"}
TLS_POLLS=${TLS_POLLS:-1000}

out=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$out" "$tmp"' EXIT
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
    "api CPU us per /logs | replies (status=count; 0 = transport error) | loadavg at start |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
    printf "| %s | %s | %s | %.1f / %.1f / %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        v["cameras"], v["connected"], v["connect_s"], v["rss0_kb"] / 1024, v["rss1_kb"] / 1024,
        v["rss2_kb"] / 1024, v["per_cam_b"], v["slab_b"], v["cpu_idle_pct"], v["logs_per_s"], v["p50_ms"],
        v["p90_ms"], v["p99_ms"], v["max_ms"], v["cpu_per_logs_us"], v["codes"], v["load0"]
}' "$out"

# Unauthenticated uploads that never finish: what each one pins in the api.
echo
echo "== flood: $FLOOD_CONNS connections without credentials each"
: >"$out"
for len in $FLOOD_LENGTHS; do
    "$bin/bench_flood" --api "$bin/api" --connections "$FLOOD_CONNS" --length "$len" \
        --label "length-$len" 2>/dev/null | tee -a "$out" || true
done
"$bin/bench_flood" --api "$bin/api" --connections "$FLOOD_CONNS" --mode chunked \
    --label chunked 2>/dev/null | tee -a "$out" || true
echo
echo "| body | connections | api RSS MiB before / flooded / peak / after closing |" \
    "KiB held per connection | KiB peak per connection | replies (0 = none) | closed by the api | loadavg |"
echo "|---|---:|---|---:|---:|---|---:|---:|"
awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
    body = v["mode"] == "chunked" ? "chunked, endless" : "Content-Length " v["length"]
    printf "| %s | %s | %.1f / %.1f / %.1f / %.1f | %.1f | %.1f | %s | %s | %s |\n", body,
        v["conns"], v["rss0_kb"] / 1024, v["rss1_kb"] / 1024, v["hwm1_kb"] / 1024,
        v["rss2_kb"] / 1024, v["per_conn_b"] / 1024, v["peak_conn_b"] / 1024, v["codes"],
        v["closed"], v["load0"]
}' "$out"

# The operator page: 500 cameras, a 10,000-event log, headless Chromium.
WEB_RUNS=${WEB_RUNS:-5}
if [ "$WEB_RUNS" -gt 0 ] && [ -x /usr/bin/chromium ] &&
    /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
    echo
    echo "== operator page: 500 cameras, 10,000 events, $WEB_RUNS clicks"
    /usr/bin/python3 bench/web_page.py --bin "$bin" --runs "$WEB_RUNS" || true
fi

# The camera against a server that answers every poll 500 with an endless
# body (issue 20): its CPU over 10 s.
echo
echo "== camera against an endless 500"
python3 bench/camera_endless.py --bin "$bin" --seconds 10

# Held polls over TLS, one ALPN protocol at a time (a self-signed pair).
[ "$TLS_POLLS" -gt 0 ] || exit 0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
echo
echo "== held polls: $TLS_POLLS plain, then over TLS"
: >"$out"
"$bin/bench_hold" --api "$bin/api" --cameras "$TLS_POLLS" --label plain 2>/dev/null |
    tee -a "$out" || true
# h2 needs the api's --http2 (off by default; an old api without the flag
# fails that run alone).
for alpn in http/1.1 h2; do
    extra=""
    [ "$alpn" = h2 ] && extra="--api-arg --http2"
    # shellcheck disable=SC2086
    "$bin/bench_hold" --api "$bin/api" --cameras "$TLS_POLLS" --tls-cert "$tmp/cert.pem" \
        --tls-key "$tmp/key.pem" --alpn "$alpn" --label "$alpn" $extra 2>/dev/null |
        tee -a "$out" || true
done
echo
echo "| connection | polls | held | api RSS MiB before / holding | B per held poll | loadavg |"
echo "|---|---:|---:|---|---:|---:|"
awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
    printf "| %s | %s | %s | %.1f / %.1f | %s | %s |\n", v["mode"], v["polls"], v["held"],
        v["rss0_kb"] / 1024, v["rss1_kb"] / 1024, v["per_poll_b"], v["load0"]
}' "$out"
