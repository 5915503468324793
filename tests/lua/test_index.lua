-- test_index.lua -- t[k] / t[k] = v (natives/lua/l_view.c) and indexing by
-- tensors and joining (natives/core/index.c, join.c, natives/lua/l_index.c):
-- values, 1-based indices and inclusive ranges, errors naming the values as
-- typed, failed calls leaving their target unchanged.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, truthy = check.test, check.eq, check.same, check.raises, check.truthy

local function seq(...) return check.seq(T, ...) end

-- t[k] -----------------------------------------------------------------

test("index_select_rows_fast_path", function()
  -- contiguous source along dim 1 (whole rows copied) against element reads
  local a = seq(5, 3, 2):astype("f32")
  local idx = T.tensor({5, 1, 1, 3})
  local r = a:index_select(1, idx)
  for i, k in ipairs({5, 1, 1, 3}) do
    for j = 1, 3 do for l = 1, 2 do eq(r:get(i, j, l), a:get(k, j, l)) end end
  end
  local o = T.zeros(3, 4, 2, {dtype = "f32"}):transpose(1, 2)   -- not contiguous
  a:index_select(1, idx, {out = o})
  eq(T.equal(o, r), true, "into a strided out")
  eq(a:index_select(1, T.tensor({}, "i64")):size(1), 0)
  raises(function() a:index_select(1, T.tensor({6})) end, "index_select")
end)

test("integer_keys", function()
  local v = T.tensor{10, 20, 30, 40}
  eq(v[1], 10); eq(v[4], 40); eq(v[-1], 40); eq(v[-4], 10)
  eq(math.type(v[2]), "integer")
  eq(v[2.0], 20)
  eq(T.tensor{1.5, 2.5}[2], 2.5)
  eq(T.tensor({1, 2}, "f32")[1], 1.0)
  eq(T.tensor{true, false}[2], false)
  raises(function() return v[5] end, "index 5 out of range for dim 1 of size 4")
  raises(function() return v[0] end, "index 0 out of range for dim 1 of size 4")
  raises(function() return v[-5] end, "index -5 out of range for dim 1 of size 4")
  raises(function() return v[2.5] end, "index must be an integer, got 2.5")
  raises(function() return T.tensor(3)[1] end, "cannot index a 0-d tensor with an integer (use t:item())")
  raises(function() return v[true] end, "invalid index of type boolean")
  raises(function() return v[print] end, "invalid index of type function")
  eq(v.nosuchmethod, nil)
end)

test("integer_key_on_matrix_is_a_view", function()
  local a = seq(3, 4)
  local r = a[2]
  same(r, {5, 6, 7, 8}); same(r:stride(), {1})
  truthy(T.shares_storage(a, r), "row shares")
  r[1] = 50
  eq(a:get(2, 1), 50)
  eq(a[3][4], 12); eq(a[-1][-2], 11)
  same(seq(2, 3, 4)[2][3], {21, 22, 23, 24})
end)

test("table_keys", function()
  local a = seq(3, 4)
  eq(a[{2, 3}], 7); eq(a[{-1, -1}], 12)
  eq(math.type(a[{1, 1}]), "integer")
  same(a[{2}], {5, 6, 7, 8})
  same(a[{{1, 2}}], {{1, 2, 3, 4}, {5, 6, 7, 8}})
  same(a[{{2, 3}, {2, 3}}], {{6, 7}, {10, 11}})
  same(a[{{}, 2}], {2, 6, 10})
  same(a[{{}, {3}}], {{3, 4}, {7, 8}, {11, 12}})          -- {a}: a to the end
  same(a[{{-2, -1}, {-1}}], {{8}, {12}})
  same(a[{1, {1, 4, 2}}], {1, 3})
  same(a[{1, {1, -1, 3}}], {1, 4})
  same(a[{2, {4, 1, -1}}], {8, 7, 6, 5})
  same(a[{{3, 1, -2}, 1}], {9, 1})
  same(a[{{2, 1}}].shape, {0, 4})                        -- empty range
  same(a[{{}, {5, 4}}].shape, {3, 0})
  same(a[{}].shape, {3, 4})
  local s = a[{{2, 3}, {2, 4, 2}}]
  same(s.shape, {2, 2}); same(s:stride(), {4, 2})
  truthy(T.shares_storage(a, s), "range view shares")
  s:set(2, 2, 0)
  eq(a:get(3, 4), 0)
  eq(seq(2, 2, 2)[{2, 1, 2}], 6)
end)

test("table_key_errors", function()
  local a = seq(3, 4)
  raises(function() return a[{1, 2, 3}] end, "too many indices (3) for a 2-dimensional tensor")
  raises(function() return a[{4, 1}] end, "index 4 out of range for dim 1 of size 3")
  raises(function() return a[{1, -5}] end, "index -5 out of range for dim 2 of size 4")
  raises(function() return a[{{1, 4}}] end, "range {1, 4} out of range for dim 1 of size 3")
  raises(function() return a[{{}, {0, 2}}] end, "range {0, 2} out of range for dim 2 of size 4")
  raises(function() return a[{{}, {2, 5}}] end, "range {2, 5} out of range for dim 2 of size 4")
  raises(function() return a[{{1, 2, 0}}] end, "range step is 0 for dim 1")
  raises(function() return a[{{1, 2, 3, 4}}] end, "range for dim 1 has 4 entries")
  raises(function() return a[{{1.5, 2}}] end, "range bounds for dim 1 must be integers, got 1.5")
  raises(function() return a[{{}, {"a"}}] end, "range bounds for dim 2 must be integers, got string")
  raises(function() return a[{"x"}] end, "invalid index entry 1 of type string")
  raises(function() return a[{1, 1.5}] end, "index must be an integer, got 1.5")
end)

test("tensor_keys", function()
  local a = seq(3, 4)
  local m = T.tensor{{true, false, false, true}, {false, false, false, false}, {true, true, false, false}}
  same(a[m], {1, 4, 9, 10})
  same(a[T.tensor{true, false, true, false}], {1, 3, 5, 7, 9, 11})  -- broadcast mask
  same(a[T.tensor{3, 1, 3}], {{9, 10, 11, 12}, {1, 2, 3, 4}, {9, 10, 11, 12}})
  same(T.tensor{5, 6, 7}[T.tensor{3, 3, 1}], {7, 7, 5})
  raises(function() return a[T.tensor{1.0, 2.0}] end,
         "invalid index: a f64 tensor (index with an i64 tensor of indices or a bool mask)")
  raises(function() return a[T.tensor{4}] end,
         "index_select: index 4 out of range for dim 1 of size 3 (valid 1..3)")
  raises(function() return a[T.tensor{true, false}] end, "masked_select: shapes {3,4} and {2} do not broadcast")
  local k = T.tensor{1}
  k:free()
  raises(function() return a[k] end, "attempt to use a freed tensor")
end)

-- t[k] = v -------------------------------------------------------------

test("assign_numbers", function()
  local v = T.zeros(4)
  v[2] = 5; v[-1] = 2.5; v[1] = true
  same(v, {1, 5, 0, 2.5})
  local a = seq(3, 4)
  a[2] = 0
  same(a, {{1, 2, 3, 4}, {0, 0, 0, 0}, {9, 10, 11, 12}})
  a[{1, 2}] = -2
  a[{{}, 4}] = 40
  a[{3, {1, 2}}] = 7.9            -- i64 takes floats by truncation, as fill does
  same(a, {{1, -2, 3, 40}, {0, 0, 0, 40}, {7, 7, 11, 40}})
  local i = T.zeros(2, {dtype = "i64"})
  i[1] = math.maxinteger
  eq(i[1], math.maxinteger)
  raises(function() i[2] = 0 / 0 end, "does not fit in i64")
  raises(function() i[2] = 1e19 end, "does not fit in i64")
  raises(function() i[{{}}] = 0 / 0 end, "does not fit in i64")
  same(i, {math.maxinteger, 0})
  local b = T.tensor{false, false, false}
  b[2] = true; b[3] = 2
  same(b, {false, true, true})
  local f = T.zeros(2, {dtype = "f32"})
  f[1] = 0.5
  eq(f[1], 0.5)
end)

test("assign_tensors", function()
  local a = seq(3, 4)
  a[{{1, 2}, 3}] = T.tensor{70, 80}
  same(a[{{}, 3}], {70, 80, 11})
  a[3] = T.tensor{1.5, 2.5, 3.5, 4.5}           -- f64 into i64: truncated
  same(a[3], {1, 2, 3, 4})
  a[{{1, 2}}] = T.tensor{9, 8, 7, 6}             -- broadcast over rows
  same(a, {{9, 8, 7, 6}, {9, 8, 7, 6}, {1, 2, 3, 4}})
  a[{1, 1}] = T.tensor(100)
  eq(a[{1, 1}], 100)
  raises(function() a[1] = T.tensor{1, 2} end, "copy: source of shape {2} does not fit destination of shape {4}")
  raises(function() a[1] = "x" end, "cannot assign a string to tensor elements")
  raises(function() a[1] = {1, 2} end, "cannot assign a table to tensor elements")
  raises(function() a[9] = 0 end, "index 9 out of range for dim 1 of size 3")
  raises(function() a[{2, {3, 5}}] = 0 end, "range {3, 5} out of range for dim 2 of size 4")
  raises(function() a[false] = 0 end, "invalid index of type boolean")
  same(a[1], {100, 8, 7, 6})
end)

test("assign_overlapping", function()
  -- numpy: t = arange(1, 6); t[1:4] = t[0:3] -> [1, 1, 2, 3, 5]
  local t = T.arange(1, 5)
  t[{{2, 4}}] = t[{{1, 3}}]
  same(t, {1, 1, 2, 3, 5})
  local u = T.arange(1, 5)
  u[{{1, 3}}] = u[{{2, 4}}]
  same(u, {2, 3, 4, 4, 5})
  local m = seq(3, 3)
  m[{}] = m:t()
  same(m, {{1, 4, 7}, {2, 5, 8}, {3, 6, 9}})
end)

test("assign_by_tensor_keys", function()
  local a = seq(3, 4)
  a[T.tensor{{true, false, false, false}, {false, true, false, false},
             {false, false, true, true}}] = 0
  same(a, {{0, 2, 3, 4}, {5, 0, 7, 8}, {9, 10, 0, 0}})
  a[T.tensor{false, false, false, true}] = -1
  same(a[{{}, 4}], {-1, -1, -1})
  raises(function() a[T.tensor{true, false}] = 1 end,
         "masked_fill: mask of shape {2} does not broadcast to the tensor's shape {3,4}")
  raises(function() a[T.tensor{true, true, true, true}] = T.tensor{1} end,
         "t[mask] = v needs a number or boolean v")
  local b = seq(3, 2)
  b[T.tensor{3, 1}] = 0
  same(b, {{0, 0}, {3, 4}, {0, 0}})
  b[T.tensor{1, 2}] = T.tensor{{7, 8}, {9, 10}}
  same(b, {{7, 8}, {9, 10}, {0, 0}})
  b[T.tensor{3}] = T.tensor{5, 6}
  same(b[3], {5, 6})
  local before = b:totable()
  raises(function() b[T.tensor{1, 4}] = 0 end, "index 4 out of range for dim 1 of size 3 (valid 1..3)")
  raises(function() b[T.tensor{1, 2}] = T.tensor{1, 2, 3} end,
         "t[idx] = v: v of shape {3} does not broadcast to {2,2}")
  raises(function() b[T.tensor{{1}}] = 0 end, "index tensor must be 1-dimensional, got 2 dimensions")
  same(b, before)
  local v = T.arange(1, 5)
  v[T.tensor{2, 4}] = v[T.tensor{1, 2}]
  same(v, {1, 1, 3, 2, 5})
  -- indices read from t itself are taken before any write (numpy agrees)
  local p = T.tensor{2, 3, 1}
  p[p] = 9
  same(p, {9, 9, 9})
  local q = T.tensor{2, 3, 1}
  q[q] = q
  same(q, {1, 2, 3})              -- q[2], q[3], q[1] = 2, 3, 1
end)

-- index_select, gather, scatter -----------------------------------------

test("index_select", function()
  local a = seq(3, 4)
  same(a:index_select(2, T.tensor{4, 1}), {{4, 1}, {8, 5}, {12, 9}})
  same(a:index_select(1, {2, 2}), {{5, 6, 7, 8}, {5, 6, 7, 8}})
  same(T.index_select(a, -1, {3}), {{3}, {7}, {11}})
  same(a:index_select(1, {}).shape, {0, 4})
  same(a:t():index_select(1, {2}), {{2, 6, 10}})            -- strided input
  same(a:index_select(2, T.tensor{1, 2, 3, 4, 1}:narrow(1, 2, 3)), {{2, 3, 4}, {6, 7, 8}, {10, 11, 12}})
  local out = T.zeros(3, 2, {dtype = "i64"})
  local r = a:index_select(2, {1, 1}, {out = out})
  eq(r, out); same(out, {{1, 1}, {5, 5}, {9, 9}})
  raises(function() a:index_select(2, {1, 5}) end,
         "index_select: index 5 out of range for dim 2 of size 4 (valid 1..4)")
  raises(function() a:index_select(2, {0}) end, "index_select: index 0 out of range")
  raises(function() a:index_select(2, T.tensor{1.0}) end, "index_select: indices must be an i64 tensor, got f64")
  raises(function() a:index_select(2, {1, 2.5}) end, "indices must be integers, entry 2 is not")
  raises(function() a:index_select(2, T.tensor{{1}}) end,
         "index_select: indices must be 1-dimensional, got shape {1,1}")
  raises(function() a:index_select(3, {1}) end, "dimension 3 out of range for a 2-dimensional tensor")
  raises(function() a:index_select(1, {1}, {out = T.zeros(2, 4)}) end, "index_select: out has shape {2,4}")
  local ix = T.tensor{1, 2}
  raises(function() a:index_select(2, ix, {out = ix:view(1, 2):expand(3, 2)}) end,
         "index_select: cannot write into a broadcast (expanded) view (dim 1 repeats one element)")
end)

test("gather", function()
  local a = seq(3, 4)
  -- numpy: np.take_along_axis(a, idx - 1, axis=1)
  same(a:gather(2, T.tensor{{4, 1}, {2, 2}, {3, 1}}), {{4, 1}, {6, 6}, {11, 9}})
  -- along dim 1: result[i][j] = a[idx[i][j]][j]
  same(a:gather(1, T.tensor{{3, 1, 2, 3}}), {{9, 2, 7, 12}})
  same(a:t():gather(1, T.tensor{{1, 2, 3}}), {{1, 6, 11}})    -- strided input
  same(T.tensor{5, 6, 7}:gather(1, {3, 1}), {7, 5})
  raises(function() a:gather(2, T.tensor{{1, 5}, {1, 1}, {1, 1}}) end,
         "gather: index 5 out of range for dim 2 of size 4 (valid 1..4)")
  raises(function() a:gather(2, T.tensor{1, 2}) end, "gather: index has 1 dimensions, the tensor has 2")
  raises(function() a:gather(2, T.ones(4, 1, {dtype = "i64"})) end,
         "gather: index of shape {4,1} is larger than the tensor's shape {3,4} in dim 1")
end)

test("scatter", function()
  local z = T.zeros(3, 4)
  local r = z:scatter_(2, T.tensor{{4}, {1}, {2}}, T.tensor{{1.5}, {2.5}, {3.5}})
  eq(r, z)
  same(z, {{0, 0, 0, 1.5}, {2.5, 0, 0, 0}, {0, 3.5, 0, 0}})
  z:scatter_(1, T.tensor{{3, 3, 3, 3}}, 9)
  same(z[3], {9, 9, 9, 9})
  -- repeated indices: the last write wins
  local w = T.zeros(3)
  w:scatter_(1, T.tensor{2, 2, 2}, T.tensor{1, 2, 3})
  same(w, {0, 3, 0})
  -- a larger src is read at the index's positions (as torch does)
  local s = T.zeros(2, 2)
  s:scatter_(2, T.tensor{{2}, {1}}, seq(2, 3))
  same(s, {{0, 1}, {4, 0}})
  -- scatter_add_ accumulates; a histogram of 1-based bins
  local h = T.zeros(4, {dtype = "i64"})
  h:scatter_add_(1, T.tensor{1, 3, 3, 4, 3, 1}, 1)
  same(h, {2, 0, 3, 1})
  local g = T.zeros(2, 3)
  g:scatter_add_(2, T.tensor{{1, 1, 3}, {2, 2, 2}}, T.tensor{{0.5, 0.25, 1}, {1, 2, 4}})
  same(g, {{0.75, 0, 1}, {0, 7, 0}})
  -- src and index may be the target itself: read from snapshots
  local r = T.tensor{3, 1, 2}
  r:scatter_(1, r, r)
  same(r, {1, 2, 3})
  local u = T.tensor{2, 1}
  u:scatter_add_(1, u, u)
  same(u, {3, 3})
  local bits = T.tensor{false, false}
  bits:scatter_add_(1, T.tensor{2, 2}, true)
  same(bits, {false, true})
end)

test("failed_scatter_leaves_target_unchanged", function()
  local t = seq(3, 4):astype("f64")
  local before = t:totable()
  raises(function() t:scatter_(2, T.tensor{{1, 2}, {3, 4}, {5, 1}}, 0) end,
         "scatter_: index 5 out of range for dim 2 of size 4 (valid 1..4)")
  same(t, before)
  raises(function() t:scatter_add_(1, T.tensor{{1, 2, 3, 3}, {0, 1, 1, 1}}, 1) end,
         "scatter_add_: index 0 out of range for dim 1 of size 3")
  same(t, before)
  raises(function() t:scatter_(2, T.tensor{{1, 2}}, T.tensor{1, 2, 3}) end,
         "scatter_: source of shape {3} neither covers nor broadcasts to the index's shape {1,2}")
  raises(function() t:scatter_(2, T.tensor{{1.0}}, 1) end, "scatter_: indices must be an i64 tensor, got f64")
  raises(function() t:scatter_(2, T.tensor{1}, 1) end, "scatter_: index has 1 dimensions, the tensor has 2")
  raises(function() t:scatter_(2, T.tensor{{1}}, "x") end, "tensor or number expected")
  same(t, before)
end)

-- masks ----------------------------------------------------------------

test("masked_fill_and_select", function()
  local a = seq(2, 3):astype("f64")
  local m = T.tensor{true, false, true}
  local c = a:masked_fill(m, -1)
  same(c, {{-1, 2, -1}, {-1, 5, -1}})
  same(a, {{1, 2, 3}, {4, 5, 6}})                 -- the copy left a alone
  eq(a:masked_fill_(T.tensor{{false}, {true}}, 0.5), a)
  same(a, {{1, 2, 3}, {0.5, 0.5, 0.5}})
  same(a:masked_select(m), {1, 3, 0.5, 0.5})
  same(T.masked_select(a, T.tensor{{true}, {false}}), {1, 2, 3})
  same(a:t():masked_select(T.tensor{true, false}), {1, 2, 3})  -- strided input
  same(T.tensor{1, 2}:masked_select(T.tensor{{true, false}, {true, true}}), {1, 1, 2})
  same(a:masked_select(T.zeros(2, 3, {dtype = "bool"})).shape, {0})
  local i = T.zeros(3, {dtype = "i64"})
  i:masked_fill_(T.tensor{true, false, true}, true)
  same(i, {1, 0, 1})
  raises(function() a:masked_fill_(T.tensor{true, false}, 1) end,
         "masked_fill_: mask of shape {2} does not broadcast to the tensor's shape {2,3}")
  raises(function() a:masked_fill_(T.tensor{1, 0, 1}, 1) end,
         "masked_fill_: the mask must be a bool tensor, got i64")
  raises(function() a:masked_select(T.tensor{1, 0, 1}) end,
         "masked_select: the mask must be a bool tensor, got i64")
  raises(function() a:masked_fill_(m, "x") end, "number expected")
  raises(function() i:masked_fill_(m, 1e300) end, "masked_fill_: 1e+300 does not fit in i64")
  same(i, {1, 0, 1})
end)

-- cat and stack --------------------------------------------------------

test("cat", function()
  local a, b = seq(2, 2), T.tensor{{0.5, 1.5}}
  local c = T.cat({a, b})
  eq(c.dtype, "f64")
  same(c, {{1, 2}, {3, 4}, {0.5, 1.5}})
  same(T.cat({a, a:t()}, 2), {{1, 2, 1, 3}, {3, 4, 2, 4}})
  same(T.cat({a, a}, -1).shape, {2, 4})
  same(T.cat({T.tensor{1, 2}, T.zeros(0, {dtype = "i64"}), T.tensor{3}}), {1, 2, 3})
  eq(T.cat({T.tensor{true}, T.tensor{2}}).dtype, "i64")
  eq(T.cat({T.tensor({1}, "f32"), T.tensor{2}}).dtype, "f32")
  eq(T.shares_storage(T.cat({a}), a), false)
  raises(function() T.cat({a, a, T.zeros(2, 3)}) end,
         "cat: input 3 has shape {2,3}, but input 1 has {2,2} (they may differ only in dim 1)")
  raises(function() T.cat({a, T.zeros(4)}) end, "cat: input 2 has shape {4}, but input 1 has {2,2}")
  raises(function() T.cat({}) end, "cat: no tensors to join")
  raises(function() T.cat({a, 3}) end, "cat: input 2 is a number, not a tensor")
  raises(function() T.cat(a) end, "cat: expected a table of tensors, got userdata")
  raises(function() T.cat({T.tensor(1), T.tensor(2)}) end, "cat: input 1 is 0-dimensional")
  raises(function() T.cat({a, a}, 3) end, "dimension 3 out of range for a 2-dimensional tensor")
end)

test("stack", function()
  local x, y = T.tensor{1, 2, 3}, T.tensor{4.5, 5.5, 6.5}
  local s = T.stack{x, y}
  eq(s.dtype, "f64"); same(s, {{1, 2, 3}, {4.5, 5.5, 6.5}})
  same(T.stack({x, y}, 2), {{1, 4.5}, {2, 5.5}, {3, 6.5}})
  same(T.stack({x, y}, -1).shape, {3, 2})
  same(T.stack({x, y}, -2).shape, {2, 3})
  same(T.stack{T.tensor(1), T.tensor(2)}, {1, 2})
  same(T.stack({seq(2, 2), seq(2, 2):t()}, 3), {{{1, 1}, {2, 3}}, {{3, 2}, {4, 4}}})
  raises(function() T.stack{x, T.tensor{1, 2}} end,
         "stack: input 2 has shape {2}, but input 1 has {3} (stack needs equal shapes)")
  raises(function() T.stack({x, y}, 3) end,
         "stack: position 3 out of range for a new dimension of a 1-dimensional tensor")
  raises(function() T.stack{} end, "stack: no tensors to join")
  local shape = {}
  for i = 1, 16 do shape[i] = 1 end
  raises(function() T.stack{T.zeros(shape)} end, "stack: the result would have 17 dimensions (at most 16)")
end)

test("threads_do_not_change_results", function()
  local a = T.arange(1, 300 * 400):view(300, 400):astype("f64")
  local idx, gidx = {}, {}
  for i = 1, 300 do idx[i] = (i * 37) % 300 + 1 end
  for i = 1, 300 do
    local row = {}
    for j = 1, 400 do row[j] = (i * j) % 400 + 1 end
    gidx[i] = row
  end
  local gi = T.tensor(gidx)
  local stripes = T.tensor{true, false}:expand(200, 2):reshape(400)
  local old = hebb.threads()
  local res = {}
  for n = 1, 2 do
    hebb.threads(n)
    res[n] = {a:index_select(1, idx):totable(), a:index_select(2, idx):totable(),
              a:gather(2, gi):totable(), T.cat({a, a:t():contiguous():t()}, 1):narrow(1, 290, 20):totable(),
              a:masked_fill(stripes, 0):totable(), a:masked_select(stripes):totable()}
  end
  hebb.threads(old)
  for k = 1, #res[1] do same(res[1][k], res[2][k]) end
  eq(res[1][1][1][1], 38 * 400 - 399)
  eq(res[1][3][1][1], a:get(1, 2))
end)

test("docstrings", function()
  for _, name in ipairs{"index_select", "gather", "scatter_", "scatter_add_", "masked_fill_",
                        "masked_fill", "masked_select", "cat", "stack"} do
    local d = hebb.doc(T[name])
    truthy(type(d) == "string" and d:find(name, 1, true), name .. " has a docstring")
  end
end)

check.done()
