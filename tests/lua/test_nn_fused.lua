-- test_nn_fused.lua -- the forward fast paths of the MLP step: nn.Sequential
-- running an nn.Linear followed by an nn.ReLU as one op (T._linear_relu, the
-- ReLU taken in the gemm's tiles) and T.linear copying its bias into each
-- tile before the gemm.  Each must give the bits of the general form it
-- replaces (values and gradients), at 1 and 2 threads, and must not apply
-- where the modules' behaviour differs (an overridden forward, a
-- parametrized weight, the pair's output being the caller's).
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local nn = require "hebb.nn"
local test, eq, truthy, raises = check.test, check.eq, check.truthy, check.raises

T.manual_seed(23)

local same_bits = check.same_bits

local same_values = check.same_values

local dtypes = { "f64", "f32" }

-- random values with some +-0, +-inf and NaN among them
local function specials(shape, dtype, p)
  local t = T.randn(shape, { dtype = dtype })
  local flat, pool = t:view(t:numel()), { 0.0, -0.0, math.huge, -math.huge, 0 / 0 }
  for i = 1, t:numel() do
    if math.random() < p then flat[i] = pool[math.random(#pool)] end
  end
  return t
end

-- x (n, k) in one of three layouts with the same values: contiguous, a
-- transposed view, a strided slice
local function layout(x, kind)
  if kind == 1 then return x end
  if kind == 2 then return x:t():contiguous():t() end
  local v = T.zeros(x.shape[1], x.shape[2], 2, { dtype = x.dtype }):select(3, 1)
  return v:copy_(x)
end

-- a bias with b's values that T.linear cannot copy row by row (stride 2),
-- so it takes the general path: the bias pass over the result, then the gemm
local function strided(b)
  local o = b.shape[1]
  local w = T.zeros(o, 2, { dtype = b.dtype })
  w:select(2, 1):copy_(b)
  return w:select(2, 1)
end

local at_threads = check.at_threads

test("linear_bias_in_the_tiles_has_the_bits_of_the_bias_pass", function()
  for trial = 1, 12 do
    for _, dt in ipairs(dtypes) do
      -- 64 x 784 x 256 is cut into several tiles
      local n, k, o = 64, 784, 256
      if trial > 2 then n, k, o = math.random(1, 90), math.random(0, 200), math.random(1, 300) end
      local x, w, b = T.randn(n, k, { dtype = dt }), T.randn(o, k, { dtype = dt }),
                      T.randn(o, { dtype = dt })
      local xv = layout(x, trial % 3 + 1)
      for _, t in ipairs({ 1, 2 }) do
        at_threads(t, function()
          same_bits(T.linear(xv, w, b), T.linear(x, w, strided(b)),
                    "trial " .. trial .. " " .. dt .. " at " .. t .. " threads")
          -- out=, contiguous and not
          local o1 = T.empty(n, o, { dtype = dt })
          T.linear(xv, w, b, { out = o1 })
          same_bits(o1, T.linear(x, w, strided(b)), "out=")
          local o2 = T.empty(o, n, { dtype = dt }):t()
          T.linear(x, w:t():contiguous():t(), b, { out = o2 })
          same_bits(o2, T.linear(x, w, strided(b)), "non-contiguous out=")
        end)
      end
    end
  end
  -- a batch of inputs {2, n, k}, and a bias of another dtype (converted)
  local x, w = T.randn(2, 5, 7), T.randn(3, 7)
  local b = T.randn(3)
  same_bits(T.linear(x, w, b), T.linear(x, w, strided(b)), "batched")
  same_bits(T.linear(x:astype("f32"), w:astype("f32"), b), T.linear(x:astype("f32"),
            w:astype("f32"), b:astype("f32")), "f64 bias for f32 operands")
end)

test("linear_relu_has_the_bits_of_relu_of_linear", function()
  for trial = 1, 16 do
    for _, dt in ipairs(dtypes) do
      local n, k, o = 64, 784, 256
      if trial > 2 then n, k, o = math.random(1, 90), math.random(0, 150), math.random(1, 300) end
      local x = specials({ n, k }, dt, trial % 2 == 0 and 0.02 or 0)
      local w, b = T.randn(o, k, { dtype = dt }), specials({ o }, dt, 0.2)
      local xv = layout(x, trial % 3 + 1)
      local bias = trial % 4 ~= 0 and b or nil
      for _, t in ipairs({ 1, 2 }) do
        at_threads(t, function()
          local want = T.relu(T.linear(x, w, bias))
          same_values(T._linear_relu(xv, w, bias), want, "trial " .. trial .. " " .. dt)
          if bias then same_values(T._linear_relu(x, w, strided(b)), want, "strided bias") end
          local o1 = T.empty(o, n, { dtype = dt }):t()
          T._linear_relu(x, w, bias, { out = o1 })
          same_values(o1, want, "non-contiguous out=")
        end)
      end
    end
  end
  -- i64 operands take relu after the product, as T.relu does
  local xi, wi, bi = T.randint(-5, 5, 4, 3), T.randint(-5, 5, 2, 3), T.randint(-5, 5, 2)
  same_bits(T._linear_relu(xi, wi, bi), T.relu(T.linear(xi, wi, bi)), "i64")
  -- -0 becomes +0 as in T.relu
  local z = T._linear_relu(T.zeros(1, 1), T.zeros(1, 1), T.tensor({ -0.0 }))
  same_bits(z, T.relu(T.tensor({ { -0.0 } })), "-0")
end)

-- a model, its input and labels; the model's parameters and their
-- gradients after one backward of the mean cross-entropy
local function grads_of(m)
  local gs = {}
  for _, p in ipairs(m:parameters()) do gs[#gs + 1] = p.grad end
  return gs
end

-- the forward of m with each module called on its own (no fusion), or
-- through the Sequential
local function forward(m, x, split)
  if not split then return m(x) end
  for i = 1, #m do x = m[i](x) end
  return x
end

local function step(m, x, y, split)
  m:zero_grad()
  local out = forward(m, x, split)
  local loss = nn.cross_entropy(out, y)
  loss:backward()
  return out, loss, grads_of(m)
end

local function compare(m, x, y, what)
  local o1, l1, g1 = step(m, x, y, false)
  local o2, l2, g2 = step(m, x, y, true)
  same_bits(o1, o2, what .. ": output")
  same_bits(l1, l2, what .. ": loss")
  eq(#g1, #g2, what .. ": gradient count")
  for i = 1, #g1 do same_bits(g1[i], g2[i], what .. ": gradient " .. i) end
end

test("sequential_linear_relu_has_the_bits_of_the_modules", function()
  for trial = 1, 8 do
    for _, dt in ipairs(dtypes) do
      local D, H, H2, C, B = 784, 256, 32, 10, 64
      if trial > 1 then
        D, H, H2 = math.random(1, 120), math.random(1, 120), math.random(1, 40)
        C, B = math.random(2, 12), math.random(1, 70)
      end
      local layers = { nn.Linear(D, H, { dtype = dt }), nn.ReLU(),
                       nn.Linear(H, H2, { dtype = dt, bias = trial % 3 ~= 0 }), nn.ReLU(),
                       nn.Linear(H2, C, { dtype = dt }) }
      local m = nn.Sequential(table.unpack(layers))
      local x, y = T.randn(B, D, { dtype = dt }), T.randint(1, C, B)
      for _, t in ipairs({ 1, 2 }) do
        at_threads(t, function()
          compare(m, layout(x, trial % 3 + 1), y, "trial " .. trial .. " " .. dt .. " " .. t .. "t")
        end)
      end
    end
  end
end)

test("sequential_linear_relu_is_the_same_at_1_and_2_threads", function()
  local m = nn.Sequential(nn.Linear(784, 256, { dtype = "f32" }), nn.ReLU(),
                          nn.Linear(256, 10, { dtype = "f32" }))
  local x, y = T.rand(64, 784, { dtype = "f32" }), T.randint(1, 10, 64)
  local res = {}
  for _, t in ipairs({ 1, 2 }) do
    at_threads(t, function()
      local _, loss, gs = step(m, x, y, false)
      res[t] = { loss, table.unpack(gs) }
    end)
  end
  for i = 1, #res[1] do same_bits(res[1][i], res[2][i], "value " .. i) end
end)

test("sequential_linear_relu_gradcheck_and_higher_derivatives", function()
  local m = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
  local x = T.randn(6, 4)
  local w2 = m[3].weight
  local function f(xx)
    local out = m(xx)
    return (out * out):sum()
  end
  truthy(A.gradcheck(f, { x }), "gradcheck")
  truthy(A.gradgradcheck(f, { x }), "gradgradcheck")
  -- create_graph through the fused op gives the modules' second derivatives
  local function hvp(split)
    local xx = x:clone():requires_grad_()
    local out = forward(m, xx, split)
    local g = A.grad((out * out):sum(), { xx }, { create_graph = true })[1]
    return A.grad((g * g):sum(), { w2 })[1]
  end
  same_bits(hvp(false), hvp(true), "second derivative")
end)

test("sequential_fuses_only_the_plain_pair_inside_the_sequence", function()
  -- the pair at the end: the caller sees the ReLU's output, recorded as relu
  local m = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
  local x = T.randn(2, 3):requires_grad_()
  local y = m(x)
  eq(y.grad_fn, "relu", "the last pair's output")
  same_bits(y, T.relu(T.linear(x, m[1].weight, m[1].bias)), "values")
  -- inside the sequence the pair is one op (nn.Identity hands its output on)
  local mi = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Identity())
  local yi = mi(x)
  eq(yi.grad_fn, "_linear_relu", "the fused pair's output")
  same_bits(yi, T.relu(T.linear(x, mi[1].weight, mi[1].bias)), "fused values")
  -- an overridden forward is called
  local m2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
  local calls = 0
  m2[2].forward = function(_, h) calls = calls + 1; return T.relu(h) end
  m2(x)
  eq(calls, 1, "the ReLU's own forward")
  local m3 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
  m3[1].forward = function(self, h) calls = calls + 1; return T.linear(h, self.weight) end
  local want = T.linear(T.relu(T.linear(x, m3[1].weight)), m3[3].weight, m3[3].bias)
  same_bits(m3(x), want, "the Linear's own forward")
  eq(calls, 2, "the Linear's own forward ran")
  -- a parametrized weight goes through the Linear's forward
  local m4 = nn.Sequential(nn.Linear(4, 4, { constraint = "symmetric" }), nn.ReLU(),
                           nn.Linear(4, 2))
  local x4 = T.randn(3, 4)
  local w4 = m4[1].weight
  truthy(T.allclose(w4, w4:t()), "symmetric weight")
  same_bits(m4(x4), m4[3](m4[2](m4[1](x4))), "parametrized")
end)

test("sequential_fused_errors_name_the_layer", function()
  local m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
  raises(function() m(T.randn(2, 5)) end, "nn.Linear: the input's last dimension must be 3")
  raises(function() m("x") end, "nn.Linear: expected a tensor input")
  -- a weight and input of other dtypes: the modules' own path
  local m32 = nn.Sequential(nn.Linear(3, 4, { dtype = "f32" }), nn.ReLU(), nn.Linear(4, 2))
  local ok = pcall(m32, T.randn(2, 3))
  truthy(ok, "mixed dtypes run as before")
end)

-- nn.cross_entropy's mean in one op (T._cross_entropy_mean) against
-- T.cross_entropy(z, y):mean(), the two ops it replaces
test("cross_entropy_mean_has_the_bits_of_the_two_ops", function()
  for trial = 1, 25 do
    for _, dt in ipairs(dtypes) do
      local N, C = math.random(1, 130), math.random(1, 15)
      local z0 = specials({ N, C }, dt, trial % 5 == 0 and 0.05 or 0)
      if trial % 3 == 0 then z0 = z0 * 40 end
      local y = T.randint(1, C, N)
      local zv = layout(z0, trial % 3 + 1)
      for _, t in ipairs({ 1, 2 }) do
        at_threads(t, function()
          local z1, z2 = zv:clone():requires_grad_(), z0:clone():requires_grad_()
          local l1, l2 = nn.cross_entropy(z1, y), T.cross_entropy(z2, y):mean()
          eq(l1.grad_fn, "_cross_entropy_mean", "recorded as one op")
          same_values(l1, l2, "loss, trial " .. trial .. " " .. dt)
          l1:backward()
          l2:backward()
          same_values(z1.grad, z2.grad, "gradient, trial " .. trial .. " " .. dt)
          -- a seed other than 1
          local z3, z4 = z0:clone():requires_grad_(), z0:clone():requires_grad_()
          local s = T.full({}, 0.3, { dtype = dt })
          nn.cross_entropy(z3, y):backward(s)
          T.cross_entropy(z4, y):mean():backward(s)
          same_values(z3.grad, z4.grad, "seeded gradient")
          -- not recorded: the same Lua number
          local u1, u2 = nn.cross_entropy(z0, y), T.cross_entropy(z0, y):mean()
          truthy(type(u1) == "number" and (u1 == u2 or u1 ~= u1 and u2 ~= u2),
                 "untracked loss " .. tostring(u1) .. " " .. tostring(u2))
        end)
      end
    end
  end
  -- the other reductions keep their form
  local z, y = T.randn(5, 3):requires_grad_(), T.randint(1, 3, 5)
  eq(nn.cross_entropy(z, y, { reduction = "sum" }).grad_fn, "sum", "sum")
  eq(nn.cross_entropy(z, y, { reduction = "none" }).grad_fn, "cross_entropy", "none")
  -- integer logits are taken as f64, as before
  local zi, yi = T.randint(-3, 3, 4, 3), T.randint(1, 3, 4)
  eq(nn.cross_entropy(zi, yi), T.cross_entropy(zi:astype("f64"), yi):mean(), "i64 logits")
end)

test("cross_entropy_mean_gradcheck_and_create_graph", function()
  local z, y = T.randn(7, 4), T.randint(1, 4, 7)
  truthy(A.gradcheck(function(zz) return nn.cross_entropy(zz, y) end, { z }), "gradcheck")
  truthy(A.gradgradcheck(function(zz) return nn.cross_entropy(zz, y) end, { z }), "gradgradcheck")
  local function hess(fused)
    local zz = z:clone():requires_grad_()
    local l = fused and nn.cross_entropy(zz, y) or T.cross_entropy(zz, y):mean()
    local g = A.grad(l, { zz }, { create_graph = true })[1]
    return A.grad((g * g):sum(), { zz })[1]
  end
  same_bits(hess(true), hess(false), "second derivative")
  -- the logits changed in place after the loss: refused at backward
  local zz = z:clone():requires_grad_()
  local h = zz * 1
  local l = nn.cross_entropy(h, y)
  h:add_(1)
  raises(function() l:backward() end, "modified in place")
end)

test("cross_entropy_mean_errors", function()
  local z = T.randn(3, 4):requires_grad_()
  raises(function() nn.cross_entropy(z, T.tensor({ 1, 5, 2 })) end,
         "nn.cross_entropy: label 5 at position 2 is outside 1..4")
  raises(function() nn.cross_entropy(z, T.tensor({ 1, 2 })) end, "nn.cross_entropy")
  raises(function() nn.cross_entropy(z, T.tensor({ 1.0, 2.0, 3.0 })) end, "i64")
  raises(function() T._cross_entropy_mean(z, T.tensor({ 1, 2, 3 }), 5) end, "table or nil")
end)

-- the hook returns plain results of a call on a tracked tensor (sizes,
-- tests, numbers) without the Lua recorder, unless the op's rule makes
-- its number a 0-d tensor (full reductions)
test("plain_results_of_tracked_calls", function()
  for _, dt in ipairs(dtypes) do
    local x0 = T.randn({ 3, 4 }, { dtype = dt })
    local x = x0:clone():requires_grad_()
    local h = x * 2
    eq(h:size(2), 4, "size")
    eq(h:numel(), 12, "numel")
    truthy(T.is_tensor(h), "is_tensor")
    truthy(h:is_contiguous(), "is_contiguous")
    local s = h:sum()
    truthy(T.is_tensor(s) and s.grad_fn == "sum", "a full sum stays recorded")
    eq(s:item(), (x0 * 2):sum(), "item")
    local m = h:mean()
    truthy(T.is_tensor(m) and m.grad_fn == "mean", "a full mean stays recorded")
    m:backward()
    same_bits(x.grad, T.full({ 3, 4 }, 2 / 12, { dtype = dt }), "gradient through mean")
    local mx = h:max()
    truthy(T.is_tensor(mx) and mx.requires_grad, "max stays recorded")
    eq(h:shares_storage(h), true, "shares_storage")
  end
end)

check.done()
