#!/usr/bin/env bash
# deb-test.sh: the packages of this machine's architecture (the ARM
# camera packages are `make deb`'s, and scripts/cross.sh tests the ARM
# builds), then the same again with a higher version (DEB_REBUILD:
# packaging only), then the install test on this machine (root: it
# installs, upgrades and purges camlogs-api and camlogs-camera;
# tests/deb/test_deb_install.py).
set -eu
cd "$(dirname "$0")/.."
rm -f build-deb/*.deb
bash scripts/deb.sh "$(dpkg --print-architecture)"
version=$(sed -n 's/^project(camlogs VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
DEB_VERSION="$version+rebuild1" DEB_REBUILD=1 bash scripts/deb.sh "$(dpkg --print-architecture)"
python3 tests/deb/test_deb_install.py --bin build-deb
