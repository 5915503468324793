-- test_fft.lua -- hebb.fft (natives/core/fft.c over FFTW3, natives/lua/
-- l_fft.c): exact transforms, numpy reference values, identities (round
-- trips, Parseval), frequencies and shifts, any dim, strided and batched
-- inputs, dtypes, identical bits at 1 and 2 threads, and the errors.
local check = require "check"
local T = require "hebb.tensor"
local fft = require "hebb.fft"
local hebb = require "hebb"
local test, eq, near, same, raises, truthy =
  check.test, check.eq, check.near, check.same, check.raises, check.truthy

-- a full reduction as a Lua number (real ones already are)
local function num(v)
  return type(v) == "number" and v or v:item()
end

-- largest |a - b| (complex or real)
local maxdiff = check.maxdiff

local function crandn(...)
  T.manual_seed(7)
  return T.randn({...}, {dtype = "c128"})
end

test("known_values", function()
  -- numpy.fft.fft([1, 2, 3, 4, 5])
  local X = fft.fft(T.tensor{1, 2, 3, 4, 5})
  eq(X.dtype, "c128")
  local want = {{15, 0}, {-2.5, 3.4409548011779334}, {-2.5, 0.8122992405822659},
                {-2.5, -0.8122992405822659}, {-2.5, -3.4409548011779334}}
  same(X, want, 1e-13)
  -- numpy.fft.irfft([1, 2+1j, 3-1j]) and with n = 5
  local H = T.complex(T.tensor{1, 2, 3}, T.tensor{0, 1, -1})
  same(fft.irfft(H), {2, -1, 0, 0}, 1e-15)
  same(fft.irfft(H, 5), {2.2, -0.6689153033510511, -0.6919299096850717,
                         0.5391435051850296, -0.37829829214890687}, 1e-15)
  same(fft.irfft(H, 2), {1.5, -0.5}, 1e-15)   -- truncated to 2 entries
end)

test("round_trip", function()
  local x = crandn(3, 17, 4)
  for _, d in ipairs{1, 2, 3, -1} do
    truthy(maxdiff(fft.ifft(fft.fft(x, d), d), x) < 1e-12, "dim " .. d)
  end
  -- ifft is normalized by 1/n: the inverse of a constant is a delta
  same(fft.ifft(T.ones(4)), {{1, 0}, {0, 0}, {0, 0}, {0, 0}}, 1e-15)
end)

test("parseval", function()
  local x = crandn(1000)
  local X = fft.fft(x)
  local ex = num((x:abs() ^ 2):sum())
  local eX = num((X:abs() ^ 2):sum()) / 1000
  near(eX, ex, 1e-10 * ex)
end)

test("delta_and_cosine", function()
  local d = T.zeros(8); d[1] = 1
  same(fft.fft(d), {{1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}})
  -- cos(2 pi k j / n) = two spikes of height n/2 at the frequencies +-k/n
  local n, k = 16, 3
  local x = T.cos(T.arange(0, n - 1) * (2 * math.pi * k / n))
  local X, f = fft.fft(x), fft.fftfreq(n)
  for i = 1, n do
    local re, im = X:get(i)
    local fi = f:get(i)
    local want = (fi == k / n or fi == -k / n) and n / 2 or 0
    near(re, want, 1e-13, "re " .. i); near(im, 0, 1e-13, "im " .. i)
  end
  local re4, re14 = X:get(4), X:get(14)   -- 1-based: k + 1 and n - k + 1
  near(re4, 8, 1e-13); near(re14, 8, 1e-13)
end)

test("plane_wave_dispersion", function()
  -- e^{i k x} on N = 64 lattice sites, k = 2 pi m / N: all weight at the
  -- entry whose fftfreq is m / N
  local N = 64
  local x = T.arange(0, N - 1)
  local f = fft.fftfreq(N)
  for _, m in ipairs{5, -7, 0, -32} do   -- -32: the Nyquist entry
    local ph = x * (2 * math.pi * m / N)
    local X = fft.fft(T.complex(T.cos(ph), T.sin(ph)))
    local a = X:abs()
    local i = num(a:argmax())
    near(f:get(i), m / N, 0, "peak frequency for m = " .. m)
    near(a:get(i), N, 1e-11)
    truthy(num(a:sum()) - a:get(i) < 1e-10, "no leakage")
  end
end)

test("rfft_is_half_of_fft", function()
  T.manual_seed(3)
  for _, n in ipairs{8, 9, 1} do
    local x = T.randn(2, n)
    local R, F = fft.rfft(x), fft.fft(x)
    same(R.shape, {2, n // 2 + 1})
    truthy(maxdiff(R, F:narrow(2, 1, n // 2 + 1)) < 1e-13, "n = " .. n)
    -- along the first dim too
    local R1 = fft.rfft(x:t(), 1)
    truthy(maxdiff(R1, R:t()) < 1e-13)
  end
end)

test("irfft_round_trip", function()
  T.manual_seed(4)
  for _, n in ipairs{8, 9, 2, 1} do
    local x = T.randn(3, n)
    local back = fft.irfft(fft.rfft(x), n)
    eq(back.dtype, "f64")
    same(back.shape, {3, n})
    truthy(maxdiff(back, x) < 1e-12, "n = " .. n)
    local y = x:t():contiguous()
    truthy(maxdiff(fft.irfft(fft.rfft(y, 1), n, 1), y) < 1e-12)
  end
  -- default n = 2 (m - 1) for even lengths
  local x = T.randn(10)
  truthy(maxdiff(fft.irfft(fft.rfft(x)), x) < 1e-12)
  -- the input spectrum is left alone (c2r transforms overwrite theirs)
  local H = fft.rfft(x)
  local copy = H:clone()
  fft.irfft(H)
  eq(maxdiff(H, copy), 0)
end)

test("fftn", function()
  local x = crandn(4, 6, 5)
  local seq = fft.fft(fft.fft(fft.fft(x, 1), 2), 3)
  truthy(maxdiff(fft.fftn(x), seq) < 1e-12)
  truthy(maxdiff(fft.fftn(x, {1, 3}), fft.fft(fft.fft(x, 1), 3)) < 1e-12)
  truthy(maxdiff(fft.fftn(x, -1), fft.fft(x)) == 0)
  truthy(maxdiff(fft.ifftn(fft.fftn(x)), x) < 1e-12)
  -- a 2-d delta at the origin transforms to ones
  local d = T.zeros(3, 4); d[{1, 1}] = 1
  truthy(maxdiff(fft.fftn(d), T.complex(T.ones(3, 4), T.zeros(3, 4))) < 1e-15)
end)

test("fftfreq", function()
  same(fft.fftfreq(5), {0, 0.2, 0.4, -0.4, -0.2})
  same(fft.fftfreq(6), {0, 1 / 6, 2 / 6, -0.5, -2 / 6, -1 / 6})
  same(fft.fftfreq(4, 0.25), {0, 1, -2, -1})
  same(fft.rfftfreq(5), {0, 0.2, 0.4})
  same(fft.rfftfreq(6, 0.5), {0, 1 / 3, 2 / 3, 1})
  same(fft.fftfreq(1), {0})
  eq(fft.fftfreq(3).dtype, "f64")
end)

test("fftshift", function()
  -- numpy: fftshift(arange(5)) = [3 4 0 1 2], ifftshift = [2 3 4 0 1];
  -- for n = 6 both are [3 4 5 0 1 2]
  same(fft.fftshift(T.arange(0, 4)), {3, 4, 0, 1, 2})
  same(fft.ifftshift(T.arange(0, 4)), {2, 3, 4, 0, 1})
  same(fft.fftshift(T.arange(0, 5)), {3, 4, 5, 0, 1, 2})
  same(fft.ifftshift(T.arange(0, 5)), {3, 4, 5, 0, 1, 2})
  same(fft.fftshift(fft.fftfreq(5)), {-0.4, -0.2, 0, 0.2, 0.4})
  local x = T.arange(1, 30):reshape(5, 6)
  same(fft.ifftshift(fft.fftshift(x)), x)
  same(fft.fftshift(fft.ifftshift(x)), x)
  same(fft.fftshift(x, 2), fft.fftshift(x, {2}))
  same(fft.fftshift(x, {1}):select(2, 1), {19, 25, 1, 7, 13})
  same(fft.fftshift(x, 2):select(1, 1), {4, 5, 6, 1, 2, 3})
  -- a copy, of any dtype, also for 0-d and length-1 inputs
  local s = fft.fftshift(T.tensor(2.5))
  eq(s:item(), 2.5)
  eq(T.shares_storage(fft.fftshift(T.ones(1)), T.ones(1)), false)
  eq(fft.fftshift(crandn(4)).dtype, "c128")
end)

test("strided_and_batched", function()
  local x = crandn(6, 8)
  -- a transposed (non-contiguous) input equals its contiguous copy
  local xt = x:t()
  truthy(not xt:is_contiguous())
  truthy(maxdiff(fft.fft(xt, 1), fft.fft(xt:contiguous(), 1)) < 1e-14)
  truthy(maxdiff(fft.fft(xt), fft.fft(xt:contiguous())) < 1e-14)
  -- a batch along dim 2 of {3, 8, 4} equals the 1-d transforms
  local b = crandn(3, 8, 4)
  local B = fft.fft(b, 2)
  same(B.shape, {3, 8, 4})
  for i = 1, 3 do
    for j = 1, 4 do
      local v = b:select(1, i):select(2, j):contiguous()
      truthy(maxdiff(B:select(1, i):select(2, j), fft.fft(v)) < 1e-14)
    end
  end
  -- a narrowed view with an offset
  local v = x:narrow(2, 3, 5)
  truthy(maxdiff(fft.fft(v), fft.fft(v:contiguous())) < 1e-14)
  -- an empty batch
  same(fft.fft(T.zeros(0, 8)).shape, {0, 8})
  same(fft.rfft(T.zeros(2, 0, 8)).shape, {2, 0, 5})
end)

test("dtypes", function()
  T.manual_seed(5)
  local x = T.randn(4, 33)
  local X = fft.fft(x)
  eq(X.dtype, "c128")
  same(X:real(), fft.fft(T.complex(x, T.zeros(4, 33))):real(), 0)
  eq(fft.fft(T.arange(1, 4)).dtype, "c128")   -- i64
  same(fft.fft(T.arange(1, 4)), fft.fft(T.tensor{1.0, 2, 3, 4}), 0)
  -- single precision goes through libfftw3f
  local xf = x:astype("f32")
  local Xf = fft.fft(xf)
  eq(Xf.dtype, "c64")
  truthy(maxdiff(Xf:astype("c128"), X) < 1e-4)
  truthy(maxdiff(fft.ifft(Xf):real(), xf) < 1e-5)
  eq(fft.rfft(xf).dtype, "c64")
  local back = fft.irfft(fft.rfft(xf), 33)
  eq(back.dtype, "f32")
  truthy(maxdiff(back, xf) < 1e-5)
end)

test("threads_identical", function()
  local x = crandn(64, 4096)
  local r = T.randn(64, 4096)
  local old = hebb.threads()
  hebb.threads(1)
  local a1, b1, c1 = fft.fft(x), fft.rfft(r), fft.fft(x, 1)
  hebb.threads(2)
  local a2, b2, c2 = fft.fft(x), fft.rfft(r), fft.fft(x, 1)
  hebb.threads(old)
  truthy(T.equal(a1, a2), "fft along the rows")
  truthy(T.equal(b1, b2), "rfft")
  truthy(T.equal(c1, c2), "fft along the columns")
end)

test("errors", function()
  local x = T.ones(3, 4)
  raises(function() fft.fft(x, 3) end, "dimension 3 out of range")
  raises(function() fft.fft(T.tensor(1.0)) end, "fft: dimension")
  raises(function() fft.fft(T.zeros(3, 0)) end, "fft: dimension 2 has length 0")
  raises(function() fft.rfft(crandn(4)) end, "rfft: input is complex (c128)")
  raises(function() fft.irfft(T.ones(1)) end, "irfft: n = 0 output points")
  raises(function() fft.irfft(T.ones(4), 0) end, "irfft: n = 0 output points")
  raises(function() fft.irfft(T.ones(4), -3) end, "n must be >= 1")
  raises(function() fft.fftn(x, {1, 1}) end, "fftn: dimension 1 appears twice")
  raises(function() fft.fftn(x, {3}) end, "dimension 3 out of range")
  raises(function() fft.fftn(T.tensor(1.0)) end, "fftn: a 0-dimensional tensor")
  raises(function() fft.fftshift(x, {2, 2}) end, "fftshift: dimension 2 appears twice")
  raises(function() fft.fftfreq(0) end, "fftfreq: n = 0")
  raises(function() fft.rfftfreq(4, 0) end, "rfftfreq: sample spacing d = 0")
  raises(function() fft.fft("x") end, "tensor")
end)

check.done()
