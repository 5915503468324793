-- hebb._autograd_fields: the backward rule of hebb._fields.laplacian.  The
-- periodic lattice Laplacian is linear and symmetric, so its gradient is
-- the Laplacian of the output gradient (again differentiable).
local A = require "hebb._autograd_engine"

local R = A._ruleset()
R.def("_fields.laplacian", function(g, a)
  return require("hebb._fields").laplacian(g, a[2])
end)

return R
