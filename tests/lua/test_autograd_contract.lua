-- test_autograd_contract.lua -- backward rules of T.einsum, T.tensordot,
-- T.ncon (traces, diagonals, summed-away and batch indices, "...").
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, eq = check.test, check.eq

T.manual_seed(13)
local rn = T.randn
local function gc(f, xs) eq(A.gradcheck(f, xs), true) end
local function es(spec) return function(...) return T.einsum(spec, ...) end end

test("einsum_products", function()
  gc(es("ij,jk->ik"), { rn(2, 3), rn(3, 4) })
  gc(es("ij,jk"), { rn(2, 3), rn(3, 4) })             -- implicit output
  gc(es("bij,bjk->bik"), { rn(2, 2, 3), rn(2, 3, 2) })
  gc(es("ij,jk,kl->il"), { rn(2, 3), rn(3, 4), rn(4, 2) })
  gc(es("i,i->"), { rn(3), rn(3) })
  gc(es("i,j->ij"), { rn(3), rn(2) })
end)

test("einsum_traces_diagonals_and_sums", function()
  gc(es("ii->"), { rn(3, 3) })
  gc(es("ii->i"), { rn(3, 3) })
  gc(es("iij,jk->k"), { rn(3, 3, 2), rn(2, 2) })
  gc(es("ij->"), { rn(3, 2) })                       -- all summed away
  gc(es("ij,k->ik"), { rn(3, 2), rn(4) })            -- j only in operand 1
  -- d tr(A)/dA = I exactly
  local g = A.grad(es("ii->"), rn(4, 4))
  eq((g - T.eye(4)):abs():max(), 0)
end)

test("einsum_ellipsis", function()
  gc(es("...ij,...jk->...ik"), { rn(2, 2, 3), rn(2, 3, 2) })
  gc(es("...ij,jk"), { rn(2, 2, 3), rn(3, 2) })
end)

test("einsum_second_derivatives", function()
  eq(A.gradgradcheck(es("ij,jk->ik"), { rn(2, 3), rn(3, 2) }), true)
  eq(A.gradgradcheck(es("iij,jk->k"), { rn(2, 2, 3), rn(3, 2) }), true)
end)

test("einsum_complex", function()
  local function cr(...) return T.complex(rn(...), rn(...)) end
  gc(es("ij,jk->ik"), { cr(2, 3), rn(3, 2) })
  gc(es("ii->"), { cr(3, 3) })
end)

test("tensordot_and_ncon", function()
  gc(function(a, b) return T.tensordot(a, b, 1) end, { rn(2, 3), rn(3, 4) })
  gc(T.tensordot, { rn(2, 3, 4), rn(3, 4, 2) })
  gc(function(a, b) return T.tensordot(a, b, { { 1, 3 }, { 2, 1 } }) end,
     { rn(2, 3, 4), rn(4, 2, 5) })
  gc(function(a, b) return T.ncon({ a, b }, { { -1, 1 }, { 1, -2 } }) end,
     { rn(2, 3), rn(3, 4) })
  gc(function(a, b) return T.ncon({ a, b }, { { -2, 1, 1 }, { -1, 2, 2 } }) end,
     { rn(2, 3, 3), rn(4, 2, 2) })
  gc(function(a, b, c) return T.ncon({ a, b, c }, { { 1, 2 }, { 2, 3 }, { 3, 1 } }) end,
     { rn(2, 3), rn(3, 4), rn(4, 2) })
end)

check.done()
