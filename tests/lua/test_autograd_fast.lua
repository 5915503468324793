-- test_autograd_fast.lua -- the backward fast paths of hebb.autograd's
-- rules (natives/core/backward.c): the ReLU rule in one pass and a linear
-- layer's weight gradient added into the weight's kept .grad.  Each must
-- give the bits of the general form it replaces, and must not apply where
-- that form's semantics differ (create_graph, autograd.grad, a .grad the
-- user set, a graph kept with retain_graph).
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local nn = require "hebb.nn"
local hebb = require "hebb"
local test, truthy = check.test, check.truthy

T.manual_seed(11)

local same_bits = check.same_bits

local dtypes = { "f64", "f32" }

-- the same bits, except that any NaN equals any NaN: which operand's NaN
-- (payload, sign) a multiplication returns depends on the operand order the
-- compiler picked, and the payload means nothing
local function same_values(a, b, what)
  local na, nb = T.ne(a, a), T.ne(b, b)
  truthy(T.equal(na, nb), what .. ": NaNs at other places")
  same_bits(T.where(na, 0.5, a), T.where(nb, 0.5, b), what)
end

-- random values with the ones that decide a sign's product: +-0, +-inf, NaN
local function specials(n, dtype)
  local t = T.randn(n, { dtype = dtype })
  local pool = { 0.0, -0.0, math.huge, -math.huge, 0 / 0 }
  for i = 1, n do
    if math.random() < 0.3 then t[i] = pool[math.random(#pool)] end
  end
  return t
end

test("relu_rule_fast_path_has_the_bits_of_g_times_sign", function()
  local C = require "hebb._autograd"
  for trial = 1, 20 do
    for _, dt in ipairs(dtypes) do
      local n = math.random(1, 3000)
      local g, y = specials(n, dt), specials(n, dt)
      same_values(C.relu_grad(g, y), g * T.sign(y), "trial " .. trial .. " " .. dt)
    end
  end
end)

test("relu_backward_equals_the_recorded_form", function()
  -- backward takes the fast path; create_graph records g * sign(y)
  for _, dt in ipairs(dtypes) do
    for _ = 1, 10 do
      local shape = { math.random(1, 40), math.random(1, 40) }
      local x = specials(shape[1] * shape[2], dt):view(shape[1], shape[2]):requires_grad_()
      local up = specials(shape[1] * shape[2], dt):view(shape[1], shape[2])
      T.relu(x):backward(up)
      local fast = x.grad
      local slow = A.grad(T.relu(x), x, { grad_outputs = up, create_graph = true })
      same_values(fast, slow:detach(), dt)
    end
  end
end)

test("relu_rule_on_views_and_mixed_dtypes", function()
  -- non-contiguous gradients (a transposed upstream) take the general form
  local x = T.randn(7, 5):requires_grad_()
  local w = T.randn(7, 5)
  ;(T.relu(x):t() * w:t()):sum():backward()
  same_bits(x.grad, w * T.sign(T.relu(x:detach())), "transposed")
end)

-- a model's gradients after one backward from set_to_none, as clones
local function grads_of(m)
  local gs = {}
  for i, p in ipairs(m:parameters()) do gs[i] = p.grad:clone() end
  return gs
end

local function mlp(nin, nh, nout, dt)
  return nn.Sequential(nn.Linear(nin, nh, { dtype = dt }), nn.ReLU(),
                       nn.Linear(nh, nout, { dtype = dt }))
end

local function batch(n, nin, nout, dt)
  return T.randn(n, nin, { dtype = dt }), T.randint(1, nout, n)
end

test("kept_gradients_accumulate_with_the_bits_of_add", function()
  for trial = 1, 8 do
    local dt = dtypes[trial % 2 + 1]
    local nin, nh, nout = math.random(1, 50), math.random(1, 40), math.random(2, 9)
    local n = math.random(1, 70)
    local m = mlp(nin, nh, nout, dt)
    local x, y = batch(n, nin, nout, dt)
    local function step() nn.cross_entropy(m(x), y):backward() end
    m:zero_grad()
    step()
    local g1 = grads_of(m)
    step()                                  -- by reference, then a sum
    local g2 = grads_of(m)
    step()                                  -- in place: the fast path
    local g3 = grads_of(m)
    m:zero_grad(false)                      -- kept buffers, zeros
    step()
    local z = grads_of(m)
    for i = 1, #g1 do
      same_bits(g2[i], g1[i] + g1[i], "second backward, parameter " .. i)
      same_bits(g3[i], g2[i] + g1[i], "third backward, parameter " .. i)
      -- zeros plus g: the engine's add (a -0 of g becomes +0)
      same_bits(z[i], T.zeros_like(g1[i]) + g1[i], "after zero_grad(false), parameter " .. i)
    end
  end
end)

test("a_held_grad_is_the_buffer_backward_adds_into", function()
  -- torch's semantics: backward accumulates into the existing .grad in
  -- place, so a reference to it sees the sum; after p.grad = nil (or a
  -- .grad the user assigned) the next backward makes a new tensor
  -- (the first backward keeps the gradient it computed, the second adds
  -- into a new sum, which backward owns and later ones add into in place)
  local m = mlp(6, 5, 3, "f64")
  local x, y = batch(4, 6, 3, "f64")
  local w = m:parameters()[1]
  nn.cross_entropy(m(x), y):backward()
  local g = w.grad:clone()
  nn.cross_entropy(m(x), y):backward()
  local held = w.grad
  local g2 = held:clone()
  nn.cross_entropy(m(x), y):backward()
  truthy(rawequal(held, w.grad), "the same tensor")
  same_bits(held, g2 + g, "held reference")
  -- the user's own tensor as .grad is never written into
  local mine = T.zeros(5, 6, { dtype = "f64" })
  w.grad = mine
  nn.cross_entropy(m(x), y):backward()
  same_bits(mine, T.zeros(5, 6, { dtype = "f64" }), "the user's .grad")
  same_bits(w.grad, g, "a new sum")
  -- set_to_none: the old tensor keeps its values
  local before = w.grad
  local copy = before:clone()
  m:zero_grad()
  nn.cross_entropy(m(x), y):backward()
  same_bits(before, copy, "a .grad dropped by zero_grad")
  same_bits(w.grad, g, "fresh")
end)

test("create_graph_and_autograd_grad_leave_kept_buffers_alone", function()
  local m = mlp(5, 4, 3, "f64")
  local x, y = batch(6, 5, 3, "f64")
  local w = m:parameters()[1]
  m:zero_grad()
  nn.cross_entropy(m(x), y):backward()
  local g = w.grad:clone()
  m:zero_grad(false)
  nn.cross_entropy(m(x), y):backward()   -- w.grad is now a kept buffer
  local held = w.grad
  local gw = A.grad(nn.cross_entropy(m(x), y), { w })[1]
  same_bits(held, g, "autograd.grad did not accumulate")
  same_bits(gw, g, "autograd.grad's result")
  nn.cross_entropy(m(x), y):backward({ create_graph = true })
  same_bits(held, g, "create_graph did not write the kept buffer")
  truthy(w.grad.requires_grad, "create_graph's .grad is recorded")
  -- (the recorded rules round differently from the fused ones)
  check.near(check.maxdiff(w.grad:detach(), g + g), 0, 1e-12, "create_graph's sum")
  -- and the recorded gradient differentiates: d/dW of sum(dL/dW * W)
  local s = (w.grad * w):sum()
  local hw = A.grad(s, w)
  truthy(hw.shape[1] == 4 and hw.shape[2] == 5, "second derivative")
end)

test("retain_graph_backward_twice_and_shared_weights", function()
  local m = mlp(7, 6, 4, "f64")
  local x, y = batch(5, 7, 4, "f64")
  local w = m:parameters()[3]
  nn.cross_entropy(m(x), y):backward()
  local g = w.grad:clone()
  nn.cross_entropy(m(x), y):backward()   -- now a buffer backward owns
  local g2 = w.grad:clone()
  local l = nn.cross_entropy(m(x), y)
  l:backward({ retain_graph = true })
  same_bits(w.grad, g2 + g, "retained graph, first backward")
  l:backward()
  same_bits(w.grad, g2 + g + g, "retained graph, second backward")
  -- a weight that two layers share gets its parts added in the order the
  -- engine delivers them: the same bits whether the first part goes into
  -- a buffer backward owns (in place) or into a .grad the user set (a sum)
  local function in_order(loss, p, what)
    loss():backward()
    loss():backward()
    local start = p.grad:clone()
    loss():backward()                    -- into the owned buffer
    local kept = p.grad:clone()
    p.grad = start:clone()               -- the user's: not written into
    loss():backward()
    same_bits(p.grad, kept, what)
  end
  local lin = nn.Linear(8, 8)
  local xs = T.randn(5, 8)
  in_order(function() return lin(T.relu(lin(xs))):sum() end, lin.weight, "shared weight")
  -- the weight as the input of its own layer too
  local sq = T.randn(6, 6):requires_grad_()
  in_order(function() return T.linear(T.relu(sq), sq):sum() end, sq, "linear(relu(W), W)")
  in_order(function() return T.linear(sq, sq):sum() end, sq, "linear(W, W)")
end)

test("gradcheck_and_gradgradcheck_through_linear_and_relu", function()
  local w = T.randn(3, 4)
  local b = T.randn(3)
  local x = T.randn(5, 4)
  local function f(wi, bi, xi) return (T.relu(T.linear(xi, wi, bi)) ^ 2):sum() end
  truthy(A.gradcheck(f, { w, b, x }), "gradcheck")
  truthy(A.gradgradcheck(f, { w, b, x }), "gradgradcheck")
end)

test("kept_buffer_accumulation_is_the_same_at_1_and_2_threads", function()
  local default = hebb.threads()
  local m = mlp(784, 256, 10, "f32")   -- dW1 splits into two gemm tiles
  local x, y = batch(64, 784, 10, "f32")
  local res = {}
  for _, t in ipairs({ 1, 2 }) do
    hebb.threads(t)
    m:zero_grad(false)
    for _ = 1, 3 do nn.cross_entropy(m(x), y):backward() end
    res[t] = grads_of(m)
  end
  hebb.threads(default)
  for i = 1, #res[1] do same_bits(res[1][i], res[2][i], "parameter " .. i) end
end)

-- no_grad / enable_grad hand their results back without packing them
-- (a vararg helper): every result, nils in the middle and at the end, the
-- arguments as given, the mode restored, an error object rethrown as it is
test("no_grad_and_enable_grad_pass_every_result_and_restore_the_mode", function()
  local function echo(...) return select("#", ...), ... end
  for trial = 1, 20 do
    local n = math.random(0, 6)
    local args = {}
    for i = 1, n do if math.random() < 0.5 then args[i] = i * trial end end
    for _, mode in ipairs({ { A.no_grad, false }, { A.enable_grad, true } }) do
      local outer = math.random() < 0.5
      A.set_grad_enabled(outer)
      local inside
      local res = table.pack(mode[1](function(...)
        inside = A.is_grad_enabled()
        return echo(...)
      end, table.unpack(args, 1, n)))
      check.eq(res.n, n + 1, "trial " .. trial .. ": the number of results")
      check.eq(res[1], n, "trial " .. trial .. ": the number of arguments")
      for i = 1, n do check.eq(res[i + 1], args[i], "trial " .. trial .. ": result " .. i) end
      check.eq(inside, mode[2], "trial " .. trial .. ": the mode inside")
      check.eq(A.is_grad_enabled(), outer, "trial " .. trial .. ": the mode restored")
      local obj = {}
      local ok, err = pcall(mode[1], function() error(obj) end)
      truthy(not ok and rawequal(err, obj), "trial " .. trial .. ": the error object as it is")
      check.eq(A.is_grad_enabled(), outer, "trial " .. trial .. ": restored after an error")
    end
  end
  A.set_grad_enabled(true)
end)

check.done()
