-- hebb._fields_quantum: the Schrodinger equation of hebb.fields on a
-- periodic grid, and the Madelung (hydrodynamic) form of a wave function.
--
--   i hbar dpsi/dt = -(hbar^2 / 2m) Laplacian psi + V psi
--
-- fields.schrodinger{V=, dx=, dt=, ...} makes a propagator: split-step
-- Fourier (exact kinetic part, Strang splitting, O(dt^2)) or Crank-
-- Nicolson (three-point Laplacian, unitary, O(dt^2 + dx^2)); imaginary
-- time (t -> -i tau) with renormalization relaxes to the ground state.
-- Madelung: psi = sqrt(rho) e^{iS/hbar} gives the continuity equation for
-- rho with velocity v = grad S / m and a Hamilton-Jacobi equation with the
-- quantum potential Q = -(hbar^2 / 2m) Laplacian sqrt(rho) / sqrt(rho)
-- (E. Madelung, Z. Phys. 40, 322 (1927)); derivatives here are spectral.
local T = require "hebb.tensor"
local C = require "hebb._fields"
local fft = require "hebb.fft"
local sparse = require "hebb.sparse"
local Dirac = require "hebb._fields_dirac"
local E = require "hebb._error"
local doc = require("hebb").doc

local P = {}
local fmt = string.format
local raise, show = E.raise, E.show


-- whether every element of x is finite: |x| * 0 sums to 0 exactly then
local function all_finite(x)
  local z = (x:abs() * 0):sum()
  return (T.is_tensor(z) and z:item() or z) == 0
end
P._all_finite = all_finite

local function grid_shape(who, shape)
  if type(shape) == "number" then shape = { shape } end
  if type(shape) ~= "table" or #shape == 0 then raise("%s: shape must be a list of grid sizes, got %s", who, show(shape)) end
  for i, n in ipairs(shape) do
    if math.type(n) ~= "integer" or n < 1 then raise("%s: shape[%d] must be an integer >= 1, got %s", who, i, show(n)) end
  end
  return shape
end

-- the i-th of d axes as a shape {1, .., n, .., 1}
local function along(v, i, d)
  local s = {}
  for k = 1, d do s[k] = k == i and v:numel() or 1 end
  return v:reshape(s)
end

-- x_j = (j - floor(n/2)) dx, j = 0 .. n-1: x = 0 at index n // 2 + 1
function P.grid(shape, dx)
  local who = "fields.grid"
  local one = type(shape) == "number"
  shape = grid_shape(who, shape)
  dx = E.num_or(who, "dx", dx, 1, 0, true)
  local xs = {}
  for i, n in ipairs(shape) do
    local x = (T.arange(0, n - 1) - n // 2) * dx
    xs[i] = one and x or along(x, i, #shape)
  end
  if one then return xs[1] end
  return xs
end
doc(P.grid, "fields.grid(n [, dx=1])  or  fields.grid(shape, dx)\n\nGrid "
  .. "coordinates x_j = (j - floor(n/2)) dx, j = 0..n-1 (x = 0 at index n//2 + 1); "
  .. "for a shape, a list of broadcastable coordinate tensors (the i-th of shape "
  .. "{1, .., n_i, .., 1}), so V = (X^2 + Y^2)/2 is one expression.")

-- the angular wave numbers of each axis, broadcastable, in fft's order
local function wavenumbers(shape, dx)
  local ks = {}
  for i, n in ipairs(shape) do ks[i] = along(fft.fftfreq(n, dx) * (2 * math.pi), i, #shape) end
  return ks
end

local function k_squared(shape, dx)
  local k2 = T.zeros(shape)
  for _, k in ipairs(wavenumbers(shape, dx)) do k2 = k2 + k * k end
  return k2
end

-- --- the propagator ---------------------------------------------------------------------

local Prop = {}
Prop.__index = Prop
P.Propagator = Prop
doc(Prop, "fields.Propagator\n\nThe class of fields.schrodinger's propagators.")

local prop_opts = { V = true, H = true, shape = true, dx = true, m = true, hbar = true, dt = true,
                    method = true, bc = true, dtype = true, tol = true }

-- H given as a matrix: Hermitian (checked), square, c128; the grid shape
-- (opts.shape, else {n}) must hold n points
local function hamiltonian_matrix(who, self, opts)
  local H = opts.H
  if opts.V ~= nil then raise("%s: give V (a potential on a grid) or H (a Hamiltonian matrix), not both", who) end
  if T.is_tensor(H) and H.ndim == 2 then H = sparse.from_dense(H) end
  if type(H) ~= "userdata" or T.is_tensor(H) or not H.triplets or H.shape[1] ~= H.shape[2] then
    raise("%s: H must be a square sparse matrix or 2-d tensor, got %s", who, show(opts.H))
  end
  Dirac._check_hermitian(who, H)
  local n = H.shape[1]
  local shape = opts.shape and grid_shape(who, opts.shape) or { n }
  local points = 1
  for _, v in ipairs(shape) do points = points * v end
  if points ~= n then
    raise("%s: H is %d x %d but shape = {%s} has %d points", who, n, n, table.concat(shape, ", "), points)
  end
  if (opts.method or "cn") ~= "cn" then
    raise("%s: a Hamiltonian matrix H needs method \"cn\", got %s", who, show(opts.method))
  end
  self.H = H:astype("c128")
  return shape
end

function P.schrodinger(opts)
  local who = "fields.schrodinger"
  opts = E.checkopts(who, opts, prop_opts)
  local self = setmetatable({}, Prop)
  local V = opts.V
  local shape
  if opts.H ~= nil then
    shape = hamiltonian_matrix(who, self, opts)
  elseif V ~= nil then
    if not T.is_tensor(V) or V.dtype == "c128" or V.dtype == "c64" then
      raise("%s: V must be a real tensor (the potential on the grid), got %s", who, show(V))
    end
    V = V:astype("f64"):contiguous()
    if not all_finite(V) then raise("%s: V holds NaN or infinite values; a potential must be finite", who) end
    shape = V.shape
    if opts.shape then
      local s = grid_shape(who, opts.shape)
      if table.concat(s, ",") ~= table.concat(shape, ",") then
        raise("%s: V has shape {%s} but shape = {%s}", who, table.concat(shape, ", "), table.concat(s, ", "))
      end
    end
  else
    shape = grid_shape(who, opts.shape or raise("%s: give V (a tensor) or shape", who))
  end
  self.shape, self.V = shape, V
  self.dx = E.num_or(who, "dx", opts.dx, 1, 0, true)
  self.m = E.num_or(who, "m", opts.m, 1, 0, true)
  self.hbar = E.num_or(who, "hbar", opts.hbar, 1, 0, true)
  self.dt = E.num_or(who, "dt", opts.dt, nil, 0, true)
  self.method = opts.method or (self.H and "cn" or "split")
  if self.method ~= "split" and self.method ~= "cn" then
    raise("%s: method must be \"split\" or \"cn\", got %s", who, show(self.method))
  end
  self.bc = opts.bc or "periodic"
  if self.H and opts.bc ~= nil then raise("%s: bc is for a grid; H holds its own boundary", who) end
  if self.bc ~= "periodic" and (self.method ~= "cn" or self.bc ~= "dirichlet") then
    raise("%s: bc must be \"periodic\"%s, got %s", who,
          self.method == "cn" and " or \"dirichlet\"" or " (split-step Fourier is periodic)", show(self.bc))
  end
  self.dtype = opts.dtype or "c128"
  if self.dtype ~= "c128" and self.dtype ~= "c64" then
    raise("%s: dtype must be \"c128\" or \"c64\", got %s", who, show(self.dtype))
  end
  self.tol = E.num_or(who, "tol", opts.tol, 1e-13, 0, true)
  if self.H then   -- the Cayley factors 1 -+ i dt H / 2 hbar
    local c = self.dt / (2 * self.hbar)
    local I = sparse.eye(self.H.shape[1])
    self._plus, self._minus = I + self.H:scale({ 0, c }), I + self.H:scale({ 0, -c })
  end
  return self
end
doc(P.schrodinger, "fields.schrodinger{V= or shape= or H=, dt= [, dx=1, m=1, hbar=1, "
  .. "method=\"split\", bc=\"periodic\", dtype=\"c128\", tol=1e-13]}\n\nA propagator for "
  .. "i hbar dpsi/dt = -(hbar^2/2m) Laplacian psi + V psi on a periodic grid of "
  .. "spacing dx (V: a real tensor of the grid's shape).  method \"split\": "
  .. "split-step Fourier (Strang; exact kinetic step), \"cn\": Crank-Nicolson with "
  .. "the three-point Laplacian (per axis in d > 1; bc \"periodic\" or "
  .. "\"dirichlet\"; lines solved in double).  H = a Hermitian sparse matrix (or "
  .. "2-d tensor; checked) instead: i hbar dpsi/dt = H psi by Crank-Nicolson, "
  .. "each step a sparse.solve of (1 + i dt H/2hbar) to tol; psi of shape {n} or "
  .. "shape=.  dtype \"c128\" or \"c64\" for every method.  Methods: S:step(psi [, "
  .. "n]), S:energy(psi), S:norm(psi), S:ground_state(psi0 [, opts]).")

-- e^{-i c X} as a complex tensor (imag: e^{-c X}, real)
local function phase(X, c, imag, dtype)
  if imag then return T.complex((X * -c):exp(), T.zeros_like(X)):astype(dtype) end
  return T.complex((X * c):cos(), -(X * c):sin()):astype(dtype)
end

-- the phase grids for time step dt (imag: imaginary time), cached
function Prop:_phases(dt, imag)
  local key = fmt("%.17g %s", dt, tostring(imag))
  self._cache = self._cache or {}
  local c = self._cache[key]
  if not c then
    local V = self.V or T.zeros(self.shape)
    c = { phase(V, dt / (2 * self.hbar), imag, self.dtype),
          phase(k_squared(self.shape, self.dx), self.hbar * dt / (2 * self.m), imag, self.dtype) }
    self._cache[key] = c
  end
  return c[1], c[2]
end

function Prop:_check(who, psi)
  if not T.is_tensor(psi) then raise("%s: psi must be a tensor, got %s", who, show(psi)) end
  if table.concat(psi.shape, ",") ~= table.concat(self.shape, ",") then
    raise("%s: psi has shape {%s}, the grid is {%s}", who, table.concat(psi.shape, ", "),
          table.concat(self.shape, ", "))
  end
  if psi.dtype ~= self.dtype then
    raise("%s: psi has dtype %s; this propagator works in %s", who, psi.dtype, self.dtype)
  end
  if not psi:is_contiguous() then raise("%s: psi must be contiguous (it is updated in place)", who) end
end

local function check_count(who, n)
  n = n or 1
  if math.type(n) ~= "integer" or n < 0 then raise("%s: steps must be an integer >= 0, got %s", who, show(n)) end
  return n
end

function Prop:step(psi, n)
  local who = "fields.schrodinger:step"
  self:_check(who, psi)
  n = check_count(who, n)
  if self.H then
    self:_cayley(psi, n)
  elseif self.method == "split" then
    local pv, pk = self:_phases(self.dt, false)
    C.split_step(psi, pv, pk, n)
  else
    C.crank_nicolson(psi, self.V, self.dx, self.m, self.hbar, self.dt, self.bc == "periodic", n)
  end
  if n > 0 and not all_finite(psi) then
    raise("%s: psi is NaN or infinite after %d steps of dt = %g (it held NaN or inf before?)",
          who, n, self.dt)
  end
  return psi
end
doc(Prop.step, "S:step(psi [, n=1])\n\nn time steps of dt, in place on psi (a "
  .. "contiguous tensor of the grid's shape and the propagator's dtype).  Returns "
  .. "psi.")

-- n Crank-Nicolson steps with the matrix H: x <- (1 + i c H)^-1 (1 - i c H) x,
-- in c128, each solve from the previous state
function Prop:_cayley(psi, n)
  local x = psi:astype("c128"):reshape(psi:numel())
  for _ = 1, n do
    x = sparse.solve(self._plus, self._minus:matmul(x), { x0 = x, tol = self.tol })
  end
  psi:copy_(x:reshape(psi.shape))
end

function Prop:norm(psi)
  return (psi:abs() ^ 2):sum() * self.dx ^ #self.shape
end
doc(Prop.norm, "S:norm(psi)\n\nsum |psi|^2 dx^d.")

-- <psi|H|psi> / <psi|psi>: the kinetic term spectral (split) or from the
-- three-point Laplacian (cn)
function Prop:energy(psi)
  local who = "fields.schrodinger:energy"
  self:_check(who, psi)
  local rho = psi:abs() ^ 2
  local total = rho:sum()
  if self.H then
    local x = psi:astype("c128"):reshape(psi:numel())
    local e = T.real((x:conj() * self.H:matmul(x)):sum()) / total
    return T.is_tensor(e) and e:item() or e
  end
  local kin
  if self.method == "split" then
    local f = fft.fftn(psi)
    kin = ((f:abs() ^ 2) * k_squared(self.shape, self.dx)):sum() / psi:numel()
    kin = kin * self.hbar ^ 2 / (2 * self.m)
  else
    local lap = T.zeros_like(psi)
    local dirichlet = self.bc == "dirichlet"
    for d = 1, #self.shape do
      local n = self.shape[d]
      local up = T.tensor((function() local v = {} for i = 1, n do v[i] = i % n + 1 end return v end)(), "i64")
      local dn = T.tensor((function() local v = {} for i = 1, n do v[i] = (i - 2) % n + 1 end return v end)(), "i64")
      local a, b = psi:index_select(d, up), psi:index_select(d, dn)
      if dirichlet then   -- nothing beyond the ends
        a:narrow(d, n, 1):fill_(0)
        b:narrow(d, 1, 1):fill_(0)
      end
      lap = lap + a + b - psi * 2
    end
    kin = -T.real((psi:conj() * lap):sum()) * self.hbar ^ 2 / (2 * self.m * self.dx ^ 2)
  end
  local pot = self.V and (rho * self.V):sum() or 0
  local e = (kin + pot) / total
  return T.is_tensor(e) and e:item() or e
end
doc(Prop.energy, "S:energy(psi)\n\n<psi|H|psi> / <psi|psi> (the kinetic term "
  .. "spectral for \"split\", three-point for \"cn\"; the matrix H when given).")

function Prop:ground_state(psi0, opts)
  local who = "fields.schrodinger:ground_state"
  opts = E.checkopts(who, opts, { tol = true, max_steps = true, dtau = true, every = true })
  if self.method ~= "split" then raise("%s: imaginary time needs method \"split\"", who) end
  self:_check(who, psi0)
  local tol = E.num_or(who, "tol", opts.tol, 1e-12, 0, true)
  local dtau = E.num_or(who, "dtau", opts.dtau, self.dt, 0, true)
  local every = opts.every or 20
  local max_steps = opts.max_steps or 200000
  local pv, pk = self:_phases(dtau, true)
  local psi = psi0:clone()
  local function normalize() psi:mul_(1 / math.sqrt(self:norm(psi))) end
  normalize()
  local e_old, steps = self:energy(psi), 0
  while steps < max_steps do
    C.split_step(psi, pv, pk, every)
    normalize()
    steps = steps + every
    local e = self:energy(psi)
    if e ~= e then raise("%s: the energy became NaN after %d steps", who, steps) end
    if math.abs(e - e_old) <= tol * math.max(1, math.abs(e)) then return psi, e, steps end
    e_old = e
  end
  raise("%s: no convergence to tol = %g in %d steps of dtau = %g (last change %.3g)", who, tol,
        max_steps, dtau, math.abs(self:energy(psi) - e_old))
end
doc(Prop.ground_state, "S:ground_state(psi0 [, {tol=1e-12, dtau=dt, every=20, "
  .. "max_steps=2e5}])\n\nImaginary-time evolution (split-step with e^{-V dtau/2}, "
  .. "e^{-hbar k^2 dtau/2m}) from psi0, renormalized every `every` steps, until "
  .. "the energy changes by less than tol: returns the normalized ground state, "
  .. "its energy and the steps taken.")

-- --- Madelung ---------------------------------------------------------------------------------

local mad_opts = { dx = true, m = true, hbar = true, rho_min = true }

-- the spectral derivative of f along axis d of a periodic grid
local function derivative(f, d, k)
  return fft.ifft(fft.fft(f, d) * T.complex(T.zeros_like(k), k), d)
end

function P.madelung(psi, opts)
  local who = "fields.madelung"
  opts = E.checkopts(who, opts, mad_opts)
  if not T.is_tensor(psi) or (psi.dtype ~= "c128" and psi.dtype ~= "c64") then
    raise("%s: psi must be a complex tensor, got %s", who, show(psi))
  end
  local dx = E.num_or(who, "dx", opts.dx, 1, 0, true)
  local m = E.num_or(who, "m", opts.m, 1, 0, true)
  local hbar = E.num_or(who, "hbar", opts.hbar, 1, 0, true)
  psi = psi:astype("c128")
  local rho = psi:abs() ^ 2
  local rho_min = opts.rho_min or 1e-12 * rho:max()
  local ok = rho:gt(rho_min)
  local safe = T.where(ok, rho, T.ones_like(rho))
  local shape = psi.shape
  local ks = wavenumbers(shape, dx)
  local v = {}
  for d = 1, #shape do
    local j = T.imag(psi:conj() * derivative(psi, d, ks[d])) * (hbar / m)
    v[d] = T.where(ok, j / safe, T.zeros_like(rho))
  end
  local amp = rho:sqrt()
  local lap = T.real(fft.ifftn(fft.fftn(amp) * -k_squared(shape, dx)))
  local Q = T.where(ok, lap / T.where(ok, amp, T.ones_like(amp)) * (-hbar * hbar / (2 * m)),
                    T.zeros_like(rho))
  return { rho = rho, S = psi:angle() * hbar, v = #shape == 1 and v[1] or v, Q = Q }
end
doc(P.madelung, "fields.madelung(psi [, {dx=1, m=1, hbar=1, rho_min=}])\n\nThe "
  .. "hydrodynamic form psi = sqrt(rho) e^{iS/hbar} on a periodic grid: {rho, S "
  .. "(hbar times the phase, in (-pi hbar, pi hbar]), v = (hbar/m) Im(psi* grad "
  .. "psi)/rho (a tensor in 1-d, a list per axis otherwise), Q = -(hbar^2/2m) "
  .. "Laplacian sqrt(rho)/sqrt(rho)}, derivatives spectral.  Where rho <= rho_min "
  .. "(1e-12 max rho by default) v and Q are 0.")

function P.from_madelung(rho, S, opts)
  local who = "fields.from_madelung"
  opts = E.checkopts(who, opts, { hbar = true })
  if not T.is_tensor(rho) or not T.is_tensor(S) then
    raise("%s: rho and S must be tensors, got %s and %s", who, show(rho), show(S))
  end
  local hbar = E.num_or(who, "hbar", opts.hbar, 1, 0, true)
  local amp = rho:clamp(0, math.huge):sqrt()
  local ph = S / hbar
  return T.complex(amp * ph:cos(), amp * ph:sin())
end
doc(P.from_madelung, "fields.from_madelung(rho, S [, {hbar=1}])\n\npsi = sqrt(rho) "
  .. "e^{iS/hbar} (c128).")

return P
