#!/bin/sh
# tests/packaging: the man page docs/hebb.1 is what `hebb --help` says now,
# and renders; the rockspec builds the module with `luarocks make` into a
# fresh tree, from which stock lua5.4 requires hebb.tensor and hebb.nn.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "PASS packaging/$1"; }
ko() { echo "FAIL packaging/$1: $2"; fail=1; }

# --- the man page ---------------------------------------------------------------
"$HEBB" --help | "$HEBB" tools/manpage.lua > "$tmp/hebb.1" 2> "$tmp/err"
if cmp -s "$tmp/hebb.1" docs/hebb.1; then ok manpage_current
else ko manpage_current "docs/hebb.1 differs from \`hebb --help\` (run make docs): $(diff docs/hebb.1 "$tmp/hebb.1" | head -4 | tr '\n' ' ')"; fi
# every option of the usage text is in the page
missing=$("$HEBB" --help | sed -n 's/^  \(-[^ ,]*\).*/\1/p' | while read -r o; do
  grep -q -- "\\\\fB$(echo "$o" | sed 's/-/\\\\-/g')\\\\fR" docs/hebb.1 || echo "$o"; done)
[ -z "$missing" ] && ok manpage_lists_every_option || ko manpage_lists_every_option "$missing"
if groff -man -Tutf8 -ww -z docs/hebb.1 > "$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then
  ok manpage_renders
else ko manpage_renders "$(head -3 "$tmp/groff" | tr '\n' ' ')"; fi

# --- the rock --------------------------------------------------------------------
spec=$(ls hebb-*.rockspec)
version=$("$HEBB" -e 'io.write(require("hebb").version)')
[ "$spec" = "hebb-$version-1.rockspec" ] && ok rockspec_version ||
  ko rockspec_version "$spec, but hebb is version $version"
if luarocks --lua-version 5.4 lint "$spec" > "$tmp/lint" 2>&1; then ok rockspec_lint
else ko rockspec_lint "$(head -3 "$tmp/lint" | tr '\n' ' ')"; fi
# (make sanitize: SANITIZE=1 is in the environment, so the rock is the
# sanitized build and lua5.4 gets the ASan runtime first)
if luarocks --lua-version 5.4 --tree "$tmp/tree" make "$spec" > "$tmp/rock" 2>&1 &&
   [ -f "$tmp/tree/lib/lua/5.4/hebb.so" ]; then
  ok luarocks_make
else ko luarocks_make "$(tail -4 "$tmp/rock" | tr '\n' ' ')"; fi
out=$(LD_PRELOAD=${HEBB_PRELOAD:-} LUA_CPATH="$tmp/tree/lib/lua/5.4/?.so" LUA_PATH="" lua5.4 -e '
  local T, nn = require "hebb.tensor", require "hebb.nn"
  io.write(T.arange(1, 4):sum(), " ", nn.Linear(2, 3).weight.shape[1])' 2>&1)
[ "$out" = "10 3" ] && ok rock_module_loads || ko rock_module_loads "$out"
exit $fail
