-- test_arith.lua -- elementwise arithmetic and math of hebb.tensor
-- (natives/lua/l_arith.c, natives/core/{unary,binary,ternary,ewise}.c):
-- values and dtypes of every operation, weak scalars, Lua's // and %,
-- broadcasting, strided inputs, in-place and out=, NaN/inf, errors, threads.
-- Reference values of the math functions were computed with numpy 1.24
-- (float64) when this file was written; glibc's functions are accurate to
-- about 1 ulp, so they are compared to within 4 ulps (4 * 2^-52 relative).
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local inf, nan = math.huge, 0 / 0
local ULP4 = 4 * 2 ^ -52

-- elementwise within a relative tolerance (NaN equals NaN, inf equals inf)
local function close(t, want, rel, what)
  local got = t:totable()
  eq(#got, #want, (what or "tensor") .. " length")
  for i = 1, #want do
    local g, w = got[i], want[i]
    if not (g == w or (g ~= g and w ~= w)) then
      near(g, w, rel * math.max(1, math.abs(w)), (what or "tensor") .. "[" .. i .. "]")
    end
  end
end

-- a float's exact text, with one spelling for NaN
local function bits(x)
  if x ~= x then return "nan" end
  return string.format("%.17g", x)
end

local function f64(t) return T.tensor(t):astype("f64") end

-- --- dtypes and weak scalars ---------------------------------------------

test("add_sub_mul_values", function()
  local a, b = T.tensor{1.5, -2, 4}, T.tensor{0.5, 3, -1}
  same(a + b, {2, 1, 3}); same(a - b, {1, -5, 5}); same(a * b, {0.75, -6, -4})
  same(T.add(a, b), {2, 1, 3}); same(a:sub(b), {1, -5, 5}); same(T.mul(a, 2), {3, -4, 8})
  same(2 - a, {0.5, 4, -2}); same(a - 2, {-0.5, -4, 2})
  same(1 / T.tensor{2, 4, -8}, {0.5, 0.25, -0.125})
  same(-a, {-1.5, 2, -4})
  same(T.add(1, 2), 3)                          -- two numbers: a 0-d tensor
  eq(T.add(1, 2).ndim, 0)
end)

test("promotion_dtypes", function()
  local i = T.tensor{1, 2}
  local f = T.tensor{1.5, 2.5}
  local s = f:astype("f32")
  local b = T.tensor{true, false}
  eq((i + i).dtype, "i64"); eq((i + f).dtype, "f64"); eq((s + f).dtype, "f64")
  eq((s + i).dtype, "f32"); eq((b + b).dtype, "i64"); eq((b + i).dtype, "i64")
  eq((b + s).dtype, "f32")
  same(b + b, {2, 0})
end)

test("weak_scalars", function()
  local i, s, b = T.tensor{1, 2}, T.tensor{1.5, 2.5}:astype("f32"), T.tensor{true, false}
  eq((i + 2).dtype, "i64"); eq((2 * i).dtype, "i64")
  eq((i + 0.5).dtype, "f64"); same(i + 0.5, {1.5, 2.5})
  eq((s + 1.5).dtype, "f32"); eq((s * 2).dtype, "f32"); eq((1e300 * s).dtype, "f32")
  eq((b + 1).dtype, "i64"); same(b + 1, {2, 1})
  eq((b + 0.5).dtype, "f64"); same(b * 0.5, {0.5, 0})
  eq((b + true).dtype, "i64")                   -- a Lua boolean is a weak bool
  -- a 0-d tensor is not weak: it promotes like any tensor
  eq((s + T.tensor(1.5)).dtype, "f64")
  eq((i + T.tensor(1.5)).dtype, "f64")
  -- integer scalars stay exact in i64
  local big = T.tensor{math.maxinteger - 5}
  eq((big + 3):get(1), math.maxinteger - 2)
end)

test("div_pow_always_float", function()
  local i = T.tensor{7, -7, 1}
  local d = i / 2
  eq(d.dtype, "f64"); same(d, {3.5, -3.5, 0.5})
  eq((i / i).dtype, "f64"); same(i / i, {1, 1, 1})
  local p = i ^ 2
  eq(p.dtype, "f64"); same(p, {49, 49, 1})
  same(2 ^ T.tensor{0, 3, -1}, {1, 8, 0.5})
  eq((T.tensor{1.5}:astype("f32") / 2).dtype, "f32")
  eq((T.tensor{1.5}:astype("f32") ^ 2).dtype, "f32")
  same(T.pow(T.tensor{4.0, 9.0}, 0.5), {2, 3})
  same(T.pow(T.tensor{-8.0}, 1 / 3), {nan})     -- as C's pow and Lua's ^
  eq((T.tensor{true} / 1).dtype, "f64")
  -- x^2 is computed as x*x: exact and equal to Lua's x^2
  local x = T.tensor{1.1, -3.3e10, 1e-200}
  same(x ^ 2, {1.1 ^ 2, (-3.3e10) ^ 2, 0})
end)

test("idiv_mod_match_lua_integers", function()
  local as = {-7, -6, -1, 0, 1, 5, 7, math.mininteger, math.maxinteger}
  local bs = {-3, -1, 1, 2, 3, 7, math.maxinteger, math.mininteger}
  local a = T.tensor(as):view(#as, 1)
  local b = T.tensor(bs):view(1, #bs)
  local q, r = (a // b):totable(), (a % b):totable()
  eq((a // b).dtype, "i64"); eq((a % b).dtype, "i64")
  for i, x in ipairs(as) do
    for j, y in ipairs(bs) do
      eq(q[i][j], x // y, string.format("%d // %d", x, y))
      eq(r[i][j], x % y, string.format("%d %% %d", x, y))
    end
  end
  same(T.idiv(T.tensor{7, -7}, 2), {3, -4}); same(T.mod(T.tensor{7, -7}, 3), {1, 2})
  same(T.remainder(T.tensor{-7}, 3), {2})
end)

test("idiv_mod_match_lua_floats", function()
  local as = {-7.5, -1.0, -0.0, 0.0, 5.5, 1e300, inf, -inf, nan}
  local bs = {-2.0, -0.5, 0.0, -0.0, 0.5, 3.0, inf, -inf, nan}
  local a = T.tensor(as):view(#as, 1)
  local b = T.tensor(bs):view(1, #bs)
  local q, r = (a // b):totable(), (a % b):totable()
  eq((a // b).dtype, "f64")
  for i, x in ipairs(as) do
    for j, y in ipairs(bs) do
      eq(bits(q[i][j]), bits(x // y), string.format("%g // %g", x, y))
      eq(bits(r[i][j]), bits(x % y), string.format("%g %% %g", x, y))
    end
  end
  -- integers meeting floats, on either side
  same(T.tensor{7, -7} // 2.0, {3, -4}); same(-7.5 % T.tensor{2}, {0.5})
  eq((T.tensor{7} // 2.0).dtype, "f64")
  -- f32 follows the same rule
  local s = T.tensor{-7.5, 7.5}:astype("f32")
  same(s // 2, {-4, 3}); same(s % -2, {-1.5, -0.5}); eq((s % 2).dtype, "f32")
end)

test("integer_division_by_zero", function()
  local i = T.tensor{1, 2, 3}
  raises(function() return i // 0 end, "idiv: attempt to divide by zero")
  raises(function() return i % 0 end, "mod: attempt to perform 'n%%0'")
  raises(function() return i // T.tensor{1, 0, 1} end, "idiv: attempt to divide by zero")
  raises(function() return T.tensor{true} // false end, "idiv: attempt to divide by zero")
  local o = T.tensor{9, 9, 9}
  raises(function() T.idiv(i, T.tensor{2, 2, 0}, {out = o}) end, "divide by zero")
  same(o, {9, 9, 9})                            -- nothing was written
  -- floats divide by zero quietly, as in Lua
  same(i // 0.0, {inf, inf, inf})
  same(i:astype("f64") % 0, {nan, nan, nan})
  -- no elements: nothing is divided
  same((T.zeros(0, {dtype = "i64"}) // 0).shape, {0})
end)

test("integer_wraparound", function()
  local m = T.tensor{math.maxinteger, math.mininteger}
  same(m + 1, {math.mininteger, math.mininteger + 1})
  same(m - 1, {math.maxinteger - 1, math.maxinteger})
  same(m * 2, {math.maxinteger * 2, math.mininteger * 2})
  same(-m, {-math.maxinteger, math.mininteger})
  same(m:abs(), {math.maxinteger, math.mininteger})   -- as math.abs
  same(T.tensor{3037000500}:square(), {3037000500 * 3037000500})
  same(m // -1, {math.mininteger + 1, math.mininteger})
end)

-- --- comparisons, logic, min/max ----------------------------------------

test("comparisons", function()
  local a, b = T.tensor{1, 2, 3}, T.tensor{3, 2, 1}
  same(a:lt(b), {true, false, false}); same(a:le(b), {true, true, false})
  same(a:gt(b), {false, false, true}); same(a:ge(b), {false, true, true})
  same(a:eq(b), {false, true, false}); same(a:ne(b), {true, false, true})
  same(T.lt(a, 2), {true, false, false}); same(T.gt(2, a), {true, false, false})
  eq(a:lt(b).dtype, "bool")
  same(a:lt(2.5), {true, true, false})          -- i64 against a float: in f64
  same(T.tensor{math.maxinteger}:eq(math.maxinteger - 1), {false})
  local x = T.tensor{nan, 1, inf}
  same(x:eq(x), {false, true, true}); same(x:ne(x), {true, false, false})
  same(x:lt(inf), {false, true, false}); same(x:ge(-inf), {false, true, true})
  local t = T.tensor{true, false}
  same(t:gt(false), {true, false}); same(t:eq(T.tensor{true, true}), {true, false})
  same(T.tensor{1.5}:astype("f32"):le(1.5), {true})
end)

test("logical_ops", function()
  local p, q = T.tensor{true, true, false, false}, T.tensor{true, false, true, false}
  same(T.logical_and(p, q), {true, false, false, false})
  same(T.logical_or(p, q), {true, true, true, false})
  same(p:logical_xor(q), {false, true, true, false})
  same(p:logical_not(), {false, false, true, true})
  same(T.logical_and(T.tensor{0.0, 2.5, nan}, 1), {false, true, true})   -- non-zero is true
  same(T.logical_not(T.tensor{0, -3}), {true, false})
  eq(T.logical_or(T.tensor{0, 1}, 0.0).dtype, "bool")
end)

test("minimum_maximum", function()
  local a, b = T.tensor{1.0, 5.0, nan, 2.0}, T.tensor{3.0, 4.0, 1.0, nan}
  same(T.minimum(a, b), {1, 4, nan, nan}); same(T.maximum(a, b), {3, 5, nan, nan})
  same(T.minimum(T.tensor{1, 7}, 3), {1, 3}); eq(T.minimum(T.tensor{1, 7}, 3).dtype, "i64")
  eq(T.maximum(T.tensor{1}, 0.5).dtype, "f64")
  same(T.maximum(T.tensor{true, false}, T.tensor{false, false}), {true, false})
  same(T.maximum(T.tensor{-inf}, -1e308), {-1e308})
end)

-- --- unary math -----------------------------------------------------------

local X = {-2.5, -0.5, 0.0, 0.25, 1.0, 3.0}
local REF = {
  exp = {0.0820849986238988, 0.6065306597126334, 1.0, 1.2840254166877414, 2.718281828459045, 20.085536923187668},
  log1p = {nan, -0.6931471805599453, 0.0, 0.22314355131420976, 0.6931471805599453, 1.3862943611198906},
  expm1 = {-0.9179150013761013, -0.3934693402873666, 0.0, 0.2840254166877415, 1.718281828459045, 19.085536923187668},
  sin = {-0.5984721441039565, -0.479425538604203, 0.0, 0.24740395925452294, 0.8414709848078965, 0.1411200080598672},
  cos = {-0.8011436155469337, 0.8775825618903728, 1.0, 0.9689124217106447, 0.5403023058681398, -0.9899924966004454},
  tan = {0.7470222972386603, -0.5463024898437905, 0.0, 0.25534192122103627, 1.5574077246549023, -0.1425465430742778},
  tanh = {-0.9866142981514303, -0.46211715726000974, 0.0, 0.24491866240370913, 0.7615941559557649, 0.9950547536867305},
  sinh = {-6.0502044810397875, -0.5210953054937474, 0.0, 0.2526123168081683, 1.1752011936438014, 10.017874927409903},
  cosh = {6.132289479663686, 1.1276259652063807, 1.0, 1.0314130998795732, 1.5430806348152437, 10.067661995777765},
  atan = {-1.1902899496825317, -0.4636476090008061, 0.0, 0.24497866312686414, 0.7853981633974483, 1.2490457723982544},
  abs = {2.5, 0.5, 0.0, 0.25, 1.0, 3.0},
  neg = {2.5, 0.5, -0.0, -0.25, -1.0, -3.0},
  sign = {-1, -1, 0, 1, 1, 1},
  square = {6.25, 0.25, 0, 0.0625, 1, 9},
  floor = {-3, -1, 0, 0, 1, 3},
  ceil = {-2, -0.0, 0, 1, 1, 3},
  relu = {0, 0, 0, 0.25, 1, 3},
}

test("unary_math_f64", function()
  local x = T.tensor(X)
  for name, want in pairs(REF) do
    local r = T[name](x)
    eq(r.dtype, "f64", name .. " dtype")
    close(r, want, ULP4, name)
    close(x[name](x), want, ULP4, name .. " method")
  end
  local y = T.tensor{-0.75, 0.0, 0.5, 1.0}
  close(y:asin(), {-0.848062078981481, 0.0, 0.5235987755982989, 1.5707963267948966}, ULP4, "asin")
  close(y:acos(), {2.4188584057763776, 1.5707963267948966, 1.0471975511965979, 0.0}, ULP4, "acos")
  local z = T.tensor{0.5, 1.0, 2.0, 10.0}
  close(z:log(), {-0.6931471805599453, 0.0, 0.6931471805599453, 2.302585092994046}, ULP4, "log")
  close(z:sqrt(), {0.7071067811865476, 1.0, 1.4142135623730951, 3.1622776601683795}, ULP4, "sqrt")
  same(z:reciprocal(), {2, 1, 0.5, 0.1})
  same(T.tensor{2, -2}:asin(), {nan, nan})
end)

test("unary_math_f32", function()
  -- f32 computes in single precision: reference = numpy's float32 exp
  local x = T.tensor(X):astype("f32")
  local e = x:exp()
  eq(e.dtype, "f32")
  close(e, {0.0820850059390068, 0.6065306663513184, 1.0, 1.2840255498886108, 2.7182819843292236, 20.08553695678711},
        2 * 2 ^ -23, "exp f32")
  for name, want in pairs(REF) do
    local r = x[name](x)
    eq(r.dtype, "f32", name .. " dtype")
    close(r, want, 4 * 2 ^ -23, name .. " f32")
  end
end)

test("unary_dtypes_of_integers", function()
  local i = T.tensor{-3, 0, 4}
  for _, name in ipairs{"neg", "abs", "sign", "relu", "square", "floor", "ceil", "round"} do
    eq(i[name](i).dtype, "i64", name)
  end
  same(i:sign(), {-1, 0, 1}); same(i:relu(), {0, 0, 4}); same(i:floor(), {-3, 0, 4})
  for _, name in ipairs{"exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh",
                        "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "softplus",
                        "reciprocal"} do
    eq(i[name](i).dtype, "f64", name)
  end
  same(T.tensor{4, 9}:sqrt(), {2, 3})
  same(T.tensor{1, 2}:reciprocal(), {1, 0.5})
  local b = T.tensor{true, false}
  eq(b:neg().dtype, "i64"); same(b:neg(), {-1, 0}); eq(b:exp().dtype, "f64")
  eq(b:logical_not().dtype, "bool")
  eq(T.sqrt(2).dtype, "f64"); near(T.sqrt(2):item(), math.sqrt(2), 0)   -- a number argument
end)

test("round_half_to_even", function()
  same(T.tensor{0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 3.5}:round(), {0, 2, 2, -0.0, -2, 2, -3, 4})
  eq(bits(T.tensor{-0.5}:round():get(1)), "-0")
  same(T.tensor{0.5, 2.5}:astype("f32"):round(), {0, 2})
  same(T.tensor{1e300, inf, nan}:round(), {1e300, inf, nan})
end)

test("activations_stable", function()
  local s = T.tensor{-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0}
  close(s:sigmoid(), {0.0, 9.357622968839299e-14, 0.2689414213699951, 0.5, 0.7310585786300049,
                      0.9999999999999064, 1.0}, ULP4, "sigmoid")
  close(s:softplus(), {0.0, 9.357622968839737e-14, 0.31326168751822286, 0.6931471805599453,
                       1.3132616875182228, 30.000000000000092, 800.0}, ULP4, "softplus")
  local f = s:astype("f32")
  same(f:sigmoid():totable()[1], 0); same(f:sigmoid():totable()[7], 1)
  same(f:softplus():totable()[7], 800)
  same(T.tensor{nan, -inf, inf}:relu(), {nan, 0, inf})
  same(T.tensor{nan, -inf, inf}:sigmoid(), {nan, 0, 1})
  same(T.tensor{-inf, inf}:softplus(), {0, inf})
end)

test("atan2", function()
  close(T.atan2(T.tensor{1.0, -1.0, 1.0, 0.0}, T.tensor{1.0, -1.0, -2.0, -1.0}),
        {0.7853981633974483, -2.356194490192345, 2.677945044588987, 3.141592653589793}, ULP4, "atan2")
  eq(T.atan2(T.tensor{1}, 1).dtype, "f64")
  eq(T.atan2(T.tensor{1}:astype("f32"), 1).dtype, "f32")
end)

test("nan_inf_arithmetic", function()
  local x = T.tensor{inf, -inf, nan, 1.0, -1.0, 0.0}
  same(x - x, {nan, nan, nan, 0, 0, 0})
  same(x / 0, {inf, -inf, nan, inf, -inf, nan})
  same(x * 0, {nan, nan, nan, 0, -0.0, 0})
  same(T.tensor{1000.0, -inf}:exp(), {inf, 0})
  same(T.tensor{0.0, -1.0}:log(), {-inf, nan})
  same(T.tensor{0.0, -0.0}:reciprocal(), {inf, -inf})
  same(T.tensor{-1.0}:sqrt(), {nan})
  same(x:sign(), {1, -1, nan, 1, -1, 0})
end)

-- --- broadcasting and layouts -------------------------------------------

test("broadcasting", function()
  local c = T.tensor{1, 2, 3}:view(3, 1)
  local r = T.tensor{10, 20, 30, 40}:view(1, 4)
  local s = c + r
  same(s.shape, {3, 4})
  same(s, {{11, 21, 31, 41}, {12, 22, 32, 42}, {13, 23, 33, 43}})
  same(T.tensor{{1, 2}, {3, 4}} * T.tensor{10, 100}, {{10, 200}, {30, 400}})
  same((T.ones(2, 1, 3) + T.zeros(4, 1)).shape, {2, 4, 3})
  raises(function() return T.zeros(2, 3) + T.zeros(4) end,
         "add: shapes {2,3} and {4} do not broadcast (dim 2: 3 vs 4)")
  raises(function() return T.zeros(2, 3):lt(T.zeros(3, 2)) end,
         "lt: shapes {2,3} and {3,2} do not broadcast (dim 1: 2 vs 3)")
end)

test("zero_dim_tensors", function()
  local s = T.tensor(2.5)
  eq((s + s).ndim, 0); eq((s + s):item(), 5)
  eq((s * 2).ndim, 0); eq((-s):item(), -2.5)
  same(s + T.tensor{1, 2}, {3.5, 4.5})
  same(T.tensor{1.0, 2.0} - s, {-1.5, -0.5})
  same((T.ones(1, 1) + s).shape, {1, 1})
  eq(s:exp().ndim, 0)
  eq(s:lt(3):item(), true)
end)

test("empty_tensors", function()
  same((T.zeros(0, 3) + T.zeros(3)).shape, {0, 3})
  same((T.zeros(0) + 1).shape, {0})
  same((T.zeros(2, 0) * T.zeros(2, 1)).shape, {2, 0})
  same(T.zeros(0):exp().shape, {0})
  same(T.zeros(0):lt(1).shape, {0}); eq(T.zeros(0):lt(1).dtype, "bool")
  same(T.where(T.zeros(0):gt(0), 1, 2).shape, {0})
  local e = T.zeros(0)
  e:add_(1); same(e.shape, {0})
end)

test("strided_inputs", function()
  local a = T.arange(1, 12):astype("f64"):view(3, 4)
  local at = a:transpose(1, 2)                  -- {4,3}, not contiguous
  eq(at:is_contiguous(), false)
  same(at + 1, {{2, 6, 10}, {3, 7, 11}, {4, 8, 12}, {5, 9, 13}})
  same(at * at, {{1, 25, 81}, {4, 36, 100}, {9, 49, 121}, {16, 64, 144}})
  same(at + a:t(), (at * 2):totable())
  same(at:sqrt():square(), at:totable(), 1e-12)
  local mid = a:narrow(2, 2, 2)                 -- columns 2..3
  same(mid - T.tensor{1, 2}, {{1, 1}, {5, 5}, {9, 9}})
  same(mid:neg(), {{-2, -3}, {-6, -7}, {-10, -11}})
  local ex = T.tensor{1.0, 2.0, 3.0}:view(3, 1):expand(3, 2)   -- stride 0
  same(ex + mid, {{3, 4}, {8, 9}, {13, 14}})
  same(T.where(mid:gt(5), at:t():narrow(2, 2, 2), 0), {{0, 0}, {6, 7}, {10, 11}})
  same(T.addcmul(mid, ex, mid), {{4, 6}, {18, 21}, {40, 44}})
  -- mixed dtypes through a strided view (converted first)
  local ai = T.arange(1, 12):view(3, 4):transpose(1, 2)
  same(ai + 0.5, {{1.5, 5.5, 9.5}, {2.5, 6.5, 10.5}, {3.5, 7.5, 11.5}, {4.5, 8.5, 12.5}})
  same(ai:sqrt():square(), ai:astype("f64"):totable(), 1e-12)
end)

test("strided_out_and_inplace", function()
  local base = T.zeros(4, 3)
  local o = base:transpose(1, 2)                -- {3,4} view, not contiguous
  local a = T.arange(1, 12):astype("f64"):view(3, 4)
  local r = T.add(a, 1, {out = o})
  eq(r, o)
  same(base, {{2, 6, 10}, {3, 7, 11}, {4, 8, 12}, {5, 9, 13}})
  local col = a:narrow(2, 2, 1)                  -- in place on a column view
  col:mul_(-1)
  same(a, {{1, -2, 3, 4}, {5, -6, 7, 8}, {9, -10, 11, 12}})
  a:t():add_(T.tensor{100, 200, 300, 400}:view(4, 1))
  same(a, {{101, 198, 303, 404}, {105, 194, 307, 408}, {109, 190, 311, 412}})
end)

-- --- in place and out= ----------------------------------------------------

test("inplace_binary", function()
  local a = T.tensor{1.0, 2.0, 3.0}
  local r = a:add_(T.tensor{1, 1, 1})
  eq(rawequal(r, a), true); same(a, {2, 3, 4})
  a:sub_(1):mul_(2):div_(4)
  same(a, {0.5, 1, 1.5})
  a:pow_(2); same(a, {0.25, 1, 2.25})
  a:add_(a); same(a, {0.5, 2, 4.5})
  local m = T.ones(2, 3)
  m:add_(T.tensor{1, 2, 3}); same(m, {{2, 3, 4}, {2, 3, 4}})
  local i = T.tensor{5, 6}
  i:add_(1); i:mul_(T.tensor{true, false}); same(i, {6, 0}); eq(i.dtype, "i64")
  local s = T.tensor{1.5}:astype("f32")
  s:mul_(2.0); eq(s.dtype, "f32"); same(s, {3})
  s:add_(T.tensor{1}); same(s, {4})            -- i64 tensor into f32: f32
end)

test("inplace_errors", function()
  local i = T.tensor{1, 2}
  raises(function() i:add_(0.5) end, "add_: result dtype f64 cannot be written into i64 tensor")
  raises(function() i:div_(2) end, "div_: result dtype f64 cannot be written into i64 tensor")
  raises(function() i:pow_(2) end, "pow_: result dtype f64 cannot be written into i64 tensor")
  raises(function() i:sqrt_() end, "sqrt_: result dtype f64 cannot be written into i64 tensor")
  raises(function() T.tensor{1.5}:astype("f32"):add_(T.tensor{1.5}) end,
         "add_: result dtype f64 cannot be written into f32 tensor")
  raises(function() T.tensor{true}:add_(true) end, "add_: result dtype i64 cannot be written into bool tensor")
  raises(function() T.tensor{true}:clamp_(0, 1) end, "clamp_: result dtype i64 cannot be written into bool tensor")
  raises(function() T.tensor{1.0}:logical_not_() end, "logical_not_: result dtype bool cannot be written into f64 tensor")
  same(i, {1, 2})
  local a = T.zeros(3)
  raises(function() a:add_(T.zeros(2, 3)) end, "add_: out has shape {3}, result has {2,3}")
  same(a, {0, 0, 0})
  raises(function() a:add_("x") end, "tensor or number expected")
  -- an expanded view shows one element many times: writing it is refused
  local one = T.tensor{5.0}
  local ex = one:view(1, 1):expand(2, 3)
  raises(function() ex:add_(1) end,
         "add_: cannot write into a broadcast (expanded) view (dim 1 repeats one element); clone it first")
  raises(function() ex:exp_() end, "exp_: cannot write into a broadcast (expanded) view")
  raises(function() T.where(true, T.ones(2, 3), 2, {out = ex}) end, "where: cannot write into a broadcast")
  same(one, {5})
  ex:clone():add_(1)                            -- a copy is fine
end)

test("inplace_unary", function()
  local names = {"neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos",
                 "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "relu",
                 "softplus", "floor", "ceil", "round", "reciprocal", "square"}
  for _, name in ipairs(names) do
    local x = T.tensor{0.25, 0.5, 0.75}
    local want = x[name](x):totable()
    local r = x[name .. "_"](x)
    eq(rawequal(r, x), true, name .. "_ returns its receiver")
    same(x, want, 0, name .. "_")
  end
  local i = T.tensor{-2, 3}
  i:abs_(); same(i, {2, 3}); i:neg_(); same(i, {-2, -3}); i:square_(); same(i, {4, 9})
  local b = T.tensor{true, false}
  b:logical_not_(); same(b, {false, true})
end)

test("out_option", function()
  local a, b = T.tensor{1.0, 2.0}, T.tensor{3.0, 4.0}
  local o = T.empty(2)
  local r = T.add(a, b, {out = o})
  eq(rawequal(r, o), true); same(o, {4, 6})
  a:mul(b, {out = o}); same(o, {3, 8})
  T.exp(T.zeros(2), {out = o}); same(o, {1, 1})
  local ob = T.empty(2, {dtype = "bool"})
  T.lt(a, b, {out = ob}); same(ob, {true, true})
  T.where(ob, a, b, {out = o}); same(o, {1, 2})
  T.addcmul(a, a, b, {out = o}); same(o, {4, 10})
  T.clamp(b, nil, 3.5, {out = o}); same(o, {3, 3.5})
  T.add(a, 1, {out = a}); same(a, {2, 3})       -- out aliasing an input
  raises(function() T.add(a, b, {out = T.empty(3)}) end, "add: out has shape {3}, result has {2}")
  raises(function() T.add(a, b, {out = T.empty(2, {dtype = "f32"})}) end,
         "add: out has dtype f32, result is f64")
  raises(function() T.exp(a, {out = T.empty(2, {dtype = "i64"})}) end, "exp: out has dtype i64, result is f64")
  raises(function() T.add(a, b, {out = 3}) end, "tensor expected")
  raises(function() T.add(a, b, 5) end, "options table expected")
end)

-- --- clamp, where, addcmul ------------------------------------------------

test("clamp", function()
  local x = T.tensor{-2.0, 0.5, 3.0, nan}
  same(x:clamp(0, 1), {0, 0.5, 1, nan})
  same(T.clamp(x, nil, 1), {-2, 0.5, 1, nan})
  same(x:clamp(0), {0, 0.5, 3, nan})
  same(x:clamp(2, 1), {1, 1, 1, nan})          -- lo > hi gives hi, as numpy
  local i = T.tensor{-3, 1, 2, 5}
  local c = i:clamp(1.5, 3.5)                   -- bounds move inward: 2..3
  eq(c.dtype, "i64"); same(c, {2, 2, 2, 3})
  same(i:clamp(-inf, inf), {-3, 1, 2, 5})
  eq(T.tensor{1.5}:astype("f32"):clamp(0, 1).dtype, "f32")
  eq(T.tensor{true}:clamp(0, 1).dtype, "i64")
  local y = T.tensor{-1.0, 2.0}
  eq(rawequal(y:clamp_(0, 1), y), true); same(y, {0, 1})
  raises(function() x:clamp(nan, 1) end, "clamp: bound is NaN")
  raises(function() x:clamp("a", 1) end, "number expected")
end)

test("where", function()
  local x = T.tensor{-1.0, 2.0, -3.0}
  same(T.where(x:gt(0), x, 0), {0, 2, 0})
  eq(T.where(x:gt(0), x, 0).dtype, "f64")
  local i = T.tensor{1, 2, 3}
  eq(T.where(i:gt(1), i, 0).dtype, "i64")
  eq(T.where(i:gt(1), i, 0.5).dtype, "f64"); same(T.where(i:gt(1), i, 0.5), {0.5, 2, 3})
  eq(T.where(i:gt(1), i:astype("f32"), 0.5).dtype, "f32")
  same(T.where(T.tensor{true, false}:view(2, 1), T.tensor{1, 2, 3}, -1),
       {{1, 2, 3}, {-1, -1, -1}})
  same(T.where(T.tensor{0, 7, 0}, 1, 2), {2, 1, 2})   -- cond read as truth values
  same(T.where(true, T.tensor{1, 2}, 0), {1, 2})
  same(T.where(x:gt(0), T.tensor{true, true, true}, false), {false, true, false})
  local n = T.tensor{nan, -0.0}
  eq(bits(T.where(T.tensor{true, true}, n, 0):get(2)), "-0")   -- bits are moved unchanged
  raises(function() T.where(T.tensor{true, false}, T.zeros(3), 0) end,
         "where: shapes {2} and {3} do not broadcast (dim 1: 2 vs 3)")
end)

test("addcmul", function()
  local c, a, b = T.tensor{1.0, 2.0}, T.tensor{3.0, 4.0}, T.tensor{0.5, -1.0}
  same(T.addcmul(c, a, b), {2.5, -2})
  same(c:addcmul(0.1, b), {1.05, 1.9})
  eq(T.addcmul(T.tensor{1}, T.tensor{2}, 3).dtype, "i64")
  eq(T.addcmul(T.tensor{true}, true, true).dtype, "i64")
  same(T.addcmul(T.tensor{true}, true, true), {2})
  eq(T.addcmul(c:astype("f32"), 0.5, 2).dtype, "f32")
  -- fused, but the same bits as the two operations written out
  local n = 100003
  local x = T.linspace(-3, 7, n):sin()
  local y = T.linspace(1, 2, n):exp()
  local z = T.linspace(0, 1, n):cos()
  local fused, plain = T.addcmul(z, x, y):totable(), (z + x * y):totable()
  local diff = 0
  for k = 1, n do if fused[k] ~= plain[k] then diff = diff + 1 end end
  eq(diff, 0, "elements differing from z + x*y")
  raises(function() T.addcmul(c, a, T.zeros(3)) end, "addcmul: shapes {2} and {3} do not broadcast")
end)

-- --- errors, metamethods ----------------------------------------------------

test("argument_errors", function()
  local t = T.ones(2)
  raises(function() T.add(t, "x") end, "tensor or number expected")
  raises(function() return t + {} end, "tensor or number expected")
  raises(function() return "2" * t end, "tensor or number expected")
  raises(function() T.exp("x") end, "tensor or number expected")
  raises(function() T.where(t:gt(0), t, nil) end, "tensor or number expected")
  local f = T.ones(2)
  f:free()
  raises(function() return f + 1 end, "attempt to use a freed tensor")
  raises(function() return t * f end, "attempt to use a freed tensor")
  raises(function() f:exp_() end, "attempt to use a freed tensor")
  raises(function() t:add_(f) end, "attempt to use a freed tensor")
  same(t, {1, 1})
end)

test("metamethods", function()
  local a = T.tensor{6, -7}
  same(a + 1, {7, -6}); same(a - 1, {5, -8}); same(a * 2, {12, -14})
  same(a / 4, {1.5, -1.75}); same(a // 4, {1, -2}); same(a % 4, {2, 1})
  same(a ^ 2, {36, 49}); same(-a, {-6, 7})
  same(3 // a, {0, -1}); same(3 % a, {3, -4}); same(2 ^ T.tensor{2}, {4})
  same(a + a, {12, -14})
  -- no __eq/__lt: Lua's == compares identity (use a:eq(b))
  eq(a == T.tensor{6, -7}, false)
end)

test("docstrings", function()
  for _, name in ipairs{"add", "idiv", "mod", "exp", "round", "clamp", "where", "addcmul", "lt"} do
    check.truthy(hebb.doc(T[name]), name .. " has a docstring")
  end
  check.truthy(hebb.doc(T.ones(1).add_), "add_ has a docstring")
  check.truthy(hebb.doc(T.round):find("even"), "round says how halves go")
end)

-- --- size and threads -------------------------------------------------------

test("large_tensors_parallel_path", function()
  local n = 1000000
  local x = T.arange(1, n):astype("f64")
  local s = x + x
  eq(s:get(1), 2); eq(s:get(n), 2 * n); eq(s:get(123457), 246914)
  local f = x:astype("f32") * 2
  eq(f.dtype, "f32"); eq(f:get(n), 2 * n)
  local q = T.arange(1, n) // 7
  eq(q:get(n), n // 7); eq(q:get(13), 1)
  eq((x:lt(500000.5)):totable()[500001], false)
end)

test("threads_same_bits", function()
  local n = 1000000
  local x = T.linspace(-20, 20, n)
  local old = hebb.threads()
  hebb.threads(1)
  local a1, b1 = x:sin():totable(), T.atan2(x, x:cos()):totable()
  local c1 = x:softplus():totable()
  hebb.threads(2)
  local a2, b2 = x:sin():totable(), T.atan2(x, x:cos()):totable()
  local c2 = x:softplus():totable()
  hebb.threads(old)
  local diff = 0
  for k = 1, n do
    if a1[k] ~= a2[k] or b1[k] ~= b2[k] or c1[k] ~= c2[k] then diff = diff + 1 end
  end
  eq(diff, 0, "elements differing between 1 and 2 threads")
  eq(a1[1], math.sin(-20.0))
end)

check.done()
