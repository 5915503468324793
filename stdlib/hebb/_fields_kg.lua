-- hebb._fields_kg: the Klein-Gordon field of hebb.fields -- leapfrog steps
-- (C stencils), energy, stability limit, the lattice Laplacian and the
-- dispersion w(k) measured from an FFT in time.
--
-- A field on a periodic lattice is a tensor whose every dimension is a
-- lattice direction.  docs/fields.md is the guide, with the formulas
-- (F1-F3) the functions below are checked against.
local T = require "hebb.tensor"
local C = require "hebb._fields"
local fft = require "hebb.fft"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local fmt = string.format
local raise, show = E.raise, E.show

-- non-fatal numerical warnings go through Lua's warn() (shown with
-- `hebb -W` or warn("@on"), captured by the notebook runner); tests
-- replace this function to see them
M._warn = function(msg) warn(msg) end


local function shape_str(t) return "{" .. table.concat(t.shape, ", ") .. "}" end
M._shape_str = shape_str

local function field(who, t, what)
  if not T.is_tensor(t) then raise("%s: %s must be a tensor, got %s", who, what, show(t)) end
  if t.dtype ~= "f64" and t.dtype ~= "f32" then
    raise("%s: %s has dtype %s; a field is f64 or f32", who, what, t.dtype)
  end
  if t.ndim < 1 then raise("%s: %s is 0-dimensional; a field needs a lattice dimension", who, what) end
  return t
end

-- opts.shape, when given, must be the field's lattice
local function check_lattice(who, t, shape)
  if shape == nil then return end
  if type(shape) == "number" then shape = { shape } end
  local same = type(shape) == "table" and #shape == t.ndim
  for i = 1, t.ndim do same = same and shape[i] == t.shape[i] end
  if not same then
    raise("%s: the field has shape %s but the lattice is {%s}", who, shape_str(t),
          type(shape) == "table" and table.concat(shape, ", ") or tostring(shape))
  end
end

-- --- Klein-Gordon ------------------------------------------------------------------

local function kg_params(who, opts)
  local m = E.num_or(who, "m", opts.m, 0, 0)
  local a = E.num_or(who, "a", opts.a, 1, 0, true)
  return m, a
end

function M.kg_stability_limit(d, opts)
  local who = "fields.kg_stability_limit"
  opts = E.checkopts(who, opts, { m = true, a = true })
  if math.type(d) ~= "integer" or d < 1 then raise("%s: d must be an integer >= 1, got %s", who, show(d)) end
  local m, a = kg_params(who, opts)
  return 2 / math.sqrt(m * m + 4 * d / (a * a))
end
doc(M.kg_stability_limit, "fields.kg_stability_limit(d [, {m=0, a=1}])\n\nThe largest "
  .. "stable leapfrog step of the Klein-Gordon field on a d-dimensional lattice, "
  .. "2/sqrt(m^2 + 4d/a^2) (the fastest mode, k = pi, at omega dt = 2; exact for even sides, where "
  .. "k = pi exists).")

local warned = setmetatable({}, { __mode = "k" })

function M.kg_step(phi, pi, opts)
  local who = "fields.kg_step"
  opts = E.checkopts(who, opts, { m = true, a = true, dt = true, steps = true, shape = true })
  field(who, phi, "phi")
  field(who, pi, "pi")
  if shape_str(phi) ~= shape_str(pi) or phi.dtype ~= pi.dtype then
    raise("%s: phi (%s %s) and pi (%s %s) must have the same shape and dtype", who, phi.dtype,
          shape_str(phi), pi.dtype, shape_str(pi))
  end
  check_lattice(who, phi, opts.shape)
  local m, a = kg_params(who, opts)
  local dt = E.num_or(who, "dt", opts.dt, nil, 0, true)
  local steps = opts.steps or 1
  if math.type(steps) ~= "integer" or steps < 0 then
    raise("%s: steps must be an integer >= 0, got %s", who, show(steps))
  end
  local limit = 2 / math.sqrt(m * m + 4 * phi.ndim / (a * a))
  if dt >= limit then
    local key = fmt("%.17g %.17g %d", dt, m, phi.ndim)
    warned[phi] = warned[phi] or {}
    if not warned[phi][key] then
      warned[phi][key] = true
      M._warn(fmt("fields.kg_step: dt = %g is at or above the leapfrog stability limit "
                  .. "2/sqrt(m^2 + 4d/a^2) = %.10g (m = %g, d = %d, a = %g): the modes near "
                  .. "k = pi grow exponentially", dt, limit, m, phi.ndim, a))
    end
  end
  local blown = C.kg_leapfrog(phi, pi, m * m, a, dt, steps)
  if blown > 0 then
    raise("%s: the field became NaN or infinite at step %d of %d (dt = %g; the stability "
          .. "limit 2/sqrt(m^2 + 4d/a^2) is %.10g)", who, blown, steps, dt, limit)
  end
  return phi, pi
end
doc(M.kg_step, "fields.kg_step(phi, pi, {dt= [, m=0, a=1, steps=1, shape=]})\n\n"
  .. "steps leapfrog (kick-drift-kick) steps of d2phi/dt2 = Laplacian(phi) - m^2 "
  .. "phi on the periodic lattice of phi's shape (spacing a), in place on phi and "
  .. "its momentum pi (contiguous f64 or f32 tensors of one shape; both at the "
  .. "same time on return).  A C stencil, one force evaluation per step.  dt at "
  .. "or above the stability limit warns (Lua's warn) with the limit; a field "
  .. "that becomes NaN or infinite stops the loop and raises.  shape, when "
  .. "given, must be phi's lattice.  Returns phi, pi.")

function M.kg_energy(phi, pi, opts)
  local who = "fields.kg_energy"
  opts = E.checkopts(who, opts, { m = true, a = true })
  field(who, phi, "phi")
  field(who, pi, "pi")
  local m, a = kg_params(who, opts)
  return C.kg_energy(phi:contiguous(), pi:contiguous(), m * m, a)
end
doc(M.kg_energy, "fields.kg_energy(phi, pi [, {m=0, a=1}])\n\nThe lattice energy "
  .. "sum over sites of pi^2/2 + m^2 phi^2/2 + sum_mu (phi(x + mu) - phi(x))^2 / "
  .. "2a^2 (a number).")

function M.laplacian(phi, opts)
  local who = "fields.laplacian"
  opts = E.checkopts(who, opts, { a = true, out = true })
  field(who, phi, "phi")
  local a = E.num_or(who, "a", opts.a, 1, 0, true)
  return C.laplacian(phi, a, opts.out and { out = opts.out } or nil)
end
doc(M.laplacian, "fields.laplacian(phi [, {a=1, out=}])\n\nThe periodic lattice "
  .. "Laplacian (sum of the 2d neighbours - 2d phi) / a^2 of an f64 or f32 field "
  .. "(every dimension a lattice direction): a C stencil, differentiable.")

-- the wave vectors k (a table of d numbers, or a tensor {M, d}) as rows
local function wave_vectors(who, k)
  if type(k) == "number" then return { { k } } end
  if T.is_tensor(k) then k = k:totable() end
  if type(k) ~= "table" or #k == 0 then raise("%s: k must be a number, a list or a tensor, got %s", who, show(k)) end
  if type(k[1]) == "number" then return { k } end
  return k
end

function M.kg_omega(k, opts)
  local who = "fields.kg_omega"
  opts = E.checkopts(who, opts, { m = true, a = true, dt = true })
  local m, a = kg_params(who, opts)
  local dt = opts.dt ~= nil and E.num_or(who, "dt", opts.dt, nil, 0, true) or nil
  local rows, out = wave_vectors(who, k), {}
  for i, kv in ipairs(rows) do
    local w2 = m * m
    for _, ki in ipairs(kv) do w2 = w2 + (2 / a) ^ 2 * math.sin(ki * a / 2) ^ 2 end
    local w = math.sqrt(w2)
    if dt then   -- F2: (2/dt) sin(w~ dt / 2) = w
      local s = w * dt / 2
      w = s <= 1 and 2 / dt * math.asin(s) or 0 / 0
    end
    out[i] = w
  end
  if type(k) == "number" or (type(k) == "table" and type(k[1]) == "number") then return out[1] end
  return T.tensor(out)
end
doc(M.kg_omega, "fields.kg_omega(k [, {m=0, a=1, dt=}])\n\nThe Klein-Gordon "
  .. "frequency at wave vector k (a number, a list of d numbers, or rows of a "
  .. "{M, d} tensor): sqrt(m^2 + sum (2/a)^2 sin^2(k_i a/2)) (F1), or with dt the "
  .. "leapfrog's w~, (2/dt) sin(w~ dt/2) = w (F2; NaN past the stability limit).")

-- --- frequencies of time series ---------------------------------------------------------

-- the energy of each row pair of X (2M x N real: real and imaginary parts
-- of M series) in the span of cos(theta n), sin(theta n): maximal at the
-- frequency of a pure sinusoid, with no bias from its mirror image
local function projection_energy(X, theta, n)
  local ph = theta:unsqueeze(2) * n
  local Cs, Sn = ph:cos(), ph:sin()
  local c2, s2, cs = (Cs * Cs):sum(2), (Sn * Sn):sum(2), (Cs * Sn):sum(2)
  local M2 = X.shape[1]
  local Xr = X:reshape(M2 // 2, 2, X.shape[2])
  local p = (Xr * Cs:unsqueeze(2)):sum(3)
  local q = (Xr * Sn:unsqueeze(2)):sum(3)
  local det = c2 * s2 - cs * cs
  local e = (p * p * s2:unsqueeze(2) - p * q * cs:unsqueeze(2) * 2 + q * q * c2:unsqueeze(2)):sum(2)
  return e / det
end

-- golden-section search for the maximum of projection_energy in [lo, hi]
-- (tensors of M brackets), one evaluation a round; 60 rounds shrink the
-- bracket by 0.618^60 = 3e-13
local function refine(X, lo, hi, n)
  local g = (math.sqrt(5) - 1) / 2
  local a, b = lo, hi
  local c, d = b - (b - a) * g, a + (b - a) * g
  local fc, fd = projection_energy(X, c, n), projection_energy(X, d, n)
  for _ = 1, 60 do
    local left = fc:gt(fd)             -- the maximum is in [a, d], else in [c, b]
    local na, nb = T.where(left, a, c), T.where(left, d, b)
    local x = T.where(left, nb - (nb - na) * g, na + (nb - na) * g)
    local fx = projection_energy(X, x, n)
    c, d, fc, fd = T.where(left, x, d), T.where(left, c, x), T.where(left, fx, fd), T.where(left, fc, fx)
    a, b = na, nb
  end
  return (a + b) / 2
end

function M.frequency(series, dt)
  local who = "fields.frequency"
  if not T.is_tensor(series) or series.ndim < 1 or series.ndim > 2 then
    raise("%s: series must be a tensor {N} or {M, N} (M series of N samples), got %s", who, show(series))
  end
  dt = E.num_or(who, "dt", dt, 1, 0, true)
  local one = series.ndim == 1
  local S = one and series:unsqueeze(1) or series
  local Mn, N = S.shape[1], S.shape[2]
  if N < 8 then raise("%s: %d samples; at least 8 are needed", who, N) end
  local re, im
  if S.dtype == "c128" or S.dtype == "c64" then re, im = T.real(S), T.imag(S)
  else re, im = S:astype("f64"), T.zeros(Mn, N) end
  re, im = re:astype("f64"), im:astype("f64")
  local X = T.stack({ re, im }, 2):reshape(2 * Mn, N)
  -- the coarse peak: the largest bin of the Hann-windowed spectrum
  local n = T.arange(0, N - 1)
  local win = (n * (2 * math.pi / (N - 1))):cos() * -0.5 + 0.5
  local P = fft.rfft(X * win, 2):abs()
  P = (P * P):reshape(Mn, 2, P.shape[2]):sum(2)
  local bin = P:argmax(2) - 1            -- 0-based bin, {M}
  local width = 2 * math.pi / N
  local lo = T.maximum((bin:astype("f64") - 1) * width, T.zeros(Mn) + width * 1e-3)
  local hi = (bin:astype("f64") + 1) * width
  local theta = refine(X, lo, hi, n)
  theta = T.where(bin:eq(0), T.zeros(Mn), theta)   -- below one bin: 0
  local w = theta / dt
  if one then return w[1] end
  return w
end
doc(M.frequency, "fields.frequency(series [, dt=1])\n\nThe angular frequency of a "
  .. "sampled sinusoid (a tensor {N}, or {M, N}: M series; real or complex): the "
  .. "peak of a Hann-windowed FFT in time, refined by a least-squares fit of one "
  .. "sinusoid (no bias from the mirror frequency).  A frequency below one FFT bin, "
  .. "2 pi/(N dt), reads as 0.")

-- the lattice momenta with every component in [0, pi] (the others follow
-- by symmetry): rows of indices j (0-based, k = 2 pi j / L) and the flat
-- position of each in a row-major array of the lattice
local function half_zone(shape)
  local rows, flat = { {} }, { 0 }
  for d = 1, #shape do
    local L = shape[d]
    local nr, nf = {}, {}
    for r, row in ipairs(rows) do
      for j = 0, L // 2 do
        local v = { table.unpack(row) }
        v[d] = j
        nr[#nr + 1] = v
        nf[#nf + 1] = flat[r] * L + j
      end
    end
    rows, flat = nr, nf
  end
  return rows, flat
end

function M.kg_dispersion(shape, opts)
  local who = "fields.kg_dispersion"
  opts = E.checkopts(who, opts, { m = true, a = true, dt = true, steps = true, seed = true,
                                  dtype = true })
  if type(shape) == "number" then shape = { shape } end
  if type(shape) ~= "table" or #shape == 0 then raise("%s: shape must be a list of lattice sizes, got %s", who, show(shape)) end
  for i, L in ipairs(shape) do
    if math.type(L) ~= "integer" or L < 2 then raise("%s: shape[%d] must be an integer >= 2, got %s", who, i, show(L)) end
  end
  local m, a = kg_params(who, opts)
  local dt = opts.dt or 0.5 * M.kg_stability_limit(#shape, { m = m, a = a })
  local steps = opts.steps or 4096
  if math.type(steps) ~= "integer" or steps < 64 then raise("%s: steps must be an integer >= 64, got %s", who, show(steps)) end
  local gen = T.Generator(opts.seed or 0)
  local phi = gen:randn(shape, { dtype = opts.dtype or "f64" })
  local pi = T.zeros_like(phi)
  local rec = T.empty({ steps, phi:numel() }, { dtype = phi.dtype })
  local flat = phi:view(phi:numel())
  for s = 1, steps do
    rec:select(1, s):copy_(flat)
    M.kg_step(phi, pi, { m = m, a = a, dt = dt })
  end
  -- phi_k(t) = phi_k(0) cos(w~ t) for every k (pi = 0 at t = 0)
  local dims = {}
  for d = 1, #shape do dims[d] = d + 1 end
  local recs = rec:reshape(steps, table.unpack(shape))
  local Z = fft.fftn(recs, dims):reshape(steps, phi:numel())
  local rows, pos = half_zone(shape)
  local idx = T.tensor(pos, "i64") + 1
  local series = Z:index_select(2, idx):t()
  local w = M.frequency(series, dt)
  local ks = {}
  for i, row in ipairs(rows) do
    ks[i] = {}
    for d, j in ipairs(row) do ks[i][d] = 2 * math.pi * j / shape[d] end
  end
  return { k = T.tensor(ks), omega = w, dt = dt,
           leapfrog = M.kg_omega(ks, { m = m, a = a, dt = dt }),
           continuum = M.kg_omega(ks, { m = m, a = a }) }
end
doc(M.kg_dispersion, "fields.kg_dispersion(shape [, {m=0, a=1, dt=, steps=4096, seed=0, "
  .. "dtype=}])\n\nThe measured dispersion of the lattice Klein-Gordon field: a "
  .. "random field (pi = 0) is stepped by the leapfrog (dt: half the stability "
  .. "limit by default), each spatial Fourier mode k in [0, pi]^d recorded and "
  .. "its frequency measured (fields.frequency).  Returns {k = {M, d}, omega = "
  .. "{M}, leapfrog = F2's values, continuum = F1's values, dt}.")

return M
