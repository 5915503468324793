-- hebb._autograd_ode: the backward rule of hebb._ode.combine, the fused
-- y + sum_j c_j k_j of hebb.ode's integrators.  It is linear with real
-- coefficients: grad_y = g, grad_k_j = c_j g (for complex tensors too).
-- The rule is tensor operations, so it can be differentiated again.
local A = require "hebb._autograd_engine"

local R = A._ruleset()
R.def("_ode.combine", function(g, a)
  local cs, gk = a[3], {}
  for j = 1, #a[2] do gk[j] = g * cs[j] end
  return g, gk
end)

return R
