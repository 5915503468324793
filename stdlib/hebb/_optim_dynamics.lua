-- hebb._optim_dynamics: optimizers that are physical dynamics, for
-- hebb.optim -- Langevin (SGLD, a temperature) and Hamiltonian (leapfrog,
-- energy conserved).
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._optim"
local B = require "hebb._optim_base"
local doc = require("hebb").doc

local M = {}
local new, class, no_grad = B._new, B._class, B._no_grad
local call_closure, gradients = B._call_closure, B._gradients
local fmtv = E.show
local sqrt, exp = math.sqrt, math.exp

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
doc(M.Langevin, "optim.Langevin(params, {lr [, temperature=0] [, seed]})\n\nStochastic gradient "
  .. "Langevin dynamics: p <- p - lr g + sqrt(2 lr T) xi, xi standard normal from hebb's "
  .. "generator (its own T.Generator(seed) with seed, else the default one).  At stationarity "
  .. "p samples exp(-loss/T) up to O(lr) corrections.  With a seed, state_dict saves the "
  .. "generator, so a restored run repeats bit for bit." .. B._doc_grads)

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
doc(M.Hamiltonian, "optim.Hamiltonian(params, {lr [, mass=1] [, friction=0]})\n\nHamiltonian "
  .. "dynamics with the loss as potential energy U(q), by leapfrog with time step h = lr: "
  .. "p -= h/2 dU/dq; q += h p/mass; p -= h/2 dU/dq(new q).  Energy is conserved to O(h^2) "
  .. "(no drift: the map is symplectic).  friction gamma multiplies p by exp(-gamma h/2) "
  .. "before and after.  step(closure) is required (the closure is called twice, at the old "
  .. "and new point) and returns the loss at the new point; opt:kinetic_energy() gives "
  .. "sum p^2/(2 mass), so loss + kinetic energy is the total energy; opt:momenta() lists the "
  .. "momentum tensors (zero at the start; fill them to start elsewhere).")

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
doc(Hamiltonian.momenta, "opt:momenta()\n\nThe momentum tensors (live state), one per parameter.")

function Hamiltonian:kinetic_energy()
  local e = 0
  for _, m in ipairs(self:momenta()) do e = e + (m * m):sum() end
  return e / (2 * self.mass)
end
doc(Hamiltonian.kinetic_energy, "opt:kinetic_energy()\n\nsum p^2 / (2 mass) over the momenta.")

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

return M
