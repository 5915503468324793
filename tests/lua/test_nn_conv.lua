-- test_nn_conv.lua -- hebb.nn convolutions (stdlib/hebb/_nn_conv.lua): the
-- gather + matmul result against a direct nested-loop sum for every padding
-- mode, stride and dilation, the periodic 5-point stencil against the
-- lattice Laplacian of hebb.graph, gradients by finite differences, errors.
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local graph = require "hebb.graph"
local autograd = require "hebb.autograd"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises
local no_grad = autograd.no_grad

-- the convolution by its definition, for 1-d and 2-d (sizes as tables)
local function reference(x, W, b, mode, stride, dil)
  local N, C, O = x.shape[1], x.shape[2], W.shape[1]
  local d = x.ndim - 2
  local S, K = {}, {}
  for i = 1, d do S[i], K[i] = x.shape[i + 2], W.shape[i + 2] end
  local outs, pad = {}, {}
  for i = 1, d do
    local span = dil[i] * (K[i] - 1)
    if mode == "none" then pad[i] = 0; outs[i] = (S[i] - span - 1) // stride[i] + 1
    else pad[i] = span // 2; outs[i] = (S[i] - 1) // stride[i] + 1 end
  end
  local y = T.zeros(N, O, table.unpack(outs))
  local function read(n, c, pos)   -- nil outside for zero padding
    local at = {}
    for i = 1, d do
      local q = pos[i]
      if q < 0 or q >= S[i] then
        if mode ~= "periodic" then return 0 end
        q = q % S[i]
      end
      at[i] = q + 1
    end
    return x:get(n, c, table.unpack(at))
  end
  for n = 1, N do for o = 1, O do
    local p2max = d == 2 and outs[2] or 1
    for p1 = 0, outs[1] - 1 do for p2 = 0, p2max - 1 do
      local s = b and b[o] or 0
      for c = 1, C do
        local k2max = d == 2 and K[2] or 1
        for k1 = 0, K[1] - 1 do for k2 = 0, k2max - 1 do
          local pos = { p1 * stride[1] + k1 * dil[1] - pad[1] }
          local w
          if d == 2 then
            pos[2] = p2 * stride[2] + k2 * dil[2] - pad[2]
            w = W:get(o, c, k1 + 1, k2 + 1)
          else
            w = W:get(o, c, k1 + 1)
          end
          s = s + w * read(n, c, pos)
        end end
      end
      if d == 2 then y:set(n, o, p1 + 1, p2 + 1, s) else y:set(n, o, p1 + 1, s) end
    end end
  end end
  return y
end

local function compare(m, x)
  local y = no_grad(m, x)
  local want = reference(x, m.weight:detach(), m.bias and m.bias:detach(), m.padding,
                         m.stride, m.dilation)
  same(y.shape, want.shape)
  local err = (y - want):abs():max()
  check.truthy(err <= 1e-14, "max error " .. err)
end

test("conv1d_against_loops", function()
  T.manual_seed(11)
  local x = T.randn(2, 3, 7)
  for _, mode in ipairs { "periodic", "zeros", "none" } do
    compare(nn.Conv1d(3, 2, 3, { padding = mode }), x)
    compare(nn.Conv1d(3, 2, 4, { padding = mode }), x)                 -- even kernel
    compare(nn.Conv1d(3, 2, 3, { padding = mode, stride = 2 }), x)
    compare(nn.Conv1d(3, 2, 2, { padding = mode, dilation = 3, bias = false }), x)
  end
  same(nn.Conv1d(3, 2, 3)(x).shape, { 2, 2, 7 })
  same(nn.Conv1d(3, 2, 3, { padding = "none" })(x).shape, { 2, 2, 5 })
  same(nn.Conv1d(3, 2, 3, { stride = 2 })(x).shape, { 2, 2, 4 })
  -- a kernel wider than the chain wraps around more than once
  compare(nn.Conv1d(3, 1, 9), x)
end)

test("conv2d_against_loops", function()
  T.manual_seed(12)
  local x = T.randn(2, 2, 5, 4)
  for _, mode in ipairs { "periodic", "zeros", "none" } do
    compare(nn.Conv2d(2, 3, 3, { padding = mode }), x)
    compare(nn.Conv2d(2, 3, { 2, 3 }, { padding = mode, stride = { 2, 1 } }), x)
    compare(nn.Conv2d(2, 1, 2, { padding = mode, dilation = { 1, 2 } }), x)
  end
  -- an unbatched input (C, H, W)
  local m = nn.Conv2d(2, 3, 3)
  same(no_grad(m, x[2]), no_grad(m, x)[2], 0)
  eq(tostring(nn.Conv2d(2, 3, 3, { stride = 2, bias = false })),
     "Conv2d(2, 3, kernel_size={3,3}, padding=periodic, stride={2,2}, bias=false)")
end)

test("conv3d_periodic_shift", function()
  -- a kernel with a single 1 shifts the field around the torus
  local m = nn.Conv3d(1, 1, 3, { bias = false })
  no_grad(function() m.weight:fill_(0); m.weight:set(1, 1, 3, 2, 2, 1) end)
  local x = T.randn(1, 1, 3, 4, 5)
  local y = no_grad(m, x)
  for i = 1, 3 do
    same(y[1][1][i], x[1][1][i % 3 + 1], 0)      -- y(i) = x(i + 1), wrapped
  end
end)

test("periodic_stencil_is_lattice_laplacian", function()
  local L1, L2 = 6, 5
  local m = nn.Conv2d(1, 1, 3, { bias = false })
  no_grad(function()
    m.weight:copy_(T.tensor { { { { 0, 1, 0 }, { 1, -4, 1 }, { 0, 1, 0 } } } })
  end)
  local phi = T.randn(L1, L2)
  local y = no_grad(m, phi:view(1, 1, L1, L2)):view(L1 * L2)
  local Lap = graph.lattice { dims = { L1, L2 } }:laplacian()
  local want = -Lap:matmul(phi:reshape(L1 * L2))
  check.truthy((y - want):abs():max() <= 1e-14, "stencil = -Laplacian")
end)

test("conv_functions", function()
  local x, w, b = T.randn(1, 2, 6), T.randn(3, 2, 3), T.randn(3)
  local m = nn.Conv1d(2, 3, 3, { padding = "zeros" })
  no_grad(function() m.weight:copy_(w); m.bias:copy_(b) end)
  same(nn.conv1d(x, w, b, { padding = "zeros" }), no_grad(m, x), 0)
  same(nn.conv2d(T.ones(1, 1, 3, 3), T.ones(1, 1, 3, 3)), T.full({ 1, 1, 3, 3 }, 9.0))
end)

test("conv_gradients", function()
  local function gc(m, x)
    local W0, b0 = m.weight, m.bias
    autograd.gradcheck(function(xx, w, b)
      rawset(m, "weight", w); rawset(m, "bias", b)
      return m(xx)
    end, { x, W0:detach():clone(), b0:detach():clone() })
    rawset(m, "weight", W0); rawset(m, "bias", b0)
  end
  gc(nn.Conv1d(2, 2, 3), T.randn(2, 2, 5))
  gc(nn.Conv1d(2, 1, 2, { padding = "zeros", stride = 2 }), T.randn(1, 2, 5))
  gc(nn.Conv2d(1, 2, 3), T.randn(1, 1, 4, 3))
  gc(nn.Conv2d(2, 1, 2, { padding = "none" }), T.randn(2, 2, 3, 3))
  gc(nn.Conv3d(1, 1, 2, { padding = "zeros" }), T.randn(1, 1, 2, 3, 2))
  -- a training step reaches the parameters
  local m = nn.Conv2d(1, 1, 3)
  m(T.randn(1, 1, 4, 4)):sum():backward()
  same(m.weight.grad.shape, { 1, 1, 3, 3 })
end)

test("conv_errors", function()
  raises(function() nn.Conv2d(2, 3, 3, { padding = "reflect" }) end,
         "padding must be \"periodic\", \"zeros\" or \"none\", got \"reflect\"")
  raises(function() nn.Conv2d(2, 3, { 3 }) end, "kernel_size must be an integer or a table of 2 integers")
  raises(function() nn.Conv2d(0, 3, 3) end, "in_channels must be an integer >= 1, got 0")
  raises(function() nn.Conv2d(2, 3, 3)(T.zeros(1, 3, 4, 4)) end,
         "the input has 3 channels, the weight expects 2")
  raises(function() nn.Conv2d(2, 3, 3)(T.zeros(4, 4)) end,
         "the input must have shape (N, C, 2 spatial) or (C, 2 spatial), got {4,4}")
  raises(function() nn.Conv1d(1, 1, 5, { padding = "none" })(T.zeros(1, 1, 3)) end,
         "input size 3 along spatial dimension 1 is smaller than the kernel's span 5")
  raises(function() nn.Conv1d(1, 1, 2, { stride = 0 }) end, "stride must be integers >= 1, got 0")
  raises(function() nn.conv1d(T.zeros(1, 1, 3), T.zeros(1, 1)) end, "the weight must be a tensor of shape")
end)

check.done()
