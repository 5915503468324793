-- hebb.ode: orders of accuracy measured by step halving, the leapfrog's
-- shadow energy p^2 + w^2 (1 - w^2 h^2/4) q^2 (F7), Ornstein-Uhlenbeck moments, strong
-- orders of the SDE schemes, events, dense output, gradients through a
-- solve and by the adjoint, the fused kernels, and the errors.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_ode.lua
local check = require "check"
local T = require "hebb.tensor"
local ode = require "hebb.ode"
local C = require "hebb._ode"
local autograd = require "hebb.autograd"
local hebb = require "hebb"

local function num(v) return type(v) == "number" and v or v:item() end
local function slope(e1, e2) return math.log(e1 / e2, 2) end

-- the harmonic oscillator q'' = -q from (1, 0): (cos t, -sin t)
local OSC = T.tensor { { 0, 1 }, { -1, 0 } }
local function osc(_, y) return OSC:matmul(y) end
-- y' = -i w y, complex: e^{-iwt}
local W = 1.7
local function rot(_, y) return y * T.complex(0, -W) end

-- --- explicit Runge-Kutta ------------------------------------------------------

-- the global error at t = 1 with n and 2n steps: halving h divides it by
-- 2^order; the measured exponent is within 0.1 of the order for these
-- smooth problems (its own h-dependence is O(h): at n = 20, below 0.05)
check.test("fixed_step_orders", function()
  for _, c in ipairs { { "euler", 1 }, { "midpoint", 2 }, { "rk4", 4 } } do
    local e = {}
    for i, n in ipairs { 20, 40 } do
      local y = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 1 }, { method = c[1], steps = n }).y_final
      e[i] = math.abs(y[1] - math.cos(1))
    end
    check.near(slope(e[1], e[2]), c[2], 0.1, c[1] .. " order")
  end
end)

check.test("complex_state_rk4_order", function()
  local e = {}
  for i, n in ipairs { 20, 40 } do
    local y0 = T.complex(T.ones(2), T.zeros(2))
    local y = ode.solve(rot, y0, { 0, 1 }, { method = "rk4", steps = n }).y_final
    local re, im = y[1]
    e[i] = math.sqrt((T.real(y)[1] - math.cos(W)) ^ 2 + (T.imag(y)[1] + math.sin(W)) ^ 2)
  end
  check.near(slope(e[1], e[2]), 4, 0.1, "order")
end)

-- steps forced to h (first_step = max_step = h, tolerances that never
-- reject): the fifth-order solution halves its error 32-fold
check.test("dopri5_order_and_dense_output", function()
  local ends, mids = {}, {}
  for i, n in ipairs { 20, 40 } do
    local h, te = 1 / n, {}
    for k = 1, n do te[k] = (k - 0.5) * h end
    te[n + 1] = 1
    local sol = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 1 },
                          { first_step = h, max_step = h, rtol = 1, atol = 1, t_eval = te })
    check.eq(sol.nsteps, n, "steps")
    local m = 0
    for k = 1, n do m = math.max(m, math.abs(sol.y[k][1] - math.cos(te[k]))) end
    mids[i], ends[i] = m, math.abs(sol.y_final[1] - math.cos(1))
  end
  check.near(slope(ends[1], ends[2]), 5, 0.15, "order at t = 1")
  -- the interpolant (order 4, local error O(h^5)) adds no lower order
  check.truthy(slope(mids[1], mids[2]) > 4.7, "dense output order " .. slope(mids[1], mids[2]))
end)

check.test("dopri5_meets_tolerance", function()
  for _, rtol in ipairs { 1e-6, 1e-10 } do
    local sol = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 10 }, { rtol = rtol, atol = rtol * 1e-2 })
    -- global error over ~1.6 periods: within 100 rtol (the control is local)
    check.truthy(math.abs(sol.y_final[1] - math.cos(10)) < 100 * rtol, "error at rtol " .. rtol)
    check.eq(sol.t[sol.t:numel()], 10, "ends at t1")
    check.eq(sol.y.shape[1], sol.nsteps + 1, "one output per step")
  end
  -- complex, f32 and batched states
  local z = ode.solve(rot, T.complex(T.ones(3, 2), T.zeros(3, 2)), { 0, 2 }, { rtol = 1e-9 }).y_final
  check.near(num(z:abs():max()), 1, 1e-8, "|e^{-iwt}| = 1")
  check.near(num(T.real(z)[{ 2, 1 }]), math.cos(2 * W), 1e-7, "Re")
  local y32 = ode.solve(osc, T.tensor({ 1, 0 }, { dtype = "f32" }), { 0, 1 }, { rtol = 1e-5 }).y_final
  check.eq(y32.dtype, "f32")
  check.near(y32[1], math.cos(1), 1e-5, "f32")
end)

check.test("dopri5_backwards_and_t_eval", function()
  local sol = ode.solve(osc, T.tensor { math.cos(2), -math.sin(2) }, { 2, 0 },
                        { rtol = 1e-10, atol = 1e-12, t_eval = { 2, 1.5, 0.25, 0 } })
  check.same(sol.t, { 2, 1.5, 0.25, 0 }, 0)
  for i, t in ipairs { 2, 1.5, 0.25, 0 } do check.near(sol.y[i][1], math.cos(t), 1e-9, "y at " .. t) end
  local d = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 3 }, { rtol = 1e-10, atol = 1e-12, dense = true })
  check.near(num(d.at(2.345)[1]), math.cos(2.345), 1e-9, "sol.at")
  check.raises(function() d.at(4) end, "outside the solved interval", "sol.at outside")
end)

check.test("events", function()
  -- y1 = cos t crosses zero at pi/2 + k pi: three times in [0, 10]
  local sol = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 10 },
                        { rtol = 1e-10, atol = 1e-12, events = { function(_, y) return y[1] end } })
  check.eq(#sol.t_events[1], 3, "all crossings")
  for k = 1, 3 do check.near(sol.t_events[1][k], math.pi / 2 + (k - 1) * math.pi, 1e-9, "crossing " .. k) end
  check.eq(sol.status, "done")
  local up = ode.solve(osc, T.tensor { 1.0, 0.0 }, { 0, 10 }, { rtol = 1e-10, atol = 1e-12,
    events = { { function(_, y) return y[1] end, direction = 1, terminal = true } } })
  check.eq(up.status, "event")
  check.near(up.t_events[1][1], 1.5 * math.pi, 1e-9, "first upward crossing")
  check.near(up.t[up.t:numel()], 1.5 * math.pi, 1e-9, "stops there")
  check.near(up.y_final[1], 0, 1e-9, "state at the event")
end)

-- --- symplectic ---------------------------------------------------------------------

-- F7: kick-drift-kick on q'' = -w^2 q conserves p^2 + w^2 (1 - w^2 h^2 / 4)
-- q^2 exactly; over 1e5 steps only rounding moves it (measured ~1e-13)
check.test("F7_leapfrog_shadow_energy", function()
  for _, wh in ipairs { 0.1, 1.0, 1.5 } do
    local w = 1.3
    local h = wh / w
    local function S(q, p) return p ^ 2 + w ^ 2 * (1 - w ^ 2 * h ^ 2 / 4) * q ^ 2 end
    local q, p = ode.symplectic(function(x) return x * (-w * w) end, T.tensor { 1.0 },
                                T.tensor { 0.3 }, { dt = h, steps = 100000 })
    local drift = math.abs(S(q[1], p[1]) - S(1, 0.3)) / S(1, 0.3)
    check.truthy(drift <= 1e-12, string.format("drift %.3g at w h = %g", drift, wh))
  end
end)

check.test("symplectic_orders", function()
  for _, c in ipairs { { "leapfrog", 2 }, { "position_verlet", 2 }, { "yoshida4", 4 } } do
    local e = {}
    for i, n in ipairs { 20, 40 } do
      local q = ode.symplectic(function(x) return -x end, T.tensor { 1.0 }, T.tensor { 0.0 },
                               { dt = 1 / n, steps = n, method = c[1] })
      e[i] = math.abs(q[1] - math.cos(1))
    end
    check.near(slope(e[1], e[2]), c[2], 0.1, c[1])
  end
  -- a callback sees synchronized states every k steps; the mass scales v = p/m
  local seen = {}
  local q, p = ode.symplectic(function(x) return -x * 4 end, T.tensor { 1.0 }, T.tensor { 0.0 },
    { dt = 0.01, steps = 100, mass = 4, every = 25,
      callback = function(step, t, qq, pp) seen[#seen + 1] = { step, t, qq[1], pp[1] } end })
  check.eq(#seen, 4, "callbacks")
  check.eq(seen[4][1], 100)
  check.near(seen[4][2], 1, 1e-12, "time")
  check.near(q[1], math.cos(1), 1e-4, "q'' = -q with mass 4 and force -4q")
end)

-- a separable H = T(p) + V(q) with a kinetic energy that is not p^2/2m:
-- the relativistic T = sqrt(p^2 + 1) (velocity p / sqrt(p^2 + 1)) in the
-- well V = q^2/2.  The energy error stays bounded (no drift between t = 100
-- and 1000: measured 1.5889574e-3 then 1.5889624e-3 at h = 0.1) and
-- shrinks as h^2 (leapfrog) and h^4 (Yoshida; measured 2.00 and 3.99); a
-- tensor mass gives v = p / mass per element
check.test("separable_hamiltonian_general_kinetic_energy", function()
  local function vel(p) return p / (p * p + 1):sqrt() end
  local function energy(q, p) return math.sqrt(p[1] ^ 2 + 1) + q[1] ^ 2 / 2 end
  local q0, p0 = T.tensor { 1.5 }, T.tensor { 0.0 }
  local e0 = energy(q0, p0)
  for _, c in ipairs { { "leapfrog", 2 }, { "yoshida4", 4 } } do
    local worst = {}
    for i, h in ipairs { 0.1, 0.05 } do
      local w, late = 0, 0
      ode.symplectic(function(q) return -q end, q0, p0, { dt = h, steps = math.floor(1000 / h + 0.5),
        method = c[1], velocity = vel, every = math.floor(1 / h + 0.5),
        callback = function(_, t, q, p)
          local d = math.abs(energy(q, p) - e0)
          if t <= 100 then w = math.max(w, d) else late = math.max(late, d) end
        end })
      check.truthy(late < 1.5 * w, string.format("%s h = %g: no drift (%.3g then %.3g)", c[1], h, w, late))
      worst[i] = late
    end
    check.near(slope(worst[1], worst[2]), c[2], 0.3, c[1] .. " energy error order")
  end
  local q, p = ode.symplectic(function(x) return -x * T.tensor { 1.0, 4.0 } end, T.ones(2), T.zeros(2),
                              { dt = 0.001, steps = 1000, mass = T.tensor { 1.0, 4.0 } })
  check.truthy(T.allclose(q, T.full({ 2 }, math.cos(1)), 0, 1e-6), "tensor mass")
  check.truthy(p ~= nil)
end)

-- --- implicit ------------------------------------------------------------------------

-- y' = -1000 (y - cos t): stiff; explicit RK4 at h = 0.01 (h lambda = -10)
-- diverges (|R(-10)| = 291 per step: inf within 3 time units), backward Euler and Crank-Nicolson follow the slow solution
check.test("implicit_stiff", function()
  local A = T.tensor { { -1000.0 } }
  local src = function(t) return T.tensor { 1000 * math.cos(t) } end
  -- the slow manifold y = cos t + sin t / 1000 + O(1e-6)
  local want = math.cos(1) + math.sin(1) / 1000
  for _, theta in ipairs { 1, 0.5 } do
    local sol = ode.implicit(A, T.tensor { 0.0 }, { 0, 1 }, { dt = 0.01, theta = theta, source = src })
    check.near(sol.y_final[1], want, theta == 1 and 2e-5 or 1e-5, "theta " .. theta)
  end
  check.raises(function()
    ode.solve(function(t, y) return A:matmul(y) + src(t) end, T.tensor { 0.0 }, { 0, 3 },
              { method = "rk4", dt = 0.01 })
  end, "became NaN or infinite", "explicit RK4")
end)

check.test("implicit_orders", function()
  local A = T.tensor { { 0.0, 1.0 }, { -1.0, 0.0 } }
  for _, c in ipairs { { 1, 1 }, { 0.5, 2 } } do
    local e = {}
    for i, n in ipairs { 40, 80 } do
      local y = ode.implicit(A, T.tensor { 1.0, 0.0 }, { 0, 1 }, { steps = n, theta = c[1] }).y_final
      e[i] = math.abs(y[1] - math.cos(1))
    end
    check.near(slope(e[1], e[2]), c[2], 0.1, "theta " .. c[1])
  end
  -- a batch of columns, and t_eval
  local sol = ode.implicit(A, T.eye(2), { 0, 1 }, { dt = 0.001, theta = 0.5, t_eval = { 0.5, 1 } })
  check.eq(#sol.y.shape, 3)
  check.near(sol.y[2][{ 1, 1 }], math.cos(1), 1e-6, "column 1")
end)

-- the 2-d heat equation y' = Laplacian y on a 64 x 64 periodic lattice
-- (A sparse, 4096 unknowns) with dt = 12.5, 6.25, 3.125: 50 to 12.5 times
-- the explicit limit (forward Euler: dt <= 2/8 = 0.25).  The smooth mode
-- cos(k (i + j)), k = 2 pi/64, decays as e^{lambda t}, lambda = -4 (1 - cos
-- k); its error at t = 50 halves by 2^order (measured 0.96, 2.00, 2.01 on
-- the last pair).  The checkerboard mode (lambda = -8, h lambda = -100):
-- exactly e^{-400} = 0; backward Euler and TR-BDF2 (L-stable) damp it to
-- (1/101)^4 = 1e-8 and ~4e-6, Crank-Nicolson only to |R(-100)|^4 = 0.85.
-- Explicit RK4 at dt = 12.5 grows it to ~1e26.
local function heat2d(L)
  local sp = require "hebb.sparse"
  local n = L * L
  local i, j = T.arange(0, L - 1):reshape(L, 1), T.arange(0, L - 1):reshape(1, L)
  local k = 2 * math.pi / L
  return sp.lattice({ L, L }) - sp.eye(n):scale(4), ((i + j) * k):cos():reshape(n),
         ((i + j) * math.pi):cos():reshape(n), -4 * (1 - math.cos(k))
end
local function coef(y, v) return num((y * v):sum()) / num((v * v):sum()) end

check.test("implicit_sparse_heat_far_past_the_explicit_limit", function()
  local A, v1, v2, lam = heat2d(64)
  local tend = 50
  for _, m in ipairs { { "theta", 1, 1 }, { "theta", 0.5, 2 }, { "trbdf2", nil, 2 } } do
    local e = {}
    for q, dt in ipairs { 12.5, 6.25, 3.125 } do
      local sol = ode.implicit(A, v1 + v2, { 0, tend }, { dt = dt, method = m[1], theta = m[2] })
      check.eq(sol.nsteps, math.floor(tend / dt + 0.5))
      check.truthy(sol.iterations > 0, "sparse solves")
      e[q] = math.abs(coef(sol.y_final, v1) - math.exp(lam * tend))
      if q == 1 then
        local stiff = math.abs(coef(sol.y_final, v2))
        if m[2] == 0.5 then check.truthy(stiff > 0.5, "Crank-Nicolson keeps the stiff mode: " .. stiff)
        else check.truthy(stiff < 1e-5, m[1] .. " damps the stiff mode: " .. stiff) end
      end
    end
    check.near(slope(e[2], e[3]), m[3], 0.1, m[1] .. " " .. tostring(m[2]) .. " order")
  end
  local rk = ode.solve(function(_, y) return A:matmul(y) end, v1 + v2, { 0, tend }, { method = "rk4", dt = 12.5 })
  check.truthy(num(rk.y_final:abs():max()) > 1e10, "explicit RK4 is unstable there")
end)

-- theta < 1/2 is only conditionally stable: a step past 2/((1 - 2 theta)
-- rho) is warned about once, naming the limit (forward Euler on the
-- Laplacian: 2/8 = 0.25, where it does start to grow: |1 - 8 h| > 1)
check.test("implicit_theta_stability_limit_warns", function()
  local I = require "hebb._ode_implicit"
  local old, warnings = I._warn, {}
  I._warn = function(msg) warnings[#warnings + 1] = msg end
  local A, v1, v2 = heat2d(8)
  local ok, err = pcall(function()
    ode.implicit(A, v1 + v2, { 0, 2 }, { dt = 0.2, theta = 0 })
    check.eq(#warnings, 0, "below the limit")
    local y = ode.implicit(A, v1 + v2, { 0, 9 }, { dt = 0.3, theta = 0 }).y_final
    check.eq(#warnings, 1, "one warning per call")
    check.truthy(warnings[1]:find("dt = 0.3 is above the stability limit 2/((1 - 2 theta) rho) = 0.25 "
                                  .. "of the theta method with theta = 0", 1, true), warnings[1])
    check.truthy(math.abs(coef(y, v2)) > 1e4, "and the checkerboard grows (1.4^30): " .. coef(y, v2))
    ode.implicit(A:to_dense(), v1, { 0, 1.2 }, { dt = 0.6, theta = 0.25 })
    check.truthy(warnings[2] and warnings[2]:find("= 0.5 of the theta method with theta = 0.25", 1, true),
                 "dense, theta = 1/4: " .. tostring(warnings[2]))
    ode.implicit(A, v1, { 0, 1 }, { dt = 100, theta = 0.5 })
    check.eq(#warnings, 2, "Crank-Nicolson: no limit")
  end)
  I._warn = old
  assert(ok, err)
end)

-- a sparse A and its dense form take the same steps; f32 and c64 states
-- are solved in double and handed back in their dtype
check.test("implicit_sparse_matches_dense", function()
  local A, v1, v2 = heat2d(6)
  local Ad = A:to_dense()
  T.manual_seed(12)
  local y0 = T.randn(36, 2)
  for _, m in ipairs { { "theta", 1 }, { "theta", 0.5 }, { "trbdf2" } } do
    local o = { dt = 0.7, method = m[1], theta = m[2], t_eval = { 0.7, 2.1 },
                source = function(t) return T.ones(36, 2) * math.sin(t) end }
    local a = ode.implicit(A, y0, { 0, 2.1 }, o)
    local b = ode.implicit(Ad, y0, { 0, 2.1 }, o)
    check.truthy(T.allclose(a.y, b.y, 0, 1e-11), m[1] .. " " .. tostring(m[2]))
  end
  local y32 = ode.implicit(A, (v1 + v2):astype("f32"), { 0, 1 }, { dt = 0.25, method = "trbdf2" }).y_final
  check.eq(y32.dtype, "f32")
  local y64 = ode.implicit(A, v1 + v2, { 0, 1 }, { dt = 0.25, method = "trbdf2" }).y_final
  check.truthy(T.allclose(y32:astype("f64"), y64, 0, 1e-6), "f32")
  -- a complex system: y' = -i H y with H real symmetric conserves |y| under
  -- Crank-Nicolson (a Cayley transform)
  local sp = require "hebb.sparse"
  local H = A:scale(-1)
  local z0 = T.complex(v1, v2 * 0.5):astype("c64")
  local z = ode.implicit(H:scale({ 0, -1 }), z0, { 0, 3 }, { dt = 0.1, theta = 0.5 }).y_final
  check.eq(z.dtype, "c64")
  check.near(num(z:abs():pow(2):sum()), num(z0:abs():pow(2):sum()), 1e-5 * num(z0:abs():pow(2):sum()), "unitary")
  check.raises(function() ode.implicit(H:scale({ 0, -1 }), v1, { 0, 1 }, { dt = 0.1 }) end,
               "ode.implicit: A is complex (c128) but y0 is f64: give a complex state")
  check.truthy(sp ~= nil)
end)

-- TR-BDF2 is second order on the oscillator (dense); adaptive from its
-- error estimate it follows the stiff y' = -1000 (y - cos t) to rtol with
-- steps that grow once the transient has passed (the explicit limit h <
-- 2.8e-3 would need > 350 steps)
check.test("trbdf2_order_and_adaptive_steps", function()
  local A = T.tensor { { 0.0, 1.0 }, { -1.0, 0.0 } }
  local e = {}
  for i, n in ipairs { 40, 80 } do
    local y = ode.implicit(A, T.tensor { 1.0, 0.0 }, { 0, 1 }, { steps = n, method = "trbdf2" }).y_final
    e[i] = math.abs(y[1] - math.cos(1))
  end
  check.near(slope(e[1], e[2]), 2, 0.1, "order")
  local Ast = T.tensor { { -1000.0 } }
  local src = function(t) return T.tensor { 1000 * math.cos(t) } end
  -- y(t) = cos t + sin t / 1000 - (1 + 1/1000^2)^-1 ... : the slow manifold up
  -- to O(1e-6) plus the transient e^{-1000 t} (gone by t = 1)
  local want = math.cos(1) + math.sin(1) / 1000
  for _, rtol in ipairs { 1e-4, 1e-6 } do
    local sol = ode.implicit(Ast, T.tensor { 0.0 }, { 0, 1 }, { method = "trbdf2", rtol = rtol, atol = 1e-10, source = src })
    check.truthy(math.abs(sol.y_final[1] - want) < 20 * rtol, string.format("rtol %g: error %.3g", rtol, math.abs(sol.y_final[1] - want)))
    check.truthy(sol.nsteps < 350, "steps " .. sol.nsteps)
    check.eq(sol.t[sol.t:numel()], 1)
  end
  -- t_eval lands on each time.  The tolerance is per step: the global error
  -- is the sum of ~500 local ones (measured 1.4e-6 at t = 2); the steps grow
  -- as rtol^(-1/3) (114, 533, 2356 at rtol 1e-6, 1e-8, 1e-10: a third-order
  -- estimate) and the error falls as rtol^(2/3)
  local sol = ode.implicit(A, T.tensor { 1.0, 0.0 }, { 0, 2 }, { method = "trbdf2", rtol = 1e-8, t_eval = { 0.5, 1.25, 2 } })
  check.same(sol.t, { 0.5, 1.25, 2 }, 0)
  for i, t in ipairs { 0.5, 1.25, 2 } do check.near(sol.y[i][1], math.cos(t), 1e-5, "t = " .. t) end
  local n = {}
  for i, rtol in ipairs { 1e-6, 1e-9 } do
    n[i] = ode.implicit(A, T.tensor { 1.0, 0.0 }, { 0, 2 }, { method = "trbdf2", rtol = rtol, atol = 1e-12 }).nsteps
  end
  check.near(n[2] / n[1], 10, 2, "steps grow as rtol^(-1/3)")
end)

-- --- stochastic -----------------------------------------------------------------------

-- Ornstein-Uhlenbeck dX = -th X dt + sig dW by Euler-Maruyama: the map
-- X' = (1 - th h) X + sig sqrt(h) xi has mean (1 - th h)^n x0 and variance
-- sig^2 h (1 - r^{2n}) / (1 - r^2), r = 1 - th h, exactly.  With 2e4
-- replicas the sample mean has standard error sqrt(var / n) ~ 2.5e-3 and
-- the variance sqrt(2 / n) var ~ 1%: tolerances of 4 standard errors
check.test("ornstein_uhlenbeck_moments", function()
  local th, sig, h, n, R = 1.0, 0.5, 0.01, 200, 20000
  local sol = ode.sde(function(_, x) return x * -th end, sig, T.ones(R), { 0, n * h },
                      { dt = h, seed = 3, t_eval = { n * h } })
  local r = 1 - th * h
  local mean, var = r ^ n, sig ^ 2 * h * (1 - r ^ (2 * n)) / (1 - r * r)
  local x = sol.x_final
  check.near(x:mean(), mean, 4 * math.sqrt(var / R), "mean")
  check.near(x:var(), var, 4 * math.sqrt(2 / R) * var, "variance")
  -- the continuous-time values differ by O(h): 0.1353 and 0.12271
  check.near(x:var(), sig ^ 2 / (2 * th) * (1 - math.exp(-2 * th * n * h)), 0.03 * var, "continuum")
end)

-- geometric Brownian motion dX = mu X dt + sig X dW, exact X0 exp((mu -
-- sig^2/2) t + sig W): one set of Brownian paths on 256 steps, summed down
-- to 16 and 128 steps.  The mean error falls as h^(1/2) (Euler-Maruyama)
-- and h (Milstein); measured 0.51 and 0.98 with 4000 paths
check.test("sde_strong_orders", function()
  local mu, sig, M, N = 0.5, 0.8, 4000, 256
  local dWf = T.Generator(5):randn(N, M) * math.sqrt(1 / N)
  local exact = (dWf:sum(1) * sig + (mu - sig ^ 2 / 2)):exp()
  for _, c in ipairs { { "euler_maruyama", 0.5 }, { "milstein", 1 } } do
    local e = {}
    for j, n in ipairs { 16, 128 } do
      local dW = dWf:reshape(n, N // n, M):sum(2)
      local x = ode.sde(function(_, x) return x * mu end, function(_, x) return x * sig end,
                        T.ones(M), { 0, 1 }, { dW = dW, method = c[1] }).x_final
      e[j] = (x - exact):abs():mean()
    end
    check.near(math.log(e[1] / e[2], 2) / 3, c[2], 0.1, c[1])
  end
end)

-- with additive noise Milstein's correction b b' vanishes: the two schemes
-- give the same bits, whether b is a number, a tensor or a function of t
check.test("sde_additive_milstein_is_euler_maruyama", function()
  local drift = function(_, x) return -x * x * x end
  for _, b in ipairs { 0.4, T.tensor { 0.1, 0.2, 0.3 }, function(t) return T.full({ 3 }, 0.2 + t) end } do
    local r = {}
    for i, m in ipairs { "euler_maruyama", "milstein" } do
      r[i] = ode.sde(drift, b, T.ones(3), { 0, 1 }, { dt = 0.01, seed = 4, method = m,
                                                       additive = type(b) == "function" }).x_final
    end
    check.truthy(T.equal(r[1], r[2]), "additive " .. type(b))
  end
end)

check.test("sde_same_bits_any_thread_count", function()
  local function run()
    return ode.sde(function(_, x) return -x end, function(_, x) return x * 0.3 + 0.1 end,
                   T.zeros(300000), { 0, 0.05 }, { dt = 0.01, seed = 11, method = "milstein" }).x_final
  end
  local n0 = hebb.threads()
  hebb.threads(1)
  local a = run()
  hebb.threads(2)
  local b = run()
  hebb.threads(n0)
  check.truthy(T.equal(a, b), "1 and 2 threads")
end)

-- --- gradients ---------------------------------------------------------------------------

local A0 = T.tensor { { 0.0, 1.0 }, { -1.0, -0.1 } }
local y0 = T.tensor { 1.0, 0.5 }
-- outputs at fixed times: the step sizes (and the times of steps) of an
-- adaptive solve are constants to autograd
local function through(method)
  return function(A)
    local f = function(_, y) return A:matmul(y) end
    return ode.solve(f, y0, { 0, 1 }, { method = method, steps = 10, rtol = 1e-8,
                                        t_eval = { 0.3, 1 } }).y
  end
end

check.test("gradcheck_through_steps", function()
  check.truthy(autograd.gradcheck(through("rk4"), { A0:clone() }), "rk4")
  check.truthy(autograd.gradcheck(through("dopri5"), { A0:clone() }), "dopri5")
  check.truthy(autograd.gradcheck(function(q0, p0)
    local q, p = ode.symplectic(function(q) return -q * q * q end, q0, p0,
                                { dt = 0.1, steps = 20, method = "yoshida4" })
    return T.cat({ q, p })
  end, { T.tensor { 0.7, -0.2 }, T.tensor { 0.1, 0.4 } }), "symplectic")
  check.truthy(autograd.gradcheck(function(A)
    return ode.implicit(A, y0, { 0, 1 }, { steps = 5, theta = 0.5 }).y
  end, { A0:clone() }), "implicit theta")
  check.truthy(autograd.gradcheck(function(A, y)
    return ode.implicit(A, y, { 0, 1 }, { steps = 4, method = "trbdf2",
                                         source = function(t) return T.tensor { math.sin(t), 1.0 } end }).y_final
  end, { A0:clone(), y0:clone() }), "implicit trbdf2")
  -- a sparse A: with respect to y0 and a source parameter, each solve's
  -- backward a solve with the adjoint; the same gradient as the dense A's
  local sp = require "hebb.sparse"
  local As = sp.csr({ 1, 1, 2, 2, 3, 3 }, { 1, 2, 2, 3, 3, 1 }, { -2.0, 1.0, -3.0, 0.5, -1.0, 0.7 }, { 3, 3 })
  local function through_sparse(A, method)
    return function(y, w)
      return ode.implicit(A, y, { 0, 1 }, { steps = 3, method = method, theta = method == "theta" and 0.5 or nil,
                                           solver = not T.is_tensor(A) and { tol = 1e-14 } or nil,
                                           source = function(t) return w * math.cos(t) end }).y
    end
  end
  for _, method in ipairs { "theta", "trbdf2" } do
    local args = { T.tensor { 0.3, -0.2, 0.9 }, T.tensor { 1.0, 0.5, -0.5 } }
    check.truthy(autograd.gradcheck(through_sparse(As, method), args), "implicit sparse " .. method)
    local g = {}
    for i, A in ipairs { As, As:to_dense() } do
      local y, w = args[1]:clone():requires_grad_(), args[2]:clone():requires_grad_()
      through_sparse(A, method)(y, w):pow(2):sum():backward()
      g[i] = T.cat({ y.grad, w.grad })
    end
    check.truthy(T.allclose(g[1], g[2], 0, 1e-10), "sparse = dense gradient " .. method)
  end
  check.truthy(autograd.gradcheck(function(x0)
    return ode.sde(function(_, x) return -x * x end, function(_, x) return x:sin() end, x0,
                   { 0, 0.5 }, { dt = 0.1, seed = 2, method = "milstein" }).x
  end, { T.tensor { 0.3, 0.9 } }), "milstein")
end)

-- the adjoint's gradient is the continuous problem's: within O(h^4) of
-- the gradient through the same RK4 steps (measured 3e-7 at h = 0.05)
check.test("adjoint_matches_discrete_gradient", function()
  local A1 = A0:clone():requires_grad_()
  local yT = ode.adjoint(function(_, y) return A1:matmul(y) end, y0, { 0, 2 }, { A1 }, { steps = 40 })
  ;(yT * yT):sum():backward()
  local A2 = A0:clone():requires_grad_()
  local yd = ode.solve(function(_, y) return A2:matmul(y) end, y0, { 0, 2 },
                       { method = "rk4", steps = 40 }).y_final
  ;(yd * yd):sum():backward()
  check.truthy(T.allclose(yT, yd, 0, 1e-14), "same forward")
  check.truthy(T.allclose(A1.grad, A2.grad, 0, 1e-5), "gradients")
  -- and the gradient with respect to y0
  local y1 = y0:clone():requires_grad_()
  local A3 = A0:clone():requires_grad_()
  local y = ode.adjoint(function(_, y) return A3:matmul(y) end, y1, { 0, 2 }, { A3 }, { steps = 40 })
  y[1]:backward()
  check.truthy(math.abs(y1.grad[1] - 1) > 0.1, "nonzero")   -- a real dependence
  local y2 = y0:clone():requires_grad_()
  local yy = ode.solve(function(_, y) return A0:matmul(y) end, y2, { 0, 2 }, { method = "rk4", steps = 40 }).y_final
  yy[1]:backward()
  check.truthy(T.allclose(y1.grad, y2.grad, 0, 1e-5), "dL/dy0")
end)

-- --- the kernels ---------------------------------------------------------------------------

check.test("combine_matches_tensor_ops", function()
  for _, dt in ipairs { "f64", "f32", "c128", "c64" } do
    local re = function() return T.randn(5, 7):astype(dt == "c64" and "f32" or dt == "c128" and "f64" or dt) end
    local mk = (dt == "c128" or dt == "c64") and function() return T.complex(re(), re()) end or re
    local y, a, b = mk(), mk(), mk()
    local got = C.combine(y, { a, b }, { 0.5, -2 })
    local want = y + a * 0.5 - b * 2
    local tol = (dt == "f32" or dt == "c64") and 1e-5 or 1e-14
    check.truthy(T.allclose(got, want, 0, tol), dt)
    C.combine(y, { a }, { 1 }, { out = y })
    check.truthy(T.allclose(y, want + b * 2 - a * 0.5 + a, 0, 10 * tol), dt .. " in place")
  end
  -- views are made contiguous
  local y = T.randn(4, 6)
  check.truthy(T.allclose(C.combine(y:t(), { y:t() }, { 1 }), y:t() * 2, 0, 0), "transposed")
end)

check.test("kernels_same_bits_any_thread_count", function()
  local n0 = hebb.threads()
  local y, k1, k2 = T.randn(700000), T.randn(700000), T.randn(700000)
  local r = {}
  for i, t in ipairs { 1, 2 } do
    hebb.threads(t)
    r[i] = { C.combine(y, { k1, k2 }, { 0.1, 0.2 }), C.errnorm(y, k1, { k1, k2 }, { 1, -1 }, 1e-6, 1e-3) }
  end
  hebb.threads(n0)
  check.truthy(T.equal(r[1][1], r[2][1]), "combine")
  check.eq(r[1][2], r[2][2], "errnorm")
  -- errnorm against its definition
  local a, b, e = T.randn(50), T.randn(50), T.randn(50)
  local sc = T.maximum(a:abs(), b:abs()) * 1e-3 + 1e-6
  check.near(C.errnorm(a, b, { e }, { 2 }, 1e-6, 1e-3), math.sqrt(((e * 2 / sc) ^ 2):mean()), 1e-10, "definition")
end)

-- --- bad input -----------------------------------------------------------------------------

check.test("errors", function()
  local y = T.ones(3)
  check.raises(function() ode.solve(osc, T.ones(2), { 0, 1 }, { method = "rk4", dt = 0 }) end,
               "ode.solve: dt must be a finite number > 0, got 0")
  check.raises(function() ode.solve(osc, T.ones(2), { 0, 1 }, { method = "rk4", dt = -0.1 }) end,
               "dt must be a finite number > 0, got -0.1")
  check.raises(function() ode.solve(function() return T.ones(4) end, y, { 0, 1 }) end,
               "ode.solve: f(t, y) returned shape {4} for a state of shape {3}")
  check.raises(function() ode.solve(function() return 1 end, y, { 0, 1 }) end,
               "f(t, y) must return a tensor, got 1")
  check.raises(function() ode.solve(function(_, x) return x:astype("f32") end, y, { 0, 1 }) end,
               "returned dtype f32 for a state of dtype f64")
  -- y' = y^2 from 1 blows up at t = 1
  local ok, msg = pcall(ode.solve, function(_, x) return x * x end, T.ones(1), { 0, 2 })
  local tu = tonumber(tostring(msg):match("ode%.solve: step size underflow at t = (%S+) %(h = "))
  check.truthy(not ok and tu and math.abs(tu - 1) < 1e-3, "underflow near t = 1: " .. tostring(msg))
  check.raises(function() ode.solve(osc, T.ones(2), { 0, 1 }, { method = "rk5" }) end,
               "unknown method \"rk5\"")
  check.raises(function() ode.solve(osc, T.ones(2), { 0, 1 }, { rtoll = 1 }) end,
               "unknown option \"rtoll\" (did you mean 'rtol'?)")
  check.raises(function() ode.solve(osc, T.ones(2), { 1, 1 }) end, "t_span = {1, 1} is empty")
  check.raises(function() ode.solve(osc, T.ones(2, { dtype = "i64" }), { 0, 1 }) end,
               "y0 has dtype i64")
  check.raises(function() ode.symplectic(function(q) return q end, y, T.ones(2), { dt = 0.1, steps = 1 }) end,
               "q0 (f64 {3}) and p0 (f64 {2}) must have the same shape")
  check.raises(function() ode.symplectic(function(q) return q end, y, y, { dt = 0, steps = 1 }) end,
               "ode.symplectic: dt must be a finite number > 0, got 0")
  check.raises(function() ode.implicit(T.ones(2, 3), y, { 0, 1 }, { dt = 0.1 }) end,
               "ode.implicit: A must be a square matrix")
  local sp = require "hebb.sparse"
  local A = sp.lattice({ 16, 16 }) - sp.eye(256):scale(4)
  check.raises(function() ode.implicit(A, T.ones(255), { 0, 1 }, { dt = 0.1 }) end,
               "ode.implicit: y0 must have shape {256} or {256, k} to match A (256 x 256), got {255}")
  check.raises(function() ode.implicit(A, T.ones(256), { 0, 1 }, { dt = 0 }) end,
               "ode.implicit: dt must be a finite number > 0, got 0")
  check.raises(function() ode.implicit(A, T.ones(256), { 0, 1 }) end, "the theta method needs dt or steps")
  check.raises(function() ode.implicit(A, T.ones(256), { 0, 1 }, { dt = 0.1, method = "bdf" }) end,
               "method must be \"theta\" or \"trbdf2\", got \"bdf\"")
  check.raises(function() ode.implicit(A, T.ones(256), { 0, 1 }, { dt = 0.1, theta = 1.5 }) end,
               "theta must be in [0, 1], got 1.5")
  check.raises(function() ode.implicit(A:to_dense(), T.ones(256), { 0, 1 }, { dt = 0.1, solver = {} }) end,
               "solver options are for a sparse A")
  check.raises(function() ode.implicit(A, T.ones(256), { 0, 1 }, { dt = 0.1, source = function() return T.ones(3) end }) end,
               "ode.implicit: source(t) returned shape {3} for a state of shape {256}")
  -- a linear solve that cannot converge in its iterations is named
  check.raises(function()
    ode.implicit(A, T.arange(1, 256):astype("f64"), { 0, 10 }, { dt = 10, solver = { maxiter = 2, precond = "none" } })
  end, "ode.implicit: the linear solve with I - 10 A failed: sparse.solve: BiCGSTAB did not converge in maxiter = 2")
  -- a source that turns NaN: the adaptive TR-BDF2 rejects every step until
  -- the step size underflows
  ok, msg = pcall(ode.implicit, T.tensor { { -1.0 } }, T.ones(1), { 0, 1 },
                  { method = "trbdf2", source = function(t) return T.tensor { t > 0.5 and 0 / 0 or 0.0 } end })
  tu = tonumber(tostring(msg):match("ode%.implicit: step size underflow at t = (%S+) %(h = .*NaN%): A y %+ source%(t%) gives NaN or inf"))
  check.truthy(not ok and tu and math.abs(tu - 0.5) < 1e-12, "underflow at t = 0.5: " .. tostring(msg))
  check.raises(function() ode.sde(osc, 1, y, { 0, 1 }, { dW = T.ones(4, 2) }) end,
               "dW must be a tensor of shape {4, 3}")
  check.raises(function() ode.sde(function() return T.ones(2) end, 1, y, { 0, 1 }, { dt = 0.1 }) end,
               "ode.sde: drift(t, x) returned shape {2} for a state of shape {3}")
  check.raises(function() ode.sde(function(_, x) return x end, 1, y, { 0, 1 }, { dt = -1 }) end,
               "ode.sde: dt must be a finite number > 0, got -1")
  check.raises(function() ode.symplectic(function() return T.ones(2) end, y, y, { dt = 0.1, steps = 1 }) end,
               "ode.symplectic: force(q) returned shape {2} for a state of shape {3}")
  check.raises(function() ode.adjoint(function() return T.ones(2) end, y, { 0, 1 }, {}, { steps = 2 }) end,
               "ode.adjoint: f(t, y) returned shape {2} for a state of shape {3}")
  check.raises(function() C.combine(y, { T.ones(2) }, { 1 }) end,
               "ode.combine: term 1 has shape {2}, y has {3}")
  check.raises(function() C.combine(y, { y }, { 1 }, { out = y }) end, "out is term 1")
  check.raises(function() C.errnorm(y, y, { y }, { 1 }, -1, 0) end, "atol = -1 and rtol = 0")
end)

check.done()
