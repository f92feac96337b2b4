#!/usr/bin/env bash
# Installs what `make cross` and `make deb` need, only when something is
# missing: the arm64 and armhf cross compilers, the targets' -dev packages
# through dpkg multiarch, qemu-user to run the ARM programs here, and the
# Debian packaging tools (debhelper, lintian). apt is taken under a lock
# (/tmp/apt.lock) so that two scripts never run apt-get at once.
#
# Multiarch needs a library to have the same version on every architecture
# (Multi-Arch: same). When the mirror's indexes for arm64/armhf lag behind
# amd64's (a security update not yet there, or an index that failed to
# download), the libraries in the closure are pinned, on every architecture,
# to the highest version all three have: at worst that moves an amd64
# library to another point release of the same Debian release.
set -eu
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
arches="arm64 armhf"
devs="libc6-dev libcurl4-openssl-dev libcjson-dev libssl-dev"
pkgs="gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user
      dpkg-dev debhelper fakeroot lintian man-db"
for a in $arches; do
    for d in $devs; do pkgs="$pkgs $d:$a"; done
done
added=""
for a in $arches; do
    dpkg --print-foreign-architectures | grep -qx "$a" || added="$added $a"
done
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -n "$missing$added" ] || exit 0
echo "installing:$missing" >&2
for a in $added; do $sudo dpkg --add-architecture "$a"; done
apt() { $sudo flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
# An index that fails to download (a mirror in the middle of a sync) leaves
# the old one or none: the install below then says what it cannot find.
apt update -qq || echo "apt-get update failed (above); trying the install anyway" >&2

# The closure of the -dev packages (arm64's stands for both), then one
# `apt-cache madison` for all of it: "PKG ARCH VERSION" lines.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $(for d in $devs; do echo "$d:arm64"; done) 2>/dev/null |
    grep -v '^[ <]' | sed 's/:arm64$//' | sort -u)
table=$(apt-cache madison $(for p in $closure; do for a in amd64 $arches; do echo "$p:$a"; done
    done) 2>/dev/null | awk -F' *[|] *' '{sub(/^ +/, "", $1); sub(/:.*/, "", $1);
        n = split($3, w, " "); print $1, w[n - 1], $2}')
# Only Multi-Arch: same packages must agree (a foreign one, libc-dev-bin,
# exists for one architecture).
same=$(apt-cache show $(for p in $closure; do echo "$p:arm64"; done) 2>/dev/null |
    awk '/^Package:/ {p = $2} /^Multi-Arch: same/ {print p}' | sort -u)
pins=""
for p in $same; do
    [ "$(echo "$table" | awk -v p="$p" '$1 == p {print $2}' | sort -u | wc -l)" -gt 1 ] || continue
    # The highest version every architecture has.
    v=$(echo "$table" | awk -v p="$p" -v n=$(($(echo $arches | wc -w) + 1)) \
        '$1 == p && !seen[$2 " " $3]++ {c[$3]++} END {for (x in c) if (c[x] == n) print x}' |
        sort -V | tail -1)
    have=$(dpkg-query -W -f='${Version}' "$p:amd64" 2>/dev/null || true)
    [ -n "$v" ] && { [ -n "$have" ] || [[ " $devs " == *" $p "* ]]; } || continue
    for a in amd64 $arches; do pins="$pins $p:$a=$v"; done
done
[ -z "$pins" ] || echo "the same version on every architecture:$pins" >&2
apt install -y -qq --no-install-recommends --allow-downgrades $missing $pins >/dev/null
