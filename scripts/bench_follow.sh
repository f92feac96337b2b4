#!/usr/bin/env bash
# make bench-follow: live followers (SSE) of our api side by side with Nchan
# (issue 22 "Goals", docs/BENCHMARKS.md "Follow: our api and Nchan"), one
# client for both (build/bin/bench_follow), each scenario on a fresh server:
#   idle     IDLE_BASE then IDLE_FOLLOWERS idle followers of one camera /
#            channel: server RSS per follower (the slope), idle CPU
#   fanout   1 camera / channel x FANOUT_FOLLOWERS followers, FANOUT_RATE
#            events/s: latency p50/p99/max, lost/repeated, CPU per delivery
#   cameras  CAMERAS cameras / channels x 1 follower, CAMERA_RATE events/s
#            each: the same
#   light    fanout with LIGHT_FOLLOWERS (default 100): a tenth of the
#            deliveries, for latency on a machine that cannot give the
#            servers and the client a core each at 1,000
# Ours: `api` and real cameras `--source stdin` (bench_follow writes their
# lines); in "cameras", simulated cameras on the bench's loop unless
# CAMERAS_SIM=0. Nchan: nginx 1.22 + libnginx-mod-nchan, one worker, a generated
# configuration in a temp dir, run as an unprivileged foreground process
# (nobody, when started as root); events POSTed to its publisher.
#   BUILD=build-x        build dir (default build)
#   DURATION=S           seconds of publishing per load scenario (default 10)
#   IDLE_FOLLOWERS=N     (default 10000; IDLE_BASE default 100)
#   FANOUT_FOLLOWERS=N FANOUT_RATE=R   (default 1000, 100)
#   CAMERAS=N CAMERA_RATE=R            (default 1000, 10)
#   CAMERAS_SIM=0        real cameras in "cameras" too (default 1: simulated
#                        ones, bench/follow_sim.c: 1,000 real cameras at 10
#                        events/s need more CPU than a 2-core machine has)
#   SCENARIOS="idle fanout cameras light"  TARGETS="nchan ours"
#   API_ARGS="..."       more api flags (e.g. a followers cap)
# libnginx-mod-nchan is a benchmark peer, not a dependency of the project:
# it is installed here (apt-get) when missing, never by scripts/deps.sh.
# Loopback only; every process started here is stopped by the EXIT trap.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
IDLE_FOLLOWERS=${IDLE_FOLLOWERS:-10000}
IDLE_BASE=${IDLE_BASE:-100}
FANOUT_FOLLOWERS=${FANOUT_FOLLOWERS:-1000}
FANOUT_RATE=${FANOUT_RATE:-100}
CAMERAS=${CAMERAS:-1000}
CAMERA_RATE=${CAMERA_RATE:-10}
CAMERAS_SIM=${CAMERAS_SIM:-1}
LIGHT_FOLLOWERS=${LIGHT_FOLLOWERS:-100}
SCENARIOS=${SCENARIOS:-"idle fanout cameras light"}
TARGETS=${TARGETS:-"nchan ours"}
API_ARGS=${API_ARGS:-}
bin=$BUILD/bin
nchan_so=/usr/lib/nginx/modules/ngx_nchan_module.so

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
if [ ! -e "$nchan_so" ]; then
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        nginx libnginx-mod-nchan >/dev/null
fi
[ -x "$bin/bench_follow" ] && [ -x "$bin/api" ] || bash scripts/build.sh "$BUILD"
ulimit -n "$(ulimit -Hn)"
hard=$(ulimit -n)

tmp=$(mktemp -d)
chmod 755 "$tmp"
master=
cleanup() {
    [ -z "$master" ] || kill "$master" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
out=$tmp/results
: >"$out"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# nginx + Nchan on a free port: $master, $worker, $addr.
nchan_start() {
    local dir=$tmp/nchan port
    rm -rf "$dir"
    mkdir -p "$dir"
    port=$(free_port)
    addr=127.0.0.1:$port
    cat >"$dir/nginx.conf" <<EOF
load_module $nchan_so;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $hard;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $((hard - 100)); }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen $addr backlog=4096;
        location = /sub { nchan_subscriber eventsource; nchan_channel_id \$arg_c; }
        location = /pub { nchan_publisher; nchan_channel_id \$arg_c; }
    }
}
EOF
    local run=()
    if [ "$(id -u)" = 0 ]; then
        # Nchan's module checks nginx's compiled-in body path even when the
        # configuration sets its own: the directory Debian's nginx makes at
        # its first start.
        [ -d /var/lib/nginx/body ] || install -d -m 700 -o www-data /var/lib/nginx/body
        chown -R nobody:nogroup "$dir"
        run=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    fi
    "${run[@]}" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" 2>"$tmp/nginx.err" &
    master=$!
    worker=
    for _ in $(seq 200); do
        worker=$(pgrep -P "$master" | head -1 || true)
        [ -n "$worker" ] && curl -s -o /dev/null "http://$addr/pub?c=probe" && return
        sleep 0.05
    done
    echo "bench_follow: nginx + Nchan did not start:" >&2
    cat "$tmp/nginx.err" "$dir/error.log" >&2
    exit 1
}

nchan_stop() {
    kill "$master" 2>/dev/null || true
    wait "$master" 2>/dev/null || true
    master=
}

# run TARGET SCENARIO bench_follow-args...
run() {
    local target=$1 scen=$2 a=()
    shift 2
    echo "== $scen: $target"
    if [ "$target" = nchan ]; then
        nchan_start
        a=(--target nchan --addr "$addr" --pid "$worker" --pub-conns 16)
    else
        # Followers are held requests: give them the descriptors (the
        # api's default shares them with polls, docs/API.md).
        a=(--target ours --api "$bin/api" --camera "$bin/camera" --camera-log "$tmp/cameras.log"
            --api-arg --log-level --api-arg warn
            --api-arg --max-polls --api-arg "$((CAMERAS + 100))"
            --api-arg --max-waiters --api-arg "$((hard - CAMERAS - 1500))")
        for x in $API_ARGS; do a+=(--api-arg "$x"); done
    fi
    "$bin/bench_follow" "${a[@]}" --scenario "$@" --label "$scen" | tee -a "$out" || true
    [ "$target" != nchan ] || nchan_stop
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo ?)
echo "== follow vs Nchan: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, open-file limit $hard," \
    "$(nginx -v 2>&1), nchan $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null)," \
    "commit $commit, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for scen in $SCENARIOS; do
    for target in $TARGETS; do
        case $scen in
        idle) run "$target" idle idle --followers "$IDLE_FOLLOWERS" --base "$IDLE_BASE" ;;
        fanout) run "$target" fanout load --followers "$FANOUT_FOLLOWERS" --channels 1 \
            --rate "$FANOUT_RATE" --duration "$DURATION" ;;
        cameras) run "$target" cameras load --followers "$CAMERAS" --channels "$CAMERAS" \
            --rate "$CAMERA_RATE" --duration "$DURATION" --sim-cameras "$CAMERAS_SIM" ;;
        light) run "$target" light load --followers "$LIGHT_FOLLOWERS" --channels 1 \
            --rate "$FANOUT_RATE" --duration "$DURATION" ;;
        esac
    done
done
echo
python3 bench/follow_table.py "$out"
