-- optim.lua -- the module `hebb.optim`: optimizers over lists of tensors.
--
-- The per-element update rules (SGD, Adam/AdamW, RMSProp, Adagrad,
-- covariant GD with an identity or diagonal metric, Langevin, the leapfrog
-- kicks and drifts) run in C (natives/core/optim.c through hebb._optim):
-- one pass over each parameter, its gradient and its state.  What is left
-- here is bookkeeping (step counts, bias corrections, state), L-BFGS (a few
-- vector operations per iteration on the flattened parameters) and the full
-- metric of covariant GD (an n x n matrix, for small models).
--
-- Gradients come from p.grad (autograd), or from the closure given to
-- step: `loss, grads = closure()` where grads is a tensor (one parameter)
-- or a list of tensors, for objectives whose gradient is written by hand.
-- Updates run inside autograd.no_grad when hebb.autograd is available.
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._optim"
local doc = require("hebb").doc

local M = {}
local sqrt, exp, cos, pi, floor, huge = math.sqrt, math.exp, math.cos, math.pi, math.floor, math.huge
local is_tensor = T.is_tensor

-- --- autograd, looked up on first use -----------------------------------

local autograd_mod
local function autograd()
  if autograd_mod == nil then
    local ok, m = pcall(require, "hebb.autograd")
    autograd_mod = ok and type(m) == "table" and m or false
  end
  return autograd_mod
end

local function no_grad(fn, ...)
  local ag = autograd()
  if ag and ag.no_grad then return ag.no_grad(fn, ...) end
  return fn(...)
end

-- calls the closure of a step with gradients recorded (it calls backward),
-- whatever mode the caller is in, as torch's optimizers do
local function call_closure(closure)
  local ag = autograd()
  if not (ag and ag.set_grad_enabled) then return closure() end
  local prev = ag.set_grad_enabled(true)
  local ok, loss, grads = pcall(closure)
  ag.set_grad_enabled(prev)
  if not ok then error(loss, 0) end
  return loss, grads
end

-- a loss as a Lua number (a 0-d tensor from autograd, or a number)
local function tonum(f)
  if is_tensor(f) then return f:item() end
  return f
end

local fmtv = E.show

-- --- options ------------------------------------------------------------

-- torch7's names for the functional API
local aliases = {
  learningRate = "lr", weightDecay = "weight_decay", learningRateDecay = "lr_decay",
  epsilon = "eps", maxIter = "max_iter", nCorrection = "history_size",
  tolFun = "tolerance_grad", tolX = "tolerance_change",
}

-- the check of a number option of kind "nonneg", "pos", "unit" ([0, 1)),
-- "int" (>= 1) or "count" (>= 0): what it must be, or nil when v passes
local function number_problem(kind, v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then return "a finite number" end
  if kind == "nonneg" and v < 0 then return ">= 0" end
  if kind == "pos" and not (v > 0) then return "> 0" end
  if kind == "unit" and not (v >= 0 and v < 1) then return "in [0, 1)" end
  if kind == "int" and not (math.tointeger(v) and v >= 1) then return "an integer >= 1" end
  if kind == "count" and not (math.tointeger(v) and v >= 0) then return "an integer >= 0" end
end

-- Reads opts against spec, a list of {key, default, kind}: kinds as above,
-- "bool", "betas", "any".  A default of nil with kind ending in "!" makes
-- the option required.  Unknown keys are errors with the closest known
-- name, so a typo does not pass silently.
local function read_options(who, opts, spec, out)
  local known = {}
  for _, s in ipairs(spec) do known[s[1]] = true end
  for a, k in pairs(aliases) do
    if known[k] then known[a] = true end
  end
  opts = E.checkopts(who, opts, known)
  for _, s in ipairs(spec) do
    local key, default, kind = s[1], s[2], s[3]
    local v = opts[key]
    if v == nil then
      for a, k in pairs(aliases) do
        if k == key and opts[a] ~= nil then v = opts[a] end
      end
    end
    local required = kind:sub(-1) == "!"
    if required then kind = kind:sub(1, -2) end
    if v == nil then
      if required then E.raise("%s: option %s is required", who, key) end
      v = default
    end
    if v ~= nil then
      if kind == "bool" then
        if type(v) ~= "boolean" then
          E.raise("%s: %s = %s must be true or false", who, key, fmtv(v))
        end
      elseif kind == "betas" then
        if type(v) ~= "table" or type(v[1]) ~= "number" or type(v[2]) ~= "number"
            or not (v[1] >= 0 and v[1] < 1 and v[2] >= 0 and v[2] < 1) then
          E.raise("%s: %s = %s must be a table {b1, b2} with 0 <= b < 1",
            who, key, type(v) == "table" and ("{" .. fmtv(v[1]) .. ", " .. fmtv(v[2]) .. "}") or fmtv(v))
        end
        v = { v[1], v[2] }
      elseif kind ~= "any" then
        local want = number_problem(kind, v)
        if want then E.raise("%s: %s = %s must be %s", who, key, fmtv(v), want) end
        if kind == "int" or kind == "count" then v = math.tointeger(v) end
      end
    end
    out[key] = v
  end
  return out
end

-- params: a non-empty list of f64/f32 tensors (or one tensor)
local function check_params(who, params)
  if is_tensor(params) then params = { params } end
  if type(params) ~= "table" then
    E.raise("%s: params must be a tensor or a list of tensors, got %s", who, fmtv(params))
  end
  if #params == 0 and next(params) ~= nil then
    E.raise("%s: the first argument is the list of parameters, got a table of options "
      .. "(write %s(params, {...}))", who, who)
  end
  local list = {}
  for i = 1, #params do
    local p = params[i]
    if not is_tensor(p) then
      E.raise("%s: params[%d] must be a tensor, got %s", who, i, fmtv(p))
    end
    if p.dtype ~= "f64" and p.dtype ~= "f32" then
      E.raise("%s: params[%d] has dtype %s; parameters must be f64 or f32",
        who, i, p.dtype)
    end
    list[i] = p
  end
  if #list == 0 then E.raise(who .. ": params is an empty list") end
  return list
end

-- --- the base class -----------------------------------------------------

local Optimizer = {}
Optimizer.__index = Optimizer

local function class(name, parent)
  local c = setmetatable({}, { __index = parent or Optimizer })
  c.__index = c
  c.__name = name
  c.__tostring = function(self)
    return string.format("%s(%d parameters, lr = %g)", name, #self.params, self.lr)
  end
  return c
end

-- (the constructors call it without a tail call: its errors are raised at
-- level 4, the constructor's caller)
local function new(cls, params, opts)
  local who = "optim." .. cls.__name
  local self = setmetatable({}, cls)
  self.params = check_params(who, params)
  read_options(who, opts, cls._spec, self)
  self.state = {}
  self._who = who
  self._names = {}
  for i = 1, #self.params do self._names[i] = who .. " (params[" .. i .. "])" end
  self._hp = {}
  return self
end

-- the gradients of a step: those the closure returned, else p.grad
local function gradients(self, given)
  local grads = {}
  if given ~= nil then
    if is_tensor(given) then given = { given } end
    if type(given) ~= "table" then
      E.raise("%s: the closure's second result must be a tensor or a list of tensors, got %s",
        self._who, fmtv(given))
    end
  end
  for i, p in ipairs(self.params) do
    local g
    if given then g = given[i] else g = p.grad end
    if g ~= nil then
      if not is_tensor(g) then
        E.raise("%s: the gradient of params[%d] must be a tensor, got %s",
          self._who, i, fmtv(g))
      end
      if not g:is_contiguous() then g = g:contiguous() end
      grads[i] = g
    end
  end
  return grads
end

-- every parameter with a gradient, one _update each (a class may replace
-- the whole update: _apply)
function Optimizer:_apply(grads)
  for i, p in ipairs(self.params) do
    local g = grads[i]
    if g then self:_update(i, p, g) end
  end
end

function Optimizer:step(closure)
  E.check(self._who .. ":step", "closure", closure, "function", true)
  local loss, given
  if closure then loss, given = call_closure(closure) end
  local grads = gradients(self, given)
  no_grad(self._apply, self, grads)
  return loss
end

function Optimizer:update(grads)
  no_grad(self._apply, self, gradients(self, grads))
  return self
end

function Optimizer:zero_grad()
  if not autograd() then return end
  for _, p in ipairs(self.params) do p.grad = nil end
end

-- options that are numbers, booleans or plain tables (betas): copied
local function copy_value(v)
  if is_tensor(v) then return v:clone() end
  if type(v) == "table" then
    local c = {}
    for k, x in pairs(v) do c[k] = copy_value(x) end
    return c
  end
  return v
end

function Optimizer:state_dict()
  local sd = { name = self.__name, options = {}, state = {} }
  for _, s in ipairs(self._spec) do sd.options[s[1]] = copy_value(self[s[1]]) end
  for k, st in pairs(self.state) do sd.state[k] = copy_value(st) end
  if self._extra_state then sd.extra = self:_extra_state() end
  return sd
end

function Optimizer:load_state_dict(sd)
  if type(sd) ~= "table" or sd.name ~= self.__name then
    E.raise("%s:load_state_dict: expected a state of optim.%s, got %s", self._who,
      self.__name, type(sd) == "table" and ("one of optim." .. tostring(sd.name)) or fmtv(sd))
  end
  for k, st in pairs(sd.state) do
    if type(k) == "number" then
      local p = self.params[k]
      if not p then
        E.raise("%s:load_state_dict: the state has params[%d], the optimizer %d parameters",
          self._who, k, #self.params)
      end
      for name, v in pairs(st) do
        if is_tensor(v) and v.dtype ~= p.dtype then
          E.raise("%s:load_state_dict: state %s of params[%d] has dtype %s, the parameter %s",
            self._who, name, k, v.dtype, p.dtype)
        end
      end
    end
  end
  for k, v in pairs(sd.options) do self[k] = copy_value(v) end
  self.state = {}
  for k, st in pairs(sd.state) do self.state[k] = copy_value(st) end
  if self._load_extra then self:_load_extra(sd.extra) end
  return self
end

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
function M.AdamW(params, opts)
  local self = new(AdamW, params, opts)
  self._decoupled = true
  return self
end

function Adam:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  if not st then
    st = { step = 0, exp_avg = T.zeros_like(p), exp_avg_sq = T.zeros_like(p) }
    if self.amsgrad then st.max_exp_avg_sq = T.zeros_like(p) end
    self.state[i] = st
  end
  local b1, b2 = self.betas[1], self.betas[2]
  st.step = st.step + 1
  hp.name, hp.lr, hp.weight_decay, hp.eps = self._names[i], self.lr, self.weight_decay, self.eps
  hp.beta1, hp.beta2 = b1, b2
  hp.bc1, hp.bc2 = 1 - b1 ^ st.step, 1 - b2 ^ st.step
  hp.decoupled, hp.amsgrad = self._decoupled, self.amsgrad
  C.adam(p, g, hp, st.exp_avg, st.exp_avg_sq, st.max_exp_avg_sq)
end

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

-- --- covariant gradient descent ----------------------------------------

local CovariantGD = class("CovariantGD")
CovariantGD._spec = {
  { "lr", 1e-3, "nonneg" }, { "tau1", 9, "nonneg" }, { "tau2", 999, "nonneg" },
  { "eps", 1e-8, "nonneg" }, { "metric", "diag", "any" }, { "moment", "second", "any" },
  { "power", 0.5, "nonneg" }, { "bias_correction", true, "bool" },
}

function M.CovariantGD(params, opts)
  local self = new(CovariantGD, params, opts)
  local m = self.metric
  if type(m) ~= "function" and m ~= "identity" and m ~= "diag" and m ~= "full" then
    E.raise("optim.CovariantGD: unknown metric %s (identity, diag, full or a function)",
      fmtv(m))
  end
  if self.moment ~= "second" and self.moment ~= "covariance" then
    E.raise("optim.CovariantGD: unknown moment %s (second or covariance)", fmtv(self.moment))
  end
  if self.moment == "covariance" and m ~= "full" then
    E.raise("optim.CovariantGD: moment = \"covariance\" needs metric = \"full\" (metric = %s)",
      fmtv(m))
  end
  if m == "full" or type(m) == "function" then
    local dt = self.params[1].dtype
    for i, p in ipairs(self.params) do
      if p.dtype ~= dt then
        E.raise("optim.CovariantGD: metric %s flattens all parameters into one vector: "
          .. "params[%d] is %s, params[1] %s", fmtv(m), i, p.dtype, dt)
      end
    end
  end
  return self
end

-- the averaging weights: <f>_t = f/(1+tau) + tau/(1+tau) <f>_{t-1}
local function weights(tau) return 1 / (1 + tau), tau / (1 + tau) end

-- the bias corrections 1 - beta^t (1 when switched off)
local function corrections(self, t)
  if not self.bias_correction then return 1, 1 end
  local _, o1 = weights(self.tau1)
  local _, o2 = weights(self.tau2)
  return 1 - o1 ^ t, 1 - o2 ^ t
end

function CovariantGD:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  if not st then
    st = { step = 0, m1 = T.zeros_like(p) }
    if self.metric == "diag" then st.m2 = T.zeros_like(p) end
    self.state[i] = st
  end
  st.step = st.step + 1
  hp.name, hp.lr, hp.eps, hp.power = self._names[i], self.lr, self.eps, self.power
  hp.new1, hp.beta1 = weights(self.tau1)
  hp.new2, hp.beta2 = weights(self.tau2)
  hp.bc1, hp.bc2 = corrections(self, st.step)
  hp.diag = self.metric == "diag"
  C.cgd(p, g, hp, st.m1, st.m2)
end

-- the full and user metrics: all parameters as one vector of n elements
local function flatten(list)
  local parts = {}
  for i, t in ipairs(list) do parts[i] = t:reshape(-1) end
  if #parts == 1 then return parts[1] end
  return T.cat(parts)
end

-- p:method(piece) for each parameter p and its piece of the flat vector x
-- ("sub_": move by -x; "copy_": set to x)
local function unflatten(params, x, method)
  local off = 1
  for _, p in ipairs(params) do
    local n = p:numel()
    p[method](p, x:narrow(1, off, n):view(p:size()))
    off = off + n
  end
end

-- G^-1 F for the full metric G = M^a + eps I, through M = V diag(w) V^T.
-- An eigenvalue below n2 w_max (n2 = 1/(1 + tau2), the weight one fresh
-- gradient gets in the average) is a direction the gradients have carried
-- less weight along, over the whole memory, than one gradient of the
-- largest size would: the average cannot resolve it, and raw it let
-- 1/sqrt(w) amplify the force there ~1e5-fold on a 10-d quadratic (the
-- energy stalled near 1e-8 while Adam reached 1e-20).  So w is floored
-- there; the step along the leading direction is unchanged.  V^T F and a
-- scaling, instead of forming G and an LU solve, keep each direction exact.
local function full_step(M, F, a, eps, n2)
  if a == 0 then return F / (1 + eps) end
  local w, V = require("hebb.linalg").eigh((M + M:t()) * 0.5)
  w = T.clamp(w, math.max(w:max(), 0) * n2)
  if a ~= 1 then w = w ^ a end
  return V:matmul(V:t():matmul(F) / (w + eps))
end

-- the n x n moment of the full metric.  "covariance" averages the outer
-- product of the fluctuation g - M1 about the running (uncorrected) mean,
-- AdaBelief's form: positive semidefinite, and F lies in its range (g_t
-- enters d_t = g_t - M1_t with weight tau1/(1+tau1) > 0).  M2hat - F F^T
-- was exactly 0 at step 1 (both corrected to the one gradient), so the
-- first step was F / eps (energy 3e20), and F stayed outside its range.
local function full_moment(self, st, g, n2, o2)
  local d = g
  if self.moment == "covariance" then d = g - st.m1 end
  st.m2 = T.outer(d, d) * n2 + st.m2 * o2
end

local function apply_flat(self, grads)
  for i in ipairs(self.params) do
    if not grads[i] then
      E.raise("%s: metric %s needs the gradient of every parameter; params[%d] has none",
        self._who, fmtv(self.metric), i)
    end
  end
  local linalg = require "hebb.linalg"
  local g = flatten(grads)
  local n = g:numel()
  local st = self.state.flat
  if not st then
    st = { step = 0, m1 = T.zeros_like(g) }
    st.m2 = self.metric == "full" and T.zeros(n, n, { dtype = g.dtype }) or T.zeros_like(g)
    self.state.flat = st
  end
  st.step = st.step + 1
  local n1, o1 = weights(self.tau1)
  local n2, o2 = weights(self.tau2)
  local bc1, bc2 = corrections(self, st.step)
  st.m1 = g * n1 + st.m1 * o1
  local F = st.m1 / bc1
  local dq
  if self.metric == "full" then
    full_moment(self, st, g, n2, o2)
    dq = full_step(st.m2 / bc2, F, self.power, self.eps, n2) * self.lr
  else
    st.m2 = g * g * n2 + st.m2 * o2
    local info = { step = st.step, grad = g, m1 = st.m1, m2 = st.m2, force = F,
                   m2hat = st.m2 / bc2, bc1 = bc1, bc2 = bc2, params = self.params, n = n }
    local r = self.metric(info)
    if type(r) == "function" then
      dq = r(F)
    elseif is_tensor(r) and r.ndim == 2 and r.shape[1] == n and r.shape[2] == n then
      dq = linalg.solve(r, F)
    elseif is_tensor(r) and r:numel() == n then
      dq = F / r:reshape(-1)
    else
      E.raise("%s: the metric function must return an %d x %d matrix, a vector of %d "
        .. "elements or a function applying the inverse metric; got %s", self._who, n, n, n,
        is_tensor(r) and ("a tensor of shape {" .. table.concat(r:size(), ",") .. "}") or type(r))
    end
    if not is_tensor(dq) or dq:numel() ~= n then
      E.raise("%s: the inverse metric applied to the force must give %d elements, got %s",
        self._who, n, is_tensor(dq) and tostring(dq:numel()) or type(dq))
    end
    dq = dq:reshape(-1) * self.lr
  end
  unflatten(self.params, dq, "sub_")
end

function CovariantGD:_apply(grads)
  if self.metric == "diag" or self.metric == "identity" then
    return Optimizer._apply(self, grads)
  end
  return apply_flat(self, grads)
end

-- --- Langevin dynamics (SGLD) ------------------------------------------

local Langevin = class("Langevin")
Langevin._spec = {
  { "lr", nil, "nonneg!" }, { "temperature", 0, "nonneg" }, { "seed", nil, "any" },
}

function M.Langevin(params, opts)
  local self = new(Langevin, params, opts)
  if self.seed ~= nil then
    if math.type(self.seed) ~= "integer" then
      E.raise("optim.Langevin: seed = %s must be an integer", fmtv(self.seed))
    end
    self._gen = T.Generator(self.seed)
    self._ropts = { generator = self._gen }
  end
  self._noise = {}
  return self
end

function Langevin:_update(i, p, g)
  local hp, xi = self._hp, self._noise[i]
  if not xi then xi = T.empty_like(p); self._noise[i] = xi end
  xi:normal_(0, 1, self._ropts)
  hp.name, hp.lr = self._names[i], self.lr
  hp.beta = sqrt(2 * self.lr * self.temperature)
  C.langevin(p, g, hp, xi)
end

function Langevin:_extra_state()
  return self._gen and { generator = self._gen:state() } or {}
end

function Langevin:_load_extra(e)
  if e and e.generator then
    if not self._gen then
      self._gen = T.Generator(0)
      self._ropts = { generator = self._gen }
    end
    self._gen:set_state(e.generator)
  end
end

-- --- Hamiltonian dynamics (leapfrog) -----------------------------------

local Hamiltonian = class("Hamiltonian")
Hamiltonian._spec = {
  { "lr", nil, "pos!" }, { "mass", 1, "pos" }, { "friction", 0, "nonneg" },
}

function M.Hamiltonian(params, opts)
  local self = new(Hamiltonian, params, opts)
  return self
end

-- the momenta (live state tensors, zero at the start; fill them to start
-- from other momenta)
function Hamiltonian:momenta()
  local r = {}
  for i, p in ipairs(self.params) do
    local st = self.state[i]
    if not st then st = { momentum = T.zeros_like(p) }; self.state[i] = st end
    r[i] = st.momentum
  end
  return r
end

function Hamiltonian:kinetic_energy()
  local e = 0
  for _, m in ipairs(self:momenta()) do e = e + (m * m):sum() end
  return e / (2 * self.mass)
end

-- kick: p <- alpha p + beta dU/dq
local function kick(self, grads, alpha, beta)
  local hp, mom = self._hp, self:momenta()
  hp.alpha, hp.beta = alpha, beta
  for i in ipairs(self.params) do
    local g = grads[i]
    if not g then
      E.raise("%s: params[%d] has no gradient", self._who, i)
    end
    hp.name = self._names[i]
    C.axpby(mom[i], g, hp)
  end
end

local function drift(self)
  local hp, mom = self._hp, self:momenta()
  hp.alpha, hp.beta = 1, self.lr / self.mass
  for i, p in ipairs(self.params) do
    hp.name = self._names[i]
    C.axpby(p, mom[i], hp)
  end
end

function Hamiltonian:step(closure)
  if type(closure) ~= "function" then
    E.raise(self._who .. ":step needs a closure that computes the loss and its gradient at the current point")
  end
  local h = self.lr
  local damp = exp(-self.friction * h / 2)
  local _, given = call_closure(closure)
  local grads = gradients(self, given)
  no_grad(function()
    kick(self, grads, damp, -h / 2)
    drift(self)
  end)
  local loss
  loss, given = call_closure(closure)
  grads = gradients(self, given)
  no_grad(kick, self, grads, damp, -damp * h / 2)
  return loss
end

function Hamiltonian:update()
  E.raise(self._who .. ": the leapfrog needs the gradient at the new point; use step(closure)")
end

-- --- L-BFGS -------------------------------------------------------------

local LBFGS = class("LBFGS")
LBFGS._spec = {
  { "lr", 1, "pos" }, { "max_iter", 20, "int" }, { "max_eval", nil, "int" },
  { "tolerance_grad", 1e-7, "nonneg" }, { "tolerance_change", 1e-9, "nonneg" },
  { "history_size", 10, "int" }, { "line_search", "strong_wolfe", "any" },
}

function M.LBFGS(params, opts)
  local self = new(LBFGS, params, opts)
  if self.line_search ~= "strong_wolfe" and self.line_search ~= "none" then
    E.raise("optim.LBFGS: unknown line_search %s (strong_wolfe or none)",
      fmtv(self.line_search))
  end
  self.max_eval = self.max_eval or floor(self.max_iter * 5 / 4)
  local dt = self.params[1].dtype
  for i, p in ipairs(self.params) do
    if p.dtype ~= dt then
      E.raise("optim.LBFGS: all parameters must share a dtype: params[%d] is %s, params[1] %s",
        i, p.dtype, dt)
    end
  end
  return self
end

local function dot(a, b) return T.dot(a, b):item() end
local function maxabs(a) return a:abs():max() end

-- sets the parameters to the flat vector x
local function set_flat(self, x) no_grad(unflatten, self.params, x, "copy_") end

-- the closure's loss (a number) and the flat gradient (a new tensor)
local function evaluate(self, closure)
  local loss, given = call_closure(closure)
  local grads = gradients(self, given)
  for i, p in ipairs(self.params) do
    if not grads[i] then grads[i] = T.zeros_like(p) end
  end
  return tonum(loss), flatten(grads):clone()
end

-- the minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2),
-- clamped to [lo, hi] (default: between x1 and x2)
local function cubic_min(x1, f1, g1, x2, f2, g2, lo, hi)
  if not lo then lo, hi = math.min(x1, x2), math.max(x1, x2) end
  local d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
  local d2sq = d1 * d1 - g1 * g2
  if d2sq >= 0 then
    local d2 = sqrt(d2sq)
    local x
    if x1 <= x2 then x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2)) end
    if x ~= x then return (lo + hi) / 2 end
    return math.min(math.max(x, lo), hi)
  end
  return (lo + hi) / 2
end

-- The strong Wolfe line search along d from x (loss f, gradient g, slope
-- gtd): a bracketing phase that extrapolates by cubic steps, then a zoom
-- that shrinks the bracket (More & Thuente's conditions, sufficient
-- decrease c1 = 1e-4 and curvature c2 = 0.9).  Returns f, g, t, evals.
local function strong_wolfe(self, closure, x, t, d, f, g, gtd)
  local c1, c2, max_ls, tol = 1e-4, 0.9, 25, self.tolerance_change
  local dnorm = maxabs(d)
  local function at(s)
    set_flat(self, x + d * s)
    return evaluate(self, closure)
  end
  local f_new, g_new = at(t)
  local evals, gtd_new = 1, dot(g_new, d)
  local t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
  local done, ls_iter = false, 0
  local br, bf, bg, bgtd
  while ls_iter < max_ls do
    if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev) then
      br, bf, bg, bgtd = { t_prev, t }, { f_prev, f_new }, { g_prev, g_new }, { gtd_prev, gtd_new }
      break
    end
    if math.abs(gtd_new) <= -c2 * gtd then
      br, bf, bg, bgtd = { t }, { f_new }, { g_new }, { gtd_new }
      done = true
      break
    end
    if gtd_new >= 0 then
      br, bf, bg, bgtd = { t_prev, t }, { f_prev, f_new }, { g_prev, g_new }, { gtd_prev, gtd_new }
      break
    end
    local lo, hi, t0 = t + 0.01 * (t - t_prev), t * 10, t
    t = cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, lo, hi)
    t_prev, f_prev, g_prev, gtd_prev = t0, f_new, g_new, gtd_new
    f_new, g_new = at(t)
    evals, gtd_new, ls_iter = evals + 1, dot(g_new, d), ls_iter + 1
  end
  if ls_iter == max_ls then
    br, bf, bg, bgtd = { 0, t }, { f, f_new }, { g, g_new }, { gtd, gtd_new }
  end
  local insuf = false
  local lo, hi = 1, #br
  if bf[1] > bf[#bf] then lo, hi = 2, 1 end
  while not done and ls_iter < max_ls do
    if math.abs(br[2] - br[1]) * dnorm < tol then break end
    t = cubic_min(br[1], bf[1], bgtd[1], br[2], bf[2], bgtd[2])
    local bmax, bmin = math.max(br[1], br[2]), math.min(br[1], br[2])
    local e = 0.1 * (bmax - bmin)
    if math.min(bmax - t, t - bmin) < e then
      if insuf or t >= bmax or t <= bmin then
        t = math.abs(t - bmax) < math.abs(t - bmin) and bmax - e or bmin + e
        insuf = false
      else
        insuf = true
      end
    else
      insuf = false
    end
    f_new, g_new = at(t)
    evals, gtd_new, ls_iter = evals + 1, dot(g_new, d), ls_iter + 1
    if f_new > f + c1 * t * gtd or f_new >= bf[lo] then
      br[hi], bf[hi], bg[hi], bgtd[hi] = t, f_new, g_new, gtd_new
      if bf[1] <= bf[2] then lo, hi = 1, 2 else lo, hi = 2, 1 end
    else
      if math.abs(gtd_new) <= -c2 * gtd then
        done = true
      elseif gtd_new * (br[hi] - br[lo]) >= 0 then
        br[hi], bf[hi], bg[hi], bgtd[hi] = br[lo], bf[lo], bg[lo], bgtd[lo]
      end
      br[lo], bf[lo], bg[lo], bgtd[lo] = t, f_new, g_new, gtd_new
    end
  end
  return bf[lo], bg[lo], br[lo], evals
end

-- one call: up to max_iter L-BFGS iterations (torch's LBFGS.step)
function LBFGS:step(closure)
  if type(closure) ~= "function" then
    E.raise(self._who .. ":step needs a closure that computes the loss and its gradient")
  end
  local st = self.state
  st.func_evals = st.func_evals or 0
  st.n_iter = st.n_iter or 0
  local loss, g = evaluate(self, closure)
  local orig_loss = loss
  local evals = 1
  st.func_evals = st.func_evals + 1
  self.history = { loss }
  if maxabs(g) <= self.tolerance_grad then return orig_loss end
  local d, t = st.d, st.t
  local dirs, stps, ro = st.old_dirs or {}, st.old_stps or {}, st.ro or {}
  local H = st.H_diag or 1
  local prev_g, prev_loss = st.prev_flat_grad, st.prev_loss
  local n_iter = 0
  do   -- the parameters change only through set_flat (under no_grad)
    while n_iter < self.max_iter do
      n_iter = n_iter + 1
      st.n_iter = st.n_iter + 1
      if st.n_iter == 1 then
        d = -g
        dirs, stps, ro, H = {}, {}, {}, 1
      else
        local y = g - prev_g
        local s = d * t
        local ys = dot(y, s)
        if ys > 1e-10 then
          if #dirs == self.history_size then
            table.remove(dirs, 1); table.remove(stps, 1); table.remove(ro, 1)
          end
          dirs[#dirs + 1], stps[#stps + 1], ro[#ro + 1] = y, s, 1 / ys
          H = ys / dot(y, y)
        end
        -- the two-loop recursion: d = -H_k g
        local k, al = #dirs, {}
        local q = -g
        for i = k, 1, -1 do
          al[i] = dot(stps[i], q) * ro[i]
          q = q - dirs[i] * al[i]
        end
        local r = q * H
        for i = 1, k do
          local be = dot(dirs[i], r) * ro[i]
          r = r + stps[i] * (al[i] - be)
        end
        d = r
      end
      prev_g, prev_loss = g, loss
      if st.n_iter == 1 then
        t = math.min(1, 1 / g:abs():sum()) * self.lr
      else
        t = self.lr
      end
      local gtd = dot(g, d)
      if gtd > -self.tolerance_change then break end
      local ls_evals
      if self.line_search == "strong_wolfe" then
        local x0 = flatten(self.params):clone()
        loss, g, t, ls_evals = strong_wolfe(self, closure, x0, t, d, loss, g, gtd)
        set_flat(self, x0 + d * t)
      else
        set_flat(self, flatten(self.params) + d * t)
        ls_evals = 0
        if n_iter ~= self.max_iter then
          loss, g = evaluate(self, closure)
          ls_evals = 1
        end
      end
      evals = evals + ls_evals
      st.func_evals = st.func_evals + ls_evals
      self.history[#self.history + 1] = loss
      if n_iter == self.max_iter or evals >= self.max_eval then break end
      if maxabs(g) <= self.tolerance_grad then break end
      if maxabs(d) * math.abs(t) <= self.tolerance_change then break end
      if math.abs(loss - prev_loss) < self.tolerance_change then break end
    end
  end
  st.d, st.t, st.old_dirs, st.old_stps, st.ro = d, t, dirs, stps, ro
  st.H_diag, st.prev_flat_grad, st.prev_loss = H, prev_g, prev_loss
  return orig_loss
end

function LBFGS:update()
  E.raise(self._who .. ": L-BFGS evaluates the objective several times per step; use step(closure)")
end

-- --- learning-rate schedules -------------------------------------------

local Schedule = {}
Schedule.__index = Schedule

-- (called without a tail call, like new)
local function schedule(name, opt, opts, spec, fn)
  local who = "optim." .. name
  if type(opt) ~= "table" or type(opt.lr) ~= "number" then
    E.raise("%s: the first argument must be an optimizer (a table with a number lr), got %s",
            who, fmtv(opt))
  end
  local self = setmetatable({ optimizer = opt, base_lr = opt.lr, last_epoch = 0, _fn = fn,
                              _name = name }, Schedule)
  spec[#spec + 1] = { "warmup", 0, "count" }
  read_options(who, opts, spec, self)
  opt.lr = self:get_lr()
  return self
end

function Schedule:get_lr()
  local e, w = self.last_epoch, self.warmup
  if e < w then return self.base_lr * (e + 1) / w end
  return self._fn(self, e - w)
end

function Schedule:step()
  self.last_epoch = self.last_epoch + 1
  self.optimizer.lr = self:get_lr()
  return self.optimizer.lr
end

function Schedule:state_dict() return { last_epoch = self.last_epoch, base_lr = self.base_lr } end
function Schedule:load_state_dict(sd)
  local who = "optim." .. self._name .. ":load_state_dict"
  E.check(who, "the state", sd, "table")
  E.int(who, "last_epoch", sd.last_epoch, 0)
  E.num(who, "base_lr", sd.base_lr, 0)
  self.last_epoch, self.base_lr = sd.last_epoch, sd.base_lr
  self.optimizer.lr = self:get_lr()
  return self
end

function M.StepLR(opt, opts)
  local s = schedule("StepLR", opt, opts, { { "step_size", nil, "int!" }, { "gamma", 0.1, "nonneg" } },
    function(s, e) return s.base_lr * s.gamma ^ (e // s.step_size) end)
  return s
end

function M.ExponentialLR(opt, opts)
  local s = schedule("ExponentialLR", opt, opts, { { "gamma", nil, "nonneg!" } },
    function(s, e) return s.base_lr * s.gamma ^ e end)
  return s
end

function M.CosineAnnealingLR(opt, opts)
  local s = schedule("CosineAnnealingLR", opt, opts, { { "T_max", nil, "int!" }, { "eta_min", 0, "nonneg" } },
    function(s, e)
      return s.eta_min + (s.base_lr - s.eta_min) * (1 + cos(pi * e / s.T_max)) / 2
    end)
  return s
end

-- --- the functional API (torch7's optim.sgd(opfunc, x, config, state)) --

local function functional(name, ctor)
  return function(opfunc, x, config, state)
    local who = "optim." .. name
    if type(opfunc) ~= "function" then
      E.raise("%s: opfunc must be a function x -> f, df/dx, got %s", who, fmtv(opfunc))
    end
    E.check(who, "x", x, "tensor")
    E.check(who, "config", config, "table", true)
    E.check(who, "state", state, "table", true)
    config = config or {}
    state = state or config
    local opt = state._optim
    if not opt or opt.params[1] ~= x then
      local opts = {}
      for k, v in pairs(config) do
        if type(k) == "string" and k:sub(1, 1) ~= "_" and k ~= "evalCounter" then opts[k] = v end
      end
      opt = ctor({ x }, opts)
      state._optim = opt
    else
      local lr = config.lr or config.learningRate
      if lr then opt.lr = lr end
    end
    local loss = opt:step(function() return opfunc(x) end)
    state.evalCounter = (state.evalCounter or 0) + 1
    if name == "lbfgs" then return x, opt.history end
    return x, { tonum(loss) }
  end
end

M.sgd = functional("sgd", M.SGD)
M.adam = functional("adam", M.Adam)
M.adamw = functional("adamw", M.AdamW)
M.rmsprop = functional("rmsprop", M.RMSProp)
M.adagrad = functional("adagrad", M.Adagrad)
M.cgd = functional("cgd", M.CovariantGD)
M.lbfgs = functional("lbfgs", M.LBFGS)

-- --- docstrings (the REPL's ?name, tools/gendocs.lua) -------------------

doc(M, "hebb.optim\n\nOptimizers over lists of tensors, with their update loops in C: SGD, "
  .. "Adam, AdamW, RMSProp, Adagrad, LBFGS (strong Wolfe), CovariantGD (covariant gradient "
  .. "descent, arXiv:2504.05279), Langevin (SGLD) and Hamiltonian (leapfrog) dynamics; the "
  .. "schedules StepLR, ExponentialLR, CosineAnnealingLR; and torch7's functional forms "
  .. "optim.sgd/adam/adamw/rmsprop/adagrad/cgd/lbfgs(opfunc, x, config, state).  Every "
  .. "optimizer has opt:step([closure]), opt:update(grads), opt:zero_grad(), opt:state_dict(), "
  .. "opt:load_state_dict(sd) and a field opt.lr you may change.  See docs/optim.md.")

local common = "  Gradients are read from p.grad (autograd), or taken from the closure's second "
  .. "result (a tensor, or a list of tensors like params): opt:step(function() return loss, grads end)."

doc(M.SGD, "optim.SGD(params, {lr [, momentum=0] [, dampening=0] [, weight_decay=0] "
  .. "[, nesterov=false]})\n\nStochastic gradient descent (torch semantics): d = g + wd p; with "
  .. "momentum, b = mu b + (1 - dampening) d (b = d at the first step) and d = b, or d + mu b "
  .. "with nesterov; p -= lr d.  lr is required." .. common)
doc(M.Adam, "optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0, "
  .. "amsgrad=false}])\n\nAdam: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= lr (m/(1-b1^t)) "
  .. "/ (sqrt(v/(1-b2^t)) + eps); weight_decay adds wd p to g; amsgrad uses the running maximum "
  .. "of v.  One pass over p, g, m, v in C." .. common)
doc(M.AdamW, "optim.AdamW(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=1e-2, "
  .. "amsgrad=false}])\n\nAdam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr wd "
  .. "before the Adam step, instead of adding wd p to the gradient." .. common)
doc(M.RMSProp, "optim.RMSProp(params [, {lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, "
  .. "momentum=0, centered=false}])\n\nv = alpha v + (1-alpha) g^2; avg = sqrt(v) + eps (centered: "
  .. "sqrt(v - gbar^2) + eps with gbar the average gradient); p -= lr g/avg, or with momentum "
  .. "b = mu b + g/avg, p -= lr b." .. common)
doc(M.Adagrad, "optim.Adagrad(params [, {lr=1e-2, lr_decay=0, weight_decay=0, "
  .. "initial_accumulator_value=0, eps=1e-10}])\n\ns += g^2; p -= lr/(1 + (t-1) lr_decay) g / "
  .. "(sqrt(s) + eps)." .. common)
doc(M.CovariantGD, "optim.CovariantGD(params [, {lr=1e-3, tau1=9, tau2=999, eps=1e-8, "
  .. "metric=\"diag\", power=0.5, moment=\"second\", bias_correction=true}])\n\nCovariant "
  .. "gradient descent (Guskov & Vanchurin, arXiv:2504.05279): dq = -lr G^-1 F with averages "
  .. "<f>_t = f/(1+tau) + tau/(1+tau) <f>_{t-1} of the gradient (M1, tau1) and its second moment "
  .. "(M2, tau2), force F = M1/(1-beta1^t), beta = tau/(1+tau).  metric: \"identity\" (G = 1), "
  .. "\"diag\" (G = (M2/(1-beta2^t))^power + eps elementwise: power 1/2 is Adam with "
  .. "betas = tau/(1+tau)), \"full\" (all parameters as one vector of n elements, G = M^power + "
  .. "eps I with M the n x n second moment or, moment = \"covariance\", the average of d d^T, "
  .. "d = g - M1 (bias-corrected by 1-beta2^t), its eigenvalues floored at w_max/(1+tau2); "
  .. "power 0 gives the identity; for small models), or a function(state) returning an n x n matrix, "
  .. "a vector (diagonal metric) or a function F -> G^-1 F; state has step, grad, m1, m2 (the "
  .. "diagonal second moment), m2hat, force, bc1, bc2, n, params." .. common)
doc(M.Langevin, "optim.Langevin(params, {lr [, temperature=0] [, seed]})\n\nStochastic gradient "
  .. "Langevin dynamics: p <- p - lr g + sqrt(2 lr T) xi, xi standard normal from hebb's "
  .. "generator (its own T.Generator(seed) with seed, else the default one).  At stationarity "
  .. "p samples exp(-loss/T) up to O(lr) corrections.  With a seed, state_dict saves the "
  .. "generator, so a restored run repeats bit for bit." .. common)
doc(M.Hamiltonian, "optim.Hamiltonian(params, {lr [, mass=1] [, friction=0]})\n\nHamiltonian "
  .. "dynamics with the loss as potential energy U(q), by leapfrog with time step h = lr: "
  .. "p -= h/2 dU/dq; q += h p/mass; p -= h/2 dU/dq(new q).  Energy is conserved to O(h^2) "
  .. "(no drift: the map is symplectic).  friction gamma multiplies p by exp(-gamma h/2) "
  .. "before and after.  step(closure) is required (the closure is called twice, at the old "
  .. "and new point) and returns the loss at the new point; opt:kinetic_energy() gives "
  .. "sum p^2/(2 mass), so loss + kinetic energy is the total energy; opt:momenta() lists the "
  .. "momentum tensors (zero at the start; fill them to start elsewhere).")
doc(M.LBFGS, "optim.LBFGS(params [, {lr=1, max_iter=20, max_eval=max_iter*5/4, "
  .. "tolerance_grad=1e-7, tolerance_change=1e-9, history_size=10, "
  .. "line_search=\"strong_wolfe\"}])\n\nLimited-memory BFGS (torch's algorithm): each "
  .. "opt:step(closure) runs up to max_iter iterations, with the two-loop recursion over the "
  .. "last history_size (s, y) pairs and a strong Wolfe line search (c1 = 1e-4, c2 = 0.9, "
  .. "cubic interpolation), or a fixed step lr with line_search = \"none\".  The closure "
  .. "computes the loss and its gradient; step returns the first loss, opt.history lists "
  .. "the losses of the iterations, opt.state.n_iter and func_evals count.  All parameters "
  .. "must share a dtype.")
doc(M.StepLR, "optim.StepLR(opt, {step_size [, gamma=0.1] [, warmup=0]})\n\nA schedule: after "
  .. "e calls of sched:step(), opt.lr = lr0 gamma^floor(e/step_size).  With warmup = w, the "
  .. "first w epochs ramp lr0 (e+1)/w and the schedule starts after them.  Methods: "
  .. "sched:step() (returns the new lr), sched:get_lr(), sched:state_dict(), "
  .. "sched:load_state_dict(sd).")
doc(M.ExponentialLR, "optim.ExponentialLR(opt, {gamma [, warmup=0]})\n\nA schedule: "
  .. "opt.lr = lr0 gamma^e after e calls of sched:step().")
doc(M.CosineAnnealingLR, "optim.CosineAnnealingLR(opt, {T_max [, eta_min=0] [, warmup=0]})\n\n"
  .. "A schedule: opt.lr = eta_min + (lr0 - eta_min)(1 + cos(pi e/T_max))/2 after e calls of "
  .. "sched:step().")

local fdoc = "(opfunc, x [, config [, state]])\n\nTorch7's functional form: opfunc(x) returns "
  .. "f and df/dx (a tensor of x's shape); x is updated in place; returns x, {f} (f before the "
  .. "step).  config holds the options of the class (torch7's names learningRate, weightDecay, "
  .. "epsilon, ... work too); state (default: config) keeps the optimizer between calls, and "
  .. "config.lr is read again on every call."
doc(M.sgd, "optim.sgd" .. fdoc .. "  The rule of optim.SGD.")
doc(M.adam, "optim.adam" .. fdoc .. "  The rule of optim.Adam.")
doc(M.adamw, "optim.adamw" .. fdoc .. "  The rule of optim.AdamW.")
doc(M.rmsprop, "optim.rmsprop" .. fdoc .. "  The rule of optim.RMSProp.")
doc(M.adagrad, "optim.adagrad" .. fdoc .. "  The rule of optim.Adagrad.")
doc(M.cgd, "optim.cgd" .. fdoc .. "  The rule of optim.CovariantGD.")
doc(M.lbfgs, "optim.lbfgs(opfunc, x [, config [, state]])\n\nTorch7's functional L-BFGS: "
  .. "one call runs up to config.max_iter iterations of optim.LBFGS on x; returns x and the "
  .. "list of losses along the iterations.")

doc(Optimizer.step, "opt:step([closure])\n\nOne update of every parameter that has a gradient. "
  .. "closure() (called with gradients recorded) zeroes the grads, computes the loss, calls "
  .. "backward and returns the loss (and optionally the gradients as a second result); step "
  .. "returns that loss.  Updates run under autograd.no_grad.")
doc(Optimizer.update, "opt:update(grads)\n\nOne step with the given gradients (a tensor, or a "
  .. "list like params; nil entries skip their parameter): for gradients written by hand.")
doc(Optimizer.zero_grad, "opt:zero_grad()\n\nSets p.grad = nil for every parameter.")
doc(Optimizer.state_dict, "opt:state_dict()\n\nThe optimizer's options and state as plain "
  .. "tables with cloned tensors (step counts, moments, ...): load_state_dict of it continues "
  .. "with the same bits as an uninterrupted run.")
doc(Optimizer.load_state_dict, "opt:load_state_dict(sd)\n\nRestores options and state from "
  .. "opt:state_dict() of an optimizer of the same kind over parameters of the same shapes.")
doc(Hamiltonian.kinetic_energy, "opt:kinetic_energy()\n\nsum p^2 / (2 mass) over the momenta.")
doc(Hamiltonian.momenta, "opt:momenta()\n\nThe momentum tensors (live state), one per parameter.")

return M
