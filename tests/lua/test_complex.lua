-- test_complex.lua -- complex dtypes c128/c64 (natives/core/complex.c,
-- natives/lua/l_complex.c and the complex paths of copy.c, ewise.c,
-- binary.c, unary.c): construction, parts, conversions, promotion with weak
-- scalars, printing, element access, generic operations (views, copies,
-- indexing, cat) and clean errors for what does not support complex yet.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, near, same, raises, truthy =
  check.test, check.eq, check.near, check.same, check.raises, check.truthy

-- z = [1+4i, 2.5-5i, -3+0i; 0+1i, 1+1i, 2+1i]
local RE = {{1, 2.5, -3}, {0, 1, 2}}
local IM = {{4, -5, 0}, {1, 1, 1}}
local function z(dtype)
  local r = T.tensor(RE, {dtype = dtype == "c64" and "f32" or "f64"})
  return T.complex(r, T.tensor(IM, {dtype = r.dtype}))
end

test("construct_and_parts", function()
  local a = z()
  eq(a.dtype, "c128")
  same(a.shape, {2, 3})
  same(a:totable(), {{{1, 4}, {2.5, -5}, {-3, 0}}, {{0, 1}, {1, 1}, {2, 1}}})
  same(a:real():totable(), RE)
  same(a:imag():totable(), IM)
  eq(a:real().dtype, "f64")
  same(a:conj():imag():totable(), {{-4, 5, -0.0}, {-1, -1, -1}})
  eq(a:conj().dtype, "c128")
  -- |1+4i| = sqrt(17), |2.5-5i| = sqrt(31.25); angles from math.atan(im, re)
  near(a:abs():get(1, 1), math.sqrt(17), 1e-15)
  near(a:abs():get(1, 2), math.sqrt(31.25), 1e-15)
  eq(a:abs().dtype, "f64")
  near(a:angle():get(1, 2), math.atan(-5, 2.5), 1e-15)
  eq(a:angle():get(1, 3), math.pi)
  eq(a:angle():get(2, 1), math.pi / 2)
  local b = z("c64")
  eq(b.dtype, "c64")
  eq(b:real().dtype, "f32"); eq(b:abs().dtype, "f32"); eq(b:angle().dtype, "f32")
  same(b:imag():totable(), IM)
end)

test("complex_of_numbers_and_broadcast", function()
  local c = T.complex(1, 2)
  eq(c.dtype, "c128"); eq(c.ndim, 0)
  local re, im = c:item()
  eq(re, 1.0); eq(im, 2.0)
  local row = T.complex(T.tensor{1, 2, 3}, 0.5)
  same(row:imag():totable(), {0.5, 0.5, 0.5})
  local grid = T.complex(T.tensor{{1}, {2}}, T.tensor{10, 20, 30})
  same(grid.shape, {2, 3})
  same(grid:get(2, 3), 2.0); same({grid:get(2, 3)}, {2.0, 30.0})
  eq(T.complex(T.tensor({1}, {dtype = "f32"}), 2).dtype, "c64")
  eq(T.complex(T.tensor({1}, {dtype = "i64"}), 2).dtype, "c128")
  -- real inputs to the part functions are seen with imaginary part 0
  same(T.tensor{-2, 3}:imag():totable(), {0, 0})
  same(T.tensor{-2, 3}:angle():totable(), {math.pi, 0})
  eq(T.tensor({-2, 3}, {dtype = "f32"}):real().dtype, "f32")
  same(T.tensor{1, 2}:conj():totable(), {{1, 0}, {2, -0.0}})
end)

test("imaginary_unit", function()
  eq(T.I.dtype, "c128"); eq(T.I.ndim, 0)
  local re, im = T.I:item()
  eq(re, 0.0); eq(im, 1.0)
end)

test("creation_with_dtype", function()
  local c = T.zeros(2, 2, {dtype = "c128"})
  same(c:totable(), {{{0, 0}, {0, 0}}, {{0, 0}, {0, 0}}})
  same(T.ones(2, {dtype = "c64"}):totable(), {{1, 0}, {1, 0}})
  same(T.full({2}, 2.5, {dtype = "c128"}):totable(), {{2.5, 0}, {2.5, 0}})
  same(T.tensor({1, 2}, {dtype = "c128"}):totable(), {{1, 0}, {2, 0}})
  same(T.tensor({1.5}, {dtype = "c64"}):totable(), {{1.5, 0}})
  same(T.eye(2, {dtype = "c128"}):real():totable(), {{1, 0}, {0, 1}})
  same(T.arange(1, 3, 1, {dtype = "c128"}):real():totable(), {1, 2, 3})
  same(T.linspace(0, 1, 3, {dtype = "c64"}):real():totable(), {0, 0.5, 1})
  eq(T.zeros(0, {dtype = "c64"}):numel(), 0)
  eq(T.empty_like(z()).dtype, "c128")
end)

test("conversions", function()
  local a = T.tensor{1, -2}
  same(a:astype("c128"):totable(), {{1, 0}, {-2, 0}})
  same(T.tensor{1, 2}:astype("c64"):astype("c128"):totable(), {{1, 0}, {2, 0}})
  same(T.tensor({true, false}):astype("c64"):totable(), {{1, 0}, {0, 0}})
  local c = z()
  same(c:astype("c64"):imag():totable(), IM)
  raises(function() c:astype("f64") end,
         "astype: cannot convert c128 to f64 without dropping the imaginary part; use real() or abs()")
  raises(function() c:astype("i64") end, "cannot convert c128 to i64")
  raises(function() T.zeros(2, 3):copy_(c) end,
         "copy_: cannot convert c128 to f64 without dropping the imaginary part")
  local d = T.zeros(2, 3, {dtype = "c128"})
  d:copy_(c)
  same(d:totable(), c:totable())
  d:copy_(T.tensor{7, 8, 9})          -- real into complex, broadcast
  same(d:totable()[2], {{7, 0}, {8, 0}, {9, 0}})
  d:fill_(2); same(d:totable()[1][1], {2, 0})
  d:fill_(0.5); same(d:totable()[1][1], {0.5, 0})
end)

test("element_access", function()
  local c = z()
  same({c:get(1, 2)}, {2.5, -5.0})
  same({c:get(-1, -1)}, {2.0, 1.0})
  -- t[i][j] of a complex tensor is a 0-d view (Lua has no complex number)
  local e = c[1][2]
  eq(e.ndim, 0); same({e:item()}, {2.5, -5.0})
  truthy(T.shares_storage(e, c))
  c[1][1] = 7
  same({c:get(1, 1)}, {7.0, 0.0})
  c:set(2, 1, 3)
  same({c:get(2, 1)}, {3.0, 0.0})
  c[2] = T.complex(T.tensor{1, 2, 3}, T.tensor{-1, -2, -3})
  same(c:totable()[2], {{1, -1}, {2, -2}, {3, -3}})
  raises(function() c:item() end, "item: tensor has 6 elements, expected 1")
end)

-- T.complex's dtype is the complex one of its parts' promoted real dtype
-- (docs/design.md): f32 with i64 promotes to f32, so c64 -- as its
-- docstring says now (it said c128).
test("complex_dtype_follows_promotion", function()
  local parts = {f64 = T.zeros(1), f32 = T.zeros(1, {dtype = "f32"}),
                 i64 = T.zeros(1, {dtype = "i64"}), bool = T.zeros(1, {dtype = "bool"}),
                 num = 2.5}
  for na, a in pairs(parts) do
    for nb, b in pairs(parts) do
      local real = T.add(a, b).dtype
      local want = real == "f32" and "c64" or "c128"
      eq(T.complex(a, b).dtype, want, na .. "," .. nb)
    end
  end
  eq(T.complex(T.ones(2, {dtype = "f32"}), T.ones(2, {dtype = "i64"})).dtype, "c64")
  truthy(hebb.doc(T.complex):find("c64 when re and im promote to f32 (f32 with f32, i64", 1, true),
         "docstring states the rule")
end)

test("generic_operations", function()
  local c = z()
  -- views, copies and selections only move elements, so they work as is
  same(c:t():totable()[3], {{-3, 0}, {2, 1}})
  same(c:transpose(1, 2):contiguous():real():totable(), {{1, 0}, {2.5, 1}, {-3, 2}})
  same(c:reshape(6):totable()[5], {1, 1})
  same(c[{{}, {2, 3}}]:imag():totable(), {{-5, 0}, {1, 1}})
  same(c:narrow(2, 2, 1):clone():totable(), {{{2.5, -5}}, {{1, 1}}})
  same(c:unsqueeze(1).shape, {1, 2, 3})
  same(c:expand(2, 2, 3):clone():totable()[2][1][1], {1, 4})
  same(c:diagonal():totable(), {{1, 4}, {1, 1}})
  same(c:flatten():totable()[4], {0, 1})
  local strided = c:t():contiguous():t()   -- non-contiguous view
  truthy(not strided:is_contiguous())
  same(strided:real():totable(), RE)
  same(strided:abs():totable()[2], {1, math.sqrt(2), math.sqrt(5)})
  same(strided:clone():totable(), c:totable())
end)

test("indexing_and_where", function()
  -- elements are moved as 16 (c128) or 8 (c64) bytes
  for _, dt in ipairs{"c128", "c64"} do
    local c = z(dt)
    same(c:index_select(2, T.tensor{3, 1}):totable(), {{{-3, 0}, {1, 4}}, {{2, 1}, {0, 1}}}, 0, dt)
    same(c:gather(2, T.tensor{{2}, {3}}):totable(), {{{2.5, -5}}, {{2, 1}}})
    same(c:masked_select(c:real():gt(0.5)):totable(), {{1, 4}, {2.5, -5}, {1, 1}, {2, 1}})
    same(c[T.tensor{2}]:totable(), {{{0, 1}, {1, 1}, {2, 1}}})
    same(c[c:real():lt(1)]:totable(), {{-3, 0}, {0, 1}})
    same(T.where(c:real():gt(0.5), c, 0):totable()[2], {{0, 0}, {1, 1}, {2, 1}})
    local d = T.zeros(2, 3, {dtype = dt})
    d:scatter_(2, T.tensor{{1}, {2}}, c)
    same(d:totable(), {{{1, 4}, {0, 0}, {0, 0}}, {{0, 0}, {0, 1}, {0, 0}}})
    d:scatter_add_(2, T.tensor{{1}, {1}}, c)
    same(d:totable()[1][1], {2, 8}); same(d:totable()[2][1], {0, 1})
  end
  -- a weak T.I against an f32 tensor gives c64
  local w = T.where(T.tensor{true, false}, T.tensor({1, 2}, {dtype = "f32"}), T.I)
  eq(w.dtype, "c64"); same(w:totable(), {{1, 0}, {0, 1}})
end)

test("allclose_equal", function()
  local c = z()
  truthy(T.equal(c, c:clone()))
  truthy(not T.equal(c, c:conj()))
  truthy(T.equal(T.tensor({1, 2}, {dtype = "c64"}), T.tensor{1, 2}))
  truthy(T.allclose(c, c + 1e-12))
  truthy(not T.allclose(c, c + 1e-12 * T.I, 0, 1e-13))
  truthy(T.allclose(c, c + 1e-12 * T.I, 0, 1e-11))
  -- by the modulus: |(3+4i) - 3| = 4 <= 0 + 1 * |3|? no; rtol 1.5: yes
  truthy(not T.allclose(T.complex(3, 4), 3, 1, 0))
  truthy(T.allclose(T.complex(3, 4), 3, 1.5, 0))
  local nan = T.complex(0 / 0, 1)
  truthy(not T.allclose(nan, nan)); truthy(T.allclose(nan, T.complex(1, 0 / 0), {equal_nan = true}))
  truthy(T.allclose(c:astype("c64"), c, 1e-7))
end)

test("join_and_promotion", function()
  local c = T.complex(T.tensor{1, 2}, T.tensor{3, 4})
  same(T.cat({c, T.tensor{5}}):totable(), {{1, 3}, {2, 4}, {5, 0}})
  same(T.stack({c, c:conj()}, 1):imag():totable(), {{3, 4}, {-3, -4}})
  -- category, then width: f32 or i64 with c64 is c64, f64 with c64 is c128
  local c64 = c:astype("c64")
  eq(T.cat({c64, T.tensor({1}, {dtype = "f32"})}).dtype, "c64")
  eq(T.cat({c64, T.tensor({1}, {dtype = "i64"})}).dtype, "c64")
  eq(T.cat({c64, T.tensor({true})}).dtype, "c64")
  eq(T.cat({c64, T.tensor({1.5})}).dtype, "c128")
  eq(T.cat({c64, c}).dtype, "c128")
  eq(T.cat({T.tensor({1}, {dtype = "f32"}), c}).dtype, "c128")
end)

-- numpy (complex128) references for a = [1+4i, 2.5-5i, -3+0.5i] and
-- b = [0.5+1i, -1+2i, 2-3i].  C's complex functions and numpy's differ by a
-- few ulps at most (cpow a few more, through exp(b log a)); 1e-13 relative
-- to |ref| leaves room for that and nothing else.
local CA = {RE = {1, 2.5, -3}, IM = {4, -5, 0.5}}
local CB = {RE = {0.5, -1, 2}, IM = {1, 2, -3}}
local function cz(c, dtype)
  local r = dtype == "c64" and "f32" or "f64"
  return T.complex(T.tensor(c.RE, {dtype = r}), T.tensor(c.IM, {dtype = r}))
end
local function closez(t, ref, rtol, what)
  local got = t:totable()
  eq(#got, #ref, what)
  for i = 1, #ref do
    local dr, di = got[i][1] - ref[i][1], got[i][2] - ref[i][2]
    local err, size = math.sqrt(dr * dr + di * di), math.sqrt(ref[i][1] ^ 2 + ref[i][2] ^ 2)
    truthy(err <= rtol * size, (what or "") .. " element " .. i .. ": got " ..
           got[i][1] .. "," .. got[i][2] .. " want " .. ref[i][1] .. "," .. ref[i][2])
  end
end
local REF = {
  add = {{1.5, 5.0}, {1.5, -3.0}, {-1.0, -2.5}},
  sub = {{0.5, 3.0}, {3.5, -7.0}, {-5.0, 3.5}},
  mul = {{-3.5, 3.0}, {7.5, 10.0}, {-4.5, 10.0}},
  div = {{3.6, 0.8}, {-2.5, 0.0}, {-0.576923076923077, -0.6153846153846154}},
  pow = {{-0.2626627710297832, 0.47099330912713816}, {-0.266120186655951, -1.6159251638152898}, {-60411.40229962347, 35043.153544932895}},
  exp = {{-1.7767875768817298, -2.057202470728003}, {3.4557128612857024, 11.682089184855643}, {0.04369226300728118, 0.02386919206778745}},
  log = {{1.416606672028108, 1.3258176636680326}, {1.7210096880912054, -1.1071487177940904}, {1.1123117757621668, 2.976443976175166}},
  sqrt = {{1.600485180440241, 1.2496210676876531}, {2.011239660476776, -1.243014469696446}, {0.14384238796180673, 1.738013415533538}},
  sin = {{22.979085577886128, 14.744805188558725}, {44.41258700747403, 59.44742840748015}, {-0.15913058529843999, -0.5158804424525267}},
  cos = {{14.754701170483758, -22.96367349919304}, {-59.45282647070037, 44.40855453388662}, {-1.1163412445261518, 0.0735369737112366}},
  tan = {{0.00061024092137626, 1.0002790562344657}, {-8.706794669063447e-05, -0.9999742400546391}, {0.11162105077158345, 0.4694699934258854}},
  tanh = {{1.002810507583505, 0.27355308280730734}, {1.0113441956285463, 0.007414673684780521}, {-0.9973163652832018, 0.00416042659289383}},
  sinh = {{-0.7681627634565731, -1.1678072748895183}, {1.7162142255911508, 5.880401241310895}, {-8.791512343493714, 4.82669427481082}},
  cosh = {{-1.0086248134251568, -0.8893951958384846}, {1.7394986356945517, 5.801687943544748}, {8.835204606500994, -4.802825082743033}},
  asin = {{0.23831746180986607, 2.1225501238100715}, {0.45733914979653584, -2.4189821813541275}, {-1.3961498617094474, 1.7789904938267689}},
  acos = {{1.3324788649850305, -2.1225501238100715}, {1.1134571769983608, 2.4189821813541275}, {2.966946188504344, -1.7789904938267689}},
  atan = {{1.508618829521516, 0.23887786125685911}, {1.4888922289729962, -0.1603155862977334}, {-1.2563981835871803, 0.04893614428152383}},
  reciprocal = {{0.058823529411764705, -0.23529411764705882}, {0.08, 0.16}, {-0.3243243243243243, -0.05405405405405404}},
  square = {{-15.0, 8.0}, {-18.75, -25.0}, {8.75, -3.0}},
  neg = {{-1, -4}, {-2.5, 5}, {3, -0.5}},
}

test("binary_arithmetic", function()
  local a, b = cz(CA), cz(CB)
  for _, op in ipairs{"add", "sub", "mul", "div", "pow"} do
    local r = a[op](a, b)
    eq(r.dtype, "c128", op)
    closez(r, REF[op], 1e-13, op)
    -- c64 computes in float: about 1e-7 relative (pow: a few times more)
    local r32 = cz(CA, "c64")[op](cz(CA, "c64"), cz(CB, "c64"))
    eq(r32.dtype, "c64", op)
    closez(r32, REF[op], 2e-6, op .. " c64")
  end
  closez(a + b, REF.add, 0); closez(a - b, REF.sub, 0)
  closez(a * b, REF.mul, 0); closez(a / b, REF.div, 1e-15)
  closez(a ^ b, REF.pow, 1e-13); closez(-a, REF.neg, 0)
  closez(a ^ 2, REF.square, 0)
  -- a^2.5 and 2^a (numpy)
  closez(a ^ 2.5, {{-34.004246248104835, -5.940434571792873}, {-68.78610537635073, -26.974470205111064}, {6.472661141266434, 14.776090222033025}}, 1e-13)
  closez(2 ^ a, {{-1.8653741536721422, 0.721373181378362}, {-5.362267605733212, 1.8016897969695573}, {0.11756776308540551, 0.04245964063783357}}, 1e-13)
  same((a:eq(a)):totable(), {true, true, true})
  same((a:eq(b)):totable(), {false, false, false})
  same((a:ne(T.complex(1, 4))):totable(), {false, true, true})
  same(T.tensor({1, 2}, {dtype = "c128"}):eq(T.tensor{1, 3}):totable(), {true, false})
end)

-- Complex powers at the edges, against numpy 1.24 (complex128 z ** e,
-- pinned): 0^0 was NaN (C's cpow); numpy's rules give 1, 0 for 0^(real >
-- 0), NaN otherwise, and integer exponents by repeated squaring.  NaN and
-- infinities must match exactly; finite parts within 1e-13 relative (cpow
-- for the non-integer exponents differs by a few ulps).
local I, N = 1 / 0, 0 / 0
local ZS = {{0.0, 0.0}, {-0.0, 0.0}, {0.0, 1.0}, {I, 0.0}, {0.0, I}, {I, I}, {2.0, -1.0}, {N, 0.0}, {0.5, -1.5}}
local ES = {{0.0, 0.0}, {1.0, 0.0}, {2.0, 0.0}, {3.0, 0.0}, {0.5, 0.0}, {-1.0, 0.0}, {-2.0, 0.0}, {0.0, 1.0}, {2.0, 1.0}, {-0.5, 0.0}, {7.0, 0.0}, {-5.0, 0.0}, {150.0, 0.0}}
local POW = {
  {{1.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {0.0, 0.0}, {N, N}, {0.0, 0.0}},
  {{1.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {0.0, 0.0}, {N, N}, {0.0, 0.0}},
  {{1.0, 0.0}, {0.0, 1.0}, {-1.0, 0.0}, {-0.0, -1.0}, {0.7071067811865476, 0.7071067811865475}, {0.0, -1.0}, {-1.0, -0.0}, {0.20787957635076193, 0.0}, {-0.20787957635076193, 2.545790577860684e-17}, {0.7071067811865476, -0.7071067811865475}, {-0.0, -1.0}, {0.0, -1.0}, {-1.0, 1.273756467240565e-14}},
  {{1.0, 0.0}, {I, 0.0}, {I, N}, {N, N}, {I, N}, {N, N}, {N, N}, {N, N}, {I, N}, {0.0, -0.0}, {N, N}, {N, N}, {I, N}},
  {{1.0, 0.0}, {0.0, I}, {-I, N}, {N, N}, {I, N}, {N, N}, {N, N}, {N, N}, {I, N}, {0.0, -0.0}, {N, N}, {N, N}, {I, N}},
  {{1.0, 0.0}, {I, I}, {N, I}, {N, N}, {I, N}, {N, N}, {N, N}, {N, N}, {I, N}, {0.0, -0.0}, {N, N}, {N, N}, {I, N}},
  {{1.0, 0.0}, {2.0, -1.0}, {3.0, -4.0}, {2.0, -11.0}, {1.455346690225355, -0.34356074972251244}, {0.4, 0.2}, {0.12, 0.16}, {1.1022736817290708, 1.145711951614734}, {7.88966885164615, -0.971958872072081}, {0.6508508260346444, 0.15364503815606598}, {-278.0, 29.0}, {-0.01216, 0.01312}, {2.403686468431934e+52, -1.1085051570026418e+52}},
  {{1.0, 0.0}, {N, 0.0}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}, {N, N}},
  {{1.0, 0.0}, {0.5, -1.5}, {-2.0, -1.5}, {-3.25, 2.25}, {1.0200830432087846, -0.7352342586156435}, {0.19999999999999998, 0.6}, {-0.32, 0.24}, {3.1274132686759972, 1.5422556970433885}, {-3.941442991786912, -7.775631297100773}, {0.645157163811143, 0.465002974202142}, {-19.1875, -15.5625}, {0.10111999999999999, -0.0038399999999999997}, {2.9341887193203578e+29, 6.362505105097385e+29}}}

local function part_ok(got, want, rtol, size)
  if want ~= want then return got ~= got end
  if want == I or want == -I then return got == want end
  return math.abs(got - want) <= rtol * size
end

local function column(rows, k)
  local t = {}
  for i, row in ipairs(rows) do t[i] = row[k] end
  return t
end

local function finite_size(want)
  local s = 0
  for k = 1, 2 do
    if want[k] == want[k] and math.abs(want[k]) ~= I then s = s + want[k] ^ 2 end
  end
  return math.sqrt(s)
end

test("pow_edge_cases_match_numpy", function()
  for _, dtype in ipairs{"c128", "c64"} do
    local r = dtype == "c64" and "f32" or "f64"
    -- c64 computes in float, and i^150 by cpowf carries 150 x 2^-24 ~ 1e-5
    -- relative; its overflows (|z| > 1e30) are skipped
    local rtol = dtype == "c64" and 3e-5 or 1e-13
    local et = T.complex(T.tensor(column(ES, 1), {dtype = r}), T.tensor(column(ES, 2), {dtype = r}))
    for i, z in ipairs(ZS) do
      local zt = T.complex(T.full({#ES}, z[1], {dtype = r}), T.full({#ES}, z[2], {dtype = r}))
      local got = (zt ^ et):totable()
      for k, want in ipairs(POW[i]) do
        local size, g = finite_size(want), got[k]
        if not (dtype == "c64" and size > 1e30) then
          truthy(part_ok(g[1], want[1], rtol, size) and part_ok(g[2], want[2], rtol, size),
                 string.format("%s (%g,%g)^(%g,%g): got (%g,%g), want (%g,%g)", dtype, z[1], z[2],
                               ES[k][1], ES[k][2], g[1], g[2], want[1], want[2]))
        end
      end
    end
  end
  -- the issue's reproducer, and a Lua number exponent (a weak operand)
  same(T.complex(T.tensor{0.0}, T.tensor{0.0}) ^ 0, {{1, 0}})
  same(T.complex(T.tensor{0.0}, T.tensor{0.0}) ^ 2.5, {{0, 0}})
end)

test("unary_functions", function()
  local a = cz(CA)
  for _, op in ipairs{"exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh",
                      "cosh", "asin", "acos", "atan", "reciprocal", "square", "neg"} do
    local r = a[op](a)
    eq(r.dtype, "c128", op)
    closez(r, REF[op], 1e-14, op)
    local r32 = cz(CA, "c64")[op](cz(CA, "c64"))
    eq(r32.dtype, "c64", op)
    closez(r32, REF[op], 2e-6, op .. " c64")
  end
  -- principal branches: sqrt(-4) = 2i, log(-1) = i*pi
  same(T.complex(-4, 0):sqrt():totable(), {0, 2})
  same(T.complex(-1, 0):log():totable(), {0, math.pi})
  -- in place
  local c = cz(CA)
  c:exp_()
  closez(c, REF.exp, 1e-14)
  c = cz(CA); c:mul_(cz(CB)); closez(c, REF.mul, 0)
end)

test("weak_scalars_and_promotion", function()
  local a64, a32 = cz(CA), cz(CA, "c64")
  eq((a32 * 2.5).dtype, "c64"); eq((a32 + 1).dtype, "c64"); eq((a32 / 3).dtype, "c64")
  eq((2 ^ a32).dtype, "c64")
  closez(a64 * 2, {{2, 8}, {5, -10}, {-6, 1}}, 0)
  closez(a64 - 1.5, {{-0.5, 4}, {1, -5}, {-4.5, 0.5}}, 0)
  local f32, f64, i64 = T.tensor({1, 2}, {dtype = "f32"}), T.tensor{1.0, 2.0}, T.tensor{1, 2}
  local c64, c128 = T.ones(2, {dtype = "c64"}), T.ones(2, {dtype = "c128"})
  eq((f32 + c64).dtype, "c64"); eq((i64 + c64).dtype, "c64")
  eq((f64 + c64).dtype, "c128"); eq((f32 + c128).dtype, "c128")
  eq((c64 + c128).dtype, "c128"); eq((T.tensor{true, false} + c64).dtype, "c64")
  eq((i64 / c64).dtype, "c64")
  -- T.I is weak: it makes a float tensor complex of the same width
  eq((f32 * T.I).dtype, "c64"); eq((f64 * T.I).dtype, "c128"); eq((i64 * T.I).dtype, "c128")
  same((f64 * T.I):totable(), {{0, 1}, {0, 2}})
  same((3 + 4 * T.I):totable(), {3, 4})
  eq((3 + 4 * T.I).dtype, "c128")
  -- broadcasting a complex row against a real column
  local g = T.tensor{{1}, {2}} * cz(CB)
  same(g.shape, {2, 3}); same(g:totable()[2][3], {4, -6})
  -- strided operands
  local m = T.complex(T.tensor{{1, 2}, {3, 4}}, T.tensor{{1, 0}, {0, 1}})
  same((m:t() + m):totable(), {{{2, 2}, {5, 0}}, {{5, 0}, {8, 2}}})
  same((m:t() * T.I):totable()[1][2], {-0.0, 3})
  -- 0-d and empty
  eq((T.complex(1, 1) * T.complex(1, -1)):item(), 2.0)
  local e = T.zeros(0, {dtype = "c128"}) + 1
  eq(e:numel(), 0); eq(e.dtype, "c128")
  raises(function() f64:add_(T.I) end, "add_: result dtype c128 cannot be written into f64 tensor")
end)

test("elementwise_threads", function()
  local hebb = require "hebb"
  local n = 300000
  local x = T.complex(T.linspace(-3, 3, n), T.linspace(2, -1, n))
  hebb.threads(1)
  local r1 = x:exp() * x + x:sqrt() / (x + 5)
  hebb.threads(2)
  local r2 = x:exp() * x + x:sqrt() / (x + 5)
  hebb.threads(1)
  truthy(T.equal(r1:real(), r2:real()) and T.equal(r1:imag(), r2:imag()))
  local k = 123457
  local z = T.complex(-3 + 6 * (k - 1) / (n - 1), 2 - 3 * (k - 1) / (n - 1))
  local want = z:exp() * z + z:sqrt() / (z + 5)
  local gr, gi = r1:get(k)
  local wr, wi = want:item()
  near(gr, wr, 1e-12); near(gi, wi, 1e-12)
end)

test("reductions", function()
  local a = z()   -- [1+4i, 2.5-5i, -3+0i; 0+1i, 1+1i, 2+1i]
  local s = a:sum()
  eq(s.dtype, "c128"); eq(s.ndim, 0)
  same({s:item()}, {3.5, 2.0})
  same({a:mean():item()}, {3.5 / 6, 2.0 / 6})
  same(a:sum(1):totable(), {{1, 5}, {3.5, -4}, {-1, 1}})
  same(a:sum(2):totable(), {{0.5, -1}, {3, 3}})
  same(a:mean(2, {keepdim = true}).shape, {2, 1})
  same(a:sum({1, 2}):totable(), {3.5, 2.0})
  -- |z|^2 summed: 17 + 31.25 + 9 + 1 + 2 + 5 = 65.25
  local n2 = a:norm()
  eq(math.type(n2), "float")
  near(n2, math.sqrt(65.25), 1e-15)
  near(a:norm(1), math.sqrt(17) + math.sqrt(31.25) + 3 + 1 + math.sqrt(2) + math.sqrt(5), 1e-14)
  eq(a:norm(math.huge), math.sqrt(31.25))
  eq(a:norm(2, 2).dtype, "f64")
  near(a:norm(2, 2):get(2), math.sqrt(8), 1e-15)
  local b = z("c64")
  eq(b:sum().dtype, "c64"); same({b:sum():item()}, {3.5, 2.0})
  eq(b:norm(2, 1).dtype, "f32")
  near(b:norm(), math.sqrt(65.25), 1e-6)
  -- strided input and out
  same(a:t():sum(1):totable(), {{0.5, -1}, {3, 3}})
  local o = T.zeros(3, {dtype = "c128"})
  a:sum(1, {out = o})
  same(o:totable(), {{1, 5}, {3.5, -4}, {-1, 1}})
  raises(function() a:sum(1, {out = T.zeros(3)}) end, "sum: out has dtype f64, result is c128")
  -- empty: the sum of nothing is 0
  same({T.zeros(0, {dtype = "c128"}):sum():item()}, {0.0, 0.0})
  -- products (numpy: a.prod(), a.prod(0), a.prod(1)) of
  -- a = [1+4i, 2.5-5i, -3+0i; 0+1i, 1+1i, 2+1i]: exact in binary
  same(a:prod():totable(), {217.5, -22.5})
  same(a:prod(1):totable(), {{-4, 1}, {7.5, -2.5}, {-6, -3}})
  same(a:prod(2):totable(), {{-67.5, -15}, {-3, 1}})
  same(a:prod(2, {keepdim = true}).shape, {2, 1})
  same(a:t():prod(1):totable(), {{-67.5, -15}, {-3, 1}})
  eq(z("c64"):prod().dtype, "c64"); same(z("c64"):prod():totable(), {217.5, -22.5})
  same(T.zeros(0, {dtype = "c128"}):prod():totable(), {1, 0})
  same(T.complex(2, 1):prod():totable(), {2, 1})
  local po = T.zeros(2, 2, {dtype = "c128"})
  a:prod(2, {out = po[{{}, 1}]})
  same(po:totable(), {{{-67.5, -15}, {0, 0}}, {{-3, 1}, {0, 0}}})
  raises(function() a:prod(3) end, "prod: dimension 3 out of range")
  raises(function() a:var() end, "var: dtype c128 is not supported yet")
  raises(function() a:max() end, "max: dtype c128 is not supported yet")
  raises(function() a:sum(3) end, "dimension 3 out of range")
end)

test("sum_threads", function()
  local hebb = require "hebb"
  local n = 1000003
  local x = T.complex(T.linspace(-1, 2, n):sin(), T.linspace(0, 5, n):cos())
  hebb.threads(1)
  local r1, i1 = x:sum():item()
  local m1 = x:reshape(1000003, 1):sum(1)
  hebb.threads(2)
  local r2, i2 = x:sum():item()
  local m2 = x:reshape(1000003, 1):sum(1)
  hebb.threads(1)
  eq(r1, r2); eq(i1, i2)
  truthy(T.equal(m1:real(), m2:real()) and T.equal(m1:imag(), m2:imag()))
  -- the parts are summed exactly as real tensors are
  eq(r1, x:real():sum()); eq(i1, x:imag():sum())
  -- products of unit numbers in fixed blocks: same bits at 1 and 2 threads
  local u = (T.I * T.linspace(0, 1, n)):exp()
  hebb.threads(2)
  local p2 = u:prod()
  hebb.threads(1)
  local p1 = u:prod()
  same(p1:totable(), p2:totable())
  -- prod of e^{i t} is e^{i sum t}: sum t = n/2, rounding grows ~ sqrt(n) ulp
  local want = T.complex(0, n / 2):exp()
  near(p1:real():item(), want:real():item(), 1e-9)
  near(p1:imag():item(), want:imag():item(), 1e-9)
end)

test("matmul_dot_outer", function()
  -- numpy: A @ A, A @ v, dot(v, v), vdot(v, v), outer(v, v), A.T @ A, v @ A
  local A = T.complex(T.tensor{{1, 2}, {3, 4}}, T.tensor{{0, 1}, {-1, 2}})
  local v = T.complex(T.tensor{1, -1}, T.tensor{2, 0.5})
  same(A:matmul(A):totable(), {{{8, 1}, {8, 9}}, {{17, 1}, {19, 17}}})
  same(A:matmul(v):totable(), {{-1.5, 2}, {0, 5}})
  same(v:matmul(A):totable(), {{-1.5, 4.5}, {-5, 5}})
  same(A:t():matmul(A):totable(), {{{9, -6}, {16, 3}}, {{16, 3}, {15, 20}}})
  same(T.dot(v, v):totable(), {-2.25, 3})
  same(T.vdot(v, v):totable(), {6.25, 0})
  same(T.vdot(A[1], v):totable(), {-0.5, 4})
  same(T.outer(v, v):totable(), {{{-3, 4}, {-2, -1.5}}, {{-2, -1.5}, {0.75, -1}}})
  -- c64 through cgemm/cdotu; real with complex promotes
  local A32 = A:astype("c64")
  eq(A32:matmul(A32).dtype, "c64")
  same(A32:matmul(A32):totable(), {{{8, 1}, {8, 9}}, {{17, 1}, {19, 17}}})
  same(T.dot(v:astype("c64"), v:astype("c64")):totable(), {-2.25, 3})
  local I2 = T.eye(2)
  eq(I2:matmul(A).dtype, "c128"); same(I2:matmul(A):totable(), A:totable())
  eq(T.eye(2, {dtype = "f32"}):matmul(A32).dtype, "c64")
  -- batched
  local B = T.stack({A, A:conj()}, 1)
  same(B:matmul(v):totable()[2], {{-0.5, 4}, {-2, 11}})
end)

test("matmul_large_threads", function()
  local hebb = require "hebb"
  local n = 400   -- 400^3 multiply-adds: cut into tiles
  T.manual_seed(3)
  local ar, ai, br, bi = T.randn(n, n), T.randn(n, n), T.randn(n, n), T.randn(n, n)
  local a, b = T.complex(ar, ai), T.complex(br, bi)
  hebb.threads(1)
  local c1 = a:matmul(b:t())
  hebb.threads(2)
  local c2 = a:matmul(b:t())
  hebb.threads(1)
  truthy(T.equal(c1:real(), c2:real()) and T.equal(c1:imag(), c2:imag()))
  -- (ar + i ai)(br + i bi)^T from real products; entries are sums of 400
  -- products of size ~1, rounding differences stay below 1e-12
  local re = ar:matmul(br:t()) - ai:matmul(bi:t())
  local im = ar:matmul(bi:t()) + ai:matmul(br:t())
  truthy(T.allclose(c1:real(), re, 0, 1e-12) and T.allclose(c1:imag(), im, 0, 1e-12))
  -- a long dot product, summed in blocks
  local x = T.complex(T.linspace(0, 1, 100000), T.linspace(1, 0, 100000))
  hebb.threads(2)
  local d2 = T.vdot(x, x)
  hebb.threads(1)
  local d1 = T.vdot(x, x)
  same(d1:totable(), d2:totable())
  near(d1:real():item(), (x:abs() ^ 2):sum(), 1e-9)
end)

test("random_complex_normal", function()
  local hebb = require "hebb"
  T.manual_seed(1)
  local z = T.randn(100000, {dtype = "c128"})
  eq(z.dtype, "c128")
  -- element k is words 2k-1, 2k of a real draw, scaled by sqrt(1/2)
  T.manual_seed(1)
  local r = T.randn(200000)
  truthy(T.equal(z:real(), r[{{1, -1, 2}}] * math.sqrt(0.5)))
  truthy(T.equal(z:imag(), r[{{2, -1, 2}}] * math.sqrt(0.5)))
  -- E|z|^2 = 1 and each part has variance 1/2: with 1e5 samples the
  -- standard error of these means is ~0.005 (|z|^2 is exponential, sd 1)
  near((z:abs() ^ 2):mean(), 1, 0.03)
  near(z:real():var(), 0.5, 0.02); near(z:imag():var(), 0.5, 0.02)
  near(z:real():mean(), 0, 0.02)
  -- threads do not change the draw
  hebb.threads(2); T.manual_seed(9); local a2 = T.randn(300000, {dtype = "c64"})
  hebb.threads(1); T.manual_seed(9); local a1 = T.randn(300000, {dtype = "c64"})
  eq(a1.dtype, "c64")
  truthy(T.equal(a1:real(), a2:real()) and T.equal(a1:imag(), a2:imag()))
  -- in place, strided, with a mean
  local w = T.zeros(400, 300, {dtype = "c128"}):t()
  w:normal_(5, 2)
  near(w:real():mean(), 5, 0.03); near(w:imag():mean(), 0, 0.03)
  near(((w - 5):abs() ^ 2):mean(), 4, 0.1)
  eq(T.randn_like(z).dtype, "c128")
  raises(function() T.rand(3, {dtype = "c128"}) end, "rand: dtype c128 is not supported yet")
  raises(function() w:normal_(0, -1) end, "normal_: need a finite mean and a finite std >= 0")
end)

test("printing", function()
  local c = z()
  eq(tostring(c),
     "[[ 1.0000+4.0000i,  2.5000-5.0000i, -3.0000+0.0000i],\n" ..
     " [ 0.0000+1.0000i,  1.0000+1.0000i,  2.0000+1.0000i]]\n" ..
     "[c128 tensor of shape {2,3}]")
  eq(tostring(T.I), "0.+1.i  [c128 tensor of shape {}]")
  eq(tostring(T.tensor({1, 2}, {dtype = "c64"})), "[1.+0.i, 2.+0.i]\n[c64 tensor of shape {2}]")
  eq(tostring(T.zeros(0, {dtype = "c64"})), "[]  [c64 tensor of shape {0}]")
  eq(tostring(T.complex(-1.5, -0.25)), "-1.5000-0.2500i  [c128 tensor of shape {}]")
end)

test("errors", function()
  local c = z()
  raises(function() T.complex(c, 1) end, "complex: the real part must be real, got c128")
  raises(function() T.complex(1, c) end, "complex: the imaginary part must be real, got c128")
  raises(function() T.complex(T.zeros(2), T.zeros(3)) end, "complex: shapes {2} and {3} do not broadcast")
  raises(function() c:real{out = T.zeros(2, 3, {dtype = "f32"})} end,
         "real: out has dtype f32, result is f64")
  raises(function() c:floor() end, "floor: dtype c128 is not supported yet")
  raises(function() c:sigmoid() end, "sigmoid: dtype c128 is not supported yet")
  raises(function() c:logical_not() end, "logical_not: dtype c128 is not supported yet")
  raises(function() c:lt(c) end, "lt: not defined for complex numbers (dtype c128)")
  raises(function() T.zeros(3):gt(c[1]) end, "gt: not defined for complex numbers (dtype c128)")
  raises(function() c:maximum(1) end, "maximum: not defined for complex numbers")
  raises(function() return c // 2 end, "idiv: not defined for complex numbers")
  raises(function() return c % 2 end, "mod: not defined for complex numbers")
  raises(function() c:logical_and(c) end, "logical_and: not defined for complex numbers")
  raises(function() c:atan2(c) end, "atan2: not defined for complex numbers")
  raises(function() T.vdot(c, 1) end, "T.vdot: b must be a tensor, got 1")
  raises(function() T.where(c, c, c) end, "where: dtype c128 is not supported yet")
  raises(function() T.zeros(3):scatter_(1, T.tensor{1}, c[1]) end,
         "cannot convert c128 to f64 without dropping the imaginary part")
  raises(function() c:abs_() end, "abs_: result dtype f64 cannot be written into c128 tensor")
  raises(function() T.zeros(2, {dtype = "c17"}) end, "unknown dtype 'c17'")
end)

check.done()
