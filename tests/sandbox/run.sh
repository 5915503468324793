#!/bin/sh
# tests/sandbox/run.sh -- escape attempts against `hebb --sandbox` and
# `hebb notebook run --sandbox`.  Each attempt is a script in a folder
# (box/) next to a secret file outside it; it prints ESCAPED if the attempt
# works.  A check passes when the output names the refusal and ESCAPED
# never appears.  Then what a sandboxed script may still do, and the CPU
# and memory limits.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
case $HEBB in /*) ;; *) HEBB=$PWD/$HEBB ;; esac
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS sandbox/$1"; }
fail() { echo "FAIL sandbox/$1: $2"; failed=1; }

box=$tmp/box
mkdir -p "$box/sub" "$tmp/out"
echo "the secret" > "$tmp/secret.txt"
echo "2.5" > "$box/data.txt"
ln -s ../secret.txt "$box/link.txt"
ln -s "$tmp" "$box/up"
ln -s "$tmp/nowhere.txt" "$tmp/out/dangling.txt"
printf 'return { twice = function(x) return 2 * x end }\n' > "$box/helper.lua"
# a C module and a bytecode file inside the folder
cat > "$tmp/evil.c" <<'EOF'
#include <stdio.h>
int luaopen_evil(void *L) { (void)L; puts("ESCAPED (C code ran)"); return 0; }
EOF
cc -shared -fPIC -o "$box/evil.so" "$tmp/evil.c" 2> /dev/null
"$HEBB" -e "local f = io.open('$box/bc.luac', 'wb') f:write(string.dump(load('print(\"ESCAPED (bytecode ran)\")'))) f:close()"

# attempt NAME EXPECTED CODE: runs CODE with hebb --sandbox [$LIMITS]
attempt() {
  name=$1 want=$2
  printf '%s\n' "$3" > "$box/$name.lua"
  (cd "$tmp" && "$HEBB" --sandbox $LIMITS "box/$name.lua") > "$tmp/$name.out" 2>&1
  if grep -q ESCAPED "$tmp/$name.out"; then
    fail "$name" "escaped: $(tr '\n' ' ' < "$tmp/$name.out")"
  elif grep -qF -- "$want" "$tmp/$name.out"; then
    pass "$name"
  else
    fail "$name" "expected '$want', got: $(tr '\n' ' ' < "$tmp/$name.out" | cut -c1-300)"
  fi
}

# --- processes -------------------------------------------------------------------
attempt os_execute "attempt to call a nil value (field 'execute')" \
  'os.execute("echo ESCAPED")'
attempt io_popen "attempt to call a nil value (field 'popen')" \
  'print(io.popen("echo ESCAPED"):read("a"))'
attempt tmpname_tmpfile "nil nil" \
  'print(tostring(os.tmpname) .. " " .. tostring(io.tmpfile))'

# --- files -------------------------------------------------------------------------
attempt read_outside "sandbox: reading '../secret.txt' is not allowed" \
  'local f, e = io.open("../secret.txt") if f then print("ESCAPED", f:read("a")) end print(e)'
attempt read_absolute "sandbox: reading '$tmp/secret.txt' is not allowed" \
  "local f, e = io.open('$tmp/secret.txt') if f then print('ESCAPED') end print(e)"
attempt symlink_file "sandbox: reading 'box/link.txt' is not allowed" \
  'local f, e = io.open("box/link.txt") if f then print("ESCAPED", f:read("a")) end print(e)'
attempt symlink_folder "sandbox: reading 'box/up/secret.txt' is not allowed" \
  'local f, e = io.open("box/up/secret.txt") if f then print("ESCAPED") end print(e)'
attempt dotdot_inside "sandbox: reading 'box/sub/../../secret.txt' is not allowed" \
  'local f, e = io.open("box/sub/../../secret.txt") if f then print("ESCAPED") end print(e)'
attempt io_lines "sandbox: reading '../secret.txt' is not allowed" \
  'for l in io.lines("../secret.txt") do print("ESCAPED", l) end'
attempt io_input "sandbox: reading '../secret.txt' is not allowed" \
  'io.input("../secret.txt") print("ESCAPED", io.read("a"))'
attempt dofile_outside "sandbox: reading '../secret.txt' is not allowed" \
  'dofile("../secret.txt") print("ESCAPED")'
attempt write_anywhere "sandbox: writing 'box/new.txt' is not allowed (writes go only below nowhere)" \
  'local f, e = io.open("box/new.txt", "w") if f then print("ESCAPED") end print(e)'
attempt remove_outside "sandbox: writing '../secret.txt' is not allowed" \
  'local ok, e = os.remove("../secret.txt") if ok then print("ESCAPED") end print(e)'
attempt rename_outside "sandbox: writing 'box/data.txt' is not allowed" \
  'local ok, e = os.rename("box/data.txt", "../x.txt") if ok then print("ESCAPED") end print(e)'
attempt c_reader_outside "sandbox: reading '$tmp/secret.txt' is not allowed" \
  "require('hebb.data').read_idx('$tmp/secret.txt') print('ESCAPED')"
attempt library_reader_outside "sandbox: reading '../secret.txt' is not allowed" \
  'require("hebb.io").load("../secret.txt") print("ESCAPED")'
attempt getenv "nil" \
  'print(os.getenv("HOME"))'

# --- native code and bytecode ------------------------------------------------------
attempt loadlib "attempt to call a nil value (field 'loadlib')" \
  "package.loadlib('$box/evil.so', 'luaopen_evil')()"
attempt require_c_module "module 'evil' not found" \
  "package.cpath = '$box/?.so' require('evil') print('ESCAPED')"
attempt load_bytecode "attempt to load a binary chunk (mode is 't')" \
  'local f = assert(load(string.char(27) .. "Lua" .. string.rep("x", 40), "x", "b")) f()'
attempt loadfile_bytecode "attempt to load a binary chunk (mode is 't')" \
  'local f, e = loadfile("box/bc.luac") if f then f() end print(e)'
attempt string_dump "nil nil" \
  'print(tostring(string.dump) .. " " .. tostring(("").dump))'

# --- the debug library, metatables, internals -------------------------------------
attempt debug_library "module 'debug' not found" \
  'print(debug) require("debug") print("ESCAPED")'
attempt string_metatable "attempt to index a boolean value" \
  'local mt = getmetatable("") mt.__index.gsub = function() print("ESCAPED") end'
attempt file_metatable "false" \
  'print(getmetatable(io.stdout))'
attempt real_globals "nil nil nil" \
  'print(("%s %s %s"):format(rawget(_G, "debug"), load("return debug")(), _G.package.loadlib))'
attempt collectgarbage_stop "sandbox: collectgarbage(\"stop\") is not allowed" \
  'collectgarbage("stop") print("ESCAPED")'
attempt collectgarbage_mode "sandbox: collectgarbage(\"generational\") is not allowed" \
  'collectgarbage("generational") print("ESCAPED")'
attempt runner_internals "sandbox: module 'hebb._notebook' is not available inside the sandbox" \
  'local N = require("hebb._notebook") N.set_guard(nil) print("ESCAPED")'
attempt notebook_module "sandbox: module 'hebb.notebook' is not available inside the sandbox" \
  'require("hebb.notebook") print("ESCAPED")'
attempt require_path_escape "module '../secret' not found" \
  'require("../secret") print("ESCAPED")'

# --- what still works ---------------------------------------------------------------
attempt allowed_work "ok 5.0 4.0 true box/allowed_work.lua" \
  'local T = require "hebb.tensor"
local h = require "helper"
local f = assert(io.open("box/data.txt")) local v = f:read("n") f:close()
print(("ok %s %s %s %s"):format(h.twice(v), T.ones(2, 2):sum(), collectgarbage("count") > 0, arg[0]))'

# --- limits ----------------------------------------------------------------------
LIMITS="--cpu 1"
attempt cpu_limit "stopped: CPU time limit exceeded" \
  'coroutine.wrap(function() while true do end end)() print("ESCAPED")'
LIMITS="--mem 100"
attempt mem_limit "out of memory" \
  'local T = require "hebb.tensor" local t = T.zeros(100000000) print("ESCAPED", t:numel())'
LIMITS=""
"$HEBB" --sandbox -e 'print(1)' > "$tmp/o.out" 2>&1
if [ $? -ne 0 ] && grep -q -- "--sandbox runs one script file" "$tmp/o.out"; then
  pass no_e_with_sandbox
else
  fail no_e_with_sandbox "$(cat "$tmp/o.out")"
fi

# --- a notebook run in the sandbox ----------------------------------------------------
cp tests/notebook/demo.lua "$box/demo.lua"
cp "$box/data.txt" "$box/data.txt.bak"
if "$HEBB" notebook run --sandbox "$box/demo.lua" -o "$tmp/out" > "$tmp/nb.out" 2>&1 &&
   [ -s "$tmp/out/demo.html" ] && grep -q '"path": "data.txt"' "$tmp/out/demo.manifest.json"; then
  pass notebook_runs_in_sandbox
else
  fail notebook_runs_in_sandbox "$(cat "$tmp/nb.out")"
fi
cat > "$box/escape.lua" <<EOF
-- %%
local f = io.open("$tmp/out/x.txt", "w") f:write("inside the output folder") f:close()
print("wrote the output folder")
-- %% [error=continue]
local g = assert(io.open("$tmp/out/dangling.txt", "w")) print("ESC" .. "APED")
-- %% [error=continue]
local h = assert(io.open("$box/data.txt", "w")) print("ESC" .. "APED")
-- %% [error=continue]
getmetatable("").__index.format = function() return "<script>" end
-- %%
print(require("hebb._display").sink and "sink present")
EOF
"$HEBB" notebook run --sandbox "$box/escape.lua" -o "$tmp/out" > "$tmp/nb2.out" 2>&1
if grep -q "wrote the output folder" "$tmp/out/escape.md" &&
   grep -q "a symbolic link to nowhere" "$tmp/out/escape.md" &&
   grep -q "sandbox: writing '$box/data.txt' is not allowed" "$tmp/out/escape.md" &&
   grep -q "attempt to index a boolean value" "$tmp/out/escape.md" &&
   ! grep -q ESCAPED "$tmp/out/escape.md" && [ ! -e "$tmp/nowhere.txt" ] &&
   ! grep -q "<script" "$tmp/out/escape.html"; then
  pass notebook_writes_only_the_output_folder
else
  fail notebook_writes_only_the_output_folder "$(cat "$tmp/nb2.out" "$tmp/out/escape.md" | tail -20)"
fi
exit $failed
