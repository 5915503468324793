-- hebb.autograd: define-by-run reverse-mode differentiation.
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files"): the tape (hebb._autograd_engine), the tools
-- built on it (hebb._autograd_tools), and the rule files, each a plain
-- module returning a set of backward rules that is installed here in the
-- order listed (a later set may replace an earlier one's rule).  A new rule
-- file is one more line in RULES.
local doc = require("hebb").doc
local parts = require "hebb._parts"
local engine = require "hebb._autograd_engine"

local M = {}
doc(M, "hebb.autograd\n\nReverse-mode automatic differentiation, "
  .. "define by run: operations on tensors that require grad are recorded and "
  .. "y:backward() or autograd.grad(f, x) walks them back.  Higher derivatives "
  .. "(hvp, laplacian), gradcheck and custom functions.  See docs/autograd.md.")

parts.install(M, { "hebb._autograd_engine", "hebb._autograd_tools" }, "hebb.autograd")

local RULES = {
  "hebb._autograd_rules",      -- hebb.tensor's operations
  "hebb._autograd_sparse",     -- hebb.sparse
  "hebb._autograd_linalg",     -- hebb.linalg
  "hebb._autograd_contract",   -- einsum, tensordot, ncon
  "hebb._autograd_fft",        -- hebb.fft
  "hebb._autograd_complex",    -- complex, real, imag, conj, angle, vdot
  "hebb._autograd_ode",        -- hebb.ode's fused combination
  "hebb._autograd_fields",     -- hebb.fields' lattice Laplacian
  "hebb._autograd_special",    -- sort, topk, roll, flip, special functions
}
for _, part in ipairs(RULES) do engine._install(require(part)) end

return M
