#!/bin/sh
# tests/mpi -- hebb.mpi on 2 and 4 ranks under OpenMPI's mpirun.
# ranks.lua prints one PASS/FAIL line per check (from rank 0); fail.lua
# shows that a rank that errors ends the job (MPI_Abort) instead of leaving
# the others waiting.  These machines have 2 cores (--oversubscribe) and
# run the tests as root (--allow-run-as-root).  Every mpirun is bounded by
# timeout, so a hang is a failure, not a stuck test run.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-$PWD/build/hebb}
export LUA_PATH="tests/lua/lib/?.lua;;"   # ising_chain.lua
if ! command -v mpirun > /dev/null; then
  echo "FAIL mpi/mpirun: not installed (tools/deps.sh test installs openmpi-bin)"; exit 1
fi
FLAGS="--oversubscribe"
[ "$(id -u)" = 0 ] && FLAGS="$FLAGS --allow-run-as-root"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for n in 2 4; do
  HEBB_THREADS=1 timeout 240 mpirun $FLAGS -np $n "$HEBB" tests/mpi/ranks.lua > "$OUT/ranks$n" 2>&1
  rc=$?
  cat "$OUT/ranks$n"
  [ $rc -ne 0 ] && ! grep -q '^FAIL' "$OUT/ranks$n" &&
    echo "FAIL mpi$n/ranks: mpirun exited with status $rc"
done

timeout 120 mpirun $FLAGS -np 2 "$HEBB" tests/mpi/fail.lua > "$OUT/fail" 2>&1
rc=$?
# (mpirun's own "MPI_ABORT was invoked" banner is not required: OpenMPI
# sometimes loses it while it kills the ranks)
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "fail.lua:7: rank 1 cannot go on" "$OUT/fail" &&
   ! grep -q "went past" "$OUT/fail"; then
  echo "PASS mpi/failing_rank_ends_the_job"
else
  echo "FAIL mpi/failing_rank_ends_the_job: status $rc: $(tail -5 "$OUT/fail" | tr '\n' ' ')"
fi
