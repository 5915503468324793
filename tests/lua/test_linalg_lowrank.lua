-- test_linalg_lowrank.lua -- linalg.svd(A, {rank = k}) without the full
-- SVD (natives/core/linalg_lowrank.c): the subspace iteration against
-- gesdd on matrices with known spectra (tall, wide, batches, f32), the
-- fallback on a flat spectrum, the fixed-power randomized method judged by
-- its discarded weight, one sign rule for both paths, gradients, thread
-- counts and bad input.
local check = require "check"
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local A = require "hebb.autograd"
local hebb = require "hebb"
local test, eq, near, raises = check.test, check.eq, check.near, check.raises

-- an m x n matrix (batch shape b) with singular values e^{-rate i}
local function decaying(m, n, rate, dtype, b)
  local k = math.min(m, n)
  local shape = b and { b } or {}
  local function stack(f)
    if not b then return f() end
    local t = {}
    for i = 1, b do t[i] = f() end
    return T.stack(t)
  end
  local Q1 = stack(function() return (L.qr(T.randn(m, k))) end)
  local Q2 = stack(function() return (L.qr(T.randn(n, k))) end)
  local s = T.exp(T.arange(0, k - 1) * -rate)
  local M = (Q1 * s):matmul(Q2:transpose(-1, -2))
  return dtype and M:astype(dtype) or M, shape
end

local function maxabs(t) return t:abs():max():item() end

-- the results of the auto method against gesdd's: the singular values to
-- 1e-13 of s_1 (the residual test is 1e-12 s_1, and singular values
-- converge quadratically in it), the discarded weight to 1e-12 relative,
-- the same signs (one rule for both paths), orthonormal factors
local function agree(M, k, tol)
  local U, S, Vh, d = L.svd(M, { rank = k })
  local U2, S2, Vh2, d2 = L.svd(M, { rank = k, method = "gesdd" })
  local s1 = maxabs(S2)
  -- not bit-equal: the answer came from the subspace iteration
  check.truthy(not T.equal(U, U2), "took the subspace iteration")
  near(maxabs(S - S2) / s1, 0, tol, "singular values")
  near(maxabs(U - U2), 0, 1e-6, "left vectors, same signs")
  near(maxabs(Vh - Vh2), 0, 1e-6, "right vectors, same signs")
  near(maxabs(d - d2) / maxabs(d2), 0, 1e-10, "discarded weight")
  local I = T.eye(k, { dtype = U.dtype })
  near(maxabs(U:transpose(-1, -2):matmul(U) - I), 0, 100 * tol, "U^T U = I")
  near(maxabs(Vh:matmul(Vh:transpose(-1, -2)) - I), 0, 100 * tol, "Vh Vh^T = I")
  local R = M - (U * S:unsqueeze(-2)):matmul(Vh)
  near(maxabs(R:square():sum({ -2, -1 }) - d) / maxabs(d), 0, 1e-10,
    "discarded = |A - U S Vh|^2")
end

test("matches_gesdd_tall_wide_square", function()
  T.manual_seed(1)
  agree(decaying(200, 120, 0.3), 10, 1e-13)
  agree(decaying(90, 300, 0.2), 12, 1e-13)
  agree(decaying(256, 256, 0.1), 24, 1e-13)
end)

test("matches_gesdd_batch_and_f32", function()
  T.manual_seed(2)
  agree(decaying(80, 70, 0.3, nil, 3), 6, 1e-13)
  -- f32: tolerance 1e-5 s_1 (the default for f32) on the residual
  local M = decaying(120, 100, 0.4, "f32")
  local _, S = L.svd(M, { rank = 8 })
  local _, S2 = L.svd(M, { rank = 8, method = "gesdd" })
  eq(S.dtype, "f32", "f32 stays f32")
  near(maxabs(S - S2), 0, 1e-5, "f32 singular values")
end)

-- a random Gaussian matrix has a flat spectrum past k: the iteration does
-- not reach 1e-12 within its budget and gesdd answers (same bits)
test("flat_spectrum_falls_back_to_gesdd", function()
  T.manual_seed(3)
  local M = T.randn(160, 160)
  local U, S, Vh, d = L.svd(M, { rank = 8 })
  local U2, S2, Vh2, d2 = L.svd(M, { rank = 8, method = "gesdd" })
  eq(T.equal(S, S2), true, "S")
  eq(T.equal(U, U2), true, "U")
  eq(T.equal(Vh, Vh2), true, "Vh")
  eq(d:item(), d2:item(), "discarded")
end)

-- method "randomized": a fixed number of power iterations, approximate;
-- its discarded weight is measured (|A - U S Vh|^2), never below the
-- optimum, and approaches it as power grows
test("randomized_power_iterations", function()
  T.manual_seed(4)
  local M = T.randn(300, 300)
  local _, _, _, best = L.svd(M, { rank = 10, method = "gesdd" })
  local last = math.huge
  for _, q in ipairs { 0, 1, 3 } do
    local U, S, Vh, d = L.svd(M, { rank = 10, method = "randomized", power = q })
    local R = M - (U * S):matmul(Vh)
    near(d:item(), R:square():sum():item(), 1e-9 * d:item(), "measured")
    check.truthy(d:item() >= best:item() * (1 - 1e-12), "not below optimum")
    check.truthy(d:item() < last, "more power, less discarded")
    last = d:item()
  end
  near(last / best:item(), 1, 0.01, "power 3 within 1% of optimum")
end)

test("rank_at_or_above_min_keeps_everything", function()
  T.manual_seed(5)
  local M = T.randn(20, 30)
  local U, S, Vh, d = L.svd(M, { rank = 50 })
  eq(S.shape[1], 20, "all 20")
  near(d:item(), 0, 0, "nothing discarded")
  near(maxabs((U * S):matmul(Vh) - M), 0, 1e-12, "reconstructs")
end)

test("same_bits_at_1_and_2_threads", function()
  T.manual_seed(6)
  local M = decaying(150, 140, 0.25, nil, 4)
  local old = hebb.threads()
  hebb.threads(1)
  local U1, S1, V1, d1 = L.svd(M, { rank = 9 })
  hebb.threads(2)
  local U2, S2, V2, d2 = L.svd(M, { rank = 9 })
  hebb.threads(old)
  eq(T.equal(U1, U2) and T.equal(S1, S2) and T.equal(V1, V2) and
     T.equal(d1, d2), true, "bits")
end)

-- gradients through the truncated svd (the backward pads with the full
-- svd but keeps the forward's own triplets): finite differences agree
test("gradcheck_through_the_truncated_svd", function()
  T.manual_seed(7)
  local M = decaying(60, 50, 0.3)
  local W = T.randn(60, 4)
  eq(A.gradcheck(function(X)
    local U, S = L.svd(X, { rank = 4 })
    return ((U * S:sqrt()) * W):sum() + S:sum()
  end, { M }), true, "gradcheck")
end)

test("bad_options", function()
  local M = T.randn(40, 40)
  raises(function() L.svd(M, { rank = 0 }) end,
    "linalg.svd: rank must be at least 1, got 0")
  raises(function() L.svd(M, { rank = 4, tol = -1 }) end,
    "linalg.svd: option 'tol' must be a number >= 0")
  raises(function() L.svd(M, { rank = 4, method = "lanczos" }) end,
    "linalg.svd: option 'method' must be \"auto\", \"randomized\" or " ..
    "\"gesdd\", got lanczos")
  raises(function() L.svd(M, { rank = 4, power = 2 }) end,
    "linalg.svd: option 'power' needs method=\"randomized\"")
  raises(function() L.svd(M, { rank = 4, method = "randomized", power = -1 }) end,
    "linalg.svd: power must be in 0..1000, got -1")
  raises(function() L.svd(T.complex(M, M), { rank = 4, method = "randomized" }) end,
    "linalg.svd: method 'randomized' takes real matrices, got c128")
  raises(function() L.svd(M:clone():fill_(0 / 0), { rank = 4 }) end,
    "linalg.svd")
end)

check.done()
