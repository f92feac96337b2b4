# cmake -DIN=page.1.in -DOUT=page.1 -DCMD="prog|--help" -DVERSION=x.y.z
#       -DCONFDIR=/etc/camlogs -DDOCDIR=/usr/share/doc/camlogs -P manpage.cmake
# Writes the manual page OUT: the hand-written IN (NAME, DESCRIPTION,
# FILES, SEE ALSO ...) with @HELP@ replaced by what CMD prints (the
# program's own --help, so that the page never drifts from it), as roff
# no-fill text, @VERSION@ by the version, @CONFDIR@ and @DOCDIR@ by
# CAMLOGS_CONFDIR and the doc directory (the prefix's or the package's).
# CMD is the command's words joined by '|'; a cross build puts the
# emulator (qemu) in front.
string(REPLACE "|" ";" CMD "${CMD}")
execute_process(COMMAND ${CMD} OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR help STREQUAL "")
    message(FATAL_ERROR "manpage: `${CMD}` failed (${rc})")
endif()
string(REPLACE "\\" "\\e" help "${help}")
string(REPLACE "-" "\\-" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(REGEX REPLACE "\n+$" "" help "${help}")
set(HELP ".nf\n${help}\n.fi")
configure_file(${IN} ${OUT} @ONLY)
