-- hebb._nn_conv: the convolutions of hebb.nn, in 1, 2 and 3 dimensions,
-- with periodic padding for lattices, as a gather and one matrix product.
--
-- An index tensor, built once per input size, lists for every kernel offset
-- k and output site p the input site the kernel reads there (wrapped around
-- for periodic padding; for zero padding, a site outside points at one
-- extra zero column appended to the input).  Then
--   x (N, C, S) --index_select--> (N, C, K*P) --view--> (N, C*K, P)
--   y = W (out, C*K) @ that          (N, out, P)
-- K-major order makes the view free (no permute).  Autograd goes through
-- cat, index_select, view and matmul: the convolution needs no rule.
local E = require "hebb._error"
local T = require "hebb.tensor"
local B = require "hebb._nn_module"
local Ly = require "hebb._nn_layers"
local doc = require("hebb").doc

local C = {}
local fmt = string.format
local shape_str = B._shape_str

-- n integers from an integer or a table of n
local function tuple(v, n, what, lo)
  local t = {}
  if math.tointeger(v) then
    for i = 1, n do t[i] = v end
  elseif type(v) == "table" and #v == n then
    for i = 1, n do t[i] = v[i] end
  else
    E.raise("%s must be an integer or a table of %d integers, got %s", what, n,
            type(v) == "table" and string.format("a table of %d", #v) or E.show(v))
  end
  for i = 1, n do
    local x = math.tointeger(t[i])
    if not (x and x >= lo) then
      E.raise("%s must be integers >= %d, got %s", what, lo, E.show(t[i]))
    end
    t[i] = x
  end
  return t
end

local conv_keys = { padding = true, stride = true, dilation = true }

local modes = { periodic = true, zeros = true, none = true }

-- the next multi-index c (0-based, row-major) below the limits lim
local function advance(c, lim, d)
  for i = d, 1, -1 do
    c[i] = c[i] + 1
    if c[i] < lim[i] then return end
    c[i] = 0
  end
end

-- The gather index (1-based, i64) for input sizes S (table), kernel sizes k,
-- a padding mode, strides and dilations; also the output sizes and whether
-- the zero column (number prod(S) + 1) is used.  "periodic" and "zeros" pad
-- by dil*(k-1) in all (floor half before), so the output has ceil(L/stride)
-- sites; "none" keeps only the windows inside the input.
local function gather_index(S, k, mode, stride, dil, what)
  local d = #S
  local outs, before, P, K, nin = {}, {}, 1, 1, 1
  for i = 1, d do
    local span = dil[i] * (k[i] - 1)
    if mode == "none" then
      before[i] = 0
      outs[i] = (S[i] - span - 1) // stride[i] + 1
      if outs[i] < 1 then
        E.raise("%s: input size %d along spatial dimension %d is smaller than the "
                  .. "kernel's span %d (padding \"none\")", what, S[i], i, span + 1)
      end
    else
      before[i] = span // 2
      outs[i] = (S[i] - 1) // stride[i] + 1
    end
    P, K, nin = P * outs[i], K * k[i], nin * S[i]
  end
  local idx, m, zero_used = {}, 0, false
  local ko, po = {}, {}
  for i = 1, d do ko[i] = 0 end
  for _ = 1, K do                    -- kernel offsets, row-major
    for i = 1, d do po[i] = 0 end
    for _ = 1, P do                  -- output sites, row-major
      local flat, inside = 0, true
      for i = 1, d do
        local c = po[i] * stride[i] + ko[i] * dil[i] - before[i]
        if c < 0 or c >= S[i] then
          if mode == "periodic" then c = c % S[i] else inside = false end
        end
        flat = flat * S[i] + c
      end
      m = m + 1
      if inside then idx[m] = flat + 1 else idx[m] = nin + 1; zero_used = true end
      advance(po, outs, d)           -- next output site
    end
    advance(ko, k, d)                -- next kernel offset
  end
  return T.tensor(idx, "i64"), outs, zero_used, P, K, nin
end
C._gather_index = gather_index

-- the convolution of x (N, Cin, S...) or (Cin, S...) with w (out, Cin, k...)
-- and bias b (out) or nil; cache (a table) keeps the indices per input size
local function conv_nd(d, x, w, b, opts, cache, what)
  opts = E.checkopts(what, opts, conv_keys)
  local mode = opts.padding or "periodic"
  if not modes[mode] then
    E.raise("%s: padding must be \"periodic\", \"zeros\" or \"none\", got %s", what,
              E.show(mode))
  end
  if not T.is_tensor(x) then E.raise("%s: expected a tensor input, got %s", what, E.show(x)) end
  E.check(what, "bias", b, "tensor", true)
  local cin, cout = w.shape[2], w.shape[1]
  local batched = x.ndim == d + 2
  if not batched and x.ndim ~= d + 1 then
    E.raise("%s: the input must have shape (N, C, %d spatial) or (C, %d spatial), got %s",
              what, d, d, shape_str(x))
  end
  if not batched then x = x:unsqueeze(1) end
  if x.shape[2] ~= cin then
    E.raise("%s: the input has %d channels, the weight expects %d (input shape %s)",
              what, x.shape[2], cin, shape_str(x))
  end
  local S, k = {}, {}
  for i = 1, d do S[i], k[i] = x.shape[i + 2], w.shape[i + 2] end
  local stride = tuple(opts.stride or 1, d, what .. ": stride", 1)
  local dil = tuple(opts.dilation or 1, d, what .. ": dilation", 1)
  local key = table.concat(S, ",") .. "|" .. table.concat(k, ",") .. "|" .. mode .. "|"
              .. table.concat(stride, ",") .. "|" .. table.concat(dil, ",")
  local e = cache and cache[key]
  if not e then
    local idx, outs, zero_used, P, K, nin = gather_index(S, k, mode, stride, dil, what)
    e = { idx = idx, outs = outs, zero = zero_used, P = P, K = K, nin = nin }
    if cache then cache[key] = e end
  end
  local N = x.shape[1]
  local xf = x:reshape(N, cin, e.nin)
  if e.zero then xf = T.cat({ xf, T.zeros({ N, cin, 1 }, { dtype = x.dtype }) }, 3) end
  local g = xf:index_select(3, e.idx):view(N, cin * e.K, e.P)
  local y = w:reshape(cout, cin * e.K):matmul(g)       -- (N, out, P)
  if b then y = y + b:view(cout, 1) end
  local shape = { N, cout }
  for i = 1, d do shape[i + 2] = e.outs[i] end
  y = y:view(shape)
  if not batched then y = y:squeeze(1) end
  return y
end

-- one cache of indices per convolution function, bounded so a loop over
-- many sizes cannot grow it without limit
local function bounded_cache()
  local c, n = {}, 0
  return setmetatable({}, {
    __index = c,
    __newindex = function(_, k, v)
      if n >= 64 then for key in pairs(c) do c[key] = nil end; n = 0 end
      c[k] = v; n = n + 1
    end,
  })
end

local ConvNd = B.Module:extend("ConvNd")
C.ConvNd = ConvNd

local layer_keys = { padding = true, stride = true, dilation = true, bias = true, dtype = true }

function ConvNd:__init(d, cin, cout, k, opts)
  local what = "nn.Conv" .. d .. "d"
  opts = E.checkopts(what, opts, layer_keys)
  E.check(what, "bias", opts.bias, "boolean", true)
  self.what = what
  cin = Ly._check_count(cin, what .. ": in_channels")
  cout = Ly._check_count(cout, what .. ": out_channels")
  self.d, self.in_channels, self.out_channels = d, cin, cout
  self.kernel_size = tuple(k, d, what .. ": kernel_size", 1)
  self.padding = opts.padding or "periodic"
  if not modes[self.padding] then
    E.raise("%s: padding must be \"periodic\", \"zeros\" or \"none\", got %s", what,
              E.show(self.padding))
  end
  self.stride = tuple(opts.stride or 1, d, what .. ": stride", 1)
  self.dilation = tuple(opts.dilation or 1, d, what .. ": dilation", 1)
  local dtype = Ly._check_dtype(opts.dtype, what)
  local K = 1
  for i = 1, d do K = K * self.kernel_size[i] end
  local bound = 1 / math.sqrt(cin * K)
  local shape = { cout, cin }
  for i = 1, d do shape[i + 2] = self.kernel_size[i] end
  self.weight = Ly._uniform(shape, bound, dtype)
  Ly._add_bias(self, "bias", opts, cout, bound, dtype)
  self._cache = bounded_cache()
end

function ConvNd:forward(x)
  return conv_nd(self.d, x, self.weight, self.bias,
                 { padding = self.padding, stride = self.stride, dilation = self.dilation },
                 self._cache, self.what)
end

function ConvNd:extra_repr()
  local s = fmt("%d, %d, kernel_size={%s}, padding=%s", self.in_channels, self.out_channels,
                table.concat(self.kernel_size, ","), self.padding)
  local function nontrivial(t)
    for _, v in ipairs(t) do if v ~= 1 then return true end end
    return false
  end
  if nontrivial(self.stride) then s = s .. ", stride={" .. table.concat(self.stride, ",") .. "}" end
  if nontrivial(self.dilation) then
    s = s .. ", dilation={" .. table.concat(self.dilation, ",") .. "}"
  end
  if self.bias == nil then s = s .. ", bias=false" end
  return s
end

doc(ConvNd, "nn.ConvNd(d, in_channels, out_channels, kernel_size [, opts])\n\n"
  .. "The d-dimensional convolution behind nn.Conv1d/2d/3d (any d works).")

for d = 1, 3 do
  local sp = ({ "L", "H, W", "D, H, W" })[d]
  local cls = ConvNd:extend("Conv" .. d .. "d")
  function cls:__init(cin, cout, k, opts) return ConvNd.__init(self, d, cin, cout, k, opts) end
  C["Conv" .. d .. "d"] = cls
  doc(cls, fmt("nn.Conv%dd(in_channels, out_channels, kernel_size [, {padding=\"periodic\", "
    .. "stride=1, dilation=1, bias=true, dtype=}])\n\nThe %d-d convolution (cross-correlation, "
    .. "as torch's) of x (N, C, %s) or (C, %s): y[n][o][p] = b[o] + sum over c and the "
    .. "kernel offsets of W[o][c][k] x[n][c][p*stride + k*dilation - pad].  padding: "
    .. "\"periodic\" (default: the lattice wraps around) or \"zeros\" keep ceil(size/stride) "
    .. "sites with the kernel centred (pad = floor(dilation*(k-1)/2) before); \"none\" keeps "
    .. "only the windows inside.  Weight (out, in, kernel...) and bias uniform in "
    .. "+-1/sqrt(in * prod(kernel)).  Computed as one index_select and one matmul.",
    d, d, sp, sp))
  local cache = bounded_cache()
  local fname = "conv" .. d .. "d"
  C[fname] = function(x, w, b, opts)
    if not T.is_tensor(w) or w.ndim ~= d + 2 then
      E.raise("nn.%s: the weight must be a tensor of shape (out, in, %d kernel sizes), got %s",
                fname, d, E.show(w))
    end
    return conv_nd(d, x, w, b, opts, cache, "nn." .. fname)
  end
  doc(C[fname], fmt("nn.%s(x, weight [, bias] [, {padding=\"periodic\", stride=1, "
    .. "dilation=1}])\n\nThe convolution of nn.Conv%dd as a function of its weight "
    .. "(out, in, kernel...) and bias (out).", fname, d))
end

return C
