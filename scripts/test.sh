#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, checks that
# gen/ is what spec/ makes and that the C is formatted, builds, and runs
# every test: the ordinary build, the same suite under ASan+UBSan, the ARM
# builds under qemu (make cross), the Debian packages of this machine's
# architecture (installed here: root), and each fuzz harness for a short
# budget.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh

echo "== gen/ up to date"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r gen "$tmp/gen.before"
make -s gen
if ! diff -r "$tmp/gen.before" gen >/dev/null; then
    diff -r "$tmp/gen.before" gen | head -20
    echo "gen/ is stale: run 'make gen' and commit the result" >&2
    exit 1
fi

echo "== format (clang-format, .clang-format; gen/ exempt)"
# git's '*' spans folders, so 'api/*.[ch]' takes api/campath/ and api/relay/
# too; ls's does not, so the fallback names them.
srcs=$(git ls-files 'api/*.[ch]' 'camera/*.[ch]' 'runtime/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' \
    'bench/*.[ch]' 2>/dev/null ||
    ls api/*.[ch] api/*/*.[ch] camera/*.[ch] runtime/*.[ch] tests/*.[ch] fuzz/*.[ch] bench/*.[ch])
clang-format --dry-run -Werror $srcs

echo "== build + ctest"
bash scripts/build.sh build
(cd build && ctest --output-on-failure -j2)

echo "== build + ctest under ASan+UBSan"
bash scripts/build.sh build-asan -DSANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2)

echo "== make cross: arm64 and armhf, unit tests under qemu, the arm64 camera end to end"
bash scripts/cross.sh

echo "== the native Debian packages, installed, upgraded and purged here (ARM: make deb)"
bash scripts/deb-test.sh

if command -v clang >/dev/null; then
    echo "== fuzz (short budget)"
    FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh
fi
echo "all tests passed"
