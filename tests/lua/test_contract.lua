-- test_contract.lua -- einsum, tensordot and ncon (natives/core/contract.c,
-- natives/lua/l_contract.c).  Random cases are checked against plain Lua
-- loops over nested tables; f64 results agree to 1e-12 (sums of at most a
-- few hundred products of O(1) numbers, rounding ~1e-15 each).
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near

local TOL = 1e-12
T.manual_seed(4)

-- r[i][k] = sum_j a[i][j] b[j][k] on nested tables
local mm = check.mm

test("matrix_product", function()
  local a, b = T.randn(3, 4), T.randn(4, 5)
  local want = mm(a:totable(), b:totable())
  same(T.einsum("ij,jk->ik", a, b), want, TOL)
  same(T.einsum("ij,jk", a, b), want, TOL)          -- implicit output: ik
  same(T.einsum(" ij , jk -> ik ", a, b), want, TOL)  -- spaces are ignored
  -- implicit output is alphabetical: "ba" -> "ab" is the transpose
  same(T.einsum("ba", a), a:transpose(1, 2):totable(), 0)
  -- the product transposed through the output order
  same(T.einsum("ij,jk->ki", a, b), T.matmul(a, b):transpose(1, 2):totable(), TOL)
end)

test("trace_diagonal_sum_transpose_outer", function()
  local m = T.randn(4, 4)
  local M = m:totable()
  local tr = 0
  for i = 1, 4 do tr = tr + M[i][i] end
  near(T.einsum("ii->", m):item(), tr, TOL, "trace")
  eq(T.einsum("ii", m).ndim, 0, "implicit trace is 0-d")
  same(T.einsum("ii->i", m), {M[1][1], M[2][2], M[3][3], M[4][4]}, 0)
  local a = T.randn(3, 5)
  local A, s = a:totable(), 0
  for i = 1, 3 do for j = 1, 5 do s = s + A[i][j] end end
  near(T.einsum("ij->", a):item(), s, TOL, "sum")
  same(T.einsum("ij->j", a), a:sum(1):totable(), TOL)
  local t = T.einsum("ij->ji", a)
  same(t, a:transpose(1, 2):totable(), 0)
  t[1][1] = 99                                      -- a copy, not a view
  check.truthy(a[1][1] ~= 99, "einsum result does not alias its input")
  local x, y = T.randn(3), T.randn(4)
  local X, Y, o = x:totable(), y:totable(), {}
  for i = 1, 3 do o[i] = {} for j = 1, 4 do o[i][j] = X[i] * Y[j] end end
  same(T.einsum("i,j->ij", x, y), o, 0)
  near(T.einsum("i,i->", x, x):item(), T.dot(x, x):item(), TOL, "dot")
  -- a repeated index together with a second operand: sum_i m[i][i] v[i]
  local v = T.randn(4)
  local V, d = v:totable(), 0
  for i = 1, 4 do d = d + M[i][i] * V[i] end
  near(T.einsum("ii,i->", m, v):item(), d, TOL, "diagonal times vector")
end)

test("batch", function()
  local a, b = T.randn(2, 3, 4), T.randn(2, 4, 5)
  local A, B, want = a:totable(), b:totable(), {}
  for n = 1, 2 do want[n] = mm(A[n], B[n]) end
  same(T.einsum("bij,bjk->bik", a, b), want, TOL)
  -- batch index kept last in the output
  local r = T.einsum("bij,bjk->ikb", a, b)
  same(r, T.matmul(a, b):permute(2, 3, 1):totable(), TOL)
  -- a batch index shared by three operands
  local c = T.randn(2, 5)
  local C, w = c:totable(), {}
  for n = 1, 2 do
    w[n] = {}
    for i = 1, 3 do
      local s = 0
      for k = 1, 5 do s = s + want[n][i][k] * C[n][k] end
      w[n][i] = s
    end
  end
  same(T.einsum("bij,bjk,bk->bi", a, b, c), w, TOL)
end)

test("ellipsis", function()
  local a, b = T.randn(2, 3, 4), T.randn(2, 4, 5)
  local want = T.matmul(a, b):totable()
  same(T.einsum("...ij,...jk->...ik", a, b), want, TOL)
  same(T.einsum("...ij,...jk", a, b), want, TOL)       -- implicit: ... first
  same(T.einsum("i...->...i", a), a:permute(2, 3, 1):totable(), 0)
  same(T.einsum("...ii->...i", T.eye(3):unsqueeze(1)), {{1, 1, 1}}, 0)
  -- "..." left out of the output: its dimensions are summed
  same(T.einsum("...ij->ij", a), a:sum(1):totable(), TOL)
  near(T.einsum("...->", a):item(), a:sum(), TOL, "full sum")
  -- "..." may cover no dimension at all
  same(T.einsum("...ij,...jk->...ik", a[1], b[1]), want[1], TOL)
  raises(function() T.einsum("...ij,...jk->...ik", a, T.randn(3, 4, 5)) end,
         "einsum: dimension 1 from the end of '...' has size 2 in operand 1 "
         .. "but 3 in operand 2")
  raises(function() T.einsum("ij.,jk->ik", a, b) end,
         "einsum: bad character '.'")
end)

test("many_operands", function()
  local a, b, c, d = T.randn(2, 3), T.randn(3, 6), T.randn(6, 4), T.randn(4, 2)
  local want = mm(mm(mm(a:totable(), b:totable()), c:totable()), d:totable())
  same(T.einsum("ij,jk,kl,lm->im", a, b, c, d), want, TOL)
  -- the closed chain: a trace of the product
  local tr = want[1][1] + want[2][2]
  near(T.einsum("ij,jk,kl,li->", a, b, c, d):item(), tr, TOL, "ring")
end)

test("dtypes", function()
  local a = T.randint(-5, 5, 3, 4)
  local b = T.randint(-5, 5, 4, 2)
  local r = T.einsum("ij,jk->ik", a, b)
  eq(r.dtype, "i64", "i64 in, i64 out")
  check.truthy(r:equal(T.matmul(a, b)), "i64 exact")
  eq(T.einsum("ii->", T.randint(1, 3, 3, 3)).dtype, "i64", "i64 trace")
  local f = T.randn(3, 4):astype("f32")
  local g = T.randn(4, 2):astype("f32")
  local rf = T.einsum("ij,jk->ik", f, g)
  eq(rf.dtype, "f32", "f32 stays f32")
  check.truthy(rf:allclose(T.matmul(f, g), 1e-5, 1e-5), "f32")
  eq(T.einsum("ij,jk->ik", f, T.randn(4, 2)).dtype, "f64", "f32 with f64")
  local z = T.complex(T.randn(3, 3), T.randn(3, 3))
  local rz = T.einsum("ij,jk->ik", z, z)
  eq(rz.dtype, "c128", "complex")
  check.truthy(rz:allclose(T.matmul(z, z), 0, TOL), "complex product")
  check.truthy(T.einsum("ii->", z):allclose(z:diagonal():sum(), 0, TOL),
               "complex trace")
end)

test("strided_inputs", function()
  local big = T.randn(6, 8)
  local a = big:transpose(1, 2)[{{1, 7, 2}, {}}]     -- 4x6, strided
  local b = T.randn(5, 6):transpose(1, 2)             -- 6x5
  same(T.einsum("ij,jk->ik", a, b), mm(a:totable(), b:totable()), TOL)
  same(T.tensordot(a, b, 1), mm(a:totable(), b:totable()), TOL)
end)

test("zero_d_and_empty", function()
  local s, t = T.tensor(3.0), T.tensor(4.0)
  near(T.einsum(",->", s, t):item(), 12, 0, "scalars")
  near(T.einsum("ij,->", T.ones(2, 3), s):item(), 18, 0, "scalar times sum")
  local z = T.einsum("ij,jk->ik", T.zeros(2, 0), T.zeros(0, 3))
  same(z, {{0, 0, 0}, {0, 0, 0}}, 0)
  local e = T.einsum("ij,jk->ik", T.zeros(0, 2), T.zeros(2, 3))
  eq(e.shape[1], 0, "empty rows")
  eq(e.shape[2], 3, "columns")
end)

test("out_option", function()
  local a, b = T.randn(3, 4), T.randn(4, 2)
  local o = T.zeros(3, 2)
  local r = T.einsum("ij,jk->ik", a, b, {out = o})
  check.truthy(rawequal(r, o), "returns out")
  same(o, mm(a:totable(), b:totable()), TOL)
  raises(function() T.einsum("ij,jk->ik", a, b, {out = T.zeros(2, 2)}) end,
         "einsum: out has shape")
end)

test("tensordot", function()
  local a, b = T.randn(2, 3, 4), T.randn(3, 4, 5)
  local A, B, w = a:totable(), b:totable(), {}
  for i = 1, 2 do
    w[i] = {}
    for l = 1, 5 do
      local s = 0
      for j = 1, 3 do for k = 1, 4 do s = s + A[i][j][k] * B[j][k][l] end end
      w[i][l] = s
    end
  end
  same(T.tensordot(a, b), w, TOL)                     -- default: 2
  same(T.tensordot(a, b, 2), w, TOL)
  same(T.tensordot(a, b, {{2, 3}, {1, 2}}), w, TOL)
  same(T.tensordot(a, b, {{-1, 2}, {2, 1}}), w, TOL)
  -- dims paired in another order: a's 3 with b's 1 needs sizes 4 and 3
  local c = T.randn(4, 3, 2)
  same(T.tensordot(a, c, {{2, 3}, {2, 1}}),
       T.einsum("ijk,kjl->il", a, c):totable(), TOL)
  -- n = 0 is the outer product
  local x, y = T.randn(2), T.randn(3)
  same(T.tensordot(x, y, 0), T.outer(x, y):totable(), 0)
end)

test("ncon_basic", function()
  local a, b = T.randn(3, 4), T.randn(4, 5)
  local want = mm(a:totable(), b:totable())
  same(T.ncon({a, b}, {{-1, 1}, {1, -2}}), want, TOL)
  -- open labels ordered -1, -2 whatever their position
  same(T.ncon({a, b}, {{-2, 1}, {1, -1}}),
       T.matmul(a, b):transpose(1, 2):totable(), TOL)
  -- a trace inside one tensor
  local m = T.randn(4, 4)
  near(T.ncon({m}, {{1, 1}}):item(), T.einsum("ii->", m):item(), TOL, "trace")
  -- a chain with a free end in the middle
  local c = T.randn(5, 2)
  same(T.ncon({a, b, c}, {{-1, 1}, {1, 2}, {2, -2}}),
       mm(want, c:totable()), TOL)
end)

-- A 2x2 plaquette of rank-4 tensors (as in TRG): eight bonds, each shared
-- by two tensors, contracted to a number; checked against the 3^8-term
-- brute-force sum.
test("ncon_trg_network", function()
  local d = 3
  local A, B, C, D = T.randn(d, d, d, d), T.randn(d, d, d, d),
                     T.randn(d, d, d, d), T.randn(d, d, d, d)
  local labels = {{1, 2, 3, 4}, {3, 5, 1, 6}, {7, 4, 8, 2}, {8, 6, 7, 5}}
  local a, b, c, e = A:totable(), B:totable(), C:totable(), D:totable()
  local s = 0
  for i1 = 1, d do for i2 = 1, d do for i3 = 1, d do for i4 = 1, d do
    for i5 = 1, d do for i6 = 1, d do for i7 = 1, d do for i8 = 1, d do
      s = s + a[i1][i2][i3][i4] * b[i3][i5][i1][i6] * c[i7][i4][i8][i2]
            * e[i8][i6][i7][i5]
    end end end end
  end end end end
  local r = T.ncon({A, B, C, D}, labels)
  eq(r.ndim, 0, "a scalar")
  near(r:item(), s, 1e-10, "network value")
  local g = T.ncon({A, B, C, D}, labels, {order = "greedy"})
  near(g:item(), r:item(), 1e-10, "greedy order")
  near(T.einsum("abcd,ceaf,gdhb,hfge->", A, B, C, D):item(), s, 1e-10, "einsum")
end)

test("greedy_equals_ascending", function()
  local a, b, c = T.randn(2, 7), T.randn(7, 3, 4), T.randn(4, 2)
  local l = {{-1, 1}, {1, -2, 2}, {2, -3}}
  local r1 = T.ncon({a, b, c}, l)
  local r2 = T.ncon({a, b, c}, l, {order = "greedy"})
  check.truthy(r1:allclose(r2, 0, 1e-12), "same contraction")
  same(r1, T.einsum("ij,jkl,lm->ikm", a, b, c):totable(), TOL)
end)

test("errors", function()
  local a, b = T.randn(3, 4), T.randn(3, 5)
  raises(function() T.einsum("ij,jk->ik", a) end,
         "einsum: the subscripts name 2 operands but 1 were given")
  raises(function() T.einsum("ij,jk->ik", a, b) end,
         "einsum: index 'j' has size 4 in operand 1 but 3 in operand 2")
  raises(function() T.einsum("i1,jk->ik", a, b) end,
         "einsum: bad character '1' in the subscripts")
  raises(function() T.einsum("ij->i#", a) end,
         "einsum: bad character '#' in the output subscripts")
  raises(function() T.einsum("ijk->i", a) end,
         "einsum: operand 1 has 2 dimensions but its subscripts 'ijk' name 3")
  raises(function() T.einsum("ij->iz", a) end,
         "einsum: output index 'z' appears in no operand")
  raises(function() T.einsum("ij->ii", a) end,
         "einsum: output index 'i' appears twice")
  raises(function() T.einsum("ij", a, 3) end, "tensor")
  raises(function() T.tensordot(a, b, 1) end,
         "tensordot: dimension 2 of a has size 4 but dimension 1 of b has size 3")
  raises(function() T.tensordot(a, b, {{3}, {1}}) end,
         "tensordot: dimension 3 of a is out of range")
  raises(function() T.tensordot(a, b, {{1, 1}, {1, 1}}) end,
         "tensordot: dimension 1 of a is listed twice")
  raises(function() T.tensordot(a, b, 3) end,
         "tensordot: cannot contract 3 dimensions")
  local m = T.randn(3, 3)
  raises(function() T.ncon({m, m, m}, {{1, -1}, {1, 2}, {1, -2}}) end,
         "ncon: label 1 appears 3 times")
  raises(function() T.ncon({m, m}, {{1, -1}, {2, -2}}) end,
         "ncon: label 1 appears 1 time (a positive label is contracted")
  raises(function() T.ncon({m, m}, {{1, -1}, {1, -3}}) end,
         "ncon: the 2 open labels must be -1 to -2, found -3")
  raises(function() T.ncon({m, m}, {{1, -1}, {1, -1}}) end,
         "ncon: open label -1 appears 2 times")
  raises(function() T.ncon({m}, {{1, 0}}) end, "ncon: label 0")
  raises(function() T.ncon({m, m}, {{1}, {1, -1}}) end,
         "ncon: tensor 1 has 2 dimensions but 1 labels")
  raises(function() T.ncon({m, m}, {{1, -1}}) end,
         "ncon: 2 tensors but 1 label lists")
  raises(function() T.ncon({m}, {{-1, -2}}, {order = "best"}) end,
         "ncon: order 'best'")
  -- a failed call leaves its inputs as they were
  local copy = a:clone()
  pcall(T.einsum, "ij,jk->ik", a, b)
  check.truthy(a:equal(copy), "input unchanged")
end)

test("threads_same_bits", function()
  local a, b, c = T.randn(40, 300, 30), T.randn(40, 30, 200), T.randn(200, 50)
  local old = hebb.threads()
  hebb.threads(1)
  local r1 = T.einsum("bij,bjk,kl->bil", a, b, c)
  local s1 = T.einsum("bij->", a)
  hebb.threads(2)
  local r2 = T.einsum("bij,bjk,kl->bil", a, b, c)
  local s2 = T.einsum("bij->", a)
  hebb.threads(old)
  check.truthy(r1:equal(r2), "batched contraction")
  check.truthy(s1:equal(s2), "full sum")
end)

check.done()
