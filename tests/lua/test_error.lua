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

check.done()
