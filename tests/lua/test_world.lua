-- test_world.lua -- hebb.world (stdlib/hebb/world.lua): the neurons'
-- Langevin chain against its exact stationary variance, the couplings'
-- Langevin learning against L3's exact discrete law, the two-timescale
-- limit (the slow variable feels the fast one's free energy), the
-- deterministic methods against hebb.ode, per-replica Hessians and
-- Laplacians against analytic ones, clamped neurons, optimizers and
-- custom rules, recording, reproducibility, and the error messages.
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local ode = require "hebb.ode"
local optim = require "hebb.optim"
local world = require "hebb.world"
local test, eq, near, raises, truthy = check.test, check.eq, check.near, check.raises,
  check.truthy

local function quad(k) return function(x, c) return (x * x * (c.k or k)):sum(-1) * 0.5 end end

test("neurons_sample_the_discrete_langevin_law", function()
  -- x <- (1 - k h) x + sqrt(2 T h) xi has stationary variance
  -- T / (k (1 - k h / 2)) exactly; 40 snapshots (2 relaxation times apart,
  -- nearly independent) of 2000 replicas give the variance to ~0.5%; the
  -- tolerance 3% is over 5 standard errors
  local w = world { neurons = T.zeros(2000, 2), couplings = { k = T.tensor { 1.0, 4.0 } },
                    energy = quad(), dynamics = { dt = 0.02 }, bath = { T = 0.3 }, seed = 7 }
  w:step(500)
  local acc = T.zeros(2)
  for _ = 1, 40 do w:step(100); acc = acc + w.x:var(1) end
  acc = acc / 40
  for i, k in ipairs { 1, 4 } do
    near(acc[i] / (0.3 / (k * (1 - k * 0.02 / 2))), 1, 0.03, "variance k = " .. k)
  end
end)

test("couplings_learn_with_a_bath_L3", function()
  -- Langevin descent on H = h q^2/2, h = 2, gamma = 0.1, T = 0.05: stationary var
  -- T / (h (1 - gamma h / 2)) = 0.0277778, <q> decays by (1 - gamma h) per step
  local w = world { couplings = { q = T.ones(10000) }, dynamics = { dt = 1 },
                    learn = { loss = function(_, c) return (c.q * c.q):sum() end, rate = 0.1, T = 0.05 },
                    seed = 3 }
  w:step(10)
  near(w.c.q:mean(), 0.8 ^ 10, 0.01, "<q> after 10 steps")   -- sd of the mean 0.0017
  w:step(40)
  local v = 0
  for _ = 1, 10 do w:step(5); v = v + w.c.q:var() / 10 end
  near(v / 0.0277778, 1, 0.02, "stationary variance")        -- sd about 0.5%
end)

test("slow_variable_feels_the_free_energy", function()
  -- H = (1 + q^2) x^2 / 2 + q^2 / 2: integrating out x at temperature T
  -- gives F(q) = q^2 / 2 + (T/2) ln(1 + q^2), whose entropic part pushes q
  -- to 0 faster.  With tau << 1/gamma and no noise on q, q follows
  -- dq/dt = -F'(q) = -q (1 + T / (1 + q^2)) (the averaging principle);
  -- the bare -q would give q(1) = e^-1 = 0.368, F' gives 0.251
  local R, Tb = 4000, 0.5
  local w = world {
    neurons = T.zeros(R, 1), couplings = { q = T.ones(R, 1) },
    energy = function(x, c) return ((c.q ^ 2 + 1) * x * x + c.q ^ 2):sum() * 0.5 end,
    dynamics = { dt = 0.004, tau = 0.04, substeps = 2 }, bath = { T = Tb },
    learn = { rate = 1 }, seed = 4,
  }
  w:step(250)
  local q, h = 1, 1e-3
  local function f(y) return -y * (1 + Tb / (1 + y * y)) end
  for _ = 1, 1000 do
    local k1 = f(q); local k2 = f(q + h / 2 * k1); local k3 = f(q + h / 2 * k2)
    q = q + h / 6 * (k1 + 2 * k2 + 2 * k3 + f(q + h * k3))
  end
  -- EM's <x^2> is T/(k (1 - k h/2tau)), 2.5% high at k = 2, on a force term
  -- that is a fifth of the total; the lag of x behind q is O(tau k/2):
  -- together under 1%; 2% is safe
  near(w.c.q:mean() / q, 1, 0.02, "q(1) follows the free energy")
end)

test("deterministic_methods_match_ode_solve", function()
  local A = T.tensor { { 0.0, 1.0 }, { -4.0, -0.4 } }
  local force = function(x) return x:matmul(A:t()) end
  for _, m in ipairs { "euler", "midpoint", "rk4" } do
    local w = world { neurons = T.tensor { { 1.0, 0.0 } }, force = force,
                      dynamics = { dt = 0.05, method = m } }
    w:step(20)
    local ref = ode.solve(function(_, x) return force(x) end, T.tensor { { 1.0, 0.0 } }, { 0, 1 },
                          { method = m, dt = 0.05 }).y_final
    near((w.x - ref):abs():max(), 0, 1e-14, m)
  end
  -- tau rescales time: tau = 2, dt = 0.1 is dt = 0.05 at tau = 1
  local w = world { neurons = T.tensor { { 1.0, 0.0 } }, force = force,
                    dynamics = { dt = 0.1, tau = 2, method = "rk4" } }
  w:step(20)
  local ref = ode.solve(function(_, x) return force(x) end, T.tensor { { 1.0, 0.0 } }, { 0, 1 },
                        { method = "rk4", dt = 0.05 }).y_final
  near((w.x - ref):abs():max(), 0, 1e-14, "tau")
end)

test("energy_gradient_is_the_force", function()
  -- -dH/dx of H = sum k x^2 / 2 is -k x: one Euler step from x is (1 - k h) x
  local x0 = T.tensor { { 1.0, -2.0 }, { 0.5, 3.0 } }
  local w = world { neurons = x0, couplings = { k = T.tensor { 2.0, 3.0 } }, energy = quad(),
                    dynamics = { dt = 0.1, method = "euler" } }
  w:step()
  check.same(w.x, (x0 * (1 - T.tensor { 2.0, 3.0 } * 0.1)):totable(), 1e-15)
  eq(w.n, 1, "steps")
  near(w.t, 0.1, 1e-15, "time")
end)

test("network_is_stepped_and_trained_in_place", function()
  T.manual_seed(11)
  local net = nn.ContinuousNetwork(3, { dynamics = "tanh" })
  local x0 = T.randn(3)
  local w = world { network = net, neurons = x0, dynamics = { dt = 0.05, method = "rk4" } }
  w:step(20)
  local ref = ode.solve(function(_, x) return net:derivative(x) end, x0, { 0, 1 },
                        { method = "rk4", dt = 0.05 }).y_final
  near((w.x - ref:detach()):abs():max(), 0, 1e-14, "rk4 of the network")
  -- learning moves the network's own parameters: drive the fixed point to 0
  local before = net.bias:detach():clone()
  local wl = world { network = net, neurons = T.zeros(8, 3),
                     learn = { loss = function(x) return (net:derivative(x) ^ 2):sum() end, rate = 0.5 } }
  wl:step(50)
  truthy(net.bias:detach():abs():max() < before:abs():max() * 0.5, "bias shrinks toward 0")
  truthy(wl.c.bias == net.bias, "the coupling is the parameter")
end)

test("hessian_and_laplacian_per_replica", function()
  -- L = sum_r (a_r q1^2 + q1 q2^3), Hessian [[2 a, 3 q2^2], [3 q2^2, 6 q1 q2]]
  local g = T.Generator(2)
  local R = 5
  local a = g:rand(R) + 1
  local q = g:randn(R, 2)
  local w = world { couplings = { q = q },
                    learn = { loss = function(_, c)
                      local q1, q2 = c.q:select(2, 1), c.q:select(2, 2)
                      return (a * q1 * q1 + q1 * q2 ^ 3):sum()
                    end } }
  local H = w:hessian("q")
  eq(table.concat(H.shape, ","), "5,2,2", "shape")
  for r = 1, R do
    local q1, q2 = q[r][1], q[r][2]
    check.same(H[r], { { 2 * a[r], 3 * q2 ^ 2 }, { 3 * q2 ^ 2, 6 * q1 * q2 } }, 1e-12, "H" .. r)
  end
  local lap = w:laplacian("q")
  for r = 1, R do near(lap[r], 2 * a[r] + 6 * q[r][1] * q[r][2], 1e-12, "laplacian") end
  -- Hutchinson with Rademacher vectors is exact for a diagonal Hessian
  local wd = world { couplings = { q = q },
                     learn = { loss = function(_, c) return (c.q ^ 2 * a:reshape(R, 1)):sum() end } }
  local lh = wd:laplacian("q", { method = "hutchinson", samples = 3 })
  for r = 1, R do near(lh[r], 4 * a[r], 1e-12, "hutchinson") end
end)

test("optimizer_and_rule", function()
  local w = world { couplings = { q = T.tensor { 3.0, -1.0 } },
                    learn = { loss = function(_, c) return ((c.q - 1) ^ 2):sum() end,
                              optimizer = function(p) return optim.SGD(p, { lr = 0.25 }) end } }
  w:step()
  check.same(w.c.q, { 2.0, 0.0 }, 1e-15, "one SGD step")
  near(w.last_loss, 8, 1e-15, "loss before the step")
  local seen
  local wr = world { couplings = { q = T.tensor { 1.0 } }, dynamics = { dt = 0.5 },
                     learn = { every = 2, rule = function(ww, grads, dt) seen = dt; ww.c.q:add_(1) end } }
  wr:step(4)
  eq(seen, 1.0, "the rule gets the time since the last update")
  near(wr.c.q[1], 3, 0, "rule ran every 2 steps")
end)

test("boundary_and_clamp", function()
  local calls = 0
  local w = world { neurons = T.zeros(4, 3), force = function(x) return -x + 1 end,
                    clamp = { 1, 2 }, dynamics = { dt = 0.1 }, bath = { T = 1 },
                    boundary = function(ww) calls = calls + 1; ww.x:narrow(2, 1, 2):fill_(5) end }
  w:step(3)
  eq(calls, 3, "boundary once per step")
  check.same(w.x:narrow(2, 1, 2), { { 5, 5 }, { 5, 5 }, { 5, 5 }, { 5, 5 } }, 0, "clamped")
  truthy(w.x:select(2, 3):std() > 0, "the free neuron feels the bath")
end)

test("run_records_and_repeats", function()
  local function make()
    return world { neurons = T.zeros(50, 2), energy = quad(1), bath = { T = 1 }, seed = 9,
                   observe = { E = function(w) return w:energy():mean() end,
                               x = function(w) return w.x:mean(1) end } }
  end
  local r1 = make():run { steps = 10, every = 3 }
  check.same(r1.t, { 0, 0.03, 0.06, 0.09, 0.1 }, 1e-15, "times (the last chunk is short)")
  eq(table.concat(r1.x.shape, ","), "5,2", "tensor observable stacked")
  eq(r1.E[1], 0.0, "observed at the start")
  local r2 = make():run { steps = 10, every = 3 }
  truthy(T.equal(r1.x, r2.x), "same seed, same bits")
end)

test("errors", function()
  raises(function() world(3) end, "world: the specification must be a table, got 3")
  raises(function() world { nuerons = T.zeros(2) } end, "unknown option \"nuerons\" (did you mean 'neurons'?)")
  raises(function() world { neurons = T.zeros(2) } end,
    "world: neurons need an energy, a force, a network or a dynamics.method function")
  raises(function() world { neurons = T.zeros(2), energy = quad(1), bath = { T = 1 },
                            dynamics = { method = "rk4" } } end,
    "world: a bath at T = 1 needs dynamics.method = \"langevin\", got \"rk4\"")
  raises(function() world { neurons = T.zeros(2), energy = quad(1), dynamics = { method = "rk5" } } end,
    "(did you mean 'rk4'?)")
  raises(function() world { neurons = T.zeros(2), energy = quad(1), dynamics = { dt = 0 } } end,
    "world: dynamics.dt must be")
  raises(function() world { couplings = { q = T.ones(2) }, learn = { rate = 1 } } end,
    "world: learning needs learn.loss or an energy")
  raises(function() world { couplings = { 1 } } end, "world: couplings must map names to tensors")
  raises(function() world { neurons = T.zeros(2, 3), energy = quad(1), clamp = { 2, 5 } } end,
    "world: clamp[2] must be an integer in 2..3, got 5")
  raises(function() world { observe = { E = 1 } } end, "world: observe must map names to functions")
  raises(function() world { couplings = { q = T.ones(2) }, energy = quad(1) }:hessian("p") end,
    "w:hessian: no coupling named \"p\"")
  raises(function() world { neurons = T.zeros(2), force = function(x) return x end }:energy() end,
    "w:energy: this world has no energy")
  raises(function() world { network = {} } end, "world: network must be an nn.ContinuousNetwork")
end)

check.done()
