-- hebb.nn: networks as trees of modules.
--
-- This file assembles the module from its parts (docs/design.md, "Modules
-- made of several files"): each part is a plain module that returns a
-- table of classes and functions, and every public name (no leading
-- underscore) of every part becomes a field of hebb.nn.  A part may
-- require the parts listed before it, never hebb.nn itself.
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.nn\n\nNetworks as trees of modules: nn.Module (parameters, "
  .. "buffers, submodules, state_dict, train/eval), layers (Linear, Bilinear, "
  .. "Conv1d/2d/3d with periodic padding, activations, LayerNorm, Dropout, "
  .. "RNNCell, NeuronNetwork), constrained parametrizations (antisymmetric, "
  .. "symmetric, orthogonal, positive_definite, masked, tied weights) and "
  .. "losses.  See docs/nn.md.")

local PARTS = {
  "hebb._nn_module",        -- nn.Module, nn.Parameter, nn.classes
  "hebb._nn_containers",    -- Sequential, ModuleList, ModuleDict, Residual
  "hebb._nn_parametrize",   -- constrained parameters (nn.parametrize, nn.tie)
  "hebb._nn_layers",        -- Linear, Bilinear, activations, ..., NeuronNetwork
  "hebb._nn_conv",          -- Conv1d/2d/3d
  "hebb._nn_loss",          -- the losses and their module forms
  "hebb._nn_continuous",    -- ContinuousNetwork (neurons in continuous time)
}
require("hebb._parts").install(M, PARTS, "hebb.nn")

-- Every model multiplies matrices on its first step: open OpenBLAS now
-- (~4 ms of dlopen and set-up), when the module loads, as torch does at
-- import, instead of inside the first forward pass (docs/performance.md,
-- "fresh process").  Nothing else of hebb loads it before it is needed.
require("hebb").blas()

return M
