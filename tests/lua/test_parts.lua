-- test_parts.lua -- modules made of parts (stdlib/hebb/_parts.lua), with
-- the parts loaded on first use: nothing is loaded before it is needed,
-- every public name is in the module (pairs lists it, hebb.doc documents
-- it), the first call of a stub or its docstring puts the part's own
-- function in its place, and an entry that does not name the part's exports
-- is an error.
local check = require "check"
local hebb = require "hebb"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local O = require "hebb.optim"
local parts = require "hebb._parts"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy

-- the part files of a module: the embedded modules named hebb._<prefix>...
local function files(prefix)
  local r = {}
  for name in pairs(package.preload) do
    if name:sub(1, #prefix) == prefix then r[#r + 1] = name end
  end
  table.sort(r)
  return r
end

-- the lazy files (of hebb.autograd, hebb.optim and hebb.tensor) are not
-- loaded by require; the first call of a stub loads its file only
test("nothing_loaded_before_use", function()
  for _, f in ipairs({ "hebb._autograd_tools", "hebb._optim_covariant", "hebb._optim_dynamics",
      "hebb._optim_lbfgs", "hebb._optim_schedules", "hebb._tensor_fuse" }) do
    eq(package.loaded[f], nil, f)
  end
  local stub = O.StepLR
  local p = T.ones(2):requires_grad_()
  local opt = O.SGD({ p }, { lr = 1 })
  local sched = stub(opt, { step_size = 1, gamma = 0.5 })
  truthy(package.loaded["hebb._optim_schedules"], "loaded by the first call")
  eq(package.loaded["hebb._optim_lbfgs"], nil, "other parts stay unloaded")
  eq(O.StepLR, require("hebb._optim_schedules").StepLR, "the real function in the stub's place")
  truthy(O.StepLR ~= stub)
  sched:step()
  eq(opt.lr, 0.5)
  -- a stub kept from before calls the real function
  local again = stub(opt, { step_size = 1, gamma = 0.5 })
  again:step()
  eq(opt.lr, 0.25)
end)

-- every public name of every part file is in the module, documented, and
-- after the docstrings were asked for, is the part's own value
test("every_name_present_and_documented", function()
  for _, m in ipairs({ { A, "hebb.autograd", { "hebb._autograd_engine", "hebb._autograd_tools" } },
      { O, "hebb.optim", files("hebb._optim_") } }) do
    local M, name, list = m[1], m[2], m[3]
    local docs = {}
    for k, v in pairs(M) do
      if type(v) == "function" and type(k) == "string" and k:sub(1, 1) ~= "_" then
        docs[k] = hebb.doc(v)
        truthy(docs[k], name .. "." .. k .. " documented")
      end
    end
    for _, f in ipairs(list) do
      if f ~= "hebb._optim_base" then
        for k, v in pairs(require(f)) do
          if type(k) == "string" and k:sub(1, 1) ~= "_" then
            eq(M[k], v, name .. "." .. k .. " from " .. f)
            if type(v) == "function" then eq(hebb.doc(v), docs[k], name .. "." .. k .. "'s docstring") end
          end
        end
      end
    end
  end
end)

-- T.fuse: a stub until its first call, with the same docstring
test("fuse_stub", function()
  local d = hebb.doc(T.fuse)
  truthy(d and d:find("^T%.fuse%(fn%)"), "documented before its first call")
  local f = T.fuse(function(x) return x * 2 + 1 end)
  eq(f(T.tensor({ 1, 2 })):totable()[2], 5)
  eq(hebb.doc(T.fuse), d)
  raises(function() T.fuse(3) end, "fuse: fn must be a function, got 3")
end)

-- an entry must name exactly the part's public functions
test("entries_checked", function()
  local m = parts.install({}, { { "hebb._optim_lbfgs", "LBFGS" } }, "mod")
  raises(function() m.LBFGS({ T.ones(1):requires_grad_() }) end,
    "mod: hebb._optim_lbfgs exports 'lbfgs', which its entry does not list")
  local m2 = parts.install({}, { { "hebb._optim_dynamics", "Langevin", "Hamiltonian", "Verlet" } }, "mod")
  raises(function() return hebb.doc(m2.Langevin) end, "mod: hebb._optim_dynamics exports no function 'Verlet'")
  raises(function()
    parts.install({}, { "hebb._optim_lbfgs", { "hebb._optim_covariant", "lbfgs" } }, "mod")
  end, "mod: hebb._optim_lbfgs and hebb._optim_covariant both export 'lbfgs'")
  raises(function()
    parts.install({}, { { "hebb._optim_covariant", "lbfgs" }, "hebb._optim_lbfgs" }, "mod")
  end, "mod: hebb._optim_covariant and hebb._optim_lbfgs both export 'lbfgs'")
end)

check.done()
