-- test_matmul.lua -- matmul, mm, dot and outer (natives/core/matmul.c,
-- natives/lua/l_linalg.c).  Reference values were computed with numpy at
-- test-writing time and pasted here; random cases are checked against a
-- plain Lua triple loop.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near
local truthy = check.truthy

-- the product by definition, on nested tables (2-d only)
local naive = check.mm

-- max |x - y| over two nested tables
local maxdiff = check.maxdiff

local function bits_equal(x, y)
  return x.dtype == y.dtype and x:equal(y)
end

test("matrix_matrix", function()
  local a = T.tensor{{1, 2, 3}, {4, 5, 6}}:astype("f64")
  local b = T.tensor{{7, 8}, {9, 10}, {11, 12}}:astype("f64")
  local c = T.matmul(a, b)
  eq(c.dtype, "f64"); same(c.shape, {2, 2})
  same(c, {{58, 64}, {139, 154}})
  same(a:matmul(b), {{58, 64}, {139, 154}})
  same(T.mm(a, b), {{58, 64}, {139, 154}})
end)

test("vector_cases", function()
  local x, y = T.tensor{0.1, 0.2, 0.3}, T.tensor{0.4, 0.5, 0.6}
  local d = T.matmul(x, y)
  eq(d.ndim, 0)
  near(d:item(), 0.32, 1e-16, "dot")                       -- numpy: 0.32
  near(T.dot(x, y):item(), 0.32, 1e-16, "T.dot")
  local m = T.tensor{{1, 2, 3}, {4, 5, 6}}:astype("f64")
  local r = T.matmul(T.tensor{1.0, 2.0}, m)                -- row vector
  same(r.shape, {3}); same(r, {9, 12, 15})
  local col = T.matmul(m, T.tensor{1.0, 0.0, -1.0})        -- column vector
  same(col.shape, {2}); same(col, {-2, -2})
end)

test("batched_broadcast", function()
  -- numpy: (np.arange(24.).reshape(2,1,3,4)*0.5-3) @ (np.arange(40.).reshape(5,4,2)*0.25+1)
  local a = (T.arange(0, 23) * 0.5 - 3):reshape(2, 1, 3, 4)
  local b = (T.arange(0, 39) * 0.25 + 1):reshape(5, 4, 2)
  local c = T.matmul(a, b)
  same(c.shape, {2, 5, 3, 2})
  same(c, {{{{-14.5, -16.75}, {-0.5, -0.75}, {13.5, 15.25}}, {{-32.5, -34.75}, {-2.5, -2.75}, {27.5, 29.25}},
            {{-50.5, -52.75}, {-4.5, -4.75}, {41.5, 43.25}}, {{-68.5, -70.75}, {-6.5, -6.75}, {55.5, 57.25}},
            {{-86.5, -88.75}, {-8.5, -8.75}, {69.5, 71.25}}},
           {{{27.5, 31.25}, {41.5, 47.25}, {55.5, 63.25}}, {{57.5, 61.25}, {87.5, 93.25}, {117.5, 125.25}},
            {{87.5, 91.25}, {133.5, 139.25}, {179.5, 187.25}}, {{117.5, 121.25}, {179.5, 185.25}, {241.5, 249.25}},
            {{147.5, 151.25}, {225.5, 231.25}, {303.5, 311.25}}}})
  -- the same in i64 (exact) and f32 (values are exact in f32 too)
  same(T.matmul(a:astype("f32"), b:astype("f32")), c)
  local ai, bi = T.arange(0, 23):reshape(2, 1, 3, 4), T.arange(0, 39):reshape(5, 4, 2)
  local ci = T.matmul(ai, bi)
  eq(ci.dtype, "i64")
  same(ci:astype("f64"), T.matmul(ai:astype("f64"), bi:astype("f64")))
end)

test("batch_times_matrix_and_vector_batches", function()
  local g = T.Generator(5)
  local a, w = g:randn(3, 4, 5), g:randn(5, 2)
  local c = T.matmul(a, w)                       -- folded into one gemm
  same(c.shape, {3, 4, 2})
  for i = 1, 3 do
    check.truthy(maxdiff(c[i]:totable(), naive(a[i], w)) < 1e-13, "batch " .. i)
  end
  local v = g:randn(5)
  local cv = T.matmul(a, v)                      -- {3,4,5} @ {5} -> {3,4}
  same(cv.shape, {3, 4})
  same(cv, T.matmul(a, v:reshape(5, 1)):reshape(3, 4), 1e-15)
  local lv = T.matmul(g:randn(4), a)             -- {4} @ {3,4,5} -> {3,5}
  same(lv.shape, {3, 5})
  local wb = g:randn(3, 5, 2)
  local cb = T.matmul(a, wb)                     -- batch @ batch
  for i = 1, 3 do
    check.truthy(maxdiff(cb[i]:totable(), naive(a[i], wb[i])) < 1e-13, "pair " .. i)
  end
end)

test("transposed_views_no_copy", function()
  -- numpy: A.T @ A for A = [[1.5,-2,0.25],[3,4,-1]]
  local A = T.tensor{{1.5, -2, 0.25}, {3, 4, -1}}
  local want = {{11.25, 9.0, -2.625}, {9.0, 20.0, -4.5}, {-2.625, -4.5, 1.0625}}
  check.truthy(not A:t():is_contiguous(), "A:t() is a strided view")
  local before = hebb.alloc_stats().n_alloc
  local c = T.matmul(A:t(), A)
  eq(hebb.alloc_stats().n_alloc - before, 1, "allocations (the result only)")
  same(c, want)
  same(T.matmul(A:t(), A:t():t()), want)
  same(T.matmul(A:transpose(1, 2), A:contiguous()), want)
  -- both operands transposed, batched, with a permuted batch
  local g = T.Generator(11)
  local x, y = g:randn(6, 4), g:randn(5, 6)
  same(T.matmul(x:t(), y:t()), naive(x:t(), y:t()), 1e-13)
  local xb = g:randn(2, 6, 4)
  local r = T.matmul(xb:transpose(2, 3), y:t())
  for i = 1, 2 do
    check.truthy(maxdiff(r[i]:totable(), naive(xb[i]:t(), y:t())) < 1e-13, "batch " .. i)
  end
end)

test("strided_and_expanded_inputs", function()
  local g = T.Generator(3)
  local big = g:randn(6, 10)
  local s = big[{{1, 6, 2}, {1, 10, 3}}]          -- steps in both dims: copied
  same(s.shape, {3, 4})
  local w = g:randn(4, 3)
  same(T.matmul(s, w), naive(s, w), 1e-13)
  local row = T.tensor{{1.0, 2.0, 3.0}}:expand(4, 3)   -- stride 0 rows
  same(T.matmul(row, T.eye(3)), {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}})
  local neg = T.tensor{{1.0, 2.0}, {3.0, 4.0}}[{{2, 1, -1}}]   -- reversed rows
  eq(neg:stride()[1], -2)
  same(T.matmul(neg, T.eye(2)), {{3, 4}, {1, 2}})
  same(T.matmul(T.eye(2), neg:t()), {{3, 1}, {4, 2}})
  local v = T.tensor{1.0, 9, 2, 9, 3}[{{1, 5, 2}}]  -- strided vector {1,2,3}
  same(T.matmul(T.tensor{{1.0, 1, 1}}, v), {6})
  near(T.dot(v, v):item(), 14, 0)
end)

-- a strided view gives the bits of its contiguous copy (OpenBLAS's
-- strided sdot/ddot loop rounds differently: found by test_selfcheck)
test("dot_strided_view_same_bits", function()
  local gen = T.Generator(45)
  for _, dtype in ipairs({ "f32", "f64", "c128", "c64" }) do
    local x, y = gen:randn({ 1000 }, { dtype = dtype }), gen:randn({ 1000 }, { dtype = dtype })
    local xs = T.zeros(2000, { dtype = dtype })[{ { 1, 1999, 2 } }]
    xs:copy_(x)
    truthy(bits_equal(T.dot(xs, y), T.dot(x, y)), dtype .. " strided x")
    truthy(bits_equal(T.dot(y, xs), T.dot(y, x)), dtype .. " strided y")
  end
end)

test("integer_bool_and_mixed_dtypes", function()
  local a = T.tensor{{1, 2, 3}, {4, 5, 6}}
  local b = T.tensor{{1, 2}, {3, 4}, {5, 6}}
  local c = T.matmul(a, b)
  eq(c.dtype, "i64"); same(c, {{22, 28}, {49, 64}})    -- numpy
  local big = T.tensor{{math.maxinteger}}              -- wraps like Lua
  eq(T.matmul(big, T.tensor{{2}}):item(), math.maxinteger * 2)
  local p = T.tensor{{true, false}, {true, true}}
  local q = T.matmul(p, p)
  eq(q.dtype, "i64"); same(q, {{1, 0}, {2, 1}})
  eq(T.dot(T.tensor{true, true}, T.tensor{true, true}):item(), 2)
  eq(T.matmul(a, b:astype("f32")).dtype, "f32")
  eq(T.matmul(a:astype("f32"), b:astype("f64")).dtype, "f64")
  same(T.matmul(a:astype("f32"), b:astype("f64")), {{22, 28}, {49, 64}})
  eq(T.dot(T.tensor{1, 2}, T.tensor{3, 4}):item(), 11)
  eq(math.type(T.dot(T.tensor{1, 2}, T.tensor{3, 4}):item()), "integer")
end)

test("outer", function()
  local o = T.outer(T.tensor{1, 2, 3}, T.tensor{0.5, -1})   -- numpy
  eq(o.dtype, "f64"); same(o, {{0.5, -1}, {1, -2}, {1.5, -3}})
  local oi = T.tensor{1, 2}:outer(T.tensor{3, 4, 5})
  eq(oi.dtype, "i64"); same(oi, {{3, 4, 5}, {6, 8, 10}})
  same(T.outer(T.tensor{1.0, 2, 3}[{{1, 3, 2}}], T.tensor{2.0}), {{2}, {6}})
end)

test("empty_and_zero_inner", function()
  same(T.matmul(T.zeros(0, 3), T.zeros(3, 2)).shape, {0, 2})
  same(T.matmul(T.ones(2, 0), T.ones(0, 3)), {{0, 0, 0}, {0, 0, 0}})
  same(T.matmul(T.ones(2, 0, {dtype = "i64"}), T.ones(0, 3, {dtype = "i64"})),
       {{0, 0, 0}, {0, 0, 0}})
  eq(T.dot(T.zeros(0), T.zeros(0)):item(), 0.0)
  same(T.matmul(T.zeros(0, 2, 3), T.zeros(3, 4)).shape, {0, 2, 4})
end)

test("out_option", function()
  local a = T.tensor{{1.0, 2}, {3, 4}}
  local o = T.zeros(2, 2)
  local r = T.matmul(a, a, {out = o})
  eq(rawequal(r, o), true, "returns out")
  same(o, {{7, 10}, {15, 22}})
  T.matmul(a, a, {out = a})                 -- out aliases an input
  same(a, {{7, 10}, {15, 22}})
  local ot = T.zeros(2, 2)
  T.matmul(T.tensor{{1.0, 2}, {3, 4}}, T.eye(2), {out = ot:t()})   -- strided out
  same(ot, {{1, 3}, {2, 4}})
  local d = T.zeros()
  T.dot(T.tensor{1.0, 2}, T.tensor{3.0, 4}, {out = d})
  eq(d:item(), 11.0)
end)

-- big products are cut into tiles (natives/core/matmul.c): every tile, in
-- every storage order, must land in the right place
test("tiled_products", function()
  local g = T.Generator(77)
  local cases = {
    {g:randn(1100, 300), g:randn(300, 130)},          -- row tiles
    {g:randn(20, 1500), g:randn(1500, 2100)},         -- column tiles
    {g:randn(300, 1100):t(), g:randn(130, 300):t()},  -- both transposed
    {g:randn(3, 400, 250), g:randn(250, 600)},        -- batch folded, then tiled
  }
  for n, c in ipairs(cases) do
    local a, b = c[1], c[2]
    local r = T.matmul(a, b)
    local rows, cols = r.shape[r.ndim - 1], r.shape[r.ndim]
    local a2 = a.ndim == 3 and a:reshape(a.shape[1] * a.shape[2], a.shape[3]) or a
    local r2 = r.ndim == 3 and r:reshape(rows * r.shape[1], cols) or r
    for _, ij in ipairs{{1, 1}, {r2.shape[1], cols}, {r2.shape[1] // 2 + 1, cols // 2 + 1},
                        {r2.shape[1], 1}, {1, cols}, {r2.shape[1] - 1, cols - 1}} do
      local i, j = ij[1], ij[2]
      local want = T.dot(a2[i]:contiguous(), b[{{}, j}]:contiguous()):item()
      near(r2:get(i, j), want, 1e-11, "case " .. n .. " element " .. i .. "," .. j)
    end
  end
end)

test("threads_same_bits", function()
  local g = T.Generator(2024)
  local a, b = g:randn(300, 200), g:randn(200, 100)
  local ab, bb = g:randn(64, 16, 16), g:randn(64, 16, 16)
  local m, v = g:randn(1000, 3000), g:randn(3000)
  local x = g:randn(100003)
  local p, q = g:randn(700, 500), g:randn(500, 300)   -- big enough to be tiled
  local old = hebb.threads()
  hebb.threads(1)
  local r1, s1, t1, d1 = T.matmul(a, b), T.matmul(ab, bb), T.matmul(m, v), T.dot(x, x)
  local f1, b1 = T.matmul(a:astype("f32"), b:astype("f32")), T.matmul(p, q)
  hebb.threads(2)
  local r2, s2, t2, d2 = T.matmul(a, b), T.matmul(ab, bb), T.matmul(m, v), T.dot(x, x)
  local f2, b2 = T.matmul(a:astype("f32"), b:astype("f32")), T.matmul(p, q)
  hebb.threads(old)
  check.truthy(bits_equal(b1, b2), "tiled gemm")
  check.truthy(bits_equal(r1, r2), "gemm")
  check.truthy(bits_equal(s1, s2), "batched gemm")
  check.truthy(bits_equal(t1, t2), "matrix-vector")
  check.truthy(bits_equal(f1, f2), "f32 gemm")
  eq(d1:item(), d2:item(), "dot")
  check.truthy(maxdiff(r1[1]:totable(), naive(a[{{1}}], b)[1]) < 1e-12, "gemm value")
end)

test("errors", function()
  raises(function() T.matmul(T.ones(2, 3), T.ones(4, 5)) end,
         "matmul: shapes {2,3} and {4,5} do not align (3 ≠ 4)")
  raises(function() T.matmul(T.ones(3), T.ones(4)) end,
         "matmul: shapes {3} and {4} do not align (3 ≠ 4)")
  raises(function() T.matmul(T.ones(2, 2, 3), T.ones(3, 3, 2)) end,
         "matmul: batch dimensions of shapes {2,2,3} and {3,3,2} do not broadcast (2 vs 3)")
  raises(function() T.matmul(T.ones(), T.ones(3)) end,
         "matmul: operand 1 is 0-dimensional (use * to multiply by a scalar)")
  raises(function() T.matmul(T.ones(3), T.ones()) end, "operand 2 is 0-dimensional")
  raises(function() T.mm(T.ones(3), T.ones(3, 2)) end, "mm: expects two 2-d tensors (got 1-d and 2-d)")
  raises(function() T.dot(T.ones(3), T.ones(4)) end, "dot: lengths 3 and 4 differ")
  raises(function() T.dot(T.ones(3, 1), T.ones(3)) end,
         "dot: expects two 1-d tensors (got shapes {3,1} and {3})")
  raises(function() T.outer(T.ones(3), T.ones(2, 2)) end, "outer: expects two 1-d tensors")
  raises(function() T.matmul(T.ones(2, 2), T.ones(2, 2), {out = T.zeros(3)}) end,
         "matmul: out has shape {3}, result has {2,2}")
  raises(function() T.matmul(T.ones(2, 2), T.ones(2, 2), {out = T.zeros(2, 2, {dtype = "f32"})}) end,
         "matmul: out has dtype f32, result is f64")
  raises(function() T.matmul(T.ones(2, 2), T.ones(2, 2), {out = T.zeros(1, 2):expand(2, 2)}) end,
         "matmul: cannot write into a broadcast")
  raises(function() T.matmul(T.ones(2, 2), 3) end, "tensor expected")
  raises(function() T.matmul(T.ones(2, 2), T.ones(2, 2), 5) end, "options table expected")
  -- a failed call leaves out unchanged
  local o = T.full({2, 2}, 7.0)
  pcall(T.matmul, T.ones(2, 3), T.ones(2, 3), {out = o})
  same(o, {{7, 7}, {7, 7}})
end)

test("docstrings", function()
  for _, name in ipairs{"matmul", "mm", "dot", "outer"} do
    local d = hebb.doc(T[name])
    check.truthy(d and d:find("^T%." .. name), name .. " has a docstring")
  end
end)

test("linear_is_x_Wt_plus_b", function()
  T.manual_seed(5)
  local x, W, b = T.randn(3, 7, 5), T.randn(4, 5), T.randn(4)
  local want = x:matmul(W:t()) + b
  near((T.linear(x, W, b) - want):abs():max(), 0, 1e-13)
  near((T.linear(x, W) - x:matmul(W:t())):abs():max(), 0, 1e-13)
  local xf, Wf, bf = x:astype("f32"), W:astype("f32"), b:astype("f32")
  local yf = T.linear(xf, Wf, bf)
  eq(yf.dtype, "f32")
  near((yf:astype("f64") - want):abs():max(), 0, 1e-4)
  -- into a strided out, and into an out that is the input itself
  local o = T.zeros(4, 7, 3):permute(3, 2, 1)
  T.linear(x, W, b, {out = o})
  near((o - want):abs():max(), 0, 1e-13)
  local sq = T.randn(6, 4)
  local W4 = T.randn(4, 4)
  local want_sq = sq:matmul(W4:t()) + b
  T.linear(sq, W4, b, {out = sq})
  near((sq - want_sq):abs():max(), 0, 1e-13)
  eq(T.equal(T.linear(T.tensor({1, 2, 3}), T.tensor({{1, 1, 1}}), T.tensor({5})), T.tensor({11})), true)
  raises(function() T.linear(x, T.randn(4, 3), b) end, "input of shape {3,7,5} does not fit a weight of shape {4,3}")
  raises(function() T.linear(x, W, T.randn(5)) end, "bias of shape {5} for 4 outputs")
  raises(function() T.linear(x, W:reshape(20), b) end, "does not fit a weight of shape {20}")
end)

test("cross_entropy_rows", function()
  local z = T.tensor({{1.0, 2.0, 3.0}, {1000.0, -1000.0, 0.0}})
  local l = T.cross_entropy(z, T.tensor({3, 2}))
  near(l[1], math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3, 1e-14)
  near(l[2], 2000, 1e-9)               -- finite: shifted by the row maximum
  local lf = T.cross_entropy(z:astype("f32"), T.tensor({1, 1}))
  eq(lf.dtype, "f32")
  near(lf[1], math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 1, 1e-6)
  local zt = T.randn(3, 5):t()       -- strided rows
  near((T.cross_entropy(zt, T.tensor({1, 2, 3, 1, 2})) -
        (zt:logsumexp(2) - zt:gather(2, T.tensor({{1}, {2}, {3}, {1}, {2}})):view(5))):abs():max(), 0, 1e-14)
  raises(function() T.cross_entropy(z, T.tensor({1, 4})) end, "label 4 at position 2 is outside 1..3")
  raises(function() T.cross_entropy(z, T.tensor({1, 0})) end, "label 0 at position 2 is outside 1..3")
  raises(function() T.cross_entropy(z, T.tensor({1.0, 2.0})) end, "labels must be an i64 tensor, got f64")
  raises(function() T.cross_entropy(z, T.tensor({1})) end, "logits {N, C} and labels {N} expected, got {2,3} and {1}")
  raises(function() T.cross_entropy(z:astype("i64"), T.tensor({1, 1})) end, "logits must be f64 or f32, got i64")
end)

-- Empty dimensions, with numpy's shapes (numpy 1.24's np.matmul on these
-- shapes, pinned; false: numpy refuses).  Inputs 2 and 3 everywhere, so
-- every result element is 6 k (k the contracted size): 0 when k = 0.
local EMPTY = {
  {{0}, {0}, {}},
  {{2,0}, {0,3}, {2,3}},
  {{0,2}, {2,3}, {0,3}},
  {{2,3}, {3,0}, {2,0}},
  {{0}, {0,3}, {3}},
  {{2,0}, {0}, {2}},
  {{4,2,0}, {0,3}, {4,2,3}},
  {{0,2,3}, {3,4}, {0,2,4}},
  {{2,0,3}, {3,4}, {2,0,4}},
  {{1,2,0}, {5,0,3}, {5,2,3}},
  {{0}, {0,0}, {0}},
  {{3,0}, {0,0}, {3,0}},
  {{0,0}, {0,0}, {0,0}},
  {{3}, {0,3,2}, {0,2}},
  {{1,1,2}, {0,2,4}, {0,1,4}},
  {{2,1,0,2}, {3,2,5}, {2,3,0,5}},
  {{0}, {2,0,3}, {2,3}},
  {{0,1,2}, {3,2,4}, false},
}

local function all_equal(t, v)
  return t:numel() == 0 or T.equal(t, T.full(t.shape, v, {dtype = t.dtype}))
end

test("empty_dims_match_numpy", function()
  for _, c in ipairs(EMPTY) do
    local sa, sb, want = c[1], c[2], c[3]
    local k = sa[#sa]
    for _, dt in ipairs{"f64", "f32", "i64", "c128"} do
      local a, b = T.full(sa, 2, {dtype = dt}), T.full(sb, 3, {dtype = dt})
      local what = dt .. " " .. table.concat(sa, "x") .. " @ " .. table.concat(sb, "x")
      if want then
        local r = T.matmul(a, b)
        same(r.shape, want, 0, what)
        eq(all_equal(r, 6 * k), true, what)
        local o = T.full(want, 7, {dtype = dt})
        T.matmul(a, b, {out = o})
        eq(all_equal(o, 6 * k), true, what .. " out")
      else
        raises(function() return T.matmul(a, b) end, "do not broadcast")
      end
    end
  end
  -- mm, dot, outer, tensordot, einsum, ncon: the same rule
  eq(T.mm(T.ones(2, 0), T.ones(0, 3)):sum(), 0.0)
  same(T.mm(T.ones(0, 2), T.ones(2, 3)).shape, {0, 3})
  eq(T.dot(T.ones(0), T.ones(0)):item(), 0.0)
  same(T.outer(T.ones(0), T.ones(3)).shape, {0, 3})
  same(T.tensordot(T.ones(2, 0), T.ones(0, 3), 1), T.zeros(2, 3))
  same(T.tensordot(T.ones(2, 0), T.ones(3), 0).shape, {2, 0, 3})
  same(T.einsum("ij,jk->ik", T.ones(2, 0), T.ones(0, 3)), T.zeros(2, 3))
  eq(T.einsum("i,i->", T.ones(0), T.ones(0)):item(), 0.0)
  eq(T.einsum("ij->", T.ones(2, 0)):item(), 0.0)
  same(T.einsum("ij->j", T.ones(0, 3)), {0, 0, 0})
  same(T.einsum("ii->i", T.ones(0, 0)).shape, {0})
  same(T.ncon({T.ones(2, 0), T.ones(0, 3)}, {{-1, 1}, {1, -2}}), T.zeros(2, 3))
end)

-- linear with an empty contraction is the bias alone; it was ignored.
test("linear_empty_dims", function()
  local bias = T.tensor{1.0, 2, 3}
  same(T.linear(T.zeros(2, 0), T.zeros(3, 0), bias), {{1, 2, 3}, {1, 2, 3}})
  same(T.linear(T.zeros(2, 0, {dtype = "f32"}), T.zeros(3, 0, {dtype = "f32"}),
                bias:astype("f32")), {{1, 2, 3}, {1, 2, 3}})
  same(T.linear(T.zeros(2, 0, {dtype = "i64"}), T.zeros(3, 0, {dtype = "i64"}),
                T.tensor{1, 2, 3}), {{1, 2, 3}, {1, 2, 3}})
  same(T.linear(T.zeros(4, 2, 0), T.zeros(3, 0), bias)[{4, 2}], {1, 2, 3})
  same(T.linear(T.zeros(2, 0), T.zeros(3, 0)), T.zeros(2, 3))
  same(T.linear(T.zeros(0, 4), T.zeros(3, 4), bias).shape, {0, 3})
  same(T.linear(T.zeros(2, 4), T.zeros(0, 4), T.zeros(0)).shape, {2, 0})
  local o = T.full({2, 3}, 9.0)
  T.linear(T.zeros(2, 0), T.zeros(3, 0), bias, {out = o})
  same(o, {{1, 2, 3}, {1, 2, 3}})
end)

check.done()
