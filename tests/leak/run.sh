#!/bin/sh
# tests/leak: valgrind runs errors.lua (every binding's error paths plus some
# normal work) and the catalogue of bad calls (tests/lua/test_badcalls.lua:
# every public function of the C-bound modules) through the hebb executable;
# any definite leak or memory error fails the suite.
HEBB=${HEBB:-build/hebb}
if [ "${SANITIZE:-}" = 1 ]; then
  # valgrind cannot run an ASan binary (both want to own the heap); the
  # sanitizer itself checks leaks and memory errors in every suite
  echo "SKIP leak/errors_under_valgrind: valgrind cannot run the ASan build (make sanitize checks leaks itself)"
  exit 0
fi
if ! command -v valgrind >/dev/null; then
  echo "FAIL leak/valgrind: valgrind not installed (apt-get install valgrind)"; exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# one thread: valgrind serializes threads anyway, and OpenMP's pool only
# adds "possibly lost" thread stacks
if HEBB_THREADS=1 valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
     --error-exitcode=3 "$HEBB" tests/leak/errors.lua > "$log" 2>&1; then
  echo "PASS leak/errors_under_valgrind ($(grep 'errors raised' "$log"))"
else
  echo "FAIL leak/errors_under_valgrind:"; sed 's/^/    /' "$log" | head -40
  exit 1
fi
# ~10 s under valgrind; its checks print PASS/FAIL lines of their own, which
# are not repeated here (make test counts them in lua/test_badcalls)
if LUA_PATH="tests/lua/lib/?.lua;;" HEBB_THREADS=1 valgrind --quiet \
     --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no \
     --error-exitcode=3 "$HEBB" tests/lua/test_badcalls.lua > "$log" 2>&1; then
  echo "PASS leak/badcalls_under_valgrind ($(grep -c '^PASS' "$log") checks)"
else
  echo "FAIL leak/badcalls_under_valgrind:"; grep -v '^PASS' "$log" | sed 's/^/    /' | head -40
  exit 1
fi
