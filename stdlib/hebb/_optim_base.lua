-- hebb._optim_base: what the optimizers of hebb.optim share -- options,
-- the base class (step, update, zero_grad, state_dict), the parameters as
-- one flat vector, and torch7's functional form.
--
-- The per-element update rules (SGD, Adam/AdamW, RMSProp, Adagrad,
-- covariant GD with an identity or diagonal metric, Langevin, the leapfrog
-- kicks and drifts) run in C (natives/core/optim.c through hebb._optim):
-- one pass over each parameter, its gradient and its state.  What is left
-- in Lua is bookkeeping (step counts, bias corrections, state), L-BFGS (a
-- few vector operations per iteration on the flattened parameters) and the
-- full metric of covariant GD (an n x n matrix, for small models).
--
-- Gradients come from p.grad (autograd), or from the closure given to
-- step: `loss, grads = closure()` where grads is a tensor (one parameter)
-- or a list of tensors, for objectives whose gradient is written by hand.
-- Updates run inside autograd.no_grad when hebb.autograd is available.
local E = require "hebb._error"
local T = require "hebb.tensor"
local doc = require("hebb").doc

local B = {}
local huge = math.huge
local is_tensor = T.is_tensor
local is_dense = require("hebb._optim").is_dense

-- --- autograd, looked up on first use -----------------------------------

local autograd_mod
local function autograd()
  if autograd_mod == nil then
    local ok, m = pcall(require, "hebb.autograd")
    autograd_mod = ok and type(m) == "table" and m or false
  end
  return autograd_mod
end

-- p.grad for the length of a step, read without lending it (hebb.autograd
-- may then write the next gradient over that buffer: the step keeps none)
local grad_of
local function step_grad(p)
  if grad_of == nil then
    grad_of = autograd() and require("hebb._autograd_engine")._grad_of or false
  end
  if grad_of then return grad_of(p) end
  return p.grad
end

-- fn(...) with recording off: how updates run.  What the C kernels raise
-- there (a gradient of the wrong shape) is placed at the user's line.
local function no_grad(fn, ...)
  local ag = autograd()
  if ag and ag.no_grad then return ag.no_grad(E.call, fn, ...) end
  return E.call(fn, ...)
end

-- calls the closure of a step with gradients recorded (it calls backward),
-- whatever mode the caller is in, as torch's optimizers do
local function call_closure(closure)
  local ag = autograd()
  if not (ag and ag.set_grad_enabled) then return closure() end
  local prev = ag.set_grad_enabled(true)
  local ok, loss, grads = pcall(closure)
  ag.set_grad_enabled(prev)
  if not ok then error(loss, 0) end   -- the closure's error, rethrown as it is
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

-- a new optimizer of class cls over params, with its options read
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
    if given then g = given[i] else g = step_grad(p) end
    if g ~= nil then
      if not is_dense(g) then   -- else a contiguous tensor: one raw C call
        if not is_tensor(g) then
          E.raise("%s: the gradient of params[%d] must be a tensor, got %s",
            self._who, i, fmtv(g))
        end
        g = g:contiguous()
      end
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
  if self._plain then E.call(self._apply, self, grads)   -- records nothing
  else no_grad(self._apply, self, grads) end
  return loss
end
doc(Optimizer.step, "opt:step([closure])\n\nOne update of every parameter that has a gradient. "
  .. "closure() (called with gradients recorded) zeroes the grads, computes the loss, calls "
  .. "backward and returns the loss (and optionally the gradients as a second result); step "
  .. "returns that loss.  Updates run under autograd.no_grad.")

function Optimizer:update(grads)
  no_grad(self._apply, self, gradients(self, grads))
  return self
end
doc(Optimizer.update, "opt:update(grads)\n\nOne step with the given gradients (a tensor, or a "
  .. "list like params; nil entries skip their parameter): for gradients written by hand.")

function Optimizer:zero_grad()
  if not autograd() then return end
  for _, p in ipairs(self.params) do p.grad = nil end
end
doc(Optimizer.zero_grad, "opt:zero_grad()\n\nSets p.grad = nil for every parameter.")

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
doc(Optimizer.state_dict, "opt:state_dict()\n\nThe optimizer's options and state as plain "
  .. "tables with cloned tensors (step counts, moments, ...): load_state_dict of it continues "
  .. "with the same bits as an uninterrupted run.")

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
doc(Optimizer.load_state_dict, "opt:load_state_dict(sd)\n\nRestores options and state from "
  .. "opt:state_dict() of an optimizer of the same kind over parameters of the same shapes.")

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

-- the end of every optimizer's docstring
B._doc_grads = "  Gradients are read from p.grad (autograd), or taken from the closure's second "
  .. "result (a tensor, or a list of tensors like params): opt:step(function() return loss, grads end)."

-- the docstring of a functional form
local fdoc = "(opfunc, x [, config [, state]])\n\nTorch7's functional form: opfunc(x) returns "
  .. "f and df/dx (a tensor of x's shape); x is updated in place; returns x, {f} (f before the "
  .. "step).  config holds the options of the class (torch7's names learningRate, weightDecay, "
  .. "epsilon, ... work too); state (default: config) keeps the optimizer between calls, and "
  .. "config.lr is read again on every call."

-- optim.<name>: the functional form of the class made by ctor, documented
function B._functional_form(name, ctor, class_name)
  local f = functional(name, ctor)
  doc(f, "optim." .. name .. fdoc .. "  The rule of optim." .. class_name .. ".")
  return f
end

B._Optimizer, B._class, B._new = Optimizer, class, new
B._no_grad, B._call_closure, B._tonum, B._gradients = no_grad, call_closure, tonum, gradients
B._read_options, B._flatten, B._unflatten, B._functional = read_options, flatten, unflatten, functional

return B
