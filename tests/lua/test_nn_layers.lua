-- test_nn_layers.lua -- hebb.nn layers (stdlib/hebb/_nn_layers.lua): values
-- against the formulas written out independently, initialisation, errors,
-- and gradients by finite differences (autograd.gradcheck, f64).
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local autograd = require "hebb.autograd"
local test, eq, same, raises, near = check.test, check.eq, check.same, check.raises, check.near
local no_grad = autograd.no_grad

-- gradcheck of m(inputs...) with respect to the inputs and every parameter
-- (each parameter is swapped for the checker's copy through its owner)
local function gradcheck_module(m, inputs, opts)
  local named, owners = m:named_parameters(), {}
  for i, e in ipairs(named) do
    local parts = {}
    for s in e[1]:gmatch("[^.]+") do parts[#parts + 1] = tonumber(s) or s end
    local owner = m
    for k = 1, #parts - 1 do owner = rawget(owner, parts[k]) end
    owners[i] = { owner, parts[#parts] }
  end
  local xs, ni = {}, #inputs
  for i, x in ipairs(inputs) do xs[i] = x end
  for _, e in ipairs(named) do xs[#xs + 1] = e[2]:detach():clone() end
  local function f(...)
    local args = { ... }
    for i, o in ipairs(owners) do rawset(o[1], o[2], args[ni + i]) end
    return m(table.unpack(args, 1, ni))
  end
  local ok, err = pcall(autograd.gradcheck, f, xs, opts)
  for i, o in ipairs(owners) do rawset(o[1], o[2], named[i][2]) end
  if not ok then error(err, 2) end
  return #xs
end

local maxabs = check.maxabs

test("linear_values_and_init", function()
  T.manual_seed(7)
  local m = nn.Linear(5, 3)
  T.manual_seed(7)
  local m2 = nn.Linear(5, 3)
  same(m.weight:detach(), m2.weight:detach())           -- seeded
  check.truthy(maxabs(m.weight) <= 1 / math.sqrt(5), "weight within 1/sqrt(in)")
  check.truthy(maxabs(m.bias) <= 1 / math.sqrt(5), "bias within 1/sqrt(in)")
  check.truthy(maxabs(m.weight) > 0.5 / math.sqrt(5), "not all tiny")
  local x = T.randn(4, 5)
  local y = no_grad(m, x)
  local want = check.mm(x, m.weight:detach():t())
  local b = m.bias:detach():totable()
  for i = 1, 4 do for j = 1, 3 do want[i][j] = want[i][j] + b[j] end end
  same(y, want, 1e-14)
  same(no_grad(m, x[1]), want[1], 1e-14)                 -- a single vector
  local m3 = nn.Linear(2, 2, { bias = false, dtype = "f32" })
  eq(m3.bias, nil); eq(m3.weight.dtype, "f32"); eq(#m3:parameters(), 1)
  eq(m3(T.ones(1, 2, { dtype = "f32" })).dtype, "f32")
  eq(gradcheck_module(m, { T.randn(3, 5) }), 3)
end)

test("second_derivatives_through_layers", function()
  -- the Laplacian in x of sum tanh(W x + b): sum_ij tanh''(z_i) W_ij^2,
  -- tanh'' = -2 tanh (1 - tanh^2): gradients of gradients through Linear
  T.manual_seed(8)
  local m = nn.Linear(3, 4)
  local x = T.randn(3)
  local lap = autograd.laplacian(function(v) return T.tanh(m(v)):sum() end, x)
  local W, b = m.weight:detach(), m.bias:detach()
  local want = 0
  for i = 1, 4 do
    local z = b[i]
    for j = 1, 3 do z = z + W:get(i, j) * x[j] end
    local t = math.tanh(z)
    for j = 1, 3 do want = want - 2 * t * (1 - t * t) * W:get(i, j) ^ 2 end
  end
  near(type(lap) == "number" and lap or lap:item(), want, 1e-13)
end)

test("linear_errors", function()
  raises(function() nn.Linear(0, 3) end, "nn.Linear: in_features must be an integer >= 1, got 0")
  raises(function() nn.Linear(2, 1.5) end, "out_features must be an integer >= 1, got 1.5")
  raises(function() nn.Linear(2, 2, { dtype = "i64" }) end, "dtype must be \"f64\" or \"f32\", got \"i64\"")
  raises(function() nn.Linear(3, 2)(T.zeros(4, 2)) end,
         "nn.Linear: the input's last dimension must be 3, got shape {4,2}")
  raises(function() nn.Linear(3, 2)({ 1, 2, 3 }) end, "expected a tensor input, got a table")
end)

test("bilinear", function()
  T.manual_seed(3)
  local m = nn.Bilinear(2, 3, 4)
  local x1, x2 = T.randn(5, 2), T.randn(5, 3)
  local y = no_grad(m, x1, x2)
  local W, b = m.weight:detach(), m.bias:detach()
  for n = 1, 5 do
    for k = 1, 4 do
      local s = b[k]
      for i = 1, 2 do for j = 1, 3 do s = s + x1:get(n, i) * W:get(k, i, j) * x2:get(n, j) end end
      near(y:get(n, k), s, 1e-14, "y[" .. n .. "][" .. k .. "]")
    end
  end
  same(no_grad(m, x1[2], x2[2]), y[2], 1e-14)
  gradcheck_module(m, { T.randn(2, 2), T.randn(2, 3) })
  raises(function() m(T.randn(5, 2), T.randn(4, 3)) end, "batch shapes differ: {5,2} and {4,3}")
end)

test("activations", function()
  local xs = { -3.5, -1, -0.25, 0, 0.3, 2, 40 }
  local x = T.tensor(xs)
  local function sp(v) return math.max(v, 0) + math.log(1 + math.exp(-math.abs(v))) end
  local function gelu(v) return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ^ 3))) end
  local cases = {
    { nn.Tanh, nn.tanh, math.tanh }, { nn.ReLU, nn.relu, function(v) return math.max(v, 0) end },
    { nn.Sigmoid, nn.sigmoid, function(v) return 1 / (1 + math.exp(-v)) end },
    { nn.Softplus, nn.softplus, sp }, { nn.GELU, nn.gelu, gelu }, { nn.Sin, nn.sin, math.sin },
    { nn.Identity, nn.identity, function(v) return v end },
  }
  for _, c in ipairs(cases) do
    local y1, y2 = c[1]()(x), c[2](x)
    for i, v in ipairs(xs) do
      near(y1[i], c[3](v), 1e-15 * math.max(1, math.abs(v)), c[1].__name .. "(" .. v .. ")")
      eq(y2[i], y1[i], "function form of " .. c[1].__name)
    end
  end
  -- gradients (away from relu's kink)
  local xg = T.tensor { -1.3, -0.4, 0.2, 0.9, 2.1 }
  for _, c in ipairs(cases) do
    autograd.gradcheck(c[2], { xg })
  end
  eq(nn.activation("gelu"), nn.gelu)
  raises(function() nn.activation("swish") end, "unknown activation \"swish\" (known: gelu, identity")
end)

test("softmax", function()
  local x = T.tensor { { 1000, 1001, 999 }, { -5, 0, 5 } }
  local p = nn.softmax(x, 2)
  same(p:sum(2), { 1, 1 }, 1e-15)
  local e = { math.exp(-1), 1, math.exp(-2) }
  local z = e[1] + e[2] + e[3]
  same(p[1], { e[1] / z, e[2] / z, e[3] / z }, 1e-15)
  same(nn.log_softmax(x)[1], { math.log(e[1] / z), math.log(e[2] / z), math.log(e[3] / z) }, 1e-13)
  autograd.gradcheck(function(v) return nn.log_softmax(v, 2) end, { T.randn(3, 4) })
  autograd.gradcheck(function(v) return nn.Softmax(1)(v) end, { T.randn(3, 4) })
  same(nn.Flatten()(T.zeros(2, 3, 4)).shape, { 2, 12 })
end)

test("layernorm", function()
  local x = T.randn(4, 6) * 3 + 2
  local y = nn.LayerNorm(6, { eps = 0 })(x)
  y = y:detach()
  same(y:mean(2), T.zeros(4), 1e-14)
  same(y:var(2, { correction = 0 }), T.ones(4), 1e-13)
  -- default eps, by hand, and the affine parameters
  local m = nn.LayerNorm(6)
  no_grad(function() m.weight:fill_(2); m.bias:fill_(1) end)
  local r = no_grad(m, x)
  for i = 1, 4 do
    local row = x[i]:totable()
    local mu, v = 0, 0
    for _, a in ipairs(row) do mu = mu + a / 6 end
    for _, a in ipairs(row) do v = v + (a - mu) ^ 2 / 6 end
    for j = 1, 6 do near(r:get(i, j), 2 * (row[j] - mu) / math.sqrt(v + 1e-5) + 1, 1e-13) end
  end
  -- over the last two dimensions
  local y2 = nn.LayerNorm({ 2, 3 }, { eps = 0, affine = false })(x:view(4, 2, 3))
  same(y2:view(4, 6), y, 1e-14)
  eq(#nn.LayerNorm(3, { affine = false }):parameters(), 0)
  gradcheck_module(nn.LayerNorm(5), { T.randn(3, 5) })
  raises(function() nn.LayerNorm(5)(T.randn(3, 4)) end,
         "the input's trailing dimensions must be {5}, got shape {3,4}")
  raises(function() nn.LayerNorm("x") end, "expected the normalized shape")
end)

test("dropout", function()
  local d = nn.Dropout(0.25)
  local x = T.ones(40000)
  local y = d(x)
  local zeros = y:eq(0):sum()
  -- binomial: the fraction of zeros is 0.25 within 5 standard deviations
  near(zeros / 40000, 0.25, 5 * math.sqrt(0.25 * 0.75 / 40000), "fraction dropped")
  same(y:masked_select(y:ne(0)):eq(1 / 0.75):all(), true)   -- kept values scaled exactly
  d:eval()
  eq(d(x), x)                                                -- the identity
  d:train()
  same(nn.Dropout(1)(T.ones(3)), { 0, 0, 0 })
  -- the gradient is the mask scaled by 1/(1-p)
  local xg = T.ones(100):requires_grad_()
  local yg = nn.Dropout(0.5)(xg)
  yg:sum():backward()
  same(xg.grad, yg:detach())
  raises(function() nn.Dropout(1.5) end, "p must be a probability in [0, 1], got 1.5")
end)

test("rnncell", function()
  T.manual_seed(4)
  local c = nn.RNNCell(3, 4)
  local x, h = T.randn(2, 3), T.randn(2, 4)
  local want = no_grad(function()
    return T.tanh(x:matmul(c.weight_ih:t()) + c.bias_ih + h:matmul(c.weight_hh:t()) + c.bias_hh)
  end)
  same(no_grad(c, x, h), want, 0)
  local h0 = no_grad(c, x)
  same(h0, no_grad(c, x, T.zeros(2, 4)), 1e-15)
  eq(#c:parameters(), 4)
  gradcheck_module(c, { T.randn(2, 3), T.randn(2, 4) })
  local r = nn.RNNCell(2, 2, { nonlinearity = "relu", bias = false })
  eq(#r:parameters(), 2)
  same(no_grad(r, T.ones(1, 2)):lt(0):any(), false)
end)

test("neuron_network_dynamics", function()
  T.manual_seed(5)
  local n = 6
  local net = nn.NeuronNetwork(n)
  local x0 = T.randn(n)
  net:reset_state(x0)
  local x = net:step(3)
  -- the same iteration by hand
  local W, b = net.weight:detach(), net.bias:detach()
  local v = x0:totable()
  for _ = 1, 3 do
    local nv = {}
    for i = 1, n do
      local s = b[i]
      for j = 1, n do s = s + W:get(i, j) * v[j] end
      nv[i] = math.tanh(s)
    end
    v = nv
  end
  same(x:detach(), v, 1e-14)
  same(net.state, v, 1e-14)                       -- the buffer holds the new state
  eq(net.state.requires_grad, false)
  -- the state is a buffer: in the state_dict, not in the parameters
  check.truthy(net:state_dict().state ~= nil, "state saved")
  eq(#net:parameters(), 2)
  net:reset_state()
  same(net.state, T.zeros(n))
end)

test("neuron_network_inputs_outputs", function()
  T.manual_seed(6)
  local net = nn.NeuronNetwork(5, { input = { 1, 2 }, output = { 5 }, steps = 2, activation = "sin" })
  local u = T.tensor { 0.5, -0.7 }
  local y = no_grad(net, u)
  eq(y.shape[1], 1)
  local W, b = net.weight:detach(), net.bias:detach()
  local v = { 0, 0, 0, 0, 0 }
  for _ = 1, 2 do
    v[1], v[2] = 0.5, -0.7
    local nv = {}
    for i = 1, 5 do
      local s = b[i]
      for j = 1, 5 do s = s + W:get(i, j) * v[j] end
      nv[i] = math.sin(s)
    end
    v = nv
  end
  near(y[1], v[5], 1e-14)
  -- a batch of inputs runs one copy of the state per row
  net:reset_state()
  local yb = no_grad(net, T.stack { u, u * 2, u }, 2)
  same(yb.shape, { 3, 1 })
  near(yb:get(1, 1), v[5], 1e-14)
  eq(yb:get(3, 1), yb:get(1, 1))
  same(net.state.shape, { 3, 5 })
  -- gradients through the steps, with respect to W (constrained), b and u
  local c = nn.NeuronNetwork(4, { input = { 2 }, output = { 1, 4 }, steps = 3,
                                  constraint = "antisymmetric" })
  local Wc = c.weight:detach()
  check.truthy(T.equal(Wc, -Wc:t()), "antisymmetric W")
  -- (a wrapper restarts the state, which every call advances)
  local Fresh = nn.Module:extend("Fresh")
  function Fresh:__init(net) self.net = net end
  function Fresh:forward(v) self.net:reset_state(); return self.net(v) end
  gradcheck_module(Fresh(c), { T.randn(2, 1) })
  check.truthy(tostring(c):find("NeuronNetwork(n=4, activation=tanh, steps=3, inputs=1, outputs=2, "
                                .. "constraint=antisymmetric", 1, true), tostring(c))
end)

test("neuron_network_errors", function()
  raises(function() nn.NeuronNetwork(4, { input = { 1, 5 } }) end,
         "input[2] = 5 is not a neuron number in 1..4")
  raises(function() nn.NeuronNetwork(4, { output = { 2, 2 } }) end, "output lists neuron 2 twice")
  raises(function() nn.NeuronNetwork(4, { input = {} }) end, "input must be a non-empty list")
  raises(function() nn.NeuronNetwork(4):step(1, T.zeros(1)) end, "the network has no input neurons")
  raises(function() nn.NeuronNetwork(4, { input = { 1 } }):step(1, T.zeros(2)) end,
         "the input's last dimension must be 1, got shape {2}")
  raises(function() nn.NeuronNetwork(4):step(-1) end, "k must be an integer >= 0, got -1")
  local net = nn.NeuronNetwork(3, { input = { 1 } })
  net:step(1, T.zeros(2, 1))
  raises(function() net:step(1, T.zeros(5, 1)) end, "the state holds a batch of 2, the input 5")
  raises(function() nn.NeuronNetwork(4, { constraint = "spooky" }) end,
         "unknown parametrization \"spooky\"")
end)

check.done()
