# What the toolchain files for Debian multiarch share (docs/ARM.md):
# camlogs_cross(TRIPLE QEMU) makes find_* and pkg-config see only the
# target's libraries (/usr/lib/TRIPLE, /usr/include/TRIPLE and the
# architecture-independent headers in /usr/include) and runs target programs
# through QEMU. The dynamic loader and libraries qemu needs are the
# multiarch ones (libc6:ARCH, pulled in by the -dev packages), where the
# ordinary paths name them: qemu gets no -L.
macro(camlogs_cross triple qemu)
    set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${triple}/pkgconfig:/usr/share/pkgconfig")
    set(ENV{PKG_CONFIG_PATH} "")
    find_program(CAMLOGS_QEMU ${qemu})
    if(CAMLOGS_QEMU)
        set(CMAKE_CROSSCOMPILING_EMULATOR ${CAMLOGS_QEMU})
    endif()
    set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
endmacro()
