#!/bin/sh
# tests/ffi/run.sh -- the public header against the library: the FFI block
# of include/hebb.h goes verbatim to LuaJIT's ffi.cdef and drives
# build/libhebb.so (ffi_check.lua, compared with the same computation run
# by the Lua 5.4 bindings in reference.lua); libhebb.so exports exactly the
# block's functions; the header compiles as C++.
# Prints "PASS name" or "FAIL name: why"; exits 1 if any failed.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
LIB=${HEBB_BUILD:-build}/libhebb.so
here=tests/ffi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS ffi/$1"; }
fail() { echo "FAIL ffi/$1: $2"; failed=1; }

# the block between the marker lines, without them (the markers alone on
# their lines: the header's opening comment mentions them too)
sed -n '\|^/\* FFI-BEGIN \*/$|,\|^/\* FFI-END \*/$|p' include/hebb.h |
  sed '1d;$d' > "$tmp/cdef.h"
if [ -s "$tmp/cdef.h" ]; then pass extract; else fail extract "no FFI block"; fi

# exported functions == functions declared in the block, and LAPACK's
# silent error handler (natives/core/blas.c says why)
{ tr -s ' \n' ' ' < "$tmp/cdef.h" | grep -o '[a-z_0-9]*hebb_[a-z_0-9]*(' |
  tr -d '('; echo xerbla_; } | sort -u > "$tmp/declared"
nm -D --defined-only "$LIB" | awk '{print $3}' | sort -u > "$tmp/exported"
missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
extra=$(comm -13 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
if [ -z "$missing" ]; then pass exports_all; else fail exports_all "not exported: $missing"; fi
if [ -z "$extra" ]; then pass exports_nothing_else; else fail exports_nothing_else "also exported: $extra"; fi

# the header is valid C++ (extern "C" outside the block) and strict C
if echo '#include "hebb.h"' | g++ -fsyntax-only -Wall -Wextra -pedantic -x c++ -Iinclude - 2> "$tmp/cxx"; then
  pass header_cxx
else
  fail header_cxx "$(head -3 "$tmp/cxx")"
fi
if echo '#include "hebb.h"' | cc -std=c99 -fsyntax-only -Wall -Wextra -pedantic -x c -Iinclude - 2> "$tmp/c99"; then
  pass header_c99
else
  fail header_c99 "$(head -3 "$tmp/c99")"
fi

# LAPACK's error handler is hebb's silent one, also for a library build
# opened with RTLD_LOCAL (natives/core/blas.c)
# (OpenBLAS found by its soname among the loaded libraries: the Makefile's
# BLAS_SO, whatever its directory)
blas=libopenblas.so.0
# (with the suites' flags: under make sanitize the library is the ASan
# build, which a program without the ASan runtime cannot dlopen)
if ${HEBB_CC:-cc} ${HEBB_CFLAGS:--std=c11 -D_GNU_SOURCE} -Iinclude "$here/xerbla.c" -ldl \
     -o "$tmp/xerbla" 2> "$tmp/xerbla.cc" &&
   out=$("$tmp/xerbla" "$PWD/$LIB" "$blas") && [ "$out" = "0 -1" ]; then
  pass xerbla_silent
else
  fail xerbla_silent "got '${out:-}' (bytes printed, info) $(head -3 "$tmp/xerbla.cc")"
fi
nm -D "${HEBB_BUILD:-build}/hebb" | grep -q ' T xerbla_$' && pass xerbla_exported ||
  fail xerbla_exported "${HEBB_BUILD:-build}/hebb does not export xerbla_"

# the numbers of the Lua 5.4 bindings, then LuaJIT's
if "$HEBB" "$here/reference.lua" > "$tmp/ref" 2> "$tmp/ref.err"; then
  pass reference
else
  fail reference "$(head -3 "$tmp/ref.err")"
fi
if command -v luajit > /dev/null; then
  # under make sanitize, LD_PRELOAD puts the ASan runtime first
  LD_PRELOAD=${HEBB_PRELOAD:-} LUA_PATH="tests/lua/lib/?.lua;;" \
    luajit "$here/ffi_check.lua" "$tmp/cdef.h" "$LIB" "$tmp/ref" || failed=1
else
  fail luajit "luajit not found (apt-get install luajit)"
fi
exit $failed
