-- test_tensor.lua -- creation, inspection, conversion, lifetime, printing,
-- docstrings and argument errors of hebb.tensor (natives/lua/l_tensor.c).
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises

test("zeros_ones_full_empty", function()
  local z = T.zeros(2, 3)
  eq(z.dtype, "f64"); eq(z.ndim, 2); same(z.shape, {2, 3}); eq(z:numel(), 6)
  same(z, {{0, 0, 0}, {0, 0, 0}})
  same(T.zeros{2, 3}.shape, {2, 3})
  same(T.ones(3), {1, 1, 1})
  same(T.full({2}, 7.5), {7.5, 7.5})
  same(T.full(2, 2, -1), {{-1, -1}, {-1, -1}})
  eq(T.ones(2, {dtype = "i64"}).dtype, "i64")
  eq(T.ones(2, "f32").dtype, "f32")
  eq(T.empty(4, 5):numel(), 20)
  local s = T.zeros()             -- 0-d
  eq(s.ndim, 0); eq(s:numel(), 1); eq(s:item(), 0.0)
end)

test("full_i64_exact", function()
  local big = math.maxinteger - 1
  local t = T.full({2}, big, {dtype = "i64"})
  eq(t:get(1), big); eq(math.type(t:get(2)), "integer")
end)

test("like_constructors", function()
  local a = T.ones(2, 3, {dtype = "f32"})
  local z = T.zeros_like(a)
  eq(z.dtype, "f32"); same(z.shape, {2, 3}); same(z, {{0, 0, 0}, {0, 0, 0}})
  same(T.ones_like(a, {dtype = "i64"}), {{1, 1, 1}, {1, 1, 1}})
  same(a:full_like(4), {{4, 4, 4}, {4, 4, 4}})
  same(a:empty_like().shape, {2, 3})
end)

test("tensor_from_tables", function()
  local t = T.tensor{{1, 2}, {3, 4}}
  eq(t.dtype, "i64"); same(t, {{1, 2}, {3, 4}})
  eq(T.tensor{1, 2.5}.dtype, "f64")
  eq(T.tensor{true, false}.dtype, "bool")
  same(T.tensor{true, false}, {true, false})
  eq(T.tensor{1, 2}:astype("f64").dtype, "f64")
  eq(T.tensor({1, 2}, {dtype = "f32"}).dtype, "f32")
  eq(T.tensor(3.5):item(), 3.5)
  eq(T.tensor(3.5).ndim, 0)
  same(T.tensor{}.shape, {0})
  same(T.tensor{{}, {}}.shape, {2, 0})
end)

test("tensor_errors", function()
  raises(function() T.tensor{{1, 2}, {3}} end, "ragged nested table")
  raises(function() T.tensor{1, "x"} end, "expected numbers or booleans, found string")
  raises(function() T.tensor({1, 2}, {dtype = "bool"}) end, "dtype bool needs boolean values")
  raises(function() T.tensor("x") end, "table or number expected")
  raises(function() T.zeros(2, {dtype = "f16"}) end, "unknown dtype 'f16'")
  raises(function() T.zeros(2, {dtype = "c128"}):floor() end, "floor: dtype c128 is not supported yet")
  raises(function() T.zeros(-1) end, "size 1 is negative (-1)")
  raises(function() T.zeros(2.5) end, "size 1 must be an integer")
  raises(function() T.zeros{2, "a"} end, "size 2 must be an integer, got string")
  raises(function() T.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1) end,
         "more than 16 dimensions")
  raises(function() T.zeros{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1} end,
         "17 dimensions (at most 16)")
  raises(function() T.full({2}, "x") end, "number expected")
end)

test("sixteen_dims", function()
  local shape = {}
  for i = 1, 16 do shape[i] = 1 end
  shape[16] = 2
  local t = T.ones(shape)
  eq(t.ndim, 16); eq(t:numel(), 2)
end)

test("arange_inclusive", function()
  same(T.arange(1, 5), {1, 2, 3, 4, 5})
  same(T.arange(4), {1, 2, 3, 4})
  eq(T.arange(1, 5).dtype, "i64")
  same(T.arange(5, 1, -2), {5, 3, 1})
  same(T.arange(1, 0), {})
  local f = T.arange(0, 1, 0.1)
  eq(f:numel(), 11); eq(f.dtype, "f64")
  check.near(f:get(11), 1.0, 1e-15)
  check.near(f:get(4), 0.3, 1e-15)
  eq(T.arange(0, 1, 0.25, {dtype = "f32"}).dtype, "f32")
  eq(T.arange(1, 3, {dtype = "f64"}).dtype, "f64")       -- options after stop
  same(T.arange(1, 3, "f32"), {1, 2, 3})
  eq(T.arange(4, {dtype = "f32"}).dtype, "f32")
  raises(function() T.arange(1, 5, 0) end, "step must be non-zero")
end)

test("linspace_eye", function()
  same(T.linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1})
  eq(T.linspace(-1, 1, 7):get(7), 1.0)
  eq(T.linspace(-1, 1, 7):get(1), -1.0)
  same(T.linspace(2, 3, 1), {2})
  same(T.linspace(2, 3, 0).shape, {0})
  same(T.eye(2), {{1, 0}, {0, 1}})
  same(T.eye(2, 3), {{1, 0, 0}, {0, 1, 0}})
  eq(T.eye(2, {dtype = "i64"}).dtype, "i64")
  raises(function() T.linspace(0, 1, -1) end, "number of points must be >= 0")
end)

test("inspection", function()
  local t = T.tensor{{1.5, 2}, {3, 4}}
  eq(t:get(2, 1), 3.0); eq(t:get(-1, -1), 4.0)
  eq(t:size(1), 2); eq(t:size(-1), 2); same(t:size(), {2, 2})
  same(t:stride(), {2, 1})
  eq(t:is_contiguous(), true)
  eq(#t, 2)
  eq(T.is_tensor(t), true); eq(T.is_tensor({}), false); eq(T.is_tensor(3), false)
  eq(T.tensor{7}:item(), 7); eq(math.type(T.tensor{7}:item()), "integer")
  eq(T.tensor{true}:item(), true)
  raises(function() t:item() end, "item: tensor has 4 elements, expected 1")
  raises(function() t:get(3, 1) end, "get: index 3 out of range for dim 1 of size 2")
  raises(function() t:get(1) end, "get: 1 indices given for a 2-dimensional tensor")
  raises(function() t:size(3) end, "dimension 3 out of range for a 2-dimensional tensor")
  raises(function() return #T.tensor(1) end, "length of a 0-d tensor")
  raises(function() t.foo = 1 end, "cannot set field 'foo' of a tensor")
  eq(t.nosuchmethod, nil)
end)

test("set_and_copy", function()
  local t = T.zeros(2, 2)
  t:set(1, 2, 5)
  eq(t:get(1, 2), 5.0)
  local i = T.zeros(2, {dtype = "i64"})
  i:set(1, math.maxinteger)
  eq(i:get(1), math.maxinteger)
  t:fill_(3)
  same(t, {{3, 3}, {3, 3}})
  t:copy_(T.tensor{1, 2})          -- broadcast a row into every row
  same(t, {{1, 2}, {1, 2}})
  t:copy_(9)
  same(t, {{9, 9}, {9, 9}})
  raises(function() t:copy_(T.zeros(3)) end, "copy_: source of shape {3} does not fit destination of shape {2,2}")
  same(t, {{9, 9}, {9, 9}})        -- unchanged after the failed copy
  raises(function() t:set(1, 1, "x") end, "number expected")
end)

test("astype_conversions", function()
  local f = T.tensor{-1.7, -0.2, 0.5, 2.9}
  same(f:astype("i64"), {-1, 0, 0, 2})        -- truncation toward zero
  same(f:astype("bool"), {true, true, true, true})
  same(T.tensor{0, 2}:astype("bool"), {false, true})
  same(T.tensor{true, false}:astype("f64"), {1, 0})
  local nan = T.tensor{0 / 0, 1e300, -1e300}:astype("i64")
  same(nan, {0, math.maxinteger, math.mininteger})  -- documented saturation
  local c = f:astype("f32")
  eq(c.dtype, "f32")
  check.near(c:get(1), -1.7, 1e-6)
  eq(f:to("f64"), f)                      -- same dtype: the tensor itself
  raises(function() f:astype("x") end, "unknown dtype 'x'")
end)

test("clone_contiguous", function()
  local a = T.tensor{1, 2, 3}
  local b = a:clone()
  b:set(1, 10)
  eq(a:get(1), 1)
  eq(T.shares_storage(a, b), false)
  eq(a:contiguous(), a)
end)

test("freed_tensor", function()
  local t = T.ones(3)
  t:free()
  raises(function() t:numel() end, "attempt to use a freed tensor")
  raises(function() return t.shape end, "attempt to use a freed tensor")
  raises(function() T.zeros_like(t) end, "attempt to use a freed tensor")
  t:free()                                  -- twice is harmless
  eq(tostring(t), "tensor (freed)")
  do
    local u <close> = T.ones(4)
    eq(u:numel(), 4)
  end
end)

test("close_on_error", function()
  local escaped
  local ok = pcall(function()
    local u <close> = T.ones(4)
    escaped = u
    error("boom")
  end)
  eq(ok, false)
  raises(function() escaped:numel() end, "attempt to use a freed tensor")
end)

test("type_errors", function()
  raises(function() T.zeros_like(3) end, "tensor expected, got number")
  raises(function() T.ones(2).numel({}) end, "tensor expected, got table")
  raises(function() T.zeros_like(io.stdout) end, "tensor expected")
end)

test("printing", function()
  eq(tostring(T.tensor{{1, 2}, {3, 4}}), "[[1, 2],\n [3, 4]]\n[i64 tensor of shape {2,2}]")
  eq(tostring(T.tensor{0.5, 1.25}), "[0.5000, 1.2500]\n[f64 tensor of shape {2}]")
  eq(tostring(T.tensor{1.0, 2.0}), "[1., 2.]\n[f64 tensor of shape {2}]")
  eq(tostring(T.tensor(2.5)), "2.5000  [f64 tensor of shape {}]")
  eq(tostring(T.zeros(0, 3)), "[]  [f64 tensor of shape {0,3}]")
  eq(tostring(T.tensor{true, false}), "[ true, false]\n[bool tensor of shape {2}]")
  eq(tostring(T.tensor{1e-5, 1}), "[1.0000e-05, 1.0000e+00]\n[f64 tensor of shape {2}]")
  eq(tostring(T.tensor{0 / 0, 1 / 0, -1 / 0}), "[ nan,  inf, -inf]\n[f64 tensor of shape {3}]")
  -- large tensors are summarized: bounded output whatever the size
  local big = tostring(T.zeros(1000, 1000))
  check.truthy(#big < 2000, "summary of a 1000x1000 tensor is short")
  check.truthy(big:find("...", 1, true), "summary has an ellipsis")
  local wide = tostring(T.zeros(2, 200))
  check.truthy(#wide < 400, "wide rows are cut")
  local many = select(2, tostring(T.zeros(50, 50, 50, 50)):gsub("\n", ""))
  check.truthy(many < 40, "4-d summary fits a screen (" .. many .. " lines)")
  T.set_printoptions{precision = 2}
  eq(tostring(T.tensor{0.5}), "[0.50]\n[f64 tensor of shape {1}]")
  T.set_printoptions{precision = 4}
  raises(function() T.set_printoptions{bogus = 1} end, 'T.set_printoptions: unknown option "bogus"')
end)

-- every public function of the module and every method has a docstring
test("docstrings", function()
  local missing = {}
  for name, f in pairs(T) do
    if type(f) == "function" and not hebb.doc(f) then missing[#missing + 1] = "T." .. name end
  end
  for name, f in pairs(getmetatable(T.zeros(1)).__methods) do
    if type(f) == "function" and not hebb.doc(f) then missing[#missing + 1] = "t:" .. name end
  end
  table.sort(missing)
  eq(table.concat(missing, " "), "", "functions without docstring")
  check.truthy(hebb.doc(T):find("hebb.tensor", 1, true), "module doc")
  check.truthy(hebb.doc(T.zeros):find("T.zeros", 1, true), "function doc")
end)

test("threads_setting", function()
  local n = hebb.threads()
  eq(hebb.threads(1), 1)
  eq(hebb.threads(n), n)
  raises(function() hebb.threads(0) end, "thread count must be 1..1024")
end)

-- Every size goes through one checked product: "too many elements", never
-- a wrapped count (tensor.c's hebb_check_shape).
test("huge_shapes_are_refused", function()
  raises(function() return T.zeros(1 << 62) end,
         "zeros: too many elements in shape {4611686018427387904} (at most 2^56)")
  raises(function() return T.zeros(1 << 31, 1 << 31) end, "too many elements")
  raises(function() return T.zeros(0, 1 << 40, 1 << 40) end, "too many elements")
  raises(function() return T.frombytes("", "f64", 1 << 32, 1 << 32) end,
         "frombytes: too many elements")
  local one = T.ones(1, 1)   -- views: no memory behind them
  raises(function() return one:expand(1, 1 << 30) + one:expand(1 << 30, 1) end,
         "add: too many elements in shape {1073741824,1073741824}")
  eq(T.zeros(2, 0):numel(), 0)
  same(T.zeros(2, 0):stride(), {1, 1})   -- torch's strides: no stride 0
end)

check.done()
