# Cross build for Debian arm64 (aarch64-linux-gnu): Debian's aarch64-linux-gnu-gcc, the
# target's libraries from dpkg multiarch (libcurl4-openssl-dev:arm64 ...,
# scripts/deps-cross.sh), and qemu-aarch64 (qemu-user) to run what is built, so
# that ctest runs the unit tests here (docs/ARM.md).
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake -DCAMERA_ONLY=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
camlogs_cross(aarch64-linux-gnu qemu-aarch64)
