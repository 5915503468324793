#!/bin/sh
# tests/module/run.sh -- build/hebb.so as a module of the stock lua5.4
# interpreter: `require "hebb"` and `require "hebb.tensor"` in either order
# (each case a fresh process), tensor math, docstrings, and a clean exit
# after OpenMP threads have run.
# Prints "PASS name" or "FAIL name: why"; exits 1 if any failed.
cd "$(dirname "$0")/../.." || exit 2
LUA=${LUA:-lua5.4}
here=tests/module
build=${HEBB_BUILD:-build}
# under make sanitize, the ASan runtime must come first in lua5.4
LD_PRELOAD=${HEBB_PRELOAD:-}
export LD_PRELOAD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL module/$1: $2"; failed=1; }

if ! command -v "$LUA" >/dev/null; then
  fail lua "$LUA not found (apt-get install lua5.4)"
  exit 1
fi
if [ ! -f "$build/hebb.so" ]; then
  fail build "$build/hebb.so is missing (run make)"
  exit 1
fi

# case NAME FIRST SECOND: requires FIRST then SECOND, then runs the checks;
# the script prints its own PASS/FAIL lines, this function the exit status.
# LUA_PATH holds only the test harness: no module comes from a Lua file.
case_run() {
  name=$1
  LUA_PATH="tests/lua/lib/?.lua" "$LUA" -e "package.cpath = '$build/?.so;' .. package.cpath" \
    "$here/check.lua" "$2" "$3" "$name" > "$tmp/$name.out" 2> "$tmp/$name.err"
  rc=$?
  cat "$tmp/$name.out"
  [ $rc -ne 0 ] && fail "$name" "exited with an error: $(head -3 "$tmp/$name.err")"
  grep -q '^FAIL' "$tmp/$name.out" && failed=1
  [ -s "$tmp/$name.err" ] && fail "$name-stderr" "$(head -3 "$tmp/$name.err")"
}

case_run umbrella_first hebb hebb.tensor
case_run tensor_first hebb.tensor hebb
case_run tensor_only hebb.tensor -
case_run umbrella_only hebb -

# two interpreters in one process keep their own grad mode and tracked
# tensors (tests/module/states.c, linked against hebb.so and liblua5.4)
LUA_INC=${LUA_INC:-/usr/include/lua5.4}
# shellcheck disable=SC2086  # HEBB_CFLAGS holds several flags
# (the compiler runs without the preloaded ASan runtime: LeakSanitizer
# would report gcc's own allocations)
if LD_PRELOAD= ${HEBB_CC:-cc} ${HEBB_CFLAGS:-} -I"$LUA_INC" "$here/states.c" "$build/hebb.so" \
     -llua5.4 -lm -o "$tmp/states" 2> "$tmp/states.cc"; then
  "$tmp/states" || failed=1
else
  fail states "does not compile: $(head -5 "$tmp/states.cc")"
fi

# hebb.tensor comes from $build/hebb.so through Lua's all-in-one loader
# (the root name "hebb" finds the file, luaopen_hebb_tensor opens it)
out=$(LUA_PATH="" "$LUA" -e 'package.cpath = "'"$build"'/?.so;" .. package.cpath
  io.write(package.searchpath("hebb", package.cpath) or "none", " ",
           package.searchpath("hebb.tensor", package.cpath) or "none")' 2>&1)
case $out in
  "$build/hebb.so none") echo "PASS module/searchpath" ;;
  *) fail searchpath "$out" ;;
esac
exit $failed
