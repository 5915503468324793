#!/usr/bin/env bash
# tests/cli/run.sh -- hebb's command line against lua5.4.
# Each case runs the same arguments, stdin and environment through lua5.4
# and through $HEBB (default build/hebb), both with argv[0] = "prog" so that
# the program name (arg[-n], "prog: ..." in messages) cannot differ, and
# compares stdout, stderr and the exit code.  Then the hebb-only options.
# Prints "PASS name" or "FAIL name: reason" per check; exits 1 if any failed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HEBB=${HEBB:-build/hebb}
case $HEBB in /*) ;; *) HEBB=$PWD/$HEBB ;; esac
LUA=${LUA:-lua5.4}
here=$(cd "$(dirname "$0")" && pwd)
scripts=$here/scripts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

if [ ! -x "$HEBB" ]; then
  fail cli-binary "no executable at $HEBB"
  exit 1
fi
if ! command -v "$LUA" >/dev/null; then
  fail cli-lua "$LUA not found (apt-get install lua5.4)"
  exit 1
fi

# run BIN OUT [VAR=value...] -- ARGS...: runs BIN as "prog" in $scripts
# with stdin from $IN, into OUT.out, OUT.err, OUT.rc
run() {
  local bin=$1 out=$2
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  (cd "$scripts" &&
    env -u LUA_INIT -u LUA_INIT_5_4 -u LUA_PATH -u LUA_CPATH -u HEBB_THREADS -u HEBB_MAX_MEMORY \
      "${envs[@]}" timeout 10 bash -c 'exec -a prog "$@"' prog "$bin" "$@" \
      <"${IN:-/dev/null}" >"$out.out" 2>"$out.err"
    echo $? >"$out.rc")
}

# first difference of two files, on one line
difference() {
  diff "$1" "$2" | head -4 | tr '\n\t' '| ' | cut -c1-200
}

# cmp_prefix A B: is file A a prefix of file B?
cmp_prefix() {
  local n
  n=$(wc -c <"$1")
  head -c "$n" "$2" | cmp -s - "$1"
}

# same NAME [VAR=value...] -- ARGS...: hebb must behave exactly as lua5.4
# version NAME ...: the same, once hebb's "hebb x.y" version line is removed
# usage NAME ...: the same, except that lua5.4's stderr (message and usage
# text) need only start hebb's, whose usage lists more options
compare() {
  local mode=$1 name=$2
  shift 2
  run "$LUA" "$tmp/lua" "$@"
  run "$HEBB" "$tmp/hebb" "$@"
  if [ "$mode" = version ]; then
    grep -v '^hebb ' "$tmp/hebb.out" >"$tmp/hebb.filtered"
    mv "$tmp/hebb.filtered" "$tmp/hebb.out"
  fi
  local s
  for s in rc out err; do
    if [ "$mode" = usage ] && [ $s = err ]; then
      if ! cmp_prefix "$tmp/lua.$s" "$tmp/hebb.$s"; then
        fail "$name" "lua5.4's $s does not start hebb's: $(difference "$tmp/lua.$s" "$tmp/hebb.$s")"
        return
      fi
    elif ! cmp -s "$tmp/lua.$s" "$tmp/hebb.$s"; then
      fail "$name" "$s differs from lua5.4: $(difference "$tmp/lua.$s" "$tmp/hebb.$s")"
      return
    fi
  done
  pass "$name"
}
same() { compare exact "$@"; }
version() { compare version "$@"; }
usage() { compare usage "$@"; }

# matches FILE REGEX: a line of FILE matches; REGEX "" means FILE is empty
matches() {
  if [ -z "$2" ]; then [ ! -s "$1" ]; else grep -Eq -- "$2" "$1"; fi
}

# expect NAME RC OUT_REGEX ERR_REGEX [VAR=value...] -- ARGS...: hebb alone;
# a regex "" asks for empty output
expect() {
  local name=$1 rc=$2 outre=$3 errre=$4
  shift 4
  run "$HEBB" "$tmp/hebb" "$@"
  local got
  got=$(cat "$tmp/hebb.rc")
  if [ "$got" != "$rc" ]; then
    fail "$name" "exit code $got, expected $rc; stderr: $(head -c 200 "$tmp/hebb.err")"
  elif ! matches "$tmp/hebb.out" "$outre"; then
    fail "$name" "stdout does not match /$outre/: $(head -c 200 "$tmp/hebb.out")"
  elif ! matches "$tmp/hebb.err" "$errre"; then
    fail "$name" "stderr does not match /$errre/: $(head -c 200 "$tmp/hebb.err")"
  else
    pass "$name"
  fi
}

printf 'print("from stdin", ...)\nprint(#arg, arg[0])\n' >"$tmp/stdin.lua"
printf 'print("piped")\nerror("piped failure")\n' >"$tmp/stdin_err.lua"
printf 'x = = 1\n' >"$tmp/stdin_syntax.lua"
# what the REPL does with piped input (no terminal: no editing, no history)
printf 'x = 1\nx\nprint(x + 1)\n1, "two"\nfunction f()\n return 3\nend\nf()\nerror("oops")\nx =\n= x\n' \
  >"$tmp/repl.lua"
mp='LUA_PATH=?.lua'

IN=/dev/null
# scripts and the arg table
same cli-script-args -- args.lua a "b c" ""
same cli-script-no-args -- args.lua
same cli-script-missing -- nosuch.lua
same cli-options-in-arg -- -E -W args.lua -x --y
same cli-double-dash -- -- args.lua -e x
same cli-double-dash-dash-file -- -- -
# -e
same cli-e -- -e 'print(1 + 1, ...)'
same cli-e-glued -- '-eprint("glued")' args.lua z
same cli-e-several -- -e 'x = 10' -e 'print(x * 2)'
same cli-e-arg-table -- -e 'for i = -2, 2 do print(i, arg[i]) end' a b
same cli-e-syntax-error -- -e 'x ='
same cli-e-runtime-error -- -e 'local t = nil; print(t.x)'
same cli-e-then-script -- -e 'print("first")' args.lua 1
# -l
same cli-l -- -l mymod -e 'print(mymod.name)'
same cli-l-path "$mp" -- -l mymod -e 'print(mymod.name, package.loaded.mymod == mymod)'
same cli-l-glued "$mp" -- -lmymod -e 'print(mymod.name)'
same cli-l-global "$mp" -- -l g=mymod -e 'print(g.name, mymod)'
same cli-l-missing "$mp" -- -l nosuchmod -e 'print("not reached")'
same cli-l-order "$mp" -- -e 'print(mymod)' -l mymod -e 'print(mymod.name)'
# -v, -i is tested in tests/repl; hebb -v adds a line of its own
version cli-v -- -v
version cli-v-e -- -v -e 'print("after version")'
# -E
same cli-E-ignores-init LUA_INIT='print("init ran")' -- -E -e 'print("body")'
same cli-E-ignores-path "LUA_PATH=/nowhere/?.lua" "LUA_CPATH=/nowhere/?.so" -- \
  -E -e 'print(package.path) print(package.cpath)'
same cli-no-E-path "LUA_PATH=/somewhere/?.lua;;" "LUA_CPATH=/somewhere/?.so" -- \
  -e 'print(package.path) print(package.cpath)'
# -W
same cli-W -- -W -e 'warn("hello ", "world")'
same cli-no-W -- -e 'warn("not shown")'
same cli-W-order -- -e 'warn("early")' -W -e 'warn("late")'
same cli-W-control -- -e 'warn("@on") warn("on now") warn("@off") warn("off")'
# stdin
IN=$tmp/stdin.lua
same cli-stdin-dash -- - a b
same cli-stdin-piped --
same cli-stdin-after-e -- -e 'print("e first")' - x
IN=$tmp/repl.lua
version cli-i-piped -- -i
version cli-i-after-script -- -i args.lua q
IN=$tmp/stdin_err.lua
same cli-stdin-dash-error -- -
same cli-stdin-piped-error --
IN=$tmp/stdin_syntax.lua
same cli-stdin-syntax -- -
IN=/dev/null
# LUA_INIT
same cli-init-string LUA_INIT='print("init string", #arg)' -- -e 'print("body")'
same cli-init-file LUA_INIT=@init.lua -- -e 'print(INIT_GLOBAL)'
same cli-init-version LUA_INIT='print("plain")' LUA_INIT_5_4='print("versioned")' -- \
  -e 'print("body")'
same cli-init-error LUA_INIT='error("bad init")' -- -e 'print("not reached")'
same cli-init-missing-file LUA_INIT=@nosuch.lua -- -e 'print("not reached")'
same cli-init-syntax LUA_INIT='x = = 1' -- -e 'print("not reached")'
same cli-arg-not-table LUA_INIT='arg = nil' -- args.lua
# errors
same cli-runtime-traceback -- rterr.lua
same cli-syntax-error -- syntax.lua
same cli-error-table -- errobj.lua table
same cli-error-tostring -- errobj.lua tostring
same cli-error-nil -- errobj.lua nil
same cli-error-number -- errobj.lua number
same cli-error-level0 -- errobj.lua level0
same cli-error-in-e-object -- -e 'error(setmetatable({}, {__tostring = function() return 1 end}))'
# exit codes and closing
same cli-exit-3 -- exit.lua 3
same cli-exit-true -- exit.lua true
same cli-exit-false -- exit.lua false
same cli-exit-close -- exit.lua close
same cli-gc-at-exit -- gc.lua
# bad options: lua5.4's message and usage start hebb's, which lists more
for bad in -x --x -ix -vx -Ex -Wx -e -l "-e print(1) -l" "-l -e"; do
  # shellcheck disable=SC2086  # the words are the options
  usage "cli-usage[$bad]" -- $bad
done

# hebb's own options
expect hebb-threads 0 '^ok$' '' -- --threads 2 -e 'print("ok")'
expect hebb-threads-eq 0 '^ok$' '' -- --threads=3 -e 'print("ok")'
expect hebb-threads-arg-table 0 '^-1	4$' '' -- \
  --threads 4 args.lua
expect hebb-threads-zero 1 '' "prog: bad value for --threads: '0'" -- \
  --threads 0 -e 'print("not reached")'
expect hebb-threads-word 1 '' "prog: bad value for --threads: 'x'" -- \
  --threads x -e 'print("not reached")'
expect hebb-threads-negative 1 '' "bad value for --threads: '-1'" -- --threads -1
expect hebb-threads-fraction 1 '' "bad value for --threads: '1.5'" -- --threads=1.5
expect hebb-threads-missing 1 '' "prog: '--threads' needs argument" -- --threads
expect hebb-threads-env 0 '^ok$' '' HEBB_THREADS=2 -- -e 'print("ok")'
expect hebb-threads-env-bad 1 '' "bad value for HEBB_THREADS: 'lots'" \
  HEBB_THREADS=lots -- -e 'print("not reached")'
expect hebb-threads-env-E 0 '^ok$' '' HEBB_THREADS=lots -- -E -e 'print("ok")'
# --max-memory SIZE / HEBB_MAX_MEMORY: the cap of hebb.max_memory
mm='print(require("hebb").max_memory())'
expect hebb-max-memory 1 '' \
  '^prog: \(command line\):1: zeros: out of memory: 7\.6 MiB requested, limit 1\.0 MiB \(0 B in use\)$' \
  -- --max-memory 1M -e 'require("hebb.tensor").zeros(1e6)'
expect hebb-max-memory-eq 0 '^1610612736$' '' -- --max-memory=1.5G -e "$mm"
expect hebb-max-memory-none 0 '^nil$' '' -- -e "$mm"
expect hebb-max-memory-zero 0 '^nil$' '' -- --max-memory 0 -e "$mm"
expect hebb-max-memory-bad 1 '' \
  "^prog: bad value for --max-memory: 'lots' \(expected a size like 512M or 2G, or 0 for no cap\)$" \
  -- --max-memory lots -e 'print("not reached")'
expect hebb-max-memory-missing 1 '' "prog: '--max-memory' needs argument" -- --max-memory
expect hebb-max-memory-env 0 '^2147483648$' '' HEBB_MAX_MEMORY=2G -- -e "$mm"
expect hebb-max-memory-env-bad 1 '' "bad value for HEBB_MAX_MEMORY: 'x'" \
  HEBB_MAX_MEMORY=x -- -e 'print("not reached")'
expect hebb-max-memory-env-E 0 '^nil$' '' HEBB_MAX_MEMORY=2G -- -E -e "$mm"
expect hebb-max-memory-option-wins 0 '^1048576$' '' HEBB_MAX_MEMORY=2G -- --max-memory 1M -e "$mm"
expect hebb-max-memory-arg-table 0 '^-1	1G$' '' -- --max-memory 1G args.lua
expect hebb-help 0 '--threads N' '' -- -h
expect hebb-help-max-memory 0 '--max-memory SIZE' '' -- -h
expect hebb-help-long 0 'HEBB_HISTORY' '' -- --help
expect hebb-usage-lists-threads 1 '' '--threads N' -- -x
expect hebb-version 0 '^hebb ' '' -- -v
expect hebb-require 0 '^table$' '' -- -e 'print(type(require("hebb")))'
expect hebb-require-tensor 0 '^table$' '' -- -e 'print(type(require("hebb.tensor")))'
expect hebb-no-globals-in-scripts 0 '^nil	nil$' '' -- -e 'print(hebb, T)'

echo "cli: $failed failed"
[ "$failed" -eq 0 ]
