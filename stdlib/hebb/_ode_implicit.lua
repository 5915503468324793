-- hebb._ode_implicit: ode.implicit of hebb.ode, stiff linear systems
-- y' = A y + s(t) with A a dense tensor or a sparse matrix (hebb.sparse).
--
-- theta method: (I - theta h A) y1 = y0 + (1 - theta) h A y0
--                                    + h (theta s(t + h) + (1 - theta) s(t))
--   theta = 1: backward Euler (first order, L-stable: the stiffest modes are
--   damped in one step); theta = 1/2: Crank-Nicolson (second order,
--   A-stable, stiff modes flip sign instead of decaying).
-- TR-BDF2 (R. E. Bank et al., IEEE Trans. CAD 4, 436 (1985); M. E. Hosea
--   and L. F. Shampine, Appl. Numer. Math. 20, 21 (1996)): a trapezoidal
--   step to t + gamma h, then BDF2 through t, t + gamma h, t + h; with
--   gamma = 2 - sqrt 2 both stages solve with the same matrix I - d h A,
--   d = gamma / 2.  Second order and L-stable.  Its embedded third-order
--   weights (Hosea and Shampine) give an error estimate, filtered through
--   (I - d h A)^-1 so that stiff components do not inflate it, which
--   drives an adaptive step (rtol, atol) when no dt or steps is given.
--
-- The solves: dense A, (I - c A)^-1 once per step size (LAPACK); sparse A,
-- sparse.solve (BiCGSTAB with ILU(0), C) from the previous state, on f64
-- or c128 (an f32 or c64 state is solved in double and stored back).
-- Differentiable through the steps: a dense A by autograd through inv and
-- matmul (with respect to A too), a sparse one with respect to y0 and the
-- source (sparse.solve's backward is a solve with the adjoint matrix).
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local linalg = require "hebb.linalg"
local S = require "hebb._ode_solvers"
local C = require "hebb._ode"
local E = require "hebb._error"
local doc = require("hebb").doc

local P = {}
local fmt = string.format
local raise, show = E.raise, E.show
local combine, errnorm = C.combine, C.errnorm
local finite = E.finite

local implicit_opts = { dt = true, steps = true, theta = true, source = true, t_eval = true,
                        method = true, rtol = true, atol = true, first_step = true,
                        max_step = true, max_steps = true, solver = true }
local solver_opts = { method = true, precond = true, tol = true, maxiter = true }

local function is_sparse(A)
  return type(A) == "userdata" and not T.is_tensor(A) and A.triplets ~= nil
end

-- --- the linear operator: products A y and solves with I - c A -------------------

-- dense A: (I - c A)^-1 kept for the last few c (fixed steps reuse one)
local function dense_ops(A, n)
  local I = T.eye(n, { dtype = A.dtype })
  local cache, order = {}, {}
  local ops = { work = nil }
  function ops.apply(y) return A:matmul(y) end
  function ops.solve(c, rhs)
    local key = fmt("%.17g", c)
    if not cache[key] then
      cache[key] = linalg.inv(I - A * c)
      order[#order + 1] = key
      if #order > 4 then cache[table.remove(order, 1)] = nil end
    end
    return cache[key]:matmul(rhs)
  end
  return ops
end

-- sparse A: I - c A built per c, solved by sparse.solve from x0 (its
-- autograd rule makes a step differentiable with respect to the right
-- side: y0 and the source)
local function sparse_ops(who, A, n, sopts)
  sopts = E.checkopts(who .. ": solver", sopts, solver_opts)
  local I = sparse.eye(n)
  local mats, order = {}, {}
  local ops = { iterations = 0 }
  function ops.apply(y) return A:matmul(y) end
  function ops.solve(c, rhs, x0)
    local key = fmt("%.17g", c)
    if not mats[key] then
      mats[key] = I - A:scale(c)
      order[#order + 1] = key
      if #order > 4 then mats[table.remove(order, 1)] = nil end
    end
    local ok, x, info = pcall(sparse.solve, mats[key], rhs,
      { x0 = x0 and x0:detach(), tol = sopts.tol or 1e-12, method = sopts.method,
        precond = sopts.precond, maxiter = sopts.maxiter })
    if not ok then
      raise("%s: the linear solve with I - %.6g A failed: %s", who, c, E.bare(tostring(x)))
    end
    ops.iterations = ops.iterations + info.iterations
    return x
  end
  return ops
end

-- the operator, and y0 and the source in the dtype the solves work in
local function operator(who, A, y0, opts)
  local n
  if is_sparse(A) then
    if A.shape[1] ~= A.shape[2] then
      raise("%s: A must be a square matrix, got a %d x %d sparse matrix", who, A.shape[1], A.shape[2])
    end
    n = A.shape[1]
  elseif T.is_tensor(A) and A.ndim == 2 and A.shape[1] == A.shape[2] then
    n = A.shape[1]
  else
    raise("%s: A must be a square matrix (a tensor or a sparse matrix), got %s", who, show(A))
  end
  if y0.ndim < 1 or y0.ndim > 2 or y0.shape[1] ~= n then
    raise("%s: y0 must have shape {%d} or {%d, k} to match A (%d x %d), got %s", who, n, n,
          n, n, S._shape_str(y0))
  end
  if not is_sparse(A) then
    if opts.solver ~= nil then raise("%s: solver options are for a sparse A", who) end
    return dense_ops(A, n), y0.dtype
  end
  local cplx = y0.dtype == "c128" or y0.dtype == "c64"
  if A.dtype == "c128" and not cplx then
    raise("%s: A is complex (c128) but y0 is %s: give a complex state", who, y0.dtype)
  end
  return sparse_ops(who, A, n, opts.solver or {}), cplx and "c128" or "f64"
end

-- --- one step of each method -------------------------------------------------------------

-- theta method from (t, y) over h; s(t) the source or nil
local function theta_step(ops, theta, s, t, y, h)
  local terms, coef = {}, {}
  if theta < 1 then terms[1], coef[1] = ops.apply(y), (1 - theta) * h end
  if s then
    terms[#terms + 1], coef[#coef + 1] = s(t + h), theta * h
    if theta < 1 then terms[#terms + 1], coef[#coef + 1] = s(t), (1 - theta) * h end
  end
  local rhs = #terms > 0 and combine(y, terms, coef) or y
  if theta == 0 then return rhs end
  return ops.solve(theta * h, rhs, y)
end

local G = 2 - math.sqrt(2)          -- gamma
local D = G / 2                     -- the diagonal of both stages
local W = math.sqrt(2) / 4          -- the weight of f0 and f_gamma
-- the BDF2 stage: y1 = (y_gamma - (1 - gamma)^2 y0) / (gamma (2 - gamma)) + d h f1
local B1, B0 = 1 / (G * (2 - G)), -(1 - G) ^ 2 / (G * (2 - G))
-- the error weights: TR-BDF2's (w, w, d) minus the embedded third-order
-- ((1 - w)/3, (3w + 1)/3, d/3)
local E0, EG, E1 = W - (1 - W) / 3, W - (3 * W + 1) / 3, D - D / 3

-- f(t, y) = A y + s(t)
local function rhs_at(ops, s, t, y)
  local f = ops.apply(y)
  if s then f = f + s(t) end
  return f
end

-- TR-BDF2 from (t, y, f0 = f(t, y)) over h: y1, f1, and (est) the filtered
-- error estimate
local function trbdf2_step(ops, s, t, y, f0, h, est)
  local dh = D * h
  local sg = s and s(t + G * h)
  local rg = combine(y, sg and { f0, sg } or { f0 }, sg and { dh, dh } or { dh })
  local yg = ops.solve(dh, rg, y)
  local s1 = s and s(t + h)
  local r1 = combine(yg * B1, s1 and { y, s1 } or { y }, s1 and { B0, dh } or { B0 })
  local y1 = ops.solve(dh, r1, yg)
  local f1 = rhs_at(ops, s, t + h, y1)
  if not est then return y1, f1 end
  local fg = rhs_at(ops, s, t + G * h, yg)
  local e = combine(f0 * (E0 * h), { fg, f1 }, { EG * h, E1 * h })
  return y1, f1, ops.solve(dh, e, T.zeros_like(e))
end

-- --- fixed steps and the adaptive loop ------------------------------------------------------

local function fixed(who, step, y0, t0, t1, te, opts)
  local marks = te
  local sopts = opts
  if te == nil then
    local n = S._step_count(who, t0, t1, opts)
    marks = {}
    for i = 1, n do marks[i] = i == n and t1 or t0 + (t1 - t0) * i / n end
    sopts = { steps = 1 }
  end
  local ts, ys, nsteps = {}, {}, 0
  local t, y = t0, y0
  if te == nil or te[1] == t0 then ts[1], ys[1] = t0, y0 end
  for _, tm in ipairs(marks) do
    if tm ~= t then
      local k = S._step_count(who, t, tm, sopts)
      local h = (tm - t) / k
      for i = 1, k do
        y = step(t, y, h)
        t = i == k and tm or t + h
      end
      nsteps = nsteps + k
      S._check_finite(who, y, ts[#ts] or t0, t)
      ts[#ts + 1], ys[#ys + 1] = t, y
    end
  end
  return ts, ys, nsteps, 0
end

-- TR-BDF2 with its error estimate: steps accepted when the weighted RMS
-- error is <= 1; the next h = 0.9 err^(-1/3) h within [0.2, 5] h.  Output
-- at every step or at t_eval (steps are cut to land on each)
local function adaptive(who, ops, s, y0, t0, t1, te, opts)
  local rtol, atol = S._check_tols(who, opts)
  local dir = t1 > t0 and 1 or -1
  local max_step = opts.max_step or math.huge
  local max_steps = opts.max_steps or 100000
  local h = opts.first_step or 0.01 * math.abs(t1 - t0)
  if not finite(h) or h <= 0 then raise("%s: first_step must be a number > 0, got %s", who, show(h)) end
  local ts, ys = { t0 }, { y0 }
  local nexte = 1
  if te and te[1] ~= t0 then ts, ys = {}, {} elseif te then nexte = 2 end
  local t, y = t0, y0
  local f = rhs_at(ops, s, t, y)
  local nsteps, nrej, rejected, last = 0, 0, false, 0
  while (t1 - t) * dir > 0 and not (te and nexte > #te) do
    h = math.min(h, max_step, math.abs(t1 - t))
    local target = te and te[nexte] or t1
    if math.abs(target - t) <= h * 1.01 then h = math.abs(target - t) end
    if h <= 16 * 2.2e-16 * math.max(math.abs(t), 1e-300) then
      raise("%s: step size underflow at t = %.17g (h = %.3g, last error estimate %s)%s", who, t,
            h, last == last and fmt("%.3g", last) or "NaN",
            last ~= last and ": A y + source(t) gives NaN or inf" or "")
    end
    if nsteps + nrej >= max_steps then
      raise("%s: more than max_steps = %d steps before t = %.6g (reached t = %.6g)", who,
            max_steps, t1, t)
    end
    local tn = (math.abs(target - t) == h) and target or t + dir * h
    local y1, f1, est = trbdf2_step(ops, s, t, y, f, tn - t, true)
    local err = errnorm(y, y1, { est }, { 1 }, atol, rtol)
    last = err
    if err <= 1 then
      nsteps = nsteps + 1
      t, y, f = tn, y1, f1
      S._check_finite(who, y, ts[#ts] or t0, t)
      if not te or t == te[nexte] then
        ts[#ts + 1], ys[#ys + 1] = t, y
        if te then nexte = nexte + 1 end
      end
    else
      nrej = nrej + 1
    end
    local fac = err == 0 and 5 or (err == err and 0.9 * err ^ (-1 / 3) or 0.2)
    fac = math.max(0.2, math.min(rejected and 1 or 5, fac))
    rejected = not (err <= 1)
    h = h * fac
  end
  return ts, ys, nsteps, nrej
end

-- --- the stability limit of theta < 1/2 -------------------------------------------------------
-- The theta method is A-stable for theta >= 1/2.  Below, a real negative
-- eigenvalue lambda needs h |lambda| <= 2 / (1 - 2 theta), and |lambda| is at
-- most rho = max_i sum_j |a_ij| (Gershgorin): h above 2 / ((1 - 2 theta)
-- rho) is warned about, naming the limit (the Laplacian's rho is its exact
-- spectral radius, so forward Euler on the heat equation is warned at its
-- true limit).
P._warn = function(msg) warn(msg) end

local function row_bound(A)
  if T.is_tensor(A) then
    local r = A:abs():sum(2):max()
    return T.is_tensor(r) and r:item() or r
  end
  local r, c, v = A:triplets()
  if r:numel() == 0 then return 0 end
  return sparse.csr(r, c, v:abs(), A.shape):matmul(T.ones(A.shape[2])):max():item()
end

local function stability_check(A, theta)
  if theta >= 0.5 then return function() end end
  local rho = row_bound(A)
  local limit = rho > 0 and 2 / ((1 - 2 * theta) * rho) or math.huge
  local warned = false
  return function(h)
    if warned or math.abs(h) <= limit then return end
    warned = true
    P._warn(fmt("ode.implicit: dt = %g is above the stability limit 2/((1 - 2 theta) rho) = %.6g "
                .. "of the theta method with theta = %g (rho = %g bounds the eigenvalues of A; "
                .. "theta >= 1/2 is stable at any dt)", math.abs(h), limit, theta, rho))
  end
end

-- --- ode.implicit ------------------------------------------------------------------------------

function P.implicit(A, y0, t_span, opts)
  local who = "ode.implicit"
  opts = E.checkopts(who, opts, implicit_opts)
  S._check_state(who, y0, "y0")
  local ops, wdtype = operator(who, A, y0, opts)
  local t0, t1 = S._check_span(who, t_span)
  local te = S._check_t_eval(who, opts.t_eval, t0, t1)
  local method = opts.method or "theta"
  if method ~= "theta" and method ~= "trbdf2" then
    raise("%s: method must be \"theta\" or \"trbdf2\", got %s", who, show(method))
  end
  local theta = opts.theta or 1
  if method == "trbdf2" and opts.theta ~= nil then raise("%s: theta is for method \"theta\"", who) end
  if not finite(theta) or theta < 0 or theta > 1 then
    raise("%s: theta must be in [0, 1], got %s", who, show(theta))
  end
  local s
  if opts.source ~= nil then
    S._check_fn(who, opts.source, "source")
    local src = opts.source
    local call = S._checked_rhs(who, function(t) return src(t) end, y0, "source(t)")
    s = wdtype == y0.dtype and call or function(t) return call(t):astype(wdtype) end
  end
  local y = wdtype == y0.dtype and y0 or y0:astype(wdtype)
  local fixed_steps = opts.dt ~= nil or opts.steps ~= nil
  local ts, ys, nsteps, nrej
  if method == "theta" or fixed_steps then
    local step
    if method == "theta" then
      local stable = stability_check(A, theta)
      step = function(t, x, h)
        stable(h)
        return theta_step(ops, theta, s, t, x, h)
      end
    else   -- f(t + h, y1) of a step is f0 of the next
      local last_y, last_f
      step = function(t, x, h)
        local f0 = rawequal(x, last_y) and last_f or rhs_at(ops, s, t, x)
        last_y, last_f = trbdf2_step(ops, s, t, x, f0, h)
        return last_y
      end
    end
    if method == "theta" and not fixed_steps then raise("%s: the theta method needs dt or steps", who) end
    ts, ys, nsteps, nrej = fixed(who, step, y, t0, t1, te, opts)
  else
    ts, ys, nsteps, nrej = adaptive(who, ops, s, y, t0, t1, te, opts)
  end
  if wdtype ~= y0.dtype then
    for i = 1, #ys do ys[i] = ys[i]:astype(y0.dtype) end
  end
  return { t = T.tensor(ts), y = S._stack(ys), y_final = ys[#ys], status = "done",
           nsteps = nsteps, nrejected = nrej, iterations = ops.iterations }
end
doc(P.implicit, "ode.implicit(A, y0, t_span, opts)\n\nThe stiff linear system dy/dt = "
  .. "A y + source(t).  A: a square tensor, or a sparse matrix (hebb.sparse: the "
  .. "solves are sparse.solve's, BiCGSTAB with ILU(0) in C; solver = {method=, "
  .. "precond=, tol=1e-12, maxiter=} tunes them); y0 {n} or {n, k}, any float dtype "
  .. "(a sparse A solves an f32 or c64 state in double).  opts.method: \"theta\" "
  .. "(default; theta = 1 backward Euler, L-stable, first order; 1/2 "
  .. "Crank-Nicolson, second order; needs dt= or steps=) or \"trbdf2\" (TR-BDF2: "
  .. "second order and L-stable; with dt= or steps= fixed steps, else adaptive "
  .. "from its embedded error estimate: rtol=1e-6, atol=1e-9, first_step=, "
  .. "max_step=, max_steps=1e5).  source(t): a tensor of y0's shape; t_eval: "
  .. "output times.  Returns {t, y (stacked), y_final, nsteps, nrejected, "
  .. "iterations (of the sparse solves)}.  Differentiable through the steps: "
  .. "with respect to y0 and the source, and to A when it is dense.")

return P
