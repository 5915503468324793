#!/bin/sh
# run.sh -- every test suite of hebb; the single entry point of `make test`.
# Suites print "PASS name" / "FAIL name: why" lines; this script counts them
# over all suites and ends with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
HEBB=${HEBB:-$PWD/build/hebb}
export HEBB
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
  f=$(grep -c '^FAIL ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exited with status $rc" >> "$log"; f=1
  fi
  [ "$f" -ne 0 ] && status=1
  printf '%-28s %4d passed, %d failed  (%ds)\n' "$name" "$p" "$f" $(($(date +%s) - start))
  grep -A5 '^FAIL ' "$log" | sed 's/^/    /'
  cat "$log" >> "$OUT/all.log"
}

# C unit tests of the core (no Lua involved)
for src in tests/core/test_*.c; do
  [ -f "$src" ] || continue
  t=$(basename "$src" .c)
  if cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -fopenmp -Iinclude -Inatives/core \
       "$src" build/libhebb.a -ldl -lm -o "$OUT/$t" 2> "$OUT/$t.cc"; then
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
echo "$p passed, $f failed"
exit $status
