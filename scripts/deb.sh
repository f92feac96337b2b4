#!/usr/bin/env bash
# deb.sh [ARCH...]: the Debian packages (docs/PACKAGES.md) into build-deb/:
# camlogs-api and camlogs-camera for amd64 (the build machine), camlogs-camera
# alone for arm64 and armhf (cross, profile pkg.camlogs.camera-only), each by
# dpkg-buildpackage on a copy of the tree (tracked and new files) in
# build-deb/ARCH/camlogs whose debian/changelog carries the CMake project
# version, or DEB_VERSION when set. DEB_REBUILD=1 packages the existing copy
# again without cleaning (only the version changes: the install test's
# upgrade). Then lintian, clean but for the tags justified in
# debian/*.lintian-overrides.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps-cross.sh
arches=${*:-amd64 arm64 armhf}
native=$(dpkg --print-architecture)
version=${DEB_VERSION:-$(sed -n 's/^project(camlogs VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}
[ -n "$version" ] || { echo "deb.sh: no project VERSION in CMakeLists.txt" >&2; exit 1; }
out=build-deb
stamp=$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}")
for arch in $arches; do
    src="$out/$arch/camlogs"
    opts="-b -us -uc"
    if [ "${DEB_REBUILD:-0}" = 1 ] && [ -d "$src" ]; then
        opts="$opts -nc"
        rm -f "$out/$arch"/*.changes "$out/$arch"/*.buildinfo
    else
        rm -rf "$out/$arch"
        mkdir -p "$src"
        git ls-files -co --exclude-standard -z | xargs -0 tar cf - | tar xf - -C "$src"
    fi
    printf '%s\n' "camlogs ($version) unstable; urgency=medium" "" \
        "  * camlogs $version: see /usr/share/doc/camlogs-*/README.md." "" \
        " -- camlogs developers <camlogs@example.org>  $stamp" > "$src/debian/changelog"
    [ "$arch" = "$native" ] || opts="$opts -a$arch -Pcross,nocheck,pkg.camlogs.camera-only"
    echo "== dpkg-buildpackage $opts ($version)"
    (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage $opts \
        >../build.log 2>&1) || { tail -40 "$out/$arch/build.log"; exit 1; }
done
# One lintian run for all of them: its start-up is most of its time.
echo "== lintian"
changes=$(for arch in $arches; do echo "$out/$arch"/*.changes; done)
rc=0
lintian --fail-on error,warning --display-info $changes >"$out/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges' "$out/lintian.log" || true
[ "$rc" = 0 ] || { echo "deb.sh: lintian: errors or warnings (above)" >&2; exit 1; }
for arch in $arches; do mv "$out/$arch"/*.deb "$out/"; done
ls -l "$out"/*.deb
