# Cross build for Debian armhf (arm-linux-gnueabihf): Debian's arm-linux-gnueabihf-gcc, the
# target's libraries from dpkg multiarch (libcurl4-openssl-dev:armhf ...,
# scripts/deps-cross.sh), and qemu-arm (qemu-user) to run what is built, so
# that ctest runs the unit tests here (docs/ARM.md).
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake -DCAMERA_ONLY=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
camlogs_cross(arm-linux-gnueabihf qemu-arm)
