-- statmech.lua -- hebb's side of the statistical-mechanics rows of `make
-- bench`, paired rep by rep with the plain C references of
-- bench/statmech_ref.c loaded into this process (same load for both).
-- usage: build/hebb bench/statmech.lua REPS    (LUA_CPATH finds the module)
-- Prints "key value" lines (seconds, best of REPS after a warm-up):
--   sm.metro.<t>t.hebb / .c   one checkerboard Metropolis sweep of a 256^2
--                             Ising lattice at beta_c, t threads
--   sm.wolff.hebb / .c        seconds per flipped spin, Wolff at T_c, 256^2
--   sm.binning.hebb / .c      binning analysis of 1e7 samples (AR(1), tau 10)
--   sm.tau.hebb / .c          tau_int with Sokal's window of the same series
local T = require "hebb.tensor"
local hebb = require "hebb"
local lattice = require "hebb.lattice"
local stats = require "hebb.stats"
local sr = require "statmech_ref"

local REPS = tonumber(arg[1]) or 20
local L, beta = 256, lattice.exact.Kc
local function out(k, v) print(k, v) io.stdout:flush() end
local clock = hebb.clock

-- best of REPS paired passes: f_hebb() and f_c() each return seconds
local function paired(fh, fc, reps)
  fh(); fc()
  local bh, bc = math.huge, math.huge
  for _ = 1, reps do
    bh = math.min(bh, fh())
    bc = math.min(bc, fc())
  end
  return bh, bc
end

-- --- Metropolis ------------------------------------------------------------------
local lat = lattice.ising{ L = L }
local g = T.Generator(1)
local s = lat:random({ generator = g })
sr.setup(L, beta, 1)
local old = hebb.threads()
for _, t in ipairs({ 1, 2 }) do
  hebb.threads(t)
  local h, c = paired(function()
    local t0 = clock()
    lat:metropolis(s, beta, { generator = g })
    return clock() - t0
  end, function() return sr.metropolis(t) end, REPS * 5)
  out("sm.metro." .. t .. "t.hebb", h)
  out("sm.metro." .. t .. "t.c", c)
end
hebb.threads(old)

-- --- Wolff at T_c: time per flipped spin --------------------------------------------
local ncl = 100
hebb.threads(1)
local h, c = paired(function()
  local t0 = clock()
  local size = lat:wolff(s, beta, { clusters = ncl, generator = g })
  return (clock() - t0) / (size * ncl)
end, function()
  local sec, flipped = sr.wolff(ncl)
  return sec / flipped
end, REPS)
hebb.threads(old)
out("sm.wolff.hebb", h)
out("sm.wolff.c", c)

-- --- binning and tau_int of 1e7 samples -------------------------------------------------
local n = 10000000
local x = stats.ar1(n, 10, { generator = T.Generator(2) })
sr.use(x:tobytes())
local C = require "hebb._stats"
local hb, cb = paired(function()
  local t0 = clock()
  C.binning(x, 32)
  return clock() - t0
end, function() return (sr.binning(32)) end, math.max(REPS // 4, 3))
out("sm.binning.hebb", hb)
out("sm.binning.c", cb)
local ht, ct = paired(function()
  local t0 = clock()
  C.autocorr(x, 6)
  return clock() - t0
end, function() return (sr.autocorr(6)) end, math.max(REPS // 4, 3))
out("sm.tau.hebb", ht)
out("sm.tau.c", ct)
-- both sides computed the same window
local r = C.autocorr(x, 6)
local _, tau_c, W_c = sr.autocorr(6)
out("sm.tau.window", r.window .. "/" .. W_c)
out("sm.c.flags", sr.flags)
