#!/bin/sh
# tests/sanitize: the sanitizer build itself (make sanitize).  Deliberate
# use-after-free and overrun cases (misuse.c) must be caught although hebb
# recycles freed memory, a block reused from the cache must run clean, and
# every UndefinedBehaviorSanitizer check in libhebb must be fatal.  Outside
# make sanitize there is nothing to check: the suite says so and skips.
cd "$(dirname "$0")/../.." || exit 2
if [ "${SANITIZE:-}" != 1 ]; then
  echo "SKIP sanitize/poisoning: not a sanitizer build (run make sanitize)"
  exit 0
fi
lib=${HEBB_BUILD:-build-san}/libhebb.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS sanitize/$1"; }
fail() { echo "FAIL sanitize/$1: $2"; failed=1; }

# the flags of the Makefile's TEST_CFLAGS (tests/run.sh passes them)
HEBB_CFLAGS=${HEBB_CFLAGS:-$(make -s --no-print-directory test-cflags)}
# shellcheck disable=SC2086  # HEBB_CFLAGS holds several flags
if ! ${HEBB_CC:-cc} $HEBB_CFLAGS -fopenmp -Iinclude -Inatives/core \
     tests/sanitize/misuse.c "$lib" -ldl -lm -o "$tmp/misuse" 2> "$tmp/cc"; then
  fail compile "$(head -3 "$tmp/cc" | tr '\n' ' ')"
  exit 1
fi

# caught CASE REPORT: misuse CASE exits non-zero with an ASan REPORT
caught() {
  if "$tmp/misuse" "$1" > "$tmp/$1.out" 2>&1; then
    fail "$1" "not caught: exited with status 0"
  elif grep -q "ERROR: AddressSanitizer: $2" "$tmp/$1.out"; then
    pass "$1"
  else
    fail "$1" "no '$2' report: $(grep ERROR "$tmp/$1.out" | head -1)"
  fi
}
caught cached use-after-poison
caught slack use-after-poison
caught tensor_data use-after-poison
caught tensor_header use-after-poison
if "$tmp/misuse" reuse > "$tmp/reuse.out" 2>&1; then pass reuse_runs_clean
else fail reuse_runs_clean "$(head -3 "$tmp/reuse.out" | tr '\n' ' ')"; fi

# -fno-sanitize-recover=all: UBSan calls only its *_abort handlers
handlers=$(nm "$lib" 2>/dev/null | awk '$1 == "U" && $2 ~ /^__ubsan_handle_/ { print $2 }' | sort -u)
if [ -z "$handlers" ]; then
  fail ubsan_instrumented "$lib calls no UBSan handler"
elif echo "$handlers" | grep -qv '_abort$'; then
  fail ubsan_fatal "recoverable handlers: $(echo "$handlers" | grep -v '_abort$' | tr '\n' ' ')"
else
  pass "ubsan_fatal ($(echo "$handlers" | wc -l) handlers, all aborting)"
fi
exit $failed
