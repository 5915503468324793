-- hebb._nn_continuous: nn.ContinuousNetwork of hebb.nn, neurons in
-- continuous time.
--
-- Two timescales, as in Vanchurin's model of learning (arXiv:2008.01540):
-- the neurons' states x are fast, non-trainable variables that follow
-- dx/dt = f(x; W, b) (or d2x/dt2 = f with order = 2), optionally coupled
-- to a bath (friction gamma, noise at temperature T); the couplings
-- q = (W, b) are slow, trainable parameters that an optimizer moves from
-- a loss on the trajectories.  It lives in hebb.nn because it is a Module:
-- W and b are parameters (state_dict, any optimizer) and every
-- parametrization of nn.parametrize applies to W unchanged (antisymmetric,
-- symmetric, masked to a lattice).  The integration is hebb.ode's: the
-- network is a right-hand side, and autograd differentiates through the
-- steps.
local T = require "hebb.tensor"
local E = require "hebb._error"
local B = require "hebb._nn_module"
local Par = require "hebb._nn_parametrize"
local Ly = require "hebb._nn_layers"
local doc = require("hebb").doc

local L = {}
local fmt = string.format
local Module = B.Module
local raise, show = E.raise, E.show

local function ode() return require "hebb.ode" end   -- loaded on first use

local CN = Module:extend("ContinuousNetwork")
L.ContinuousNetwork = CN

local known = { dynamics = true, order = true, bias = true, friction = true,
                temperature = true, constraint = true, init_scale = true, dtype = true,
                method = true, dt = true }

-- constraint: a name, {name, options...}, or a list of those (applied in order)
local function constrain(self, spec)
  if spec == nil then return nil end
  local list = spec
  if type(spec) == "string" or (type(spec) == "table" and type(spec[1]) == "string") then
    list = { spec }
  end
  if type(list) ~= "table" then
    raise("nn.ContinuousNetwork: constraint must be a name, {name, options...} or a list of "
          .. "them, got %s", show(spec))
  end
  local names = {}
  for _, c in ipairs(list) do
    local name, opts = c, nil
    if type(c) == "table" then   -- {name, key = value...}: the keys are the options
      name, opts = c[1], {}
      for k, v in pairs(c) do if k ~= 1 then opts[k] = v end end
    end
    Par.parametrize(self, "weight", name, opts)
    names[#names + 1] = name
  end
  return table.concat(names, "+")
end

local function number_opt(v, def, what, lo)
  v = v == nil and def or v
  if type(v) ~= "number" or v ~= v or v < lo then
    raise("nn.ContinuousNetwork: %s must be a number >= %g, got %s", what, lo, show(v))
  end
  return v
end

function CN:__init(n, opts)
  opts = E.checkopts("nn.ContinuousNetwork", opts, known)
  if math.type(n) ~= "integer" or n < 1 then
    raise("nn.ContinuousNetwork: n must be a positive integer, got %s", show(n))
  end
  local dtype = opts.dtype or "f64"
  if dtype ~= "f64" and dtype ~= "f32" then
    raise("nn.ContinuousNetwork: dtype must be \"f64\" or \"f32\", got %s", show(dtype))
  end
  self.n = n
  self.dynamics = opts.dynamics or "linear"
  if self.dynamics ~= "linear" and self.dynamics ~= "tanh" and type(self.dynamics) ~= "function" then
    raise("nn.ContinuousNetwork: dynamics must be \"linear\", \"tanh\" or a function "
          .. "f(x, W, b), got %s", show(self.dynamics))
  end
  self.order = opts.order or 1
  if self.order ~= 1 and self.order ~= 2 then
    raise("nn.ContinuousNetwork: order must be 1 or 2, got %s", show(self.order))
  end
  self.friction = number_opt(opts.friction, 0, "friction", 0)
  self.temperature = number_opt(opts.temperature, 0, "temperature", 0)
  if self.temperature > 0 and self.friction == 0 then
    raise("nn.ContinuousNetwork: a bath at temperature %g needs friction > 0 (the noise is "
          .. "sqrt(2 friction T))", self.temperature)
  end
  self.dt = number_opt(opts.dt, 0.05, "dt", 0)
  if self.dt == 0 then raise("nn.ContinuousNetwork: dt must be > 0, got 0") end
  self.method = opts.method or "rk4"
  local bound = opts.init_scale or 1 / math.sqrt(n)
  self.weight = Ly._uniform({ n, n }, bound, dtype)
  Ly._add_bias(self, "bias", opts, n, bound, dtype)
  self:register_buffer("state", T.zeros({ n }, { dtype = dtype }))
  self.constraint = constrain(self, opts.constraint)
end
doc(CN, "nn.ContinuousNetwork(n [, {dynamics=\"linear\", order=1, bias=true, "
  .. "friction=0, temperature=0, constraint=, dt=0.05, method=\"rk4\", init_scale=, "
  .. "dtype=\"f64\"}])\n\nn neurons in continuous time: the states x (fast, not "
  .. "trained; a batch is {B, n}) follow dx/dt = f(x) (order 1) or d2x/dt2 = f(x) "
  .. "(order 2) with f = x W^T + b (\"linear\"), tanh(x W^T + b) - x (\"tanh\", "
  .. "Hopfield's relaxing network) or a function f(x, W, b); friction gamma adds "
  .. "-gamma x (order 1) or -gamma dx/dt (order 2), and temperature T a bath of "
  .. "noise sqrt(2 gamma T) dW (Euler-Maruyama).  W (n, n) and b (n) are the slow, "
  .. "trainable couplings; constraint parametrizes W (a name, {name, opts...}, or "
  .. "a list applied in order, e.g. {{\"masked\", mask = lattice}, "
  .. "\"antisymmetric\"}).  Integration: hebb.ode with fixed steps dt (method "
  .. "\"rk4\", \"midpoint\", \"euler\" or adaptive \"dopri5\"), differentiable "
  .. "through the steps.  net(x0, t) is x(t); see net:trajectory.")

-- f(x; W, b) with W and b read once per trajectory (a parametrized W is
-- computed from its free parameter on every read)
local function force(self, W, b)
  local dyn, g = self.dynamics, self.friction
  local Wt = W:t()
  local f
  if dyn == "linear" then
    f = function(x)
      local z = x:matmul(Wt)
      return b and z + b or z
    end
  elseif dyn == "tanh" then
    f = function(x)
      local z = x:matmul(Wt)
      if b then z = z + b end
      return z:tanh() - x
    end
  else
    f = function(x) return dyn(x, W, b) end
  end
  if self.order == 1 and g > 0 then
    local f0 = f
    f = function(x) return f0(x) - x * g end
  end
  return f
end

-- the first-order system of the network: the state itself (order 1) or
-- (x, v) side by side along the last dimension (order 2)
local function system(self, W, b)
  local f, n, g = force(self, W, b), self.n, self.friction
  if self.order == 1 then return function(_, x) return f(x) end end
  return function(_, s)
    local d = s.ndim
    local x, v = s:narrow(d, 1, n), s:narrow(d, n + 1, n)
    local a = f(x)
    if g > 0 then a = a - v * g end
    return T.cat({ v, a }, d)
  end
end

local function check_state(self, x, what)
  if not T.is_tensor(x) or x.ndim < 1 or x.ndim > 2 or x.shape[x.ndim] ~= self.n then
    raise("nn.ContinuousNetwork: %s must have shape {%d} or {batch, %d}, got %s", what,
          self.n, self.n, show(x))
  end
end

-- the times: a number t (one output at t) or an increasing list from > 0
local function check_times(times)
  if type(times) == "number" then times = { times } end
  if T.is_tensor(times) then times = times:totable() end
  if type(times) ~= "table" or #times == 0 then
    raise("nn.ContinuousNetwork: times must be a number or a list of times > 0, got %s", show(times))
  end
  for i, t in ipairs(times) do
    if type(t) ~= "number" or not (t > (times[i - 1] or 0)) then
      raise("nn.ContinuousNetwork: times must increase from > 0 (entry %d is %s)", i, tostring(t))
    end
  end
  return times
end

-- the states at the given times from x0 (and v0 for order 2, zeros by
-- default): a tensor {#times, ...} of x (and one of v for order 2)
function CN:trajectory(x0, times, opts)
  opts = E.checkopts("nn.ContinuousNetwork:trajectory", opts, { v0 = true, dt = true,
                                                                seed = true, generator = true })
  check_state(self, x0, "x0")
  times = check_times(times)
  local W, b, n = self.weight, self.bias, self.n
  if x0.dtype ~= W.dtype then x0 = x0:astype(W.dtype) end
  local s0 = x0
  if self.order == 2 then
    local v0 = opts.v0 or T.zeros_like(x0)
    check_state(self, v0, "v0")
    s0 = T.cat({ x0, v0 }, x0.ndim)
  end
  local rhs = system(self, W, b)
  local te = { 0 }
  for i, t in ipairs(times) do te[i + 1] = t end
  local dt = opts.dt or self.dt
  local S
  if self.temperature > 0 then
    -- the bath: noise sqrt(2 gamma T) on x (order 1) or on v (order 2)
    local amp = math.sqrt(2 * self.friction * self.temperature)
    local diff = amp
    if self.order == 2 then
      local mask = T.cat({ T.zeros_like(x0), T.ones_like(x0) }, x0.ndim)
      diff = mask * amp
    end
    S = ode().sde(rhs, diff, s0, { 0, times[#times] }, { dt = dt, t_eval = te,
      seed = opts.seed, generator = opts.generator }).x
  else
    local method = self.method
    S = ode().solve(rhs, s0, { 0, times[#times] }, { method = method, dt = dt, t_eval = te,
      rtol = method == "dopri5" and 1e-8 or nil }).y
  end
  S = S:narrow(1, 2, #times)
  if self.order == 1 then return S end
  local d = S.ndim
  return S:narrow(d, 1, n), S:narrow(d, n + 1, n)
end
doc(CN.trajectory, "net:trajectory(x0, times [, {v0=, dt=, seed=, generator=}])\n\n"
  .. "The states at the increasing times (a number or a list, from 0) starting "
  .. "from x0 ({n} or {B, n}): a tensor {#times, ...}; for order 2 also the "
  .. "velocities (v0 defaults to zeros).  Differentiable with respect to x0 and "
  .. "the couplings.")

-- x(t) from x0 (the first output of trajectory at the one time t)
function CN:forward(x0, t, opts)
  if type(t) ~= "number" then
    raise("nn.ContinuousNetwork: call as net(x0, t) with a time t > 0, got t = %s", show(t))
  end
  local X, V = self:trajectory(x0, { t }, opts)
  if V then return X[1], V[1] end
  return X[1]
end

-- dx/dt (order 1) or d2x/dt2 (order 2, with velocity v) at x
function CN:derivative(x, v)
  check_state(self, x, "x")
  local a = force(self, self.weight, self.bias)(x)
  if self.order == 2 and v ~= nil and self.friction > 0 then a = a - v * self.friction end
  return a
end
doc(CN.derivative, "net:derivative(x [, v])\n\nThe right-hand side at x: dx/dt "
  .. "(order 1) or the acceleration (order 2; friction uses v).")

-- advances the stored state (net.state, detached) by time t
function CN:evolve(t, opts)
  local x = self:forward(self.state, t, opts)
  rawset(self, "state", B._detach(x))
  return x
end
doc(CN.evolve, "net:evolve(t)\n\nAdvances net.state (a buffer) by time t and "
  .. "returns the new state (with its graph; the buffer keeps it detached).")

function CN:reset_state(x)
  local s
  if x == nil then s = T.zeros({ self.n }, { dtype = self.weight.dtype })
  else
    check_state(self, x, "x")
    s = B._detach(x):astype(self.weight.dtype):clone()
  end
  rawset(self, "state", s)
  return self
end
doc(CN.reset_state, "net:reset_state([x])\n\nnet.state becomes zeros or a copy "
  .. "of x; returns net.")

-- H = i W: the Hamiltonian of the linear flow x' = W x = -i H x (Hermitian
-- exactly when W is real antisymmetric)
function CN:hamiltonian()
  local W = B._no_grad(function() return B._detach(self.weight) end)
  return T.complex(T.zeros_like(W), W)
end
doc(CN.hamiltonian, "net:hamiltonian()\n\nH = i W as a c128 matrix: x' = W x is "
  .. "x' = -i H x, and H is Hermitian when W is antisymmetric (its real "
  .. "eigenvalues are the frequencies of the linear network).")

function CN:extra_repr()
  local dyn = type(self.dynamics) == "string" and self.dynamics or "custom"
  local s = fmt("n=%d, dynamics=%s, order=%d, dt=%g", self.n, dyn, self.order, self.dt)
  if self.friction > 0 then s = s .. fmt(", friction=%g", self.friction) end
  if self.temperature > 0 then s = s .. fmt(", temperature=%g", self.temperature) end
  if self.constraint then s = s .. ", constraint=" .. self.constraint end
  return s
end

return L
