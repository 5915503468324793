-- hebb._tensor_extra: tensor functions written over other tensor operations
-- (kron, meshgrid, logspace, diff, trapz), so that autograd differentiates
-- them through their parts.  tensor.lua hands it hebb.tensor's module
-- table, methods table and doc function.
local E = require "hebb._error"

return function(T, methods, doc)
  local is_tensor = T.is_tensor

  local function check_tensor(who, x, what)
    if not is_tensor(x) then E.raise("%s: %s must be a tensor, got %s", who, what, E.show(x)) end
  end

  -- a 1-based dimension of an n-d tensor (negative from the end) -> 1..n
  local function posdim(who, d, n)
    if math.type(d) ~= "integer" then E.raise("%s: dim must be an integer, got %s", who, E.show(d)) end
    local k = d < 0 and n + 1 + d or d
    if k < 1 or k > n then
      E.raise("%s: dimension %d out of range for a %d-dimensional tensor", who, d, n)
    end
    return k
  end

  function T.kron(a, b)
    check_tensor("kron", a, "a")
    check_tensor("kron", b, "b")
    local n = math.max(a.ndim, b.ndim)
    local sa, sb, va, vb, out = {}, {}, {}, {}, {}
    for i = 1, n do   -- shapes padded with leading 1s to n dims
      sa[i] = a.shape[i - n + a.ndim] or 1
      sb[i] = b.shape[i - n + b.ndim] or 1
      va[2 * i - 1], va[2 * i] = sa[i], 1
      vb[2 * i - 1], vb[2 * i] = 1, sb[i]
      out[i] = sa[i] * sb[i]
    end
    if n == 0 then return a * b end
    return (a:reshape(va) * b:reshape(vb)):reshape(out)
  end
  methods.kron = T.kron
  doc(T.kron, [==[T.kron(a, b)

The Kronecker product: for matrices the block matrix [a_ij * b], for n-d
tensors out[(i-1)*m + j] = a[i] * b[j] along every dimension (the shorter
shape is padded with leading 1s).  T.kron(A, B) acts on the tensor product
space with B's index running fastest, as numpy.kron.]==])

  function T.meshgrid(...)
    local args, opts = { ... }, nil
    if type(args[#args]) == "table" and not is_tensor(args[#args]) then
      opts = table.remove(args)
    end
    if #args == 1 and type(args[1]) == "table" and not is_tensor(args[1]) then args = args[1] end
    opts = E.checkopts("meshgrid", opts, { indexing = true })
    local indexing = opts.indexing or "ij"
    if indexing ~= "ij" and indexing ~= "xy" then
      E.raise("meshgrid: indexing must be 'ij' or 'xy', got %s", E.show(indexing))
    end
    local n, shape = #args, {}
    if n == 0 then E.raise("meshgrid: needs at least one 1-d tensor") end
    for i, x in ipairs(args) do
      check_tensor("meshgrid", x, "argument " .. i)
      if x.ndim ~= 1 then E.raise("meshgrid: argument %d must be 1-d, got shape {%s}", i, table.concat(x.shape, ",")) end
      shape[i] = x:size(1)
    end
    -- 'xy' swaps the first two output dimensions (numpy's default)
    local order = {}
    for i = 1, n do order[i] = i end
    if indexing == "xy" and n >= 2 then order[1], order[2] = 2, 1 end
    local out_shape = {}
    for k = 1, n do out_shape[k] = shape[order[k]] end
    local res = {}
    for i, x in ipairs(args) do
      local v = {}
      for k = 1, n do v[k] = order[k] == i and shape[i] or 1 end
      res[i] = x:reshape(v):expand(out_shape):contiguous()
    end
    return table.unpack(res)
  end
  doc(T.meshgrid, [==[T.meshgrid(x1, x2, ... [, {indexing="ij"}])

Coordinate grids from 1-d tensors: n tensors of shape {#x1, #x2, ...}, the
k-th holding x_k's value along its own dimension ("ij", matrix indexing,
the default: X[i][j] = x1[i], Y[i][j] = x2[j], matching a lattice's shape).
indexing = "xy" swaps the first two dimensions (numpy's default, for plots).
The arguments may also come as one list.  Copies, not views.]==])

  function T.logspace(a, b, n, base)
    base = base or 10
    for _, v in ipairs({ { a, "start" }, { b, "stop" }, { base, "base" } }) do
      if type(v[1]) ~= "number" then E.raise("logspace: %s must be a number, got %s", v[2], E.show(v[1])) end
    end
    if math.type(n) ~= "integer" or n < 0 or n > 1 << 56 then   -- hebb's bound
      E.raise("logspace: n must be an integer in 0..2^56, got %s", E.show(n))
    end
    if not (base > 0) then E.raise("logspace: base must be > 0, got %s", E.show(base)) end
    return T.pow(base, T.linspace(a, b, n))
  end
  doc(T.logspace, [==[T.logspace(start, stop, n [, base=10])

n numbers from base^start to base^stop, equally spaced in the exponent
(f64): T.logspace(-3, 0, 4) is {0.001, 0.01, 0.1, 1}.]==])

  function T.diff(x, n, dim)
    check_tensor("diff", x, "x")
    n = n or 1
    if math.type(n) ~= "integer" or n < 0 then E.raise("diff: n must be an integer >= 0, got %s", E.show(n)) end
    if x.ndim == 0 then E.raise("diff: needs a tensor with at least 1 dimension") end
    dim = posdim("diff", dim or -1, x.ndim)
    for _ = 1, n do
      local len = x:size(dim)
      if len == 0 then break end
      x = x:narrow(dim, 2, len - 1) - x:narrow(dim, 1, len - 1)
    end
    return x
  end
  methods.diff = T.diff
  doc(T.diff, [==[T.diff(x [, n=1 [, dim=-1]])

Forward differences along dim: y[i] = x[i+1] - x[i] (one element shorter),
applied n times (the n-th difference).]==])

  -- the spacings along dim for trapz: a number, or diff of a 1-d x
  -- reshaped to broadcast along dim
  local function spacing(y, dim, x)
    if x == nil then return 1 end
    if type(x) == "number" then return x end
    check_tensor("trapz", x, "x")
    if x.ndim ~= 1 or x:size(1) ~= y:size(dim) then
      E.raise("trapz: x must be 1-d with %d points (y's size along dim %d), got shape {%s}",
              y:size(dim), dim, table.concat(x.shape, ","))
    end
    local shape = {}
    for i = 1, y.ndim do shape[i] = 1 end
    shape[dim] = x:size(1) - 1
    return T.diff(x):reshape(shape)
  end

  function T.trapz(y, x, dim)
    check_tensor("trapz", y, "y")
    if y.ndim == 0 then E.raise("trapz: y needs at least 1 dimension") end
    dim = posdim("trapz", dim or -1, y.ndim)
    local len = y:size(dim)
    if len < 2 then E.raise("trapz: needs at least 2 points along dim %d, got %d", dim, len) end
    local mid = (y:narrow(dim, 2, len - 1) + y:narrow(dim, 1, len - 1)) * 0.5
    local terms = mid * spacing(y, dim, x)
    if y.ndim == 1 then return terms:sum() end
    return terms:sum(dim)
  end
  methods.trapz = T.trapz
  doc(T.trapz, [==[T.trapz(y [, x or dx] [, dim=-1])

The trapezoidal rule along dim: sum of (y[i] + y[i+1])/2 * (x[i+1] - x[i]),
with x a 1-d tensor of sample points or a number dx (default 1).  A 1-d y
gives a number (a 0-d tensor when y requires grad), an n-d y a tensor
without dim.  Error O(h^2) for smooth y; for smooth integrals to machine
precision use hebb.numeric.gauss_legendre.]==])
end
