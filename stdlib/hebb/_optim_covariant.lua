-- hebb._optim_covariant: covariant gradient descent (Guskov & Vanchurin,
-- arXiv:2504.05279) for hebb.optim, with its functional form optim.cgd.
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._optim"
local B = require "hebb._optim_base"
local doc = require("hebb").doc

local M = {}
local new, class, Optimizer = B._new, B._class, B._Optimizer
local flatten, unflatten = B._flatten, B._unflatten
local fmtv, is_tensor = E.show, T.is_tensor

-- --- covariant gradient descent ----------------------------------------

local CovariantGD = class("CovariantGD")
CovariantGD._spec = {
  { "lr", 1e-3, "nonneg" }, { "tau1", 9, "nonneg" }, { "tau2", 999, "nonneg" },
  { "eps", 1e-8, "nonneg" }, { "metric", "diag", "any" }, { "moment", "second", "any" },
  { "power", 0.5, "nonneg" }, { "bias_correction", true, "bool" },
}

function M.CovariantGD(params, opts)
  local self = new(CovariantGD, params, opts)
  local m = self.metric
  if type(m) ~= "function" and m ~= "identity" and m ~= "diag" and m ~= "full" then
    E.raise("optim.CovariantGD: unknown metric %s (identity, diag, full or a function)",
      fmtv(m))
  end
  if self.moment ~= "second" and self.moment ~= "covariance" then
    E.raise("optim.CovariantGD: unknown moment %s (second or covariance)", fmtv(self.moment))
  end
  if self.moment == "covariance" and m ~= "full" then
    E.raise("optim.CovariantGD: moment = \"covariance\" needs metric = \"full\" (metric = %s)",
      fmtv(m))
  end
  if m == "full" or type(m) == "function" then
    local dt = self.params[1].dtype
    for i, p in ipairs(self.params) do
      if p.dtype ~= dt then
        E.raise("optim.CovariantGD: metric %s flattens all parameters into one vector: "
          .. "params[%d] is %s, params[1] %s", fmtv(m), i, p.dtype, dt)
      end
    end
  end
  return self
end
doc(M.CovariantGD, "optim.CovariantGD(params [, {lr=1e-3, tau1=9, tau2=999, eps=1e-8, "
  .. "metric=\"diag\", power=0.5, moment=\"second\", bias_correction=true}])\n\nCovariant "
  .. "gradient descent (Guskov & Vanchurin, arXiv:2504.05279): dq = -lr G^-1 F with averages "
  .. "<f>_t = f/(1+tau) + tau/(1+tau) <f>_{t-1} of the gradient (M1, tau1) and its second moment "
  .. "(M2, tau2), force F = M1/(1-beta1^t), beta = tau/(1+tau).  metric: \"identity\" (G = 1), "
  .. "\"diag\" (G = (M2/(1-beta2^t))^power + eps elementwise: power 1/2 is Adam with "
  .. "betas = tau/(1+tau)), \"full\" (all parameters as one vector of n elements, G = M^power + "
  .. "eps I with M the n x n second moment or, moment = \"covariance\", the average of d d^T, "
  .. "d = g - M1 (bias-corrected by 1-beta2^t), its eigenvalues floored at w_max/(1+tau2); "
  .. "power 0 gives the identity; for small models), or a function(state) returning an n x n matrix, "
  .. "a vector (diagonal metric) or a function F -> G^-1 F; state has step, grad, m1, m2 (the "
  .. "diagonal second moment), m2hat, force, bc1, bc2, n, params." .. B._doc_grads)

-- the averaging weights: <f>_t = f/(1+tau) + tau/(1+tau) <f>_{t-1}
local function weights(tau) return 1 / (1 + tau), tau / (1 + tau) end

-- the bias corrections 1 - beta^t (1 when switched off)
local function corrections(self, t)
  if not self.bias_correction then return 1, 1 end
  local _, o1 = weights(self.tau1)
  local _, o2 = weights(self.tau2)
  return 1 - o1 ^ t, 1 - o2 ^ t
end

function CovariantGD:_update(i, p, g)
  local hp, st = self._hp, self.state[i]
  if not st then
    st = { step = 0, m1 = T.zeros_like(p) }
    if self.metric == "diag" then st.m2 = T.zeros_like(p) end
    self.state[i] = st
  end
  st.step = st.step + 1
  hp.name, hp.lr, hp.eps, hp.power = self._names[i], self.lr, self.eps, self.power
  hp.new1, hp.beta1 = weights(self.tau1)
  hp.new2, hp.beta2 = weights(self.tau2)
  hp.bc1, hp.bc2 = corrections(self, st.step)
  hp.diag = self.metric == "diag"
  C.cgd(p, g, hp, st.m1, st.m2)
end

-- G^-1 F for the full metric G = M^a + eps I, through M = V diag(w) V^T.
-- An eigenvalue below n2 w_max (n2 = 1/(1 + tau2), the weight one fresh
-- gradient gets in the average) is a direction the gradients have carried
-- less weight along, over the whole memory, than one gradient of the
-- largest size would: the average cannot resolve it, and raw it let
-- 1/sqrt(w) amplify the force there ~1e5-fold on a 10-d quadratic (the
-- energy stalled near 1e-8 while Adam reached 1e-20).  So w is floored
-- there; the step along the leading direction is unchanged.  V^T F and a
-- scaling, instead of forming G and an LU solve, keep each direction exact.
local function full_step(M, F, a, eps, n2)
  if a == 0 then return F / (1 + eps) end
  local w, V = require("hebb.linalg").eigh((M + M:t()) * 0.5)
  w = T.clamp(w, math.max(w:max(), 0) * n2)
  if a ~= 1 then w = w ^ a end
  return V:matmul(V:t():matmul(F) / (w + eps))
end

-- the n x n moment of the full metric.  "covariance" averages the outer
-- product of the fluctuation g - M1 about the running (uncorrected) mean,
-- AdaBelief's form: positive semidefinite, and F lies in its range (g_t
-- enters d_t = g_t - M1_t with weight tau1/(1+tau1) > 0).  M2hat - F F^T
-- was exactly 0 at step 1 (both corrected to the one gradient), so the
-- first step was F / eps (energy 3e20), and F stayed outside its range.
local function full_moment(self, st, g, n2, o2)
  local d = g
  if self.moment == "covariance" then d = g - st.m1 end
  st.m2 = T.outer(d, d) * n2 + st.m2 * o2
end

local function apply_flat(self, grads)
  for i in ipairs(self.params) do
    if not grads[i] then
      E.raise("%s: metric %s needs the gradient of every parameter; params[%d] has none",
        self._who, fmtv(self.metric), i)
    end
  end
  local linalg = require "hebb.linalg"
  local g = flatten(grads)
  local n = g:numel()
  local st = self.state.flat
  if not st then
    st = { step = 0, m1 = T.zeros_like(g) }
    st.m2 = self.metric == "full" and T.zeros(n, n, { dtype = g.dtype }) or T.zeros_like(g)
    self.state.flat = st
  end
  st.step = st.step + 1
  local n1, o1 = weights(self.tau1)
  local n2, o2 = weights(self.tau2)
  local bc1, bc2 = corrections(self, st.step)
  st.m1 = g * n1 + st.m1 * o1
  local F = st.m1 / bc1
  local dq
  if self.metric == "full" then
    full_moment(self, st, g, n2, o2)
    dq = full_step(st.m2 / bc2, F, self.power, self.eps, n2) * self.lr
  else
    st.m2 = g * g * n2 + st.m2 * o2
    -- info.grad goes to the user's function, and with one parameter it is
    -- a view of p.grad: read publicly, so that autograd counts the buffer
    -- as lent and never writes a later gradient over it
    for _, p in ipairs(self.params) do local _ = p.grad end
    local info = { step = st.step, grad = g, m1 = st.m1, m2 = st.m2, force = F,
                   m2hat = st.m2 / bc2, bc1 = bc1, bc2 = bc2, params = self.params, n = n }
    local r = self.metric(info)
    if type(r) == "function" then
      dq = r(F)
    elseif is_tensor(r) and r.ndim == 2 and r.shape[1] == n and r.shape[2] == n then
      dq = linalg.solve(r, F)
    elseif is_tensor(r) and r:numel() == n then
      dq = F / r:reshape(-1)
    else
      E.raise("%s: the metric function must return an %d x %d matrix, a vector of %d "
        .. "elements or a function applying the inverse metric; got %s", self._who, n, n, n,
        is_tensor(r) and ("a tensor of shape {" .. table.concat(r:size(), ",") .. "}") or type(r))
    end
    if not is_tensor(dq) or dq:numel() ~= n then
      E.raise("%s: the inverse metric applied to the force must give %d elements, got %s",
        self._who, n, is_tensor(dq) and tostring(dq:numel()) or type(dq))
    end
    dq = dq:reshape(-1) * self.lr
  end
  unflatten(self.params, dq, "sub_")
end

function CovariantGD:_apply(grads)
  if self.metric == "diag" or self.metric == "identity" then
    return Optimizer._apply(self, grads)
  end
  return apply_flat(self, grads)
end

M.cgd = B._functional_form("cgd", M.CovariantGD, "CovariantGD")

return M
