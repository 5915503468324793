-- world.lua -- the module `hebb.world`: the anatomy that the experiments of
-- "learning as physics" share, declared once.
--
-- A world has neurons x (fast, not trained: a tensor, usually {replicas,
-- n}), couplings c (slow, trainable: named tensors), an energy H(x, c) (a
-- loss or Hamiltonian) or a force dx/dt, activation dynamics for x with a
-- bath at temperature T, a learning rule for c with its own bath, a
-- boundary that clamps some neurons to an environment (the data), and
-- observables recorded as tensors.  One step advances time by dt: the
-- neurons take `substeps` steps of dt/substeps, then the couplings learn
-- once.  In continuous time, with tau the neurons' time constant and gamma
-- the couplings' mobility ("rate"):
--
--   dx = -(1/tau) dH/dx dt + sqrt(2 T / tau) dW      (Euler-Maruyama)
--   dc = -gamma dL/dc dt + sqrt(2 gamma T_c) dW     (L = H unless given)
--
-- so tau << 1/gamma is the two-timescale limit in which the couplings see
-- the neurons' free energy.  Gradients come from hebb.autograd; the loops
-- over replicas are tensor operations.  docs/world.md is the guide.
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
doc(M, "hebb.world\n\nOne declarative layer for learning-as-physics experiments: "
  .. "neurons (fast state), couplings (slow, trainable), an energy or force, "
  .. "activation dynamics with a bath, a learning rule, a boundary (the "
  .. "environment) and observables recorded as tensors.  world{...} builds one; "
  .. "see docs/world.md.")
local World = {}
World.__index = World
M.World = World
local raise, show = E.raise, E.show
local is_tensor = T.is_tensor
local sqrt = math.sqrt

local spec_keys = { neurons = true, couplings = true, energy = true, force = true,
  network = true, dynamics = true, bath = true, learn = true, observe = true,
  boundary = true, clamp = true, seed = true }
local dyn_keys = { dt = true, tau = true, method = true, substeps = true }
local learn_keys = { rate = true, T = true, loss = true, optimizer = true, rule = true,
  every = true }
local methods = { langevin = true, euler = true, midpoint = true, rk4 = true }

local function num(v) return is_tensor(v) and v:item() or v end

-- --- construction -----------------------------------------------------------

local function check_couplings(who, c)
  local out, names = {}, {}
  if c == nil then return out, names end
  E.check(who, "couplings", c, "table")
  for name, t in pairs(c) do
    if type(name) ~= "string" or not is_tensor(t) then
      raise("%s: couplings must map names to tensors, got %s = %s", who, show(name), show(t))
    end
    out[name] = t:detach():clone()
    names[#names + 1] = name
  end
  table.sort(names)   -- a fixed order: the noise is drawn in it
  return out, names
end

-- the couplings of an nn.ContinuousNetwork: its own parameters (updated
-- in place, so the network and the world stay one object)
local function network_couplings(who, net)
  if type(net) ~= "table" or type(net.derivative) ~= "function" then
    raise("%s: network must be an nn.ContinuousNetwork, got %s", who, show(net))
  end
  if net.order ~= 1 then raise("%s: network must be of order 1, got order %s", who, show(net.order)) end
  local c, names = {}, {}
  for _, np in ipairs(net:named_parameters()) do
    c[np[1]] = np[2]
    names[#names + 1] = np[1]
  end
  return c, names
end

local function check_dynamics(who, d)
  d = E.checkopts(who .. ": dynamics", d, dyn_keys)
  local dyn = {
    dt = E.num_or(who, "dynamics.dt", d.dt, 0.01, 0, true),
    tau = E.num_or(who, "dynamics.tau", d.tau, 1, 0, true),
    substeps = E.int(who, "dynamics.substeps", d.substeps or 1, 1),
    method = d.method or "langevin",
  }
  if type(dyn.method) ~= "function" and not methods[dyn.method] then
    local near = E.suggest(dyn.method, methods)
    raise("%s: dynamics.method must be \"langevin\", \"euler\", \"midpoint\", \"rk4\" or a "
          .. "function, got %s%s", who, show(dyn.method),
          near and string.format(" (did you mean '%s'?)", near) or "")
  end
  return dyn
end

local function check_learn(who, l)
  if l == nil then return nil end
  l = E.checkopts(who .. ": learn", l, learn_keys)
  local learn = {
    rate = E.num_or(who, "learn.rate", l.rate, 1, 0),
    T = E.num_or(who, "learn.T", l.T, 0, 0),
    every = E.int(who, "learn.every", l.every or 1, 1),
    loss = E.check(who, "learn.loss", l.loss, "function", true),
    rule = E.check(who, "learn.rule", l.rule, "function", true),
    optimizer = E.check(who, "learn.optimizer", l.optimizer, "function", true),
  }
  if learn.rule and learn.optimizer then
    raise("%s: learn takes a rule or an optimizer, not both", who)
  end
  return learn
end

-- the mask {n} of free neurons (1) and clamped ones (0) for clamp = {i, j}
local function clamp_mask(who, clamp, x)
  if clamp == nil then return nil end
  if type(clamp) ~= "table" or #clamp ~= 2 then
    raise("%s: clamp must be {first, last} (neurons clamped by the boundary), got %s", who,
          show(clamp))
  end
  local n = x.shape[x.ndim]
  local i = E.int(who, "clamp[1]", clamp[1], 1, n)
  local j = E.int(who, "clamp[2]", clamp[2], i, n)
  local m = T.ones(n, { dtype = x.dtype })
  m:narrow(1, i, j - i + 1):fill_(0)
  return m, i, j - i + 1
end

function M.new(spec)
  local who = "world"
  E.check(who, "the specification", spec, "table")
  E.checkopts(who, spec, spec_keys)
  local self = setmetatable({ t = 0, n = 0 }, World)
  local x = E.check(who, "neurons", spec.neurons, "tensor", true)
  self.x = x and x:detach():clone()
  self.energy_fn = E.check(who, "energy", spec.energy, "function", true)
  self.force_fn = E.check(who, "force", spec.force, "function", true)
  if spec.network ~= nil then
    self.network = spec.network
    self.c, self.names = network_couplings(who, spec.network)
    if spec.couplings ~= nil then raise("%s: a network brings its own couplings", who) end
  else
    self.c, self.names = check_couplings(who, spec.couplings)
  end
  self.dyn = check_dynamics(who, spec.dynamics)
  local bath = E.checkopts(who .. ": bath", spec.bath, { T = true })
  self.T = E.num_or(who, "bath.T", bath.T, 0, 0)
  local m = self.dyn.method
  if self.T > 0 and m ~= "langevin" and type(m) ~= "function" then
    raise("%s: a bath at T = %g needs dynamics.method = \"langevin\", got %s", who, self.T, show(m))
  end
  if self.x and not (self.force_fn or self.energy_fn or self.network or type(m) == "function") then
    raise("%s: neurons need an energy, a force, a network or a dynamics.method function", who)
  end
  self.learn = check_learn(who, spec.learn)
  if self.learn and not self.learn.rule and not (self.learn.loss or self.energy_fn) then
    raise("%s: learning needs learn.loss or an energy", who)
  end
  if self.learn and self.learn.optimizer then
    local params = {}
    for i, name in ipairs(self.names) do params[i] = self.c[name] end
    self.opt = self.learn.optimizer(params)
  end
  self.boundary = E.check(who, "boundary", spec.boundary, "function", true)
  if spec.clamp ~= nil then
    if not self.x then raise("%s: clamp needs neurons", who) end
    self.mask, self.clamp_first, self.clamp_count = clamp_mask(who, spec.clamp, self.x)
  end
  self.observers = E.check(who, "observe", spec.observe, "table", true) or {}
  for name, f in pairs(self.observers) do
    if type(name) ~= "string" or type(f) ~= "function" then
      raise("%s: observe must map names to functions f(world), got %s = %s", who, show(name), show(f))
    end
  end
  self.gen = T.Generator(E.int(who, "seed", spec.seed or 0, 0))
  return self
end
doc(M.new, "world{neurons=, couplings=, energy=, force=, network=, dynamics=, bath=, "
  .. "learn=, boundary=, clamp=, observe=, seed=0}  (also world.new{...})\n\n"
  .. "A world: neurons x (a tensor, the fast state, usually {replicas, n}); "
  .. "couplings (a table of named tensors, the slow trainable variables; w.c.name "
  .. "is updated in place); energy(x, c) the loss or Hamiltonian (a number, or one "
  .. "value per replica: gradients use the sum) and/or force(x, c, t) = dx/dt, or "
  .. "network = an nn.ContinuousNetwork of order 1 (force = its derivative, "
  .. "couplings = its parameters); dynamics = {dt=0.01, tau=1, substeps=1, "
  .. "method=\"langevin\"|\"euler\"|\"midpoint\"|\"rk4\"|f(w, h)}: each step the "
  .. "neurons take substeps steps of h = dt/substeps of dx = (h/tau) F + sqrt(2 T "
  .. "h/tau) xi with F the force or -dH/dx (Runge-Kutta methods need T = 0); "
  .. "bath = {T=0}; learn = {rate=1, T=0, every=1, loss=L(x, c), optimizer="
  .. "function(params) -> an hebb.optim optimizer, rule=f(w, grads, dt)}: every "
  .. "`every` steps the couplings move by -rate dt dL/dc + sqrt(2 rate T dt) xi "
  .. "(Langevin; dt = the time since the last update), or by the optimizer, or by "
  .. "the rule; boundary(w) is called before each step to set the environment "
  .. "(the clamped neurons clamp = {first, last}, whose force and noise are zero); "
  .. "observe = {name = f(w)} are recorded by w:run.  Noise comes from "
  .. "T.Generator(seed) (w.gen), in a fixed order.")

setmetatable(M, { __call = function(_, spec) return M.new(spec) end })

-- --- gradients ----------------------------------------------------------------

local function sum_of(v, who)
  if type(v) == "number" then return v end
  if not is_tensor(v) then raise("world: %s must return a tensor or a number, got %s", who, show(v)) end
  return v:sum()
end

-- leaf copies of the couplings (or, for a network, its parameters), and
-- the list of them in name order
local function coupling_leaves(self, grad)
  if self.network then
    local list = {}
    for i, name in ipairs(self.names) do list[i] = self.c[name] end
    return self.c, list
  end
  local c, list = {}, {}
  for i, name in ipairs(self.names) do
    local leaf = self.c[name]:detach()
    if grad then leaf:requires_grad_() end
    c[name], list[i] = leaf, leaf
  end
  return c, list
end

-- the force on the neurons at x: force(x, c, t), the network's, or -dH/dx
local function force(self, x)
  if self.force_fn then return A.no_grad(self.force_fn, x, self.c, self.t) end
  if self.network then return A.no_grad(function() return self.network:derivative(x) end) end
  local g = A.enable_grad(function()
    local xl = x:detach():requires_grad_()
    local c = coupling_leaves(self, false)
    local H = sum_of(self.energy_fn(xl, c), "energy")
    return A.grad(H, { xl }, { allow_unused = true })[1]
  end)
  return g and -g or T.zeros_like(x)
end

-- dL/dc for every coupling (a table by name), and L
local function coupling_grads(self)
  local fn = self.learn.loss or self.energy_fn
  return A.enable_grad(function()
    local c, list = coupling_leaves(self, true)
    local x = self.x and self.x:detach()
    local L = sum_of(fn(x, c), "the loss")
    local gs = is_tensor(L) and A.grad(L, list, { allow_unused = true }) or {}
    local out = {}
    for i, name in ipairs(self.names) do out[name] = gs[i] or T.zeros_like(list[i]) end
    return out, num(is_tensor(L) and L:detach() or L)
  end)
end

-- --- stepping -------------------------------------------------------------------

local function noise(self, like)
  return self.gen:randn(like.shape, { dtype = like.dtype })
end

local function free(self, f)
  if self.mask then return f * self.mask end
  return f
end

local function neuron_step(self, h)
  local m, tau, x = self.dyn.method, self.dyn.tau, self.x
  if type(m) == "function" then
    local nx = m(self, h)
    if nx ~= nil then self.x = nx end
    return
  end
  local s = h / tau
  local function F(y) return free(self, force(self, y)) end
  local k1 = F(x)
  local dx
  if m == "langevin" or m == "euler" then
    dx = k1 * s
    if self.T > 0 then dx = dx + free(self, noise(self, x)) * sqrt(2 * self.T * s) end
  elseif m == "midpoint" then
    dx = F(x + k1 * (s / 2)) * s
  else   -- rk4
    local k2 = F(x + k1 * (s / 2))
    local k3 = F(x + k2 * (s / 2))
    local k4 = F(x + k3 * s)
    dx = (k1 + (k2 + k3) * 2 + k4) * (s / 6)
  end
  x:add_(dx)
end

local function learn_step(self, dt)
  local l = self.learn
  if l.rule and not (l.loss or self.energy_fn) then l.rule(self, nil, dt) return end
  local grads, L = coupling_grads(self)
  self.last_loss = L
  if l.rule then l.rule(self, grads, dt) return end
  if self.opt then
    local list = {}
    for i, name in ipairs(self.names) do list[i] = grads[name] end
    self.opt:step(function() return L, list end)
    return
  end
  A.no_grad(function()
    for _, name in ipairs(self.names) do
      local c = self.c[name]
      local d = grads[name] * (-l.rate * dt)
      if l.T > 0 then d = d + noise(self, c) * sqrt(2 * l.rate * l.T * dt) end
      c:add_(d)
    end
  end)
end

function World:step(k)
  k = E.int("w:step", "k", k or 1, 0)
  local d = self.dyn
  for _ = 1, k do
    if self.boundary then self.boundary(self) end
    if self.x then
      local h = d.dt / d.substeps
      for _ = 1, d.substeps do neuron_step(self, h) end
    end
    self.n = self.n + 1
    self.t = self.n * d.dt
    if self.learn and self.n % self.learn.every == 0 then
      learn_step(self, d.dt * self.learn.every)
    end
  end
  return self
end
doc(World.step, "w:step([k=1])\n\nk steps of time dt: the boundary, the neurons' "
  .. "substeps, then (every learn.every steps) one learning update of the "
  .. "couplings.  w.t is the time, w.n the number of steps.  Returns w.")

-- --- observation ----------------------------------------------------------------

function World:energy()
  if not self.energy_fn then raise("w:energy: this world has no energy") end
  return A.no_grad(self.energy_fn, self.x, self.c)
end
doc(World.energy, "w:energy()\n\nH(x, c) now, as the energy function returns it "
  .. "(one value per replica, or a number), without a graph.")

function World:loss()
  local fn = self.learn and self.learn.loss or self.energy_fn
  if not fn then raise("w:loss: this world has no loss and no energy") end
  return A.no_grad(fn, self.x, self.c)
end
doc(World.loss, "w:loss()\n\nThe learning loss L(x, c) now (learn.loss, else the "
  .. "energy), without a graph.")

function World:observe()
  local row = { t = self.t }
  for name, f in pairs(self.observers) do
    local v = f(self)
    if is_tensor(v) then v = v:numel() == 1 and v:item() or v:detach():clone() end
    row[name] = v
  end
  return row
end
doc(World.observe, "w:observe()\n\nOne measurement: a table with t and each "
  .. "observable's value (numbers, or tensors copied).")

local function stack(list)
  if type(list[1]) == "number" then return T.tensor(list) end
  if is_tensor(list[1]) then return T.stack(list) end
  return list
end

function World:run(opts)
  opts = E.checkopts("w:run", opts, { steps = true, every = true, callback = true })
  local steps = E.int("w:run", "steps", opts.steps, 0)
  local every = E.int("w:run", "every", opts.every or 1, 1)
  local cb = E.check("w:run", "callback", opts.callback, "function", true)
  local rows = { self:observe() }
  local done = 0
  while done < steps do
    local k = math.min(every, steps - done)
    self:step(k)
    done = done + k
    rows[#rows + 1] = self:observe()
    if cb then cb(self, rows[#rows]) end
  end
  local rec = {}
  for name in pairs(rows[1]) do
    local col = {}
    for i, r in ipairs(rows) do col[i] = r[name] end
    rec[name] = stack(col)
  end
  return rec
end
doc(World.run, "w:run{steps= [, every=1, callback=f(w, row)]}\n\nAdvances steps "
  .. "steps, observing at the start and every `every` steps: returns a table with "
  .. "t (a 1-d tensor of times) and, for each observable, its values stacked along "
  .. "a new first dimension (a 1-d tensor for numbers).")

-- --- curvature of the loss, replica by replica ----------------------------------

-- g = dL/dc_name for the leaf cn (with a graph), the other couplings fixed
local function grad_graph(self, name)
  local fn = self.learn and self.learn.loss or self.energy_fn
  if not fn then raise("w:hessian: this world has no loss and no energy") end
  local c = coupling_leaves(self, false)
  if self.c[name] == nil then raise("w:hessian: no coupling named %s", show(name)) end
  local cn = self.c[name]:detach():requires_grad_()
  c[name] = cn
  local x = self.x and self.x:detach()
  local g = A.grad(sum_of(fn(x, c), "the loss"), { cn }, { create_graph = true })[1]
  return cn, g
end

-- the per-replica Hessian: coupling {R, P...} with the loss a sum of
-- independent replicas, so H v with v = e_j in every replica gives column
-- j of every replica's Hessian at once (P backward passes, not R P)
function World:hessian(name)
  return A.enable_grad(function()
    local cn, g = grad_graph(self, name)
    local R = cn.shape[1]
    local P = cn:numel() // R
    local cols = {}
    for j = 1, P do
      local e = T.zeros(R, P, { dtype = cn.dtype })
      e:select(2, j):fill_(1)
      local hv = A.grad((g * e:reshape(cn.shape)):sum(), { cn }, { retain_graph = true,
                                                                  allow_unused = true })[1]
      cols[j] = hv and hv:detach():reshape(R, P) or T.zeros(R, P, { dtype = cn.dtype })
    end
    return T.stack(cols, 3)
  end)
end
doc(World.hessian, "w:hessian(name)\n\nThe Hessian of the loss with respect to "
  .. "the coupling name, replica by replica: the coupling's first dimension is the "
  .. "replica (R) and the loss a sum of independent replicas; returns {R, P, P} (P "
  .. "the elements per replica), from P Hessian-vector products.")

function World:laplacian(name, opts)
  opts = E.checkopts("w:laplacian", opts, { method = true, samples = true })
  local method = opts.method or "exact"
  if method == "exact" then
    return self:hessian(name):diagonal(0, 2, 3):sum(2)
  elseif method ~= "hutchinson" then
    raise("w:laplacian: method must be \"exact\" or \"hutchinson\", got %s", show(method))
  end
  local m = E.int("w:laplacian", "samples", opts.samples or 32, 1)
  return A.enable_grad(function()
    local cn, g = grad_graph(self, name)
    local R = cn.shape[1]
    local acc = T.zeros(R, { dtype = cn.dtype })
    for _ = 1, m do
      local v = self.gen:bernoulli(0.5, cn.shape):astype(cn.dtype) * 2 - 1
      local hv = A.grad((g * v):sum(), { cn }, { retain_graph = true, allow_unused = true })[1]
      if hv then acc = acc + (hv:detach() * v):reshape(R, -1):sum(2) end
    end
    return acc / m
  end)
end
doc(World.laplacian, "w:laplacian(name [, {method=\"exact\"|\"hutchinson\", "
  .. "samples=32}])\n\nThe Laplacian (trace of the Hessian) of the loss with "
  .. "respect to the coupling name, one value per replica ({R}): exact from "
  .. "w:hessian, or Hutchinson's estimate (mean of v^T H v over Rademacher v, "
  .. "drawn from w.gen).")

doc(World, "world.World\n\nThe class of the worlds world{...} makes; fields x "
  .. "(neurons), c (couplings by name), t (time), n (steps), gen (generator).")
return M
