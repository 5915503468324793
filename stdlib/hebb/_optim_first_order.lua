-- hebb._optim_first_order: the first-order optimizers of hebb.optim --
-- SGD, Adam, AdamW, RMSProp and Adagrad, with their functional forms.
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._optim"
local B = require "hebb._optim_base"
local doc = require("hebb").doc

local M = {}
local new, class = B._new, B._class

-- --- SGD ----------------------------------------------------------------

local SGD = class("SGD")
SGD._spec = {
  { "lr", nil, "nonneg!" }, { "momentum", 0, "nonneg" }, { "dampening", 0, "nonneg" },
  { "weight_decay", 0, "nonneg" }, { "nesterov", false, "bool" },
}

function M.SGD(params, opts)
  local self = new(SGD, params, opts)
  if self.nesterov and (self.momentum <= 0 or self.dampening ~= 0) then
    E.raise("optim.SGD: nesterov needs momentum > 0 and dampening = 0 (momentum = %g, dampening = %g)",
      self.momentum, self.dampening)
  end
  return self
end
doc(M.SGD, "optim.SGD(params, {lr [, momentum=0] [, dampening=0] [, weight_decay=0] "
  .. "[, nesterov=false]})\n\nStochastic gradient descent (torch semantics): d = g + wd p; with "
  .. "momentum, b = mu b + (1 - dampening) d (b = d at the first step) and d = b, or d + mu b "
  .. "with nesterov; p -= lr d.  lr is required." .. B._doc_grads)

function SGD:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  hp.name, hp.lr, hp.weight_decay = self._names[i], self.lr, self.weight_decay
  hp.momentum, hp.dampening, hp.nesterov = self.momentum, self.dampening, self.nesterov
  if self.momentum ~= 0 then
    hp.first = st == nil
    if not st then st = { momentum_buffer = T.zeros_like(p) }; self.state[i] = st end
    C.sgd(p, g, hp, st.momentum_buffer)
  else
    hp.first = false
    C.sgd(p, g, hp)
  end
end

M.sgd = B._functional_form("sgd", M.SGD, "SGD")

-- --- Adam, AdamW --------------------------------------------------------

local Adam = class("Adam")
Adam._spec = {
  { "lr", 1e-3, "nonneg" }, { "betas", { 0.9, 0.999 }, "betas" }, { "eps", 1e-8, "nonneg" },
  { "weight_decay", 0, "nonneg" }, { "amsgrad", false, "bool" },
}
local AdamW = class("AdamW", Adam)
AdamW._spec = {
  { "lr", 1e-3, "nonneg" }, { "betas", { 0.9, 0.999 }, "betas" }, { "eps", 1e-8, "nonneg" },
  { "weight_decay", 1e-2, "nonneg" }, { "amsgrad", false, "bool" },
}

function M.Adam(params, opts)
  local self = new(Adam, params, opts)
  return self
end
doc(M.Adam, "optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0, "
  .. "amsgrad=false}])\n\nAdam: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= lr (m/(1-b1^t)) "
  .. "/ (sqrt(v/(1-b2^t)) + eps); weight_decay adds wd p to g; amsgrad uses the running maximum "
  .. "of v.  One pass over p, g, m, v in C." .. B._doc_grads)
function M.AdamW(params, opts)
  local self = new(AdamW, params, opts)
  self._decoupled = true
  return self
end
doc(M.AdamW, "optim.AdamW(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=1e-2, "
  .. "amsgrad=false}])\n\nAdam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr wd "
  .. "before the Adam step, instead of adding wd p to the gradient." .. B._doc_grads)

-- Adam's state of params[i], made at its first step
local function adam_state(self, i, p)
  local st = { step = 0, exp_avg = T.zeros_like(p), exp_avg_sq = T.zeros_like(p) }
  if self.amsgrad then st.max_exp_avg_sq = T.zeros_like(p) end
  self.state[i] = st
  return st
end

-- Every parameter with a gradient in one call of the C loops
-- (_optim.apply): the step counts, the bias corrections (once per step
-- count) and the calls of the loop are made there; a parameter's state is
-- made here at its first step.
function Adam:_apply(grads)
  local hp, params, state, names = self._hp, self.params, self.state, self._names
  hp.lr, hp.weight_decay, hp.eps = self.lr, self.weight_decay, self.eps
  hp.beta1, hp.beta2 = self.betas[1], self.betas[2]
  hp.decoupled, hp.amsgrad = self._decoupled, self.amsgrad
  local i = C.apply("adam", hp, params, grads, state, names, 1,
                    "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
  while i do
    adam_state(self, i, params[i])
    i = C.apply("adam", hp, params, grads, state, names, i,
                "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
  end
end
-- _apply records nothing (T.zeros_like of a parameter is not tracked):
-- Optimizer:step calls it without switching the grad mode
Adam._plain = true

M.adam = B._functional_form("adam", M.Adam, "Adam")
M.adamw = B._functional_form("adamw", M.AdamW, "AdamW")

-- --- RMSProp, Adagrad ---------------------------------------------------

local RMSProp = class("RMSProp")
RMSProp._spec = {
  { "lr", 1e-2, "nonneg" }, { "alpha", 0.99, "unit" }, { "eps", 1e-8, "nonneg" },
  { "weight_decay", 0, "nonneg" }, { "momentum", 0, "nonneg" }, { "centered", false, "bool" },
}
function M.RMSProp(params, opts)
  local self = new(RMSProp, params, opts)
  return self
end
doc(M.RMSProp, "optim.RMSProp(params [, {lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, "
  .. "momentum=0, centered=false}])\n\nv = alpha v + (1-alpha) g^2; avg = sqrt(v) + eps (centered: "
  .. "sqrt(v - gbar^2) + eps with gbar the average gradient); p -= lr g/avg, or with momentum "
  .. "b = mu b + g/avg, p -= lr b." .. B._doc_grads)

function RMSProp:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  if not st then
    st = { step = 0, square_avg = T.zeros_like(p) }
    if self.momentum > 0 then st.momentum_buffer = T.zeros_like(p) end
    if self.centered then st.grad_avg = T.zeros_like(p) end
    self.state[i] = st
  end
  st.step = st.step + 1
  hp.name, hp.lr, hp.weight_decay, hp.eps = self._names[i], self.lr, self.weight_decay, self.eps
  hp.beta2, hp.momentum = self.alpha, self.momentum
  hp.has_momentum, hp.centered = st.momentum_buffer ~= nil, st.grad_avg ~= nil
  if st.momentum_buffer then
    C.rmsprop(p, g, hp, st.square_avg, st.momentum_buffer, st.grad_avg)
  else
    C.rmsprop(p, g, hp, st.square_avg, st.grad_avg)
  end
end

local Adagrad = class("Adagrad")
Adagrad._spec = {
  { "lr", 1e-2, "nonneg" }, { "lr_decay", 0, "nonneg" }, { "weight_decay", 0, "nonneg" },
  { "initial_accumulator_value", 0, "nonneg" }, { "eps", 1e-10, "nonneg" },
}
function M.Adagrad(params, opts)
  local self = new(Adagrad, params, opts)
  return self
end
doc(M.Adagrad, "optim.Adagrad(params [, {lr=1e-2, lr_decay=0, weight_decay=0, "
  .. "initial_accumulator_value=0, eps=1e-10}])\n\ns += g^2; p -= lr/(1 + (t-1) lr_decay) g / "
  .. "(sqrt(s) + eps)." .. B._doc_grads)

function Adagrad:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  if not st then
    st = { step = 0, sum = T.full_like(p, self.initial_accumulator_value) }
    self.state[i] = st
  end
  st.step = st.step + 1
  hp.name, hp.weight_decay, hp.eps = self._names[i], self.weight_decay, self.eps
  hp.lr = self.lr / (1 + (st.step - 1) * self.lr_decay)
  C.adagrad(p, g, hp, st.sum)
end

M.rmsprop = B._functional_form("rmsprop", M.RMSProp, "RMSProp")
M.adagrad = B._functional_form("adagrad", M.Adagrad, "Adagrad")

return M
