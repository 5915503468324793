#!/bin/sh
# tests/deps -- every program the tests, benches and CI call is installed by
# tools/deps.sh (see check_deps.lua).
cd "$(dirname "$0")/../.." || exit 2
LUA_PATH="tests/lua/lib/?.lua;;" exec "$HEBB" tests/deps/check_deps.lua
