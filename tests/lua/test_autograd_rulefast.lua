-- test_autograd_rulefast.lua -- the rules an MLP's loss:backward() runs
-- (_cross_entropy_mean, linear, _linear_relu) outside a recording: the
-- ReLU mask and the bias gradient from one pass (C.relu_grad_sum), the
-- cross-entropy mean's gradient in one call (C.xent_mean_grad), the linear
-- rule without reshaped views and conjugates for 2-D real operands
-- (C.real_2d).  Each must give the bits of the general form it replaces
-- (the tensor operations the rules wrote before), at 1 and 2 threads, fall
-- back where it does not apply, and leave create_graph's recorded forms
-- alone.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local nn = require "hebb.nn"
local C = require "hebb._autograd"
local rules = require("hebb._autograd_engine").rules
local test, eq, truthy, raises = check.test, check.eq, check.truthy, check.raises
local same_bits = check.same_bits

T.manual_seed(17)
math.randomseed(17)

local dtypes = { "f64", "f32" }

local at_threads = check.at_threads

local same_values = check.same_values

-- random values, a fraction p of them +-0, +-inf or NaN
local function specials(shape, dtype, p)
  local t = T.randn(shape, { dtype = dtype })
  local n = t:numel()
  if n == 0 or p == 0 then return t end
  local flat = t:reshape(n)
  local pool = { 0.0, -0.0, math.huge, -math.huge, 0 / 0 }
  for _ = 1, math.max(1, math.floor(n * p)) do
    flat[math.random(n)] = pool[math.random(#pool)]
  end
  return t
end

-- a bad argument's error names the function, the argument and the value
local function bad_arg(fn, n, name, got)
  local ok, err = pcall(fn)
  truthy(not ok, name .. ": raised")
  err = tostring(err)
  truthy(err:find("bad argument #" .. n .. " to '", 1, true), err)
  truthy(err:find(name .. "' (tensor expected, got " .. got .. ")", 1, true), err)
end

-- the sizes that matter to the order of the column sums: fewer rows than
-- the 16 lanes, a multiple of them, more than a block of 4096 rows; tiles
-- of 64 columns, and fewer
local row_sizes = { 0, 1, 2, 7, 15, 16, 17, 33, 64, 100 }
local col_sizes = { 0, 1, 2, 5, 63, 64, 65, 130 }

test("relu_grad_sum_has_the_bits_of_relu_grad_then_sum", function()
  for trial = 1, 40 do
    local dt = dtypes[trial % 2 + 1]
    local rows = row_sizes[math.random(#row_sizes)]
    local cols = col_sizes[math.random(#col_sizes)]
    local p = ({ 0, 0.05, 0.3 })[math.random(3)]
    local g, y = specials({ rows, cols }, dt, p), specials({ rows, cols }, dt, p)
    local what = string.format("trial %d %s {%d, %d}", trial, dt, rows, cols)
    local d, s = C.relu_grad_sum(g, y)
    local want = g * T.sign(y)
    same_values(d, want, what .. " mask")
    same_values(s, want:sum(1), what .. " sum")
    -- the bits of the one-pass ReLU kernel it extends (NaN payloads aside:
    -- g and y both NaN give either's)
    same_values(d, C.relu_grad(g, y), what .. " against relu_grad")
  end
end)

test("relu_grad_sum_over_blocks_other_ranks_and_threads", function()
  -- more rows than a block (4096): the block results add up in order;
  -- wide enough that 2 threads split the columns
  for _, dt in ipairs(dtypes) do
    for _, shape in ipairs({ { 4097, 3 }, { 8200, 70 }, { 4100, 130 } }) do
      local g, y = specials(shape, dt, 0.01), specials(shape, dt, 0.01)
      local res = {}
      for _, n in ipairs({ 1, 2 }) do
        at_threads(n, function()
          local d, s = C.relu_grad_sum(g, y)
          res[n] = { d, s }
          local want = g * T.sign(y)
          same_values(d, want, dt .. " mask, threads " .. n)
          same_values(s, want:sum(1), dt .. " sum, threads " .. n)
        end)
      end
      same_bits(res[1][1], res[2][1], dt .. " mask at 1 and 2 threads")
      same_bits(res[1][2], res[2][2], dt .. " sum at 1 and 2 threads")
    end
    -- a 1-D g is one row; a 3-D one sums over its two leading dimensions
    local g, y = specials({ 9 }, dt, 0.3), specials({ 9 }, dt, 0.3)
    local _, s1 = C.relu_grad_sum(g, y)
    same_values(s1, (g * T.sign(y)):reshape(1, 9):sum(1), dt .. " 1-D")
    g, y = specials({ 3, 11, 20 }, dt, 0.1), specials({ 3, 11, 20 }, dt, 0.1)
    local d3, s3 = C.relu_grad_sum(g, y)
    eq(table.concat(d3.shape, ","), "3,11,20", dt .. " 3-D mask shape")
    same_values(s3, (g * T.sign(y)):reshape(-1, 20):sum(1), dt .. " 3-D sum")
  end
end)

test("relu_grad_sum_declines_and_errors", function()
  local g, y = T.randn(4, 3), T.randn(4, 3)
  eq(C.relu_grad_sum(g, y:astype("f32")), false, "mixed dtypes")
  eq(C.relu_grad_sum(g:astype("f32"), y), false, "mixed dtypes (f32 g)")
  eq(C.relu_grad_sum(T.randn(3, 4):t(), y), false, "a transposed g")
  eq(C.relu_grad_sum(g, T.randn(3, 4):t()), false, "a transposed y")
  eq(C.relu_grad_sum(g, T.randn(3, 4)), false, "other shapes")
  eq(C.relu_grad_sum(g, T.randn(12)), false, "other ranks")
  eq(C.relu_grad_sum(T.tensor(1.0), T.tensor(2.0)), false, "0-d")
  eq(C.relu_grad_sum(T.ones(4, 3, { dtype = "i64" }), T.ones(4, 3, { dtype = "i64" })),
     false, "integers")
  eq(C.relu_grad_sum(g:astype("c128"), y:astype("c128")), false, "complex")
  bad_arg(function() C.relu_grad_sum(nil, y) end, 1, "relu_grad_sum", "nil")
  bad_arg(function() C.relu_grad_sum(g, "y") end, 2, "relu_grad_sum", "string")
end)

test("real_2d_says_where_the_linear_rule_needs_no_views", function()
  local m, v, c = T.randn(3, 4), T.randn(4), T.randn(3, 4):astype("c64")
  eq(C.real_2d(m, m, m), true, "2-D f64")
  eq(C.real_2d(m:astype("f32"), m:t(), v), true, "any layout, w of any rank")
  eq(C.real_2d(v, m, m), false, "1-D g")
  eq(C.real_2d(m, T.randn(2, 3, 4), m), false, "3-D x")
  eq(C.real_2d(c, m, m), false, "complex g")
  eq(C.real_2d(m, c, m), false, "complex x")
  eq(C.real_2d(m, m, c), false, "complex w")
  bad_arg(function() C.real_2d(m, m, 1) end, 3, "real_2d", "number")
end)

-- the rule's general form before the one-call path: the mean's weight,
-- expanded, then the cross-entropy rows
local function xent_general(z, y, g, lz)
  local n = z.shape[1]
  return T._cross_entropy_grad(z, y, (g:reshape({ 1 }) / n):expand({ n }), lz)
end

test("xent_mean_grad_has_the_bits_of_the_mean_then_cross_entropy_grad", function()
  local gs = { 1.0, -0.0, 0.0, 2.5, -3.0, 1 / 3, 1e-30, math.huge, -math.huge, 0 / 0 }
  for trial = 1, 40 do
    local dt = dtypes[trial % 2 + 1]
    local n, c = ({ 0, 1, 2, 3, 17, 64, 100 })[math.random(7)], math.random(1, 12)
    local z = specials({ n, c }, dt, ({ 0, 0, 0.1 })[math.random(3)]) * 3
    local y = T.randint(1, c, n)
    local g = T.tensor(gs[math.random(#gs)] * (trial > 20 and math.random() or 1),
                       { dtype = dt })
    local keep = {}
    T._cross_entropy_mean(z, y, keep)
    local lz = keep[1]
    local what = string.format("trial %d %s {%d, %d} g=%s", trial, dt, n, c, g:item())
    same_bits(C.xent_mean_grad(z, y, g, lz), xent_general(z, y, g, lz), what .. " saved lz")
    same_bits(C.xent_mean_grad(z, y, g), xent_general(z, y, g), what .. " no lz")
    -- a one-element g of another shape is the same number
    same_bits(C.xent_mean_grad(z, y, g:reshape(1, 1), lz), xent_general(z, y, g, lz),
              what .. " {1, 1} g")
  end
  -- many rows: more than one thread's share
  for _, dt in ipairs(dtypes) do
    local z, y = T.randn(3000, 40, { dtype = dt }), T.randint(1, 40, 3000)
    local g = T.tensor(0.7, { dtype = dt })
    local res = {}
    for _, t in ipairs({ 1, 2 }) do
      at_threads(t, function() res[t] = C.xent_mean_grad(z, y, g) end)
    end
    same_bits(res[1], xent_general(z, y, g), dt .. " 1 thread")
    same_bits(res[2], res[1], dt .. " 2 threads")
  end
end)

test("xent_mean_grad_declines_and_errors", function()
  local z, y = T.randn(4, 3), T.tensor({ 1, 3, 2, 2 })
  local g = T.tensor(1.0)
  eq(C.xent_mean_grad(z, y, g:astype("f32")), false, "g of another dtype")
  eq(C.xent_mean_grad(z, y, T.ones(2)), false, "two elements in g")
  eq(C.xent_mean_grad(z:reshape(12), y, g), false, "1-D logits")
  eq(C.xent_mean_grad(z:astype("i64"), y, T.tensor(1, { dtype = "i64" })), false, "integers")
  eq(C.xent_mean_grad(z, y, g, T.zeros(3)), false, "log-normalizers of another length")
  eq(C.xent_mean_grad(z, y, g, T.zeros(4, { dtype = "f32" })), false, "of another dtype")
  local lz = T.zeros(8):narrow(1, 3, 4)      -- contiguous, at an offset
  same_bits(C.xent_mean_grad(z, y, g, lz), xent_general(z, y, g, lz), "a narrowed lz")
  eq(C.xent_mean_grad(z, y, g, T.zeros(4, 2):select(2, 1)), false, "a strided lz")
  raises(function() C.xent_mean_grad(z, T.tensor({ 1, 4, 2, 2 }), g) end,
         "cross_entropy_mean_grad: label 4 at position 2 is outside 1..3")
  raises(function() C.xent_mean_grad(z, y:astype("f64"), g) end,
         "cross_entropy_mean_grad: labels must be an i64 tensor, got f64")
  bad_arg(function() C.xent_mean_grad(z, y, 1.0) end, 3, "xent_mean_grad", "number")
  bad_arg(function() C.xent_mean_grad(z, y, g, "lz") end, 4, "xent_mean_grad", "string")
end)

-- a rule called as the engine calls it outside a recording; need[i] true
-- (not a leaf's record, so no gradient goes into a buffer)
local function run_rule(name, g, args, out, need)
  local res
  A.no_grad(function() res = { rules[name].fn(g, args, out, need) } end)
  return res
end

test("linear_and_linear_relu_rules_have_the_bits_of_their_general_forms", function()
  for trial = 1, 30 do
    local dt = dtypes[trial % 2 + 1]
    local n, nin, nout = math.random(0, 40), math.random(1, 30), math.random(1, 20)
    local p = ({ 0, 0.1 })[math.random(2)]
    local x, w, b = specials({ n, nin }, dt, 0), T.randn(nout, nin, { dtype = dt }),
                    T.randn(nout, { dtype = dt })
    local g, out = specials({ n, nout }, dt, p), T.relu(specials({ n, nout }, dt, p))
    local need = { true, true, true }
    local what = string.format("trial %d %s n=%d %dx%d", trial, dt, n, nout, nin)
    -- linear: the general form views g and x as {N, out} and {N, in}
    local r = run_rule("linear", g, { x, w, b }, nil, need)
    same_bits(r[1], g:matmul(w), what .. " linear gx")
    same_bits(r[2], g:t():matmul(x), what .. " linear gw")
    same_bits(r[3], g:sum(1), what .. " linear gb")
    -- the same layer on a {1, N, in} input takes the general form
    local r3 = run_rule("linear", g:view(1, n, nout), { x:view(1, n, nin), w, b }, nil, need)
    same_bits(r3[2], r[2], what .. " 3-D gw")
    same_bits(r3[3], r[3], what .. " 3-D gb")
    same_bits(r3[1]:view(n, nin), r[1], what .. " 3-D gx")
    -- linear + ReLU: the ReLU's g * sign(y), then the linear rule
    local d = g * T.sign(out)
    local rr = run_rule("_linear_relu", g, { x, w, b }, out, need)
    same_values(rr[1], d:matmul(w), what .. " linear_relu gx")
    same_values(rr[2], d:t():matmul(x), what .. " linear_relu gw")
    same_values(rr[3], d:sum(1), what .. " linear_relu gb")
    -- only what is needed
    local only_w = run_rule("_linear_relu", g, { x, w, b }, out, { false, true, false })
    eq(only_w[1], nil, what .. " no gx")
    eq(only_w[3], nil, what .. " no gb")
    same_bits(only_w[2], rr[2], what .. " gw alone")
    local only_b = run_rule("linear", g, { x, w, b }, nil, { false, false, true })
    eq(only_b[1] == nil and only_b[2] == nil, true, what .. " gb alone")
    same_bits(only_b[3], r[3], what .. " gb alone")
  end
end)

test("linear_relu_rule_falls_back_for_views_and_complex", function()
  local x, w, b = T.randn(5, 4), T.randn(3, 4), T.randn(3)
  local gt = T.randn(3, 5):t()                 -- not contiguous
  local out = T.relu(T.randn(5, 3))
  local r = run_rule("_linear_relu", gt, { x, w, b }, out, { true, true, true })
  local d = gt * T.sign(out)
  same_bits(r[3], d:sum(1), "transposed g: gb")
  check.near(check.maxdiff(r[2], d:t():matmul(x)), 0, 1e-12, "transposed g: gw")
  -- complex weights: the conjugates of the general form
  local xc, wc = T.randn(5, 4):astype("c128"), (T.randn(3, 4) + T.I * T.randn(3, 4))
  local gc = T.randn(5, 3):astype("c128")
  local rc = run_rule("linear", gc, { xc, wc, nil }, nil, { true, true, false })
  same_bits(rc[1], gc:matmul(T.conj(wc)), "complex gx")
  same_bits(rc[2], gc:t():matmul(T.conj(xc)), "complex gw")
end)

-- the MLP's gradients, and the same computed by hand from the general
-- forms on the forward's values
local function mlp(nin, nh, nout, dt)
  return nn.Sequential(nn.Linear(nin, nh, { dtype = dt }), nn.ReLU(),
                       nn.Linear(nh, nout, { dtype = dt }))
end

local function by_hand(m, x, y)
  local W1, b1, W2, b2 = m[1].weight:detach(), m[1].bias:detach(),
                         m[3].weight:detach(), m[3].bias:detach()
  local h = T._linear_relu(x, W1, b1)
  local z = T.linear(h, W2, b2)
  local n = z.shape[1]
  local dz = T._cross_entropy_grad(z, y, (T.ones({}, { dtype = z.dtype }):reshape({ 1 }) / n)
                                          :expand({ n }))
  local dh = dz:matmul(W2)
  local d = dh * T.sign(h)
  return { d:t():matmul(x), d:sum(1), dz:t():matmul(h), dz:sum(1) }
end

test("mlp_backward_has_the_bits_of_the_general_forms_at_1_and_2_threads", function()
  for trial = 1, 10 do
    local dt = dtypes[trial % 2 + 1]
    local nin, nh, nout = math.random(1, 60), math.random(1, 90), math.random(2, 12)
    local n = ({ 1, 2, 5, 16, 17, 64, 300 })[math.random(7)]
    if trial <= 2 then nin, nh, nout, n = 784, 256, 10, 64 end
    local m = mlp(nin, nh, nout, dt)
    local x, y = T.randn(n, nin, { dtype = dt }), T.randint(1, nout, n)
    local want = by_hand(m, x, y)
    local got = {}
    for _, t in ipairs({ 1, 2 }) do
      at_threads(t, function()
        m:zero_grad()
        nn.cross_entropy(m(x), y):backward()
        got[t] = {}
        for i, p in ipairs(m:parameters()) do got[t][i] = p.grad:clone() end
      end)
    end
    for i = 1, 4 do
      local what = string.format("trial %d %s n=%d %d-%d-%d parameter %d", trial, dt, n,
                                 nin, nh, nout, i)
      same_bits(got[1][i], want[i], what)
      same_bits(got[2][i], got[1][i], what .. " at 2 threads")
    end
  end
end)

test("create_graph_records_the_general_forms_and_differentiates", function()
  for _, dt in ipairs(dtypes) do
    local m = mlp(6, 7, 4, dt)
    local x, y = T.randn(9, 6, { dtype = dt }), T.randint(1, 4, 9)
    m:zero_grad()
    nn.cross_entropy(m(x), y):backward()
    local fast = {}
    for i, p in ipairs(m:parameters()) do fast[i] = p.grad:clone() end
    m:zero_grad()
    nn.cross_entropy(m(x), y):backward({ create_graph = true })
    local ps = m:parameters()
    local tol = dt == "f64" and 1e-12 or 1e-5
    for i, p in ipairs(ps) do
      truthy(p.grad.requires_grad, dt .. " .grad " .. i .. " is recorded")
      check.near(check.maxdiff(p.grad:detach(), fast[i]), 0, tol, dt .. " values " .. i)
    end
    -- d/dW1 of sum(dL/db1 ^ 2): through the ReLU mask and the mean's rule
    local s = (ps[2].grad * ps[2].grad):sum() + (ps[4].grad * ps[3].grad:sum(2)):sum()
    local h = A.grad(s, { ps[1], ps[3] })
    eq(table.concat(h[1].shape, ","), "7,6", dt .. " second derivative shape")
    truthy(h[2]:abs():sum() > 0, dt .. " a second derivative through the loss")
  end
  -- gradcheck and gradgradcheck through the three ops (f64)
  local m = mlp(3, 4, 3, "f64")
  local y = T.tensor({ 1, 3, 2, 2, 1 })
  local function f(xx) return nn.cross_entropy(m(xx), y) end
  local x = T.randn(5, 3)
  truthy(A.gradcheck(f, { x }), "gradcheck")
  truthy(A.gradgradcheck(f, { x }), "gradgradcheck")
end)
