#!/bin/sh
# run.sh -- every test suite of hebb; the single entry point of `make test`.
# Suites print "PASS name" / "FAIL name: why" lines; this script counts them
# over all suites and ends with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
# The C programs the suites compile take $HEBB_CC and $HEBB_CFLAGS, which
# the Makefile sets (TEST_CFLAGS; asked of it when this runs by hand).
HEBB_CC=${HEBB_CC:-cc}
HEBB_CFLAGS=${HEBB_CFLAGS:-$(make -s --no-print-directory test-cflags)}
# SANITIZE=1 (make sanitize): every suite runs against the ASan+UBSan build
# in build-san/, and the C programs get the sanitizers' flags too;
# programs that are not ours (lua5.4, luajit) load the ASan runtime first
# through LD_PRELOAD.  Leak checking stays on; UB reports are fatal.
if [ "${SANITIZE:-}" = 1 ]; then
  HEBB_BUILD=build-san
  HEBB_PRELOAD=$($HEBB_CC -print-file-name=libasan.so)
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  # cached blocks are poisoned and linked through their first word
  # (natives/core/alloc.c): LeakSanitizer must read poisoned words
  LSAN_OPTIONS=${LSAN_OPTIONS:-use_poisoned=1}
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export SANITIZE ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi
HEBB_BUILD=${HEBB_BUILD:-build}
HEBB_PRELOAD=${HEBB_PRELOAD:-}
HEBB=${HEBB:-$PWD/$HEBB_BUILD/hebb}
export HEBB HEBB_BUILD HEBB_CC HEBB_CFLAGS HEBB_PRELOAD
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0

run_suite() {  # name, command...
  name=$1; shift
  log="$OUT/$(echo "$name" | tr / _).log"
  start=$(date +%s)
  "$@" > "$log" 2>&1
  rc=$?
  p=$(grep -c '^PASS ' "$log")
  k=$(grep -c '^SKIP ' "$log")
  f=$(grep -c '^FAIL ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exited with status $rc" >> "$log"; f=1
  fi
  [ "$f" -ne 0 ] && status=1
  printf '%-28s %4d passed, %d failed%s  (%ds)\n' "$name" "$p" "$f" \
    "$([ "$k" -ne 0 ] && echo ", $k skipped")" $(($(date +%s) - start))
  grep -A5 '^FAIL ' "$log" | sed 's/^/    /'
  grep '^SKIP ' "$log" | sed 's/^/    /'
  cat "$log" >> "$OUT/all.log"
}

# C unit tests of the core (no Lua involved)
for src in tests/core/test_*.c; do
  [ -f "$src" ] || continue
  t=$(basename "$src" .c)
  # shellcheck disable=SC2086  # HEBB_CFLAGS holds several flags
  if $HEBB_CC $HEBB_CFLAGS -fopenmp -Iinclude -Inatives/core "$src" "$HEBB_BUILD/libhebb.a" \
       -ldl -lm -o "$OUT/$t" 2> "$OUT/$t.cc"; then
    run_suite "core/$t" "$OUT/$t"
  else
    echo "FAIL core/$t: does not compile" > "$OUT/$t.err"; cat "$OUT/$t.cc" >> "$OUT/$t.err"
    run_suite "core/$t" cat "$OUT/$t.err"
  fi
done

# Lua suites, run by the hebb executable
for t in tests/lua/test_*.lua; do
  [ -f "$t" ] || continue
  run_suite "lua/$(basename "$t" .lua)" env LUA_PATH="tests/lua/lib/?.lua;;" "$HEBB" "$t"
done

# executable, REPL, LuaJIT FFI, stock lua5.4 module
for s in tests/*/run.sh; do
  run_suite "$(basename "$(dirname "$s")")" sh "$s"
done

p=$(grep -c '^PASS ' "$OUT/all.log")
f=$(grep -c '^FAIL ' "$OUT/all.log")
k=$(grep -c '^SKIP ' "$OUT/all.log")
[ "$k" -ne 0 ] && echo "$k skipped (reasons above)"
echo "$p passed, $f failed"
exit $status
