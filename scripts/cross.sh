#!/usr/bin/env bash
# cross.sh [ARCH...]: the camera, the runtime and their unit tests
# cross-built for arm64 and armhf (docs/ARM.md) into build-ARCH/, the unit
# tests run under qemu-user (ctest, through the toolchain file's emulator),
# then the arm64 camera end to end against the native api (build/bin/api,
# built first when missing): tests/cross/test_arm_camera.py.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps-cross.sh
arches=${*:-arm64 armhf}
for arch in $arches; do
    case $arch in
    arm64) triple=aarch64-linux-gnu ;;
    armhf) triple=arm-linux-gnueabihf ;;
    *) echo "cross.sh: no toolchain for $arch (arm64, armhf)" >&2; exit 2 ;;
    esac
    echo "== cross build + unit tests under qemu: $arch"
    bash scripts/build.sh "build-$arch" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$triple.cmake" \
        -DCAMERA_ONLY=ON
    (cd "build-$arch" && ctest --output-on-failure -j"$(nproc)")
done
case " $arches " in
*" arm64 "*)
    echo "== the arm64 camera under qemu against the native api"
    [ -x build/bin/api ] || bash scripts/build.sh build
    CAMLOGS_CROSS_CAMERA="qemu-aarch64 build-arm64/bin/camera" \
        python3 tests/cross/test_arm_camera.py --bin build/bin
    ;;
esac
