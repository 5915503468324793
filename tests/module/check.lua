-- check.lua -- run by tests/module/run.sh under the stock lua5.4: requires
-- the two modules named in arg[1] and arg[2] ("-" for none) in that order,
-- then uses them.  Prints "PASS module/CASE/name" or "FAIL module/CASE/name:
-- why" per check, CASE being arg[3].
local C = require "check"   -- tests/lua/lib, on LUA_PATH (run.sh)
C.suite = "module/" .. arg[3]
local check = C.ok

local mods = {}
for i = 1, 2 do
  local name = arg[i]
  if name and name ~= "-" then
    local ok, m = pcall(require, name)
    check("require_" .. name, ok and type(m) == "table", m)
    if not ok then os.exit(1) end
    mods[name] = m
  end
end
local T = mods["hebb.tensor"] or mods.hebb.tensor

-- tensor math through the module
local a = T.tensor{{1.0, 2.0}, {3.0, 4.0}}
local b = a + a * 2
check("arith", b:get(2, 2) == 12.0 and b.dtype == "f64")
check("reduce", a:sum() == 10.0)
local c = T.matmul(a, a)
check("matmul", c:get(1, 1) == 7 and c:get(2, 2) == 22)
check("index", a[2][1] == 3.0)
check("tostring", tostring(a):find("tensor", 1, true) ~= nil or tostring(a):find("f64", 1, true) ~= nil)
T.manual_seed(0)
check("random", T.rand(2):get(1) == 0.8805201978886142)

-- the umbrella module (required here if the case did not)
local hebb = mods.hebb or require "hebb"
check("same_module", hebb.tensor == T and package.loaded["hebb.tensor"] == T)
check("version", type(hebb.version) == "string" and hebb.version:match("^%d+%.%d+"))

-- docstrings
local d = hebb.doc(T.matmul)
check("doc_function", type(d) == "string" and d:find("^T%.matmul"))
check("doc_module", type(hebb.doc(T)) == "string" and hebb.doc(hebb):find("^hebb"))
hebb.doc(check, "check(name, ok)\n\nmine")
check("doc_set", hebb.doc(check) == "check(name, ok)\n\nmine")

-- the learning modules (pure Lua over the C hook) work under stock lua5.4
local autograd, nn = require "hebb.autograd", require "hebb.nn"
local w = T.tensor({1.0, 2.0}):requires_grad_()
;(w * w):sum():backward()
check("autograd_backward", T.equal(w.grad, T.tensor({2.0, 4.0})))
check("autograd_grad_of_grad", autograd.grad(function(x)
  return autograd.grad(function(u) return (u ^ 3):sum() end, x):sum()
end, T.tensor({1.0})):item() == 6)
check("nn_linear", nn.Linear(3, 2)(T.ones(4, 3)).shape[1] == 4)

-- OpenMP worker threads run, then the interpreter closes (the module must
-- stay mapped: lua_close unloads C modules)
hebb.threads(2)
local big = T.randn(2000000)
check("threads", big:numel() == 2000000 and hebb.threads() == 2)
check("gc", pcall(collectgarbage))
C.done(true)
