#!/bin/sh
# tests/fuzz/fuzz.sh -- the long fuzz run (`make fuzz`): every loader's
# harness built with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer over the whole core, run from its seed corpus
# for FUZZ_SECONDS seconds (default 60) or FUZZ_RUNS inputs, at the lowest
# priority (the machine is shared).  Prints one line per loader: inputs
# run, time, and the verdict; libFuzzer's log and any crashing input stay in
# build/fuzz/.
cd "$(dirname "$0")/../.." || exit 2
out=build/fuzz
SECONDS_EACH=${FUZZ_SECONDS:-60}
FLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -w -fopenmp -fsanitize=address,undefined \
-fno-sanitize-recover=undefined -Iinclude -Inatives/core"
# (CMPLX below: glibc defines it only for gcc >= 4.7, and clang says 4.2)
mkdir -p "$out/obj"
headers=$(ls -t include/hebb.h natives/core/*.h | head -1)
for src in natives/core/*.c; do
  o="$out/obj/$(basename "$src" .c).o"
  if [ ! "$o" -nt "$src" ] || [ ! "$o" -nt "$headers" ]; then
    nice -n 19 clang $FLAGS "-DCMPLX(x,y)=__builtin_complex((double)(x),(double)(y))" \
      "-DCMPLXF(x,y)=__builtin_complex((float)(x),(float)(y))" \
      -fsanitize=fuzzer-no-link -c "$src" -o "$o" || exit 1
  fi
done
rm -f "$out/libcore.a" && ar rcs "$out/libcore.a" "$out"/obj/*.o
status=0
for h in ${FUZZERS:-ckpt npy npz text idx}; do
  nice -n 19 clang $FLAGS -fsanitize=fuzzer "tests/fuzz/fuzz_$h.c" "$out/libcore.a" \
    -ldl -lm -lpthread -o "$out/fuzz_$h" || exit 1
  mkdir -p "$out/corpus_$h"
  runs=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
  start=$(date +%s)
  ( cd "$out" && HEBB_CACHE_MB=0 nice -n 19 "./fuzz_$h" -max_total_time="$SECONDS_EACH" $runs \
      -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "corpus_$h" "../../tests/fuzz/corpus/$h" > "$h.log" 2>&1 )
  rc=$?
  n=$(grep -o 'number_of_executed_units: *[0-9]*' "$out/$h.log" | grep -o '[0-9]*$')
  if [ $rc -eq 0 ]; then verdict="0 crashes, 0 hangs, 0 sanitizer reports"
  else verdict="FAILED (exit $rc; see $out/$h.log)"; status=1; fi
  printf '%-5s %10s inputs in %4ds: %s\n' "$h" "${n:-?}" $(($(date +%s) - start)) "$verdict"
done
exit $status
