-- test_error.lua -- hebb._error: library errors name the user's line, and
-- unknown options suggest the closest known name.
local check = require "check"
local E = require "hebb._error"
local test, eq = check.test, check.eq

local function line_of_error(f)
  local ok, err = pcall(f)
  check.truthy(not ok, "raised")
  return err
end

test("raise_names_the_callers_line", function()
  local here = debug.getinfo(1, "l").currentline
  local err = line_of_error(function() E.raise("boom %d", 7) end)
  eq(err, "tests/lua/test_error.lua:" .. (here + 1) .. ": boom 7")
end)

test("checkopts_suggests_a_close_name", function()
  local err = line_of_error(function()
    E.checkopts("optim.Adam", {beta = 0.9}, {betas = true, lr = true})
  end)
  check.truthy(err:find("optim.Adam: unknown option \"beta\" (did you mean 'betas'?)", 1, true), err)
  err = line_of_error(function() E.checkopts("f", {zzzzzz = 1}, {lr = true}) end)
  check.truthy(err:find('f: unknown option "zzzzzz"$'), err)
  err = line_of_error(function() E.checkopts("f", 5, {lr = true}) end)
  check.truthy(err:find("f: options must be a table, got 5", 1, true), err)
  eq(next(E.checkopts("f", nil, {})), nil)
end)

test("show_names_values", function()
  local T = require "hebb.tensor"
  eq(E.show("x"), '"x"')
  eq(E.show(T.zeros(2, 3)), "f64 tensor of shape {2, 3}")
  eq(E.show({}), "a table")
end)

-- errors raised by C functions inside the library (T.linear, reached
-- through nn.Sequential and nn.Linear) name the user's line, as the
-- library's own checks do
test("c_errors_inside_modules_name_the_users_line", function()
  local T = require "hebb.tensor"
  local nn = require "hebb.nn"
  local lin = nn.Linear(3, 4)
  lin.weight = T.zeros(4, 5)          -- a weight that does not fit
  local net = nn.Sequential(lin, nn.Tanh())
  local here = debug.getinfo(1, "l").currentline
  local err = line_of_error(function() local _ = net(T.ones(2, 3)) end)
  eq(err, "tests/lua/test_error.lua:" .. (here + 1) .. ": linear: input of shape {2,3} "
     .. "does not fit a weight of shape {4,5} (expected {out, in} with in the input's last size)")
  here = debug.getinfo(1, "l").currentline
  err = line_of_error(function() local _ = nn.Sequential(nn.Tanh())("x") end)
  eq(err:match("^[^:]+:%d+"), "tests/lua/test_error.lua:" .. (here + 1))
  here = debug.getinfo(1, "l").currentline
  err = line_of_error(function() local _ = net(T.ones(2, 7)) end)
  eq(err, "tests/lua/test_error.lua:" .. (here + 1)
     .. ": nn.Linear: the input's last dimension must be 3, got shape {2,7}")
end)

-- the same for an optimizer's C kernels (a gradient of the wrong shape)
test("c_errors_inside_optimizers_name_the_users_line", function()
  local T = require "hebb.tensor"
  local optim = require "hebb.optim"
  local want = ": optim.Adam (params[1]): gradient shape {4} does not match parameter shape {3}"
  local opt = optim.Adam({ T.zeros(3) })
  local here = debug.getinfo(1, "l").currentline
  local err = line_of_error(function() local _ = opt:update({ T.zeros(4) }) end)
  eq(err, "tests/lua/test_error.lua:" .. (here + 1) .. want)
  here = debug.getinfo(1, "l").currentline
  err = line_of_error(function() local _ = opt:step(function() return 0, { T.zeros(4) } end) end)
  eq(err, "tests/lua/test_error.lua:" .. (here + 1) .. want)
end)

-- E.call moves only what C functions raise; error() keeps its level and a
-- user's function its own line
test("call_leaves_lua_errors_alone", function()
  eq(line_of_error(function() E.call(function() error("plain", 0) end) end), "plain")
  local here = debug.getinfo(1, "l").currentline
  local err = line_of_error(function() E.call(function() error("mine") end) end)
  eq(err, "tests/lua/test_error.lua:" .. here + 1 .. ": mine")
  local t = {}
  eq(line_of_error(function() E.call(error, t) end), t)
  eq(select("#", E.call(function() return 1, nil, 3 end)), 3)
end)

-- bare: the message a library passes on, without the position in front
test("bare_strips_one_position", function()
  local ok, err = pcall(error, "io.load: no file", 1)
  eq(ok, false)
  eq(E.bare(err), "io.load: no file")
  eq(E.bare("stdlib/hebb/data.lua:29: x.lua:3: bad"), "x.lua:3: bad")
  eq(E.bare("no position: 3: here"), "no position: 3: here")
  eq(E.bare("multi\nline.lua:4: not at the start"), "multi\nline.lua:4: not at the start")
end)

check.done()
