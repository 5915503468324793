-- lattice_exact.lua -- the module `hebb.lattice_exact` (also
-- hebb.lattice.exact): exact results for Ising models, the references
-- Monte Carlo runs are checked against.
--   Kc, Tc                 the critical point of the square lattice
--                          (Kramers-Wannier, Onsager 1944)
--   onsager                the infinite square lattice: ln Z/N (Onsager's
--                          integral), energy and specific heat (complete
--                          elliptic integrals), spontaneous magnetization
--                          (Yang 1952)
--   kaufman                the L x M torus exactly (Kaufman, Phys. Rev. 76,
--                          1232 (1949), in the form of Ferdinand & Fisher,
--                          Phys. Rev. 185, 832 (1969))
--   ising1d                the ring of N sites and the infinite chain
--   enumerate, transfer    any small lattice by summing over all states,
--                          and the 2D torus by the row transfer matrix (C:
--                          natives/core/lattice_exact.c)
-- Units: J = k_B = 1, inverse temperature beta; per-site quantities.
-- Derivatives (energy, specific heat) are exact: Kaufman's formula and
-- the 1D closed forms are evaluated on "jets" (value, first and second
-- derivative), so no finite differences are involved.
local C = require "hebb._lattice"
local T = require "hebb.tensor"
local numeric = require "hebb.numeric"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local exp, log, sqrt, abs, pi = math.exp, math.log, math.sqrt, math.abs, math.pi

M.Kc = 0.5 * log(1 + sqrt(2))
M.Tc = 1 / M.Kc

local function check_beta(who, beta)
  if type(beta) ~= "number" or beta ~= beta or abs(beta) == math.huge then
    E.raise("%s: beta must be a finite number, got %s", who, E.show(beta))
  end
  if beta < 0 then E.raise("%s: beta = %g < 0 (a negative temperature); beta = 1/T must be >= 0", who, beta) end
end

local function check_size(who, v, what)
  if math.type(v) ~= "integer" or v < 2 then
    E.raise("%s: %s must be an integer >= 2, got %s", who, what, E.show(v))
  end
end

-- --- jets: (value, first derivative, second derivative) ----------------------------------

local function jet(v, d, dd) return { v, d or 0, dd or 0 } end
local function jadd(a, b) return { a[1] + b[1], a[2] + b[2], a[3] + b[3] } end
local function jsub(a, b) return { a[1] - b[1], a[2] - b[2], a[3] - b[3] } end
local function jscale(a, s) return { a[1] * s, a[2] * s, a[3] * s } end
local function jmul(a, b)
  return { a[1] * b[1], a[2] * b[1] + a[1] * b[2], a[3] * b[1] + 2 * a[2] * b[2] + a[1] * b[3] }
end
-- f(a) from f, f' and f'' at a's value (the chain rule to second order)
local function japply(a, f, f1, f2)
  return { f, f1 * a[2], f2 * a[2] * a[2] + f1 * a[3] }
end
local function jexp(a) local e = exp(a[1]); return japply(a, e, e, e) end
local function jlog(a) local v = a[1]; return japply(a, log(v), 1 / v, -1 / (v * v)) end
local function jcosh(a) return japply(a, math.cosh(a[1]), math.sinh(a[1]), math.cosh(a[1])) end
local function jsinh(a) return japply(a, math.sinh(a[1]), math.cosh(a[1]), math.sinh(a[1])) end
local function jdiv(a, b)
  local r = 1 / b[1]
  return jmul(a, japply(b, r, -r * r, 2 * r * r * r))
end
local function jacosh(a)
  local x = a[1]
  local q = x * x - 1
  return japply(a, log(x + sqrt(q)), 1 / sqrt(q), -x / (q * sqrt(q)))
end
-- ln(2 cosh a), no overflow
local function jlncosh2(a)
  local x, t = abs(a[1]), math.tanh(a[1])
  return japply(a, x + log(1 + exp(-2 * x)), t, 1 - t * t)
end
-- ln|2 sinh a| for |a| >= 1
local function jlnsinh2(a)
  local x, s = abs(a[1]), math.sinh(a[1])
  return japply(a, x + log(1 - exp(-2 * x)), math.cosh(a[1]) / s, -1 / (s * s))
end

-- --- Onsager ------------------------------------------------------------------------------------

-- kappa = 2 sinh 2b / cosh^2 2b, the modulus of Onsager's elliptic integrals
local function kappa(beta)
  return 2 * math.sinh(2 * beta) / math.cosh(2 * beta) ^ 2
end

function M.onsager_lnz(beta)
  check_beta("exact.onsager_lnz", beta)
  local k2 = kappa(beta) ^ 2
  local integral = numeric.quad(function(t)
    return log(0.5 * (1 + sqrt(math.max(1 - k2 * math.sin(t) ^ 2, 0))))
  end, 0, pi / 2, { abs_tol = 1e-15, rel_tol = 1e-15 })
  return log(2 * math.cosh(2 * beta)) + integral / pi
end
doc(M.onsager_lnz, [==[exact.onsager_lnz(beta)

ln Z / N of the infinite square-lattice Ising model (J = 1): Onsager's
ln(2 cosh 2b) + (1/pi) int_0^{pi/2} ln[(1 + sqrt(1 - k^2 sin^2 t))/2] dt,
k = 2 sinh 2b / cosh^2 2b, by adaptive quadrature (~1e-15).  At beta = Kc:
ln 2 / 2 + 2G/pi (G Catalan's constant) = 0.929695398341610.]==])

local function ellipk(m) return T.ellipk(m):item() end
local function ellipe(m) return T.ellipe(m):item() end

function M.onsager_energy(beta)
  check_beta("exact.onsager_energy", beta)
  local t = math.tanh(2 * beta)
  local k2 = kappa(beta) ^ 2
  -- at beta = Kc, 2 tanh^2 - 1 = 0 meets K(1) = inf: the product is 0
  local term = k2 < 1 and (2 * t * t - 1) * ellipk(k2) or 0
  return -(1 / t) * (1 + 2 / pi * term)
end
doc(M.onsager_energy, [==[exact.onsager_energy(beta)

The energy per site of the infinite square lattice: -coth 2b [1 + (2/pi)
(2 tanh^2 2b - 1) K(k^2)] (K the complete elliptic integral, T.ellipk,
parameter k^2).  -sqrt(2) at Kc; -1.7455645753 at T = 2.]==])

function M.onsager_specific_heat(beta)
  check_beta("exact.onsager_specific_heat", beta)
  if beta == 0 then return 0 end
  -- c = -b^2 du/db with u = -C (1 + (2/pi) A K(k)), C = coth 2b, A = 2 t^2 - 1,
  -- t = tanh 2b, differentiated term by term: C' = -2/sinh^2 2b, A' = 8 t (1 - t^2),
  -- dK/dk = E/(k (1 - k^2)) - K/k, dk/db = 4 (1 - sinh^2 2b)/cosh^3 2b
  local t, sh, ch = math.tanh(2 * beta), math.sinh(2 * beta), math.cosh(2 * beta)
  local k = 2 * sh / (ch * ch)
  if k >= 1 then return math.huge end
  local K, Ek = ellipk(k * k), ellipe(k * k)
  local C, dC = 1 / t, -2 / (sh * sh)
  local Av, dA = 2 * t * t - 1, 8 * t * (1 - t * t)
  local dK = (Ek / (1 - k * k) - K) / k * 4 * (1 - sh * sh) / (ch * ch * ch)
  local du = -dC * (1 + 2 / pi * Av * K) - C * 2 / pi * (dA * K + Av * dK)
  return -beta * beta * du
end
doc(M.onsager_specific_heat, [==[exact.onsager_specific_heat(beta)

The specific heat per site (k_B = 1) of the infinite square lattice, c =
-b^2 du/db of Onsager's energy differentiated in closed form (complete
elliptic integrals K and E at parameter k^2, k = 2 sinh 2b / cosh^2 2b); it
diverges logarithmically at Kc (inf there).]==])

function M.onsager_magnetization(beta)
  check_beta("exact.onsager_magnetization", beta)
  if beta <= M.Kc then return 0 end
  return (1 - math.sinh(2 * beta) ^ -4) ^ 0.125
end
doc(M.onsager_magnetization, [==[exact.onsager_magnetization(beta)

The spontaneous magnetization per site of the infinite square lattice
(Yang 1952): (1 - sinh^-4 2b)^{1/8} above Kc, 0 below.]==])

function M.onsager(beta)
  return { lnz = M.onsager_lnz(beta), e = M.onsager_energy(beta),
           c = M.onsager_specific_heat(beta), m = M.onsager_magnetization(beta) }
end
doc(M.onsager, [==[exact.onsager(beta)

The four results of the infinite square lattice at beta as a table {lnz=,
e=, c=, m=} (per site).]==])

-- --- Kaufman -------------------------------------------------------------------------------------

-- A product of factors 2cosh(a) or 2sinh(a) (jets) kept as sign e^lam p:
-- large arguments go to lam in logarithms, small ones (where ln|sinh|
-- would lose its derivatives near 0) to p directly.
local function product(as, hyperbolic_sine)
  local lam, p, sign = jet(0), jet(1), 1
  for _, a in ipairs(as) do
    if not hyperbolic_sine then lam = jadd(lam, jlncosh2(a))
    elseif abs(a[1]) >= 1 then
      lam = jadd(lam, jlnsinh2(a))
      if a[1] < 0 then sign = -sign end
    else p = jmul(p, jscale(jsinh(a), 2)) end
  end
  return lam, jscale(p, sign)
end

-- ln Z of the L x M torus as a jet in beta
local function kaufman_lnz(L, Mr, beta)
  local K = jet(beta, 1, 0)
  local c2, s2 = jcosh(jscale(K, 2)), jsinh(jscale(K, 2))
  local ch = jdiv(jmul(c2, c2), s2)              -- cosh 2K coth 2K
  local gam = {}
  gam[0] = jadd(jscale(K, 2), jlog(jdiv(jsinh(K), jcosh(K))))   -- 2K + ln tanh K
  for l = 1, 2 * L - 1 do
    gam[l] = jacosh(jsub(ch, jet(math.cos(pi * l / L))))
  end
  local odd, even = {}, {}
  for r = 0, L - 1 do
    odd[#odd + 1] = jscale(gam[2 * r + 1], Mr / 2)
    even[#even + 1] = jscale(gam[2 * r], Mr / 2)
  end
  local parts = {}
  parts[1] = { product(odd, false) }
  parts[2] = { product(odd, true) }
  parts[3] = { product(even, false) }
  parts[4] = { product(even, true) }
  local top = -math.huge
  for i = 1, 4 do top = math.max(top, parts[i][1][1]) end
  local S = jet(0)
  for i = 1, 4 do
    local lam, p = parts[i][1], parts[i][2]
    S = jadd(S, jmul(jexp(jsub(lam, jet(top))), p))
  end
  local lnZ = jadd(jlog(S), jet(top))
  lnZ = jadd(lnZ, jscale(jlog(jscale(s2, 2)), L * Mr / 2))
  return jadd(lnZ, jet(log(0.5)))
end

function M.kaufman(L, Mr, beta)
  local who = "exact.kaufman"
  if beta == nil then Mr, beta = L, Mr end
  check_size(who, L, "L")
  check_size(who, Mr, "M")
  check_beta(who, beta)
  if beta == 0 then return { lnz = log(2), e = 0, c = 0 } end
  local N = L * Mr
  local z = kaufman_lnz(L, Mr, beta)
  return { lnz = z[1] / N, e = -z[2] / N, c = beta * beta * z[3] / N }
end
doc(M.kaufman, [==[exact.kaufman(L, [M,] beta)

The square-lattice Ising model on an L x M torus (M defaults to L),
exactly: Kaufman's partition function Z = (1/2)(2 sinh 2b)^{LM/2} (Z1 + Z2
+ Z3 + Z4), Z1 = prod_r 2 cosh(M g_{2r+1}/2), Z2 the same with sinh, Z3,
Z4 with g_{2r} (r = 0..L-1), cosh g_l = cosh 2b coth 2b - cos(pi l/L),
g_0 = 2b + ln tanh b.  Returns per-site {lnz=, e=, c=}: ln Z/N, <E>/N and
the specific heat b^2 (<E^2> - <E>^2)/N, the derivatives carried exactly
(no finite differences).  ~1e-13 relative for L up to hundreds; checked
against enumeration and the transfer matrix.]==])

-- --- one dimension -----------------------------------------------------------------------------------

-- ln Z / N of the ring (N finite) or chain (N = inf) with jets Kj = beta
-- J and hj = beta h
local function ising1d_lnz(N, Kj, hj)
  local eK, emK = jexp(Kj), jexp(jscale(Kj, -1))
  local ch, sh = jcosh(hj), jsinh(hj)
  local root = jexp(jscale(jlog(jadd(jmul(jmul(eK, eK), jmul(sh, sh)), jmul(emK, emK))), 0.5))
  local lp, lm = jadd(jmul(eK, ch), root), jsub(jmul(eK, ch), root)
  local lnz = jlog(lp)
  if N == math.huge then return lnz end
  -- ln(lp^N + lm^N) / N = ln lp + ln(1 + r^N) / N, r = lm / lp, |r| < 1
  local r = jdiv(lm, lp)
  local rv = r[1]
  local rN = japply(r, rv ^ N, N * rv ^ (N - 1), N * (N - 1) * rv ^ (N - 2))
  return jadd(lnz, jscale(jlog(jadd(jet(1), rN)), 1 / N))
end

function M.ising1d(N, beta, h)
  local who = "exact.ising1d"
  if not (N == math.huge or (math.type(N) == "integer" and N >= 2)) then
    E.raise("%s: N must be an integer >= 2 or math.huge (the infinite chain), got %s", who, E.show(N))
  end
  check_beta(who, beta)
  h = h or 0
  if type(h) ~= "number" or h ~= h or abs(h) == math.huge then E.raise("%s: h must be a finite number, got %s", who, E.show(h)) end
  -- derivatives in beta (energy, specific heat) and in h (m, chi)
  local zb = ising1d_lnz(N, jet(beta, 1, 0), jet(beta * h, h, 0))
  local zh = ising1d_lnz(N, jet(beta, 0, 0), jet(beta * h, beta, 0))
  return { lnz = zb[1], e = -zb[2], c = beta * beta * zb[3],
           m = beta > 0 and zh[2] / beta or 0, chi = beta > 0 and zh[3] / beta or 0 }
end
doc(M.ising1d, [==[exact.ising1d(N, beta [, h=0])

The Ising chain H = -sum s_i s_{i+1} - h sum s_i: a ring of N sites, or
the infinite chain for N = math.huge, by its 2x2 transfer matrix (eigenvalues
l+- = e^b cosh(bh) +- sqrt(e^{2b} sinh^2(bh) + e^{-2b}), Z = l+^N + l-^N).
Returns per-site {lnz=, e=, c=, m=, chi=} (chi = dm/dh), derivatives exact.
For h = 0 and N = inf: e = -tanh b, c = b^2 / cosh^2 b, chi = b e^{2b}; the
correlation length is -1/ln tanh b.]==])

-- --- enumeration and the transfer matrix --------------------------------------------------------------

-- per-site quantities from the C result (totals) at beta, N sites
local function derived(r, beta, N)
  local out = {}
  for k, v in pairs(r) do out[k] = v end
  out.lnz = r.lnZ / N
  out.e = r.E / N
  out.E2 = r.E * r.E + r.Evar
  out.c = beta * beta * r.Evar / N
  out.m = r.absM / N
  out.chi = beta * r.M2 / N
  out.chi_abs = beta * (r.M2 - r.absM * r.absM) / N
  out.binder = 1 - r.M4 / (3 * r.M2 * r.M2)
  return out
end

local function beta_list(who, beta)
  local list = type(beta) == "table" and beta or { beta }
  for _, b in ipairs(list) do check_beta(who, b) end
  return list
end

function M.enumerate(lat, beta)
  local who = "exact.enumerate"
  if type(lat) ~= "table" or not lat._c then E.raise("%s: the first argument must be a lattice (hebb.lattice), got %s", who, E.show(lat)) end
  local list = beta_list(who, beta)
  local res = C.enumerate(lat._c, list)
  for i, b in ipairs(list) do res[i] = derived(res[i], b, lat.N) end
  if type(beta) == "table" then return res end
  return res[1]
end
doc(M.enumerate, [==[exact.enumerate(lat, beta)

Exact thermal averages of a small Ising or Potts lattice (any dimension,
boundaries, couplings and fields) by summing over all q^N <= 2^30 states
(Gray-code order, in C).  beta a number or a list (then a list of
results).  Each result has the totals lnZ, E, Evar (<E^2> - <E>^2), E2, M,
absM, M2, M4 (M: the
magnetization, the Potts order parameter) and per site lnz, e, c (specific
heat), m (<|M|>/N), chi (beta <M^2>/N), chi_abs (beta (<M^2> - <|M|>^2)/N),
binder (1 - <M^4>/(3 <M^2>^2)).  The 4 x 4 torus at Kc: e = -1.5656237876,
m = 0.8438604448, binder = 0.6171993184.]==])

function M.transfer(L, Mr, beta)
  local who = "exact.transfer"
  if beta == nil then Mr, beta = L, Mr end
  check_size(who, L, "L")
  check_size(who, Mr, "M")
  if L > 10 then E.raise("%s: L = %d; the row transfer matrix is 2^L x 2^L, L must be <= 10 (use exact.kaufman)", who, L) end
  local list = beta_list(who, beta)
  local res = C.transfer(L, Mr, list)
  for i, b in ipairs(list) do res[i] = derived(res[i], b, L * Mr) end
  if type(beta) == "table" then return res end
  return res[1]
end
doc(M.transfer, [==[exact.transfer(L, [M,] beta)

The square-lattice Ising model (J = 1, h = 0) on an L x M torus (L <= 10
sites per row; M defaults to L) by the row-to-row transfer matrix:
Z = Tr T^M on the 2^L row states, with dZ/db, d2Z/db2 and d2Z/dh2 carried
along the products, so lnz, e, c and chi = b <M^2>/N are exact (m, binder
are NaN: the transfer matrix gives no <|M|>).  beta a number or a list.]==])

doc(M, [==[hebb.lattice_exact

Exact results for Ising models (J = k_B = 1, inverse temperature beta,
per-site values): Kc, Tc; onsager (infinite square lattice: lnz, e, c,
m); kaufman (L x M torus: lnz, e, c); ising1d (ring and chain); enumerate
(any small Ising/Potts lattice, all averages); transfer (2D torus by the
transfer matrix).  Also reachable as require("hebb.lattice").exact.  See
docs/statmech.md.]==])

return M
