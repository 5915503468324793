-- hebb.autograd: define-by-run reverse-mode differentiation.
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files"): the tape (hebb._autograd_engine), the tools
-- built on it (hebb._autograd_tools), and the rule files, each a plain
-- module returning a set of backward rules that is installed here:
-- hebb._autograd_rules when this file loads, the others on first use.  A
-- new rule file is one more line in LAZY.
local doc = require("hebb").doc
local parts = require "hebb._parts"
local engine = require "hebb._autograd_engine"

local M = {}
doc(M, "hebb.autograd\n\nReverse-mode automatic differentiation, "
  .. "define by run: operations on tensors that require grad are recorded and "
  .. "y:backward() or autograd.grad(f, x) walks them back.  Higher derivatives "
  .. "(hvp, laplacian), gradcheck and custom functions.  See docs/autograd.md.")

-- (the tools are loaded on first use: hebb._parts)
parts.install(M, { "hebb._autograd_engine", { "hebb._autograd_tools", "gradcheck",
  "gradgradcheck", "hvp", "jacobian", "laplacian" } }, "hebb.autograd")

engine._install(require "hebb._autograd_rules")   -- hebb.tensor's operations

-- The other rule files are loaded on first use (docs/performance.md, "the
-- resident heap"): every collector cycle marks and sweeps what is loaded,
-- and most programs differentiate none of these ops.  LAZY says which ops
-- each file defines, by the module prefix of their names or one by one;
-- looking up an op of an unloaded file in the rule table (the recorder,
-- or autograd.rules[name]) loads the file and installs its rules, except
-- those set meanwhile (a user's defrule or nondiff stays).  A lazy file
-- must not replace another file's rule; test_autograd checks both.
-- (*) the hooks by which the sparse file follows matrices made from tracked
-- values are installed when the first one is made (l_sparse.c, follow).
local LAZY = {
  { "hebb._autograd_sparse", prefix = "sparse." },    -- hebb.sparse (*)
  { "hebb._autograd_linalg", prefix = "linalg." },    -- hebb.linalg
  { "hebb._autograd_contract", "einsum", "ncon", "tensordot" },
  { "hebb._autograd_fft", prefix = "fft." },          -- hebb.fft
  { "hebb._autograd_complex", "angle", "complex", "conj", "imag", "real", "vdot" },
  { "hebb._autograd_ode", prefix = "_ode." },         -- hebb.ode's fused combination
  { "hebb._autograd_fields", prefix = "_fields." },   -- hebb.fields' lattice Laplacian
  { "hebb._autograd_special",                          -- sort, topk, roll, flip, special functions
    "_tetragamma", "_zeta_prime", "argsort", "bessel_i0", "bessel_i1", "bessel_j0",
    "bessel_j1", "digamma", "ellipe", "ellipk", "erf", "erfc", "flip", "gamma", "histc",
    "lgamma", "roll", "searchsorted", "sort", "topk", "trigamma", "unique", "zeta" },
}
engine._lazy_rules = LAZY   -- (for test_autograd)
local by_name, by_prefix = {}, {}
for _, e in ipairs(LAZY) do
  if e.prefix then by_prefix[e.prefix] = e end
  for i = 2, #e do by_name[e[i]] = e end
end

local rules = engine.rules
local function load_part(e)
  if e.prefix then by_prefix[e.prefix] = nil end
  for i = 2, #e do by_name[e[i]] = nil end
  for name, r in pairs(require(e[1]).rules) do
    if rawget(rules, name) == nil then rawset(rules, name, r) end
  end
  if next(by_name) == nil and next(by_prefix) == nil then setmetatable(rules, nil) end
end
-- the names no lazy file defines, which the recorder asks for at every call
-- (an in-place op's "add_" before "add", an op without a rule): by_name and
-- by_prefix only shrink, so a miss stays one.  Without this set, the match
-- below made recorded in-place ops on 4-element tensors ~15% slower.
local missed = {}
setmetatable(rules, { __index = function(_, name)
  if missed[name] or type(name) ~= "string" then return nil end
  local e = by_name[name] or by_prefix[name:match("^[%w_]*%.") or false]
  if not e then
    missed[name] = true
    return nil
  end
  load_part(e)
  return rawget(rules, name)
end })

return M
