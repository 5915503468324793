-- test_autograd_complex.lua -- complex autodiff under the conjugate
-- (Wirtinger) convention: grad = dL/dx + i dL/dy.  gradcheck in c128 of the
-- complex ops and of the elementwise/product rules with complex and mixed
-- real/complex operands; the convention itself on known cases; gradcheck
-- catching a rule that forgets the conjugate.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq, near, raises, truthy = check.test, check.eq, check.near, check.raises,
  check.truthy

T.manual_seed(14)
local rn = T.randn
local function cr(...) return T.complex(rn(...), rn(...)) end
local function gc(f, xs) eq(A.gradcheck(f, xs), true) end
local function cmax(a, b)
  return A.no_grad(function() return (a - b):abs():max() end)
end

test("convention_on_known_cases", function()
  -- L = |z|^2 = x^2 + y^2: grad = 2x + 2iy = 2z
  local z = cr(3)
  local g = A.grad(function(v) return (T.abs(v) ^ 2):sum() end, z)
  near(cmax(g, z * 2), 0, 1e-14)
  -- L = Re(c z) = Re(c) x - Im(c) y: grad = conj(c)
  local c = cr(3)
  g = A.grad(function(v) return T.real(c * v):sum() end, z)
  near(cmax(g, T.conj(c)), 0, 1e-15)
  -- L = Im(z): grad = i
  g = A.grad(function(v) return T.imag(v):sum() end, z)
  near(cmax(g, T.I * T.ones(3)), 0, 0)
end)

test("complex_ops", function()
  gc(T.complex, { rn(3), rn(3) })
  gc(T.complex, { rn(2, 3), rn(3) })                 -- broadcast
  gc(T.real, { cr(3) })
  gc(T.imag, { cr(3) })
  gc(T.conj, { cr(3) })
  gc(T.angle, { cr(3) })
  gc(T.abs, { cr(3) })
  gc(T.vdot, { cr(3), cr(3) })
  gc(T.vdot, { rn(3), cr(3) })
  gc(function(a) return a:norm() end, { cr(3) })
end)

test("elementwise_rules_are_conjugated", function()
  gc(function(a, b) return a * b end, { cr(3), cr(3) })
  gc(function(a, b) return a / b end, { cr(3), cr(3) })
  gc(function(a, b) return a + b - a * 2 end, { cr(3), rn(3) })
  gc(function(a) return a ^ 3 end, { cr(3) })
  for _, name in ipairs({ "exp", "log", "sqrt", "sin", "cos", "tanh", "sinh",
                          "cosh", "reciprocal", "square" }) do
    gc(T[name], { cr(3) })
  end
  gc(function(a) return a:sum() end, { cr(3) })
  gc(function(a) return a:mean(1) end, { cr(3, 2) })
  gc(function(a) return a:prod() end, { cr(3) })
  gc(function(a) return T.where(T.gt(T.tensor { 1.0, -1, 1 }, 0), a, 0.0) end, { cr(3) })
end)

test("mixed_real_and_complex_operands", function()
  -- the real operand gets the real part of its complex gradient
  gc(function(a, b) return a * b end, { rn(3), cr(2, 3) })
  gc(T.matmul, { rn(2, 3), cr(3, 2) })
  gc(T.matmul, { cr(2, 3), rn(3, 2) })
  gc(function(a, b) return a:matmul(b:t()) end, { cr(2, 3), rn(2, 3) })
  gc(function(a) return a:astype("c128") * T.I end, { rn(3) })
  gc(T.outer, { cr(3), rn(2) })
  local x = rn(3):requires_grad_()
  local y = (x * cr(3)):abs():sum()
  y:backward()
  eq(x.grad.dtype, "f64")
end)

test("products", function()
  gc(T.matmul, { cr(2, 3), cr(3, 2) })
  gc(T.dot, { cr(3), cr(3) })
end)

test("second_derivatives", function()
  eq(A.gradgradcheck(function(a, b) return a * T.exp(b) end, { cr(3), cr(3) }), true)
  eq(A.gradgradcheck(function(a) return T.abs(a) end, { cr(3) }), true)
  eq(A.gradgradcheck(function(a, b) return T.matmul(a, b) end, { cr(2, 2), rn(2, 2) }), true)
end)

test("gradcheck_catches_a_missing_conjugate", function()
  local c = cr(3)
  local wrong = A.Function {
    name = "times_c",
    forward = function(_, z) return z * c end,
    backward = function(_, g) return g * c end,      -- should be g * conj(c)
  }
  raises(function() A.gradcheck(wrong, { cr(3) }) end, "gradcheck: d/d(input 1)[1]")
  local right = A.Function {
    name = "times_c",
    forward = function(_, z) return z * c end,
    backward = function(_, g) return g * T.conj(c) end,
  }
  gc(right, { cr(3) })
end)

-- Complex-to-real ops under tracking: the result has the dtype the
-- untracked call gives (a Lua number becoming a 0-d tensor of the real
-- dtype: f64 for c128, f32 for c64), never a complex one.
local L = require "hebb.linalg"
local real_of = { c128 = "f64", c64 = "f32" }
local function kinds(res, dt)
  local k = {}
  for i = 1, res.n do
    local v = res[i]
    if T.is_tensor(v) then k[i] = v.dtype
    elseif type(v) == "number" then k[i] = real_of[dt]    -- what tracking makes
    else k[i] = type(v) end
  end
  return table.concat(k, ",")
end
local function hermitian(dt)
  local x = cr(3, 3)
  return (x + x:t():conj()):astype(dt)
end
-- the tracked and untracked kinds of f(x); nil when f refuses x untracked
local function compare(f, x)
  local ok, res = pcall(function() return table.pack(f(x)) end)
  if not ok then return nil end
  local xt = x:clone():requires_grad_()
  local ok2, res2 = pcall(function() return table.pack(f(xt)) end)
  if not ok2 then return kinds(res, x.dtype), "error: " .. tostring(res2) end
  return kinds(res, x.dtype), kinds(res2, x.dtype)
end

local complex_to_real = {
  abs = function(x) return T.abs(x) end,
  real = function(x) return T.real(x) end,
  imag = function(x) return T.imag(x) end,
  angle = function(x) return T.angle(x) end,
  norm = function(x) return x:norm() end,
  norm_1 = function(x) return x:norm(1) end,
  norm_inf = function(x) return x:norm("inf") end,
  norm_dim = function(x) return x:norm(2, 1) end,
  norm_keepdim = function(x) return x:norm(1, { 1, 2 }, { keepdim = true }) end,
  abs_sum = function(x) return x:abs():sum() end,
  abs_max = function(x) return x:abs():max() end,
  real_mean = function(x) return T.real(x):mean() end,
  linalg_norm = function(x) return L.norm(x) end,
  linalg_norm_nuc = function(x) return L.norm(x, "nuc") end,
  linalg_norm_2 = function(x) return L.norm(x, 2) end,
  linalg_cond = function(x) return L.cond(x) end,
  linalg_svdvals = function(x) return L.svdvals(x) end,
  linalg_eigvalsh = function(x) return L.eigvalsh(x) end,
  linalg_slogdet = function(x) return L.slogdet(x) end,
  linalg_eigh = function(x) return L.eigh(x) end,
}

test("complex_to_real_dtypes_under_tracking", function()
  local names = {}
  for name in pairs(complex_to_real) do names[#names + 1] = name end
  table.sort(names)
  for _, dt in ipairs({ "c128", "c64" }) do
    for _, name in ipairs(names) do
      local want, got = compare(complex_to_real[name], hermitian(dt))
      truthy(want, name .. " " .. dt .. " refused untracked")
      eq(got, want, name .. " " .. dt)
    end
  end
end)

-- every function of the modules called on one complex matrix
test("every_op_keeps_its_dtype_under_tracking", function()
  local L_ = require "hebb.linalg"
  local mods = { [""] = T, [":"] = getmetatable(T.zeros(1)).__methods,
                 ["linalg."] = L_, ["fft."] = require "hebb.fft" }
  local skip = { free = true, requires_grad_ = true }
  local bad, tried = {}, 0
  for _, dt in ipairs({ "c128", "c64" }) do
    for prefix, mod in pairs(mods) do
      for name, f in pairs(mod) do
        if type(f) == "function" and not skip[name] and name:sub(-1) ~= "_"
            and name:sub(1, 1) ~= "_" then
          local want, got = compare(f, hermitian(dt))
          if want then
            tried = tried + 1
            if got ~= want then
              bad[#bad + 1] = string.format("%s%s %s: %s tracked, %s untracked",
                prefix, name, dt, got, want)
            end
          end
        end
      end
    end
  end
  table.sort(bad)
  truthy(tried > 80, "ops tried: " .. tried)
  eq(table.concat(bad, "; "), "", "ops whose tracked result differs")
end)

test("complex_norms_first_and_second_derivatives", function()
  for _, p in ipairs({ 2, 1, "inf" }) do
    gc(function(z) return z:norm(p) end, { cr(4) })
    eq(A.gradgradcheck(function(z) return z:norm(p) end, { cr(4) }), true, "p " .. p)
    gc(function(z) return z:norm(p, 2) end, { cr(3, 4) })
  end
  eq(A.gradgradcheck(function(z) return z:norm(2, 2) end, { cr(3, 4) }), true)
  eq(A.gradgradcheck(function(z) return L.norm(z) end, { cr(3, 3) }), true)
  -- the gradient of |z|_2 is z / |z|_2: real norm, complex gradient
  local z = cr(5)
  local g = A.grad(function(v) return v:norm() end, z)
  near(cmax(g, z / z:norm()), 0, 1e-15)
  -- at zero the norm's gradient is 0 (as |x|'s), not 0/0
  check.same(A.grad(function(v) return v:norm() end, T.zeros(3)), { 0, 0, 0 }, 0)
end)

check.done()
