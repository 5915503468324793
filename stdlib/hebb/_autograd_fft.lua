-- hebb._autograd_fft: backward rules of hebb.fft.  The transforms are
-- linear, so each gradient is the adjoint transform of the output
-- gradient (conjugate Wirtinger convention: grad_x = F^H grad_y):
--   fft:   F^H g = n ifft(g)        ifft:  fft(g) / n
--   fftn:  N ifftn(g)               ifftn: fftn(g) / N   (N: the product
--                                          of the transformed lengths)
--   rfft:  n Re ifft(g zero-padded to n)       (a real input)
--   irfft: rfft(g) w / n, w = 1 for the zero and (even n) Nyquist
--          frequencies and 2 for the others, which stand for themselves
--          and their conjugate mirror; frequencies irfft cut get 0
--   fftshift / ifftshift: each other's inverse roll.
-- All rules are transforms again, so they can be differentiated again.
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local F = require "hebb.fft"

local R = A._ruleset()
local def = R.def

local function pos_dim(d, x)
  if d == nil then return x.ndim end
  return d < 0 and x.ndim + 1 + d or d
end
-- the lengths transformed by fftn over dims (nil: all)
local function total(x, dims)
  if type(dims) == "number" then dims = { dims } end
  local n = 1
  if dims == nil then return x:numel() end
  for _, d in ipairs(dims) do n = n * x.shape[pos_dim(d, x)] end
  return n
end
-- g cut or zero-padded along dim to n entries
local function resize(g, dim, n)
  local have = g.shape[dim]
  if have == n then return g end
  if have > n then return g:narrow(dim, 1, n) end
  local shape = g.shape
  shape[dim] = n - have
  return T.cat({ g, T.zeros(shape, { dtype = g.dtype }) }, dim)
end

def("fft.fft", function(g, a)
  local x = a[1]
  local d = pos_dim(a[2], x)
  return F.ifft(g, d) * x.shape[d]
end)
def("fft.ifft", function(g, a)
  local x = a[1]
  local d = pos_dim(a[2], x)
  return F.fft(g, d) / x.shape[d]
end)
def("fft.fftn", function(g, a)
  local x = a[1]
  return F.ifftn(g, a[2]) * total(x, a[2])
end)
def("fft.ifftn", function(g, a)
  local x = a[1]
  return F.fftn(g, a[2]) / total(x, a[2])
end)
def("fft.rfft", function(g, a)
  local x = a[1]
  local d = pos_dim(a[2], x)
  local n = x.shape[d]
  return T.real(F.ifft(resize(g, d, n), d)) * n
end)
def("fft.irfft", function(g, a)
  local X = a[1]
  local d = pos_dim(a[3], X)
  local n = a[2] or 2 * (X.shape[d] - 1)
  local h = n // 2 + 1
  local low = g.dtype == "f32" or g.dtype == "c64"
  local w = T.full({ h }, 2.0, { dtype = low and "f32" or "f64" })
  w[1] = 1
  if n % 2 == 0 then w[h] = 1 end
  local shape = {}
  for i = 1, X.ndim do shape[i] = 1 end
  shape[d] = h
  local gX = F.rfft(g, d) * (w:reshape(shape) / n)
  return resize(gX, d, X.shape[d])
end)
def("fft.fftshift", function(g, a) return F.ifftshift(g, a[2]) end)
def("fft.ifftshift", function(g, a) return F.fftshift(g, a[2]) end)

return R
