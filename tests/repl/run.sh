#!/usr/bin/env bash
# tests/repl/run.sh -- drives hebb's REPL for real, in a tmux terminal.
# Each check types into the REPL with send-keys and polls capture-pane for
# the expected screen content (no fixed long sleeps).  HOME and the history
# file live in a temporary directory; the tmux server has its own socket and
# is killed on exit, whatever happens.
# Prints "PASS name" or "FAIL name: reason" per check; exits 1 if any failed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HEBB=${HEBB:-build/hebb}
case $HEBB in /*) ;; *) HEBB=$PWD/$HEBB ;; esac
tmp=$(mktemp -d)
session=0  # each session gets a server of its own: no reuse races
failed=0

# a socket path (tmux -S) rather than a name (-L): it goes away with $tmp
tm() { tmux -S "$tmp/tmux-$session" -f "$tmp/tmux.conf" "$@"; }
cleanup() {
  local i
  for i in $(seq 1 "$session"); do
    tmux -S "$tmp/tmux-$i" kill-server >/dev/null 2>&1
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

if [ ! -x "$HEBB" ]; then
  fail repl-binary "no executable at $HEBB"
  exit 1
fi
if ! command -v tmux >/dev/null; then
  fail repl-tmux "tmux not found (apt-get install tmux)"
  exit 1
fi

# the pane stays after hebb exits, so that its exit status can be read
echo 'set -g remain-on-exit on' >"$tmp/tmux.conf"
mkdir "$tmp/home"
hist=$tmp/home/history

# start [HISTORY]: a new session running hebb in a 200x50 terminal, with
# HEBB_HISTORY=HISTORY ($hist by default; "-" leaves it unset).  A bash
# around hebb writes its exit status to a file (tmux may notice the end
# late); bash, unlike dash, lets a child that handles Ctrl-C live on.
start() {
  local h=${1:-$hist}
  tm kill-server >/dev/null 2>&1
  session=$((session + 1))
  tm new-session -d -x 200 -y 50 -s t \
    "exec bash -c '[ \"\$2\" = - ] && unset HEBB_HISTORY || export HEBB_HISTORY=\"\$2\"
      HOME=\"\$1\" INPUTRC=/dev/null TERM=xterm \"\$3\"; echo \$? >\"\$4\"' \
      hebb '$tmp/home' '$h' '$HEBB' '$tmp/status.$session'"
}

keys() { tm send-keys -t t "$@"; }        # named keys: Enter, Tab, C-c
# literal text; tmux would take a trailing ';' for a command separator
type_() {
  case $1 in
    *\;) tm send-keys -t t -l "${1%;}\;" ;;
    *) tm send-keys -t t -l "$1" ;;
  esac
}
line() { type_ "$1"; keys Enter; }        # a line and Enter

# the whole scrollback; tmux shows tabs as spaces, and readline may leave
# blanks at the end of a line
screen() { tm capture-pane -p -J -S - -t t 2>/dev/null | sed 's/ *$//'; }

# wait_for REGEX [SECONDS]: a screen line matches (ERE) within SECONDS (5)
wait_for() {
  local re=$1 limit=$(( ${2:-5} * 20 )) i=0
  while [ $i -lt $limit ]; do
    screen | grep -Eq -- "$re" && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# dead: hebb has exited (within 5 s); prints its exit status (128+N when
# signal N ended it)
dead() {
  local i=0
  while [ $i -lt 100 ]; do
    if [ -s "$tmp/status.$session" ]; then
      cat "$tmp/status.$session"
      return 0
    fi
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# check NAME REGEX [SECONDS]: PASS if the screen shows REGEX in time
check() {
  if wait_for "$2" "${3:-5}"; then
    pass "$1"
  else
    fail "$1" "screen never matched /$2/; last lines: $(screen | grep -v '^$' | tail -4 | tr '\n' '|')"
  fi
}

# absent NAME REGEX: PASS if no screen line matches REGEX (call after a
# later check proved the output in question is complete)
absent() {
  if screen | grep -Eq -- "$2"; then
    fail "$1" "screen shows /$2/"
  else
    pass "$1"
  fi
}

# --- session 1 ------------------------------------------------------------
start
check repl-banner '^Type \? for help'
check repl-prompt '^> ?$'

line '1000 + 1'
check repl-autoprint '^1001$'

line '1000 + 2, "two"'
check repl-autoprint-multi '^1002 +two$'

line '1000 + 3;'
line '1000 + 4'
if wait_for '^1004$'; then absent repl-semicolon-quiet '^1003$'
else fail repl-semicolon-quiet "1000 + 4 never printed 1004"; fi

line 'y = 1000 + 5'
line 'y'
check repl-statement '^1005$'

line 'function sq(x)'
check repl-continuation-prompt '^>> ?$'
line '  return x * x'
line 'end'
line 'sq(33)'
check repl-multiline-function '^1089$'

line 'error("boom-1")'
check repl-error-message '^stdin:1: boom-1$'
check repl-error-traceback '^stack traceback:$'
line '1000 + 6'
check repl-survives-error '^1006$'

line 'x = = 1'
check repl-syntax-error "^stdin:1: unexpected symbol near '='"
line 'local t = nil; return t.x'
check repl-runtime-error-survives "attempt to index a nil value \\(local 't'\\)"
line '1000 + 7'
check repl-survives-syntax-error '^1007$'

line '{10, 20, name = "n"}'
check repl-table-summary '^\{10, 20, name = "n"\}$'

# completion: a global, a nested field, a method through a metatable whose
# __index is a function (so __methods is used), and a userdata's method
line 'myverylongglobalname = 1008'
type_ 'myverylongg'
keys Tab
check repl-complete-global '^> myverylongglobalname$'
keys Enter
check repl-complete-global-value '^1008$'

type_ 'string.fo'
keys Tab
check repl-complete-nested '^> string\.format\($'
line '"%d", 1009)'
check repl-complete-nested-call '^1009$'

line 'do local m = {summarize = function(self) return "summary-1010" end}; obj = setmetatable({}, {__index = function(t, k) return m[k] end, __methods = m}) end'
type_ 'obj:su'
keys Tab
check repl-complete-method '^> obj:summarize\($'
line ')'
check repl-complete-method-call '^summary-1010$'

type_ 'io.stdout:wr'
keys Tab
check repl-complete-userdata-method '^> io\.stdout:write\($'
keys C-c
check repl-ctrl-c-clears-line '^> io\.stdout:write\(\^C$'

# the REPL binds T = hebb.tensor (vm/repl.c); completed in place, or listed
# by the second TAB if T.ze is ambiguous
type_ 'T.ze'
keys Tab Tab
check repl-complete-tensor '(^> T\.zeros|^T\.zeros\b| T\.zeros\b)'
keys C-c

# ? and :commands
line '?'
check repl-help '\?name +documentation'
line '?nosuchname'
check repl-doc-missing '^no documentation for nosuchname$'
line '?T.zeros'
check repl-doc-tensor-zeros '^> \?T\.zeros$'
line 'print("doc-done")'
if ! wait_for '^doc-done$'; then
  fail repl-doc-text "print(\"doc-done\") after ?T.zeros never printed"
elif screen | grep -q '^no documentation for T\.zeros$'; then
  fail repl-doc-text "?T.zeros found no documentation"
elif screen | sed -n '/^> ?T\.zeros$/,/^> print("doc-done")$/p' | grep -v '^>' |
       grep -qi 'zeros'; then
  pass repl-doc-text
else
  fail repl-doc-text "?T.zeros printed nothing about zeros"
fi
# autograd at the prompt: a tracked sum auto-prints as a 0-d tensor, a
# failed backward leaves the REPL usable, .grad reads back
line 'gx = T.tensor({1.5, 2.5}):requires_grad_(); gy = (gx * gx):sum()'
line 'gy:item()'
check repl-autograd-value '^8\.5$'
line 'T.ones(3):backward()'
check repl-autograd-error 'does not require grad'
line 'gy:backward()'
line 'gx.grad:sum()'
check repl-autograd-grad '^8\.0$'
# the memory cap (hebb.max_memory, --max-memory): an allocation past it is
# an error naming the request and the cap, and the REPL goes on
line 'hebb.max_memory("64M")'
check repl-max-memory-set '^67108864$'
line 'huge = T.zeros(100000000)'
check repl-max-memory-error '^stdin:1: zeros: out of memory: 762\.9 MiB requested, limit 64\.0 MiB \('
line 'print(huge == nil, T.ones(1000):sum(), hebb.max_memory(0), 1000 + 17)'
check repl-survives-max-memory '^true +1000\.0 +nil +1017$'
# a figure at the prompt prints its braille preview
line 'plot = require "hebb.plot"; fig = plot.line({1, 2, 3}, {1, 4, 9}, {title = "squares-1017"})'
line 'fig'
check repl-figure-preview '^squares-1017$'
check repl-figure-axes '└──────────'
line ':time on'
check repl-time-on '^timing is on$'
line '1000 + 11'
check repl-time-shown '^time: [0-9.]+ (ms|s)$'
line ':time off'
check repl-time-off '^timing is off$'
line ':nosuch'
check repl-unknown-command "^unknown command ':nosuch'"

# Ctrl-C: a running loop, an unfinished chunk, a line with text
line 'while true do end'
sleep 0.3
keys C-c
check repl-interrupt-loop 'interrupted!' 5
line '1000 + 12'
check repl-after-interrupt '^1012$'

# Ctrl-C inside one long C kernel (3e8 normal draws, seconds of work):
# the kernel polls the interrupt flag and the call raises "interrupted"
line 'big = nil; big = T.randn(300000000)'
sleep 0.5
keys C-c
check repl-interrupt-kernel ': interrupted$' 2
line 'print(big == nil, 1000 + 15)'
check repl-after-kernel-interrupt '^true +1015$'

line 'function unfinished()'
wait_for '^>> ?$'
keys C-c
line 'print(unfinished)'
check repl-ctrl-c-drops-chunk '^nil$'

type_ 'garbage garbage'
keys C-c
line '1000 + 13'
check repl-ctrl-c-drops-line '^1013$'

line '"history-marker-1014"'
check repl-history-line '^history-marker-1014$'

keys C-c
check repl-ctrl-c-hint '^\(press Ctrl-C again or Ctrl-D to exit\)$'
keys C-c
if status=$(dead); then
  if [ "$status" = 0 ]; then pass repl-ctrl-c-twice-exits
  else fail repl-ctrl-c-twice-exits "exit status $status: $(screen | grep -v '^$' | tail -3 | tr '\n' '|')"; fi
else
  fail repl-ctrl-c-twice-exits "hebb still runs"
fi

if grep -q 'history-marker-1014' "$hist" 2>/dev/null; then
  pass repl-history-file
else
  fail repl-history-file "no history-marker-1014 in $hist"
fi

# --- session 2: history, Ctrl-D -------------------------------------------
start
wait_for '^> ?$'
keys Up
check repl-history-recalled '^> "history-marker-1014"$'
keys Enter
check repl-history-runs '^history-marker-1014$'
keys Up Up
check repl-history-older '^> 1000 \+ 13$'
keys C-c
line 'function two_lines()'
line 'return "two-lines-1015" end'
line 'print(two_lines())'
check repl-multiline-again '^two-lines-1015$'
keys C-d
if status=$(dead); then
  if [ "$status" = 0 ]; then pass repl-ctrl-d-exits
  else fail repl-ctrl-d-exits "exit status $status"; fi
else
  fail repl-ctrl-d-exits "hebb still runs"
fi

# --- session 3: a multi-line entry comes back as one entry, :quit ---------
start
wait_for '^> ?$'
keys Up Up
check repl-history-multiline-entry '^return "two-lines-1015" end$'
keys C-c
line ':quit'
if status=$(dead); then
  if [ "$status" = 0 ]; then pass repl-quit
  else fail repl-quit "exit status $status"; fi
else
  fail repl-quit "hebb still runs: $(screen | grep -v '^$' | tail -4 | tr '\n' '|')"
fi

# --- session 4: the default history file is ~/.hebb_history -------------
start -
wait_for '^> ?$'
line '"default-history-1016"'
check repl-default-history-line '^default-history-1016$'
keys C-d
dead >/dev/null
if grep -q 'default-history-1016' "$tmp/home/.hebb_history" 2>/dev/null; then
  pass repl-default-history-file
else
  fail repl-default-history-file "nothing in \$HOME/.hebb_history"
fi

echo "repl: $failed failed"
[ "$failed" -eq 0 ]
