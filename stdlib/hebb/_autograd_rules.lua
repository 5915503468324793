-- hebb._autograd_rules: the backward rules of hebb.tensor's operations.
-- Each rule is written with tensor operations, so that with create_graph
-- its own operations are recorded and can be differentiated again.
-- Rules get (g, args, out): args are the call's positional arguments (an
-- in-place op's first argument holds the value before the op).
local E = require "hebb._error"
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local R = A._ruleset()
local def = R.def
local is_tensor = T.is_tensor
-- {1, ..., x.ndim}: the dims of a full reduction
local function all_dims(x)
  local d = {}
  for i = 1, x.ndim do d[i] = i end
  return d
end
-- Complex tensors (hebb._autograd_complex): a gradient is dL/dx + i dL/dy
-- and for holomorphic f, grad_z = g * conj(f'(z)) (PyTorch's convention),
-- hence cj; a real operand's gradient is made real by the engine.
local complex = { c128 = true, c64 = true }
local cj, unb = A._cj, A.unbroadcast

local function same(name, f, opts)
  def(name, f, opts)
  return function(alias) R.alias(alias, name) end
end

-- Not differentiable: their results carry no gradient ------------------
R.nondiff("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
  "logical_xor", "logical_not", "sign", "floor", "ceil", "round", "idiv",
  "__idiv", "any", "all", "argmin", "argmax", "zeros_like", "ones_like",
  "full_like", "empty_like", "rand_like", "randn_like", "bernoulli",
  "uniform_", "normal_", "bernoulli_", "fill_", "zeros", "ones", "full",
  "empty", "arange", "linspace", "eye", "randperm", "randint", "rand",
  "randn", "equal", "allclose", "tensor", "frombytes")

-- Arithmetic -----------------------------------------------------------
same("add", function(g, a) return unb(g, a[1]), unb(g, a[2]) end)("__add")
same("sub", function(g, a)
  local gb = unb(g, a[2])
  return unb(g, a[1]), gb and -gb
end)("__sub")
same("mul", function(g, a, _, need)
  return need[1] and unb(g * cj(a[2]), a[1]),
         need[2] and unb(g * cj(a[1]), a[2])
end, { saves = { 1, 2 } })("__mul")
same("div", function(g, a)
  local x, y = a[1], a[2]
  local gx = unb(g / cj(y), x)
  local gy = is_tensor(y) and unb(-g * cj(x / (y * y)), y) or nil
  return gx, gy
end, { saves = { 1, 2 } })("__div")
same("neg", function(g) return -g end)("__unm")
local function pow_rule(g, a, out)
  local x, p = a[1], a[2]
  local gx, gp
  if is_tensor(x) then gx = unb(g * cj(p * x ^ (p - 1)), x) end
  if is_tensor(p) then
    local lx = is_tensor(x) and T.log(x) or math.log(x)
    gp = unb(g * cj(out * lx), p)
  end
  return gx, gp
end
same("pow", pow_rule, { saves = { 1, 2, 0 } })("__pow")
same("mod", function(g, a)
  local gb = is_tensor(a[2]) and unb(-g * (a[1] // a[2]), a[2]) or nil
  return unb(g, a[1]), gb
end, { saves = { 1, 2 } })("__mod")
R.alias("remainder", "mod")
def("addcmul", function(g, a)
  return unb(g, a[1]), unb(g * cj(a[3]), a[2]), unb(g * cj(a[2]), a[3])
end, { saves = { 2, 3 } })
def("atan2", function(g, a)
  local y, x = a[1], a[2]
  local r2 = x * x + y * y
  return unb(g * x / r2, y), unb(-g * y / r2, x)
end, { saves = { 1, 2 } })
local function minmax(pick_first)
  return function(g, a)
    local x, y = a[1], a[2]
    local first = pick_first(x, y)
    local tie = T.eq(x, y)
    local wx = T.where(first, 1.0, 0.0) + T.where(tie, 0.5, 0.0)
    local wy = 1.0 - wx
    return unb(g * wx, x), unb(g * wy, y)
  end
end
def("maximum", minmax(T.gt), { saves = { 1, 2 } })
def("minimum", minmax(T.lt), { saves = { 1, 2 } })
def("where", function(g, a)
  local c = a[1]
  return nil, unb(T.where(c, g, 0.0), a[2]), unb(T.where(c, 0.0, g), a[3])
end, { saves = { 1 } })
def("clamp", function(g, a)
  local x, lo, hi = a[1], a[2], a[3]
  local keep
  if lo ~= nil then keep = T.ge(x, lo) end
  if hi ~= nil then
    local below = T.le(x, hi)
    keep = keep and keep:logical_and(below) or below
  end
  if keep == nil then return g end
  return T.where(keep, g, 0.0)
end, { saves = { 1 } })

-- Elementwise functions ------------------------------------------------
-- f(g, x, y) is g * f'(x); these f have real Taylor coefficients, so
-- conj(f'(z)) = f'(conj z): conjugated arguments make it complex-correct
local function unary(name, f, saves)
  def(name, function(g, a, out)
    if complex[a[1].dtype] then return f(g, cj(a[1]), cj(out)) end
    return f(g, a[1], out)
  end, { saves = saves })
end
unary("exp", function(g, _, y) return g * y end, { 0 })
unary("expm1", function(g, _, y) return g * (y + 1) end, { 0 })
unary("log", function(g, x) return g / x end, { 1 })
unary("log1p", function(g, x) return g / (x + 1) end, { 1 })
unary("sqrt", function(g, _, y) return g / (2 * y) end, { 0 })
unary("sin", function(g, x) return g * T.cos(x) end, { 1 })
unary("cos", function(g, x) return -g * T.sin(x) end, { 1 })
unary("tan", function(g, _, y) return g * (1 + y * y) end, { 0 })
unary("tanh", function(g, _, y) return g * (1 - y * y) end, { 0 })
unary("sinh", function(g, x) return g * T.cosh(x) end, { 1 })
unary("cosh", function(g, x) return g * T.sinh(x) end, { 1 })
unary("asin", function(g, x) return g / T.sqrt(1 - x * x) end, { 1 })
unary("acos", function(g, x) return -g / T.sqrt(1 - x * x) end, { 1 })
unary("atan", function(g, x) return g / (1 + x * x) end, { 1 })
unary("sigmoid", function(g, _, y) return g * y * (1 - y) end, { 0 })
unary("softplus", function(g, x) return g * T.sigmoid(x) end, { 1 })
-- sign(relu(x)) is the 0/1 mask; without a graph to record (and for
-- contiguous f32/f64 g and y, as a layer's are) g * sign(y) is one pass in
-- C with the same bits (natives/core/backward.c), else two tensor ops
local autograd_c = require "hebb._autograd"
local relu_grad = autograd_c.relu_grad
local is_grad_enabled = A.is_grad_enabled
local fast_real = { f64 = true, f32 = true }
unary("relu", function(g, _, y)
  if not is_grad_enabled() and fast_real[g.dtype] and g.dtype == y.dtype
      and g:is_contiguous() and y:is_contiguous() then
    return relu_grad(g, y)
  end
  return g * T.sign(y)
end, { 0 })
-- d|x|/dx: sign(x), z/|z| for complex (d|z| = Re(conj(z/|z|) dz)); 0 at 0
local function unit(x)
  if not complex[x.dtype] then return T.sign(x) end
  local r = T.abs(x)
  return x / T.where(T.eq(r, 0), 1.0, r)
end
def("abs", function(g, a) return g * unit(a[1]) end, { saves = { 1 } })
unary("square", function(g, x) return 2 * g * x end, { 1 })
unary("reciprocal", function(g, _, y) return -g * y * y end, { 0 })
def("clone", function(g) return g end)
def("contiguous", function(g) return g end)
def("astype", function(g) return g end)   -- the engine converts it back
R.alias("to", "astype")
def("copy_", function(g, a) return nil, unb(g, a[2]) end)

-- Reductions -------------------------------------------------------------
-- the reduced dims (positive, sorted; nil = all) and keepdim of a call
-- t:op([dims] [, opts]) whose dims argument is at position k
local function red_dims(a, k, ndim)
  local d, keep = a[k], false
  local o = a[k + 1]
  if type(d) == "table" and not is_tensor(d) and (d.keepdim ~= nil or d.out
      or d.correction ~= nil) and #d == 0 then
    o, d = d, nil
  end
  if type(o) == "table" then keep = o.keepdim or false end
  if d == nil then return nil, keep end
  if type(d) == "number" then d = { d } end
  local dims = {}
  for i, v in ipairs(d) do dims[i] = v < 0 and ndim + 1 + v or v end
  table.sort(dims)
  return dims, keep
end
-- g (reduced over dims) reshaped so that it broadcasts against x
local function restore(g, x, dims, keep)
  if keep or dims == nil and g.ndim == x.ndim then return g end
  local shape = x.shape
  if dims == nil then
    for i = 1, #shape do shape[i] = 1 end
  else
    for _, d in ipairs(dims) do shape[d] = 1 end
  end
  return g:reshape(shape)
end
local function count(x, dims)
  if dims == nil then return x:numel() end
  local n, shape = 1, x.shape
  for _, d in ipairs(dims) do n = n * shape[d] end
  return n
end
local function reduction(name, k, f, saves)
  def(name, function(g, a, out)
    local x = a[1]
    local dims, keep = red_dims(a, k, x.ndim)
    return f(restore(g, x, dims, keep), x,
             out and restore(out, x, dims, keep), dims, a)
  end, { saves = saves, scalar = true })
end
reduction("sum", 2, function(g, x) return g:expand(x.shape) end)
reduction("mean", 2, function(g, x, _, dims)
  return (g / count(x, dims)):expand(x.shape)
end)
-- Products without dividing by x (g * y / x is nan at a zero, and wrong
-- where y underflows): prefix and suffix products by recursive doubling,
-- ceil(log2 n) products of shifted copies.  Being polynomial in x, the
-- rules are exact at zeros to every order of differentiation.
-- out[i] = t[i - k] along dim (k < 0: t[i + |k|]), fill outside
local function shift(t, dim, k, fill)
  local n = t:size(dim)
  local m = math.min(math.abs(k), n)
  local shape = t.shape
  shape[dim] = m
  local pad = T.full(shape, fill, { dtype = t.dtype })
  if m == n then return pad end
  if k > 0 then return T.cat({ pad, t:narrow(dim, 1, n - m) }, dim) end
  return T.cat({ t:narrow(dim, m + 1, n - m), pad }, dim)
end
-- dir 1: prod_{k<i} x_k; dir -1: prod_{k>i} x_k (1 for none)
local function excl_prod(x, dim, dir)
  local p, n, w = shift(x, dim, dir, 1), x:size(dim), 1
  while w < n - 1 do
    p = p * shift(p, dim, dir * w, 1)
    w = 2 * w
  end
  return p
end
-- s_i = sum_{j>=i} g_j x_{i+1} ... x_j, the recurrence s_i = g_i +
-- x_{i+1} s_{i+1}: after the step of width w, s_i sums 2w terms and a_i
-- is the product of the 2w x's after i
local function suffix_scan(g, x, dim)
  local s, a, n, w = g, shift(x, dim, -1, 0), x:size(dim), 1
  while w < n do
    s = s + a * shift(s, dim, -w, 0)
    if 2 * w < n then a = a * shift(a, dim, -w, 0) end
    w = 2 * w
  end
  return s
end
-- x with the dims moved last and merged into one, and the way back
local function dims_last(x, dims)
  local red, perm, shape, m = {}, {}, {}, 1
  for _, d in ipairs(dims) do red[d] = true end
  for d = 1, x.ndim do
    if not red[d] then perm[#perm + 1] = d; shape[#shape + 1] = x:size(d) end
  end
  for _, d in ipairs(dims) do perm[#perm + 1] = d; m = m * x:size(d) end
  shape[#shape + 1] = m
  local xp = x:permute(perm)
  local pshape, inv = xp.shape, {}
  for i, d in ipairs(perm) do inv[d] = i end
  return xp:reshape(shape), function(t) return t:reshape(pshape):permute(inv) end
end
reduction("prod", 2, function(g, x, _, dims)
  if x.ndim == 0 then return g end
  local xl, back = dims_last(cj(x), dims or all_dims(x))
  local d = xl.ndim
  return g * back(excl_prod(xl, d, 1) * excl_prod(xl, d, -1))
end, { 1 })
reduction("logsumexp", 2, function(g, x, y) return g * cj(T.exp(x - y)) end,
          { 1, 0 })
local function correction(a)
  for i = 2, 3 do
    local o = a[i]
    if type(o) == "table" and not is_tensor(o) and o.correction then
      return o.correction
    end
  end
  return 1
end
reduction("var", 2, function(g, x, _, dims, a)
  local m = x:mean(dims or all_dims(x), { keepdim = true })
  return g * 2 * (x - m) / (count(x, dims) - correction(a))
end, { 1 })
reduction("std", 2, function(g, x, y, dims, a)
  local m = x:mean(dims or all_dims(x), { keepdim = true })
  return g * (x - m) / ((count(x, dims) - correction(a)) * y)
end, { 1, 0 })
-- t:norm([p] [, dims] [, opts]): dims at position 3 when p is given
def("norm", function(g, a, out)
  local x, p, k = a[1], a[2], 3
  if type(p) ~= "number" and p ~= "inf" then p, k = 2, 2 end
  if p == "inf" then p = math.huge end
  local dims, keep = red_dims(a, k, x.ndim)
  g, out = restore(g, x, dims, keep), restore(out, x, dims, keep)
  -- x / |x|_2 (0 where the norm is 0, as |x| at 0); the result is real
  -- for complex x, so this is the complex gradient x/|x| g as well
  if p == 2 then return g * x / T.where(T.eq(out, 0), 1.0, out) end
  if p == 1 then return g * unit(x) end
  if p == math.huge then
    local hit = T.eq(T.abs(x), out)
    local n = hit:astype(out.dtype):sum(dims or all_dims(x), { keepdim = true })
    return T.where(hit, g * unit(x), 0.0) / n
  end
  E.raise("autograd: no derivative for norm with p = " .. tostring(p))
end, { saves = { 1, 0 }, scalar = true })
-- min/max: over one dim values and indices (multi), else values only
local function extreme(name)
  def(name, function(gs, a, outs)
    local x, g = a[1], gs[1]
    if g == nil then return nil end
    local dim = a[2]
    local keep = type(a[3]) == "table" and a[3].keepdim
    if type(dim) == "number" and #outs == 2 then
      local idx = outs[2]
      if not keep then
        dim = dim < 0 and x.ndim + 1 + dim or dim
        idx, g = idx:unsqueeze(dim), g:unsqueeze(dim)
      end
      return T.zeros_like(x):scatter_add_(dim, idx, g)
    end
    local dims, kd = red_dims(a, 2, x.ndim)
    local y = restore(outs[1], x, dims, kd)
    local hit = T.eq(x, y)
    local n = hit:astype(x.dtype):sum(dims or all_dims(x), { keepdim = true })
    return T.where(hit, restore(g, x, dims, kd), 0.0) / n
  end, { multi = true, saves = { 1 }, scalar = true })
end
extreme("max")
extreme("min")
def("cumsum", function(g, a)
  local dim = a[2] or 1
  return g:sum(dim, { keepdim = true }) - g:cumsum(dim) + g
end)
-- cumprod: dy_j/dx_i = prod_{k<i} x_k * prod_{i<k<=j} x_k for j >= i
def("cumprod", function(g, a)
  local x, dim = a[1], a[2] or 1
  if x.ndim == 0 then return g end
  if dim < 0 then dim = x.ndim + 1 + dim end
  local cx = cj(x)
  return excl_prod(cx, dim, 1) * suffix_scan(g, cx, dim)
end, { saves = { 1 } })
def("dot", function(g, a)
  return unb(g * cj(a[2]), a[1]), unb(g * cj(a[1]), a[2])
end,
    { saves = { 1, 2 }, scalar = true })

-- Products -----------------------------------------------------------------
local function bshape(s1, s2)   -- broadcast of two batch shapes
  local n, out = math.max(#s1, #s2), {}
  for i = 1, n do
    local u, v = s1[#s1 - n + i] or 1, s2[#s2 - n + i] or 1
    out[i] = u == 1 and v or u
  end
  return out
end
local function transposed(m)
  return m.ndim == 2 and not m:is_contiguous() and m:t():is_contiguous()
end
def("matmul", function(g, a, _, need)
  local x, y = a[1], a[2]
  local x2 = x.ndim == 1 and x:unsqueeze(1) or x
  local y2 = y.ndim == 1 and y:unsqueeze(2) or y
  local xs, ys = x2.shape, y2.shape
  local bx, by = {}, {}
  for i = 1, #xs - 2 do bx[i] = xs[i] end
  for i = 1, #ys - 2 do by[i] = ys[i] end
  local os = bshape(bx, by)
  os[#os + 1], os[#os + 2] = xs[#xs - 1], ys[#ys]
  local g2 = g:reshape(os)
  local gx, gy
  local real = g2.ndim == 2 and not complex[g2.dtype]
  -- a transposed operand (W:t() in x W^T) gets its gradient computed
  -- transposed, so that the t() rule hands back contiguous memory
  if not need[1] then gx = nil
  elseif real and transposed(x2) then gx = y2:matmul(g2:t()):t()
  else gx = unb(g2:matmul(cj(y2):transpose(-2, -1)), x2):reshape(x.shape) end
  if not need[2] then gy = nil
  elseif real and transposed(y2) then gy = g2:t():matmul(x2):t()
  else gy = unb(cj(x2):transpose(-2, -1):matmul(g2), y2):reshape(y.shape) end
  return gx, gy
end, { saves = { 1, 2 } })
R.alias("mm", "matmul")
-- softmax cross-entropy per row: g (softmax(z) - onehot); recording the
-- backward pass (create_graph) takes the differentiable form
def("cross_entropy", function(g, a)
  local z, y = a[1], a[2]
  if not A.is_grad_enabled() then return T._cross_entropy_grad(z, y, g) end
  local p = T.exp(z - z:logsumexp(2, { keepdim = true }))
  local onehot = T.zeros_like(z):scatter_(2, y:reshape(-1, 1), 1.0)
  return (p - onehot) * g:unsqueeze(2)
end, { saves = { 1 } })
-- nn.cross_entropy's mean in one op (T._cross_entropy_mean(z, y, keep)):
-- the mean rule's gradient, then the cross_entropy rule's, taking the rows'
-- log-normalizers the forward left in keep[1] (the same values: z's
-- version is checked) when not recording
-- (not recording, for 2-D f64/f32 z: one C call, the same bits)
local xent_mean_grad = autograd_c.xent_mean_grad
def("_cross_entropy_mean", function(g, a)
  local z, y, lz = a[1], a[2], type(a[3]) == "table" and a[3][1] or nil
  local recording = is_grad_enabled()
  if not recording then
    local gz = xent_mean_grad(z, y, g, lz)
    if gz then return gz end
  end
  local n = z:size(1)
  local gl = (g:reshape({ 1 }) / n):expand({ n })
  if not recording then return T._cross_entropy_grad(z, y, gl, lz) end
  return R.rules.cross_entropy.fn(gl, { z, y })
end, { saves = { 1 }, scalar = true })
-- y = x W^T + b: gx = g W, gW = g^T x over all leading dims of x, gb = sum g.
-- When gW would go into W's .grad now, it goes straight into the gradient
-- buffer (A._grad_into, natives/core/backward.c): added by a gemm with beta
-- = 1 into a buffer the engine would add it to in place (a second
-- backward, or after m:zero_grad(false)), or, when W has no .grad (after
-- opt:zero_grad()), written by a gemm with beta = 0 over the spare buffer
-- the old .grad left (or a new one); the rule then returns no gW.
-- Not recording, with g and x 2-D and nothing complex (C.real_2d), the
-- reshapes and conjugates are the identity: plain_linear skips them (gb:
-- the bias gradient when the caller has it already).
local linear_grad, grad_into = autograd_c.linear_grad, A._grad_into
local real_2d = autograd_c.real_2d
local function plain_linear(g, x, w, need, gb)
  local gx = need[1] and g:matmul(w) or nil
  local gw
  if need[2] and not (need[1] ~= need[2]
                      and grad_into(need[2], linear_grad, g, x)) then
    gw = g:t():matmul(x)
  end
  if need[3] and not gb then gb = g:sum(1) end
  return gx, gw, need[3] and gb or nil
end
def("linear", function(g, a, _, need)
  local x, w, b = a[1], a[2], a[3]
  if not is_grad_enabled() and real_2d(g, x, w) then
    return plain_linear(g, x, w, need)
  end
  local nout, nin = w:size(1), w:size(2)
  local g2 = g:reshape(-1, nout)
  local gx = need[1] and g:matmul(cj(w)) or nil
  local gw
  if need[2] then
    local x2 = cj(x:reshape(-1, nin))
    if not (need[1] ~= need[2] and grad_into(need[2], linear_grad, g2, x2)) then
      gw = g2:t():matmul(x2)
    end
  end
  local gb = is_tensor(b) and need[3] and g2:sum(1) or nil
  return gx, gw, gb
end, { saves = { 1, 2 } })
-- relu(x W^T + b) as one op (T._linear_relu, nn.Sequential's Linear then
-- ReLU): the ReLU rule on the output, then the linear rule, as the two
-- recorded ops would run them.  Not recording, the ReLU's g * sign(y) and
-- the bias gradient, its sum over the batch, come from one pass
-- (C.relu_grad_sum: the bits of the two steps) for f64/f32 g and out.
local rules = R.rules
local relu_grad_sum = autograd_c.relu_grad_sum
def("_linear_relu", function(g, a, out, need)
  if need[3] and not is_grad_enabled() then
    local d, gb = relu_grad_sum(g, out)
    if d then
      local x, w = a[1], a[2]
      local gx, gw
      if real_2d(d, x, w) then gx, gw, gb = plain_linear(d, x, w, need, gb)
      else gx, gw, gb = rules.linear.fn(d, a, nil, need) end
      -- d is this rule's own temporary (the results are new tensors): its
      -- storage goes back now, and off the collector's debt
      d:free()
      return gx, gw, gb
    end
  end
  return rules.linear.fn(rules.relu.fn(g, { out }, out), a, nil, need)
end, { saves = { 1, 2, 0 } })
def("outer", function(g, a)
  return unb(g:matmul(cj(a[2])), a[1]), unb(g:t():matmul(cj(a[1])), a[2])
end, { saves = { 1, 2 } })

-- Views and shape ----------------------------------------------------------
-- g placed into zeros shaped like x at the positions view(z) selects: a
-- function of its own, whose derivative is view again
local embed = A.Function {
  name = "embed",
  forward = function(ctx, g, x, put, take)
    ctx.take = take
    local z = T.zeros_like(x)
    put(z, g)
    return z
  end,
  backward = function(ctx, gg) return ctx.take(gg) end,
}
local function into_view(g, x, view)
  return embed(g, x, function(z, v) view(z):copy_(v) end, view)
end
local function reshape_back(g, a) return g:reshape(a[1].shape) end
for _, name in ipairs({ "view", "reshape", "flatten", "squeeze", "unsqueeze" }) do
  def(name, reshape_back)
end
def("expand", function(g, a) return unb(g, a[1]) end)
def("expand_as", function(g, a) return unb(g, a[1]) end)
def("transpose", function(g, a)
  if a[2] == nil then return g:transpose() end
  return g:transpose(a[2], a[3])
end)
def("t", function(g) return g:t() end)
def("permute", function(g, a)
  local p = type(a[2]) == "table" and a[2] or { table.unpack(a, 2, a.n) }
  local inv, nd = {}, #p
  for i, d in ipairs(p) do inv[d < 0 and nd + 1 + d or d] = i end
  return g:permute(inv)
end)
def("narrow", function(g, a)
  local d, s, n = a[2], a[3], a[4]
  return into_view(g, a[1], function(z) return z:narrow(d, s, n) end)
end)
def("select", function(g, a)
  local d, i = a[2], a[3]
  return into_view(g, a[1], function(z) return z:select(d, i) end)
end)
def("diagonal", function(g, a)
  local o, d1, d2 = a[2], a[3], a[4]
  return into_view(g, a[1], function(z) return z:diagonal(o, d1, d2) end)
end)
local function pieces(name)
  def(name, function(gs, a, outs)
    local dim = a[3] or 1
    local parts = {}
    for i, o in ipairs(outs) do parts[i] = gs[i] or T.zeros_like(o) end
    return T.cat(parts, dim)
  end, { multi = true })
end
pieces("split")
pieces("chunk")
def("cat", function(g, a)
  local list, dim = a[1], a[2] or 1
  local grads, start = {}, 1
  for i, t in ipairs(list) do
    local n = t:size(dim)
    if is_tensor(t) then grads[i] = g:narrow(dim, start, n) end
    start = start + n
  end
  return grads
end)
def("stack", function(g, a)
  local list, dim = a[1], a[2] or 1
  local grads = {}
  for i = 1, #list do grads[i] = g:select(dim, i) end
  return grads
end)

-- Indexing -------------------------------------------------------------------
local function at(g, key)   -- g[key] as a tensor even for one element
  local v = g[key]
  if type(v) == "number" then return T.full({}, v, { dtype = g.dtype }) end
  return v
end
-- the index of index_select, shaped to scatter along dim into x
local function spread(idx, dim, g)
  local shape = {}
  for i = 1, g.ndim do shape[i] = 1 end
  shape[dim] = idx:numel()
  return idx:reshape(shape):expand(g.shape)
end
def("index_select", function(g, a)
  local x, dim, idx = a[1], a[2], a[3]
  dim = dim < 0 and x.ndim + 1 + dim or dim
  return T.zeros_like(x):scatter_add_(dim, spread(idx, dim, g), g)
end)
def("gather", function(g, a)
  return T.zeros_like(a[1]):scatter_add_(a[2], a[3], g)
end)
def("scatter_add_", function(g, a)
  return g, nil, nil, g:gather(a[2], a[3])
end)
def("scatter_", function(g, a)
  local kept = g:clone():scatter_(a[2], a[3], 0.0)
  local gs = is_tensor(a[4]) and g:gather(a[2], a[3]) or nil
  return kept, nil, nil, gs
end)
def("masked_fill", function(g, a) return g:masked_fill(a[2], 0.0) end)
def("masked_select", function(g, a)
  local x, mask = a[1], a[2]
  local pos = T.arange(1, x:numel()):reshape(x.shape):masked_select(mask)
  return T.zeros(x:numel(), { dtype = x.dtype }):scatter_add_(1, pos, g)
           :reshape(x.shape)
end)
def("getindex", function(g, a)
  local x, key = a[1], a[2]
  if is_tensor(key) and key.dtype == "i64" then
    return T.zeros_like(x):scatter_add_(1, spread(key, 1, g), g)
  end
  return embed(g, x, function(z, v) z[key] = v end,
               function(gg) return at(gg, key) end)
end, { scalar = true })
-- t:set(i, j, ..., v): v is a number, so only t's other elements flow
def("set", function(g, a)
  local kept = g:clone()
  kept[{ table.unpack(a, 2, a.n - 1) }] = 0
  return kept
end)
def("setindex_", function(g, a)
  local key, v = a[2], a[3]
  local kept = g:clone()
  kept[key] = 0
  return kept, nil, is_tensor(v) and unb(at(g, key), v) or nil
end)

return R
