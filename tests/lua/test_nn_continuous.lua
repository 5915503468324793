-- nn.ContinuousNetwork: neurons in continuous time with trainable
-- couplings.  Antisymmetric couplings conserve |x| to the integrator's
-- accuracy; symmetric ones relax (a gradient flow); gradients through the
-- trajectories agree with finite differences; a bath thermalizes the
-- neurons at its temperature; the couplings are learned from trajectories.
-- Run: LUA_PATH="tests/lua/lib/?.lua;;" build/hebb tests/lua/test_nn_continuous.lua
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local autograd = require "hebb.autograd"
local graph = require "hebb.graph"
local linalg = require "hebb.linalg"

local function num(v) return type(v) == "number" and v or v:item() end

-- RK4 on x' = W x with W antisymmetric: |R(i w h)|^2 = 1 - (w h)^6 / 72 +
-- ..., so |x| drifts by O(h^5) over a fixed time: at dt = 0.02 and t = 10
-- by ~1e-9 (measured 4e-10), and by 2^5 less at dt/2
check.test("antisymmetric_conserves_norm", function()
  T.manual_seed(2)
  local drift = {}
  for i, dt in ipairs { 0.02, 0.01 } do
    T.manual_seed(3)
    local net = nn.ContinuousNetwork(8, { constraint = "antisymmetric", bias = false, dt = dt })
    local W = net.weight
    check.eq(num((W + W:t()):abs():max()), 0, "exactly antisymmetric")
    local x0 = T.randn(5, 8)
    local X = net:trajectory(x0, { 5, 10 })
    drift[i] = num(((X[2]:norm(2, 2) - x0:norm(2, 2)) / x0:norm(2, 2)):abs():max())
  end
  check.truthy(drift[1] < 1e-8, "drift " .. drift[1])
  check.truthy(drift[1] / drift[2] > 24, "order >= 4.6: ratio " .. drift[1] / drift[2])
end)

-- x' = W x + b with symmetric W is the gradient flow of E = -x^T W x / 2 -
-- b^T x: dE/dt = -|x'|^2, so E never rises; with W negative definite x
-- settles at -W^-1 b
check.test("symmetric_relaxes", function()
  T.manual_seed(4)
  local n = 6
  local net = nn.ContinuousNetwork(n, { constraint = "symmetric", dt = 0.02 })
  local B = T.randn(n, n) / 3
  net.weight = -(B:matmul(B:t()) + T.eye(n) * 0.5)
  local W, b = net.weight, net.bias
  local function energy(x) return num(-(x:matmul(W) * x):sum() / 2 - (x * b):sum()) end
  local times = {}
  for k = 1, 60 do times[k] = k * 0.5 end
  local X = autograd.no_grad(function() return net:trajectory(T.randn(n) * 3, times) end)
  local prev = math.huge
  for k = 1, #times do
    local e = energy(X[k])
    check.truthy(e <= prev + 1e-12, "energy rose at t = " .. times[k])
    prev = e
  end
  local fixed = -linalg.solve(W, b)
  check.truthy(T.allclose(X[#times], fixed, 0, 1e-6), "relaxed to -W^-1 b")
  -- Hopfield's network x' = tanh(W x + b) - x with symmetric W settles too
  local hop = nn.ContinuousNetwork(n, { dynamics = "tanh", constraint = "symmetric", dt = 0.05,
                                         init_scale = 2 })
  local x = autograd.no_grad(function() return hop(T.randn(4, n), 60) end)
  check.truthy(num(hop:derivative(x):abs():max()) < 1e-6, "fixed point")
end)

check.test("gradients_through_trajectories", function()
  T.manual_seed(5)
  local g = graph.lattice { dims = { 5 } }
  local net = nn.ContinuousNetwork(5, { dynamics = "tanh", dt = 0.1,
    constraint = { { "masked", mask = g }, "antisymmetric" } })
  local x0 = T.randn(3, 5)
  check.truthy(autograd.gradcheck(function(x) return net:trajectory(x, { 0.5, 1 }) end, { x0 }),
               "d/dx0")
  -- the free parameter: backward against central differences (eps 1e-6:
  -- truncation ~1e-12, rounding ~1e-10 on a loss of order 1)
  local P = net.parametrizations.weight.original
  local target = T.randn(2, 3, 5)
  local function loss() return nn.mse_loss(net:trajectory(x0, { 0.5, 1 }), target) end
  net:zero_grad()
  loss():backward()
  local G = P.grad
  local eps = 1e-6
  for _, ij in ipairs { { 1, 2 }, { 2, 1 }, { 3, 4 }, { 5, 1 }, { 2, 4 } } do
    local i, j = ij[1], ij[2]
    local old = P:get(i, j)
    local lp, lm
    autograd.no_grad(function()
      P:set(i, j, old + eps); lp = num(loss())
      P:set(i, j, old - eps); lm = num(loss())
      P:set(i, j, old)
    end)
    check.near(G:get(i, j), (lp - lm) / (2 * eps), 1e-7, "dL/dA[" .. i .. "," .. j .. "]")
  end
  -- the masked entries (not bonds of the ring) get no gradient
  check.eq(G:get(1, 3), 0, "outside the mask")
end)

-- order 2, W = -(m^2 + lattice Laplacian) on a ring: the normal mode
-- cos(k j) oscillates at w^2 = m^2 + 4 sin^2(k/2)
-- a user's f(x, W, b): the network integrates exactly what ode.solve does
-- with the same f, and the couplings get gradients through it
check.test("user_function_dynamics", function()
  local ode = require "hebb.ode"
  T.manual_seed(6)
  local f = function(x, W, b) return (x:matmul(W:t()) + b):sin() - x * 0.5 end
  local net = nn.ContinuousNetwork(4, { dynamics = f, dt = 0.05, constraint = "antisymmetric" })
  local x0 = T.randn(3, 4)
  local X = autograd.no_grad(function() return net:trajectory(x0, { 1 }) end)
  local W, b = net.weight:detach(), net.bias:detach()
  local want = ode.solve(function(_, x) return f(x, W, b) end, x0, { 0, 1 },
                         { method = "rk4", dt = 0.05 }).y_final
  check.truthy(T.allclose(X[1], want, 0, 1e-14), "same trajectory")
  net:zero_grad()
  net(x0, 1):sum():backward()
  local g = 0
  for _, p in ipairs(net:parameters()) do g = g + num(p.grad:abs():sum()) end
  check.truthy(g > 0, "gradients reach the couplings")
end)

check.test("second_order_normal_mode", function()
  local n, m = 8, 0.5
  local net = nn.ContinuousNetwork(n, { order = 2, bias = false, dt = 0.01, constraint = "symmetric" })
  local W = T.eye(n) * -(m * m + 2)
  for i = 1, n do W:set(i, i % n + 1, 1); W:set(i % n + 1, i, 1) end
  net.weight = W
  local k = 2 * math.pi * 3 / n
  local x0 = T.tensor((function() local v = {} for j = 1, n do v[j] = math.cos(k * j) end return v end)())
  local w = math.sqrt(m * m + 4 * math.sin(k / 2) ^ 2)
  local X, V = net:trajectory(x0, { 2 })
  check.truthy(T.allclose(X[1], x0 * math.cos(2 * w), 0, 1e-8), "x(t) = cos(w t) x0")
  check.truthy(T.allclose(V[1], x0 * (-w * math.sin(2 * w)), 0, 1e-8), "v(t)")
end)

-- x' = (W - gamma) x + sqrt(2 gamma T) xi with antisymmetric W: the
-- stationary covariance is T I (W T + T W^T = 0), so <x_i^2> = T.  Euler-
-- Maruyama's stationary variance is T / (1 - gamma dt / 2) (+1% at gamma
-- dt = 0.02).  2000 replicas x 4 neurons at 4 times one correlation time
-- 1/(2 gamma) apart or more: a standard error of sqrt(2 / 32000) = 0.8%
check.test("bath_thermalizes", function()
  T.manual_seed(6)
  local temp = 0.7
  local net = nn.ContinuousNetwork(4, { constraint = "antisymmetric", bias = false, friction = 1,
                                        temperature = temp, dt = 0.02 })
  local X = autograd.no_grad(function()
    return net:trajectory(T.zeros(2000, 4), { 5, 6, 7, 8 }, { seed = 9 })
  end)
  local want = temp / (1 - 0.02 / 2)
  check.near(num((X * X):mean()), want, 0.032 * want, "<x^2> = T")
end)

check.test("learns_lattice_couplings", function()
  T.manual_seed(7)
  local n = 6
  local Wt = T.zeros(n, n)
  for i = 1, n do Wt:set(i, i % n + 1, 0.5); Wt:set(i % n + 1, i, -0.5) end
  local x0 = T.randn(12, n)
  local times = { 0.5, 1 }
  local target = autograd.no_grad(function()
    local ref = nn.ContinuousNetwork(n, { bias = false, dt = 0.05 })
    ref.weight = Wt
    return ref:trajectory(x0, times)
  end)
  local net = nn.ContinuousNetwork(n, { bias = false, dt = 0.05,
    constraint = { { "masked", mask = graph.lattice { dims = { n } } }, "antisymmetric" } })
  local opt = optim.Adam(net:parameters(), { lr = 0.05 })
  local first, last
  for it = 1, 150 do
    opt:zero_grad()
    local loss = nn.mse_loss(net:trajectory(x0, times), target)
    loss:backward()
    opt:step()
    first, last = first or num(loss), num(loss)
  end
  check.truthy(last < 1e-6 * first, string.format("loss %.3g -> %.3g", first, last))
  check.truthy(T.allclose(net.weight, Wt, 0, 1e-3), "W recovered")
  local H = net:hamiltonian()
  check.truthy(T.allclose(H, H:t():conj(), 0, 0), "H = iW Hermitian")
end)

check.test("module_plumbing", function()
  local net = nn.ContinuousNetwork(3, { constraint = "antisymmetric" })
  local sd = net:state_dict()
  check.truthy(sd["parametrizations.weight.original"] ~= nil, "free parameter saved")
  check.truthy(sd.state ~= nil, "state buffer saved")
  check.eq(#net:parameters(), 2, "original and bias")
  net:reset_state(T.ones(3))
  local x = net:evolve(0.5)
  check.truthy(T.allclose(net.state, x, 0, 0), "evolve stores the state")
  check.truthy(tostring(net):find("constraint=antisymmetric", 1, true) ~= nil, "repr")
end)

check.test("errors", function()
  check.raises(function() nn.ContinuousNetwork(0) end,
               "nn.ContinuousNetwork: n must be a positive integer, got 0")
  check.raises(function() nn.ContinuousNetwork(3, { order = 3 }) end, "order must be 1 or 2, got 3")
  check.raises(function() nn.ContinuousNetwork(3, { dynamics = "relu" }) end,
               "dynamics must be \"linear\", \"tanh\" or a function")
  check.raises(function() nn.ContinuousNetwork(3, { temperature = 1 }) end,
               "a bath at temperature 1 needs friction > 0")
  check.raises(function() nn.ContinuousNetwork(3, { dtt = 1 }) end, "did you mean 'dt'?")
  local net = nn.ContinuousNetwork(3)
  check.raises(function() net:trajectory(T.ones(4), { 1 }) end,
               "x0 must have shape {3} or {batch, 3}, got f64 tensor of shape {4}")
  check.raises(function() net:trajectory(T.ones(3), { 1, 0.5 }) end,
               "times must increase from > 0 (entry 2 is 0.5)")
  check.raises(function() net(T.ones(3)) end, "call as net(x0, t) with a time t > 0")
end)

check.done()
