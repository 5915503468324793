-- test_autograd_fft.lua -- backward rules of hebb.fft: gradcheck with real
-- and complex (c128) inputs, the Hermitian weights of rfft/irfft, length
-- changes of irfft, shifts, Parseval, and second derivatives.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local F = require "hebb.fft"
local test, eq, near = check.test, check.eq, check.near

T.manual_seed(12)
local rn = T.randn
local function cr(...) return T.complex(rn(...), rn(...)) end
local function gc(f, xs) eq(A.gradcheck(f, xs), true) end
-- a real view of a complex result, mixing both parts
local function re(f)
  return function(...) local y = f(...); return T.real(y) * 0.3 + T.imag(y) * 0.7 end
end

test("fft_ifft_real_input", function()
  gc(re(F.fft), { rn(5) })
  gc(re(function(x) return F.fft(x, 1) end), { rn(4, 3) })
  gc(re(function(x) return F.ifft(x, -2) end), { rn(4, 3) })
end)

test("fft_ifft_complex_input", function()
  gc(F.fft, { cr(5) })
  gc(function(x) return F.ifft(x, 1) end, { cr(4, 2) })
end)

test("fftn_ifftn", function()
  gc(re(F.fftn), { rn(4, 3) })
  gc(re(function(x) return F.fftn(x, { 2 }) end), { rn(4, 3) })
  gc(F.fftn, { cr(3, 2) })
  gc(function(x) return F.ifftn(x, 1) end, { cr(3, 2) })
end)

test("rfft_irfft", function()
  gc(re(F.rfft), { rn(6) })                           -- even: Nyquist bin
  gc(re(function(x) return F.rfft(x, 1) end), { rn(5, 2) })   -- odd
  gc(F.irfft, { cr(4) })                              -- n = 6
  gc(function(z) return F.irfft(z, 7) end, { cr(4) }) -- odd n
  gc(function(z) return F.irfft(z, 4, 1) end, { cr(5, 2) })  -- X cut
  gc(function(z) return F.irfft(z, 9, 1) end, { cr(3, 2) })  -- X padded
  gc(function(x) return F.irfft(x, 6) end, { rn(4) })         -- real X
end)

test("irfft_ignores_imag_of_zero_and_nyquist", function()
  -- the imaginary parts of X[1] and (even n) X[n/2+1] do not enter irfft,
  -- so their gradient is exactly 0; the others get weight 2/n
  local X = cr(4):requires_grad_()
  local gx = rn(6)
  F.irfft(X):backward(gx)
  local g = X.grad
  eq(T.imag(g)[1], 0)
  eq(T.imag(g)[4], 0)
  local want = F.rfft(gx)[2] * (2 / 6)
  near((g[2] - want):abs():item(), 0, 1e-15)
end)

test("shifts", function()
  gc(F.fftshift, { rn(5, 3) })
  gc(function(x) return F.ifftshift(x, 1) end, { rn(5, 3) })
  gc(F.fftshift, { cr(5) })
end)

test("parseval_gradient", function()
  -- sum |fft x|^2 = n sum x^2, so its gradient is 2 n x
  local x = rn(8)
  local g = A.grad(function(v) return (F.fft(v):abs() ^ 2):sum() end, x)
  near((g - x * 16):abs():max(), 0, 1e-12)
end)

test("second_derivatives", function()
  eq(A.gradgradcheck(F.fft, { cr(4) }), true)
  eq(A.gradgradcheck(function(x) return F.fft(x):abs() end, { cr(4) }), true)
  eq(A.gradgradcheck(function(x) return T.real(F.rfft(x)) end, { rn(5) }), true)
  eq(A.gradgradcheck(function(x, y) return F.irfft(T.complex(x, y)) end,
                     { rn(3), rn(3) }), true)
end)

check.done()
