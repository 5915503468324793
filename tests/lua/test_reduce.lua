-- test_reduce.lua -- reductions, scans and whole-tensor comparisons
-- (natives/core/reduce.c, argreduce.c, scan.c, allclose.c and
-- natives/lua/l_reduce.c): exact small cases for every op, dtype and
-- keepdim; numpy references for var/std/norms/logsumexp; empty, 0-d,
-- strided and broadcast (stride 0) inputs; NaN; accuracy of large sums;
-- the same bits at 1 and 2 threads; options and error messages.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, near, same, raises, truthy =
  check.test, check.eq, check.near, check.same, check.raises, check.truthy

local A = {{1.5, -2.25, 3.0, 0.5}, {4.0, 0.125, -1.0, 2.75}, {-3.5, 6.0, 0.0, 1.0}}
local function a(dtype) return T.tensor(A, dtype and {dtype = dtype}) end
local nan, inf = 0 / 0, math.huge

-- The numpy (float64) references below were computed in a different order
-- (numpy's pairwise sums), so they may differ in the last bits: every
-- quantity here is a few operations on numbers of size <= 30, so rounding
-- differences stay below 1e-13.
local TOL = 1e-13

local function isnan(x) return x ~= x end

test("sum_full_and_dims", function()
  local t = a()
  eq(t:sum(), 12.125); eq(math.type(t:sum()), "float")
  same(t:sum(1), {2.0, 3.875, 2.0, 4.25})
  same(t:sum(2), {2.75, 5.875, 3.5})
  same(t:sum(-1), {2.75, 5.875, 3.5})
  same(t:sum(-2), {2.0, 3.875, 2.0, 4.25})
  local s = t:sum({1, 2})
  eq(s.ndim, 0); eq(s:item(), 12.125)
  same(t:sum({2, 1}):item(), 12.125)
  same(t:sum(1, {keepdim = true}), {{2.0, 3.875, 2.0, 4.25}})
  same(t:sum(2, {keepdim = true}), {{2.75}, {5.875}, {3.5}})
  same(t:sum({keepdim = true}), {{12.125}})
  same(t:sum({1, 2}, {keepdim = true}).shape, {1, 1})
  same(T.sum(t, 1), {2.0, 3.875, 2.0, 4.25})   -- function form
  eq(T.sum(t), 12.125)
  same(t, A)                                    -- input untouched
end)

test("sum_dtypes", function()
  local i = T.tensor{{1, 2}, {3, 4}}
  eq(i:sum(), 10); eq(math.type(i:sum()), "integer")
  eq(i:sum(1).dtype, "i64"); same(i:sum(1), {4, 6})
  local b = T.tensor{{true, false, true}, {true, true, false}}
  eq(b:sum(), 4); eq(math.type(b:sum()), "integer")
  eq(b:sum(2).dtype, "i64"); same(b:sum(2), {2, 2})
  local f = a("f32")
  eq(f:sum(), 12.125); eq(f:sum(1).dtype, "f32"); same(f:sum(1), {2.0, 3.875, 2.0, 4.25})
  -- i64 sums wrap around like Lua integers
  eq(T.tensor{math.maxinteger, 1}:sum(), math.mininteger)
  eq(T.tensor{math.maxinteger, 1}:sum(), math.maxinteger + 1)
  -- an f32 result is the f32 rounding of the exact sum: 0.1f * 10
  local tenth = T.full({10}, 0.1, {dtype = "f32"})
  local exact = 10 * (string.unpack("f", string.pack("f", 0.1)))
  eq(tenth:sum(), string.unpack("f", string.pack("f", exact)))
  eq(T.full({10}, 0.1):sum(), 1.0)   -- the lanes add 0.1 once each, the tree 10 times
end)

test("prod", function()
  local t = a()
  eq(t:prod(), 0.0)
  same(t:prod(1), {-21.0, -1.6875, -0.0, 1.375})
  same(t:prod(2), {-5.0625, -1.375, -0.0})
  eq(T.tensor{1, 2, 3, 4}:prod(), 24); eq(math.type(T.tensor{1, 2, 3, 4}:prod()), "integer")
  eq(T.tensor{true, true}:prod(), 1); eq(T.tensor{true, false}:prod(), 0)
  eq(T.tensor{2, 3}:prod({keepdim = true}).dtype, "i64")
  eq(a("f32"):prod(2).dtype, "f32")
  eq(T.tensor{2 ^ 40, 2 ^ 40}:astype("i64"):prod(), 0)   -- 2^80 wraps to 0
end)

test("mean", function()
  local t = a()
  near(t:mean(), 1.0104166666666667, TOL)
  same(t:mean(1), {0.6666666666666666, 1.2916666666666667, 0.6666666666666666,
                   1.4166666666666667}, TOL)
  same(t:mean(2), {0.6875, 1.46875, 0.875})
  same(t:mean(2, {keepdim = true}).shape, {3, 1})
  eq(T.tensor{1, 2, 3, 4}:mean(), 2.5)                   -- ints give f64
  eq(T.tensor{{1, 2}, {3, 4}}:mean(1).dtype, "f64")
  eq(T.tensor{true, false, false, false}:mean(), 0.25)  -- fraction true
  eq(a("f32"):mean(1).dtype, "f32")
end)

test("var_std", function()
  local t = a()
  near(t:var(), 7.10357481060606, TOL)
  same(t:var(1), {14.583333333333336, 18.036458333333332, 4.333333333333334,
                  1.3958333333333333}, TOL)
  same(t:var(2), {4.890625, 5.31640625, 15.395833333333334}, TOL)
  near(t:var({correction = 0}), 6.5116102430555545, TOL)
  same(t:var(1, {correction = 0}), {9.722222222222223, 12.024305555555555,
                                    2.8888888888888893, 0.9305555555555555}, TOL)
  same(t:var(2, {correction = 0}), {3.66796875, 3.9873046875, 11.546875}, TOL)
  near(t:std(), 2.665253235736908, TOL)
  same(t:std(1), {3.818813079129867, 4.246935169429047, 2.081665999466133,
                  1.181453906563152}, TOL)
  same(t:std(2), {2.2114757516192665, 2.3057333432120894, 3.923752455664518}, TOL)
  near(t:std({correction = 0}), 2.5517856969298096, TOL)
  same(t:std(2, {correction = 0}), {1.9151941807555704, 1.9968236495744935,
                                    3.3980693047670467}, TOL)
  same(t:std(1, {keepdim = true}).shape, {1, 4})
  near(T.tensor{{1, 2, 3}, {4, 5, 6}}:std(), 1.8708286933869707, 1e-15)
  -- correction >= n: 0/0 gives NaN, x/0 gives inf (as numpy)
  truthy(isnan(T.tensor{5.0}:var()), "var of one element is NaN")
  eq(T.tensor{1.0, 2.0}:var({correction = 2}), inf)
  near(a("f32"):var(), 7.103574752807617, 0)   -- f64 work, rounded to f32
  eq(a("f32"):std(1).dtype, "f32")
  eq(T.tensor{1, 2, 3, 4}:var(), 5 / 3)
end)

test("norms", function()
  local t = a()
  near(t:norm(), 9.507398434903209, TOL)
  near(t:norm(2), 9.507398434903209, TOL)
  eq(t:norm(1), 25.625)
  eq(t:norm(math.huge), 6.0)
  eq(t:norm("inf"), 6.0)
  same(t:norm(2, 1), {5.522680508593631, 6.4092218716471345, 3.1622776601683795,
                      2.968585521759479}, TOL)
  same(t:norm(2, 2), {4.0697051490249265, 4.957633003762985, 7.0178344238090995}, TOL)
  same(t:norm(1, 1), {9.0, 8.375, 4.0, 4.25})
  same(t:norm(1, 2), {7.25, 7.875, 10.5})
  same(t:norm(math.huge, 1), {4.0, 6.0, 3.0, 2.75})
  same(t:norm("inf", 2, {keepdim = true}), {{3.0}, {4.0}, {6.0}})
  same(t:norm(nil, 2), {4.0697051490249265, 4.957633003762985, 7.0178344238090995}, TOL)
  same(t:norm({1, 2}, {keepdim = true}).shape, {1, 1})   -- dims, p = 2
  eq(T.tensor{{1, 2, 3}, {4, 5, 6}}:astype("f64"):norm(), math.sqrt(91))
  eq(T.tensor{3, 4}:norm(), 5.0)                           -- ints give f64
  eq(T.tensor{-3, 4}:norm(math.huge), 4.0)
  eq(a("f32"):norm(1, 2).dtype, "f32")
end)

test("logsumexp", function()
  local t = a()
  near(t:logsumexp(), 6.225034413016678, TOL)
  same(t:logsumexp(1), {4.079400732107355, 6.003065349763035, 3.0658839037574293,
                        2.996213906717483}, TOL)
  same(t:logsumexp(2), {3.270380263537162, 4.273073699156585, 6.009248650084905}, TOL)
  -- stable: exp(1000) overflows, the shifted sum does not
  near(T.tensor{1000.0, 1000.5, 999.0, -1e300}:logsumexp(), 1001.1041306053368, 1e-12)
  eq(T.tensor{-inf, -inf}:logsumexp(), -inf)
  eq(T.tensor{1.0, inf}:logsumexp(), inf)
  truthy(isnan(T.tensor{1.0, nan}:logsumexp()), "NaN propagates")
  eq(a("f32"):logsumexp(1).dtype, "f32")
  near(T.tensor{0, 0}:logsumexp(), math.log(2), 1e-15)    -- ints give f64
end)

test("min_max", function()
  local t = a()
  eq(t:min(), -3.5); eq(t:max(), 6.0)
  local v, i = t:max(1)
  same(v, {4.0, 6.0, 3.0, 2.75}); same(i, {2, 3, 1, 2}); eq(i.dtype, "i64")
  v, i = t:min(2)
  same(v, {-2.25, -1.0, -3.5}); same(i, {2, 3, 1})
  v, i = t:min(1)
  same(v, {-3.5, -2.25, -1.0, 0.5}); same(i, {3, 1, 2, 1})
  v, i = t:max(-1, {keepdim = true})
  same(v, {{3.0}, {4.0}, {6.0}}); same(i, {{3}, {1}, {2}})
  v, i = t:max({1, 2})                      -- a table of dims: values only
  eq(v:item(), 6.0); eq(i, nil)
  same(t:max({keepdim = true}), {{6.0}})
  eq(T.tensor{3, 7, -2}:max(), 7); eq(math.type(T.tensor{3, 7, -2}:max()), "integer")
  eq(T.tensor{math.maxinteger, math.maxinteger - 1}:min(), math.maxinteger - 1)  -- exact
  eq(T.tensor{true, false}:max(), true); eq(T.tensor{true, false}:min(), false)
  eq(T.tensor{{true, false}}:max(2):totable()[1], true)
  eq(a("f32"):max(1).dtype, "f32")
  -- ties: the first occurrence
  v, i = T.tensor{{1, 5, 5}, {5, 5, 1}}:max(2)
  same(i, {2, 1})
end)

test("argmin_argmax", function()
  local t = a()
  eq(t:argmin(), 9); eq(t:argmax(), 10); eq(math.type(t:argmax()), "integer")
  same(t:argmax(1), {2, 3, 1, 2}); same(t:argmin(1), {3, 1, 2, 1})
  same(t:argmax(2), {3, 1, 2}); same(t:argmin(-1), {2, 3, 1})
  same(t:argmax(2, {keepdim = true}), {{3}, {1}, {2}})
  same(t:argmax({keepdim = true}), {{10}})
  eq(T.tensor{3, 1, 3, 1}:argmax(), 1); eq(T.tensor{3, 1, 3, 1}:argmin(), 2)
  eq(T.tensor{false, true, true}:argmax(), 2)
  eq(T.argmax(T.tensor{1, 9, 9}), 2)
  -- the flat index is row-major even for a transposed view
  eq(t:t():argmax(), 6)   -- t:t() is 4x3; 6.0 sits at row 2, column 3
end)

test("nan", function()
  local t = T.tensor{1.0, nan, 3.0, nan}
  truthy(isnan(t:max()), "max is NaN"); truthy(isnan(t:min()), "min is NaN")
  truthy(isnan(t:sum()), "sum is NaN"); truthy(isnan(t:mean()), "mean is NaN")
  truthy(isnan(t:norm(math.huge)), "inf-norm is NaN")
  eq(t:argmax(), 2); eq(t:argmin(), 2)   -- the first NaN, like numpy
  local m = T.tensor{{1.0, nan}, {2.0, 3.0}}
  local v, i = m:max(1)
  eq(v:get(1), 2.0); truthy(isnan(v:get(2)), "column 2 is NaN"); same(i, {2, 1})
  v, i = m:min(2)
  truthy(isnan(v:get(1)), "row 1 is NaN"); same(i, {2, 1})
  truthy(isnan(m:max(2):get(1)), "max along rows")
  eq(T.tensor{nan, 1.0}:any(), true)     -- NaN is nonzero
end)

test("any_all", function()
  eq(T.tensor{0, 0, 1}:any(), true); eq(T.tensor{0, 0, 1}:all(), false)
  eq(T.tensor{true, true}:all(), true); eq(T.tensor{false, false}:any(), false)
  eq(T.tensor{0.5, -1.0}:all(), true); eq(T.tensor{0.0, 0.0}:any(), false)
  local b = T.tensor{{true, false}, {true, true}}
  same(b:all(1), {true, false}); same(b:any(2), {true, true})
  same(b:all(2, {keepdim = true}), {{false}, {true}})
  eq(b:any(1).dtype, "bool")
  eq(a("f32"):all(), false)   -- one zero
end)

test("cumsum_cumprod", function()
  local t = a()
  same(t:cumsum(1), {{1.5, -2.25, 3.0, 0.5}, {5.5, -2.125, 2.0, 3.25},
                     {2.0, 3.875, 2.0, 4.25}})
  same(t:cumsum(2), {{1.5, -0.75, 2.25, 2.75}, {4.0, 4.125, 3.125, 5.875},
                     {-3.5, 2.5, 2.5, 3.5}})
  same(t:cumsum(-1), t:cumsum(2))
  same(t:cumprod(2), {{1.5, -3.375, -10.125, -5.0625}, {4.0, 0.5, -0.5, -1.375},
                      {-3.5, -21.0, -0.0, -0.0}})
  same(t:cumprod(1), {{1.5, -2.25, 3.0, 0.5}, {6.0, -0.28125, -3.0, 1.375},
                      {-21.0, -1.6875, -0.0, 1.375}})
  same(T.tensor{1, 2, 3, 4}:cumsum(), {1, 3, 6, 10})       -- 1-d: dim optional
  eq(T.tensor{1, 2, 3, 4}:cumsum().dtype, "i64")
  same(T.tensor{1, 2, 3, 4}:cumprod(), {1, 2, 6, 24})
  same(T.tensor{true, false, true}:cumsum(), {1, 1, 2})
  eq(T.tensor{true, false}:cumsum().dtype, "i64")
  eq(a("f32"):cumsum(1).dtype, "f32")
  same(T.tensor{math.maxinteger, 1}:cumsum(), {math.maxinteger, math.mininteger})
  same(T.cumsum(T.tensor{1.5, 2.5}), {1.5, 4.0})
  local o = T.zeros(3, 4)
  truthy(rawequal(t:cumsum(2, {out = o}), o), "out is returned")
  same(o, t:cumsum(2))
  same(T.tensor{1.0, 2.0, 3.0}:cumsum({out = T.zeros(3)}), {1.0, 3.0, 6.0})
  same(t:t():cumsum(1), t:cumsum(2):t())   -- strided input
  eq(T.tensor(2.5):cumsum():item(), 2.5)    -- 0-d
  same(T.zeros(0, 3):cumsum(1).shape, {0, 3})
end)

test("empty", function()
  local e = T.zeros(0)
  eq(e:sum(), 0.0); eq(e:prod(), 1.0)
  truthy(isnan(e:mean()), "mean of nothing is NaN")
  truthy(isnan(e:var()), "var of nothing is NaN"); truthy(isnan(e:std()), "std")
  eq(e:norm(), 0.0); eq(e:norm(1), 0.0); eq(e:norm(math.huge), 0.0)
  eq(e:logsumexp(), -inf)
  eq(e:any(), false); eq(e:all(), true)
  eq(T.zeros(0, {dtype = "i64"}):sum(), 0)
  eq(math.type(T.zeros(0, {dtype = "i64"}):sum()), "integer")
  local m = T.zeros(0, 3)
  same(m:sum(1), {0, 0, 0}); same(m:prod(1), {1, 1, 1})
  same(m:sum(2).shape, {0})
  same(m:max(2).shape, {0})                -- nothing to reduce, no error
  same(m:sum(1, {keepdim = true}).shape, {1, 3})
  same(m:cumsum(2).shape, {0, 3})
end)

test("zero_d", function()
  local s = T.tensor(2.5)
  eq(s:sum(), 2.5); eq(s:mean(), 2.5); eq(s:max(), 2.5)
  local r = s:sum(1)
  eq(r.ndim, 0); eq(r:item(), 2.5)
  eq(s:sum(-1):item(), 2.5)
  same(s:sum(1, {keepdim = true}).shape, {})
  local v, i = s:max(1)
  eq(v:item(), 2.5); eq(i:item(), 1)
  eq(s:argmax(), 1)
  eq(T.tensor(7):prod(), 7)
end)

test("out_option", function()
  local t = a()
  local o = T.zeros(4)
  local r = t:sum(1, {out = o})
  truthy(rawequal(r, o), "out is returned")
  same(o, {2.0, 3.875, 2.0, 4.25})
  local o2 = T.zeros(1, 4)
  t:mean(1, {keepdim = true, out = o2})
  same(o2, {{0.6666666666666666, 1.2916666666666667, 0.6666666666666666,
             1.4166666666666667}}, TOL)
  -- a strided out (a column of a bigger tensor)
  local big = T.zeros(3, 2)
  t:sum(2, {out = big:select(2, 2)})
  same(big, {{0, 2.75}, {0, 5.875}, {0, 3.5}})
  -- out for a full reduction gives a 0-d tensor back
  local z = T.zeros()
  truthy(rawequal(t:sum({out = z}), z), "0-d out")
  eq(z:item(), 12.125)
  -- max with one dim: out takes the values
  local mv = T.zeros(3)
  local v, i = t:max(2, {out = mv})
  truthy(rawequal(v, mv), "values out"); same(i, {3, 1, 2})
  local ai = T.zeros(4, {dtype = "i64"})
  truthy(rawequal(t:argmax(1, {out = ai}), ai), "argmax out")
  same(ai, {2, 3, 1, 2})
end)

test("strided_and_broadcast_inputs", function()
  local t = a()
  same(t:t():sum(1), t:sum(2)); same(t:t():sum(2), t:sum(1))
  eq(t:t():sum(), t:sum())
  same(t:narrow(2, 2, 2):sum(1), {3.875, 2.0})
  same(t:narrow(1, 2, 2):sum(2), {5.875, 3.5})
  same(t:narrow(2, 2, 2):prod(), 0.0)
  same(t:select(2, 3):sum(), 2.0)
  -- stride 0: an expanded row counts once per row
  local row = T.tensor{1.0, 2.0, 3.0}:view(1, 3):expand(4, 3)
  same(row:sum(1), {4, 8, 12}); eq(row:sum(), 24)
  same(row:max(1), {1, 2, 3})
  same(row:cumsum(1):select(1, 4), {4, 8, 12})
  -- a 3-d tensor through the middle, outer and inner dims
  local c = T.arange(1, 24):view(2, 3, 4):astype("f64")
  same(c:sum(2), {{15, 18, 21, 24}, {51, 54, 57, 60}})
  same(c:sum(1), {{14, 16, 18, 20}, {22, 24, 26, 28}, {30, 32, 34, 36}})
  same(c:sum(3), {{10, 26, 42}, {58, 74, 90}})
  same(c:sum({1, 3}), {68, 100, 132})
  same(c:var({1, 3}), {42.57142857142857, 42.57142857142857, 42.57142857142857}, TOL)
  same(c:std(2), {{4, 4, 4, 4}, {4, 4, 4, 4}}, TOL)
  same(c:logsumexp(2), {{9.018479302594658, 10.018479302594658, 11.018479302594658,
                         12.018479302594658}, {21.018479302594656, 22.018479302594656,
                         23.018479302594656, 24.018479302594656}}, TOL)
  same(c:norm(2, {1, 2}), {31.71750305430741, 33.823069050575526, 35.9722114972099,
                           38.157568056677825}, TOL)
  local p = c:permute(3, 1, 2)          -- {4, 2, 3}, no dim contiguous in order
  same(p:sum(1), {{10, 26, 42}, {58, 74, 90}})
  same(p:sum(3), {{15, 51}, {18, 54}, {21, 57}, {24, 60}})
  local v, i = p:max(2)
  same(v, {{13, 17, 21}, {14, 18, 22}, {15, 19, 23}, {16, 20, 24}}); same(i:select(1, 1), {2, 2, 2})
end)

-- sum of x in a compensated (Kahan-Babuska) loop, from a Lua table
local function kahan(xs)
  local s, c = 0.0, 0.0
  for k = 1, #xs do
    local x = xs[k]
    local t = s + x
    if math.abs(s) >= math.abs(x) then c = c + ((s - t) + x) else c = c + ((x - t) + s) end
    s = t
  end
  return s + c
end

test("large_sums_vs_kahan", function()
  T.manual_seed(11)
  local x = T.rand(1000003)
  local got, want = x:sum(), kahan(x:totable())
  -- blocks of 4096 in 16 lanes, 245 block results added in order: the
  -- error is at most (256 + 4 + 245) * 2^-53 * sum|x| ~ 2.8e-8 here, and
  -- in practice (random signs of the rounding errors) far less
  near(got, want, 1e-9)
  near(x:mean(), want / 1000003, 1e-15)
  -- f32: accumulated in f64 and rounded once, so within half an f32 ulp
  -- of the exact sum (~5e5, where an f32 ulp is 2^-5)
  local xf = x:astype("f32")
  near(xf:sum(), kahan(xf:totable()), 2 ^ -6 + 1e-9)
  -- columns of a tall matrix (the row-accumulating walk) and rows
  local m = x:narrow(1, 1, 1000000):view(10000, 100)
  local cols = m:sum(1):totable()
  local ct = {}
  for r = 1, 10000 do ct[r] = m:get(r, 37) end
  near(cols[37], kahan(ct), 1e-10)
end)

-- every op along several dims and layouts; results as plain Lua values
local function results(big)
  local out = {}
  local function add(v)
    if T.is_tensor(v) then
      for _, y in ipairs(v:view(-1):totable()) do out[#out + 1] = y end
    else out[#out + 1] = v end
  end
  local views = {big, big:t(), big:narrow(2, 3, 500), big:narrow(1, 2, 700)}
  for _, v in ipairs(views) do
    for _, d in ipairs({false, 1, 2}) do
      local args = d and {d} or {}
      add(v:sum(table.unpack(args))); add(v:mean(table.unpack(args)))
      add(v:var(table.unpack(args))); add(v:std(table.unpack(args)))
      add(v:norm(2, table.unpack(args))); add(v:norm(1, table.unpack(args)))
      add(v:logsumexp(table.unpack(args))); add(v:prod(table.unpack(args)))
      add(v:max(table.unpack(args))); add(v:argmin(table.unpack(args)))
    end
    add(v:cumsum(1):sum(2)); add(v:cumsum(2):sum(1))
  end
  return out
end

test("threads_same_bits", function()
  T.manual_seed(5)
  local big = T.randn(1000, 1031)
  local old = hebb.threads()
  hebb.threads(1)
  local r1 = results(big)
  hebb.threads(2)
  local r2 = results(big)
  hebb.threads(old)
  eq(#r1, #r2, "result count")
  local diff = 0
  for k = 1, #r1 do
    if r1[k] ~= r2[k] and not (isnan(r1[k]) and isnan(r2[k])) then diff = diff + 1 end
  end
  eq(diff, 0, "values differing between 1 and 2 threads")
end)

test("allclose_equal", function()
  local t = a()
  eq(T.allclose(t, t:clone()), true)
  local u = T.tensor{{1.5, -2.25, 3.0, 0.5}, {4.0, 0.125, -1.0, 2.75 + 1e-7}, {-3.5, 6.0, 0.0, 1.0}}
  eq(T.allclose(t, u), true)             -- 1e-7 <= 1e-8 + 1e-5 * 2.75
  eq(T.allclose(t, u, 1e-9), false)
  eq(T.allclose(t, u, 0, 1e-6), true)
  eq(T.allclose(t, u, {rtol = 0, atol = 1e-8}), false)
  eq(t:allclose(u), true)                -- method form
  eq(T.allclose(T.ones(3), 1), true)     -- a number broadcasts
  eq(T.allclose(T.ones(2, 3), T.ones(3)), true)
  eq(T.allclose(T.tensor{1.0, nan}, T.tensor{1.0, nan}), false)
  eq(T.allclose(T.tensor{1.0, nan}, T.tensor{1.0, nan}, {equal_nan = true}), true)
  eq(T.allclose(T.tensor{inf}, T.tensor{inf}), true)
  eq(T.allclose(T.tensor{1e308}, T.tensor{inf}), false)
  eq(T.allclose(T.tensor{1, 2}, T.tensor{1.0, 2.0}), true)
  eq(T.allclose(T.zeros(0), T.zeros(0)), true)
  eq(T.equal(t, t:clone()), true)
  eq(T.equal(t, u), false)
  eq(T.equal(t, t:view(4, 3)), false)    -- same values, other shape
  eq(T.equal(T.tensor{1, 2}, T.tensor{1.0, 2.0}), true)
  eq(T.equal(T.tensor{nan}, T.tensor{nan}), false)
  eq(T.equal(t:t(), t:t():clone()), true)
  eq(T.equal(T.tensor{true, false}, T.tensor{true, false}), true)
  eq(t:equal(t), true)
end)

test("errors", function()
  local t = a()
  raises(function() t:sum(3) end, "sum: dimension 3 out of range for a 2-dimensional tensor")
  raises(function() t:mean(-3) end, "mean: dimension -3 out of range for a 2-dimensional tensor")
  raises(function() t:sum({1, 3}) end, "sum: dimension 3 out of range")
  raises(function() t:sum({1, -2}) end, "sum: dimension 1 repeated")
  raises(function() t:var({2, 2}) end, "var: dimension 2 repeated")
  raises(function() t:sum(1.5) end, "sum: dimension must be an integer, got a non-integral number")
  raises(function() t:sum("x") end, "sum: dimension must be an integer, got string")
  raises(function() t:sum(1, 5) end, "sum: options must be a table, got number")
  raises(function() t:sum(1, {keepdim = 1}) end, "option 'keepdim' must be a boolean, got number")
  raises(function() t:argmax({1, 2}) end, "argmax: expected one dimension, got a table")
  raises(function() t:norm(3) end, "norm: p must be 1, 2 or math.huge ('inf'), got 3")
  raises(function() t:norm("fro") end, "norm: p must be 1, 2 or math.huge ('inf'), got 'fro'")
  raises(function() t:norm(true) end, "norm: p must be 1, 2 or math.huge ('inf'), got a boolean")
  raises(function() t:var({correction = -1}) end,
         "var: correction must be a non-negative integer, got -1")
  raises(function() t:std(1, {correction = 0.5}) end,
         "std: correction must be a non-negative integer, got 0.5")
  raises(function() T.zeros(0):max() end,
         "max: cannot reduce an empty tensor (the maximum of no elements is undefined)")
  raises(function() T.zeros(0):min() end, "min: cannot reduce an empty tensor")
  raises(function() T.zeros(0, 3):max(1) end, "max: cannot take the max over dimension 1 of size 0")
  raises(function() T.zeros(0, 3):min({1}) end, "min: cannot reduce over a dimension of size 0")
  raises(function() T.zeros(0):argmax() end, "argmax: cannot take the argmax of an empty tensor")
  raises(function() T.zeros(2, 0):argmin(2) end,
         "argmin: cannot take the argmin over dimension 2 of size 0")
  raises(function() t:sum(1, {out = T.zeros(3)}) end, "sum: out has shape {3}, result has {4}")
  raises(function() t:sum(1, {out = T.zeros(4, {dtype = "f32"})}) end,
         "sum: out has dtype f32, result is f64")
  raises(function() t:max(1, {out = T.zeros(3)}) end, "max: out has shape {3}, result has {4}")
  raises(function() t:cumsum() end, "cumsum: a dimension is required for a 2-dimensional tensor")
  raises(function() t:cumprod(3) end, "cumprod: dimension 3 out of range")
  raises(function() t:cumsum(1, {out = T.zeros(2, 2)}) end, "cumsum: out has shape {2,2}, result has {3,4}")
  raises(function() T.allclose(T.ones(3), T.ones(4)) end,
         "allclose: shapes {3} and {4} do not broadcast")
  raises(function() T.allclose(t, t, -1) end, "allclose: tolerances must be >= 0")
  raises(function() T.allclose(t, t, {rtol = "x"}) end, "allclose: option 'rtol' must be a number")
  raises(function() T.equal(t, 1) end, "tensor expected")
  raises(function() T.sum(5) end, "tensor expected")
  raises(function() T.max("x") end, "tensor expected")
  raises(function() T.cumsum({}) end, "tensor expected")
  local f = a()
  f:free()
  raises(function() f:sum() end, "attempt to use a freed tensor")
  raises(function() f:argmax(1) end, "attempt to use a freed tensor")
  raises(function() T.allclose(f, t) end, "attempt to use a freed tensor")
  -- failed calls leave their inputs (and outs) unchanged
  local o = T.full({4}, 9.0)
  raises(function() t:sum(2, {out = o}) end, "out has shape {4}, result has {3}")
  same(o, {9, 9, 9, 9}); same(t, A)
end)

test("docstrings", function()
  for _, name in ipairs{"sum", "prod", "mean", "min", "max", "var", "std", "norm",
                        "logsumexp", "any", "all", "argmin", "argmax", "cumsum",
                        "cumprod", "allclose", "equal"} do
    local d = hebb.doc(T[name])
    truthy(d and d:find(name .. "(", 1, true), "docstring of " .. name)
    truthy(rawequal(T[name], a()[name]), name .. " is also a method")
  end
end)

check.done()
