#!/usr/bin/env bash
# The camera fleet through the nginx front door (docs/BENCHMARKS.md, "Fleet
# through nginx"): for each number of api processes in APIS, nginx with the
# shipped configuration (deploy/camlogs-nginx-conf, one worker) in front of
# them, then bench_fleet against nginx; and the same fleet against one api
# directly, for comparison. Prints bench_fleet's lines and a table.
#   BUILD=build-x     build dir (default build)
#   APIS="1 2"        api processes behind nginx
#   FLEETS="N ..."    camera counts (default 1000 8000: nginx's one worker
#                     holds two connections per camera within the open-file
#                     hard limit, 20,000 here, and starts closing idle
#                     keep-alive connections when fewer than 1/16 of its
#                     worker_connections are free)
#   DURATION=S        seconds of /logs load per run (default 10)
# Loopback only; every process started here is stopped by the EXIT trap.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
APIS=${APIS:-"1 2"}
FLEETS=${FLEETS:-"1000 8000"}
DURATION=${DURATION:-10}
bin=$BUILD/bin
[ -x "$bin/bench_fleet" ] || bash scripts/build.sh "$BUILD"
command -v nginx >/dev/null || { echo "bench_cluster: nginx is not installed (scripts/deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Each held poll: one descriptor in its api; two in nginx (camera side + api
# side). The api raises its soft limit to the hard one; nginx's master (root)
# raises its worker's to worker_rlimit_nofile.
per_proc=$(( $(ulimit -Hn) - 100 < 10000 ? $(ulimit -Hn) - 100 : 10000 ))
out=$tmp/results
: >"$out"

run_fleet() { # label n server api_pid [extra bench_fleet args...]
    local label=$1 n=$2 server=$3 api_pid=$4
    shift 4
    "$bin/bench_fleet" --server "$server" --api-pid "$api_pid" --cameras "$n" --operators 8 \
        --records 100 --duration "$DURATION" --per-proc "$per_proc" --label "$label" "$@" \
        2>/dev/null | tee -a "$out" || true
}

start_api() { # port node n -> pid in $api_pid
    "$bin/api" --listen "127.0.0.1:$1" --node "$2" --quiet --max-polls "$3" \
        >"$tmp/api-$1.out" 2>"$tmp/api-$1.err" &
    api_pid=$!
    pids="$pids $api_pid"
    for _ in $(seq 100); do grep -q "^listening on" "$tmp/api-$1.out" 2>/dev/null && return; sleep 0.05; done
    echo "bench_cluster: api on $1 did not start" >&2
    exit 1
}

echo "== fleet through nginx: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
    "open-file limit $(ulimit -Hn), $(nginx -v 2>&1)"
for n in $FLEETS; do
    # One api directly, the same fleet: the baseline.
    port=$(free_port)
    start_api "$port" direct "$n"
    run_fleet "direct-1api-$n" "$n" "127.0.0.1:$port" "$api_pid" --watch "api=$api_pid"
    kill "$api_pid"
    wait "$api_pid" 2>/dev/null || true
    for k in $APIS; do
        nodes=$tmp/nodes-$k-$n
        : >"$nodes"
        metrics=() watch=() run_pids=""
        first=
        for i in $(seq "$k"); do
            port=$(free_port)
            start_api "$port" "a$i" "$n"
            first=${first:-$api_pid}
            run_pids="$run_pids $api_pid"
            echo "a$i 127.0.0.1:$port" >>"$nodes"
            metrics+=(--metrics "127.0.0.1:$port")
            watch+=(--watch "api=$api_pid")
        done
        front=$(free_port)
        # worker_rlimit_nofile (worker_connections + 1024) must fit the hard
        # limit unless nginx may raise it (CAP_SYS_RESOURCE).
        hard=$(ulimit -Hn)
        wconn=$((2 * n * 17 / 16 + 1000 < hard - 1124 ? 2 * n * 17 / 16 + 1000 : hard - 1124))
        conf=$tmp/conf-$k-$n
        sh deploy/camlogs-nginx-conf --nodes "$nodes" --out "$conf" --prefix "$tmp/run-$k-$n" \
            --user "$(id -un)" --workers 1 --worker-connections "$wconn" \
            --listen "127.0.0.1:$front" >/dev/null
        nginx -p "$tmp/run-$k-$n" -c "$conf/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.err" &
        master=$!
        pids="$pids $master"
        worker=
        for _ in $(seq 100); do
            worker=$(pgrep -P "$master" | head -1 || true)
            [ -n "$worker" ] && curl -s -o /dev/null "http://127.0.0.1:$front/healthz" && break
            sleep 0.05
        done
        [ -n "$worker" ] || { echo "bench_cluster: nginx did not start" >&2; cat "$tmp/nginx.err" >&2; exit 1; }
        run_fleet "nginx-${k}api-$n" "$n" "127.0.0.1:$front" "$first" "${metrics[@]}" \
            "${watch[@]}" --watch "nginx=$worker"
        kill "$master" $run_pids
        wait "$master" $run_pids 2>/dev/null || true
    done
done

echo
echo "| run | cameras held | api RSS MiB idle (all apis) | api B per idle camera | nginx RSS MiB idle | nginx B per idle camera |" \
    "/logs per s | p50 ms | p99 ms | api CPU us per /logs | nginx CPU us per /logs | replies |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
awk '/^RESULT/ {
    delete v
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
    printf "| %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        v["label"], v["connected"], v["api_rss1_kb"] / 1024, v["api_per_cam_b"],
        ("nginx_rss1_kb" in v) ? sprintf("%.1f", v["nginx_rss1_kb"] / 1024) : "-",
        ("nginx_per_cam_b" in v) ? v["nginx_per_cam_b"] : "-", v["logs_per_s"], v["p50_ms"],
        v["p99_ms"], v["api_cpu_per_logs_us"],
        ("nginx_cpu_per_logs_us" in v) ? v["nginx_cpu_per_logs_us"] : "-", v["codes"]
}' "$out"
