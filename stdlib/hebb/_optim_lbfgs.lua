-- hebb._optim_lbfgs: limited-memory BFGS with a strong Wolfe line search
-- (torch's algorithm) for hebb.optim, with its functional form optim.lbfgs.
local E = require "hebb._error"
local T = require "hebb.tensor"
local B = require "hebb._optim_base"
local doc = require("hebb").doc

local M = {}
local new, class, no_grad = B._new, B._class, B._no_grad
local call_closure, gradients, tonum = B._call_closure, B._gradients, B._tonum
local flatten, unflatten = B._flatten, B._unflatten
local fmtv = E.show
local floor, sqrt = math.floor, math.sqrt

-- --- L-BFGS -------------------------------------------------------------

local LBFGS = class("LBFGS")
LBFGS._spec = {
  { "lr", 1, "pos" }, { "max_iter", 20, "int" }, { "max_eval", nil, "int" },
  { "tolerance_grad", 1e-7, "nonneg" }, { "tolerance_change", 1e-9, "nonneg" },
  { "history_size", 10, "int" }, { "line_search", "strong_wolfe", "any" },
}

function M.LBFGS(params, opts)
  local self = new(LBFGS, params, opts)
  if self.line_search ~= "strong_wolfe" and self.line_search ~= "none" then
    E.raise("optim.LBFGS: unknown line_search %s (strong_wolfe or none)",
      fmtv(self.line_search))
  end
  self.max_eval = self.max_eval or floor(self.max_iter * 5 / 4)
  local dt = self.params[1].dtype
  for i, p in ipairs(self.params) do
    if p.dtype ~= dt then
      E.raise("optim.LBFGS: all parameters must share a dtype: params[%d] is %s, params[1] %s",
        i, p.dtype, dt)
    end
  end
  return self
end
doc(M.LBFGS, "optim.LBFGS(params [, {lr=1, max_iter=20, max_eval=max_iter*5/4, "
  .. "tolerance_grad=1e-7, tolerance_change=1e-9, history_size=10, "
  .. "line_search=\"strong_wolfe\"}])\n\nLimited-memory BFGS (torch's algorithm): each "
  .. "opt:step(closure) runs up to max_iter iterations, with the two-loop recursion over the "
  .. "last history_size (s, y) pairs and a strong Wolfe line search (c1 = 1e-4, c2 = 0.9, "
  .. "cubic interpolation), or a fixed step lr with line_search = \"none\".  The closure "
  .. "computes the loss and its gradient; step returns the first loss, opt.history lists "
  .. "the losses of the iterations, opt.state.n_iter and func_evals count.  All parameters "
  .. "must share a dtype.")

local function dot(a, b) return T.dot(a, b):item() end
local function maxabs(a) return a:abs():max() end

-- sets the parameters to the flat vector x
local function set_flat(self, x) no_grad(unflatten, self.params, x, "copy_") end

-- the closure's loss (a number) and the flat gradient (a new tensor)
local function evaluate(self, closure)
  local loss, given = call_closure(closure)
  local grads = gradients(self, given)
  for i, p in ipairs(self.params) do
    if not grads[i] then grads[i] = T.zeros_like(p) end
  end
  return tonum(loss), flatten(grads):clone()
end

-- the minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2),
-- clamped to [lo, hi] (default: between x1 and x2)
local function cubic_min(x1, f1, g1, x2, f2, g2, lo, hi)
  if not lo then lo, hi = math.min(x1, x2), math.max(x1, x2) end
  local d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
  local d2sq = d1 * d1 - g1 * g2
  if d2sq >= 0 then
    local d2 = sqrt(d2sq)
    local x
    if x1 <= x2 then x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2)) end
    if x ~= x then return (lo + hi) / 2 end
    return math.min(math.max(x, lo), hi)
  end
  return (lo + hi) / 2
end

-- The strong Wolfe line search along d from x (loss f, gradient g, slope
-- gtd): a bracketing phase that extrapolates by cubic steps, then a zoom
-- that shrinks the bracket (More & Thuente's conditions, sufficient
-- decrease c1 = 1e-4 and curvature c2 = 0.9).  Returns f, g, t, evals.
local function strong_wolfe(self, closure, x, t, d, f, g, gtd)
  local c1, c2, max_ls, tol = 1e-4, 0.9, 25, self.tolerance_change
  local dnorm = maxabs(d)
  local function at(s)
    set_flat(self, x + d * s)
    return evaluate(self, closure)
  end
  local f_new, g_new = at(t)
  local evals, gtd_new = 1, dot(g_new, d)
  local t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
  local done, ls_iter = false, 0
  local br, bf, bg, bgtd
  while ls_iter < max_ls do
    if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev) then
      br, bf, bg, bgtd = { t_prev, t }, { f_prev, f_new }, { g_prev, g_new }, { gtd_prev, gtd_new }
      break
    end
    if math.abs(gtd_new) <= -c2 * gtd then
      br, bf, bg, bgtd = { t }, { f_new }, { g_new }, { gtd_new }
      done = true
      break
    end
    if gtd_new >= 0 then
      br, bf, bg, bgtd = { t_prev, t }, { f_prev, f_new }, { g_prev, g_new }, { gtd_prev, gtd_new }
      break
    end
    local lo, hi, t0 = t + 0.01 * (t - t_prev), t * 10, t
    t = cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, lo, hi)
    t_prev, f_prev, g_prev, gtd_prev = t0, f_new, g_new, gtd_new
    f_new, g_new = at(t)
    evals, gtd_new, ls_iter = evals + 1, dot(g_new, d), ls_iter + 1
  end
  if ls_iter == max_ls then
    br, bf, bg, bgtd = { 0, t }, { f, f_new }, { g, g_new }, { gtd, gtd_new }
  end
  local insuf = false
  local lo, hi = 1, #br
  if bf[1] > bf[#bf] then lo, hi = 2, 1 end
  while not done and ls_iter < max_ls do
    if math.abs(br[2] - br[1]) * dnorm < tol then break end
    t = cubic_min(br[1], bf[1], bgtd[1], br[2], bf[2], bgtd[2])
    local bmax, bmin = math.max(br[1], br[2]), math.min(br[1], br[2])
    local e = 0.1 * (bmax - bmin)
    if math.min(bmax - t, t - bmin) < e then
      if insuf or t >= bmax or t <= bmin then
        t = math.abs(t - bmax) < math.abs(t - bmin) and bmax - e or bmin + e
        insuf = false
      else
        insuf = true
      end
    else
      insuf = false
    end
    f_new, g_new = at(t)
    evals, gtd_new, ls_iter = evals + 1, dot(g_new, d), ls_iter + 1
    if f_new > f + c1 * t * gtd or f_new >= bf[lo] then
      br[hi], bf[hi], bg[hi], bgtd[hi] = t, f_new, g_new, gtd_new
      if bf[1] <= bf[2] then lo, hi = 1, 2 else lo, hi = 2, 1 end
    else
      if math.abs(gtd_new) <= -c2 * gtd then
        done = true
      elseif gtd_new * (br[hi] - br[lo]) >= 0 then
        br[hi], bf[hi], bg[hi], bgtd[hi] = br[lo], bf[lo], bg[lo], bgtd[lo]
      end
      br[lo], bf[lo], bg[lo], bgtd[lo] = t, f_new, g_new, gtd_new
    end
  end
  return bf[lo], bg[lo], br[lo], evals
end

-- one call: up to max_iter L-BFGS iterations (torch's LBFGS.step)
function LBFGS:step(closure)
  if type(closure) ~= "function" then
    E.raise(self._who .. ":step needs a closure that computes the loss and its gradient")
  end
  local st = self.state
  st.func_evals = st.func_evals or 0
  st.n_iter = st.n_iter or 0
  local loss, g = evaluate(self, closure)
  local orig_loss = loss
  local evals = 1
  st.func_evals = st.func_evals + 1
  self.history = { loss }
  if maxabs(g) <= self.tolerance_grad then return orig_loss end
  local d, t = st.d, st.t
  local dirs, stps, ro = st.old_dirs or {}, st.old_stps or {}, st.ro or {}
  local H = st.H_diag or 1
  local prev_g, prev_loss = st.prev_flat_grad, st.prev_loss
  local n_iter = 0
  do   -- the parameters change only through set_flat (under no_grad)
    while n_iter < self.max_iter do
      n_iter = n_iter + 1
      st.n_iter = st.n_iter + 1
      if st.n_iter == 1 then
        d = -g
        dirs, stps, ro, H = {}, {}, {}, 1
      else
        local y = g - prev_g
        local s = d * t
        local ys = dot(y, s)
        if ys > 1e-10 then
          if #dirs == self.history_size then
            table.remove(dirs, 1); table.remove(stps, 1); table.remove(ro, 1)
          end
          dirs[#dirs + 1], stps[#stps + 1], ro[#ro + 1] = y, s, 1 / ys
          H = ys / dot(y, y)
        end
        -- the two-loop recursion: d = -H_k g
        local k, al = #dirs, {}
        local q = -g
        for i = k, 1, -1 do
          al[i] = dot(stps[i], q) * ro[i]
          q = q - dirs[i] * al[i]
        end
        local r = q * H
        for i = 1, k do
          local be = dot(dirs[i], r) * ro[i]
          r = r + stps[i] * (al[i] - be)
        end
        d = r
      end
      prev_g, prev_loss = g, loss
      if st.n_iter == 1 then
        t = math.min(1, 1 / g:abs():sum()) * self.lr
      else
        t = self.lr
      end
      local gtd = dot(g, d)
      if gtd > -self.tolerance_change then break end
      local ls_evals
      if self.line_search == "strong_wolfe" then
        local x0 = flatten(self.params):clone()
        loss, g, t, ls_evals = strong_wolfe(self, closure, x0, t, d, loss, g, gtd)
        set_flat(self, x0 + d * t)
      else
        set_flat(self, flatten(self.params) + d * t)
        ls_evals = 0
        if n_iter ~= self.max_iter then
          loss, g = evaluate(self, closure)
          ls_evals = 1
        end
      end
      evals = evals + ls_evals
      st.func_evals = st.func_evals + ls_evals
      self.history[#self.history + 1] = loss
      if n_iter == self.max_iter or evals >= self.max_eval then break end
      if maxabs(g) <= self.tolerance_grad then break end
      if maxabs(d) * math.abs(t) <= self.tolerance_change then break end
      if math.abs(loss - prev_loss) < self.tolerance_change then break end
    end
  end
  st.d, st.t, st.old_dirs, st.old_stps, st.ro = d, t, dirs, stps, ro
  st.H_diag, st.prev_flat_grad, st.prev_loss = H, prev_g, prev_loss
  return orig_loss
end

function LBFGS:update()
  E.raise(self._who .. ": L-BFGS evaluates the objective several times per step; use step(closure)")
end

M.lbfgs = B._functional("lbfgs", M.LBFGS)
doc(M.lbfgs, "optim.lbfgs(opfunc, x [, config [, state]])\n\nTorch7's functional L-BFGS: "
  .. "one call runs up to config.max_iter iterations of optim.LBFGS on x; returns x and the "
  .. "list of losses along the iterations.")

return M
