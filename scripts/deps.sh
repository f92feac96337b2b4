#!/usr/bin/env bash
# Installs the Debian packages the project needs, only when something is
# missing (apt-get update first, as a fresh machine has no package lists).
set -eu
# nginx (in Debian 12 nginx-light is a transitional package for it) and
# libnginx-mod-http-js: the scale-out front door and its tests
# (docs/DEPLOY.md; njs merges /cameras and decodes percent-encoded camera
# ids, which nginx's own modules cannot); systemd: systemd-analyze, which
# checks the units offline (tests/it/test_install.py).
# Not here: libnginx-mod-nchan, the peer of `make bench-follow`, which
# scripts/bench_follow.sh installs when it is missing (a benchmark peer, not
# a dependency; CI runs this script).
pkgs="build-essential cmake pkg-config ragel libh2o-evloop-dev libcurl4-openssl-dev
      libcjson-dev libssl-dev clang clang-format libclang-rt-14-dev python3 curl openssl git
      chromium chromium-driver python3-selenium nginx-light iproute2
      nginx libnginx-mod-http-js systemd"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
