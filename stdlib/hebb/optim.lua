-- hebb.optim: optimizers over lists of tensors.
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files"): every public name of each part below becomes a
-- field of hebb.optim.  The parts share hebb._optim_base (options, the
-- base class, the functional form); the update loops are C (hebb._optim).
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.optim\n\nOptimizers over lists of tensors, with their update loops in C: SGD, "
  .. "Adam, AdamW, RMSProp, Adagrad, LBFGS (strong Wolfe), CovariantGD (covariant gradient "
  .. "descent, arXiv:2504.05279), Langevin (SGLD) and Hamiltonian (leapfrog) dynamics; the "
  .. "schedules StepLR, ExponentialLR, CosineAnnealingLR; and torch7's functional forms "
  .. "optim.sgd/adam/adamw/rmsprop/adagrad/cgd/lbfgs(opfunc, x, config, state).  Every "
  .. "optimizer has opt:step([closure]), opt:update(grads), opt:zero_grad(), opt:state_dict(), "
  .. "opt:load_state_dict(sd) and a field opt.lr you may change.  See docs/optim.md.")

-- (a part in braces, with its names, is loaded on first use: hebb._parts)
local PARTS = {
  "hebb._optim_first_order",   -- SGD, Adam, AdamW, RMSProp, Adagrad
  { "hebb._optim_covariant", "CovariantGD", "cgd" },    -- arXiv:2504.05279
  { "hebb._optim_dynamics", "Langevin", "Hamiltonian" },
  { "hebb._optim_lbfgs", "LBFGS", "lbfgs" },
  { "hebb._optim_schedules", "StepLR", "ExponentialLR", "CosineAnnealingLR" },
}
require("hebb._parts").install(M, PARTS, "hebb.optim")

return M
