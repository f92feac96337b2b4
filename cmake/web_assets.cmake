# Turns web/ into C: cmake -DWEB_DIR=web -DOUT=build/web_assets.c -P this.
#
# Every asset becomes a byte array with its path, Content-Type and a strong
# ETag (a SHA-256 of the bytes served), so build/bin/api alone serves the
# page (docs/WEB.md). The assets live under /ui/<version>/, where <version>
# hashes all of them: index.html names them through the @UI@ placeholder,
# so a new build gets new asset URLs and they can be cached for good.
# Pure CMake (file(READ ... HEX)), no xxd.
cmake_minimum_required(VERSION 3.18)

file(GLOB names RELATIVE ${WEB_DIR} ${WEB_DIR}/*.js ${WEB_DIR}/*.css ${WEB_DIR}/*.svg)
list(SORT names)
if(NOT EXISTS ${WEB_DIR}/index.html OR NOT names)
    message(FATAL_ERROR "web_assets: ${WEB_DIR} needs index.html and its assets")
endif()

function(content_type name out)
    if(name MATCHES "\\.html$")
        set(t "text/html; charset=utf-8")
    elseif(name MATCHES "\\.js$")
        set(t "text/javascript; charset=utf-8")
    elseif(name MATCHES "\\.css$")
        set(t "text/css; charset=utf-8")
    elseif(name MATCHES "\\.svg$")
        set(t "image/svg+xml")
    else()
        message(FATAL_ERROR "web_assets: no Content-Type for ${name}")
    endif()
    set(${out} "${t}" PARENT_SCOPE)
endfunction()

# The version: one hash over every asset's name and content.
set(all "")
foreach(name ${names})
    file(SHA256 ${WEB_DIR}/${name} h)
    string(APPEND all "${name}:${h};")
endforeach()
string(SHA256 version "${all}")
string(SUBSTRING ${version} 0 16 version)

# index.html with its asset prefix filled in, as a file so it reads as HEX.
file(READ ${WEB_DIR}/index.html index)
string(REPLACE "@UI@" "ui/${version}" index "${index}")
file(WRITE ${OUT}.index.html "${index}")

set(arrays "")
set(table "")
set(i 0)
# emit(file served-path immutable): appends one array and one table row.
macro(emit file path immutable)
    file(READ ${file} hex HEX)
    file(SHA256 ${file} sum)
    string(SUBSTRING ${sum} 0 32 etag)
    string(LENGTH "${hex}" n)
    math(EXPR n "${n} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(REPEAT "0x..," 16 row) # CMake's regex has no {16}
    string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
    content_type("${file}" ctype)
    string(APPEND arrays "/* ${path} */\nstatic const unsigned char a${i}[${n}] = {\n    ${bytes}\n};\n")
    string(APPEND table "    {\"${path}\", \"${ctype}\", \"\\\"${etag}\\\"\", a${i}, ${n}, ${immutable}},\n")
    math(EXPR i "${i} + 1")
endmacro()

emit(${OUT}.index.html "/" false)
foreach(name ${names})
    emit(${WEB_DIR}/${name} "/ui/${version}/${name}" true)
endforeach()

file(WRITE ${OUT}.tmp
"/* Generated from web/ by cmake/web_assets.cmake; do not edit. */
#include \"web.h\"

${arrays}
const web_asset_t web_assets[] = {
${table}};
const size_t web_nassets = sizeof(web_assets) / sizeof(web_assets[0]);
")
# Only touch OUT when it changed, so an unchanged page recompiles nothing.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
