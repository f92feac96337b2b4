#!/usr/bin/env bash
# build.sh DIR [cmake args...]: configure and build into DIR.
set -eu
dir=$1
shift
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
