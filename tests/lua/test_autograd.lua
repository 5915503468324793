-- test_autograd.lua -- hebb.autograd: the tape, backward, grad of grad,
-- gradcheck of every differentiable op of hebb.tensor and of random
-- compositions, saved-tensor versions, custom functions, and the errors.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq, near, raises, truthy = check.test, check.eq, check.near, check.raises, check.truthy

T.manual_seed(7)
local function rn(...) return T.randn(...) end
local function pos(...) return T.rand(...) + 0.5 end      -- away from 0
local function unit(...) return T.rand(...) * 1.6 - 0.8 end -- inside (-1, 1)

local maxdiff = check.maxdiff

-- Basics ---------------------------------------------------------------------

-- The rule files autograd loads on first use (stdlib/hebb/autograd.lua,
-- LAZY): first uses through the recorder differentiate, each file's index
-- names exactly its rules, no file replaces another's rule, and a rule set
-- before its file loads stays.  (First in this file: no file loaded yet.)
test("rule_files_loaded_on_first_use", function()
  local engine = require "hebb._autograd_engine"
  local lazy = engine._lazy_rules
  for _, e in ipairs(lazy) do eq(package.loaded[e[1]], nil, e[1] .. " loaded by require") end
  -- first uses, recorded: a tensor method (flip) and a module function (linalg.det)
  local x, w = rn(5):requires_grad_(), rn(5)
  ;(x:flip(1) * w):sum():backward()
  eq(maxdiff(x.grad, w:flip(1)), 0)
  local m = (rn(3, 3) + T.eye(3) * 3):requires_grad_()
  local L = require "hebb.linalg"
  L.det(m):backward()
  truthy(maxdiff(m.grad, L.inv(m):t() * L.det(m)) < 1e-12)
  -- a matrix made from tracked values first (the hooks that follow it are
  -- loaded then, natives/lua/l_sparse.c), differentiated later
  local vals = rn(3):requires_grad_()
  local S = require("hebb.sparse").csr({ 1, 2, 2 }, { 2, 1, 2 }, vals, { 2, 2 })
  eq(select(3, S:source()), vals)
  local y = rn(2)
  S:matmul(y):sum():backward()
  eq(maxdiff(vals.grad, T.tensor({ y[2], y[1], y[2] })), 0)
  -- a rule defined before its file loads is kept
  local mine = function(g) return g end
  A.defrule("fft.fft", mine)
  truthy(A.rules["fft.ifft"])
  eq(A.rules["fft.fft"].fn, mine)
  -- every rule file: no name in two files; a lazy file's names are its index
  local files, owner = {}, {}
  for name in pairs(package.preload) do
    if name:match("^hebb%._autograd_") and name ~= "hebb._autograd_engine"
        and name ~= "hebb._autograd_tools" then files[#files + 1] = name end
  end
  table.sort(files)
  for _, f in ipairs(files) do
    for name in pairs(require(f).rules) do
      eq(owner[name], nil, name .. " in " .. f)
      owner[name] = f
    end
  end
  for _, e in ipairs(lazy) do
    local listed = {}
    for i = 2, #e do
      listed[e[i]] = true
      eq(owner[e[i]], e[1], e[i] .. " listed in the index of " .. e[1])
    end
    for name, f in pairs(owner) do
      local mine_ = f == e[1]
      local indexed = listed[name] or (e.prefix ~= nil and name:sub(1, #e.prefix) == e.prefix)
      eq(mine_, indexed == true, name .. " (" .. f .. ") and the index of " .. e[1])
    end
  end
  -- and every rule is found
  A.rules["fft.fft"] = require("hebb._autograd_fft").rules["fft.fft"]
  for name, f in pairs(owner) do eq(A.rules[name], require(f).rules[name], name) end
end)

test("backward_of_sum_of_squares", function()
  local x = T.tensor({ 1.0, -2, 3 }):requires_grad_()
  local y = (x * x):sum()
  eq(T.is_tensor(y), true, "a full reduction of a tracked tensor is a tensor")
  eq(y.ndim, 0)
  y:backward()
  eq(maxdiff(x.grad, T.tensor({ 2.0, -4, 6 })), 0)
  eq(y.grad_fn, "sum")
  eq(x.is_leaf, true)
  eq(y.is_leaf, false)
end)

test("gradients_accumulate_and_reset", function()
  local x = T.tensor({ 1.0, 2 }):requires_grad_()
  ;(x * 3):sum():backward()
  ;(x * 3):sum():backward()
  eq(maxdiff(x.grad, T.full({ 2 }, 6.0)), 0)
  x.grad = nil
  eq(x.grad, nil)
  ;(x * x):sum():backward()
  eq(maxdiff(x.grad, T.tensor({ 2.0, 4 })), 0)
end)

test("tracked_tensors_print_and_read", function()
  local x = T.tensor({ 1.5, 2.5 }):requires_grad_()
  local s = tostring(x * 2)
  truthy(s:find("3.", 1, true) and s:find("5.", 1, true), s)
  eq(type(x:get(1)), "number", "get reads a plain number")
  eq(T.is_tensor(x[1]), true, "x[i] stays differentiable")
end)

test("plain_tensors_unchanged", function()
  local x = T.tensor({ 1.0, 2 })
  eq(type(x:sum()), "number", "untracked full reductions stay Lua numbers")
  eq(x.requires_grad, false)
  eq(x.grad, nil)
end)

test("no_grad_and_detach", function()
  local x = T.tensor({ 1.0, 2 }):requires_grad_()
  local y = A.no_grad(function() return x * 2 end)
  eq(y.requires_grad, false)
  eq(A.is_grad_enabled(), true)
  local d = x:detach()
  eq(d.requires_grad, false)
  eq(T.shares_storage(d, x), true)
  eq(((d * x):sum()).requires_grad, true)
  local prev = A.set_grad_enabled(false)
  eq(prev, true)
  eq((x * 2).requires_grad, false)
  A.set_grad_enabled(true)
  raises(function() A.no_grad(function() error("inner") end) end, "inner")
  eq(A.is_grad_enabled(), true, "mode restored after an error")
end)

test("broadcasting_gradients", function()
  local a = rn(3, 1):requires_grad_()
  local b = rn(4):requires_grad_()
  ;(a * b + a):sum():backward()
  eq(a.grad.shape[1], 3); eq(a.grad.shape[2], 1)
  near(maxdiff(a.grad, (b:sum() + 4) * T.ones(3, 1)), 0, 1e-12)
  near(maxdiff(b.grad, T.ones(4) * a:detach():sum()), 0, 1e-12)
end)

test("grad_of_intermediate_and_retain_grad", function()
  local x = rn(3):requires_grad_()
  local h = x:exp():retain_grad()
  local y = (h * h):sum()
  y:backward()
  near(maxdiff(h.grad, 2 * h:detach()), 0, 1e-12)
  local x2 = rn(3):requires_grad_()
  local m = x2 * 2
  local g = A.grad((m * m):sum(), m)
  near(maxdiff(g, 2 * m:detach()), 0, 1e-12)
end)

test("functional_grad_and_value_and_grad", function()
  local f = function(x, w) return ((x:matmul(w)):tanh()):sum() end
  local x, w = rn(2, 3), rn(3, 4)
  local gs = A.grad(f, { x, w })
  eq(#gs, 2)
  eq(x.requires_grad, false, "the inputs themselves are not made to require grad")
  local v, gs2 = A.value_and_grad(f)(x, w)
  eq(type(v), "number")
  near(v, f(x, w), 1e-12)
  eq(maxdiff(gs[1], gs2[1]), 0)
  local g1 = A.grad(function(z) return (z ^ 2):sum() end, T.tensor({ 3.0 }))
  near(g1:item(), 6, 1e-12)
  local gu = A.grad(function(z, u) return (z * 2):sum() end, { T.ones(2), T.ones(3) })
  eq(gu[2]:abs():max(), 0, "unused input gets zeros")
end)

-- Higher order -------------------------------------------------------------

test("grad_of_grad", function()
  -- f = sum(x^3): f' = 3x^2, f'' = 6x
  local x = T.tensor({ 1.0, 2, -1 }):requires_grad_()
  local g = A.grad((x ^ 3):sum(), x, { create_graph = true })
  near(maxdiff(g, 3 * x:detach() ^ 2), 0, 1e-12)
  local h = A.grad(g:sum(), x)
  near(maxdiff(h, 6 * x:detach()), 0, 1e-12)
  -- nested functional form: d/dx (d/dx sin x) = -sin x
  local d2 = A.grad(function(z)
    return A.grad(function(u) return u:sin():sum() end, z):sum()
  end, T.tensor({ 0.3, 1.1 }))
  near(maxdiff(d2, -T.tensor({ 0.3, 1.1 }):sin()), 0, 1e-12)
end)

test("hvp_and_laplacian", function()
  -- f(x) = sum_i x_i^2 x_{i+1}: Hessian by hand
  local f = function(x) return (x:narrow(1, 1, 3) ^ 2 * x:narrow(1, 2, 3)):sum() end
  local x = T.tensor({ 0.5, -1.0, 2.0, 1.5 })
  local v = T.tensor({ 1.0, 2, -1, 0.5 })
  local H = T.zeros(4, 4)
  for i = 1, 3 do
    H:set(i, i, H:get(i, i) + 2 * x[i + 1])
    H:set(i, i + 1, H:get(i, i + 1) + 2 * x[i])
    H:set(i + 1, i, H:get(i + 1, i) + 2 * x[i])
  end
  near(maxdiff(A.hvp(f, x, v), H:matmul(v)), 0, 1e-12)
  local lap, err = A.laplacian(f, x)
  near(lap, H:diagonal():sum(), 1e-12)
  eq(err, 0)
  -- Hutchinson on a quadratic form x^T S x / 2: exact mean tr(S), the
  -- Rademacher estimate has variance 2 sum_{i~=j} S_ij^2 / samples
  local S = rn(6, 6); S = S + S:t()
  local q = function(z) return (z * S:matmul(z)):sum() / 2 end
  local est, se = A.laplacian(q, rn(6), { method = "hutchinson", samples = 400, seed = 3 })
  truthy(se > 0, "a standard error")
  truthy(math.abs(est - S:diagonal():sum()) < 5 * se + 1e-12,
    string.format("estimate %g vs trace %g (se %g)", est, S:diagonal():sum(), se))
  raises(function() A.laplacian(q, rn(6), { method = "bogus" }) end, 'autograd.laplacian: method must be "exact" or "hutchinson", got "bogus"')
end)

test("jacobian", function()
  local J = A.jacobian(function(x) return x:sin() * 2 end, T.tensor({ 0.1, 0.2 }))
  eq(J.shape[1], 2); eq(J.shape[2], 2)
  near(J:get(1, 1), 2 * math.cos(0.1), 1e-12)
  eq(J:get(1, 2), 0)
end)

-- a derivative that is identically zero (f linear, constant, a Lua
-- number) gives zeros, not "attempt to index a number value"
test("zero_hessians_and_constant_functions", function()
  local x, v = T.tensor { 1.0, 2.0 }, T.ones(2)
  local fs = {
    linear = function(z) return (z * 2):sum() end,
    constant = function() return T.tensor(3.0) end,
    number = function() return 3 end,
    detached = function(z) return (z:detach() ^ 2):sum() end,
  }
  for name, f in pairs(fs) do
    check.same(A.hvp(f, x, v), { 0, 0 }, 0, "hvp " .. name)
    eq(A.laplacian(f, x), 0, "laplacian " .. name)
    eq(A.laplacian(f, x, { method = "hutchinson", samples = 4 }), 0, "hutchinson " .. name)
  end
  check.same(A.jacobian(function() return T.ones(3) end, x), { { 0, 0 }, { 0, 0 }, { 0, 0 } }, 0,
             "jacobian of a constant")
  check.same(A.jacobian(function(z) return z:detach() * 2 end, x), { { 0, 0 }, { 0, 0 } }, 0,
             "jacobian of a detached result")
  truthy(A.gradgradcheck(function(z) return z * 2 end, { x }))
  truthy(A.gradgradcheck(function() return T.ones(2) end, { x }))
  -- torch's form: a constant output reaches no input
  local xl = x:clone():requires_grad_()
  eq(A.grad(3, xl, { allow_unused = true }), nil)
  eq(A.grad(T.ones(2):sum() * 1.0, xl, { allow_unused = true }), nil)
  raises(function() A.grad(3, xl) end, "autograd.grad: the output is a Lua number")
end)

-- the tools record what they differentiate even inside no_grad
test("tools_inside_no_grad", function()
  local f = function(z) return (z ^ 3):sum() end
  local x = T.tensor { 1.0, 2.0 }
  check.same(A.no_grad(A.hvp, f, x, T.ones(2)), { 6, 12 }, 1e-12)
  near(A.no_grad(A.laplacian, f, x), 18, 1e-12)
  check.same(A.no_grad(A.jacobian, function(z) return z ^ 3 end, x), { { 3, 0 }, { 0, 12 } }, 1e-12)
end)

-- functions that return tables of numbers make no tensor to record
test("tables_of_numbers_from_tracked_tensors", function()
  local x = T.tensor { { 1.0, 2 }, { 3, 4 } }:requires_grad_()
  check.same(x:size(), { 2, 2 }, 0, "size")
  check.same(x:stride(), { 2, 1 }, 0, "stride")
  check.same(x:totable(), { { 1, 2 }, { 3, 4 } }, 0, "totable")
end)

-- gradcheck over the ops --------------------------------------------------

local gc = A.gradcheck
local cases = {
  add = function() return function(a, b) return a + b end, { rn(3, 1), rn(4) } end,
  sub = function() return function(a, b) return T.sub(a, b) - 2 end, { rn(3), rn(2, 3) } end,
  mul = function() return function(a, b) return a * b * 1.5 end, { rn(2, 3), rn(3) } end,
  div = function() return function(a, b) return a / b end, { rn(3), pos(2, 3) } end,
  div_number = function() return function(b) return 2 / b end, { pos(3) } end,
  neg = function() return function(a) return -a end, { rn(3) } end,
  pow_number = function() return function(a) return a ^ 3 end, { rn(4) } end,
  pow_tensor = function() return function(a, b) return T.pow(a, b) end, { pos(3), rn(3) } end,
  pow_base_number = function() return function(b) return T.pow(2.0, b) end, { rn(3) } end,
  mod = function() return function(a, b) return a % b end, { rn(4) * 3, pos(4) + 1 } end,
  addcmul = function() return function(c, a, b) return T.addcmul(c, a, b) end, { rn(3), rn(3), rn(3) } end,
  atan2 = function() return function(y, x) return T.atan2(y, x) end, { rn(4), pos(4) } end,
  maximum = function() return function(a, b) return T.maximum(a, b) end, { rn(5), rn(5) } end,
  minimum = function() return function(a, b) return T.minimum(a, b) end, { rn(5), rn(5) } end,
  where = function()
    local c = T.gt(rn(4), 0)
    return function(a, b) return T.where(c, a, b) end, { rn(4), rn(4) }
  end,
  clamp = function() return function(a) return T.clamp(a, -0.5, 0.5) end, { unit(6) * 0.9 + 0.03 } end,
  exp = function() return T.exp, { rn(3) } end,
  expm1 = function() return T.expm1, { rn(3) } end,
  log = function() return T.log, { pos(3) } end,
  log1p = function() return T.log1p, { pos(3) } end,
  sqrt = function() return T.sqrt, { pos(3) } end,
  sin = function() return T.sin, { rn(3) } end,
  cos = function() return T.cos, { rn(3) } end,
  tan = function() return T.tan, { unit(3) } end,
  tanh = function() return T.tanh, { rn(3) } end,
  sinh = function() return T.sinh, { rn(3) } end,
  cosh = function() return T.cosh, { rn(3) } end,
  asin = function() return T.asin, { unit(3) } end,
  acos = function() return T.acos, { unit(3) } end,
  atan = function() return T.atan, { rn(3) } end,
  sigmoid = function() return T.sigmoid, { rn(3) } end,
  softplus = function() return T.softplus, { rn(3) } end,
  relu = function() return T.relu, { rn(6) } end,
  abs = function() return T.abs, { rn(6) } end,
  square = function() return T.square, { rn(3) } end,
  reciprocal = function() return T.reciprocal, { pos(3) } end,
  sum_all = function() return function(a) return a:sum() end, { rn(2, 3) } end,
  sum_dim = function() return function(a) return a:sum(2) end, { rn(2, 3, 2) } end,
  sum_dims_keep = function() return function(a) return a:sum({ 1, 3 }, { keepdim = true }) end, { rn(2, 3, 2) } end,
  mean = function() return function(a) return a:mean(1) end, { rn(3, 2) } end,
  mean_all = function() return function(a) return a:mean() end, { rn(3, 2) } end,
  prod = function() return function(a) return a:prod(2) end, { pos(2, 3) } end,
  var = function() return function(a) return a:var(2) end, { rn(2, 4) } end,
  var_all = function() return function(a) return a:var() end, { rn(5) } end,
  std = function() return function(a) return a:std(1, { correction = 0 }) end, { rn(4, 2) } end,
  norm2 = function() return function(a) return a:norm() end, { rn(5) } end,
  norm1_dim = function() return function(a) return a:norm(1, 2) end, { rn(2, 3) } end,
  norm_inf = function() return function(a) return a:norm(math.huge) end, { rn(4) } end,
  logsumexp = function() return function(a) return a:logsumexp(2) end, { rn(3, 4) } end,
  max_dim = function() return function(a) return (a:max(2)) end, { rn(3, 4) } end,
  min_all = function() return function(a) return a:min() end, { rn(5) } end,
  cumsum = function() return function(a) return a:cumsum(2) end, { rn(2, 4) } end,
  dot = function() return function(a, b) return T.dot(a, b) end, { rn(4), rn(4) } end,
  matmul_2d = function() return function(a, b) return a:matmul(b) end, { rn(2, 3), rn(3, 4) } end,
  matmul_batched = function() return function(a, b) return a:matmul(b) end, { rn(2, 2, 3), rn(3, 2) } end,
  matmul_vec = function() return function(a, b) return a:matmul(b) end, { rn(3), rn(3, 2) } end,
  matmul_mat_vec = function() return function(a, b) return a:matmul(b) end, { rn(2, 3), rn(3) } end,
  matmul_dot = function() return function(a, b) return a:matmul(b) end, { rn(3), rn(3) } end,
  linear = function() return function(x, w, b) return T.linear(x, w, b) end, { rn(2, 3, 4), rn(5, 4), rn(5) } end,
  linear_no_bias = function() return function(x, w) return T.linear(x, w) end, { rn(4), rn(2, 4) } end,
  cross_entropy = function()
    local y = T.tensor({ 3, 1, 2, 3 })
    return function(z) return T.cross_entropy(z, y) end, { rn(4, 3) * 3 }
  end,
  mm = function() return function(a, b) return T.mm(a, b) end, { rn(2, 3), rn(3, 2) } end,
  outer = function() return function(a, b) return T.outer(a, b) end, { rn(2), rn(3) } end,
  reshape = function() return function(a) return a:reshape(3, 2) * T.arange(1, 2) end, { rn(2, 3) } end,
  view = function() return function(a) return a:view(6) end, { rn(2, 3) } end,
  flatten = function() return function(a) return a:flatten() end, { rn(2, 3) } end,
  squeeze = function() return function(a) return a:squeeze() end, { rn(2, 1, 3) } end,
  unsqueeze = function() return function(a) return a:unsqueeze(2) end, { rn(2, 3) } end,
  expand = function() return function(a) return a:expand(2, 3, 4) end, { rn(3, 1) } end,
  transpose = function() return function(a) return a:transpose(1, 3) end, { rn(2, 3, 4) } end,
  t = function() return function(a) return a:t() * T.arange(1, 2) end, { rn(2, 3) } end,
  permute = function() return function(a) return a:permute(3, 1, 2) end, { rn(2, 3, 4) } end,
  narrow = function() return function(a) return a:narrow(2, 2, 2) end, { rn(3, 4) } end,
  select = function() return function(a) return a:select(1, 2) end, { rn(3, 4) } end,
  diagonal = function() return function(a) return a:diagonal(1) end, { rn(3, 4) } end,
  split = function() return function(a) local p = a:split(2, 2); return p[1] * 2 + p[2] end, { rn(3, 4) } end,
  chunk = function() return function(a) local p = a:chunk(3, 1); return p[3] - p[1] end, { rn(3, 2) } end,
  cat = function() return function(a, b) return T.cat({ a, b }, 2) end, { rn(2, 3), rn(2, 1) } end,
  stack = function() return function(a, b) return T.stack({ a, b }, 1) end, { rn(3), rn(3) } end,
  index_select = function()
    local idx = T.tensor({ 3, 1, 3 })
    return function(a) return a:index_select(2, idx) end, { rn(2, 3) }
  end,
  gather = function()
    local idx = T.tensor({ { 1, 1 }, { 2, 1 } })
    return function(a) return a:gather(2, idx) end, { rn(2, 3) }
  end,
  masked_fill = function()
    local m = T.gt(rn(3, 3), 0)
    return function(a) return a:masked_fill(m, 1.5) end, { rn(3, 3) }
  end,
  masked_select = function()
    local m = T.gt(rn(3, 3), 0)
    return function(a) return a:masked_select(m) end, { rn(3, 3) }
  end,
  getindex_element = function() return function(a) return a[2] * 2 end, { rn(3) } end,
  getindex_slice = function() return function(a) return a[{ 2, { 1, 2 } }] end, { rn(3, 3) } end,
  getindex_tensor = function()
    local idx = T.tensor({ 2, 2, 1 })
    return function(a) return a[idx] end, { rn(3, 2) }
  end,
  setindex = function()
    return function(a, v) local c = a * 1; c[{ { 1, 2 } }] = v; return c end, { rn(3, 2), rn(2) }
  end,
  clone = function() return function(a) return a:clone() * a end, { rn(3) } end,
  contiguous = function() return function(a) return a:t():contiguous() end, { rn(2, 3) } end,
  astype = function()
    return function(a) return a:astype("f32"):astype("f64") * 1 end, { T.tensor({ 0.5, 1.25 }) }, { eps = 1e-2 }
  end,
  inplace_chain = function()
    return function(a) local c = a * 1; c:mul_(a); c:add_(1); c:tanh_(); return c end, { rn(4) }
  end,
  scatter_add = function()
    local idx = T.tensor({ { 1, 2, 1 } })
    return function(z, s) return (z * 1):scatter_add_(1, idx, s) end, { rn(2, 3), rn(1, 3) }
  end,
  cumprod = function() return function(a) return a:cumprod(2) end, { pos(2, 4) } end,
  set = function() return function(a) local c = a * 2; c:set(1, 2, 5.0); return c * a end, { rn(2, 2) } end,
  copy = function()
    return function(s) return T.zeros(2, 3):copy_(s) end, { rn(3) }
  end,
}

local names = {}
for name in pairs(cases) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  test("gradcheck_" .. name, function()
    local f, inputs, opts = cases[name]()
    truthy(gc(f, inputs, opts))
  end)
end

-- second derivatives of a representative set
for _, name in ipairs({ "mul", "div", "pow_tensor", "exp", "log", "tanh", "sigmoid",
    "softplus", "matmul_batched", "linear", "cross_entropy", "sum_dim", "logsumexp", "var", "narrow", "select",
    "getindex_slice", "index_select", "cat", "norm2", "max_dim", "setindex" }) do
  test("gradgradcheck_" .. name, function()
    local f, inputs = cases[name]()
    truthy(A.gradgradcheck(f, inputs))
  end)
end

-- prod and cumprod at zeros: the rules never divide by x
test("prod_and_cumprod_with_zeros", function()
  local x = T.tensor { 1.0, 0.0, 2.0 }
  check.same(A.grad(function(z) return z:prod() end, x), { 0, 2, 0 }, 0, "prod")
  check.same(A.grad(function(z) return z:cumprod(1):sum() end, x), { 1, 3, 0 }, 0,
             "cumprod")
  local m = T.tensor { { 1.0, 0, 2, 3 }, { 0, 0, 1, 2 }, { 2, 0.5, 4, 1 } }
  check.same(A.grad(function(z) return z:prod(2):sum() end, m),
             { { 0, 6, 0, 0 }, { 0, 0, 0, 0 }, { 2, 8, 1, 4 } }, 0, "prod(2)")
  local xt = x:clone():requires_grad_()
  xt:prod():backward()
  check.same(xt.grad, { 0, 2, 0 }, 0, "prod backward")
  -- y / x lost the gradient where the product underflows
  local tiny = T.tensor { 1e-200, 1e-200, 5.0 }
  check.same(A.grad(function(z) return z:prod() end, tiny), { 5e-200, 5e-200, 0 }, 0,
             "underflow")
end)

-- every entry of prod's and cumprod's gradients against the sum over
-- products of the other factors, on random tensors with random zeros;
-- second derivatives (gradgradcheck) at zeros too
test("prod_and_cumprod_zeros_random", function()
  local gen = T.Generator(5)
  for trial = 1, 12 do
    local x = gen:randn(3, 5) * gen:bernoulli(0.6, { 3, 5 }):astype("f64")
    local dim = trial % 2 + 1
    local gp = A.grad(function(z) return z:prod(dim):sum() end, x)
    local gc_ = A.grad(function(z) return z:cumprod(dim):sum() end, x)
    for i = 1, 3 do
      for j = 1, 5 do
        local p, c = 1, 0
        local n, at = x:size(dim), dim == 1 and i or j
        for k = 1, n do
          local v = dim == 1 and x[k][j] or x[i][k]
          if k ~= at then p = p * v end
          if k >= at then        -- d(cumprod_k)/dx_at for k >= at
            local q = 1
            for l = 1, k do
              if l ~= at then q = q * (dim == 1 and x[l][j] or x[i][l]) end
            end
            c = c + q
          end
        end
        near(gp[i][j], p, 1e-12, "prod trial " .. trial)
        near(gc_[i][j], c, 1e-12, "cumprod trial " .. trial)
      end
    end
    truthy(A.gradgradcheck(function(z) return z:prod(dim) end, { x }))
    truthy(A.gradgradcheck(function(z) return z:cumprod(dim) end, { x }))
  end
  local x = gen:randn(2, 3, 4) * gen:bernoulli(0.7, { 2, 3, 4 }):astype("f64")
  truthy(gc(function(z) return z:prod({ 1, 3 }) end, { x }))
  truthy(A.gradgradcheck(function(z) return z:prod({ 3, 1 }, { keepdim = true }) end, { x }))
  truthy(A.gradgradcheck(function(z) return z:prod() end, { x }))
  truthy(A.gradgradcheck(function(z) return z:cumprod(-1) end, { x }))
end)

-- every registered function of the tensor modules has a backward rule, is
-- declared non-differentiable, or returns no floating tensor at all
test("every_op_has_a_rule", function()
  local utilities = {}   -- return Lua values or act on non-tensors only
  for name in ([[Generator backward detach free get get_rng_state is_contiguous
      is_tensor item manual_seed numel requires_grad_ tobytes retain_grad set_printoptions
      set_rng_state shares_storage size stride totable fft.fftfreq fft.rfftfreq
      sparse.H sparse.astype sparse.conj sparse.diagonal sparse.eigsh sparse.eye
      sparse.free sparse.lattice sparse.nnz sparse.scale sparse.share
      sparse.source sparse.t sparse.triplets]]):gmatch("%S+") do
    utilities[name] = true
  end
  -- written in Lua over recorded ops (stdlib/hebb/_tensor_extra.lua): their
  -- parts carry the gradient (gradchecked in test_tensor_extra.lua)
  for name in ("diff kron logspace meshgrid trapz"):gmatch("%S+") do utilities[name] = true end
  -- T.fuse runs its function eagerly when an argument is tracked, so the
  -- operations record themselves (test_fuse.lua)
  utilities.fuse = true
  local missing = {}
  local function scan(mod, prefix, methods)
    local names = {}
    for k, v in pairs(mod) do if type(v) == "function" then names[k] = true end end
    for k, v in pairs(methods or {}) do if type(v) == "function" then names[k] = true end end
    for k in pairs(names) do
      local key = prefix .. k
      local r = A.rules[key]
      if r == nil and k:sub(-1) == "_" then r = A.rules[key:sub(1, -2)] end
      if r == nil and not utilities[key] and k:sub(1, 1) ~= "_" then
        missing[#missing + 1] = key
      end
    end
  end
  scan(T, "", getmetatable(T.zeros(1)).__methods)
  scan(require "hebb.linalg", "linalg.")
  scan(require "hebb.fft", "fft.")
  scan(require "hebb.sparse", "sparse.")
  table.sort(missing)
  eq(table.concat(missing, " "), "", "ops without a rule")
end)

-- the learning modules document every public function (the REPL's ?name)
test("docstrings", function()
  local hebb = require "hebb"
  local missing = {}
  for _, m in ipairs({ "hebb.autograd", "hebb.nn", "hebb.optim", "hebb.data", "hebb.metrics" }) do
    for k, v in pairs(require(m)) do
      local mt = type(v) == "table" and getmetatable(v)
      local callable = type(v) == "function" or (mt and mt.__call)
      if callable and type(k) == "string" and k:sub(1, 1) ~= "_" and not hebb.doc(v) then
        missing[#missing + 1] = m .. "." .. k
      end
    end
  end
  table.sort(missing)
  eq(table.concat(missing, " "), "", "functions without docstring")
end)

-- random compositions: chains of unary ops, broadcasts and reductions
test("gradcheck_random_compositions", function()
  local gen = T.Generator(11)
  local unary = { T.tanh, T.sin, T.sigmoid, T.softplus, T.exp,
    function(x) return x * x end, function(x) return x:cumsum(1) end,
    function(x) return x:t():contiguous():t() end }
  local binary = { function(a, b) return a + b end, function(a, b) return a * b end,
    function(a, b) return a - 2 * b end, function(a, b) return a:matmul(b:t()) / 3 end }
  for trial = 1, 25 do
    local picks = gen:randint(1, 100, { 6 }):totable()
    local f = function(x, y)
      local h = unary[picks[1] % #unary + 1](x)
      h = binary[picks[2] % #binary + 1](h, y)
      h = unary[picks[3] % #unary + 1](h * 0.5)
      if picks[4] % 2 == 0 then h = h:sum(1, { keepdim = true }) * h end
      return unary[picks[5] % #unary + 1](h * 0.3):mean(picks[6] % 2 + 1)
    end
    local ok, err = pcall(gc, f, { rn(3, 3) * 0.5, rn(3, 3) * 0.5 })
    if not ok then error("trial " .. trial .. ": " .. tostring(err)) end
  end
end)

test("gradcheck_catches_a_wrong_rule", function()
  local wrong = A.Function { name = "wrong_square",
    forward = function(_, x) return x * x end,
    backward = function(_, g) return g end }   -- should be 2 x g
  raises(function() gc(function(x) return wrong(x) end, { rn(3) }) end, "gradcheck: d/d(input 1)")
end)

-- Custom functions ----------------------------------------------------------

test("custom_function", function()
  local cube = A.Function { name = "cube",
    forward = function(ctx, x) ctx:save_for_backward(x); return x ^ 3 end,
    backward = function(ctx, g) local x = ctx.saved[1]; return 3 * g * x * x end }
  truthy(gc(function(x) return cube(x) end, { rn(4) }))
  truthy(A.gradgradcheck(function(x) return cube(x) end, { rn(4) }))
  local x = rn(3):requires_grad_()
  local y = cube(x)
  eq(y.grad_fn, "cube")
  x:detach():mul_(2)
  raises(function() y:sum():backward() end, "modified in place")
  raises(function() A.Function({ forward = 1 }) end, "autograd.Function: forward must be a function, got 1")
end)

-- Versions, in-place and errors ---------------------------------------------

test("saved_tensor_modified_in_place", function()
  local x = rn(3):requires_grad_()
  local h = x * 2
  local y = (h * h):sum()
  A.no_grad(function() h:add_(1) end)
  raises(function() y:backward() end, "'mul' saved for backward (argument 1) was modified in place")
end)

test("inplace_on_leaf_is_an_error", function()
  local x = rn(3):requires_grad_()
  raises(function() x:add_(1) end, "'add_' would modify in place a leaf tensor that requires grad")
  raises(function() x[1] = 0 end, "'setindex_' would modify in place a leaf")
  A.no_grad(function() x:add_(1) end)   -- fine: an update
end)

test("inplace_through_a_view_is_refused", function()
  local m = rn(3, 3):requires_grad_()
  raises(function() m:t():add_(1) end, "'add_' would write in place into a view ('t')")
  raises(function() m[1]:fill_(0) end, "'fill_' would write in place into a view ('getindex')")
  local h = m * 2
  raises(function() h:narrow(1, 1, 2):mul_(3) end, "into a view ('narrow')")
  local c = h:narrow(1, 1, 2):clone()
  c:mul_(3)                                  -- a copy is fine
  c:sum():backward()
  eq(maxdiff(m.grad, T.tensor({ { 6.0, 6, 6 }, { 6, 6, 6 }, { 0, 0, 0 } })), 0)
  A.no_grad(function() m:t():add_(1) end)    -- an update, as optimizers do
end)

test("inplace_on_computed_tensor_is_recorded", function()
  local x = T.tensor({ 0.5, 1.0 }):requires_grad_()
  local h = x * 1
  h:mul_(x)        -- h = x^2
  h:exp_()         -- h = exp(x^2)
  h:sum():backward()
  local want = (x:detach() ^ 2):exp() * 2 * x:detach()
  near(maxdiff(x.grad, want), 0, 1e-12)
end)

test("second_backward_needs_retain_graph", function()
  local x = rn(3):requires_grad_()
  local y = (x:exp()):sum()
  y:backward()
  raises(function() y:backward() end, "a second time")
  local z = (x:exp()):sum()
  z:backward({ retain_graph = true })
  z:backward()
  near(maxdiff(x.grad, 3 * x:detach():exp()), 0, 1e-12)
end)

-- The tape's nodes are C userdata (natives/lua/l_autograd.c): a node is its
-- one output's record, backward lets go of a node's arguments once its
-- rule ran (unless retain_graph), and list arguments with untracked
-- entries (holes in the list of records) still lead to their nodes.
test("tape_nodes_free_their_arguments", function()
  local function run(opts)
    local x = rn(4):requires_grad_()
    local seen = setmetatable({}, { __mode = "v" })
    local y
    do
      local h = x * 2          -- only y's node (exp) keeps h
      seen[1] = h
      y = h:exp():sum()
    end
    y:backward(opts)
    collectgarbage(); collectgarbage()
    near(maxdiff(x.grad, 2 * (x:detach() * 2):exp()), 0, 1e-12)
    return seen[1] ~= nil
  end
  eq(run(), false, "freed after backward")
  eq(run({ retain_graph = true }), true, "kept with retain_graph")
end)

test("tape_node_fields_and_records", function()
  local x = rn(3):requires_grad_()
  local z = x * 3                       -- recorded in C
  local u = T.cat({ T.zeros(2), z, T.ones(1) }) -- recorded in Lua: a list with holes
  eq(z.grad_fn, "mul")
  eq(u.grad_fn, "cat")
  eq(z.requires_grad and not z.is_leaf, true)
  z:retain_grad()
  local w = T.tensor({ 1.0, 2, 3, 4, 5, 6 })
  ;(u * w):sum():backward()
  eq(maxdiff(z.grad, T.tensor({ 3.0, 4, 5 })), 0, "retained gradient of a C node")
  eq(maxdiff(x.grad, T.tensor({ 9.0, 12, 15 })), 0, "through the list's hole")
  local nd = require("hebb._autograd").record(z)
  eq(rawequal(nd.node, nd) and nd.slot == 1 and nd.n == 2, true, "a node is its output's record")
  raises(function() nd.name = "x" end, "field 'name' cannot be set")
end)

test("backward_errors", function()
  local x = rn(3):requires_grad_()
  raises(function() (x * 2):backward() end, "a gradient is needed for a result of shape {3}")
  raises(function() (x * 2):backward(T.ones(2)) end, "must be a tensor of shape {3}")
  raises(function() T.ones(3):backward() end, "does not require grad")
  raises(function() T.tensor({ 1, 2 }):requires_grad_() end, "only floating-point tensors can require grad (got i64)")
  raises(function() (x * 2):requires_grad_() end, "only leaf tensors")
  raises(function() x.grad = T.ones(4) end, "gradient of shape {4} for a tensor of shape {3}")
  raises(function() T.ones(2).grad = T.ones(2) end, "does not require grad")
  raises(function() x.grad = 3 end, "must be a tensor or nil")
  raises(function() A.grad((x * 2):sum(), rn(3)) end, "input 1 does not require grad")
  raises(function() A.grad((x * 2):sum(), { x, rn(2):requires_grad_() }) end, "input 2 was not used")
  raises(function() A.gradcheck(function(a) return a end, { T.ones(2, { dtype = "f32" }) }) end, "must be an f64 tensor")
  local saved = A.rules.cumsum
  A.rules.cumsum = nil        -- as for an op without a rule
  local ok, err = pcall(function() (x:floor() + x:cumsum(1)):sum():backward() end)
  A.rules.cumsum = saved
  eq(ok, false)
  truthy(tostring(err):find("no derivative for 'cumsum'", 1, true), err)
end)

test("ops_returning_their_argument", function()
  -- contiguous() of a contiguous tensor and astype() to its own dtype
  -- return the tensor itself: nothing is recorded, a leaf stays a leaf
  local w = T.tensor({ 1.0, 2.0 }):requires_grad_()
  local c, d = w:contiguous(), w:astype("f64")
  eq(rawequal(c, w) and rawequal(d, w), true)
  eq(w.is_leaf, true)
  ;(c * d):sum():backward()
  eq(maxdiff(w.grad, T.tensor({ 2.0, 4.0 })), 0)
end)

test("nondifferentiable_results_are_untracked", function()
  local x = rn(4):requires_grad_()
  eq(T.gt(x, 0).requires_grad, false)
  eq(x:argmax(1).requires_grad, false)
  eq(x:floor().requires_grad, false)
  eq(T.zeros_like(x).requires_grad, false)
end)

test("gradients_do_not_depend_on_thread_count", function()
  local hebb = require "hebb"
  local gen = T.Generator(4)
  local x, w = gen:randn({ 512, 300 }), gen:randn({ 300, 600 })   -- 92 M multiply-adds
  local function grads()
    local xl, wl = x:clone():requires_grad_(), w:clone():requires_grad_()
    local y = (xl:matmul(wl)):tanh()
    ;(y * y):sum():backward()
    return xl.grad, wl.grad
  end
  local before = hebb.threads()
  hebb.threads(1)
  local a1, b1 = grads()
  hebb.threads(2)
  local a2, b2 = grads()
  hebb.threads(before)
  eq(T.equal(a1, a2), true, "d/dx at 1 and 2 threads")
  eq(T.equal(b1, b2), true, "d/dw at 1 and 2 threads")
end)

test("tracking_is_freed_with_tensors", function()
  local C = require "hebb._autograd"
  collectgarbage(); collectgarbage()
  local before = C.live()
  do
    local x = rn(100):requires_grad_()
    for _ = 1, 50 do (x * 2):tanh():sum():backward() end
  end
  collectgarbage(); collectgarbage()
  eq(C.live(), before, "tracked tensors counted while alive only")
end)

check.done()
