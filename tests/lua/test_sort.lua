-- test_sort.lua -- sort/argsort (stable), topk, unique, searchsorted, histc:
-- against a reference written here (a stable sort of (value, position)
-- pairs), on random tensors with ties, every dtype, strided inputs, NaN
-- and -0.0, errors, gradients and thread counts.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local hebb = require "hebb"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises

T.manual_seed(7)

-- the stable order of a Lua list: positions sorted by value, ties by position
local function ref_order(v, desc)
  local p = {}
  for i = 1, #v do p[i] = i end
  table.sort(p, function(i, j)
    local a, b = v[i], v[j]
    if a ~= b then
      if desc then return a > b end
      return a < b
    end
    return i < j
  end)
  return p
end

-- rows of a 2-d tensor along dim 2, as the reference sorts them
local function check_rows(x, desc)
  local v, idx = T.sort(x, 2, { descending = desc })
  local xt, vt, it = x:totable(), v:totable(), idx:totable()
  for r = 1, #xt do
    local p = ref_order(xt[r], desc)
    for k = 1, #p do
      eq(it[r][k], p[k], "index")
      eq(vt[r][k], xt[r][p[k]], "value")
    end
  end
end

test("sort_matches_stable_reference_with_ties", function()
  local x = T.randint(1, 5, 7, 40):to("f64")   -- many ties
  check_rows(x, false)
  check_rows(x, true)
  local y = T.randn(3, 100)
  check_rows(y, false)
  check_rows(y, true)
end)

test("sort_along_every_dim_of_3d_and_strided", function()
  local x = T.randint(1, 4, 3, 4, 5):to("f64")
  for d = 1, 3 do
    local v, i = x:sort(d)
    same(v, x:gather(d, i), 0)
    -- sorted along d: successive differences >= 0
    local n = x:size(d)
    eq((v:narrow(d, 2, n - 1) - v:narrow(d, 1, n - 1)):lt(0):any(), false, "sorted")
    -- the same as sorting the dim moved last (a contiguous layout)
    local vt, it = x:transpose(d, 3):contiguous():sort(3)
    same(i, it:transpose(d, 3), 0)
    same(v, vt:transpose(d, 3), 0)
  end
  local s = T.randn(6, 5):transpose(1, 2)       -- non-contiguous input
  same(T.sort(s, 1), T.sort(s:contiguous(), 1), 0)
end)

test("sort_dtypes_exact", function()
  local big = T.tensor({ math.maxinteger, math.mininteger, 0, -1, math.maxinteger - 1 })
  local v, i = T.sort(big)
  same(v, { math.mininteger, -1, 0, math.maxinteger - 1, math.maxinteger })
  same(i, { 2, 4, 3, 5, 1 })
  local f = T.tensor({ 3.5, -1, 2 }, "f32")
  local fv = T.sort(f)
  eq(fv.dtype, "f32")
  same(fv, { -1, 2, 3.5 })
  local b = T.tensor({ true, false, true, false })
  local bv, bi = T.sort(b)
  same(bv, { false, false, true, true })
  same(bi, { 2, 4, 1, 3 })   -- stable
end)

test("sort_nan_and_signed_zero", function()
  local x = T.tensor({ 0 / 0, 1, -0.0, 0.0, -1, 0 / 0 })
  local v, i = T.sort(x)
  same(i, { 5, 3, 4, 2, 1, 6 })   -- -0 and 0 equal: stable; NaNs last
  local _, di = T.sort(x, { descending = true })
  same(di, { 1, 6, 2, 3, 4, 5 })  -- NaNs first, then descending, ties stable
  eq(v[6] ~= v[6], true, "NaN last")
end)

test("argsort_is_sorts_indices", function()
  local x = T.randn(4, 9)
  local _, i = x:sort(1, { descending = true })
  same(T.argsort(x, 1, { descending = true }), i, 0)
  same(x:argsort(), select(2, x:sort()), 0)
end)

test("topk_is_the_head_of_sort", function()
  local x = T.randint(1, 6, 5, 12):to("f64")
  local v, i = T.topk(x, 4)
  local sv, si = T.sort(x, 2, { descending = true })
  same(v, sv:narrow(2, 1, 4), 0)
  same(i, si:narrow(2, 1, 4), 0)
  local lv, li = x:topk(3, 1, { largest = false })
  local av, ai = T.sort(x, 1)
  same(lv, av:narrow(1, 1, 3), 0)
  same(li, ai:narrow(1, 1, 3), 0)
  eq(T.topk(x, 0).shape[2], 0, "k = 0")
end)

test("unique_values_inverse_counts", function()
  local x = T.randint(-3, 3, 6, 7)
  local u, inv, cnt = T.unique(x)
  -- ascending, distinct
  local ut = u:totable()
  for k = 2, #ut do eq(ut[k] > ut[k - 1], true, "strictly ascending") end
  same(u:index_select(1, inv:view(-1)):view(6, 7), x, 0)
  eq(cnt:sum(), 42, "counts add up")
  for k = 1, #ut do eq(cnt[k], x:eq(ut[k]):sum(), "count of " .. ut[k]) end
  local f = T.tensor({ 2.5, 0 / 0, 2.5, 0 / 0, -1 })
  local fu, _, fc = T.unique(f)
  eq(fu:size(1), 3, "NaNs count as one value")
  same(fc, { 1, 2, 2 })
end)

test("searchsorted_left_right", function()
  local s = T.tensor({ 1, 2, 2, 2, 5, 7 }, "f64")
  local v = T.tensor({ 0, 1, 2, 3, 7, 8, 2.5 })
  same(T.searchsorted(s, v), { 1, 1, 2, 5, 6, 7, 5 })
  same(T.searchsorted(s, v, { right = true }), { 1, 2, 5, 5, 7, 7, 5 })
  eq(T.searchsorted(s, 2), 2, "a number gives an integer")
  eq(math.type(T.searchsorted(s, 2)), "integer", "integer type")
  -- against a count of smaller elements on random data
  local r = T.sort(T.randn(50))
  local q = T.randn(20)
  local pos = T.searchsorted(r, q):totable()
  for k = 1, 20 do eq(pos[k], r:lt(q[k]):sum() + 1, "left position") end
  local si = T.tensor({ 1, 3, 3, 9 })
  same(T.searchsorted(si, T.tensor({ 3, 4 })), { 2, 4 })
end)

test("histc_counts_and_range", function()
  local x = T.tensor({ 0, 0.1, 0.25, 0.5, 0.99, 1, -0.1, 1.1, 0 / 0 })
  same(T.histc(x, 4, 0, 1), { 2, 1, 1, 2 })   -- 1 counts in the last bin
  same(T.histc(T.tensor({ 3, 3, 3 }), 2), { 0, 3 })   -- range 2..4: 3 opens bin 2
  local y = T.randn(1000)
  local h = T.histc(y, 10)
  eq(h:sum(), 1000, "the data's range holds every element")
  eq(h.dtype, "f64", "dtype")
end)

test("errors_name_the_problem", function()
  local z = T.complex(T.ones(3), T.ones(3))
  raises(function() T.sort(z) end, "sort: complex numbers have no order (dtype c128)")
  raises(function() T.sort(T.ones(2, 2), 3) end, "dimension 3 out of range for a 2-dimensional tensor")
  raises(function() T.topk(T.ones(3), 4) end, "topk: k = 4 is outside 0..3 (the size of dimension 1)")
  raises(function() T.sort(T.tensor(3.0)) end, "at least 1 dimension (got a 0-d tensor)")
  raises(function() T.searchsorted(T.tensor({ 3., 1 }), 2.0) end,
         "searchsorted: the sequence is not sorted ascending (element 2 is less than element 1)")
  raises(function() T.searchsorted(T.ones(2, 2), 1.0) end, "sorted sequence must be 1-d (got 2-d)")
  raises(function() T.histc(T.ones(3), 0) end, "histc: bins = 0; needs at least 1")
  raises(function() T.histc(T.ones(3), 5, 2, 1) end, "histc: the range [2, 1] is not a finite interval")
  raises(function() T.sort(T.ones(3), { descending = 1 }) end, "sort: option 'descending' must be a boolean, got number")
end)

test("gradients_of_sort_and_topk", function()
  local x = T.randn(4, 5)
  eq(A.gradcheck(function(t) return (T.sort(t, 2)) end, { x }), true, "sort")
  eq(A.gradcheck(function(t) return (T.sort(t, 1, { descending = true })) end, { x }), true, "sort desc")
  eq(A.gradcheck(function(t) return (T.topk(t, 2, 1)) end, { x }), true, "topk")
  local t = T.tensor({ 3., 1, 2 }):requires_grad_()
  local v = T.sort(t);
  (v * T.tensor({ 1., 10, 100 })):sum():backward()
  same(t.grad, { 100, 1, 10 })
end)

test("same_bits_at_1_and_2_threads", function()
  local x = T.randn(2000, 300)   -- 600k elements: the rows run in parallel
  local old = hebb.threads()
  hebb.threads(1)
  local v1, i1 = T.sort(x, 2)
  local s1 = T.searchsorted(v1[1], x:view(-1))
  hebb.threads(2)
  local v2, i2 = T.sort(x, 2)
  local s2 = T.searchsorted(v2[1], x:view(-1))
  hebb.threads(old)
  eq(T.equal(v1, v2) and T.equal(i1, i2) and T.equal(s1, s2), true, "identical")
end)

check.done()
