-- test_small_tensors.lua -- results of at most 256 bytes made by the
-- elementwise operators and functions live inside their Lua box, without a
-- finalizer (natives/lua/l_tensor.c, docs/design.md "Small tensors").  Any
-- binding that may keep a pointer to a tensor first moves such a tensor to
-- the heap ("promotion").  These tests take the paths users take: every
-- dtype through operators, methods, module functions, out= and in-place
-- forms; views of small tensors outliving them; tracked tensors; and the
-- property that a small result has the bits of the same elements computed
-- inside a large tensor (the heap path, parallel at 2 threads).
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"

-- whether t is a small box: its metatable is the copy without __gc, whose
-- __metatable shows the tensor metatable
local function is_small(t)
  return debug.getmetatable(t) ~= getmetatable(t)
end

local DTYPES = {"f64", "f32", "i64", "bool", "c128", "c64"}

-- n values of dtype d, drawn from rng (bool: a coin; i64: -50..50, no 0 so
-- that // and % are defined; floats and complex: normal)
local function values(d, n, seed)
  local g = T.Generator(seed)
  if d == "bool" then return T.rand({n}, {generator = g}):gt(0.5) end
  if d == "i64" then
    local v = T.randint(1, 50, n, {generator = g})
    return v * (T.rand({n}, {generator = g}):gt(0.5):astype("i64") * 2 - 1)
  end
  if d == "c128" or d == "c64" then
    local re = T.randn({n}, {generator = g})
    local z = T.complex(re, T.randn({n}, {generator = g}))
    return d == "c64" and z:astype("c64") or z
  end
  return T.randn({n}, {generator = g}):astype(d)
end

-- the first n elements of x inside a tensor far above 256 bytes (a heap
-- tensor whose operations take the general, parallel path)
local function embedded(x, n)
  local filler = T.zeros(4096, {dtype = x.dtype})
  return T.cat({x, filler}):narrow(1, 1, n)
end

-- the forms a binary op is called in, each returning a new tensor
local FORMS = {
  {"operator", function(op, a, b)
    if op == "add" then return a + b elseif op == "sub" then return a - b
    elseif op == "mul" then return a * b elseif op == "div" then return a / b
    elseif op == "pow" then return a ^ b elseif op == "idiv" then return a // b
    elseif op == "mod" then return a % b end
    return T[op](a, b)
  end},
  {"method", function(op, a, b) return a[op](a, b) end},
  {"function", function(op, a, b) return T[op](a, b) end},
}

-- which binary ops each dtype takes (complex: no order, no floor division)
local function binops(d)
  if d == "c128" or d == "c64" then return {"add", "sub", "mul", "div", "eq", "ne"} end
  if d == "bool" then return {"add", "mul", "eq", "lt", "maximum", "logical_and"} end
  return {"add", "sub", "mul", "div", "idiv", "mod", "pow", "minimum", "lt", "ge",
          "eq", "atan2"}
end

-- pcall's result or message, so that an error compares like a value
local function outcome(f, ...)
  local ok, r = pcall(f, ...)
  if ok then return r end
  return "error: " .. tostring(r):gsub("^[^:]*:%d+: ", "")
end

local function same(got, want, what)
  if type(want) == "string" or type(got) == "string" then
    return check.eq(got, want, what)
  end
  check.eq(got.dtype, want.dtype, what .. " dtype")
  check.eq(table.concat(got:size(), "x"), table.concat(want:size(), "x"), what .. " shape")
  check.eq(got:tobytes(), want:tobytes(), what .. " bits")
end

check.test("binary_ops_every_dtype_and_form_same_bits_as_large", function()
  local n = 0
  for _, d in ipairs(DTYPES) do
    for _, size in ipairs({1, 3, 16}) do
      local a, b = values(d, size, 1), values(d, size, 2)
      local A, B = embedded(a, size), embedded(b, size)
      for _, op in ipairs(binops(d)) do
        for _, form in ipairs(FORMS) do
          local what = string.format("%s %s %s[%d]", form[1], op, d, size)
          local got = outcome(form[2], op, a, b)
          if type(got) ~= "string" then   -- (before tobytes promotes it)
            check.truthy(is_small(got), what .. " is a small box")
          end
          same(got, outcome(form[2], op, A, B), what)
          n = n + 1
        end
      end
    end
  end
  check.truthy(n > 300, "cases run: " .. n)
end)

check.test("numbers_on_either_side_and_0d", function()
  for _, d in ipairs({"f64", "f32", "i64"}) do
    local a = values(d, 4, 3)
    local A = embedded(a, 4)
    for _, k in ipairs({2, -3, 0.5, true}) do
      same(a + k, A + k, d .. " + " .. tostring(k))
      same(k * a, k * A, tostring(k) .. " * " .. d)
      same(a:sub(k), A:sub(k), d .. ":sub(" .. tostring(k) .. ")")
      check.truthy(is_small(a + k), "a + number is small")
    end
  end
  local s = T.add(2, 3)
  check.truthy(is_small(s), "T.add(2, 3) is small")
  check.eq(s.ndim, 0)
  check.eq(s:item(), 5)
end)

check.test("unary_ops_same_bits_as_large", function()
  local ops = {"neg", "abs", "exp", "log1p", "sqrt", "sin", "tanh", "sigmoid",
               "relu", "floor", "round", "square", "reciprocal", "sign"}
  for _, d in ipairs({"f64", "f32", "i64"}) do
    local a = values(d, 8, 4)
    local A = embedded(a, 8)
    for _, op in ipairs(ops) do
      local got = outcome(T[op], a)
      same(got, outcome(T[op], A), op .. " " .. d)
      same(outcome(a[op], a), outcome(A[op], A), "method " .. op .. " " .. d)
    end
    same(-a, -A, "unary minus " .. d)
    check.truthy(is_small(-a), "-a is small")
  end
  local b = values("bool", 5, 5)
  same(T.logical_not(b), T.logical_not(embedded(b, 5)), "logical_not")
  -- a complex operand takes the general path (abs of complex is real)
  local z = values("c128", 3, 6)
  same(T.abs(z), T.abs(embedded(z, 3)), "abs c128")
  same(-z, -embedded(z, 3), "neg c128")
end)

check.test("size_limit_is_256_bytes", function()
  local a32, a33 = T.ones(32), T.ones(33)
  check.truthy(is_small(a32 + 1), "32 f64 (256 bytes) are small")
  check.truthy(not is_small(a33 + 1), "33 f64 are not")
  check.truthy(is_small(T.ones(256, {dtype = "bool"}):logical_not()), "256 bools are small")
  check.truthy(not is_small(T.ones(17, {dtype = "c128"}) + 1), "17 c128 are not")
  check.truthy(is_small(T.ones(2, 2, 2) * 2), "any number of dimensions")
end)

check.test("out_and_inplace_forms", function()
  for _, d in ipairs({"f64", "f32", "i64", "c128"}) do
    local a, b = values(d, 4, 7), values(d, 4, 8)
    local want = embedded(a, 4) + embedded(b, 4)
    -- out= a small tensor: it is promoted, written, and still the result
    local o = a * 0
    check.truthy(is_small(o), "o starts small")
    local r = T.add(a, b, {out = o})
    check.truthy(rawequal(r, o), "out= returns o")
    same(o, want, "out= " .. d)
    check.truthy(not is_small(o), "o was promoted")
    -- in place on a small receiver
    local c = a + 0
    check.truthy(rawequal(c:add_(b), c), "add_ returns its receiver")
    same(c, want, "add_ " .. d)
    -- a small operand of an in-place op and of out=
    local h = embedded(a, 4):clone()
    h:add_(b + 0)
    same(h, want, "heap:add_(small) " .. d)
    -- the same small tensor as input and out
    local s = a + 0
    T.add(s, b, {out = s})
    same(s, want, "out = its own input " .. d)
  end
  local s = T.ones(3) + 1
  s:copy_(T.tensor{4, 5, 6})
  same(s, T.tensor{4.0, 5, 6}, "copy_ into a small tensor")
  s:fill_(7)
  same(s, T.full({3}, 7.0), "fill_ a small tensor")
  s:set(2, 9)
  check.eq(s:get(2), 9.0)
  s[3] = 10
  check.eq(s[3], 10.0)
end)

check.test("views_of_small_tensors_outlive_them", function()
  local keep = {}
  for i = 1, 200 do
    local c = T.arange(1, 4) * i                  -- small: 4 f64
    keep[#keep + 1] = {i, c:view(2, 2), c:narrow(1, 2, 2), c[1], c:reshape(4, 1):transpose(1, 2)}
  end
  for _ = 1, 3 do collectgarbage("collect") end
  for _, k in ipairs(keep) do
    local i, v, nw, row, tr = k[1], k[2], k[3], k[4], k[5]
    check.eq(v:get(2, 1), 3.0 * i, "view after its base was collected")
    check.eq(nw:get(1), 2.0 * i, "narrow")
    check.eq(row, 1.0 * i, "indexing a 1-d tensor gives a number")
    check.eq(tr:get(1, 4), 4.0 * i, "transpose of a reshape")
  end
  -- a view writes into the base it shares memory with
  local c = T.ones(4) + 1
  local v = c:narrow(1, 2, 2)
  v:fill_(5)
  same(c, T.tensor{2.0, 5, 5, 2}, "writes through a view of a small tensor")
  check.truthy(T.shares_storage(c, v), "the view shares the promoted storage")
  local m = T.ones(2, 2) * 3
  local row = m[2]
  m = nil
  collectgarbage("collect")
  same(row, T.tensor{3.0, 3}, "a row outlives its 2x2 base")
end)

check.test("reading_leaves_small_tensors_small", function()
  local c = T.tensor{1.5, 2.5, 3.5} + 1
  check.eq(c:get(2), 3.5)
  check.eq(c:numel(), 3)
  check.eq(#c, 3)
  check.eq(c.dtype, "f64")
  check.eq(c.ndim, 1)
  check.eq(c.shape[1], 3)
  check.eq(table.concat(c:size(), ","), "3")
  check.eq(table.concat(c:stride(), ","), "1")
  check.truthy(c:is_contiguous())
  check.truthy(T.is_tensor(c))
  check.truthy(getmetatable(c) == getmetatable(T.ones(1)), "getmetatable shows the tensor metatable")
  check.eq(tostring(c), tostring(T.tensor{2.5, 3.5, 4.5}))
  check.eq((T.ones(1) + 1):item(), 2.0)
  check.truthy(is_small(c), "still small after reading")
  check.eq(c:sum():item(), 10.5)               -- any other binding promotes
  check.truthy(not is_small(c), "promoted by sum")
  check.eq(c:get(3), 4.5)
end)

check.test("freed_and_closed_small_tensors", function()
  local c = T.ones(2) + 1
  c:free()
  check.eq(outcome(function() return c + 1 end):match("freed tensor") ~= nil, true)
  check.eq(outcome(function() return c:get(1) end):match("freed tensor") ~= nil, true)
  check.eq(outcome(function() return c:sum() end):match("freed tensor") ~= nil, true)
  c:free()                                      -- twice is fine
  local escaped
  do
    local d <close> = T.ones(2) * 2
    escaped = d
    check.eq(d:get(2), 2.0)
  end
  check.eq(outcome(function() return escaped * 2 end):match("freed tensor") ~= nil, true)
  check.eq(tostring(escaped), "tensor (freed)")
end)

check.test("errors_name_the_same_values_as_the_heap_path", function()
  local i0, i1 = T.zeros(2, {dtype = "i64"}), T.ones(2, {dtype = "i64"})
  local I0, I1 = embedded(i0, 2), embedded(i1, 2)
  check.eq(outcome(function() return i1 // i0 end), outcome(function() return I1 // I0 end))
  check.eq(outcome(function() return i1 % i0 end), outcome(function() return I1 % I0 end))
  local z = values("c128", 2, 9)
  check.eq(outcome(z.lt, z, z), outcome(z.lt, embedded(z, 2), embedded(z, 2)))
  check.eq(outcome(function() return T.ones(2) + T.ones(3) end),
           outcome(function() return T.ones(2) + T.ones(3) + embedded(T.ones(3), 3) end))
  check.truthy(outcome(function() return T.ones(1) + "x" end):match("tensor or number") ~= nil,
               "a string operand names its type")
  check.truthy(outcome(function() return T.ones(1) + {} end):match("tensor or number") ~= nil)
end)

check.test("tracked_tensors_and_gradients", function()
  local s = T.tensor{1.0, 2} * 3                 -- small, made before tracking
  check.truthy(is_small(s))
  local x = T.tensor{1.0, -2}:requires_grad_()
  local y = x * x + x * s                       -- s is promoted when recorded
  check.truthy(not is_small(y), "results are heap tensors while autograd records")
  y:sum():backward()
  same(x.grad, T.tensor{2.0 + 3, -4 + 6}, "d/dx (x^2 + s x)")
  -- a small result tracked by hand gets its record
  local w = T.ones(2) * 2
  w:requires_grad_()
  local u = (w * w):sum()
  u:backward()
  same(w.grad, T.tensor{4.0, 4}, "grad of a promoted small tensor")
  x, y, w, u = nil, nil, nil, nil
  collectgarbage("collect")
  collectgarbage("collect")
  check.truthy(is_small(T.ones(1) + 1), "small results again once nothing is tracked")
end)

check.test("threads_same_bits", function()
  local a, b = values("f64", 16, 10), values("f64", 16, 11)
  local A, B = embedded(a, 16), embedded(b, 16)
  local old = hebb.threads()
  local res = {}
  for _, k in ipairs({1, 2}) do
    hebb.threads(k)
    res[k] = {(a * b + a):tobytes(), (A * B + A):tobytes(), T.exp(a):tobytes(), T.exp(A):tobytes()}
  end
  hebb.threads(old)
  for i = 1, 4 do check.eq(res[1][i], res[2][i], "part " .. i) end
  check.eq(res[1][1], res[1][2], "small and large")
end)

check.test("no_leak_when_small_tensors_die_or_are_promoted", function()
  -- 32 f64: a small box, whose promoted copy has storage from alloc.c
  local a = T.ones(32)
  local function loop()
    for i = 1, 20000 do
      local c = a + i
      if i % 4 == 0 then local v = c:view(4, 8) end          -- promotes
      if i % 4 == 1 then local s = c:sum() end               -- promotes
      if i % 4 == 2 then T.add(a, 1, {out = c}) end          -- out= promotes
      if i % 8 == 3 then c:free() end
    end
  end
  loop()
  for _ = 1, 3 do collectgarbage("collect") end
  local used, heap = hebb.alloc_stats().bytes_in_use, collectgarbage("count")
  loop()
  loop()
  for _ = 1, 3 do collectgarbage("collect") end
  check.eq(hebb.alloc_stats().bytes_in_use, used, "tensor bytes in use after two more loops")
  check.truthy(collectgarbage("count") < heap + 64,
               string.format("Lua heap %.0f KB, was %.0f KB", collectgarbage("count"), heap))
end)

check.test("collector_keeps_small_loops_flat", function()
  local a, b = T.ones(1), T.ones(1)
  collectgarbage("collect")
  local start = collectgarbage("count")
  local peak = start
  for i = 1, 200000 do
    local c = a + b
    if i % 1000 == 0 then peak = math.max(peak, collectgarbage("count")) end
  end
  -- the boxes (~100 bytes) are Lua memory, paced by the collector itself
  check.truthy(peak - start < 4096, string.format("peak %.0f KB above the start", peak - start))
end)

check.done()
