-- hebb._autograd_tools: what is built on the tape: finite-difference checks
-- (gradcheck, gradgradcheck), Hessian-vector products, the Laplacian (exact
-- or Hutchinson's estimate) and Jacobians.
local E = require "hebb._error"
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local doc = require("hebb").doc

local M = {}
local complex = { c128 = true, c64 = true }
local is_tensor = T.is_tensor
local unpack = table.unpack

local as_list = A._input_list

local check_keys = { eps = true, atol = true, rtol = true, seed = true }

-- the options of gradcheck and gradgradcheck, with their defaults
local function check_opts(who, opts)
  opts = E.checkopts(who, opts, check_keys)
  return { eps = E.num(who, "eps", opts.eps or 1e-6, 0, true),
           atol = E.num(who, "atol", opts.atol or 1e-5, 0),
           rtol = E.num(who, "rtol", opts.rtol or 1e-3, 0),
           seed = E.int(who, "seed", opts.seed or 0) }
end

-- f a function and x a floating-point tensor: the arguments of the tools
local function point(who, f, x)
  E.check(who, "f", f, "function")
  E.check(who, "x", x, "tensor")
  if not complex[x.dtype] and x.dtype ~= "f64" and x.dtype ~= "f32" then
    E.raise("%s: x must be a floating-point tensor, got dtype %s", who, x.dtype)
  end
end

local function leaf(x)
  return x:detach():requires_grad_()
end

-- 1-based multi-index of flat position j (1-based) in shape
local function multi_index(shape, j)
  local idx, r = {}, j - 1
  for d = #shape, 1, -1 do
    idx[d] = r % shape[d] + 1
    r = r // shape[d]
  end
  return "[" .. table.concat(idx, ",") .. "]"
end

-- f's result contracted with fixed random weights: one number per call,
-- and a random projection of the Jacobian is checked (an error in any
-- entry shows with probability 1)
-- A complex result is contracted with complex weights and its real part
-- taken: L = Re sum(f * w), a real function of the real and imaginary
-- parts of every entry.
local function projector(f, xs, seed)
  local y = A.no_grad(f, unpack(xs))
  if type(y) == "number" then return f end   -- a full reduction
  if not is_tensor(y) then
    E.raise("autograd.gradcheck: f must return a tensor or a number, got %s", E.show(y))
  end
  local gen = T.Generator(seed)
  local w = gen:randn(y.shape, { dtype = y.dtype })
  if complex[y.dtype] then
    return function(...) return T.real((f(...) * w):sum()) end
  end
  return function(...) return (f(...) * w):sum() end
end

local function number(v)
  if is_tensor(v) then return v:item() end
  return v
end

-- central differences of s with respect to the entries of part (a flat
-- copy of input i, or of its real or imaginary part); make(part) gives
-- the input to pass
local function differences(s, xs, i, eps, part, make)
  local args = { unpack(xs) }
  local n = part:numel()
  local out = T.zeros(n)
  for j = 1, n do
    local v = part[j]
    part[j] = v + eps
    args[i] = make(part)
    local up = number(A.no_grad(s, unpack(args)))
    part[j] = v - eps
    args[i] = make(part)
    local down = number(A.no_grad(s, unpack(args)))
    part[j] = v
    out[j] = (up - down) / (2 * eps)
  end
  return out
end

-- the numeric gradient of s with respect to input i, as one or (complex
-- input: dL/dx and dL/dy) two flat real tensors
local function numeric_grad(s, xs, i, eps)
  local x = xs[i]
  local shape = x.shape
  if not complex[x.dtype] then
    return differences(s, xs, i, eps, x:clone():reshape(-1),
                       function(p) return p:reshape(shape) end)
  end
  local re, im = T.real(x):reshape(-1), T.imag(x):reshape(-1)
  local dre = differences(s, xs, i, eps, re, function(p)
    return T.complex(p, im):reshape(shape) end)
  local dim = differences(s, xs, i, eps, im, function(p)
    return T.complex(re, p):reshape(shape) end)
  return dre, dim
end

local function compare(ana, num, i, x, part, atol, rtol)
  for j = 1, x:numel() do
    local a, n = ana[j], num[j]
    if math.abs(a - n) > atol + rtol * math.abs(n) or a ~= a then
      E.raise("autograd.gradcheck: d/d(input %d)%s%s: analytic %.10g, "
        .. "numeric %.10g", i, multi_index(x.shape, j), part, a, n)
    end
  end
end

--- autograd.gradcheck(f, inputs [, {eps=1e-6, atol=1e-5, rtol=1e-3, seed=0}])
function M.gradcheck(f, inputs, opts)
  local who = "autograd.gradcheck"
  E.check(who, "f", f, "function")
  local xs = as_list(who, inputs)
  opts = check_opts(who, opts)
  local eps, atol, rtol = opts.eps, opts.atol, opts.rtol
  for i, x in ipairs(xs) do
    if x.dtype ~= "f64" and x.dtype ~= "c128" then
      E.raise("%s: input %d must be an f64 tensor (or c128: finite differences "
        .. "in lower precision are too coarse), got %s", who, i, x.dtype)
    end
  end
  local s = projector(f, xs, opts.seed)
  local analytic = A.grad(s, xs)
  for i, x in ipairs(xs) do
    local num, num_im = numeric_grad(s, xs, i, eps)
    local ana = analytic[i]:reshape(-1)
    if num_im then      -- grad = dL/dx + i dL/dy
      compare(T.real(ana), num, i, x, " (real part)", atol, rtol)
      compare(T.imag(ana), num_im, i, x, " (imaginary part)", atol, rtol)
    else
      compare(ana, num, i, x, "", atol, rtol)
    end
  end
  return true
end
doc(M.gradcheck, "autograd.gradcheck(f, inputs [, {eps=1e-6, atol=1e-5, "
  .. "rtol=1e-3, seed=0}])\n\nCompares the gradient of sum(f(inputs) * w) "
  .. "(w fixed random weights: a random projection of the Jacobian; for a "
  .. "complex result, complex w and the real part) with central finite "
  .. "differences, element by element, in f64.  Inputs are f64 or c128; "
  .. "for a complex input the real and imaginary parts are perturbed "
  .. "separately and the gradient must be dL/dx + i dL/dy (the conjugate "
  .. "Wirtinger convention).  Returns true or raises naming the input, "
  .. "the element and both values.")

--- autograd.gradgradcheck(f, inputs [, opts])
function M.gradgradcheck(f, inputs, opts)
  local who = "autograd.gradgradcheck"
  E.check(who, "f", f, "function")
  local xs = as_list(who, inputs)
  local seed = check_opts(who, opts).seed
  local s = projector(f, xs, seed + 1)
  local gen = T.Generator(seed + 2)
  local vs = {}
  for i, x in ipairs(xs) do vs[i] = gen:randn(x.shape, { dtype = x.dtype }) end
  -- <grad, v>, the real inner product (Re sum(g conj v) when complex)
  local function dot(g, v)
    if complex[g.dtype] or complex[v.dtype] then
      return T.real((g * T.conj(v)):sum())
    end
    return (g * v):sum()
  end
  local function gv(...)
    local gs = A.grad(s, { ... })
    local total = dot(gs[1], vs[1])
    for i = 2, #gs do total = total + dot(gs[i], vs[i]) end
    return total
  end
  local ok, err = pcall(M.gradcheck, gv, xs, opts)
  -- the message is positioned at the user's line already
  if not ok then
    error((tostring(err):gsub("autograd.gradcheck: ", who .. ": ", 1)), 0)
  end
  return true
end
doc(M.gradgradcheck, "autograd.gradgradcheck(f, inputs [, opts])\n\ngradcheck "
  .. "of the gradient itself (a random projection of it, Re <grad, v> "
  .. "for complex inputs): checks second derivatives.")

-- dy/dxl for the leaf xl, zeros where y does not depend on it (a
-- constant, a Lua number): a Hessian of a linear f is zero, not an error
local function grad_at(y, xl, create, retain)
  local g = A.grad(y, xl, { create_graph = create, retain_graph = retain,
                            allow_unused = true })
  return g or T.zeros_like(xl)
end

-- the leaf xl and f's gradient there, recorded for a second derivative
-- (the tools run with recording on, whatever the caller's grad mode)
local function first_grad(f, x)
  local xl = leaf(x)
  return xl, grad_at(f(xl), xl, true)
end

local function hvp(f, x, v)
  local xl, g = first_grad(f, x)
  return grad_at((g * v:reshape(x.shape)):sum(), xl):detach()
end

--- autograd.hvp(f, x, v)
function M.hvp(f, x, v)
  point("autograd.hvp", f, x)
  if not (is_tensor(v) and v:numel() == x:numel()) then
    E.raise("autograd.hvp: v must be a tensor of %d elements (shaped like x), got %s",
            x:numel(), E.show(v))
  end
  return A.enable_grad(hvp, f, x, v)
end
doc(M.hvp, "autograd.hvp(f, x, v)\n\nThe Hessian of the scalar f at x applied "
  .. "to v (shaped like x), by differentiating the gradient once more.")

-- v^T H v for each probe v given by next_probe(k)
local function quadratic_forms(f, x, nprobe, probe)
  local xl, g = first_grad(f, x)
  local vals = {}
  for k = 1, nprobe do
    local v, pick = probe(k)
    vals[k] = pick(grad_at((g * v):sum(), xl, false, true))
  end
  return vals
end

--- autograd.laplacian(f, x [, {method=, samples=64, seed=0}])
local laplacian_keys = { method = true, samples = true, seed = true }

function M.laplacian(f, x, opts)
  local who = "autograd.laplacian"
  point(who, f, x)
  opts = E.checkopts(who, opts, laplacian_keys)
  local n = x:numel()
  local method = opts.method or (n <= 256 and "exact" or "hutchinson")
  if method == "exact" then
    local vals = A.enable_grad(quadratic_forms, f, x, n, function(k)
      local e = T.zeros(n, { dtype = x.dtype })
      e[k] = 1
      return e:reshape(x.shape), function(hv) return hv:reshape(-1)[k] end
    end)
    local total = 0
    for _, v in ipairs(vals) do total = total + v end
    return total, 0
  elseif method ~= "hutchinson" then
    E.raise("%s: method must be \"exact\" or \"hutchinson\", got %s", who, E.show(method))
  end
  local m = E.int(who, "samples", opts.samples or 64, 2)
  local gen = T.Generator(E.int(who, "seed", opts.seed or 0))
  local vals = A.enable_grad(quadratic_forms, f, x, m, function()
    local v = gen:bernoulli(0.5, x.shape):astype(x.dtype) * 2 - 1
    return v, function(hv) return (hv * v):sum() end
  end)
  local mean, sq = 0, 0
  for _, v in ipairs(vals) do mean = mean + v end
  mean = mean / m
  for _, v in ipairs(vals) do sq = sq + (v - mean) ^ 2 end
  return mean, math.sqrt(sq / (m - 1) / m)
end
doc(M.laplacian, "autograd.laplacian(f, x [, {method=, samples=64, seed=0}])"
  .. "\n\nThe trace of f's Hessian at x and its standard error: 'exact' "
  .. "(one backward pass per element; the default up to 256 elements) or "
  .. "'hutchinson' (mean of v^T H v over Rademacher vectors v).")

--- autograd.jacobian(f, x)
function M.jacobian(f, x)
  point("autograd.jacobian", f, x)
  local xl = leaf(x)
  local y = A.enable_grad(f, xl)
  if not is_tensor(y) then
    E.raise("autograd.jacobian: f must return a tensor, got %s", E.show(y))
  end
  local m, n = y:numel(), x:numel()
  local J = T.zeros(m, n, { dtype = x.dtype })
  for i = 1, m do
    local e = T.zeros(m, { dtype = y.dtype })
    e[i] = 1
    local gi = A.grad(y, xl, { grad_outputs = e:reshape(y.shape),
                              retain_graph = true, allow_unused = true })
    if gi then J[i] = gi:reshape(-1) end   -- nil: y does not depend on x
  end
  local shape = y.shape
  for _, s in ipairs(x.shape) do shape[#shape + 1] = s end
  return J:reshape(shape)
end
doc(M.jacobian, "autograd.jacobian(f, x)\n\nThe Jacobian of f at x, shaped "
  .. "f(x).shape .. x.shape (one backward pass per output element).")

return M
