-- test_badcalls.lua -- a catalogue of bad calls to every public function of
-- the C-bound modules: hebb.tensor (functions and tensor methods),
-- hebb.linalg, hebb.fft, hebb.sparse and hebb.graph.  Each must raise a Lua
-- error that names the function (and the argument and value: the messages
-- are pinned), leave its inputs unchanged and leak nothing.  The test walks
-- the module tables, so a new function without an entry here fails it.
--
-- An entry is a list of {code, message}: code is a Lua expression over the
-- fixtures below (run with method-call syntax where it says so), message a
-- plain substring the error must contain.
local check = require "check"
local hebb = require "hebb"
local T = require "hebb.tensor"
local linalg = require "hebb.linalg"
local fft = require "hebb.fft"
local sparse = require "hebb.sparse"
local graph = require "hebb.graph"

-- fixtures: every case sees these, and none may change them
local F = {
  T = T, linalg = linalg, fft = fft, sparse = sparse, graph = graph,
  a = T.tensor{{1.5, -2}, {3, 4}},            -- f64 2x2
  v = T.tensor{1.0, 2, 3},                    -- f64 vector
  i = T.tensor{1, 2, 3},                      -- i64 vector
  b = T.tensor{true, false},                  -- bool vector
  z = T.complex(T.tensor{{1.0, 2}, {3, 4}}, T.tensor{{0.5, 0}, {0, -1}}),
  e = T.tensor{1.0, 2}:view(2, 1):expand(2, 3),   -- repeats its elements
  inf = T.full({3, 3}, 1 / 0), nan = T.full({3, 3}, 0 / 0),
  S = sparse.eye(3), big = 1 << 62, NaN = 0 / 0,
  freed = T.ones(2),
}
F.freed:free()
local tensors = {"a", "v", "i", "b", "z", "e", "inf", "nan"}

-- generated entries of families that share their argument checks
local function fmt(s, n) return (s:gsub("NAME", n)) end
local function cases(n, list)
  local r = {}
  for k, c in ipairs(list) do r[k] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function unary(n, extra)
  local r = cases(n, {
    {"T.NAME()", "bad argument #1 to 'NAME' (tensor or number expected, got no value)"},
    {"T.NAME('x')", "bad argument #1 to 'NAME' (tensor or number expected, got string)"},
    {"T.NAME(a, {bogus = 1})", 'NAME: unknown option "bogus"'},
    {"T.NAME(a, {out = T.zeros(3)})", "NAME: out has shape {3}, result has {2,2}"},
    {"T.NAME(a, {out = e})", "NAME: out has shape {2,3}, result has {2,2}"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function real_unary(n)   -- refused for complex tensors
  return unary(n, {{"T.NAME(z)", "NAME: dtype c128 is not supported yet"}})
end
local function inplace(n, extra, args)   -- method-only t:f_(args)
  local r = cases(n, {
    {"a.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"e:NAME(" .. (args or "") .. ")", "NAME: cannot write into a broadcast (expanded) view (dim 2 repeats one element)"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function binary(n, extra)
  local r = cases(n, {
    {"T.NAME()", "bad argument #1 to 'NAME' (tensor or number expected, got no value)"},
    {"T.NAME(a)", "bad argument #2 to 'NAME' (tensor or number expected, got no value)"},
    {"T.NAME(a, 'x')", "bad argument #2 to 'NAME' (tensor or number expected, got string)"},
    {"T.NAME(a, v)", "NAME: shapes {2,2} and {3} do not broadcast (dim 2: 2 vs 3)"},
    {"T.NAME(a, a, {bogus = 1})", 'NAME: unknown option "bogus"'},
    {"T.NAME(a, a, {out = e})", "NAME: out has shape {2,3}, result has {2,2}"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function ordered(n)   -- binary ops that need an order
  return binary(n, {{"T.NAME(z, z)", "NAME: not defined for complex numbers (dtype c128)"}})
end
local function reduction(n, extra)
  local r = cases(n, {
    {"T.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"a:NAME(3)", "NAME: dimension 3 out of range for a 2-dimensional tensor"},
    {"a:NAME({1, 1})", "NAME: dimension 1 repeated"},
    {"a:NAME(1, {keepdims = true})", 'NAME: unknown option "keepdims" (did you mean \'keepdim\'?)'},
    {"a:NAME(1, {keepdim = 1})", "option 'keepdim' must be a boolean, got number"},
    {"a:NAME(1, 'x')", "NAME: options must be a table, got string"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function creation(n, call)   -- T.zeros-like shape parsers
  return cases(n, {
    {call .. "(2, -3)", "NAME: size 2 is negative (-3)"},
    {call .. "(2, 2.5)", "NAME: size 2 must be an integer, got 2.5"},
    {call .. "(2, NaN)", "NAME: size 2 must be an integer, got "},
    {call .. "(big)", "NAME: too many elements in shape {4611686018427387904} (at most 2^56)"},
    {call .. "(2, 'q')", "NAME: unknown dtype 'q' (expected f64, f32, i64, bool, c128 or c64)"},
    {call .. "(2, {dtyp = 'f32'})", 'NAME: unknown option "dtyp" (did you mean \'dtype\'?)'},
    {call .. "(2, {dtype = 5})", "NAME: option 'dtype' must be a string, got number"},
    {call .. "({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})", "NAME: 17 dimensions (at most 16)"},
  })
end
local function like(n)
  return cases(n, {
    {"T.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"T.NAME(freed)", "attempt to use a freed tensor"},
    {"a:NAME({dtype = 'x'})", "NAME: unknown dtype 'x'"},
    {"a:NAME({bogus = 1})", 'NAME: unknown option "bogus"'},
  })
end
local function tensor_arg(n, extra)   -- one tensor argument
  local r = cases(n, {
    {"T.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"T.NAME(freed)", "attempt to use a freed tensor"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function method(n, extra)   -- method-only, one receiver
  local r = cases(n, {
    {"a.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"freed:NAME()", "attempt to use a freed tensor"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function la(n, extra, args)   -- linalg functions of one matrix
  args = args or ""
  local r = cases(n, {
    {"linalg.NAME('x'" .. args .. ")", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"linalg.NAME(v" .. args .. ")", "linalg.NAME: expects a matrix (a tensor of at least 2 dimensions), got a 1-d tensor"},
    {"linalg.NAME(inf" .. args .. ")", "linalg.NAME: the matrix holds inf; LAPACK's "},
    {"linalg.NAME(nan" .. args .. ")", "linalg.NAME: the matrix holds NaN; LAPACK's "},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function square(n, extra, args)
  local r = la(n, {{"linalg.NAME(T.zeros(2, 3)" .. (args or "") .. ")",
                    "linalg.NAME: expects square matrices, got shape {2,3}"}}, args)
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end
local function c2c(n)
  return cases(n, {
    {"fft.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"fft.NAME(a, 3)", "fft.NAME: dimension 3 out of range for a 2-dimensional tensor"},
    {"fft.NAME(a, 'x')", "bad argument #2 to 'NAME' (number expected, got string)"},
  })
end
local function ffts(n)
  return cases(n, {
    {"fft.NAME('x')", "bad argument #1 to 'NAME' (tensor expected, got string)"},
    {"fft.NAME(a, {3})", "dimension 3 out of range for a 2-dimensional tensor"},
    {"fft.NAME(a, {1.5})", "bad argument #2 to 'NAME' (dimensions must be integers)"},
  })
end
local function smethod(n, extra)   -- sparse functions taking S first
  local r = cases(n, {
    {"sparse.NAME('x')", "bad argument #1 to 'NAME' (hebb.Sparse expected, got string)"},
    {"sparse.NAME(a)", "bad argument #1 to 'NAME' (hebb.Sparse expected, got hebb.Tensor)"},
  })
  for _, c in ipairs(extra or {}) do r[#r + 1] = {fmt(c[1], n), fmt(c[2], n)} end
  return r
end

-- hebb.tensor's functions (the methods that are the same functions are
-- covered by these entries)
local TENSOR = {
  Generator = {
    {"T.Generator('x')", "bad argument #1 to 'Generator' (number expected, got string)"},
    {"T.Generator(1.5)", "bad argument #1 to 'Generator' (number has no integer representation)"},
  },
  _cross_entropy_mean = {
    {"T._cross_entropy_mean(a, v)", "_cross_entropy_mean: labels must be an i64 tensor, got f64"},
    {"T._cross_entropy_mean(a)", "bad argument #2 to '_cross_entropy_mean' (tensor expected, got no value)"},
    {"T._cross_entropy_mean(a, T.tensor{1, 5})", "_cross_entropy_mean: label 5 at position 2 is outside 1..2"},
    {"T._cross_entropy_mean(a, T.tensor{1, 2}, 5)", "bad argument #3 to '_cross_entropy_mean' (table or nil expected, got number)"},
  },
  _linear_relu = {
    {"T._linear_relu(a)", "bad argument #2 to '_linear_relu' (tensor expected, got no value)"},
    {"T._linear_relu(a, v)", "_linear_relu: input of shape {2,2} does not fit a weight of shape {3}"},
    {"T._linear_relu(a, a, v)", "_linear_relu: bias of shape {3} for 2 outputs (expected {2})"},
    {"T._linear_relu(a, a, nil, {bogus = 1})", '_linear_relu: unknown option "bogus"'},
  },
  _cross_entropy_grad = {
    {"T._cross_entropy_grad(a, v, a)", "cross_entropy_grad: labels must be an i64 tensor, got f64"},
    {"T._cross_entropy_grad(a)", "bad argument #2 to '_cross_entropy_grad' (tensor expected, got no value)"},
  },
  abs = unary("abs"), acos = unary("acos"), asin = unary("asin"),
  atan = unary("atan"), ceil = real_unary("ceil"), cos = unary("cos"),
  cosh = unary("cosh"), exp = unary("exp"), expm1 = real_unary("expm1"),
  floor = real_unary("floor"), log = unary("log"), log1p = real_unary("log1p"),
  neg = unary("neg"), reciprocal = unary("reciprocal"), relu = real_unary("relu"),
  round = real_unary("round"), sigmoid = real_unary("sigmoid"), sign = real_unary("sign"),
  sin = unary("sin"), sinh = unary("sinh"), softplus = real_unary("softplus"),
  sqrt = unary("sqrt"), square = unary("square"), tan = unary("tan"), tanh = unary("tanh"),
  logical_not = unary("logical_not", {{"T.logical_not(z)", "logical_not: dtype c128 is not supported yet"}}),
  conj = unary("conj"),
  angle = cases("angle", {
    {"T.angle('x')", "bad argument #1 to 'angle' (tensor or number expected, got string)"},
    {"T.angle(z, {bogus = 1})", 'angle: unknown option "bogus"'},
    {"T.angle(z, {out = T.zeros(3)})", "angle: out has shape {3}, result has {2,2}"},
  }),
  real = cases("real", {
    {"T.real('x')", "bad argument #1 to 'real' (tensor or number expected, got string)"},
    {"T.real(z, {out = a:astype('f32')})", "real: out has dtype f32, result is f64"},
  }),
  imag = cases("imag", {
    {"T.imag('x')", "bad argument #1 to 'imag' (tensor or number expected, got string)"},
    {"T.imag(z, {out = T.zeros(3)})", "imag: out has shape {3}, result has {2,2}"},
  }),
  complex = cases("complex", {
    {"T.complex(a)", "bad argument #2 to 'complex' (tensor or number expected, got no value)"},
    {"T.complex(z, a)", "complex: the real part must be real, got c128"},
    {"T.complex(a, v)", "complex: shapes {2,2} and {3} do not broadcast"},
    {"T.complex(a, a, {out = a})", "complex: out has dtype f64, result is c128"},
  }),
  add = binary("add"), sub = binary("sub"), mul = binary("mul"), div = binary("div"),
  pow = binary("pow"), idiv = ordered("idiv"), mod = ordered("mod"),
  remainder = ordered("remainder"),
  minimum = ordered("minimum"), maximum = ordered("maximum"), atan2 = ordered("atan2"),
  eq = binary("eq"), ne = binary("ne"), lt = ordered("lt"), le = ordered("le"),
  gt = ordered("gt"), ge = ordered("ge"),
  logical_and = binary("logical_and"), logical_or = binary("logical_or"),
  logical_xor = binary("logical_xor"),
  addcmul = cases("addcmul", {
    {"T.addcmul(a, a)", "bad argument #3 to 'addcmul' (tensor or number expected, got no value)"},
    {"T.addcmul(a, a, v)", "addcmul: shapes {2,2} and {3} do not broadcast"},
    {"T.addcmul(a, a, a, {bogus = 1})", 'addcmul: unknown option "bogus"'},
  }),
  where = cases("where", {
    {"T.where(b, 'x', a)", "bad argument #2 to 'where' (tensor or number expected, got string)"},
    {"T.where(b, a)", "bad argument #3 to 'where' (tensor or number expected, got no value)"},
    {"T.where(b, v, a)", "where: shapes"},
    {"T.where(b, 1, 2, {out = e})", "where: out has shape {2,3}, result has {2}"},
  }),
  clamp = cases("clamp", {
    {"T.clamp('x')", "bad argument #1 to 'clamp' (tensor expected, got string)"},
    {"T.clamp(a, 'x')", "bad argument #2 to 'clamp' (number expected, got string)"},
    {"T.clamp(z, 0, 1)", "clamp: dtype c128 is not supported yet"},
    {"T.clamp(a, 0, 1, {bogus = 1})", 'clamp: unknown option "bogus"'},
  }),
  all = tensor_arg("all", {{"a:all(3)", "all: dimension 3 out of range"}}),
  any = tensor_arg("any", {{"a:any(3)", "any: dimension 3 out of range"}}),
  allclose = cases("allclose", {
    {"T.allclose(a)", "bad argument #2 to 'allclose' (tensor or number expected, got no value)"},
    {"T.allclose(a, v)", "allclose: shapes {2,2} and {3} do not broadcast"},
    {"T.allclose(a, a, {rtoll = 1})", 'allclose: unknown option "rtoll" (did you mean \'rtol\'?)'},
    {"T.allclose(a, a, {rtol = 'x'})", "allclose: option 'rtol' must be a number, got string"},
    {"T.allclose(a, a, 'x')", "bad argument #3 to 'allclose' (number expected, got string)"},
  }),
  equal = tensor_arg("equal", {{"T.equal(a)", "bad argument #2 to 'equal' (tensor expected, got no value)"}}),
  arange = {
    {"T.arange('x')", "bad argument #1 to 'arange' (number expected, got string)"},
    {"T.arange(1, 5, 0)", "arange: step must be non-zero"},
    {"T.arange(1, 5, NaN)", "arange: step must be non-zero"},
    {"T.arange(1, 1 / 0)", "arange: bad range"},
    {"T.arange(1, 1e18)", "elements is too many (at most 1e15)"},
    {"T.arange(1, 5, {dtyp = 'f32'})", 'arange: unknown option "dtyp"'},
  },
  linspace = {
    {"T.linspace(0, 1)", "bad argument #3 to 'linspace' (number expected, got no value)"},
    {"T.linspace(0, 1, -1)", "bad argument #3 to 'linspace' (number of points must be >= 0)"},
    {"T.linspace(0, 1, big)", "linspace: too many elements"},
    {"T.linspace(0, 1, 3, {bogus = 1})", 'linspace: unknown option "bogus"'},
  },
  eye = {
    {"T.eye('x')", "bad argument #1 to 'eye' (number expected, got string)"},
    {"T.eye(-1)", "bad argument #1 to 'eye' (sizes must be >= 0)"},
    {"T.eye(big, big)", "eye: too many elements"},
    {"T.eye(2, {bogus = 1})", 'eye: unknown option "bogus"'},
  },
  zeros = creation("zeros", "T.zeros"), ones = creation("ones", "T.ones"),
  empty = creation("empty", "T.empty"),
  full = {
    {"T.full({2}, 'x')", "bad argument #2 to 'full' (number expected, got string)"},
    {"T.full({-1}, 1)", "full: size 1 is negative (-1)"},
    {"T.full({big}, 1)", "full: too many elements"},
    {"T.full({2}, 1e300, {dtype = 'i64'})", "full: 1e+300 does not fit in i64"},
    {"T.full(2)", "full: expected a shape and a value"},
  },
  zeros_like = like("zeros_like"), ones_like = like("ones_like"),
  empty_like = like("empty_like"),
  full_like = cases("full_like", {
    {"T.full_like(a)", "bad argument #2 to 'full_like' (number expected, got no value)"},
    {"a:full_like(1, {bogus = 1})", 'full_like: unknown option "bogus"'},
  }),
  rand = creation("rand", "T.rand"), randn = creation("randn", "T.randn"),
  rand_like = like("rand_like"), randn_like = like("randn_like"),
  randint = {
    {"T.randint(1, 6)", "randint: missing shape"},
    {"T.randint(6, 1, 3)", "randint: lo (6) is greater than hi (1)"},
    {"T.randint(1, math.maxinteger, 3)", "randint: hi must be less than math.maxinteger"},
    {"T.randint(1, 6, -3)", "randint: size 1 is negative (-3)"},
    {"T.randint(1, 6, 3, {generatr = 1})", 'randint: unknown option "generatr" (did you mean \'generator\'?)'},
    {"T.randint(1, 6, 3, {generator = 1})", "option 'generator' must be a generator (T.Generator)"},
  },
  randperm = {
    {"T.randperm(-1)", "bad argument #1 to 'randperm' (length must be >= 0)"},
    {"T.randperm(big)", "randperm: too many elements"},
    {"T.randperm(3, {dtype = 'f32'})", 'randperm: unknown option "dtype"'},
  },
  bernoulli = {
    {"T.bernoulli(2, 3)", "bad argument #1 to 'bernoulli' (probability must be in [0, 1])"},
    {"T.bernoulli(NaN, 3)", "bad argument #1 to 'bernoulli' (probability must be in [0, 1])"},
    {"T.bernoulli(a)", "bernoulli: probability 1.5 (element 1) is outside [0, 1]"},
    {"T.bernoulli(0.5, 3, {bogus = 1})", 'bernoulli: unknown option "bogus"'},
  },
  manual_seed = {
    {"T.manual_seed('x')", "bad argument #1 to 'manual_seed' (number expected, got string)"},
    {"T.manual_seed(1.5)", "bad argument #1 to 'manual_seed' (number has no integer representation)"},
  },
  get_rng_state = {},   -- takes no arguments: nothing to get wrong
  set_rng_state = {
    {"T.set_rng_state('x')", "bad argument #1 to 'set_rng_state' (table expected, got string)"},
    {"T.set_rng_state({seed = 1})", "set_state: field 'stream' must be an integer (got nil)"},
  },
  tensor = {
    {"T.tensor('x')", "bad argument #1 to 'tensor' (table or number expected, got string)"},
    {"T.tensor({{1, 2}, {3}})", "tensor: ragged nested table (at depth 2 expected 2 entries, found 1)"},
    {"T.tensor({1, 'x'})", "tensor: expected numbers or booleans, found string"},
    {"T.tensor({1}, {dtype = 'x'})", "tensor: unknown dtype 'x'"},
    {"T.tensor({1}, {bogus = 1})", 'tensor: unknown option "bogus"'},
  },
  frombytes = {
    {"T.frombytes('abc', 'f64', 1)", "frombytes: 3 bytes for 1 f64 elements (8 bytes expected)"},
    {"T.frombytes('', 'f64', big, big)", "frombytes: too many elements"},
    {"T.frombytes('', 'x', 0)", "frombytes: unknown dtype 'x'"},
    {"T.frombytes('', 'f64', -1)", "frombytes: size 1 is negative (-1)"},
  },
  is_tensor = {},   -- any value is a fine question
  shares_storage = tensor_arg("shares_storage", {
    {"T.shares_storage(a)", "bad argument #2 to 'shares_storage' (tensor expected, got no value)"}}),
  set_printoptions = {
    {"T.set_printoptions{precison = 3}", "set_printoptions: unknown option \"precison\" (did you mean 'precision'?)"},
    {"T.set_printoptions{precision = -1}", "T.set_printoptions: precision must be an integer in 0..17, got -1"},
    {"T.set_printoptions('x')", "T.set_printoptions: expected a table of options, got \"x\""},
  },
  cat = {
    {"T.cat('x')", "cat: expected a table of tensors, got string"},
    {"T.cat({a, v})", "cat: input 2 has shape {3}"},
    {"T.cat({a, a}, 3)", "cat: dimension 3 out of range"},
    {"T.cat({a, 'x'})", "cat: input 2 is a string, not a tensor"},
    {"T.cat({})", "cat: no tensors to join"},
  },
  stack = {
    {"T.stack('x')", "stack: expected a table of tensors, got string"},
    {"T.stack({a, v})", "stack: input 2 has shape {3}"},
    {"T.stack({a, a}, 4)", "stack: position 4 out of range for a new dimension of a 2-dimensional tensor"},
  },
  einsum = {
    {"T.einsum('ij->ji')", "einsum: no operands"},
    {"T.einsum('ij,jk->ik', a, v)", "einsum: operand 2 has 1 dimensions but its subscripts 'jk' name 2"},
    {"T.einsum('ij->ji', a, {bogus = 1})", 'einsum: unknown option "bogus"'},
    {"T.einsum(5, a)", "einsum: bad character '5' in the subscripts (letters a-z and A-Z name indices)"},
  },
  tensordot = {
    {"T.tensordot(a)", "bad argument #2 to 'tensordot' (tensor expected, got no value)"},
    {"T.tensordot(a, v, 1)", "tensordot: dimension 2 of a has size 2 but dimension 1 of b has size 3"},
    {"T.tensordot(a, a, 3)", "tensordot: cannot contract 3 dimensions of tensors with 2 and 2"},
    {"T.tensordot(a, a, 1, {bogus = 1})", 'tensordot: unknown option "bogus"'},
  },
  ncon = {
    {"T.ncon('x')", "bad argument #1 to 'ncon' (table expected, got string)"},
    {"T.ncon({a}, {{1, 2, 3}})", "ncon: tensor 1 has 2 dimensions but 3 labels"},
    {"T.ncon({a}, {{-1, -2}}, {order = 'x'})", "ncon: order 'x'"},
    {"T.ncon({a}, {{-1, -2}}, {ordr = 'greedy'})", 'ncon: unknown option "ordr" (did you mean \'order\'?)'},
  },
  matmul = cases("matmul", {
    {"T.matmul(a)", "bad argument #2 to 'matmul' (tensor expected, got no value)"},
    {"T.matmul(a, v)", "matmul: shapes {2,2} and {3} do not align (2 ≠ 3)"},
    {"T.matmul(a, a, {out = e})", "matmul: out has shape {2,3}, result has {2,2}"},
    {"T.matmul(a, a, {bogus = 1})", 'matmul: unknown option "bogus"'},
  }),
  mm = cases("mm", {
    {"T.mm(a, v)", "mm: expects two 2-d tensors"},
    {"T.mm('x', a)", "bad argument #1 to 'mm' (tensor expected, got string)"},
  }),
  dot = cases("dot", {
    {"T.dot(a, v)", "dot: expects two 1-d tensors (got shapes {2,2} and {3})"},
    {"T.dot(v, T.ones(2))", "dot: lengths 3 and 2 differ"},
    {"T.dot(v, v, {bogus = 1})", 'dot: unknown option "bogus"'},
  }),
  vdot = cases("vdot", {
    {"T.vdot(a)", "T.vdot: b must be a tensor, got nil"},
    {"T.vdot(a, v)", "T.vdot: expects two 1-d tensors of one length, got f64 tensor of shape {2, 2} and f64 tensor of shape {3}"},
  }),
  outer = cases("outer", {
    {"T.outer(a, v)", "outer: expects two 1-d tensors"},
    {"T.outer(v, v, {out = a})", "outer: out has shape {2,2}, result has {3,3}"},
  }),
  linear = cases("linear", {
    {"T.linear(a, v)", "linear: input of shape {2,2} does not fit a weight of shape {3}"},
    {"T.linear(a, a, v)", "linear: bias of shape {3} for 2 outputs (expected {2})"},
    {"T.linear(a, a, nil, {bogus = 1})", 'linear: unknown option "bogus"'},
  }),
  argmax = reduction("argmax"), argmin = reduction("argmin"),
  sum = reduction("sum"), mean = reduction("mean"), prod = reduction("prod"),
  logsumexp = reduction("logsumexp"),
  min = reduction("min", {{"T.zeros(0):min()", "min: cannot reduce an empty tensor (the minimum of no elements is undefined)"}}),
  max = reduction("max", {{"T.zeros(0):max()", "max: cannot reduce an empty tensor (the maximum of no elements is undefined)"}}),
  std = reduction("std", {{"a:std(1, {correction = -1})", "std: correction must be a non-negative integer, got -1"},
                          {"a:std(1, {corection = 0})", 'std: unknown option "corection" (did you mean \'correction\'?)'}}),
  var = reduction("var", {{"a:var(1, {correction = 0.5})", "var: correction must be a non-negative integer, got 0.5"}}),
  norm = tensor_arg("norm", {{"a:norm(3.5)", "norm: p must be 1, 2 or math.huge ('inf'), got 3.5"}, {"a:norm(2, 3)", "norm: dimension 3 out of range"},
                             {"a:norm(2, 1, {bogus = 1})", 'norm: unknown option "bogus"'}}),
  cumsum = tensor_arg("cumsum", {{"a:cumsum(3)", "cumsum: dimension 3 out of range"},
                                 {"a:cumsum()", "cumsum: a dimension is required for a 2-dimensional tensor"},
                                 {"a:cumsum(1, {bogus = 1})", 'cumsum: unknown option "bogus"'},
                                 {"a:cumsum(1, 'x')", "cumsum: options must be a table, got string"}}),
  cumprod = tensor_arg("cumprod", {{"a:cumprod(3)", "cumprod: dimension 3 out of range"},
                                   {"a:cumprod(1, {out = v})", "cumprod: out has shape {3}, result has {2,2}"}}),
  astype = tensor_arg("astype", {{"a:astype('x')", "astype: unknown dtype 'x'"},
                                 {"z:astype('f64')", "astype: cannot convert c128 to f64 without dropping the imaginary part"},
                                 {"a:astype()", "bad argument #1 to 'astype' (string expected, got no value)"}}),
  to = tensor_arg("to", {{"a:to('x')", "to: unknown dtype 'x'"}, {"z:to('f32')", "to: cannot convert c128 to f32"}}),
  clone = tensor_arg("clone"), contiguous = tensor_arg("contiguous"),
  is_contiguous = tensor_arg("is_contiguous"), numel = tensor_arg("numel"),
  tobytes = tensor_arg("tobytes"), totable = tensor_arg("totable"),
  free = {{"T.free('x')", "bad argument #1 to 'free' (tensor expected, got string)"}},
  item = tensor_arg("item", {{"a:item()", "item: tensor has 4 elements, expected 1"}}),
  size = tensor_arg("size", {{"a:size(3)", "size: dimension 3 out of range"}, {"a:size('x')", "bad argument #1 to 'size' (number expected, got string)"}}),
  stride = tensor_arg("stride"),
  get = tensor_arg("get", {{"a:get(1)", "get: 1 indices given for a 2-dimensional tensor"},
                           {"a:get(1, 3)", "get: index 3 out of range for dim 2 of size 2"},
                           {"a:get(1, math.mininteger)", "get: index -9223372036854775808 out of range for dim 2 of size 2"},
                           {"a:get(1, 1.5)", "bad argument #2 to 'get' (number has no integer representation)"}}),
  set = tensor_arg("set", {{"a:set(1, 1)", "set: 1 indices given for a 2-dimensional tensor"},
                           {"a:set(1, 9, 0)", "set: index 9 out of range for dim 2 of size 2"},
                           {"a:set(1, 1, 'x')", "bad argument #3 to 'set' (number expected, got string)"}, {"a:set()", "set: missing value"}}),
  copy_ = tensor_arg("copy_", {{"a:copy_(v)", "copy_: source of shape {3} does not fit destination of shape {2,2}"},
                               {"a:copy_(z)", "copy_: cannot convert c128 to f64 without dropping the imaginary part"},
                               {"e:copy_(T.zeros(2, 3))", "copy_: cannot write into a broadcast (expanded) view (dim 2 repeats one element)"},
                               {"a:copy_('x')", "bad argument #1 to 'copy_' (tensor or number expected, got string)"}}),
  fill_ = tensor_arg("fill_", {{"a:fill_('x')", "bad argument #1 to 'fill_' (number expected, got string)"},
                               {"i:fill_(1e300)", "fill_: 1e+300 does not fit in i64"},
                               {"e:fill_(0)", "fill_: cannot write into a broadcast (expanded) view"}}),
  view = tensor_arg("view", {{"a:view(3, -1)", "view: cannot infer the -1 in shape {3,-1} for 4 elements"},
                             {"a:view(5)", "view: shape {5} (5 elements) does not fit a tensor of shape {2,2} (4 elements)"},
                             {"a:view(-1, -1)", "view: only one size may be -1"},
                             {"a:view(2.5, 2)", "view: size 1 must be an integer, got a non-integral number"},
                             {"a:view(-2, 2)", "view: size 1 is invalid (-2)"},
                             {"a:t():view(4)", "view: shape {4} is incompatible with a tensor of shape {2,2}"}}),
  reshape = tensor_arg("reshape", {{"a:reshape(3, -1)", "reshape: cannot infer the -1 in shape {3,-1} for 4 elements"},
                                   {"a:reshape(math.maxinteger, -1)", "reshape: cannot infer the -1"},
                                   {"a:reshape('x')", "reshape: size 1 must be an integer, got string"}}),
  narrow = tensor_arg("narrow", {{"a:narrow(1, 2, 2)", "narrow: length 2 from start 2 does not fit dim 1 of size 2"},
                                 {"a:narrow(3, 1, 1)", "narrow: dimension 3 out of range"},
                                 {"a:narrow(1, 1, -1)", "narrow: length -1 from start 1 does not fit dim 1 of size 2"}, {"a:narrow(1, big, 1)", "narrow: start 4611686018427387904 out of range for dim 1 of size 2"}}),
  select = tensor_arg("select", {{"a:select(1, 3)", "select: index 3 out of range for dim 1 of size 2"},
                                 {"a:select(3, 1)", "select: dimension 3 out of range"}}),
  transpose = tensor_arg("transpose", {{"a:transpose(1, 3)", "transpose: dimension 3 out of range"}}),
  t = tensor_arg("t", {{"T.ones(2, 2, 2):t()", "t: the tensor has 3 dimensions (t() transposes a matrix; use transpose or permute)"}}),
  permute = tensor_arg("permute", {{"a:permute(1, 1)", "permute: dimension 1 appears twice"},
                                   {"a:permute(1)", "permute: 1 dimensions given for a 2-dimensional tensor"}, {"a:permute(1, 3)", "permute: dimension 3 out of range"}}),
  expand = tensor_arg("expand", {{"a:expand(3, 2)", "expand: cannot expand shape {2,2} to {3,2}"},
                                 {"a:expand(2)", "expand: shape {2} has fewer dimensions than the tensor's {2,2}"},
                                 {"T.ones(1):expand(big, big)", "expand: too many elements"}}),
  expand_as = tensor_arg("expand_as", {{"a:expand_as(v)", "expand_as: shape {3} has fewer dimensions than the tensor's {2,2}"}, {"a:expand_as('x')", "bad argument #1 to 'expand_as' (tensor expected, got string)"}}),
  squeeze = tensor_arg("squeeze", {{"a:squeeze(3)", "squeeze: dimension 3 out of range"}}),
  unsqueeze = tensor_arg("unsqueeze", {{"a:unsqueeze(4)", "unsqueeze: position 4 out of range"}, {"a:unsqueeze(math.mininteger)", "unsqueeze: position -9223372036854775808 out of range for a new dimension of a 2-dimensional tensor (valid 1..3 or -3..-1)"}}),
  flatten = tensor_arg("flatten", {{"a:flatten(2, 1)", "flatten: start dim 2 comes after end dim 1"}, {"a:flatten(3)", "flatten: dimension 3 out of range"}}),
  diagonal = tensor_arg("diagonal", {{"a:diagonal(0, 1, 1)", "diagonal: both dimensions are 1"}, {"v:diagonal()", "diagonal: dimension 2 out of range"}}),
  split = tensor_arg("split", {{"a:split(0)", "split: piece size must be positive, got 0"},
                               {"a:split({1, 2})", "split: sizes add up to 3, but dim 1 has size 2"},
                               {"a:split({3, -1})", "split: size 2 is negative"},
                               {"T.tensor(1.0):split(1)", "split: cannot split a 0-d tensor"}}),
  chunk = tensor_arg("chunk", {{"a:chunk(0)", "chunk: number of chunks must be positive, got 0"},
                               {"a:chunk(2, 3)", "chunk: dimension 3 out of range"}}),
  gather = tensor_arg("gather", {{"a:gather(1, v)", "gather: index has 1 dimensions, the tensor has 2"},
                                 {"a:gather(1, T.tensor{{3, 1}})", "gather: index 3 out of range"},
                                 {"a:gather(3, T.tensor{{1}})", "gather: dimension 3 out of range"},
                                 {"a:gather(1, T.tensor{{1, 1}}, {bogus = 1})", 'gather: unknown option "bogus"'}}),
  index_select = tensor_arg("index_select", {{"a:index_select(1, T.tensor{0})", "index_select: index 0 out of range"},
                                             {"a:index_select(1, {1, 2.5})", "indices must be integers, entry 2 is not"},
                                             {"a:index_select(1, {1}, {out = v})", "index_select: out has shape {3}, result has {1,2}"}}),
  masked_select = tensor_arg("masked_select", {{"a:masked_select(a)", "masked_select: the mask must be a bool tensor, got f64"},
                                               {"a:masked_select(T.tensor{true, false, true})", "masked_select: shapes {2,2} and {3} do not broadcast (dim 2: 2 vs 3)"},
                                               {"a:masked_select(b, {bogus = 1})", 'masked_select: unknown option "bogus"'}}),
  masked_fill = tensor_arg("masked_fill", {{"a:masked_fill(a, 1)", "masked_fill: the mask must be a bool tensor, got f64"},
                                           {"a:masked_fill(b, 'x')", "bad argument #2 to 'masked_fill' (number expected, got string)"}}),
  masked_fill_ = tensor_arg("masked_fill_", {{"a:masked_fill_(a, 1)", "masked_fill_: the mask must be a bool tensor, got f64"},
                                             {"e:masked_fill_(T.ones(2, 3):gt(0), 1)", "masked_fill_: cannot write into a broadcast (expanded) view"},
                                             {"i:masked_fill_(T.tensor{true, false, true}, 1e300)", "masked_fill_: 1e+300 does not fit in i64"}}),
  scatter_ = tensor_arg("scatter_", {{"a:scatter_(1, T.ones(1, 1), 1.0)", "scatter_: indices must be an i64 tensor, got f64"},
                                     {"a:scatter_(2, T.tensor{{5}}, 1.0)", "scatter_: index 5 out of range for dim 2 of size 2"},
                                     {"e:scatter_(1, T.tensor{{1}}, 1.0)", "scatter_: cannot write into a broadcast (expanded) view"}}),
  scatter_add_ = tensor_arg("scatter_add_", {{"a:scatter_add_(1, T.tensor{{0}}, 1.0)", "scatter_add_: index 0 out of range"},
                                             {"a:scatter_add_(1, T.tensor{{1, 1}}, v)", "scatter_add_: source of shape {3}"}}),
  -- special functions (natives/core/special.c), elementwise and real
  bessel_i0 = real_unary("bessel_i0"), bessel_i1 = real_unary("bessel_i1"),
  bessel_j0 = real_unary("bessel_j0"), bessel_j1 = real_unary("bessel_j1"),
  digamma = real_unary("digamma"), trigamma = real_unary("trigamma"),
  ellipe = real_unary("ellipe"), ellipk = real_unary("ellipk"),
  erf = real_unary("erf"), erfc = real_unary("erfc"), gamma = real_unary("gamma"),
  lgamma = real_unary("lgamma"), zeta = real_unary("zeta"),
  _tetragamma = real_unary("_tetragamma"), _zeta_prime = real_unary("_zeta_prime"),
  -- ordering (natives/lua/l_sort.c)
  sort = tensor_arg("sort", {{"T.sort(z)", "sort: complex numbers have no order (dtype c128)"},
                             {"T.sort(a, 3)", "sort: dimension 3 out of range for a 2-dimensional tensor"},
                             {"T.sort(a, 1, {descending = 1})", "sort: option 'descending' must be a boolean, got number"},
                             {"T.sort(T.tensor(1.0))", "sort: expected a tensor with at least 1 dimension"}}),
  argsort = tensor_arg("argsort", {{"T.argsort(a, 1, {descendng = true})", 'argsort: unknown option "descendng" (did you mean \'descending\'?)'},
                                   {"T.argsort(z)", "argsort: complex numbers have no order (dtype c128)"}}),
  topk = tensor_arg("topk", {{"T.topk(a, 5)", "topk: k = 5 is outside 0..2 (the size of dimension 2)"},
                             {"T.topk(a, -1)", "topk: k = -1 is outside 0..2"},
                             {"T.topk(a, 1, 3)", "topk: dimension 3 out of range"},
                             {"T.topk(a, 1, 1, {largets = true})", 'topk: unknown option "largets" (did you mean \'largest\'?)'}}),
  unique = tensor_arg("unique", {{"T.unique(z)", "unique: complex numbers have no order (dtype c128)"}}),
  searchsorted = tensor_arg("searchsorted", {
    {"T.searchsorted(T.tensor({3., 1}), v)", "searchsorted: the sequence is not sorted ascending (element 2 is less than element 1)"},
    {"T.searchsorted(a, v)", "searchsorted: the sorted sequence must be 1-d (got 2-d)"},
    {"T.searchsorted(v, v, {rigth = true})", 'searchsorted: unknown option "rigth" (did you mean \'right\'?)'}}),
  histc = tensor_arg("histc", {{"T.histc(a, 0)", "histc: bins = 0; needs at least 1"},
                               {"T.histc(a, 10, 1, 0)", "histc: the range [1, 0] is not a finite interval"},
                               {"T.histc(z)", "histc: complex numbers have no order (dtype c128)"}}),
  roll = tensor_arg("roll", {{"T.roll(a, {1, 2}, {1, 1})", "roll: dimension 1 appears twice"},
                             {"T.roll(a, 1, 3)", "roll: dimension 3 out of range for a 2-dimensional tensor"},
                             {"T.roll(a, 'x')", "bad argument #2 to 'roll' (number expected, got string)"}}),
  flip = tensor_arg("flip", {{"T.flip(a, {1, 1})", "flip: dimension 1 appears twice"},
                             {"T.flip(a, {3})", "flip: dimension 3 out of range for a 2-dimensional tensor"}}),
  -- Lua-side helpers of hebb.tensor (stdlib/hebb/_tensor_extra.lua)
  diff = {{"T.diff(a, -1)", "diff: n must be an integer >= 0, got -1"},
          {"T.diff(a, 1, 3)", "diff: dimension 3 out of range for a 2-dimensional tensor"}},
  fuse = {{"T.fuse(42)", "fuse: fn must be a function, got 42"}, {"T.fuse()", "fuse: fn must be a function, got nil"}},
  kron = {{"T.kron(a)", "kron: b must be a tensor, got nil"}, {"T.kron(a, 'x')", 'kron: b must be a tensor, got "x"'}},
  logspace = {{"T.logspace(0, 1, -1)", "logspace: n must be an integer in 0..2^56, got -1"},
              {"T.logspace(0, 1, big)", "logspace: n must be an integer in 0..2^56, got 4611686018427387904"},
              {"T.logspace('x', 1, 3)", 'logspace: start must be a number, got "x"'}},
  meshgrid = {{"T.meshgrid(v, v, {indexing = 'zz'})", 'meshgrid: indexing must be \'ij\' or \'xy\', got "zz"'},
              {"T.meshgrid(v, a)", "meshgrid: argument 2 must be 1-d, got shape {2,2}"},
              {"T.meshgrid(v, {indexng = 'ij'})", 'meshgrid: unknown option "indexng" (did you mean \'indexing\'?)'},
              {"T.meshgrid()", "meshgrid: needs at least one 1-d tensor"}},
  trapz = {{"T.trapz(v, T.ones(2))", "trapz: x must be 1-d with 3 points (y's size along dim 1), got shape {2}"},
           {"T.trapz('x')", 'trapz: y must be a tensor, got "x"'}},
  cross_entropy = cases("cross_entropy", {
    {"T.cross_entropy(a, v)", "cross_entropy: labels must be an i64 tensor, got f64"},
    {"T.cross_entropy(a, T.tensor{1, 5})", "cross_entropy: label 5 at position 2 is outside 1..2"},
    {"T.cross_entropy(a, T.tensor{1, 2}, {bogus = 1})", 'cross_entropy: unknown option "bogus"'},
  }),
}

-- tensor methods that are not also functions of hebb.tensor
local METHODS = {
  abs_ = inplace("abs_"), acos_ = inplace("acos_"), asin_ = inplace("asin_"),
  atan_ = inplace("atan_"), ceil_ = inplace("ceil_"), cos_ = inplace("cos_"),
  cosh_ = inplace("cosh_"), exp_ = inplace("exp_"), expm1_ = inplace("expm1_"),
  floor_ = inplace("floor_"), log_ = inplace("log_"), log1p_ = inplace("log1p_"),
  neg_ = inplace("neg_"), reciprocal_ = inplace("reciprocal_"), relu_ = inplace("relu_"),
  round_ = inplace("round_"), sigmoid_ = inplace("sigmoid_"), sign_ = inplace("sign_"),
  sin_ = inplace("sin_"), sinh_ = inplace("sinh_"), softplus_ = inplace("softplus_"),
  sqrt_ = inplace("sqrt_", {{"i:sqrt_()", "sqrt_: result dtype f64 cannot be written into i64 tensor"}}),
  square_ = inplace("square_"), tan_ = inplace("tan_"), tanh_ = inplace("tanh_"),
  logical_not_ = cases("logical_not_", {
    {"a.logical_not_('x')", "bad argument #1 to 'logical_not_' (tensor expected, got string)"},
    {"a:logical_not_()", "logical_not_: result dtype bool cannot be written into f64 tensor"},
    {"b:view(2, 1):expand(2, 3):logical_not_()", "logical_not_: cannot write into a broadcast (expanded) view"},
  }),
  add_ = inplace("add_", {{"a:add_(v)", "add_: shapes {2,2} and {3} do not broadcast"},
                          {"i:add_(0.5)", "add_: result dtype f64 cannot be written into i64 tensor"},
                          {"a:add_('x')", "bad argument #1 to 'add_' (tensor or number expected, got string)"}}, "1"),
  sub_ = inplace("sub_", {{"a:sub_(v)", "sub_: shapes {2,2} and {3} do not broadcast"}}, "1"),
  mul_ = inplace("mul_", {{"a:mul_(T.ones(2, 2, 2))", "mul_: out has shape {2,2}, result has {2,2,2}"}}, "2"),
  div_ = inplace("div_", {{"i:div_(2)", "div_: result dtype f64 cannot be written into i64 tensor"}}, "2"),
  pow_ = inplace("pow_", {{"a:pow_('x')", "bad argument #1 to 'pow_' (tensor or number expected, got string)"}}, "2"),
  clamp_ = inplace("clamp_", {{"a:clamp_('x')", "bad argument #1 to 'clamp_' (number expected, got string)"},
                              {"b:clamp_(0, 1)", "clamp_: result dtype i64 cannot be written into bool tensor"}}),
  uniform_ = inplace("uniform_", {{"a:uniform_(2, 1)", "uniform_: lo (2) is greater than hi (1)"},
                                  {"i:uniform_()", "uniform_: dtype i64 is not supported (f64 or f32)"},
                                  {"a:uniform_({generatr = 1})", 'uniform_: unknown option "generatr"'}}),
  normal_ = inplace("normal_", {{"a:normal_(0, -1)", "normal_: need a finite mean and a finite std >= 0 (got mean 0, std -1)"},
                                {"a:normal_(0, 1, {bogus = 1})", 'normal_: unknown option "bogus"'}}),
  bernoulli_ = inplace("bernoulli_", {{"a:bernoulli_(2)", "bad argument #1 to 'bernoulli_' (probability must be in [0, 1])"},
                                      {"a:bernoulli_(0.5, {bogus = 1})", 'bernoulli_: unknown option "bogus"'}}, "0.5"),
  -- autograd's methods (stdlib/hebb/autograd.lua) misused as users do
  backward = {{"a:backward()", "backward: the tensor does not require grad"}},
  detach = {{"freed:detach()", "attempt to use a freed tensor"}},
  requires_grad_ = {{"i:requires_grad_()", "requires_grad_: only floating-point tensors can require grad (got i64)"}},
  retain_grad = {{"a:retain_grad()", "retain_grad: the tensor does not require grad"}},
}

local LINALG = {
  cholesky = square("cholesky", {{"linalg.cholesky(a)", "linalg.cholesky: matrix is not positive definite"}}),
  cond = la("cond"),
  det = square("det"),
  eig = square("eig"),
  eigh = square("eigh"),
  eigvals = square("eigvals"),
  eigvalsh = square("eigvalsh"),
  expm = square("expm"),
  inv = square("inv", {{"linalg.inv(T.zeros(2, 2))", "linalg.inv: matrix is singular"}}),
  lstsq = cases("lstsq", {
    {"linalg.lstsq(a)", "bad argument #2 to 'lstsq' (tensor expected, got no value)"},
    {"linalg.lstsq(a, v)", "linalg.lstsq: A has shape {2,2} but B has 3 rows"},
    {"linalg.lstsq(nan, T.ones(3))", "linalg.lstsq: the matrix holds NaN; LAPACK's dgelsd"},
    {"linalg.lstsq(a, a, -1)", "bad argument #3 to 'lstsq' (rcond must be >= 0)"},
  }),
  matrix_power = square("matrix_power", {
    {"linalg.matrix_power(a, 1.5)", "bad argument #2 to 'matrix_power' (integer expected, got number)"},
    {"linalg.matrix_power(a, math.mininteger)", "linalg.matrix_power: power -9223372036854775808 is out of range"}}, ", -1"),
  norm = la("norm", {{"linalg.norm(a, 'foo')", "linalg.norm: unknown order 'foo'"},
                     {"linalg.norm(a, 3)", "bad argument #2 to 'norm' (order must be 'fro', 'nuc', 1, -1, 2, -2, math.huge or -math.huge)"}}, ", '2'"),
  pinv = la("pinv", {{"linalg.pinv(a, -1)", "bad argument #2 to 'pinv' (rcond must be >= 0)"}}),
  powm_psd = square("powm_psd", {{"linalg.powm_psd(a, NaN)", "linalg.powm_psd: the power must be finite, got "},
                                 {"linalg.powm_psd(a, 0.5)", "linalg.powm_psd: matrix is not positive semidefinite"}}, ", 0.5"),
  qr = la("qr"),
  slogdet = square("slogdet"),
  solve = cases("solve", {
    {"linalg.solve(a)", "bad argument #2 to 'solve' (tensor expected, got no value)"},
    {"linalg.solve(a, v)", "linalg.solve: A has shape {2,2} but B has 3 rows"},
    {"linalg.solve(T.eye(3), T.full({3}, NaN))", "linalg.solve: the right-hand side holds NaN; LAPACK's dgetrf"},
    {"linalg.solve(T.zeros(2, 2), T.ones(2))", "linalg.solve: matrix is singular"},
  }),
  sqrtm_psd = square("sqrtm_psd", {{"linalg.sqrtm_psd(a)", "linalg.sqrtm_psd: matrix is not positive semidefinite"}}),
  svd = la("svd", {{"linalg.svd(a, {ful = true})", 'linalg.svd: unknown option "ful" (did you mean \'full\'?)'},
                   {"linalg.svd(a, {rank = 1.5})", "linalg.svd: option 'rank' must be an integer"},
                   {"linalg.svd(a, {full = true, rank = 1})", "linalg.svd: options 'full' and 'rank' exclude each other"}}),
  svdvals = la("svdvals"),
}

local FFT = {
  fft = c2c("fft"), ifft = c2c("ifft"), rfft = c2c("rfft"),
  irfft = cases("irfft", {
    {"fft.irfft('x')", "bad argument #1 to 'irfft' (tensor expected, got string)"},
    {"fft.irfft(z, 0)", "irfft: n = 0 output points; n must be >= 1"},
    {"fft.irfft(z, big)", "fft.irfft: too many elements in shape {2,2305843009213693953} (at most 2^56)"},
    {"fft.irfft(z, nil, 3)", "fft.irfft: dimension 3 out of range"},
  }),
  fftn = ffts("fftn"), ifftn = ffts("ifftn"), fftshift = ffts("fftshift"),
  ifftshift = ffts("ifftshift"),
  fftfreq = cases("fftfreq", {
    {"fft.fftfreq('x')", "bad argument #1 to 'fftfreq' (number expected, got string)"},
    {"fft.fftfreq(-1)", "fft.fftfreq: n = -1; the number of points must be >= 1"},
    {"fft.fftfreq(4, 0)", "fft.fftfreq: sample spacing d = 0; it must be a nonzero number"},
    {"fft.fftfreq(big)", "fft.fftfreq: too many elements"},
  }),
  rfftfreq = cases("rfftfreq", {
    {"fft.rfftfreq('x')", "bad argument #1 to 'rfftfreq' (number expected, got string)"},
    {"fft.rfftfreq(-1)", "fft.rfftfreq: n = -1; the number of points must be >= 1"},
    {"fft.rfftfreq(4, NaN)", "fft.rfftfreq: sample spacing d = -nan; it must be a nonzero number"},
  }),
}

local SPARSE = {
  csr = {
    {"sparse.csr({1, 4}, {1, 1}, {1, 1}, {3, 3})", "sparse.csr: row index 4 of entry 2 out of range 1..3"},
    {"sparse.csr({1}, {1}, {1, 2}, {3, 3})", "sparse.csr: rows and cols have 1 entries but vals has 2"},
    {"sparse.csr({1}, {1}, {1.0}, {1 << 60, 2})", "sparse.csr: too many elements"},
    {"sparse.csr({1}, {1}, {1.0}, {3, 3}, {dtyp = 'c128'})", 'sparse.csr: unknown option "dtyp"'},
    {"sparse.csr({1}, {1}, {1.0}, {3, 3}, {dtype = 'i64'})", "sparse.csr: sparse matrices are f64 or c128, not i64"},
  },
  coo = {
    {"sparse.coo({1, 4}, {1, 1}, {1, 1}, {3, 3})", "row index 4 of entry 2 out of range 1..3"},
    {"sparse.coo('x')", "bad argument #1 to 'coo' (tensor expected, got string)"},
  },
  diag = {
    {"sparse.diag(a)", "sparse.diag: d must be a 1-d tensor, got 2 dimensions"},
    {"sparse.diag('x')", "bad argument #1 to 'diag' (table expected, got string)"},
  },
  eye = {
    {"sparse.eye(-1)", "bad argument #1 to 'eye' (size must be non-negative)"},
    {"sparse.eye(big)", "sparse.eye: too many elements in shape {4611686018427387904}"},
    {"sparse.eye('x')", "bad argument #1 to 'eye' (number expected, got string)"},
  },
  lattice = {
    {"sparse.lattice(big)", "sparse.lattice: too many elements"},
    {"sparse.lattice({0})", "sparse.lattice: side 1 is 0 (must be >= 1)"},
    {"sparse.lattice({3}, {periodc = true})", 'sparse.lattice: unknown option "periodc" (did you mean \'periodic\'?)'},
    {"sparse.lattice({3}, {neighbors = 'far'})", 'sparse.lattice: neighbors must be "nearest" or "next-nearest", got "far"'},
  },
  from_dense = {
    {"sparse.from_dense(v)", "sparse.from_dense: expected a 2-d tensor, got 1 dimensions"},
    {"sparse.from_dense('x')", "bad argument #1 to 'from_dense' (tensor expected, got string)"},
  },
  _follow = {
    {"sparse._follow('x')", "bad argument #1 to '_follow' (table expected, got string)"},
  },
  eigsh = smethod("eigsh", {
    {"sparse.eigsh(S, 0)", "sparse.eigsh: k = 0 out of range 1..3"},
    {"sparse.eigsh(S, 1, {ncv = -5})", "sparse.eigsh: ncv = -5 must exceed k = 1 (or be 0: the default)"},
    {"sparse.eigsh(S, 1, {nvc = 5})", 'sparse.eigsh: unknown option "nvc" (did you mean \'ncv\'?)'},
    {"sparse.eigsh(S, 1, {tol = NaN})", "and maxiter (1000) must be positive"},
    {"sparse.eigsh(S, 1, {which = 'middle'})", 'sparse.eigsh: which must be "smallest" or "largest", got "middle"'},
    {"sparse.eigsh(sparse.csr({1}, {1}, {NaN}, {2, 2}), 1)", "sparse.eigsh: the matrix holds NaN"},
  }),
  solve = smethod("solve", {
    {"sparse.solve(S, T.ones(4))", "sparse.solve: b has shape {4}; A (3 x 3) needs {3} or {3, k}"},
    {"sparse.solve(S, 'x')", "bad argument #2 to 'solve' (tensor expected, got string)"},
    {"sparse.solve(S, v, {metod = 'cg'})", 'sparse.solve: unknown option "metod" (did you mean \'method\'?)'},
    {"sparse.solve(S, v, {precond = 'amg'})", 'sparse.solve: precond must be "none", "jacobi" or "ilu0", got "amg"'},
    {"sparse.solve(S, v, {tol = -1})", "sparse.solve: tol = -1 and maxiter"},
  }),
  H = smethod("H"), conj = smethod("conj"), t = smethod("t"), nnz = smethod("nnz"),
  share = smethod("share"), source = smethod("source"), free = smethod("free"),
  to_dense = smethod("to_dense"), triplets = smethod("triplets"),
  astype = smethod("astype", {{"S:astype('i64')", "sparse.astype: sparse matrices are f64 or c128, not i64"}}),
  diagonal = smethod("diagonal", {{"S:diagonal({out = T.zeros(2)})", "sparse.diagonal: out has shape {2}, result has {3}"},
                                  {"S:diagonal({bogus = 1})", 'sparse.diagonal: unknown option "bogus"'}}),
  matmul = smethod("matmul", {{"S:matmul(T.ones(4))", "matmul: matrix (3, 3) and x of shape {4} do not align (3 != 4)"},
                              {"S:matmul(v, {bogus = 1})", 'matmul: unknown option "bogus"'}}),
  scale = smethod("scale", {{"S:scale('x')", "sparse: * scales by a number, a complex number"}}),
  with_values = smethod("with_values", {{"S:with_values({1, 2})", "sparse.with_values: the matrix has 3 stored entries but vals has 2"},
                                        {"S:with_values(v, {dtyp = 'c128'})", 'sparse.with_values: unknown option "dtyp"'}}),
}

local GRAPH = {
  lattice = {
    {"graph.lattice('x')", "graph.lattice: expected {dims = {L1, L2, ...}}"},
    {"graph.lattice{dims = {1 << 31, 1 << 31}}", "graph.lattice: dims {2147483648, 2147483648} make more than 2^56 sites"},
    {"graph.lattice{dims = {0}}", "graph.lattice: dims[1] must be an integer >= 1, got 0"},
    {"graph.lattice{dims = {3}, bogus = 1}", 'graph.lattice: unknown option "bogus"'},
  },
  random_regular = {
    {"graph.random_regular(5, 3)", "graph.random_regular: no simple 3-regular graph on 5 vertices (need d < n and n*d even)"},
    {"graph.random_regular(-1, 2)", "graph.random_regular: n must be an integer in 1..2147483647, got -1"},
  },
  small_world = {
    {"graph.small_world(10, 3, 0.1)", "graph.small_world: k must be even and < n, got k = 3, n = 10"},
    {"graph.small_world(10, 2, 2)", "graph.small_world: p must be a probability in [0, 1], got 2"},
  },
  from_edges = {
    {"graph.from_edges(3, {{1, 4}})", "graph.from_edges: edge 1 has vertex 4 outside 1..3"},
    {"graph.from_edges('x', {})", "graph.from_edges: n must be an integer >= 0, got \"x\""},
  },
  hypergraph = {
    {"graph.hypergraph('x')", "graph.hypergraph: expected a list of hyperedges (lists of vertices)"},
    {"graph.hypergraph({{1, 'x'}})", "graph.hypergraph: hyperedge 1 has vertex \"x\" outside 1..1"},
  },
}

-- linalg and fft have no out=: a stray options table is refused, not ignored
for _, n in ipairs{"cholesky", "cond", "det", "eig", "eigh", "eigvals", "eigvalsh",
                   "expm", "inv", "qr", "slogdet", "sqrtm_psd", "svdvals"} do
  table.insert(LINALG[n], {"linalg." .. n .. "(a, {out = a})",
                           "linalg." .. n .. ": takes 1 argument, got 2 (argument #2 is table)"})
end
table.insert(LINALG.solve, {"linalg.solve(a, a, {out = a})", "linalg.solve: takes 2 arguments, got 3 (argument #3 is table)"})
for _, n in ipairs{"fft", "ifft", "rfft", "fftn", "ifftn", "fftshift", "ifftshift"} do
  table.insert(FFT[n], {"fft." .. n .. "(a, -1, {out = a})",
                        "fft." .. n .. ": takes 2 arguments, got 3 (argument #3 is table)"})
end
table.insert(FFT.irfft, {"fft.irfft(z, 2, -1, {})", "fft.irfft: takes 3 arguments, got 4 (argument #4 is table)"})
table.insert(FFT.fftfreq, {"fft.fftfreq(4, 1, {})", "fft.fftfreq: takes 2 arguments, got 3 (argument #3 is table)"})

-- --- the walk -------------------------------------------------------------

local env = setmetatable({}, {__index = function(_, k)
  if F[k] ~= nil then return F[k] end
  return _G[k]
end})

local function snapshot()
  local s = {}
  for _, k in ipairs(tensors) do s[k] = F[k]:tobytes() end
  s.S = select(3, F.S:triplets()):tobytes()
  return s
end

local function run(modname, name, list, missing)
  if not list then
    missing[#missing + 1] = modname .. "." .. name
    return
  end
  check.test(modname .. "." .. name, function()
    for _, c in ipairs(list) do
      local f = assert(load("return " .. c[1], "=" .. c[1], "t", env))
      local before = snapshot()
      local ok, err = pcall(f)
      err = tostring(err)
      check.truthy(not ok, c[1] .. " raised no error")
      check.truthy(err:find(c[2], 1, true), string.format("%s raised %q, which lacks %q", c[1], err, c[2]))
      local short = name:gsub("^_", ""):gsub("_$", "")
      check.truthy(err:find(short, 1, true) or err:find("freed tensor", 1, true),
                   string.format("%s raised %q, which does not name %s", c[1], err, name))
      local after = snapshot()
      for k, bytes in pairs(before) do
        check.truthy(after[k] == bytes, c[1] .. " changed fixture " .. k)
      end
    end
  end)
end

local function functions(t)
  local r = {}
  for k, v in pairs(t) do if type(v) == "function" then r[#r + 1] = k end end
  table.sort(r)
  return r
end

collectgarbage()
local in_use = hebb.alloc_stats().bytes_in_use
local missing = {}
local methods = getmetatable(F.a).__methods
for _, n in ipairs(functions(T)) do run("tensor", n, TENSOR[n], missing) end
for _, n in ipairs(functions(methods)) do
  if methods[n] ~= T[n] then run("method", n, METHODS[n], missing) end
end
for _, n in ipairs(functions(linalg)) do run("linalg", n, LINALG[n], missing) end
for _, n in ipairs(functions(fft)) do run("fft", n, FFT[n], missing) end
for _, n in ipairs(functions(sparse)) do run("sparse", n, SPARSE[n], missing) end
for _, n in ipairs(functions(graph)) do run("graph", n, GRAPH[n], missing) end
check.ok("every_function_has_an_entry", #missing == 0,
         "no catalogue entry for " .. table.concat(missing, ", "))

-- errors leak nothing: what the calls allocated is back once collected
check.test("no_leak", function()
  collectgarbage(); collectgarbage()
  check.eq(hebb.alloc_stats().bytes_in_use, in_use, "tensor bytes in use")
end)

check.done()
