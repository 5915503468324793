#!/bin/sh
# tests/io/run.sh -- kill -9 during saves: a process saves a 1 MB
# checkpoint over one file again and again (saver.lua), and is killed at
# 30 random moments; after each kill the file must load and hold one whole
# version (check.lua), the one before or the one being saved.  Before
# io.save wrote a temporary file and renamed it, 19 of 30 such kills
# destroyed the previous checkpoint.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file="$dir/ckpt.hio"
trials=30 good=0 inside=0 last=0 bad=""
"$HEBB" tests/io/saver.lua "$file" once || exit 1
for i in $(seq 1 $trials); do
  "$HEBB" tests/io/saver.lua "$file" &
  pid=$!
  # 20..220 ms: the saves take ms to tens of ms each (1 MB, then fsync)
  ms=$(od -An -N2 -tu2 /dev/urandom | awk '{print 20 + $1 % 200}')
  sleep "$(awk "BEGIN {print $ms / 1000}")"
  kill -9 $pid
  wait $pid 2>/dev/null
  # a temporary file left behind: the kill landed inside a save
  if ls -a "$dir" | grep -q '\.tmp$'; then inside=$((inside + 1)); fi
  rm -f "$dir"/.*.tmp
  if v=$("$HEBB" tests/io/check.lua "$file" 2> "$dir/err"); then
    good=$((good + 1)); last=$v
  else
    bad="$bad [trial $i after ${ms}ms: $(cat "$dir/err")]"
  fi
done
if [ -z "$bad" ]; then
  echo "PASS io/kill9_during_save ($good of $trials kills left a whole checkpoint; $inside landed inside a save; last version $last)"
else
  echo "FAIL io/kill9_during_save:$bad"; exit 1
fi
