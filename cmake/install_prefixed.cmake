# Included by install(CODE) (CMakeLists.txt): installs configured files
# whose paths under the install prefix are written @CAMLOGS_PREFIX@, so
# that they name the prefix of this install (`cmake --install build
# --prefix P`), not only the one the build was configured with.
# camlogs_install_prefixed(DEST TMPDIR FILE...): DEST relative is under
# the prefix; TMPDIR holds the filled-in copies; DESTDIR applies as to
# every install rule (file(INSTALL) adds it).
function(camlogs_install_prefixed dest tmpdir)
    if(NOT IS_ABSOLUTE "${dest}")
        set(dest "${CMAKE_INSTALL_PREFIX}/${dest}")
    endif()
    foreach(f ${ARGN})
        file(READ "${f}" text)
        string(REPLACE "@CAMLOGS_PREFIX@" "${CMAKE_INSTALL_PREFIX}" text "${text}")
        get_filename_component(name "${f}" NAME)
        file(WRITE "${tmpdir}/${name}" "${text}")
        file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${tmpdir}/${name}")
    endforeach()
endfunction()
