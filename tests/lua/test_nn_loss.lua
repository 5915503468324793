-- test_nn_loss.lua -- hebb.nn losses (stdlib/hebb/_nn_loss.lua): values
-- against hand computations with Lua's math library, stability for extreme
-- inputs, reductions, module forms, gradients by finite differences, errors.
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local autograd = require "hebb.autograd"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local function num(v) return type(v) == "number" and v or v:item() end

test("mse_l1", function()
  local p, t = T.tensor { { 1, 2 }, { 3, 5 } }, T.tensor { { 0, 2 }, { 5, 1 } }
  near(nn.mse_loss(p, t), (1 + 0 + 4 + 16) / 4, 1e-15)
  near(nn.mse_loss(p, t, { reduction = "sum" }), 21, 1e-15)
  same(nn.mse_loss(p, t, { reduction = "none" }), { { 1, 0 }, { 4, 16 } })
  near(nn.l1_loss(p, t), (1 + 0 + 2 + 4) / 4, 1e-15)
  autograd.gradcheck(function(a) return nn.l1_loss(a, T.zeros(3)) end, { T.tensor { 0.5, -1, 2 } })
  near(nn.MSELoss()(p, t), 21 / 4, 1e-15)
  near(nn.mse_loss(p, 1), (0 + 1 + 4 + 16) / 4, 1e-15)
  autograd.gradcheck(function(a, b) return nn.mse_loss(a, b, { reduction = "none" }) end,
                     { T.randn(3, 2), T.randn(3, 2) })
end)

test("cross_entropy_by_hand", function()
  local z = { { 1.5, -0.3, 0.2 }, { 0.0, 2.0, -1.0 }, { -2, -2, 3 } }
  local labels = { 1, 3, 3 }
  local total, each = 0, {}
  for i, row in ipairs(z) do
    local s = 0
    for _, v in ipairs(row) do s = s + math.exp(v) end
    each[i] = math.log(s) - row[labels[i]]
    total = total + each[i]
  end
  local logits, y = T.tensor(z), T.tensor(labels)
  near(nn.cross_entropy(logits, y), total / 3, 1e-15)
  near(nn.cross_entropy(logits, y, { reduction = "sum" }), total, 1e-14)
  same(nn.cross_entropy(logits, y, { reduction = "none" }), each, 1e-15)
  near(nn.CrossEntropyLoss()(logits, y), total / 3, 1e-15)
  -- nll of the log-softmax is the same number
  near(nn.nll_loss(nn.log_softmax(logits, 2), y), total / 3, 1e-15)
  near(nn.NLLLoss { reduction = "sum" }(T.tensor { { -1, -2 } }, T.tensor { 2 }), 2, 0)
  autograd.gradcheck(function(a) return nn.nll_loss(a, T.tensor { 3, 1 }) end, { T.randn(2, 3) })
  -- stable: logits of 1000 do not overflow; a shift of all logits changes nothing
  local big = nn.cross_entropy(logits + 1000, y)
  near(big, total / 3, 1e-12)
  near(nn.cross_entropy(T.tensor { { 1000, 0 } }, T.tensor { 2 }), 1000, 0)
  near(nn.cross_entropy(T.tensor { { -1000, 1000 } }, T.tensor { 2 }), 0, 0)
  autograd.gradcheck(function(a) return nn.cross_entropy(a, T.tensor { 2, 1, 4 }, { reduction = "none" }) end,
                     { T.randn(3, 4) })
  -- the gradient is (softmax - onehot) / N
  local a = T.tensor(z):requires_grad_()
  nn.cross_entropy(a, y):backward()
  local g = (nn.softmax(T.tensor(z), 2) - T.tensor { { 1, 0, 0 }, { 0, 0, 1 }, { 0, 0, 1 } }) / 3
  same(a.grad, g, 1e-15)
end)

test("bce", function()
  local p, t = T.tensor { 0.9, 0.2, 0.5 }, T.tensor { 1, 0, 1 }
  local want = -(math.log(0.9) + math.log(0.8) + math.log(0.5)) / 3
  near(nn.bce_loss(p, t), want, 1e-15)
  near(nn.BCELoss()(p, t), want, 1e-15)
  -- p = 0 with target 1: log clamped at -100
  near(nn.bce_loss(T.tensor { 0.0 }, T.tensor { 1.0 }), 100, 0)
  -- with logits: the same numbers, and no overflow at +-800
  local z = T.tensor { 2.1972245773362196, -1.3862943611198906, 0 }   -- logit(0.9), logit(0.2), 0
  near(nn.bce_with_logits(z, t), want, 1e-14)
  near(nn.BCEWithLogitsLoss()(z, t), want, 1e-14)
  same(nn.bce_with_logits(T.tensor { 800, -800, 800 }, T.tensor { 1, 0, 0 }, { reduction = "none" }),
       { 0, 0, 800 })
  autograd.gradcheck(function(a) return nn.bce_with_logits(a, T.tensor { 1, 0, 0.3 }, { reduction = "none" }) end,
                     { T.randn(3) })
  autograd.gradcheck(function(a) return nn.bce_loss(a, T.tensor { 1, 0, 0.3 }) end,
                     { T.tensor { 0.3, 0.6, 0.8 } })
end)

test("kl_div", function()
  local p = { { 0.5, 0.5, 0 }, { 0.1, 0.2, 0.7 } }
  local q = { { 0.25, 0.25, 0.5 }, { 0.3, 0.3, 0.4 } }
  local sum = 0
  for i = 1, 2 do
    for j = 1, 3 do
      if p[i][j] > 0 then sum = sum + p[i][j] * math.log(p[i][j] / q[i][j]) end
    end
  end
  local logq, P = T.tensor(q):log(), T.tensor(p)
  near(nn.kl_div(logq, P), sum / 2, 1e-15)                    -- batchmean
  near(nn.kl_div(logq, P, { reduction = "sum" }), sum, 1e-15)
  near(nn.kl_div(logq, P, { reduction = "mean" }), sum / 6, 1e-15)
  near(nn.kl_div(logq, P:log(), { log_target = true }), sum / 2, 1e-15)
  near(nn.KLDivLoss()(logq, P), sum / 2, 1e-15)
  near(nn.kl_div(logq[1], P[1], { reduction = "batchmean" }), math.log(2), 1e-15)   -- one distribution
  near(nn.kl_div(logq, T.tensor(q)), 0, 1e-16)
  autograd.gradcheck(function(a) return nn.kl_div(a, P) end, { logq })
end)

test("huber", function()
  local p, t = T.tensor { 0.5, -3, 2 }, T.tensor { 0, 0, 0 }
  -- |d| <= 1: d^2/2; beyond: |d| - 1/2
  near(nn.huber_loss(p, t), (0.125 + 2.5 + 1.5) / 3, 1e-15)
  near(nn.huber_loss(p, t, 2.5), (0.125 + 2.5 * (3 - 1.25) + 2) / 3, 1e-15)
  near(nn.huber_loss(p, t, { delta = 2.5, reduction = "sum" }), 0.125 + 4.375 + 2, 1e-15)
  near(nn.HuberLoss(2.5)(p, t), (0.125 + 4.375 + 2) / 3, 1e-15)
  autograd.gradcheck(function(a) return nn.huber_loss(a, T.zeros(4), { reduction = "none" }) end,
                     { T.tensor { 0.5, -3, 2, -0.2 } })
end)

test("custom_loss", function()
  -- a custom loss is a Lua function of tensors; autograd differentiates it
  local function log_cosh(pred, target) return T.log(T.cosh(pred - target)):mean() end
  local m = nn.Linear(2, 1)
  local x, y = T.randn(16, 2), T.randn(16, 1)
  local loss = log_cosh(m(x), y)
  loss:backward()
  same(m.weight.grad.shape, { 1, 2 })
  autograd.gradcheck(function(a) return log_cosh(a, y) end, { T.randn(16, 1) })
  check.truthy(num(loss) > 0, "positive")
end)

test("loss_errors", function()
  local z = T.randn(3, 4)
  raises(function() nn.cross_entropy(z, T.tensor { 1, 5, 2 }) end, "label 5 at position 2 is outside 1..4")
  raises(function() nn.cross_entropy(z, T.tensor { 1, 0, 2 }) end, "label 0 at position 2 is outside 1..4")
  raises(function() nn.cross_entropy(z, T.tensor { 1.0, 2.0, 3.0 }) end,
         "the labels must be an i64 tensor of class numbers, got dtype f64")
  raises(function() nn.cross_entropy(z, T.tensor { 1, 2 }) end, "the labels must have shape {3}")
  raises(function() nn.cross_entropy(T.randn(4), T.tensor { 1 }) end, "the scores must have shape (N, C), got {4}")
  raises(function() nn.mse_loss(T.zeros(3), T.zeros(3, 1)) end,
         "nn.mse_loss: the prediction has shape {3}, the target {3,1} (they must agree)")
  raises(function() nn.mse_loss(T.zeros(3), T.zeros(3), { reduction = "avg" }) end,
         "reduction must be \"mean\", \"sum\" or \"none\", got \"avg\"")
  raises(function() nn.bce_loss(T.tensor { 1.5 }, T.tensor { 1.0 }) end,
         "the probabilities must lie in [0, 1], got values from 1.5 to 1.5")
  raises(function() nn.huber_loss(T.zeros(2), T.zeros(2), -1) end, "nn.huber_loss: delta must be a finite number > 0, got -1")
  raises(function() nn.nll_loss("x", T.tensor { 1 }) end, "the scores must be a tensor, got \"x\"")
end)

check.done()
