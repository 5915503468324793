-- The hebb module for stock Lua 5.4 through LuaRocks: in hebb's source tree,
--   luarocks --lua-version 5.4 make
-- builds build/hebb.so with `make rock` (the core, the bindings and the
-- embedded Lua library in one file) and installs it as the rock's hebb.so,
-- from which `require "hebb.tensor"`, "hebb.nn", ... load through Lua's
-- all-in-one loader.  tests/packaging builds it into a temporary tree.
rockspec_format = "3.0"
package = "hebb"
version = "0.1.0-1"
source = {
  -- hebb is built from its source tree (luarocks make); there is no archive
  url = "file://.",
}
description = {
  summary = "Tensors, automatic differentiation, networks and optimizers for Lua 5.4",
  detailed = [[
hebb's native modules as one C module: hebb.tensor (f64/f32/i64/bool/c128/c64
tensors, broadcasting, views, reductions, matmul, a counter-based generator),
hebb.autograd, hebb.nn, hebb.optim, hebb.linalg, hebb.fft, hebb.sparse and the
rest of hebb's library.  OpenBLAS and FFTW are opened on first use.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "make",
  build_target = "rock",
  build_variables = {
    LUA_INC = "$(LUA_INCDIR)",
  },
  install_target = "rock-install",
  install_variables = {
    ROCK_LIBDIR = "$(LIBDIR)",
  },
}
