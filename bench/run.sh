#!/bin/sh
# run.sh -- `make bench`: hebb against hand-written C, numpy and torch.
# Compiles the C references, runs each side BENCH_ROUNDS times, prints the
# table and writes it to build/bench.md (docs/performance.md explains the
# method).
# Exits 0 when every benchmark ran, whether or not its goal was met (this is
# a report, not a test); non-zero when one failed to run.
# Knobs (environment): HEBB (the executable, default build/hebb), BENCH_N
# (elements, 1e7), BENCH_REPS (20), BENCH_LOOP (dispatch loop, 1e6),
# BENCH_ROUNDS (2), BENCH_MLP_REPS (MLP step blocks, 20),
# BENCH_CONTENTION_SECONDS (window per run, 0.5), BENCH_CONTENTION_REPS (5),
# BENCH_PHYS_N (iterations of row 23's loop, 1e6).
set -u
cd "$(dirname "$0")/.." || exit 1

HEBB=${HEBB:-build/hebb}
CC=${CC:-gcc}
PY=/usr/bin/python3                     # Debian's numpy/torch load only here
# Debian's folder for this machine's libraries (make bench passes it)
MULTIARCH=${MULTIARCH:-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $CC -print-multiarch)}
BLAS_INC=/usr/include/$MULTIARCH/openblas-openmp
BLAS_LIB=/usr/lib/$MULTIARCH/openblas-openmp
N=${BENCH_N:-10000000}
REPS=${BENCH_REPS:-20}
LOOP=${BENCH_LOOP:-1000000}
ROUNDS=${BENCH_ROUNDS:-2}
MLP_REPS=${BENCH_MLP_REPS:-20}
CONT_SEC=${BENCH_CONTENTION_SECONDS:-0.5}
CONT_REPS=${BENCH_CONTENTION_REPS:-5}
PHYS_N=${BENCH_PHYS_N:-1000000}
MM=1024
MPIFLAGS="--oversubscribe"               # 2 cores; root (CI) needs the other
[ "$(id -u)" = 0 ] && MPIFLAGS="$MPIFLAGS --allow-run-as-root"
B=build/bench
RES=$B/results.txt
mkdir -p $B
: > $RES
fail=0

# step NAME CMD...: appends CMD's "key value" lines to the results; on
# failure shows its stderr and marks the run failed
step() {
  name=$1; shift
  echo "bench: $name" >&2
  if ! "$@" >> $RES 2> $B/$name.err; then
    echo "bench: $name FAILED:" >&2
    cat $B/$name.err >&2
    fail=1
  fi
}

put() { echo "$1 $2" >> $RES; }

# --- the C references, compiled here -------------------------------------
# bench/cref.c is a Lua module that bench/hebb.lua loads, so the C loops run
# in hebb's process rep by rep with hebb's own; built with and without
# -march=native.
cref() {
  $CC $1 -DBENCH_FLAGS="\"$1\"" -shared -fPIC -fopenmp -Wall -Wextra \
    -I$BLAS_INC -I/usr/include/lua5.4 bench/cref.c -o $B/cref-$2.so \
    -L$BLAS_LIB -Wl,-rpath,$BLAS_LIB -lopenblas
}
cref "-O3 -march=native" native && cref "-O3" O3 ||
  { echo "bench: cannot compile bench/cref.c" >&2; exit 1; }
# bench/mlp_step.c: the hand-written MLP training step, a module that
# bench/mlp_hebb.lua loads the same way; built again as mlp_clock, a clock
# without OpenBLAS for the fresh-process run
$CC -O3 -march=native -fno-math-errno \
  -DBENCH_FLAGS="\"-O3 -march=native -fno-math-errno\"" -shared -fPIC -fopenmp \
  -Wall -Wextra -I$BLAS_INC -I/usr/include/lua5.4 bench/mlp_step.c -o $B/mlp_step.so \
  -L$BLAS_LIB -Wl,-rpath,$BLAS_LIB -lopenblas -lm &&
  $CC -O2 -DMLP_CLOCK_ONLY -shared -fPIC -Wall -Wextra -I/usr/include/lua5.4 \
    bench/mlp_step.c -o $B/mlp_clock.so ||
  { echo "bench: cannot compile bench/mlp_step.c" >&2; exit 1; }
# bench/fields_ref.c: the hand-written references of the fields rows (KG
# stencil, split-step over FFTW, Dormand-Prince), loaded by
# bench/fields_hebb.lua
$CC -O3 -march=native -DBENCH_FLAGS="\"-O3 -march=native\"" -shared -fPIC -Wall -Wextra \
  -I/usr/include/lua5.4 bench/fields_ref.c -o $B/fields_ref.so -lfftw3 -lm ||
  { echo "bench: cannot compile bench/fields_ref.c" >&2; exit 1; }
# bench/statmech_ref.c: the plain C Metropolis, Wolff, binning and tau_int
# loops (Philox in C as hebb draws it), a module bench/statmech.lua loads
$CC -O3 -march=native -DBENCH_FLAGS="\"-O3 -march=native\"" -shared -fPIC -fopenmp \
  -Wall -Wextra -I/usr/include/lua5.4 -Ibench bench/statmech_ref.c -o $B/statmech_ref.so -lm ||
  { echo "bench: cannot compile bench/statmech_ref.c" >&2; exit 1; }
export LUA_CPATH="$B/?.so;;"

$HEBB -e 'require "hebb"' || { echo "bench: $HEBB does not run" >&2; exit 1; }

# the FFI block of include/hebb.h, for bench/speed_jit.lua (as tests/ffi)
sed -n '\|^/\* FFI-BEGIN \*/$|,\|^/\* FFI-END \*/$|p' include/hebb.h | sed '1d;$d' > $B/cdef.h

# --- what the table header reports --------------------------------------
put env.date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put env.cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
put env.cores "$(nproc)"
put env.load "$(cut -d" " -f1-3 /proc/loadavg)"
put env.OPENBLAS_CORETYPE "${OPENBLAS_CORETYPE:-unset}"
put env.HEBB_THREADS "${HEBB_THREADS:-unset}"
put env.OMP_NUM_THREADS "${OMP_NUM_THREADS:-unset}"
put env.OPENBLAS_NUM_THREADS "${OPENBLAS_NUM_THREADS:-unset}"
put env.numpy_blas "$(readlink -f /usr/lib/$MULTIARCH/libblas.so.3)"
put env.cc "$($CC --version | head -1)"
put env.n "$N"
put env.reps "$REPS"
put env.loop "$LOOP"
put env.rounds "$ROUNDS"
put env.contention "$CONT_REPS reps of $CONT_SEC s per side"

# --- the runs -------------------------------------------------------------
# Every side runs ROUNDS times, in turn, and the report keeps the best of
# each: the machine is shared, and numpy/torch run in their own process.
r=1
while [ $r -le "$ROUNDS" ]; do
  # OMP_WAIT_POLICY=passive: the C references' OpenMP threads (and
  # OpenBLAS's, for cblas_sgemm) otherwise spin after each region on the
  # core hebb's worker needs next; hebb's team then sees a busy core and
  # runs alone (its shared-machine policy, row 12): row 4 came out 1.45-1.71x
  # with spinning references, 1.00-1.02x with passive ones (same build)
  step hebb env OMP_WAIT_POLICY=passive $HEBB bench/hebb.lua $N $REPS $LOOP $MM
  step numpy_torch $PY bench/ref.py $N $REPS $LOOP $MM
  # numpy's svd and eigh again with its OpenBLAS at one thread, as hebb's
  # LAPACK runs; the variable is set for this python process only
  step numpy_1t env OPENBLAS_NUM_THREADS=1 $PY bench/ref.py $N $REPS $LOOP $MM linalg
  # the MLP training step: hebb with the hand C step in its process, then
  # each side again in a fresh process, as a user runs it
  step mlp_hebb $HEBB bench/mlp_hebb.lua warm $MLP_REPS
  step mlp_hebb_fresh $HEBB bench/mlp_hebb.lua fresh
  step mlp_backward $HEBB bench/mlp_hebb.lua backward $MLP_REPS
  step mlp_torch $PY bench/mlp_torch.py warm $MLP_REPS
  step mlp_torch_fresh $PY bench/mlp_torch.py fresh
  step fields_hebb $HEBB bench/fields_hebb.lua run $REPS
  step fields_py $PY bench/fields_ref.py $REPS
  # Metropolis, Wolff, binning, tau_int against plain C; numpy's checkerboard
  step statmech $HEBB bench/statmech.lua $REPS
  step statmech_np $PY bench/statmech_np.py $REPS
  # rows 21-23 (bench/speed.lua): tracked add, temporaries, a small-tensor
  # physics loop against numpy and LuaJIT's FFI over libhebb
  step speed $HEBB bench/speed.lua run $REPS $PHYS_N
  step speed_py $PY bench/speed_ref.py $REPS $PHYS_N
  step speed_jit luajit bench/speed_jit.lua $B/cdef.h build/libhebb.so $PHYS_N
  # tensor RG (rows 24, 25): TRG chi = 24 against the same algorithm in
  # numpy (its LAPACK at one thread, as hebb's), the truncated svd against
  # the full one; one repetition per round (each takes seconds)
  step rg $HEBB bench/rg.lua 1
  step rg_np env OPENBLAS_NUM_THREADS=1 $PY bench/rg_np.py 1
  # sweeps and MPI (bench/sweep_mpi.lua): one thread per rank
  step sweep $HEBB bench/sweep_mpi.lua overhead
  step mpi_np1 env HEBB_THREADS=1 mpirun $MPIFLAGS -np 1 $HEBB bench/sweep_mpi.lua ranks
  step mpi_np2 env HEBB_THREADS=1 mpirun $MPIFLAGS -np 2 $HEBB bench/sweep_mpi.lua ranks
  r=$((r + 1))
done

# threads under contention: default against --threads 1 beside a busy
# process and as two processes at once, paired in each rep (once, not per
# round: each rep is already a pair)
step contention sh bench/contention.sh "$HEBB" "$CONT_SEC" "$CONT_REPS"

# start-up: hyperfine if present, else 200 runs timed here
if command -v hyperfine > /dev/null 2>&1; then
  put env.startup_method "median of hyperfine -N --warmup 20 --runs 200"
  if hyperfine -N --warmup 20 --runs 200 --export-csv $B/startup.csv \
       "$HEBB -e ''" "lua5.4 -e ''" > $B/startup.log 2>&1; then
    awk -F, 'NR == 2 { print "startup.hebb", $4 } NR == 3 { print "startup.lua", $4 }' \
      $B/startup.csv >> $RES
  else
    echo "bench: start-up FAILED:" >&2; cat $B/startup.log >&2; fail=1
  fi
else
  put env.startup_method "mean of 200 runs timed by the script"
  for prog in "$HEBB" lua5.4; do
    t0=$(date +%s%N)
    i=0
    while [ $i -lt 200 ]; do
      $prog -e '' || { echo "bench: $prog -e '' FAILED" >&2; fail=1; break; }
      i=$((i + 1))
    done
    t1=$(date +%s%N)
    key=startup.hebb; [ "$prog" = lua5.4 ] && key=startup.lua
    put $key "$(awk "BEGIN { print ($t1 - $t0) / 200 / 1e9 }")"
  done
fi

# --- the table --------------------------------------------------------------
$HEBB bench/report.lua $RES build/bench.md || fail=1
$HEBB bench/mlp_hebb.lua report $RES build/bench.md || fail=1
$HEBB bench/fields_hebb.lua report $RES build/bench.md || fail=1
$HEBB bench/sweep_mpi.lua report $RES build/bench.md || fail=1
$HEBB bench/speed.lua report $RES build/bench.md || fail=1
exit $fail
