#!/usr/bin/env bash
# fuzz.sh [TARGET...]: builds the libFuzzer harnesses (CC=clang, -DFUZZ=ON)
# into build-fuzz and runs each for FUZZ_SECONDS (default 30) on its corpus,
# one at a time. New inputs go to build-fuzz/corpus/<t> (the scratch dir,
# listed first so libFuzzer writes there, never into fuzz/corpus); crashes
# to build-fuzz/artifacts/. Exits non-zero when any harness finds a crash.
# `make fuzz FUZZ_SECONDS=600` for a longer run. Targets default to every
# fuzz/fuzz_<t>.c; extra libFuzzer flags: FUZZ_FLAGS.
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-30}
out=build-fuzz

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in fuzz/fuzz_*.c; do
        t=$(basename "$src" .c)
        targets+=("${t#fuzz_}")
    done
fi

CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUZZ=ON >/dev/null
cmake --build "$out" -j2 --target "${targets[@]/#/fuzz_}" >/dev/null
mkdir -p "$out/artifacts"

failed=()
for t in "${targets[@]}"; do
    scratch=$out/corpus/$t
    mkdir -p "$scratch"
    flags=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$out/artifacts/${t}-")
    [ -f "fuzz/$t.dict" ] && flags+=(-dict="fuzz/$t.dict")
    echo "== fuzz_$t (${secs}s)"
    # libFuzzer's own output is long: keep it in a log, show the summary.
    log=$out/fuzz_$t.log
    if "$out/bin/fuzz_$t" "${flags[@]}" ${FUZZ_FLAGS:-} "$scratch" "fuzz/corpus/fuzz_$t" \
        >"$log" 2>&1; then
        grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1 || true
        grep -E 'stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$log" |
            tr '\n' ' '
        echo
    else
        tail -40 "$log"
        echo "fuzz_$t FAILED: see $log and $out/artifacts/" >&2
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
