-- rg.lua -- the tensor-RG rows of `make bench` (rows 24, 25): rg.trg at
-- chi = 24 and rg.hotrg at chi = 16 (40 steps, the Ising tensor at T_c),
-- and the truncated SVD of a 2048^2 matrix to rank 32 against the full
-- SVD of the same matrix, measured in this process one after the other.
-- usage: hebb bench/rg.lua REPS   (prints "key value" lines, seconds)
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local rg = require "hebb.rg"
local clock = require("hebb").clock   -- wall seconds, monotonic

local reps = math.tointeger(tonumber(arg[1])) or 2
local Kc = 0.5 * math.log(1 + math.sqrt(2))

local function best(f)
  local b, v = math.huge, nil
  for _ = 1, reps do
    local t0 = clock()
    v = f()
    b = math.min(b, clock() - t0)
  end
  return b, v
end

local A = rg.ising_tensor(Kc)
local t, r = best(function() return rg.trg(A, { chi = 24, steps = 40 }) end)
print("rg.trg24.hebb", t)
print("rg.trg24.hebb_lnz", string.format("%.17g", r.lnz))
print("rg.hotrg16.hebb", (best(function() return rg.hotrg(A, { chi = 16, steps = 40 }) end)))

-- a matrix with a decaying spectrum, as TRG's splits have: U diag(s) V^T
-- with s_i = 1/i (random orthogonal U, V from QR)
local g = T.Generator(21)
local n = 2048
local U = L.qr(T.randn({ n, n }, { generator = g }))
local V = L.qr(T.randn({ n, n }, { generator = g }))
local s = T.arange(n):to("f64"):reciprocal()      -- 1, 1/2, ..., 1/n
local M = (U * s:unsqueeze(1)):matmul(V:t())
print("rg.svd_rank32", (best(function() return L.svd(M, { rank = 32 }) end)))
print("rg.svd_full", (best(function() return L.svd(M) end)))
