-- hebb._nn_loss: the loss functions of hebb.nn and their module forms.
--
-- Each loss is a few tensor operations (so autograd differentiates it) in
-- a form that cannot overflow: cross-entropy is logsumexp (stable: shifted
-- by the row maximum) minus the label's logit, the
-- logistic loss uses softplus, logs of probabilities are clamped at -100
-- as torch does.  A custom loss is just a Lua function of tensors.
local E = require "hebb._error"
local T = require "hebb.tensor"
local B = require "hebb._nn_module"
local doc = require("hebb").doc

local Ls = {}
local fmt = string.format
local shape_str = B._shape_str
local detach = B._detach

-- the options each loss takes
local loss_keys = { reduction = true }
local keys_of = {
  kl_div = { reduction = true, log_target = true },
  huber_loss = { reduction = true, delta = true },
}

local function check_opts(name, opts)
  return E.checkopts("nn." .. name, opts, keys_of[name] or loss_keys)
end

local function reduce(l, opts, what, default)
  local r = opts and opts.reduction or default or "mean"
  if r == "mean" then return l:mean()
  elseif r == "sum" then return l:sum()
  elseif r == "none" then return l
  elseif r == "batchmean" and default == "batchmean" then
    local n = l.ndim >= 2 and l.shape[1] or 1
    return l:sum() / n
  end
  E.raise("%s: reduction must be %s, got %s", what,
            default == "batchmean" and "\"batchmean\", \"mean\", \"sum\" or \"none\""
            or "\"mean\", \"sum\" or \"none\"", E.show(r))
end

local function check_tensor(x, what, arg)
  if not T.is_tensor(x) then
    E.raise("%s: %s must be a tensor, got %s", what, arg, E.show(x))
  end
end

-- pred and target (a tensor of pred's shape, or a number)
local function check_pair(pred, target, what)
  check_tensor(pred, what, "the prediction")
  if type(target) == "number" then return end
  check_tensor(target, what, "the target")
  if shape_str(pred) ~= shape_str(target) then
    E.raise("%s: the prediction has shape %s, the target %s (they must agree)", what,
              shape_str(pred), shape_str(target))
  end
end

-- labels: an i64 tensor (N) of class numbers 1..C for scores x (N, C);
-- the range is left to the C kernel when it checks it (no_range)
local function check_labels(x, labels, what, no_range)
  check_tensor(x, what, "the scores")
  check_tensor(labels, what, "the labels")
  if x.ndim ~= 2 then
    E.raise("%s: the scores must have shape (N, C), got %s", what, shape_str(x))
  end
  if labels.dtype ~= "i64" then
    E.raise("%s: the labels must be an i64 tensor of class numbers, got dtype %s", what,
              labels.dtype)
  end
  local N, C = x:size(1), x:size(2)
  if labels.ndim ~= 1 or labels:size(1) ~= N then
    E.raise("%s: the labels must have shape {%d} (one per row of the scores), got %s",
              what, N, shape_str(labels))
  end
  if N == 0 or no_range then return end
  local lo, hi = labels:min(), labels:max()
  if lo < 1 or hi > C then
    local bad = lo < 1 and lo or hi
    local pos = labels:eq(bad):astype("i64"):argmax()
    E.raise("%s: label %d at position %d is outside 1..%d", what, bad, pos, C)
  end
end

-- --- the losses ------------------------------------------------------------------------

-- the end of every loss's docstring
local red = "  opts.reduction: \"mean\" (default), \"sum\" or \"none\" (the per-element "
  .. "or per-sample losses)."

function Ls.mse_loss(pred, target, opts)
  check_opts("mse_loss", opts)
  check_pair(pred, target, "nn.mse_loss")
  local d = pred - target
  return reduce(d * d, opts, "nn.mse_loss")
end
doc(Ls.mse_loss, "nn.mse_loss(pred, target [, {reduction=\"mean\"}])\n\nThe mean "
  .. "squared error (pred - target)^2; pred and target have one shape." .. red)

function Ls.l1_loss(pred, target, opts)
  check_opts("l1_loss", opts)
  check_pair(pred, target, "nn.l1_loss")
  return reduce((pred - target):abs(), opts, "nn.l1_loss")
end
doc(Ls.l1_loss, "nn.l1_loss(pred, target [, {reduction=\"mean\"}])\n\nThe mean "
  .. "absolute error |pred - target|." .. red)

function Ls.nll_loss(logp, labels, opts)
  check_opts("nll_loss", opts)
  check_labels(logp, labels, "nn.nll_loss")
  local N = logp.shape[1]
  return reduce(-logp:gather(2, labels:view(N, 1)):view(N), opts, "nn.nll_loss")
end
doc(Ls.nll_loss, "nn.nll_loss(logp, labels [, {reduction=\"mean\"}])\n\n"
  .. "-logp[i][labels[i]] averaged over the rows: logp (N, C) log-probabilities, "
  .. "labels an i64 tensor (N) of class numbers 1..C." .. red)

function Ls.cross_entropy(logits, labels, opts)
  check_opts("cross_entropy", opts)
  check_labels(logits, labels, "nn.cross_entropy", true)
  -- logsumexp(z_i) - z_i[label], fused in C (T.cross_entropy): one pass
  -- per row forward and backward
  if logits.dtype ~= "f64" and logits.dtype ~= "f32" then logits = logits:astype("f64") end
  -- the kernel checks the labels' range: its message, at the user's line
  local ok, l
  if opts == nil or opts.reduction == nil or opts.reduction == "mean" then
    -- the mean in the same call and one recorded op; the rows'
    -- log-normalizers kept for the backward
    ok, l = pcall(T._cross_entropy_mean, logits, labels, {})
    if not ok then E.raise("nn." .. E.bare(l):gsub("^_cross_entropy_mean", "cross_entropy")) end
    return l
  end
  ok, l = pcall(T.cross_entropy, logits, labels)
  if not ok then E.raise("nn." .. E.bare(l)) end
  return reduce(l, opts, "nn.cross_entropy")
end
doc(Ls.cross_entropy, "nn.cross_entropy(logits, labels [, {reduction=\"mean\"}])"
  .. "\n\nThe softmax cross-entropy from unnormalized scores logits (N, C) and "
  .. "i64 labels (N) in 1..C: logsumexp(logits[i]) - logits[i][labels[i]], "
  .. "computed with a stable logsumexp and a gather." .. red)

-- log clamped at -100, so p = 0 or 1 give a finite loss (torch's choice)
local function clamped_log(p) return T.clamp(p:log(), -100, nil) end

function Ls.bce_loss(p, target, opts)
  check_opts("bce_loss", opts)
  check_pair(p, target, "nn.bce_loss")
  local pd = detach(p)
  if pd:numel() > 0 then
    local lo, hi = pd:min(), pd:max()
    if not (lo >= 0 and hi <= 1) then
      E.raise("nn.bce_loss: the probabilities must lie in [0, 1], got values from %g to %g "
                .. "(use nn.bce_with_logits for scores)", lo, hi)
    end
  end
  local l = -(target * clamped_log(p) + (1 - target) * clamped_log(1 - p))
  return reduce(l, opts, "nn.bce_loss")
end
doc(Ls.bce_loss, "nn.bce_loss(p, target [, {reduction=\"mean\"}])\n\nThe binary "
  .. "cross-entropy -(t log p + (1 - t) log(1 - p)) for probabilities p in "
  .. "[0, 1] (logs clamped at -100).  For scores use nn.bce_with_logits." .. red)

-- -[t log s(z) + (1-t) log(1 - s(z))] = softplus(z) - t z
function Ls.bce_with_logits(z, target, opts)
  check_opts("bce_with_logits", opts)
  check_pair(z, target, "nn.bce_with_logits")
  return reduce(T.softplus(z) - target * z, opts, "nn.bce_with_logits")
end
doc(Ls.bce_with_logits, "nn.bce_with_logits(z, target [, {reduction=\"mean\"}])"
  .. "\n\nThe binary cross-entropy of p = sigmoid(z), computed as softplus(z) - "
  .. "t z: no overflow for any z." .. red)

-- sum p (log p - log q), with 0 log 0 = 0; target p, or log p with log_target
function Ls.kl_div(logq, p, opts)
  check_opts("kl_div", opts)
  check_tensor(p, "nn.kl_div", "the target")
  check_pair(logq, p, "nn.kl_div")
  local l
  if opts and opts.log_target then
    local pe = p:exp()
    l = pe * (T.where(pe:gt(0), p, 0) - logq)     -- log p = -inf counts as 0
  else
    local safe = T.where(p:gt(0), p, 1)
    l = p * (safe:log() - logq)
  end
  return reduce(l, opts, "nn.kl_div", "batchmean")
end
doc(Ls.kl_div, "nn.kl_div(logq, p [, {reduction=\"batchmean\", log_target=false}])"
  .. "\n\nThe Kullback-Leibler divergence sum p (log p - log q) from log-"
  .. "probabilities logq and probabilities p (log p with log_target), with "
  .. "0 log 0 = 0.  \"batchmean\" (default) divides the sum by the batch size "
  .. "(first dimension; 1 for a single distribution), the true mean KL per "
  .. "sample; also \"sum\", \"mean\" (per element) and \"none\".")

-- 0.5 d^2 for |d| <= delta, delta (|d| - delta/2) beyond, written as
-- 0.5 q^2 + delta (|d| - q) with q = min(|d|, delta): no branch
function Ls.huber_loss(pred, target, delta, opts)
  if type(delta) == "table" then delta, opts = opts and opts.delta or delta.delta, delta end
  delta = delta or 1.0
  check_opts("huber_loss", opts)
  check_pair(pred, target, "nn.huber_loss")
  E.num("nn.huber_loss", "delta", delta, 0, true)
  local a = (pred - target):abs()
  local q = T.clamp(a, nil, delta)
  return reduce(0.5 * q * q + delta * (a - q), opts, "nn.huber_loss")
end
doc(Ls.huber_loss, "nn.huber_loss(pred, target [, delta=1] [, {reduction=\"mean\"}])"
  .. "\n\nThe Huber loss of d = pred - target: d^2/2 where |d| <= delta, "
  .. "delta (|d| - delta/2) beyond (quadratic near 0, linear for outliers)." .. red)

-- --- module forms ---------------------------------------------------------------------------

local forms = {
  { "MSELoss", "mse_loss" }, { "L1Loss", "l1_loss" }, { "NLLLoss", "nll_loss" },
  { "CrossEntropyLoss", "cross_entropy" }, { "BCELoss", "bce_loss" },
  { "BCEWithLogitsLoss", "bce_with_logits" }, { "KLDivLoss", "kl_div" },
}
for _, f in ipairs(forms) do
  local cls = B.Module:extend(f[1])
  local fn = Ls[f[2]]
  function cls:__init(opts) self.opts = check_opts(f[2], opts) end
  function cls:forward(a, b) return fn(a, b, self.opts) end
  function cls:extra_repr()
    return self.opts.reduction and ("reduction=" .. self.opts.reduction) or ""
  end
  Ls[f[1]] = cls
  doc(cls, fmt("nn.%s([{reduction=}])\n\nnn.%s as a module: loss(a, b).", f[1], f[2]))
end

local HuberLoss = B.Module:extend("HuberLoss")
Ls.HuberLoss = HuberLoss
function HuberLoss:__init(delta, opts)
  if type(delta) == "table" then delta, opts = delta.delta, delta end
  self.delta = E.num("nn.HuberLoss", "delta", delta or 1.0, 0, true)
  self.opts = check_opts("huber_loss", opts)
end
doc(HuberLoss, "nn.HuberLoss([delta=1] [, {reduction=}])\n\nnn.huber_loss as a module.")
function HuberLoss:forward(a, b) return Ls.huber_loss(a, b, self.delta, self.opts) end
function HuberLoss:extra_repr() return fmt("delta=%g", self.delta) end

return Ls
