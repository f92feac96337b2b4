#!/usr/bin/env bash
# The run command (README): installs what is missing, builds, starts `api`
# and one `camera` making an event every second, fetches /logs a few times,
# prints the JSON and the address of the operator page, then stops both
# cleanly (from a terminal, it keeps them running until Enter, for the page).
# PORT=8080 picks the port (default: any free one).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build >/dev/null

tmp=$(mktemp -d)
api_pid="" cam_pid=""
cleanup() {
    [ -n "$cam_pid" ] && kill -TERM "$cam_pid" 2>/dev/null && wait "$cam_pid" 2>/dev/null
    [ -n "$api_pid" ] && kill -TERM "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

build/bin/api --listen "127.0.0.1:${PORT:-0}" --quiet >"$tmp/api.out" 2>"$tmp/api.err" &
api_pid=$!
for _ in $(seq 100); do
    grep -q '^listening on' "$tmp/api.out" 2>/dev/null && break
    sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$tmp/api.out")
[ -n "$addr" ] || { echo "api did not start:" >&2; cat "$tmp/api.err" >&2; exit 1; }
echo "api listening on $addr"

build/bin/camera --server "http://$addr" --id demo --interval 1 2>"$tmp/camera.err" &
cam_pid=$!
echo "camera 'demo' started: one event a second"
echo "its events in a browser: http://$addr/?camera=demo"

for i in 1 2 3; do
    sleep 2
    echo
    echo "\$ curl 'http://$addr/logs?camera=demo'"
    curl -sS "http://$addr/logs?camera=demo"
    echo
done
echo
echo "\$ curl 'http://$addr/logs?camera=demo&limit=2'"
curl -sS "http://$addr/logs?camera=demo&limit=2"
echo
echo
if [ -t 0 ] && [ -t 1 ]; then
    echo "the operator page: http://$addr/?camera=demo   (press Enter to stop)"
    read -r _ || true
else
    echo "the operator page was at http://$addr/?camera=demo (run from a terminal to keep it up)"
fi
echo "stopping camera and api"
