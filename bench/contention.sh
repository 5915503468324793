#!/bin/sh
# contention.sh -- hebb's default threads against `--threads 1` on a
# machine that is not hebb's alone (issue 8): the loop of
# bench/contention.lua run (quiet) with nothing else started, (busy) beside
# one CPU-bound process started here, and (pair) as two hebb processes at
# once.  Each rep runs both sides in turn, under the same extra load, and
# the result is the median over reps of default / one-thread time per
# iteration.  Prints "key value" lines for bench/report.lua.
# usage: bench/contention.sh HEBB [SECONDS [REPS]]
set -u
HEBB=$1
SEC=${2:-0.5}
REPS=${3:-5}
OUT=$(mktemp)
trap 'rm -f "$OUT" "$OUT".*; [ -n "${burner:-}" ] && kill "$burner" 2> /dev/null' EXIT

# side ROW SIDE REP: one process; the default side runs without HEBB_THREADS
side() {
  if [ "$2" = default ]; then t=$(env -u HEBB_THREADS "$HEBB" bench/contention.lua "$SEC")
  else t=$("$HEBB" --threads 1 bench/contention.lua "$SEC"); fi || exit 1
  echo "$1 $2 $3 $t" >> "$OUT"
}

# pair REP SIDE: two processes of one side at once
pair() {
  side pair "$2" "$1" & p1=$!
  side pair "$2" "$1" & p2=$!
  wait $p1 && wait $p2 || exit 1
}

# each rep alternates which side goes first, so a drift in the machine's
# load does not favour one side
rep=1
while [ $rep -le "$REPS" ]; do
  if [ $((rep % 2)) -eq 1 ]; then first=default; second=one
  else first=one; second=default; fi
  side quiet $first $rep; side quiet $second $rep
  sh -c 'while :; do :; done' & burner=$!
  side busy $first $rep; side busy $second $rep
  kill $burner; wait $burner 2> /dev/null; burner=
  pair $rep $first; pair $rep $second
  rep=$((rep + 1))
done
"$HEBB" bench/contention.lua median "$OUT"
