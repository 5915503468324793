-- lattice.lua -- the module `hebb.lattice`: spin models on hypercubic
-- lattices (Ising, q-state Potts, O(n): XY, Heisenberg, ...) with Monte
-- Carlo updates in C (natives/core/lattice*.c): Metropolis and heat bath
-- (checkerboard, parallel over sites), over-relaxation, Wolff and
-- Swendsen-Wang cluster updates, parallel tempering, and observables
-- (energy, magnetization, two-point correlations and structure factor by
-- FFT).  Exact results are in hebb.lattice_exact (lattice.exact).
--
-- Conventions: J = k_B = 1 unless J is given; temperatures enter as the
-- inverse temperature beta = 1/T; energies and magnetizations are totals
-- (divide by lat.N for per-site values).  A configuration is a tensor:
-- i64 spins +-1 (Ising) or states 1..q (Potts) of shape lat.shape, f64
-- unit vectors of shape {shape..., n} (O(n)); a leading dimension B makes
-- a batch of independent replicas.  Every random number comes from a
-- counter-based generator keyed by position, so a run gives the same bits
-- at any thread count.
local T = require "hebb.tensor"
local C = require "hebb._lattice"
local E = require "hebb._error"
local fft = require "hebb.fft"
local doc = require("hebb").doc

local M = {}
doc(M, [==[hebb.lattice

Spin models on hypercubic lattices in 1 to 4 dimensions (Ising, Potts,
XY/O(n); uniform, per-bond or random couplings and fields; periodic or
open) with Monte Carlo in C: Metropolis and heat bath (checkerboard,
parallel), over-relaxation, Wolff and Swendsen-Wang clusters, parallel
tempering; energy, magnetization, correlations and structure factor.
Inverse temperatures beta = 1/T; random numbers keyed by position (same
bits at any thread count).  Exact results: lattice.exact.  See
docs/statmech.md.]==])

local is_tensor = T.is_tensor
local fmt = string.format

local Lattice = {}
Lattice.__index = Lattice
doc(Lattice, [==[Lattice

A spin model made by lattice.new (or lattice.ising, potts, xy, heisenberg,
on): fields model, shape, d, N, q, n, J, h, periodic; methods ordered,
random, energy, magnetization, observe, correlation, structure_factor,
metropolis, heatbath, overrelax, wolff, swendsen_wang.]==])

local KINDS = { ising = 0, potts = 1, on = 2 }

-- --- construction -------------------------------------------------------------

local MODEL_OPTS = { L = true, d = true, shape = true, J = true, h = true, periodic = true,
  q = true, n = true }

local function check_int(who, v, what, lo)
  if math.type(v) ~= "integer" then
    E.raise("%s: %s must be an integer, got %s", who, what, E.show(v))
  end
  if v < lo then E.raise("%s: %s = %d; must be >= %d", who, what, v, lo) end
  return v
end

-- the shape from opts.shape, or opts.L and opts.d (default 2)
local function shape_of(who, opts)
  local shape = {}
  if opts.shape ~= nil then
    if opts.L ~= nil or opts.d ~= nil then
      E.raise("%s: give either shape or L (and d), not both", who)
    end
    if type(opts.shape) ~= "table" then E.raise("%s: shape must be a list of sizes, got %s", who, E.show(opts.shape)) end
    for i, n in ipairs(opts.shape) do shape[i] = check_int(who, n, "shape[" .. i .. "]", 2) end
  else
    if opts.L == nil then E.raise("%s: needs the lattice size: L = ... (and d = ...) or shape = {...}", who) end
    local L = check_int(who, opts.L, "L", 2)
    local d = check_int(who, opts.d or 2, "d", 1)
    for i = 1, d do shape[i] = L end
  end
  if #shape < 1 or #shape > 4 then
    E.raise("%s: a lattice has 1 to 4 dimensions, got %d", who, #shape)
  end
  return shape
end

-- the open-ends bit mask from periodic (true, false, or a list per dim)
local function open_mask(who, periodic, d)
  if periodic == nil or periodic == true then return 0 end
  if periodic == false then return (1 << d) - 1 end
  if type(periodic) ~= "table" or #periodic ~= d then
    E.raise("%s: periodic must be true, false or a list of %d booleans, got %s", who, d, E.show(periodic))
  end
  local mask = 0
  for k = 1, d do if not periodic[k] then mask = mask | (1 << (k - 1)) end end
  return mask
end

-- a uniform value (a number) or a per-bond / per-site tensor of the given shape
local function coupling(who, v, what, shape, default)
  if v == nil then return default, nil end
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then E.raise("%s: %s = %s must be finite", who, what, tostring(v)) end
    return v, nil
  end
  if not is_tensor(v) then E.raise("%s: %s must be a number or a tensor, got %s", who, what, E.show(v)) end
  local ok = v.ndim == #shape
  for i = 1, #shape do ok = ok and v.shape[i] == shape[i] end
  if not ok then
    E.raise("%s: %s has shape {%s}; it must be {%s}", who, what, table.concat(v.shape, ", "),
            table.concat(shape, ", "))
  end
  return 0, v:to("f64"):clone()
end

function M.new(model, opts)
  local who = "lattice.new"
  if type(model) ~= "string" then E.raise("%s: model must be a name, got %s", who, E.show(model)) end
  local name = model:lower()
  local alias = { xy = "on", heisenberg = "on", ["o(n)"] = "on" }
  local kind = KINDS[alias[name] or name]
  if not kind then
    local near = E.suggest(name, { ising = true, potts = true, xy = true, heisenberg = true, on = true })
    E.raise("%s: unknown model %s%s (models: ising, potts, xy, heisenberg, on)", who, E.show(model),
            near and fmt(" (did you mean '%s'?)", near) or "")
  end
  who = "lattice." .. name
  opts = E.checkopts(who, opts, MODEL_OPTS)
  local shape = shape_of(who, opts)
  local d = #shape
  local q = 2
  if kind == 1 then
    if opts.q == nil then E.raise("%s: needs the number of states q", who) end
    q = opts.q
    if math.type(q) ~= "integer" then E.raise("%s: q must be an integer, got %s", who, E.show(q)) end
    if q < 2 then E.raise("%s: q = %d; a Potts model needs q >= 2", who, q) end
  elseif kind == 2 then
    q = opts.n or (name == "xy" and 2 or name == "heisenberg" and 3)
    if q == nil then E.raise("%s: needs the number of components n", who) end
    if math.type(q) ~= "integer" or q < 1 or q > 64 then
      E.raise("%s: n = %s; an O(n) model needs an integer n from 1 to 64", who, tostring(q))
    end
  elseif opts.q ~= nil or opts.n ~= nil then
    E.raise("%s: the Ising model takes no q or n", who)
  end
  local bshape = { d }
  for i = 1, d do bshape[i + 1] = shape[i] end
  local J, Jb = coupling(who, opts.J, "J", bshape, 1.0)
  local h, hs = coupling(who, opts.h, "h", shape, 0.0)
  local open = open_mask(who, opts.periodic, d)
  local N = 1
  for i = 1, d do N = N * shape[i] end
  local self = setmetatable({
    model = kind == 0 and "ising" or kind == 1 and "potts" or "on",
    shape = shape, d = d, N = N, q = kind == 1 and q or nil, n = kind == 2 and q or nil,
    J = Jb or J, h = hs or h, periodic = open == 0, _open = open,
    _c = C.model(kind, shape, open, q, J, h, Jb, hs),
  }, Lattice)
  return self
end
doc(M.new, [==[lattice.new(model, opts)

A spin model on a hypercubic lattice: model "ising", "potts", "xy"
(O(2)), "heisenberg" (O(3)) or "on" (O(n)).  opts:
  L, d      size per dimension (>= 2) and dimension (1..4, default 2), or
  shape     the sizes, {L1, L2, ...}
  J         coupling: a number (default 1) or a tensor {d, shape...} whose
            [k][x] couples site x and x + e_k (random or per-bond couplings)
  h         field: a number (default 0) or a tensor of the lattice's shape
  periodic  true (default), false (open ends) or a list per dimension
  q         Potts states (>= 2);  n  O(n) components
Energies: Ising H = -sum J s_i s_j - sum h s_i; Potts H = -sum J
delta(s_i, s_j) - sum h delta(s_i, 1); O(n) H = -sum J s_i.s_j - sum h
s_i[1].  Fields: lat.model, lat.shape, lat.d, lat.N, lat.q, lat.n.]==])

function M.ising(opts) return M.new("ising", opts) end
doc(M.ising, [==[lattice.ising(opts)

The Ising model: lattice.new("ising", opts); e.g. lattice.ising{L = 16}
(16 x 16, periodic, J = 1, h = 0).]==])
function M.potts(opts) return M.new("potts", opts) end
doc(M.potts, [==[lattice.potts(opts)

The q-state Potts model: lattice.new("potts", opts), opts.q >= 2.]==])
function M.xy(opts) return M.new("xy", opts) end
doc(M.xy, [==[lattice.xy(opts)

The XY (O(2)) model: planar unit spins.]==])
function M.heisenberg(opts) return M.new("heisenberg", opts) end
doc(M.heisenberg, [==[lattice.heisenberg(opts)

The classical Heisenberg (O(3)) model.]==])
function M.on(opts) return M.new("on", opts) end
doc(M.on, [==[lattice.on(opts)

The O(n) model with opts.n components (n = 1 is Ising with continuous
storage).]==])

function Lattice:__tostring()
  local extra = self.q and fmt(", q = %d", self.q) or self.n and fmt(", n = %d", self.n) or ""
  return fmt("%s lattice {%s}%s, %s", self.model == "on" and "O(n)" or self.model,
             table.concat(self.shape, "x"), extra, self.periodic and "periodic" or "open ends")
end

-- --- configurations -------------------------------------------------------------

-- the configuration shape, with a batch of B replicas when B is given
local function conf_shape(self, B)
  local s = {}
  if B then s[1] = B end
  for i = 1, self.d do s[#s + 1] = self.shape[i] end
  if self.model == "on" then s[#s + 1] = self.n end
  return s
end

local function check_batch(who, B)
  if B ~= nil and (math.type(B) ~= "integer" or B < 1) then
    E.raise("%s: the batch size must be an integer >= 1, got %s", who, E.show(B))
  end
end

function Lattice:ordered(B)
  check_batch("ordered", B)
  local shape = conf_shape(self, B)
  if self.model ~= "on" then return T.ones(shape, "i64") end
  local s = T.zeros(shape)
  s:select(-1, 1):fill_(1)
  return s
end
doc(Lattice.ordered, [==[lat:ordered([B])

The ordered (ground-state for J > 0, h >= 0) configuration: all spins +1,
all Potts states 1, all O(n) spins along the first axis.  With B, a batch
of B copies.]==])

function Lattice:random(B, opts)
  if type(B) == "table" then B, opts = nil, B end
  check_batch("random", B)
  opts = E.checkopts("random", opts, { generator = true })
  local g = { generator = opts.generator }
  local shape = conf_shape(self, B)
  if self.model == "ising" then return T.randint(0, 1, shape, g) * 2 - 1 end
  if self.model == "potts" then return T.randint(1, self.q, shape, g) end
  local s = T.randn(shape, g)
  return s / s:norm(2, -1, { keepdim = true })
end
doc(Lattice.random, [==[lat:random([B] [, {generator=}])

A random (infinite-temperature) configuration, or a batch of B: independent
uniform spins, states or directions, drawn from the generator (default:
T.default_generator).]==])

-- --- observables ------------------------------------------------------------------

local function is_batch(self, s)
  return s.ndim == self.d + (self.model == "on" and 1 or 0) + 1
end

function Lattice:observe(s)
  return C.observe(self._c, s)
end
doc(Lattice.observe, [==[lat:observe(s)

The total energy and the raw magnetization of s: E (a 0-d tensor, {B}
for a batch) and M (shape {k} or {B, k}): the sum of the spins (Ising, k =
1), the number of sites in each state (Potts, k = q) or the sum of the
vectors (O(n), k = n).]==])

local function scalar(t, batch)
  if batch then return t end
  return t:item()
end

function Lattice:energy(s)
  local e = C.observe(self._c, s)
  return scalar(e, is_batch(self, s))
end
doc(Lattice.energy, [==[lat:energy(s)

The total energy H(s) (a number; a {B} tensor for a batch).  Per site:
lat:energy(s) / lat.N.]==])

function Lattice:magnetization(s)
  local _, m = C.observe(self._c, s)
  local batch = is_batch(self, s)
  local v
  if self.model == "ising" then v = m:select(-1, 1)
  elseif self.model == "potts" then
    v = (m:max(-1) * self.q - self.N) / (self.q - 1)
  else v = m:norm(2, -1) end
  return scalar(v, batch)
end
doc(Lattice.magnetization, [==[lat:magnetization(s)

The total order parameter of s (a number, or {B} for a batch): Ising the
signed sum of the spins; Potts N (q max_k n_k / N - 1)/(q - 1), with n_k
the sites in state k (0 when disordered, N when ordered); O(n) the length
of the summed vector.  Per site: divide by lat.N.]==])

-- the lattice part of s as f64 channels: {..., shape, channels}
local function channels(self, s)
  if self.model == "ising" then return s:to("f64"):unsqueeze(-1) end
  if self.model == "on" then return s end
  local cs = {}
  for k = 1, self.q do cs[k] = s:eq(k):to("f64") end
  return T.stack(cs, -1)
end

local function lattice_dims(self, s)
  local first = s.ndim - self.d   -- the dims before the channel one
  local dims = {}
  for k = 1, self.d do dims[k] = first - 1 + k end
  return dims
end

-- |s(k)|^2 summed over channels, for a periodic lattice
local function power(self, s, who)
  if not self.periodic then E.raise("%s: needs a periodic lattice (the FFT wraps around)", who) end
  local c = channels(self, s)
  local f = fft.fftn(c, lattice_dims(self, c))
  return (f:real():square() + f:imag():square()):sum(-1)
end

function Lattice:structure_factor(s)
  local p = power(self, s, "structure_factor") / self.N
  if self.model == "potts" then
    -- the transform of (q delta(s_x, s_x+r) - 1)/(q - 1): the constant
    -- -1/(q-1) contributes -N/(q-1) at k = 0 only
    p = p * (self.q / (self.q - 1))
    p:view(p:numel() // self.N, self.N):select(2, 1):sub_(self.N / (self.q - 1))
  end
  return p
end
doc(Lattice.structure_factor, [==[lat:structure_factor(s)

S(k) = |sum_x s_x e^{-i k.x}|^2 / N on the wave vectors k = 2 pi
(fftfreq(L1), fftfreq(L2), ...) (entry {1, 1, ...} is k = 0: M^2/N).  A
tensor of the lattice's shape ({B, ...} for a batch).  O(n): summed over
components; Potts: the transform of the Potts correlation (q delta(s_x,
s_x+r) - 1)/(q - 1), so that sum_k S(k) = N for every model.  Periodic
lattices only.]==])

function Lattice:correlation(s)
  local p = power(self, s, "correlation")
  local dims = lattice_dims(self, p:unsqueeze(-1))
  local c = fft.ifftn(p, dims):real() / self.N
  if self.model == "potts" then c = (c * self.q - 1) / (self.q - 1) end
  return c
end
doc(Lattice.correlation, [==[lat:correlation(s)

The two-point function averaged over translations, G(r) = (1/N) sum_x
s_x . s_{x+r}, for every displacement r (entry {1, 1, ...} is r = 0; r
and -r are entries i and L + 2 - i), by FFT: a tensor of the lattice's
shape ({B, ...} for a batch).  Potts: (q <delta(s_x, s_{x+r})> - 1)/(q -
1).  Not connected: subtract m^2 for the connected function.  Periodic
lattices only.]==])

-- --- updates ----------------------------------------------------------------------------

local function gen_of(who, g)
  if g == nil then return nil end
  local mt = getmetatable(g)
  if type(g) ~= "userdata" or not (mt and mt.__name == "hebb.Generator") then
    E.raise("%s: generator must be a T.Generator, got %s", who, E.show(g))
  end
  return g
end

local function sweeps_opt(who, v, what)
  if v == nil then return 1 end
  return check_int(who, v, what, 0)
end

local function check_betas(who, beta)
  local function one(b)
    if type(b) ~= "number" or b ~= b or b == math.huge then
      E.raise("%s: beta must be a finite number, got %s", who, E.show(b))
    end
    if b < 0 then E.raise("%s: beta = %g < 0 (a negative temperature T = %g); beta = 1/T must be >= 0", who, b, 1 / b) end
  end
  if type(beta) == "table" then for _, b in ipairs(beta) do one(b) end
  elseif is_tensor(beta) then
    if beta:lt(0):any() then E.raise("%s: the inverse temperatures must be >= 0 (found %g)", who, beta:min()) end
  else one(beta) end
  return beta
end

local function order_of(who, order)
  if order == nil or order == "checkerboard" then return true end
  if order == "sequential" then return false end
  E.raise("%s: order must be 'checkerboard' or 'sequential', got %s", who, E.show(order))
end

function Lattice:metropolis(s, beta, opts)
  local who = "metropolis"
  opts = E.checkopts(who, opts, { sweeps = true, generator = true, order = true, step = true })
  return C.metropolis(self._c, s, check_betas(who, beta), gen_of(who, opts.generator),
                      sweeps_opt(who, opts.sweeps, "sweeps"), order_of(who, opts.order), opts.step or 1.0)
end
doc(Lattice.metropolis, [==[lat:metropolis(s, beta [, {sweeps=1, generator=, order="checkerboard", step=1}])

Metropolis sweeps of s in place at inverse temperature beta (a number, or
one per replica of a batch: a list or tensor).  Each site proposes a flip
(Ising), another of the q states (Potts) or s + step g renormalized (O(n),
g Gaussian) and accepts with probability min(1, e^{-beta dE}).  order
"checkerboard" updates the two colours in turn, in parallel (even sizes
along periodic dimensions and the last one); "sequential" visits the sites
in index order.  Returns the acceptance rate.  Draws are keyed by (seed,
sweep, site): the same bits at any thread count.]==])

function Lattice:heatbath(s, beta, opts)
  local who = "heatbath"
  opts = E.checkopts(who, opts, { sweeps = true, generator = true, order = true })
  C.heatbath(self._c, s, check_betas(who, beta), gen_of(who, opts.generator),
             sweeps_opt(who, opts.sweeps, "sweeps"), order_of(who, opts.order))
  return s
end
doc(Lattice.heatbath, [==[lat:heatbath(s, beta [, {sweeps=1, generator=, order="checkerboard"}])

Heat-bath sweeps of s in place: each site is drawn exactly from its
distribution given its neighbours (Ising, Potts; O(n): the von
Mises-Fisher law ~ e^{beta f.s} about the local field f, by Best-Fisher
rejection for n = 2, inversion for n = 3, Wood's rejection for n >= 4).
Returns s.]==])

function Lattice:overrelax(s, opts)
  opts = E.checkopts("overrelax", opts, { sweeps = true })
  C.overrelax(self._c, s, sweeps_opt("overrelax", opts.sweeps, "sweeps"))
  return s
end
doc(Lattice.overrelax, [==[lat:overrelax(s [, {sweeps=1}])

Over-relaxation sweeps of an O(n) configuration: each spin reflected about
its local field, which keeps the energy and decorrelates (no random
numbers; combine with metropolis or wolff for ergodicity).  Returns s.]==])

-- a cluster update who (C function of the same name) whose count option
-- is `count`
local function cluster(self, who, count, s, beta, opts)
  opts = E.checkopts(who, opts, { [count] = true, generator = true })
  return C[who](self._c, s, check_betas(who, beta), gen_of(who, opts.generator),
                sweeps_opt(who, opts[count], count))
end

function Lattice:wolff(s, beta, opts)
  return cluster(self, "wolff", "clusters", s, beta, opts)
end
doc(Lattice.wolff, [==[lat:wolff(s, beta [, {clusters=1, generator=}])

Wolff single-cluster updates of s in place (Ising, Potts, O(n); J >= 0,
h = 0): a cluster grown from a random site with bond probability 1 -
e^{-2 beta J} (Potts: 1 - e^{-beta J}; O(n): along a random direction) is
flipped.  Returns the mean cluster size.  Take a fixed number of clusters
per measurement (stopping when the flipped total reaches N biases toward
order).  Replica r of a batch draws from its own stream.]==])

function Lattice:swendsen_wang(s, beta, opts)
  return cluster(self, "swendsen_wang", "sweeps", s, beta, opts)
end
doc(Lattice.swendsen_wang, [==[lat:swendsen_wang(s, beta [, {sweeps=1, generator=}])

Swendsen-Wang sweeps of s in place (Ising, Potts, O(n); J >= 0, h = 0):
bonds between aligned neighbours open with the Wolff probability, the
clusters (union-find) are each flipped with probability 1/2 (Potts: each
gets a uniform random state).  Returns the mean number of clusters.]==])

-- --- parallel tempering --------------------------------------------------------------

local Tempering = {}
Tempering.__index = Tempering
doc(Tempering, [==[Tempering

A parallel-tempering run made by lattice.tempering: fields configs,
betas, replica (the replica at each temperature), rounds; methods step,
config, energies, swap_rates.]==])

function M.tempering(lat, betas, opts)
  local who = "lattice.tempering"
  if getmetatable(lat) ~= Lattice then E.raise("%s: the first argument must be a lattice, got %s", who, E.show(lat)) end
  if type(betas) ~= "table" or #betas < 2 then
    E.raise("%s: needs a list of at least 2 inverse temperatures, got %s", who, E.show(betas))
  end
  check_betas(who, betas)
  opts = E.checkopts(who, opts, { update = true, sweeps = true, generator = true, start = true })
  local update = opts.update or "metropolis"
  if update ~= "metropolis" and update ~= "heatbath" and update ~= "wolff" then
    E.raise("%s: update must be 'metropolis', 'heatbath' or 'wolff', got %s", who, E.show(update))
  end
  local R = #betas
  local pt = setmetatable({
    lat = lat, betas = { table.unpack(betas) }, R = R, update = update,
    sweeps = sweeps_opt(who, opts.sweeps, "sweeps"), generator = gen_of(who, opts.generator),
    replica = {}, swaps = {}, attempts = {}, rounds = 0,
  }, Tempering)
  local start = opts.start or "random"
  if start == "random" then pt.configs = lat:random(R, { generator = pt.generator })
  elseif start == "ordered" then pt.configs = lat:ordered(R)
  else E.raise("%s: start must be 'random' or 'ordered', got %s", who, E.show(start)) end
  for k = 1, R do pt.replica[k] = k end
  for k = 1, R - 1 do pt.swaps[k], pt.attempts[k] = 0, 0 end
  return pt
end
doc(M.tempering, [==[lattice.tempering(lat, betas [, {update="metropolis", sweeps=1, generator=, start="random"}])

Parallel tempering (replica exchange) over the inverse temperatures betas
(a list, in any order; neighbours in the list are exchanged).  The
replicas are one batch, pt.configs ({R, shape...}), updated together in C;
pt:step() runs `sweeps` updates (metropolis, heatbath, or `sweeps` Wolff
clusters) of every replica at its current temperature, then proposes
exchanges between neighbouring temperatures (even pairs, then odd pairs
on alternate steps) with probability min(1, e^{(b_k - b_k+1)(E_a - E_b)}).
pt:config(k) is the configuration now at betas[k], pt:energies() the
energies by temperature, pt:swap_rates() the exchange acceptance per
pair.]==])

-- the inverse temperature each replica (batch row) has now
local function replica_betas(pt)
  local b = {}
  for k = 1, pt.R do b[pt.replica[k]] = pt.betas[k] end
  return b
end

function Tempering:step()
  local lat, g = self.lat, self.generator
  local b = replica_betas(self)
  if self.update == "wolff" then
    lat:wolff(self.configs, b, { clusters = self.sweeps, generator = g })
  else
    lat[self.update](lat, self.configs, b, { sweeps = self.sweeps, generator = g })
  end
  local E = C.observe(lat._c, self.configs):totable()
  local first = self.rounds % 2 + 1
  local u = T.rand(self.R, { generator = g }):totable()
  for k = first, self.R - 1, 2 do
    local a, c = self.replica[k], self.replica[k + 1]
    local x = (self.betas[k] - self.betas[k + 1]) * (E[a] - E[c])
    self.attempts[k] = self.attempts[k] + 1
    if x >= 0 or u[k] < math.exp(x) then
      self.replica[k], self.replica[k + 1] = c, a
      self.swaps[k] = self.swaps[k] + 1
    end
  end
  self.rounds = self.rounds + 1
  return self
end
doc(Tempering.step, [==[pt:step()

One round: updates of every replica, then one set of exchange proposals.
Returns pt.]==])

function Tempering:config(k)
  return self.configs[self.replica[k]]
end
doc(Tempering.config, [==[pt:config(k)

The configuration now at inverse temperature betas[k] (a view into
pt.configs).]==])

function Tempering:energies()
  local E = C.observe(self.lat._c, self.configs)
  local idx = T.tensor(self.replica)
  return E:index_select(1, idx)
end
doc(Tempering.energies, [==[pt:energies()

The total energies of the configurations at betas[1], betas[2], ... (a
tensor of R values).]==])

function Tempering:swap_rates()
  local r = {}
  for k = 1, self.R - 1 do r[k] = self.attempts[k] > 0 and self.swaps[k] / self.attempts[k] or 0 end
  return r
end
doc(Tempering.swap_rates, [==[pt:swap_rates()

The accepted fraction of exchanges between betas[k] and betas[k+1], per
k (a list of R - 1 numbers).]==])

M.Lattice = Lattice
M.Tempering = Tempering
M.exact = require "hebb.lattice_exact"
return M
