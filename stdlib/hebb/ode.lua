-- ode.lua -- the module `hebb.ode`: differential equations for tensors.
--
--   ode.solve       explicit Runge-Kutta: Euler, midpoint, RK4 (fixed step) and
--                   Dormand-Prince 5(4) (adaptive, dense output, events)
--   ode.symplectic  splitting methods for separable Hamiltonians
--                   (leapfrog / velocity Verlet, position Verlet, Yoshida 4)
--   ode.sde         Euler-Maruyama and Milstein for Ito SDEs
--   ode.adjoint     gradients of a long solve by the adjoint equations
--                   (all four: hebb._ode_solvers)
--   ode.implicit    stiff linear systems y' = A y + s(t), dense or sparse A:
--                   the theta method and TR-BDF2 (hebb._ode_implicit)
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files").  docs/ode.md has the guide.
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.ode\n\nDifferential equations for tensors: explicit Runge-Kutta "
  .. "(Euler, midpoint, RK4, adaptive Dormand-Prince 5(4) with dense output and "
  .. "events), symplectic integrators for separable Hamiltonians, implicit "
  .. "methods for stiff linear systems (theta method, TR-BDF2; dense or sparse "
  .. "matrices), Euler-Maruyama and Milstein SDEs, and adjoint gradients.  Any "
  .. "float dtype, complex too; differentiable through the steps.  See docs/ode.md.")

require("hebb._parts").install(M, {
  "hebb._ode_solvers",    -- explicit, symplectic, SDE, adjoint; shared helpers
  "hebb._ode_implicit",   -- stiff linear systems
}, "hebb.ode")

return M
