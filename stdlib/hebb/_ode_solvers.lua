-- hebb._ode_solvers: the explicit and stochastic integrators of hebb.ode
-- and the helpers its parts share (argument checks, the checked
-- right-hand side, step counts, output times).
--
--   ode.solve       explicit Runge-Kutta: Euler, midpoint, RK4 (fixed step) and
--                   Dormand-Prince 5(4) (adaptive, dense output, events)
--   ode.symplectic  splitting methods for separable Hamiltonians
--                   (leapfrog / velocity Verlet, position Verlet, Yoshida 4)
--   ode.sde         Euler-Maruyama and Milstein for Ito SDEs
--   ode.adjoint     gradients of a long solve by the adjoint equations
--
-- The state is any tensor (f64, f32, c128, c64; a batch is just a leading
-- dimension of it).  The right-hand side is a Lua function of tensors;
-- the per-element work of each stage (y + h sum a_ij k_j) is one fused C
-- loop (hebb._ode.combine), which autograd records with a rule of its own,
-- so gradients flow through the discrete steps of every integrator.  Step
-- sizes are chosen from detached values: they are constants to autograd.
local T = require "hebb.tensor"
local C = require "hebb._ode"
local autograd = require "hebb.autograd"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local fmt = string.format
local raise, show = E.raise, E.show
local combine, errnorm = C.combine, C.errnorm
local floats = { f64 = true, f32 = true, c128 = true, c64 = true }

local function shape_str(t) return "{" .. table.concat(t.shape, ", ") .. "}" end
M._shape_str = shape_str

-- --- arguments -------------------------------------------------------------------

local function check_state(who, y, what)
  if not T.is_tensor(y) then raise("%s: %s must be a tensor, got %s", who, what, show(y)) end
  if not floats[y.dtype] then
    raise("%s: %s has dtype %s; a state must be f64, f32, c128 or c64", who, what, y.dtype)
  end
  return y
end
M._check_state = check_state

local function check_fn(who, f, what)
  if type(f) ~= "function" and not (type(f) == "table" and getmetatable(f)
                                    and getmetatable(f).__call) then
    raise("%s: %s must be a function, got %s", who, what, show(f))
  end
end
M._check_fn = check_fn

local finite = E.finite

local function check_span(who, span)
  if type(span) ~= "table" or not finite(span[1]) or not finite(span[2]) then
    raise("%s: t_span must be {t0, t1} with finite numbers, got %s", who,
          type(span) == "table" and fmt("{%s, %s}", tostring(span[1]), tostring(span[2]))
                                 or show(span))
  end
  if span[1] == span[2] then raise("%s: t_span = {%g, %g} is empty", who, span[1], span[2]) end
  return span[1], span[2]
end
M._check_span = check_span

-- f(t, y) called with its result checked against the state: same shape and dtype
local function checked_rhs(who, f, y, what)
  local shape, nd, dtype = y.shape, y.ndim, y.dtype
  what = what or "f(t, y)"
  local count = 0
  local function call(t, x, ...)
    local k = f(t, x, ...)
    count = count + 1
    if not T.is_tensor(k) then raise("%s: %s must return a tensor, got %s", who, what, show(k)) end
    local ok = k.ndim == nd
    if ok then
      local ks = k.shape
      for i = 1, nd do if ks[i] ~= shape[i] then ok = false; break end end
    end
    if not ok then
      raise("%s: %s returned shape %s for a state of shape %s", who, what, shape_str(k),
            shape_str(y))
    end
    if k.dtype ~= dtype then
      raise("%s: %s returned dtype %s for a state of dtype %s", who, what, k.dtype, dtype)
    end
    return k
  end
  return call, function() return count end
end
M._checked_rhs = checked_rhs

-- the number of fixed steps from opts.steps or opts.dt over the interval
-- [a, b]: a whole number, so the last step lands on b exactly
local function step_count(who, a, b, opts)
  if opts.steps ~= nil then
    if math.type(opts.steps) ~= "integer" or opts.steps < 1 then
      raise("%s: steps must be an integer >= 1, got %s", who, show(opts.steps))
    end
    return opts.steps
  end
  if opts.dt == nil then raise("%s: a fixed-step method needs dt or steps", who) end
  local dt = E.num_or(who, "dt", opts.dt, nil, 0, true)
  -- 1e-10: a span that is a whole number of steps up to rounding takes that number
  return math.max(1, math.ceil(math.abs(b - a) / dt * (1 - 1e-10)))
end
M._step_count = step_count

-- the output times: t_eval (sorted in the direction of integration, inside
-- the span) or nil
local function check_t_eval(who, te, t0, t1)
  if te == nil then return nil end
  if T.is_tensor(te) then te = te:totable() end
  if type(te) ~= "table" or #te == 0 then raise("%s: t_eval must be a non-empty list of times", who) end
  local dir = t1 > t0 and 1 or -1
  local lo, hi = math.min(t0, t1), math.max(t0, t1)
  for i, t in ipairs(te) do
    if not finite(t) or t < lo or t > hi then
      raise("%s: t_eval[%d] = %s is outside t_span {%g, %g}", who, i, tostring(t), t0, t1)
    end
    if i > 1 and (t - te[i - 1]) * dir <= 0 then
      raise("%s: t_eval must be strictly %s (entries %d and %d: %g, %g)", who,
            dir > 0 and "increasing" or "decreasing", i - 1, i, te[i - 1], t)
    end
  end
  return te
end
M._check_t_eval = check_t_eval

-- whether autograd records operations on any of the tensors
local function tracked(...)
  if not autograd.is_grad_enabled() then return false end
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if T.is_tensor(v) and v.requires_grad then return true end
  end
  return false
end
M._tracked = tracked

-- raises when y holds NaN or inf: never a silent NaN run
local function check_finite(who, y, t_lo, t_hi)
  -- |y| * 0 is 0 where y is finite and NaN where it is not: one sum tells
  local s = autograd.no_grad(function() return (y:abs() * 0):sum() end)
  if T.is_tensor(s) then s = s:item() end
  if s ~= 0 then
    raise("%s: the solution became NaN or infinite between t = %.6g and t = %.6g "
          .. "(unstable step size, or a right-hand side that diverges)", who, t_lo, t_hi)
  end
end
M._check_finite = check_finite

local function stack(list)
  if #list == 1 then return list[1]:unsqueeze(1) end
  return T.stack(list, 1)
end
M._stack = stack

-- --- explicit Runge-Kutta, fixed step -----------------------------------------

-- Butcher tableaus: c (nodes), a (rows of the stage matrix), b (weights)
local tableaus = {
  euler = { c = { 0 }, a = { {} }, b = { 1 }, order = 1 },
  midpoint = { c = { 0, 0.5 }, a = { {}, { 0.5 } }, b = { 0, 1 }, order = 2 },
  rk4 = { c = { 0, 0.5, 0.5, 1 }, a = { {}, { 0.5 }, { 0, 0.5 }, { 0, 0, 1 } },
          b = { 1 / 6, 1 / 3, 1 / 3, 1 / 6 }, order = 4 },
}

-- y + h sum_j w[j] k[j] over the nonzero weights
local function step_sum(y, ks, w, h)
  local kk, cc = {}, {}
  for j = 1, #w do
    if w[j] ~= 0 then kk[#kk + 1] = ks[j]; cc[#cc + 1] = h * w[j] end
  end
  if #kk == 0 then return y end
  return combine(y, kk, cc)
end

local function rk_step(call, tab, t, y, h)
  local ks = {}
  for i = 1, #tab.b do
    ks[i] = call(t + tab.c[i] * h, step_sum(y, ks, tab.a[i], h))
  end
  return step_sum(y, ks, tab.b, h)
end

-- fixed steps from t0 to t1 with an output at every step, or at each t_eval
-- (each span between outputs cut into whole steps no longer than dt)
local function solve_fixed(who, call, tab, y, t0, t1, te, opts)
  local ts, ys = {}, {}
  local marks = te or nil
  if not marks then
    local n = step_count(who, t0, t1, opts)
    marks = {}
    for i = 1, n do marks[i] = i == n and t1 or t0 + (t1 - t0) * i / n end
    opts = { steps = 1 }
  end
  local t = t0
  if te == nil or te[1] == t0 then ts[1], ys[1] = t0, y end
  local nsteps = 0
  for _, tm in ipairs(marks) do
    if tm ~= t then
      local n = step_count(who, t, tm, opts)
      local h = (tm - t) / n
      for i = 1, n do
        y = rk_step(call, tab, t, y, h)
        t = i == n and tm or t + h
      end
      nsteps = nsteps + n
      check_finite(who, y, ts[#ts] or t0, t)
      ts[#ts + 1], ys[#ys + 1] = t, y
    end
  end
  return ts, ys, nsteps
end

-- --- Dormand-Prince 5(4) ----------------------------------------------------------
-- J. R. Dormand and P. J. Prince, J. Comput. Appl. Math. 6, 19 (1980): a
-- fifth-order solution with an embedded fourth-order one, seven stages, the
-- last equal to the first of the next step (FSAL).  Dense output: the
-- continuous extension of Hairer, Norsett and Wanner, "Solving Ordinary
-- Differential Equations I", 2nd ed., section II.6 (as in their DOPRI5).

local DP = {
  c = { 0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1 },
  a = {
    {},
    { 1 / 5 },
    { 3 / 40, 9 / 40 },
    { 44 / 45, -56 / 15, 32 / 9 },
    { 19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729 },
    { 9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656 },
    { 35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84 },
  },
  -- the error estimate: fifth- minus fourth-order weights
  e = { 71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40 },
  -- the dense output's fifth term
  d = { -12715105075 / 11282082432, 0, 87487479700 / 32700410799,
        -10690763975 / 1880347072, 701980252875 / 199316789632,
        -1453857185 / 822651844, 69997945 / 29380423 },
}
DP.b = { 35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0 }

-- y(t + theta h) = y + h sum_j w_j(theta) k_j: Hairer's form
-- y0 + theta (dy + (1 - theta) (h k1 - dy + theta (2 dy - h k1 - h k7
-- + (1 - theta) h sum d_j k_j))), dy = y1 - y0 = h sum b_j k_j, expanded
local function dense_weights(theta)
  local c = theta * (1 - theta)
  local d = theta * c
  local e = c * c
  local s = theta - c + 2 * d
  local w = {}
  for j = 1, 7 do w[j] = DP.b[j] * s + e * DP.d[j] end
  w[1] = w[1] + c - d
  w[7] = w[7] - d
  return w
end

-- a step [t, t + h] kept for dense output
local function interpolate(st, t)
  if t == st.t then return st.y end
  if t == st.t1 then return st.y1 end
  return step_sum(st.y, st.k, dense_weights((t - st.t) / st.h), st.h)
end

-- Hairer's starting step (op. cit., section II.4): h0 from the sizes of y0
-- and f0, refined by the change of f over one trial step
local function first_step(call, t0, y0, f0, dir, order, atol, rtol)
  local d0 = errnorm(y0, y0, { y0 }, { 1 }, atol, rtol)
  local d1 = errnorm(y0, y0, { f0 }, { 1 }, atol, rtol)
  local h0 = (d0 < 1e-5 or d1 < 1e-5) and 1e-6 or 0.01 * d0 / d1
  local y1 = combine(y0, { f0 }, { dir * h0 })
  local f1 = call(t0 + dir * h0, y1)
  local d2 = errnorm(y0, y0, { f1, f0 }, { 1 / h0, -1 / h0 }, atol, rtol)
  local m = math.max(d1, d2)
  local h1 = m <= 1e-15 and math.max(1e-6, h0 * 1e-3) or (0.01 / m) ^ (1 / (order + 1))
  return math.min(100 * h0, h1)
end

-- --- events --------------------------------------------------------------------

local function parse_events(who, ev)
  if ev == nil then return {} end
  if type(ev) == "function" or (type(ev) == "table" and type(ev[1]) == "function") then
    ev = { ev }
  end
  if type(ev) ~= "table" then raise("%s: events must be a function or a list of them, got %s", who, show(ev)) end
  local list = {}
  for i, e in ipairs(ev) do
    local fn, terminal, direction = e, false, 0
    if type(e) == "table" then fn, terminal, direction = e[1], e.terminal, e.direction or 0 end
    if type(fn) ~= "function" then raise("%s: event %d must be a function g(t, y) or {g, terminal=, direction=}", who, i) end
    if direction ~= 0 and direction ~= 1 and direction ~= -1 then
      raise("%s: event %d: direction must be -1, 0 or 1, got %s", who, i, show(direction))
    end
    list[i] = { fn = fn, terminal = terminal and true or false, direction = direction }
  end
  return list
end

local function event_value(who, i, ev, t, y)
  local v = autograd.no_grad(ev.fn, t, y)
  if T.is_tensor(v) and v:numel() == 1 then v = v:item() end
  if type(v) ~= "number" or v ~= v then
    raise("%s: event %d returned %s; it must return a number", who, i, show(v))
  end
  return v
end

local function crossed(ev, g0, g1)
  local up, down = g0 < 0 and g1 >= 0, g0 > 0 and g1 <= 0
  if ev.direction > 0 then return up end
  if ev.direction < 0 then return down end
  return up or down
end

-- the root of g over the step, by the Illinois variant of regula falsi on
-- the dense output, to a few units in the last place of t
local function event_root(who, i, ev, st, g0, g1)
  local a, b, ga, gb, side = st.t, st.t1, g0, g1, 0
  local tol = 4 * 2.2e-16 * math.max(math.abs(a), math.abs(b))
  for _ = 1, 200 do
    if math.abs(b - a) <= tol then break end
    local m = (a * gb - b * ga) / (gb - ga)
    if not (m > math.min(a, b) and m < math.max(a, b)) then m = 0.5 * (a + b) end
    local gm = event_value(who, i, ev, m, autograd.no_grad(interpolate, st, m))
    if gm == 0 then return m end
    if (gm < 0) == (ga < 0) then
      a, ga = m, gm
      if side == -1 then gb = gb / 2 end
      side = -1
    else
      b, gb = m, gm
      if side == 1 then ga = ga / 2 end
      side = 1
    end
  end
  return b
end

-- the events of the accepted step st, in time order, up to the first
-- terminal one; updates g (the last values)
local function step_events(who, evs, g, st)
  local found = {}
  for i, ev in ipairs(evs) do
    local g1 = event_value(who, i, ev, st.t1, st.y1)
    if crossed(ev, g[i], g1) then
      found[#found + 1] = { i = i, t = event_root(who, i, ev, st, g[i], g1) }
    end
    g[i] = g1
  end
  local dir = st.h > 0 and 1 or -1
  table.sort(found, function(x, y) return (x.t - y.t) * dir < 0 end)
  for k, f in ipairs(found) do
    if evs[f.i].terminal then
      for j = #found, k + 1, -1 do found[j] = nil end
      return found, f.t
    end
  end
  return found, nil
end

-- --- the adaptive loop ---------------------------------------------------------------

local function dp_stages(call, t, y, k1, h)
  local k = { k1 }
  for i = 2, 6 do k[i] = call(t + DP.c[i] * h, step_sum(y, k, DP.a[i], h)) end
  local y1 = step_sum(y, k, DP.a[7], h)
  k[7] = call(t + h, y1)
  return k, y1
end

local function check_tols(who, opts)
  local rtol, atol = opts.rtol or 1e-6, opts.atol or 1e-9
  if not finite(rtol) or not finite(atol) or rtol < 0 or atol < 0 or rtol + atol <= 0 then
    raise("%s: rtol = %s and atol = %s must be >= 0, and one of them > 0", who,
          tostring(rtol), tostring(atol))
  end
  return rtol, atol
end
M._check_tols = check_tols

local function solve_dopri(who, call, y, t0, t1, te, opts)
  local rtol, atol = check_tols(who, opts)
  local dir = t1 > t0 and 1 or -1
  local max_step = opts.max_step or math.huge
  local max_steps = opts.max_steps or 100000
  local evs = parse_events(who, opts.events)
  local sol = { t = {}, y = {}, t_events = {}, y_events = {}, status = "done",
                nsteps = 0, nrejected = 0, steps = opts.dense and {} or nil }
  for i = 1, #evs do sol.t_events[i], sol.y_events[i] = {}, {} end
  local g = {}
  for i, ev in ipairs(evs) do g[i] = event_value(who, i, ev, t0, y) end
  local t, k1 = t0, call(t0, y)
  local h = opts.first_step or first_step(call, t0, y, k1, dir, 4, atol, rtol)
  if not finite(h) or h <= 0 then raise("%s: first_step must be a number > 0, got %s", who, show(h)) end
  local nexte = 1
  if te == nil or te[1] == t0 then sol.t[1], sol.y[1] = t0, y; nexte = 2 end
  local rejected, last_err = false, 0
  while (t1 - t) * dir > 0 do
    h = math.min(h, max_step, math.abs(t1 - t))
    if h <= 16 * 2.2e-16 * math.max(math.abs(t), 1e-300) then
      raise("%s: step size underflow at t = %.17g (h = %.3g, last error estimate %s)%s", who,
            t, h, tostring(last_err),
            last_err ~= last_err and ": the right-hand side gives NaN or inf" or "")
    end
    if sol.nsteps + sol.nrejected >= max_steps then
      raise("%s: more than max_steps = %d steps before t = %.6g (reached t = %.6g)", who,
            max_steps, t1, t)
    end
    -- within 1% of the end: stretch the step to land on t1 (no sliver left)
    local hs = dir * h
    local tn = (math.abs(t1 - t) <= h * 1.01) and t1 or t + hs
    hs = tn - t
    local k, y1 = dp_stages(call, t, y, k1, hs)
    local err = errnorm(y, y1, k, { hs * DP.e[1], 0, hs * DP.e[3], hs * DP.e[4],
                                    hs * DP.e[5], hs * DP.e[6], hs * DP.e[7] }, atol, rtol)
    last_err = err
    if err <= 1 then
      local st = { t = t, t1 = tn, h = hs, y = y, y1 = y1, k = k }
      sol.nsteps = sol.nsteps + 1
      local found, tstop = step_events(who, evs, g, st)
      for _, f in ipairs(found) do
        local ti = sol.t_events[f.i]
        ti[#ti + 1] = f.t
        sol.y_events[f.i][#ti] = interpolate(st, f.t)
      end
      local tend = tstop or tn
      while te and nexte <= #te and (te[nexte] - tend) * dir <= 0 do
        sol.t[#sol.t + 1], sol.y[#sol.y + 1] = te[nexte], interpolate(st, te[nexte])
        nexte = nexte + 1
      end
      if not te or tstop then
        sol.t[#sol.t + 1], sol.y[#sol.y + 1] = tend, interpolate(st, tend)
      end
      if sol.steps then sol.steps[#sol.steps + 1] = st end
      if tstop then sol.status = "event"; t, y = tstop, sol.y[#sol.y]; break end
      t, y, k1 = tn, y1, k[7]
      if sol.nsteps % 64 == 0 then check_finite(who, y, t - hs, t) end
    else
      sol.nrejected = sol.nrejected + 1
    end
    -- the step for the next try: 0.9 err^(-1/5), within [0.2, 10], and no
    -- growth right after a rejection (a NaN error counts as a rejection)
    local fac = err == 0 and 10 or (err == err and 0.9 * err ^ -0.2 or 0.2)
    fac = math.max(0.2, math.min(rejected and 1 or 10, fac))
    rejected = not (err <= 1)
    h = h * fac
  end
  check_finite(who, y, t0, t)
  sol.y_final = y
  return sol
end

-- --- ode.solve ---------------------------------------------------------------------

local solve_opts = { method = true, dt = true, steps = true, rtol = true, atol = true,
                     first_step = true, max_step = true, max_steps = true, t_eval = true,
                     events = true, dense = true }

-- the dense-output function of a solve that kept its steps
local function dense_at(who, steps)
  return function(t)
    if not finite(t) then raise("%s: sol.at: t must be a number, got %s", who, show(t)) end
    for _, st in ipairs(steps) do
      local lo, hi = math.min(st.t, st.t1), math.max(st.t, st.t1)
      if t >= lo and t <= hi then return interpolate(st, t) end
    end
    local a, b = steps[1].t, steps[#steps].t1
    raise("%s: sol.at(%g) is outside the solved interval [%g, %g]", who, t,
          math.min(a, b), math.max(a, b))
  end
end

function M.solve(f, y0, t_span, opts)
  local who = "ode.solve"
  opts = E.checkopts(who, opts, solve_opts)
  check_fn(who, f, "f")
  check_state(who, y0, "y0")
  local t0, t1 = check_span(who, t_span)
  local te = check_t_eval(who, opts.t_eval, t0, t1)
  local method = opts.method or "dopri5"
  local call, nfev = checked_rhs(who, f, y0)
  local sol
  if method == "dopri5" then
    sol = solve_dopri(who, call, y0, t0, t1, te, opts)
    if sol.steps then sol.at = dense_at(who, sol.steps) end
  elseif tableaus[method] then
    if opts.events then raise("%s: events need method \"dopri5\" (dense output)", who) end
    local ts, ys, n = solve_fixed(who, call, tableaus[method], y0, t0, t1, te, opts)
    sol = { t = ts, y = ys, nsteps = n, nrejected = 0, status = "done", y_final = ys[#ys] }
  else
    local near = E.suggest(method, { dopri5 = 1, rk4 = 1, euler = 1, midpoint = 1 })
    raise("%s: unknown method %s (known: dopri5, rk4, midpoint, euler)%s", who, show(method),
          near and fmt("; did you mean '%s'?", near) or "")
  end
  sol.nfev = nfev()
  sol.t = T.tensor(sol.t)
  sol.y = stack(sol.y)
  return sol
end
doc(M.solve, "ode.solve(f, y0, t_span [, opts])\n\nSolves dy/dt = f(t, y) from "
  .. "y(t0) = y0 over t_span = {t0, t1} (t1 < t0 integrates backwards).  y0: any "
  .. "tensor of f64, f32, c128 or c64 (a batch is a leading dimension); f returns "
  .. "a tensor of y's shape and dtype.  opts.method: \"dopri5\" (default: "
  .. "Dormand-Prince 5(4), adaptive, rtol=1e-6, atol=1e-9, first_step=, max_step=, "
  .. "max_steps=1e5), or the fixed-step \"rk4\", \"midpoint\", \"euler\" (dt= or "
  .. "steps=).  t_eval: output times (dense output between dopri5 steps), else "
  .. "every step.  events (dopri5): g(t, y) or {g, terminal=, direction=} or a "
  .. "list; sign changes are located by root finding on the dense output.  "
  .. "dense = true keeps sol.at(t).  Returns sol: t (1-d tensor), y (stacked "
  .. "{nt, ...}), y_final, nsteps, nrejected, nfev, status (\"done\" or "
  .. "\"event\"), t_events, y_events.  Differentiable through the steps (step "
  .. "sizes are constants to autograd).")

-- --- symplectic splitting for separable Hamiltonians ----------------------------
-- H(q, p) = T(p) + V(q): a step is kicks p += a_i h F(q) (F = -dV/dq) and
-- drifts q += b_i h v(p) (v = dT/dp, p / mass by default), each the exact
-- flow of one part, so the step is symplectic.  The last kick of a step and
-- the first of the next act on the same q and are merged: n leapfrog steps
-- cost n + 1 force evaluations.
local s = 2 ^ (1 / 3)
local w1, w0 = 1 / (2 - s), -s / (2 - s)
local schemes = {
  -- kick-drift-kick (velocity Verlet): second order
  leapfrog = { kick = { 0.5, 0.5 }, drift = { 1 }, order = 2 },
  -- drift-kick-drift (position Verlet): second order
  position_verlet = { kick = { 0, 1, 0 }, drift = { 0.5, 0.5 }, order = 2 },
  -- Yoshida's triple jump of the leapfrog: fourth order (H. Yoshida, Phys.
  -- Lett. A 150, 262 (1990)); Forest and Ruth's method
  yoshida4 = { kick = { w1 / 2, (w1 + w0) / 2, (w0 + w1) / 2, w1 / 2 },
               drift = { w1, w0, w1 }, order = 4 },
}
schemes.verlet = schemes.leapfrog

local symplectic_opts = { dt = true, steps = true, method = true, mass = true,
                          velocity = true, callback = true, every = true, t0 = true }

local function scheme_of(who, name)
  local sch = schemes[name or "leapfrog"]
  if not sch then
    local near = E.suggest(name, schemes)
    raise("%s: unknown method %s (known: leapfrog, verlet, position_verlet, yoshida4)%s",
          who, show(name), near and fmt("; did you mean '%s'?", near) or "")
  end
  return sch
end

-- the drift q + c v(p): with a number mass the division folds into c
local function drifter(who, q, opts)
  local mass, vel = opts.mass or 1, opts.velocity
  if vel then
    check_fn(who, vel, "velocity")
    local call = checked_rhs(who, function(_, p) return vel(p) end, q, "velocity(p)")
    return function(qq, p, c) return combine(qq, { call(nil, p) }, { c }) end
  end
  if type(mass) == "number" then
    if not (mass > 0 and finite(mass)) then raise("%s: mass must be > 0, got %s", who, show(mass)) end
    return function(qq, p, c) return combine(qq, { p }, { c / mass }) end
  end
  if not T.is_tensor(mass) then raise("%s: mass must be a number or a tensor, got %s", who, show(mass)) end
  local call = checked_rhs(who, function(_, p) return p / mass end, q, "p / mass")
  return function(qq, p, c) return combine(qq, { call(nil, p) }, { c }) end
end

function M.symplectic(force, q0, p0, opts)
  local who = "ode.symplectic"
  opts = E.checkopts(who, opts, symplectic_opts)
  check_fn(who, force, "force")
  check_state(who, q0, "q0")
  check_state(who, p0, "p0")
  if shape_str(q0) ~= shape_str(p0) or q0.dtype ~= p0.dtype then
    raise("%s: q0 (%s %s) and p0 (%s %s) must have the same shape and dtype", who,
          q0.dtype, shape_str(q0), p0.dtype, shape_str(p0))
  end
  local sch = scheme_of(who, opts.method)
  local n, h = opts.steps, opts.dt
  if math.type(n) ~= "integer" or n < 1 then
    raise("%s: steps must be an integer >= 1, got %s", who, show(n))
  end
  E.num_or(who, "dt", h, nil, 0, true)
  local F = checked_rhs(who, function(_, q) return force(q) end, q0, "force(q)")
  local drift = drifter(who, q0, opts)
  local cb, every = opts.callback, opts.every or 1
  if cb then check_fn(who, cb, "callback") end
  if math.type(every) ~= "integer" or every < 1 then raise("%s: every must be an integer >= 1, got %s", who, show(every)) end
  local t0 = opts.t0 or 0
  local q, p = q0, p0
  local ka, db = sch.kick, sch.drift
  local owed = 0   -- the merged last kick of the previous step
  for step = 1, n do
    for i = 1, #db do
      local a = ka[i] + (i == 1 and owed or 0)
      if a ~= 0 then p = combine(p, { F(nil, q) }, { a * h }) end
      q = drift(q, p, db[i] * h)
    end
    owed = ka[#ka]
    if step == n or (cb and step % every == 0) then
      if owed ~= 0 then p = combine(p, { F(nil, q) }, { owed * h }) end
      owed = 0
      if cb then cb(step, t0 + step * h, q, p) end
    end
  end
  check_finite(who, q, t0, t0 + n * h)
  check_finite(who, p, t0, t0 + n * h)
  return q, p
end
doc(M.symplectic, "ode.symplectic(force, q0, p0, {dt=, steps= [, method=\"leapfrog\", "
  .. "mass=1, velocity=, callback=, every=1, t0=0]})\n\nIntegrates the separable "
  .. "Hamiltonian H = T(p) + V(q): dq/dt = v(p) (p / mass by default, or "
  .. "velocity(p)), dp/dt = force(q) = -dV/dq.  method: \"leapfrog\" = \"verlet\" "
  .. "(kick-drift-kick), \"position_verlet\" (drift-kick-drift), \"yoshida4\" "
  .. "(fourth order).  Symplectic and time-reversible: the energy error stays "
  .. "bounded (the leapfrog conserves a shadow energy exactly).  callback(step, "
  .. "t, q, p) every `every` steps.  Returns q, p (new tensors).")

-- --- adjoint gradients ------------------------------------------------------------------
-- For y' = f(t, y; p) and a loss L(y(t1)), the adjoint a = dL/dy obeys
-- a' = -a^T df/dy backwards from a(t1) = dL/dy(t1), and dL/dp = int a^T
-- df/dp dt (L. S. Pontryagin et al. 1962; in this form R. T. Q. Chen et al.,
-- "Neural ordinary differential equations", NeurIPS 2018).  The forward
-- solve keeps only y(t1); the backward solve runs y, a and dL/dp together
-- from t1 to t0 with the same fixed RK4 steps, getting the products a^T
-- df/dy and a^T df/dp from one reverse pass of autograd through f.  Memory
-- does not grow with the number of steps.  The gradient is that of the
-- continuous problem: it differs from the gradient through the discrete
-- steps by the integration error (O(h^4)), and y is recomputed backwards,
-- which loses accuracy when the flow contracts strongly (a dissipative f).

local adjoint_opts = { dt = true, steps = true }

local function rk4_list(fl, t, ys, h)   -- one RK4 step of a list of tensors
  local function add(base, ks, c)
    local out = {}
    for i = 1, #base do out[i] = combine(base[i], { ks[i] }, { c }) end
    return out
  end
  local k1 = fl(t, ys)
  local k2 = fl(t + h / 2, add(ys, k1, h / 2))
  local k3 = fl(t + h / 2, add(ys, k2, h / 2))
  local k4 = fl(t + h, add(ys, k3, h))
  local out = {}
  for i = 1, #ys do
    out[i] = combine(ys[i], { k1[i], k2[i], k3[i], k4[i] }, { h / 6, h / 3, h / 3, h / 6 })
  end
  return out
end

function M.adjoint(f, y0, t_span, params, opts)
  local who = "ode.adjoint"
  opts = E.checkopts(who, opts, adjoint_opts)
  check_fn(who, f, "f")
  check_state(who, y0, "y0")
  local t0, t1 = check_span(who, t_span)
  params = params or {}
  if type(params) ~= "table" then raise("%s: params must be a list of tensors, got %s", who, show(params)) end
  for i, p in ipairs(params) do
    if not T.is_tensor(p) then raise("%s: params[%d] is %s, not a tensor", who, i, show(p)) end
  end
  local n = step_count(who, t0, t1, opts)
  local h = (t1 - t0) / n
  local call = checked_rhs(who, f, y0)
  local np = #params
  local fn = autograd.Function {
    name = "ode.adjoint",
    forward = function(ctx, y)
      local tab = tableaus.rk4
      for i = 1, n do y = rk_step(call, tab, t0 + (i - 1) * h, y, h) end
      ctx.yT = y
      return y
    end,
    backward = function(ctx, g)
      local yT = ctx.yT
      -- the augmented right-hand side: (f, -a^T df/dy, -a^T df/dp)
      local function aug(t, s)
        return autograd.enable_grad(function()
          local y = s[1]:detach():requires_grad_()
          local out = call(t, y)
          local wrt = { y }
          for i = 1, np do wrt[i + 1] = params[i] end
          local gs = autograd.grad({ out }, wrt, { grad_outputs = { s[2] }, allow_unused = true })
          local r = { out:detach(), -gs[1] }
          for i = 1, np do r[i + 2] = gs[i + 1] and -gs[i + 1] or T.zeros_like(params[i]) end
          return r
        end)
      end
      local s = { yT, g }
      for i = 1, np do s[i + 2] = T.zeros_like(params[i]) end
      for i = n, 1, -1 do s = rk4_list(aug, t0 + i * h, s, -h) end
      return s[2], table.unpack(s, 3, np + 2)
    end,
  }
  return fn(y0, table.unpack(params))
end
doc(M.adjoint, "ode.adjoint(f, y0, t_span, params, {dt= or steps=})\n\ny(t1) of dy/dt "
  .. "= f(t, y) by fixed RK4 steps, differentiable with respect to y0 and the "
  .. "tensors in params (those f uses) by the adjoint equations, solved "
  .. "backwards: memory independent of the number of steps.  The gradient is the "
  .. "continuous problem's (within O(h^4) of the gradient through the steps).")

-- --- stochastic differential equations -----------------------------------------------
-- dX = a(t, X) dt + b(t, X) dW (Ito) with diagonal noise: component i of
-- dW is an independent Brownian increment and b acts elementwise.
--   Euler-Maruyama: X + a h + b dW                       (strong order 1/2)
--   Milstein:       X + a h + b dW + b b' (dW^2 - h) / 2 (strong order 1)
-- b' = db_i/dx_i comes from opts.dbdx or from autograd (which needs b_i to
-- depend on x_i alone, as diagonal noise does).  With additive noise (b a
-- number, a tensor, or a function of t only) the two schemes coincide.
-- The increments are drawn from hebb's Philox generator (opts.generator,
-- or a new one from opts.seed, else the default one), so a run depends on
-- the seed alone, never on the thread count; opts.dW supplies them instead
-- (a tensor of shape {steps, ...} with steps the whole count), which is how
-- one Brownian path is refined to measure strong orders.

local sde_opts = { dt = true, steps = true, method = true, dbdx = true, dW = true,
                   generator = true, seed = true, t_eval = true, additive = true }

local function diffusion_fn(who, b, x0, additive)
  if type(b) == "number" or T.is_tensor(b) then
    if T.is_tensor(b) and b.dtype ~= x0.dtype then b = b:astype(x0.dtype) end
    return function() return b end, true
  end
  check_fn(who, b, "diffusion")
  return b, additive and true or false
end

-- b' by autograd: the gradient of sum_i b_i(t, x) is db_i/dx_i for
-- diagonal noise
local function auto_dbdx(b)
  return function(t, x)
    return autograd.grad(function(xx) return b(t, xx):sum() end, x)
  end
end

local function noise_source(who, x0, n, opts)
  if opts.dW ~= nil then
    local dW = opts.dW
    local want = { n }
    for i, s in ipairs(x0.shape) do want[i + 1] = s end
    if not T.is_tensor(dW) or "{" .. table.concat(want, ", ") .. "}" ~= shape_str(dW) then
      raise("%s: dW must be a tensor of shape {%s} (steps, then x0's shape), got %s", who,
            table.concat(want, ", "), show(dW))
    end
    local i = 0
    return function() i = i + 1; return dW[i] end
  end
  local gen = opts.generator
  if gen == nil and opts.seed ~= nil then gen = T.Generator(opts.seed) end
  local shape = x0.shape
  local o = { dtype = x0.dtype, generator = gen }
  return function(h) return T.randn(shape, o) * math.sqrt(h) end
end

function M.sde(drift, diffusion, x0, t_span, opts)
  local who = "ode.sde"
  opts = E.checkopts(who, opts, sde_opts)
  check_fn(who, drift, "drift")
  check_state(who, x0, "x0")
  if x0.dtype == "c128" or x0.dtype == "c64" then
    raise("%s: x0 has dtype %s; the noise is real: use an f64 or f32 state (real and imaginary parts as components)", who, x0.dtype)
  end
  local t0, t1 = check_span(who, t_span)
  if t1 < t0 then raise("%s: t_span = {%g, %g}: an SDE runs forward in time", who, t0, t1) end
  local te = check_t_eval(who, opts.t_eval, t0, t1)
  if te and opts.dW then raise("%s: give either dW or t_eval (dW fixes the steps)", who) end
  local method = opts.method or "euler_maruyama"
  if method ~= "euler_maruyama" and method ~= "milstein" then
    raise("%s: unknown method %s (known: euler_maruyama, milstein)", who, show(method))
  end
  local a = checked_rhs(who, drift, x0, "drift(t, x)")
  local bfn, additive = diffusion_fn(who, diffusion, x0, opts.additive)
  local b = checked_rhs(who, function(t, x)
    local v = bfn(t, x)
    if type(v) == "number" then v = T.full(x0.shape, v, { dtype = x0.dtype }) end
    if T.is_tensor(v) and v.ndim < x0.ndim then v = v:expand(table.unpack(x0.shape)) end
    return v
  end, x0, "diffusion(t, x)")
  local mil = method == "milstein" and not additive
  local db
  if mil then
    db = opts.dbdx and checked_rhs(who, opts.dbdx, x0, "dbdx(t, x)")
         or checked_rhs(who, auto_dbdx(bfn), x0, "db/dx")
  end
  local marks = te
  local total
  if not te then
    total = opts.dW and opts.dW.shape and opts.dW.shape[1] or step_count(who, t0, t1, opts)
    marks = {}
    for i = 1, total do marks[i] = i == total and t1 or t0 + (t1 - t0) * i / total end
  end
  local noise = noise_source(who, x0, total or 0, opts)
  local ts, xs = {}, {}
  local t, x = t0, x0
  if te == nil or te[1] == t0 then ts[1], xs[1] = t0, x0 end
  local sopts = te and opts or { steps = 1 }
  for _, tm in ipairs(marks) do
    if tm ~= t then
      local k = step_count(who, t, tm, sopts)
      local h = (tm - t) / k
      for i = 1, k do
        local dW = noise(h)
        local bx = b(t, x)
        local xn = combine(x, { a(t, x) }, { h }) + bx * dW
        if mil then xn = xn + bx * db(t, x) * (dW * dW - h) * 0.5 end
        x = xn
        t = i == k and tm or t + h
      end
      check_finite(who, x, ts[#ts] or t0, t)
      if te or true then ts[#ts + 1], xs[#xs + 1] = t, x end
    end
  end
  return { t = T.tensor(ts), x = stack(xs), x_final = x, status = "done" }
end
doc(M.sde, "ode.sde(drift, diffusion, x0, t_span, {dt= or steps= [, method=, "
  .. "dbdx=, dW=, generator=, seed=, t_eval=, additive=]})\n\nThe Ito SDE dX = "
  .. "drift(t, X) dt + diffusion(t, X) dW with diagonal noise.  diffusion: a "
  .. "number, a tensor, or a function (additive = true: of t only).  method: "
  .. "\"euler_maruyama\" (default) or \"milstein\" (db/dx from dbdx(t, x) or "
  .. "autograd).  Increments from hebb's Philox generator (generator=, or seed=), "
  .. "independent of threads, or given as dW {steps, ...}.  Returns {t, x "
  .. "(stacked), x_final}.")

return M
