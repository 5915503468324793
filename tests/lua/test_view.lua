-- test_view.lua -- views (natives/core/view.c, natives/lua/l_view.c): every
-- view shares memory with its base and writes show through; shapes and
-- strides after each op; reshape copies only when it must; error messages.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, truthy = check.test, check.eq, check.same, check.raises, check.truthy

local function seq(...) return check.seq(T, ...) end

test("view_shares_and_writes_through", function()
  local a = seq(3, 4)
  same(a.shape, {3, 4}); same(a:stride(), {4, 1})
  local v = a:view(2, 6)
  same(v.shape, {2, 6}); same(v:stride(), {6, 1})
  truthy(T.shares_storage(a, v), "shares storage")
  v:set(2, 1, 100)
  eq(a:get(2, 3), 100)
  same(a:view{12}.shape, {12})
  same(a:view(2, -1).shape, {2, 6})
  same(a:view(-1, 3, 2).shape, {2, 3, 2})
  same(a:view(-1), {1, 2, 3, 4, 5, 6, 100, 8, 9, 10, 11, 12})
  same(a:view(1, 12, 1):stride(), {12, 1, 1})
end)

test("view_errors", function()
  local a = seq(3, 4)
  raises(function() a:view(-1, -1) end, "view: only one size may be -1")
  raises(function() a:view(5, -1) end, "view: cannot infer the -1 in shape {5,-1} for 12 elements")
  raises(function() a:view(5, 2) end,
         "view: shape {5,2} (10 elements) does not fit a tensor of shape {3,4} (12 elements)")
  raises(function() a:view(2.5, 2) end, "view: size 1 must be an integer, got a non-integral number")
  raises(function() a:view{2, "x"} end, "view: size 2 must be an integer, got string")
  raises(function() a:view(-3, 4) end, "view: size 1 is invalid (-3)")
  raises(function() a:t():view(12) end,
         "view: shape {12} is incompatible with a tensor of shape {4,3} and strides {1,4}")
end)

test("reshape_copies_only_when_needed", function()
  local a = seq(3, 4)
  local r = a:reshape(4, 3)
  truthy(T.shares_storage(a, r), "contiguous reshape is a view")
  local tr = a:t()
  eq(tr:is_contiguous(), false)
  local c = tr:reshape(-1)
  eq(T.shares_storage(a, c), false)
  eq(c:is_contiguous(), true)
  same(c, {1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12})
  -- a reshape that only adds size-1 dims stays a view even when transposed
  local u = tr:reshape(4, 1, 3)
  truthy(T.shares_storage(a, u), "size-1 dims need no copy")
  same(u:stride(), {1, 12, 4})
  -- merging dims that are contiguous with each other inside a strided view
  local b = seq(2, 3, 4):narrow(3, 1, 2)   -- shape {2,3,2}, strides {12,4,1}
  local m = b:reshape(2, 6)
  eq(T.shares_storage(b, m), false)     -- dims 2,3 are not contiguous together
  same(m, {{1, 2, 5, 6, 9, 10}, {13, 14, 17, 18, 21, 22}})
  local p = seq(2, 3, 4):narrow(1, 2, 1):reshape(3, 4)
  same(p:stride(), {4, 1}); eq(p:get(1, 1), 13)
end)

test("narrow", function()
  local a = seq(3, 4)
  local n = a:narrow(2, 2, 2)
  same(n.shape, {3, 2}); same(n:stride(), {4, 1})
  same(n, {{2, 3}, {6, 7}, {10, 11}})
  truthy(T.shares_storage(a, n), "shares")
  n:set(3, 2, -1)
  eq(a:get(3, 3), -1)
  same(a:narrow(1, -1, 1), {{9, 10, -1, 12}})
  same(a:narrow(2, 5, 0).shape, {3, 0})
  raises(function() a:narrow(2, 0, 1) end, "narrow: start 0 out of range for dim 2 of size 4")
  raises(function() a:narrow(2, 6, 0) end, "narrow: start 6 out of range for dim 2 of size 4")
  raises(function() a:narrow(2, 3, 3) end, "narrow: length 3 from start 3 does not fit dim 2 of size 4")
  raises(function() a:narrow(3, 1, 1) end, "dimension 3 out of range for a 2-dimensional tensor")
end)

test("select", function()
  local a = seq(3, 4)
  local r = a:select(1, 2)
  same(r, {5, 6, 7, 8}); same(r:stride(), {1})
  local c = a:select(2, -1)
  same(c, {4, 8, 12}); same(c:stride(), {4})
  c:set(1, 0)
  eq(a:get(1, 4), 0)
  eq(a:select(1, 1):select(1, 2).ndim, 0)
  raises(function() a:select(1, 4) end, "select: index 4 out of range for dim 1 of size 3")
  raises(function() a:select(2, -5) end, "select: index -5 out of range for dim 2 of size 4")
  raises(function() T.tensor(1):select(1, 1) end,
         "select: dimension 1 out of range for a 0-dimensional tensor")
end)

test("transpose_and_t", function()
  local a = seq(2, 3)
  local t = a:t()
  same(t.shape, {3, 2}); same(t:stride(), {1, 3})
  same(t, {{1, 4}, {2, 5}, {3, 6}})
  truthy(T.shares_storage(a, t), "shares")
  same(a:transpose(), t:totable())
  same(T.t(a), t:totable())
  local v = T.arange(1, 3)
  eq(v:t(), v)
  local b = seq(2, 3, 4)
  local bt = b:transpose(1, 3)
  same(bt.shape, {4, 3, 2}); same(bt:stride(), {1, 4, 12})
  eq(bt:get(4, 1, 2), b:get(2, 1, 4))
  same(b:transpose(-1, -2).shape, {2, 4, 3})
  raises(function() b:t() end, "t: the tensor has 3 dimensions")
  raises(function() b:transpose(1, 4) end, "dimension 4 out of range for a 3-dimensional tensor")
end)

test("permute", function()
  local b = seq(2, 3, 4)
  local p = b:permute(3, 1, 2)
  same(p.shape, {4, 2, 3}); same(p:stride(), {1, 12, 4})
  eq(p:get(3, 2, 1), b:get(2, 1, 3))
  same(b:permute{2, 3, 1}.shape, {3, 4, 2})
  same(b:permute(-1, -2, -3).shape, {4, 3, 2})
  truthy(T.shares_storage(b, p), "shares")
  raises(function() b:permute(1, 1, 2) end, "permute: dimension 1 appears twice")
  raises(function() b:permute(1, 2) end, "permute: 2 dimensions given for a 3-dimensional tensor")
  raises(function() b:permute{1, 2, 4} end, "permute: dimension 4 out of range for a 3-dimensional tensor")
  raises(function() b:permute{1, 2, "x"} end, "permute: dimensions must be integers, got string")
end)

test("expand", function()
  local col = T.tensor{{1}, {2}, {3}}
  local e = col:expand(3, 4)
  same(e.shape, {3, 4}); same(e:stride(), {1, 0})
  same(e, {{1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 3}})
  truthy(T.shares_storage(col, e), "shares")
  col:set(2, 1, 20)
  eq(e:get(2, 4), 20)
  same(col:expand(2, -1, 2).shape, {2, 3, 2})
  same(col:expand(2, -1, 2):stride(), {0, 1, 0})
  same(col:expand{3, 2}, {{1, 1}, {20, 20}, {3, 3}})
  same(T.tensor{5}:expand_as(T.zeros(2, 2)), {{5, 5}, {5, 5}})
  same(T.tensor(7):expand(3), {7, 7, 7})
  raises(function() col:expand(2, 4) end,
         "expand: cannot expand shape {3,1} to {2,4} (dim 1: size 3 to 2")
  raises(function() col:expand(4) end, "expand: shape {4} has fewer dimensions than the tensor's {3,1}")
  raises(function() col:expand(-1, 3, 4) end, "expand: cannot expand shape {3,1} to {-1,3,4}")
end)

test("write_into_expanded_view_refused", function()
  local e = T.tensor{1, 2, 3}:view(3, 1):expand(3, 4)
  raises(function() e[1] = 0 end, "cannot write into a broadcast (expanded) view")
  raises(function() e[{{1, 2}}] = 0 end, "cannot write into a broadcast (expanded) view")
  raises(function() e:masked_fill_(T.tensor{true, false, true, false}, 0) end,
         "masked_fill_: cannot write into a broadcast (expanded) view")
  raises(function() e:scatter_(1, T.tensor{{1, 1, 1, 1}}, 5) end,
         "scatter_: cannot write into a broadcast (expanded) view")
  same(e:clone():fill_(0), {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}})
  -- a target without repeats is allowed, though it aliases the other columns
  e[{{}, 1}] = T.tensor{7, 8, 9}
  same(e[{{}, 4}], {7, 8, 9})
  e[{1, 2}] = 0
  same(e[1], {0, 0, 0, 0})
end)

test("squeeze_unsqueeze", function()
  local a = seq(1, 3, 1, 2)
  same(a:squeeze().shape, {3, 2}); same(a:squeeze():stride(), {2, 1})
  same(a:squeeze(1).shape, {3, 1, 2})
  same(a:squeeze(2).shape, {1, 3, 1, 2})    -- not size 1: unchanged
  same(a:squeeze(-2).shape, {1, 3, 2})
  truthy(T.shares_storage(a, a:squeeze()), "shares")
  local v = T.arange(1, 3)
  same(v:unsqueeze(1).shape, {1, 3}); same(v:unsqueeze(1):stride(), {3, 1})
  same(v:unsqueeze(2).shape, {3, 1}); same(v:unsqueeze(2):stride(), {1, 1})
  same(v:unsqueeze(-1).shape, {3, 1})
  same(v:unsqueeze(-2).shape, {1, 3})
  same(v:unsqueeze(2), {{1}, {2}, {3}})
  same(T.tensor(4):unsqueeze(1), {4})
  raises(function() v:unsqueeze(3) end,
         "unsqueeze: position 3 out of range for a new dimension of a 1-dimensional tensor (valid 1..2 or -2..-1)")
  raises(function() v:unsqueeze(0) end, "unsqueeze: position 0 out of range")
  raises(function() a:squeeze(5) end, "dimension 5 out of range for a 4-dimensional tensor")
end)

test("flatten", function()
  local b = seq(2, 3, 4)
  local f = b:flatten()
  same(f.shape, {24}); truthy(T.shares_storage(b, f), "contiguous flatten is a view")
  same(b:flatten(2).shape, {2, 12})
  same(b:flatten(1, 2).shape, {6, 4})
  same(b:flatten(2, 2).shape, {2, 3, 4})
  local p = b:permute(3, 1, 2)
  local pf = p:flatten(2, 3)       -- dims 2, 3 of p are contiguous together
  same(pf.shape, {4, 6}); truthy(T.shares_storage(b, pf), "view")
  local pc = p:flatten()
  eq(T.shares_storage(b, pc), false)
  eq(pc:get(2), 5); eq(pc:get(7), 2)
  same(T.tensor(3):flatten(), {3})
  raises(function() b:flatten(3, 1) end, "flatten: start dim 3 comes after end dim 1")
end)

test("diagonal", function()
  local a = seq(3, 4)
  local d = a:diagonal()
  same(d, {1, 6, 11}); same(d:stride(), {5})
  truthy(T.shares_storage(a, d), "shares")
  d:set(2, 0)
  eq(a:get(2, 2), 0)
  same(a:diagonal(1), {2, 7, 12})
  same(a:diagonal(-1), {5, 10})
  same(a:diagonal(5).shape, {0})
  local b = seq(2, 3, 3)
  local bd = b:diagonal(0, 2, 3)
  same(bd, {{1, 5, 9}, {10, 14, 18}})
  same(b:diagonal(0, 1, 3), {{1, 11}, {4, 14}, {7, 17}})
  raises(function() a:diagonal(0, 2, 2) end, "diagonal: both dimensions are 2")
end)

test("split_chunk", function()
  local a = seq(5, 2)
  local parts = a:split(2)
  eq(#parts, 3)
  same(parts[1], {{1, 2}, {3, 4}}); same(parts[3], {{9, 10}})
  truthy(T.shares_storage(a, parts[2]), "pieces are views")
  parts[2]:set(1, 1, 0)
  eq(a:get(3, 1), 0)
  local s = a:split({1, 4})
  same(s[1].shape, {1, 2}); same(s[2].shape, {4, 2})
  local cols = a:split(1, 2)
  eq(#cols, 2); same(cols[2], {{2}, {4}, {6}, {8}, {10}})
  local c = a:chunk(2)
  eq(#c, 2); same(c[1].shape, {3, 2}); same(c[2].shape, {2, 2})
  eq(#a:chunk(5), 5); eq(#a:chunk(4), 3)    -- pieces of ceil(5/4) = 2
  eq(#T.arange(1, 6):chunk(3, -1), 3)
  eq(#T.zeros(0):split(2), 1)
  raises(function() a:split({1, 2}) end, "split: sizes add up to 3, but dim 1 has size 5")
  raises(function() a:split(0) end, "split: piece size must be positive, got 0")
  raises(function() a:chunk(0) end, "chunk: number of chunks must be positive, got 0")
  raises(function() T.tensor(1):split(1) end, "split: cannot split a 0-d tensor")
end)

test("noncontiguous_chains", function()
  local b = seq(3, 4, 5)
  -- transpose, narrow, select: element (i, j) of the result is b[j+1][2][i]
  local v = b:transpose(1, 3):narrow(2, 2, 3):select(2, 1)
  same(v.shape, {5, 3}); same(v:stride(), {1, 20})
  for i = 1, 5 do
    for j = 1, 3 do eq(v:get(i, j), b:get(j, 2, i), "chain element") end
  end
  v:set(5, 3, -7)
  eq(b:get(3, 2, 5), -7)
  -- reversed ranges and a diagonal of a permuted view
  local r = b[{{}, {-1, 1, -1}, 1}]        -- rows reversed
  same(r:stride(), {20, -5})
  eq(r:get(1, 1), b:get(1, 4, 1))
  local d = b:permute(2, 3, 1):diagonal()
  same(d.shape, {3, 4})
  eq(d:get(2, 3), b:get(2, 3, 3))
  -- contiguous copies of strided views have the right values
  same(b:select(1, 2):t():contiguous(), b:select(1, 2):t():totable())
end)

test("empty_and_0d", function()
  local e = T.zeros(0, 3)
  same(e:view(3, 0).shape, {3, 0})
  same(e:view(-1).shape, {0})
  same(e:view(3, -1).shape, {3, 0})
  same(e:t().shape, {3, 0})
  same(e:reshape(0, 3, 1).shape, {0, 3, 1})
  same(e:narrow(2, 2, 2).shape, {0, 2})
  same(e[{{}, 2}].shape, {0})
  same(e[{{}, {3, 1, -1}}].shape, {0, 3})
  same(T.zeros(3, 0)[2].shape, {0})
  local s = T.tensor(2.5)
  same(s:view(1, 1), {{2.5}})
  eq(s:view(1):view():item(), 2.5)
  same(s:expand(2, 2), {{2.5, 2.5}, {2.5, 2.5}})
  same(s:unsqueeze(1):squeeze().shape, {})
end)

test("sixteen_dims", function()
  local shape = {}
  for i = 1, 16 do shape[i] = 1 end
  shape[16] = 3
  local t = T.arange(1, 3):view(shape)
  eq(t.ndim, 16)
  same(t:squeeze(), {1, 2, 3})
  eq(t:permute{16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}.shape[1], 3)
  eq(t:transpose(1, 16):get(3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 3)
  raises(function() t:unsqueeze(1) end, "unsqueeze: the tensor already has 16 dimensions (at most 16)")
  shape[17] = 1
  raises(function() t:view(shape) end, "view: 17 dimensions (at most 16)")
  raises(function() t:expand(shape) end, "expand: 17 dimensions (at most 16)")
end)

test("threads_do_not_change_results", function()
  -- a big reshape that copies goes through the parallel copy loop
  local a = T.arange(1, 400 * 300):view(400, 300):t()
  local old = hebb.threads()
  hebb.threads(1)
  local r1 = a:reshape(-1):totable()
  hebb.threads(2)
  local r2 = a:reshape(-1):totable()
  hebb.threads(old)
  same(r1, r2)
  eq(r1[2], 301); eq(r1[401], 2)
end)

test("docstrings", function()
  for _, name in ipairs{"view", "reshape", "narrow", "select", "transpose", "t",
                        "permute", "expand", "expand_as", "squeeze", "unsqueeze",
                        "flatten", "diagonal", "split", "chunk"} do
    local d = hebb.doc(T[name])
    truthy(type(d) == "string" and d:find(name, 1, true), name .. " has a docstring")
  end
end)

-- Sizes are checked products (tensor.c's hebb_size_mul): an expand to
-- 2^63 elements once counted -2^63 and summed to -0.0.
test("huge_views_are_refused_not_wrapped", function()
  local one = T.ones(1, 1, 1)
  raises(function() return one:expand(1 << 21, 1 << 21, 1 << 21) end,
         "expand: too many elements in shape {2097152,2097152,2097152} (at most 2^56)")
  raises(function() return T.ones(1):expand(1 << 57) end, "expand: too many elements")
  local v = T.ones(1, 1):expand(1 << 20, 1 << 20)   -- 2^40 elements, no memory
  eq(v:numel(), 1 << 40)
  eq(v[{{1, 3}, {1, 4}}]:sum(), 12.0)
  raises(function() return T.ones(5):view(math.maxinteger, -1) end,
         "view: cannot infer the -1")
  raises(function() return T.zeros(0):view(0, 1 << 40, 1 << 40) end,
         "view: too many elements in shape {0,1099511627776,1099511627776}")
  local m = T.arange(1, 12):view(3, 4)
  eq(m:diagonal(math.maxinteger):numel(), 0)
  eq(m:diagonal(math.mininteger):numel(), 0)
  local a = T.arange(1, 5)
  same(a[{{1, 5, math.maxinteger}}], {1})
  same(a[{{5, 1, math.mininteger}}], {5})
  same(a[{{2, -1, math.maxinteger}}], {2})
  raises(function() return a[{{math.maxinteger, math.mininteger}}] end,
         "out of range for dim 1 of size 5")
end)

test("split_chunk_huge_sizes", function()
  local a = T.arange(1, 5)
  local p = a:split(math.maxinteger)
  eq(#p, 1); same(p[1], {1, 2, 3, 4, 5})
  p = a:chunk(math.maxinteger)
  eq(#p, 5); same(p[5], {5})
  eq(#T.zeros(0):chunk(math.maxinteger), 1)
end)

check.done()
