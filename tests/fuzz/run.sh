#!/bin/sh
# tests/fuzz/run.sh -- the short fuzz run of `make test`: each loader's
# harness (fuzz_<loader>.c) runs its seed corpus (corpus/<loader>/) and
# 4000 mutants of it under the mutation driver (driver.c), with the io
# sources built with gcc's AddressSanitizer and UndefinedBehaviorSanitizer
# (the rest of the core comes from libhebb.a of the build under test:
# build/, or build-san/ under make sanitize).  Any crash, sanitizer
# report or hang fails the loader.  The long run is `make fuzz` (libFuzzer;
# docs/io.md has its numbers).
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
INPUTS=${FUZZ_INPUTS:-4000}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# the Makefile's TEST_CFLAGS (tests/run.sh passes them), with the sanitizers
HEBB_CFLAGS=${HEBB_CFLAGS:-$(make -s --no-print-directory test-cflags)}
FLAGS="$HEBB_CFLAGS -fopenmp $SAN -Iinclude -Inatives/core"
fail=0
for src in io_file io_ckpt io_npy io_npz io_text zlib idx; do
  if ! ${HEBB_CC:-cc} $FLAGS -c natives/core/$src.c -o "$tmp/$src.o" 2> "$tmp/cc.err"; then
    echo "FAIL fuzz/build_$src: $(head -3 "$tmp/cc.err")"; exit 1
  fi
done
for h in ckpt npy npz text idx; do
  if ! ${HEBB_CC:-cc} $FLAGS tests/fuzz/fuzz_$h.c tests/fuzz/driver.c "$tmp"/*.o "${HEBB_BUILD:-build}/libhebb.a" \
       -ldl -lm -lpthread -o "$tmp/fuzz_$h" 2> "$tmp/cc.err"; then
    echo "FAIL fuzz/$h: does not build: $(head -3 "$tmp/cc.err")"; fail=1; continue
  fi
  if HEBB_CACHE_MB=0 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
     timeout 300 "$tmp/fuzz_$h" tests/fuzz/corpus/$h "$INPUTS" 14 > "$tmp/$h.out" 2>&1; then
    echo "PASS fuzz/$h ($(tail -1 "$tmp/$h.out"); ASan+UBSan: no report)"
  else
    echo "FAIL fuzz/$h: exit $?"; sed 's/^/    /' "$tmp/$h.out" | head -30; fail=1
  fi
done
exit $fail
