-- %% [markdown]
-- # A network that is a time integrator: one RK4 step, and its order
--
-- A classical Runge–Kutta step is a feed-forward network with fixed
-- weights.  Its neurons hold the state y and the four stages k₁…k₄; layer i
-- computes kᵢ = F(y + cᵢh kᵢ₋₁) with the force network F, and the readout is
-- y + (h/6)(k₁ + 2k₂ + 2k₃ + k₄) — Butcher's tableau written as weights.
-- Here F is itself a small network, F(u) = W₀u + W₂ sin(W₁u), which is
-- exactly the damped oscillator q̈ = −ω²q − 2ζωq̇ (W₂ = 0) or the damped
-- pendulum q̈ = −ω² sin q − 2ζωq̇.  We check that the network *is* an RK4
-- step (against `hebb.ode` and `hebb.world`), measure its order of accuracy
-- by halving the step, and read its stability limit off its weights.
--
-- usage: `hebb examples/rk4_network.lua [--small] [--check]`

-- %%
local T = require "hebb.tensor"
local ode = require "hebb.ode"
local linalg = require "hebb.linalg"
local world = require "hebb.world"
local plot = require "hebb.plot"

local nb = require("hebb.notebook").checks(arg)   -- --small, --check, verdicts
local small, verdict = nb.small, nb.verdict
local omega, zeta = 2.0, 0.1
local W0 = T.tensor { { 0, 1 }, { -omega ^ 2, -2 * zeta * omega } }   -- linear part of F
local W1 = T.tensor { { 1.0, 0.0 } }                                   -- q feeds the sine
local W2 = T.tensor { { 0.0 }, { -omega ^ 2 } }                        -- the sine's force on p

-- the force network F(u) for a batch u {B, 2}; pendulum: the sine on, -w^2 q off
local function force_net(pendulum)
  local Wlin = pendulum and T.tensor { { 0, 1 }, { 0, -2 * zeta * omega } } or W0
  if not pendulum then return function(u) return u:matmul(Wlin:t()) end end
  return function(u) return u:matmul(Wlin:t()) + u:matmul(W1:t()):sin():matmul(W2:t()) end
end

-- the RK4 network: neurons s = (y, k1, k2, k3, k4) of 5 x 2, layer i reads
-- P_i s = y + c_i h k_{i-1} and writes F(P_i s) into block i; readout Q s
local function rk4_network(F, h)
  local c, b = { 0, 0.5, 0.5, 1 }, { 1 / 6, 1 / 3, 1 / 3, 1 / 6 }
  local P, Q = {}, T.zeros(2, 10)
  for i = 1, 4 do
    P[i] = T.zeros(2, 10)
    P[i]:narrow(2, 1, 2):copy_(T.eye(2))
    if i > 1 then P[i]:narrow(2, 2 * i - 1, 2):copy_(T.eye(2) * (c[i] * h)) end
    Q:narrow(2, 2 * i + 1, 2):copy_(T.eye(2) * (b[i] * h))
  end
  Q:narrow(2, 1, 2):copy_(T.eye(2))
  return function(y)
    local B = y.shape[1]
    local s = T.cat({ y, T.zeros(B, 8) }, 2)
    for i = 1, 4 do s = s + T.cat({ T.zeros(B, 2 * i), F(s:matmul(P[i]:t())), T.zeros(B, 8 - 2 * i) }, 2) end
    return s:matmul(Q:t())
  end
end

-- %% [markdown]
-- ## 1. The network is one RK4 step
-- The same step three ways: the network, `ode.solve{method = "rk4"}`, and a
-- `hebb.world` whose neurons follow F with `method = "rk4"`.  For the
-- linear oscillator the network collapses to one matrix, which must be the
-- RK4 stability polynomial R(hA) = I + hA + (hA)²/2 + (hA)³/6 + (hA)⁴/24.

-- %%
local y0 = T.tensor { { 1.0, 0.0 } }
for _, pend in ipairs { false, true } do
  local F, h = force_net(pend), 0.1
  local net = rk4_network(F, h)
  local a = net(y0)
  local b = ode.solve(function(_, y) return F(y) end, y0, { 0, h }, { method = "rk4", dt = h }).y_final
  local w = world { neurons = y0, force = F, dynamics = { dt = h, method = "rk4" } }
  w:step()
  local d = math.max((a - b):abs():max(), (a - w.x):abs():max())
  print(string.format("%s: network vs ode.solve and world: %.1e", pend and "pendulum  " or "oscillator", d))
  verdict(d < 1e-15, "one network pass = one RK4 step (to rounding)")
end
local h = 0.1
local M = rk4_network(force_net(false), h)(T.eye(2)):t()        -- the network as a matrix
local Z, R, term = W0 * h, T.eye(2), T.eye(2)
for k = 1, 4 do term = term:matmul(Z) / k; R = R + term end
print(string.format("collapsed network vs R(hA): %.1e", (M - R):abs():max()))
verdict((M - R):abs():max() < 1e-15, "the network's matrix is the stability polynomial")

-- %% [markdown]
-- ## 2. Order of accuracy by step halving
-- Integrate to t = 4 with h, h/2, h/4, …  For the oscillator the error is
-- measured against the exact e^{At}y₀ (`linalg.expm`); for the pendulum,
-- which has no closed form, by Richardson's rule: the differences
-- |y_h − y_{h/2}| shrink by 2^p per halving.  p should be 4.

-- %%
local tend, nh = 4.0, small and 5 or 8
local exact = linalg.expm(W0 * tend):matmul(y0:t()):t()
local function solve(F, hh)
  local net, y = rk4_network(F, hh), y0
  for _ = 1, math.floor(tend / hh + 0.5) do y = net(y) end
  return y
end
local hs, err, diff, prev = {}, {}, {}, nil
for k = 1, nh do
  hs[k] = 0.4 / 2 ^ (k - 1)
  err[k] = (solve(force_net(false), hs[k]) - exact):abs():max()
  local yp = solve(force_net(true), hs[k])
  if prev then diff[k - 1] = (yp - prev):abs():max() end
  prev = yp
end
print("     h        error (oscillator)  order     |y_h - y_h/2| (pendulum)  order")
local worst = 0
local function cell(fmt, v) return v and string.format(fmt, v) or string.rep(" ", #string.format(fmt, 0)) end
for k = 1, nh do
  local p1 = k > 1 and math.log(err[k - 1] / err[k], 2) or nil
  local p2 = (k > 1 and diff[k]) and math.log(diff[k - 1] / diff[k], 2) or nil
  print(string.format("  %8.5f   %.3e          %s     %s                 %s", hs[k], err[k],
                      cell("%6.3f", p1), cell("%.3e", diff[k]), cell("%6.3f", p2)))
  if k >= 3 and err[k] > 1e-12 then worst = math.max(worst, math.abs(p1 - 4)) end
  if p2 and k >= 3 and diff[k] > 1e-12 then worst = math.max(worst, math.abs(p2 - 4)) end
end
verdict(worst < 0.1, "measured order within 0.1 of 4 (h <= 0.1, above rounding)")

-- %% Figure: error against step
local fig = plot.figure { width = 560, height = 380 }
fig:line(hs, err, { label = "oscillator: error vs $e^{At}y_0$", marker = "o" })
local dh, ref = { table.unpack(hs, 1, nh - 1) }, {}
fig:line(dh, diff, { label = "pendulum: $|y_h - y_{h/2}|$", marker = "s" })
for k = 1, nh do ref[k] = err[1] * (hs[k] / hs[1]) ^ 4 end
fig:line(hs, ref, { label = "$\\propto h^4$", dash = "dashed" })
fig:set { xscale = "log", yscale = "log", xlabel = "step $h$", ylabel = "error at $t = 4$",
          title = "a fixed-weight network as an RK4 integrator" }
plot.show(fig)

-- %% [markdown]
-- ## 3. The stability limit, read off the weights
-- The collapsed network M(h) = R(hA) is stable while its spectral radius is
-- below 1.  Bisecting on the eigenvalues of the network's matrix must give
-- the same step as bisecting |R(hλ)| = 1 on the polynomial, λ the
-- eigenvalues of A (for ζ = 0 the limit is 2√2/ω = 1.4142).

-- %%
local function bisect(unstable)
  local lo, hi = 0.1, 5.0
  for _ = 1, 60 do local mid = (lo + hi) / 2; if unstable(mid) then hi = mid else lo = mid end end
  return lo
end
local lam = { -zeta * omega, omega * math.sqrt(1 - zeta ^ 2) }          -- re, im of A's eigenvalue
local h_net = bisect(function(hh)
  local Mh = rk4_network(force_net(false), hh)(T.eye(2)):t()
  return linalg.eigvals(Mh):abs():max() > 1
end)
local h_poly = bisect(function(hh)
  local zr, zi = lam[1] * hh, lam[2] * hh
  local sr, si, tr, ti = 1, 0, 1, 0
  for k = 1, 4 do tr, ti = (tr * zr - ti * zi) / k, (tr * zi + ti * zr) / k; sr, si = sr + tr, si + ti end
  return sr * sr + si * si > 1
end)
print(string.format("stability limit: from the network's eigenvalues h = %.10f, from R(z) h = %.10f",
                    h_net, h_poly))
verdict(math.abs(h_net - h_poly) < 1e-9, "the two limits agree")

-- %% [markdown]
-- ## What is shown, and what is not
-- Shown: a network with fixed weights — four stage layers with skip
-- connections (Butcher's tableau) around a small force network with a sine
-- activation — computes exactly one classical RK4 step of the damped
-- oscillator and of the damped pendulum (to rounding, against `hebb.ode`
-- and `hebb.world`); for the linear oscillator it is the stability
-- polynomial R(hA); its global error falls as h⁴ under step halving
-- (measured order within 0.1 of 4 for both problems, against the exact
-- solution and by Richardson differences); its stability limit follows
-- from its own weights.  Not shown: that such a network can be *learned*
-- from trajectories (the weights here are written down, not trained),
-- adaptive steps, or any claim about physics — this is numerical analysis
-- in the language of networks.

-- %%
nb.finish()
