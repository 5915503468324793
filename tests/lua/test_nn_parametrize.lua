-- test_nn_parametrize.lua -- constrained parametrizations
-- (stdlib/hebb/_nn_parametrize.lua): every constraint holds (exactly where
-- floating point allows) after many optimizer steps, right inverses keep a
-- weight that already satisfies the constraint, composition, tied weights,
-- state_dict names, gradients, errors.
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local graph = require "hebb.graph"
local linalg = require "hebb.linalg"
local autograd = require "hebb.autograd"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises
local no_grad = autograd.no_grad

-- n Adam steps on a loss that pulls the weight towards a random target
-- (which violates every constraint), so the free parameter moves a lot
local function train(m, steps, lr)
  local optim = require "hebb.optim"
  local opt = optim.Adam(m:parameters(), { lr = lr or 0.05 })
  local n = m.in_features
  local x = T.randn(8, n)
  local target = T.randn(8, m.out_features) * 3
  local first, last
  for _ = 1, steps do
    opt:zero_grad()
    local loss = nn.mse_loss(m(x), target)
    loss:backward()
    opt:step()
    last = loss:item()
    first = first or last
  end
  return first, last
end

local function W_of(m) return no_grad(function() return m.weight:detach() end) end

test("antisymmetric_exact_after_training", function()
  T.manual_seed(21)
  local m = nn.Linear(5, 5, { constraint = "antisymmetric" })
  local W = W_of(m)
  check.truthy(T.equal(W, -W:t()), "antisymmetric at the start")
  local first, last = train(m, 50)
  check.truthy(last < first, "the loss went down")
  W = W_of(m)
  check.truthy(T.equal(W, -W:t()), "W == -W^T exactly after 50 Adam steps")
  same(W:diagonal(), T.zeros(5))
  check.truthy(W:abs():max() > 0.1, "not trivially zero")
  -- the free parameter is what is trained and saved
  local names = {}
  for _, p in ipairs(m:named_parameters()) do names[#names + 1] = p[1] end
  eq(table.concat(names, " "), "bias parametrizations.weight.original")
  check.truthy(m:state_dict()["parametrizations.weight.original"] ~= nil, "saved")
  eq(rawget(m, "weight"), nil)
  -- a state_dict round trip into another constrained layer, and to f32
  local m2 = nn.Linear(5, 5, { constraint = "antisymmetric" })
  m2:load_state_dict(m:state_dict())
  same(W_of(m2), W, 0)
  m2:to("f32")
  eq(W_of(m2).dtype, "f32")
  check.truthy(T.equal(W_of(m2), -W_of(m2):t()), "still antisymmetric in f32")
  raises(function() nn.Linear(5, 5):load_state_dict(m:state_dict()) end,
         "missing keys: weight; unexpected keys: parametrizations.weight.original")
  check.truthy(nn.is_parametrized(m, "weight") and not nn.is_parametrized(m, "bias"), "is_parametrized")
end)

test("antisymmetric_right_inverse_keeps_value", function()
  local m = nn.Linear(4, 4)
  local A = T.randn(4, 4)
  A = A - A:t()
  no_grad(function() m.weight:copy_(A) end)
  nn.parametrize(m, "weight", "antisymmetric")
  same(W_of(m), A, 0)                           -- halving is exact
  -- assigning sets the free parameter through the right inverse
  local B = T.randn(4, 4)
  m.weight = B - B:t()
  same(W_of(m), B - B:t(), 0)
  -- a general matrix becomes its antisymmetric part
  local n = nn.Linear(3, 3)
  local W0 = W_of(n):clone()
  nn.parametrize(n, "weight", "antisymmetric")
  same(W_of(n), (W0 - W0:t()) * 0.5, 0)
end)

test("symmetric_exact", function()
  T.manual_seed(22)
  local m = nn.Linear(4, 4, { constraint = "symmetric" })
  train(m, 30)
  local W = W_of(m)
  check.truthy(T.equal(W, W:t()), "W == W^T exactly")
end)

test("orthogonal_cayley_and_exp", function()
  for _, map in ipairs { "cayley", "exp" } do
    T.manual_seed(23)
    local m = nn.Linear(5, 5, { constraint = { "orthogonal", map = map } })
    local I = T.eye(5)
    local err0 = (W_of(m):t():matmul(W_of(m)) - I):abs():max()
    check.truthy(err0 < 1e-14, map .. ": orthogonal at the start, error " .. err0)
    local first, last = train(m, 40)
    check.truthy(last < first, map .. ": loss went down")
    local Q = W_of(m)
    local err = (Q:t():matmul(Q) - I):abs():max()
    check.truthy(err < 1e-13, map .. ": Q^T Q = I after training, error " .. err)
    eq(tostring(m):find("Orthogonal(map=" .. map .. ")", 1, true) ~= nil, true)
  end
  -- the Cayley right inverse keeps an orthogonal weight (a rotation here)
  local c, s = math.cos(0.7), math.sin(0.7)
  local R = T.tensor { { c, -s, 0 }, { s, c, 0 }, { 0, 0, 1 } }
  local m = nn.Linear(3, 3)
  no_grad(function() m.weight:copy_(R) end)
  nn.parametrize(m, "weight", "orthogonal")
  check.truthy((W_of(m) - R):abs():max() < 1e-14, "rotation kept")
  -- the exponential of an antisymmetric matrix: e^(t J) is a rotation by t
  local J = T.tensor { { 0, -0.7 }, { 0.7, 0 } }
  local expm = require("hebb._nn_parametrize")._expm   -- internal
  local E = expm(J)
  same(E, { { c, -s }, { s, c } }, 1e-15)
  local E2 = expm(J * 40)                    -- scaling and squaring
  same(E2, linalg.expm(J * 40), 1e-12)
end)

test("positive_definite", function()
  T.manual_seed(24)
  local m = nn.Linear(4, 4, { constraint = { "positive_definite", eps = 1e-3 } })
  train(m, 30)
  local W = W_of(m)
  check.truthy(T.equal(W, W:t()), "symmetric exactly")
  local w = linalg.eigvalsh(W)
  check.truthy(w[1] >= 1e-3 * (1 - 1e-9), "smallest eigenvalue " .. w[1] .. " >= eps")
  -- a positive definite weight is kept (through its Cholesky factor)
  local P = T.tensor { { 4, 1, 0 }, { 1, 3, 1 }, { 0, 1, 2 } }
  local n = nn.Linear(3, 3)
  no_grad(function() n.weight:copy_(P) end)
  nn.parametrize(n, "weight", "positive_definite")
  check.truthy((W_of(n) - P):abs():max() < 1e-14, "kept")
end)

test("masked_lattice_and_composition", function()
  T.manual_seed(25)
  -- nearest-neighbour couplings of a periodic 4x3 lattice only
  local g = graph.lattice { dims = { 4, 3 } }
  local A = g:adjacency():to_dense()
  local m = nn.Linear(12, 12, { constraint = { "masked", mask = g } })
  train(m, 20)
  local W = W_of(m)
  same(W:masked_select(A:eq(0)), T.zeros(144 - 48))     -- zero off the lattice, exactly
  check.truthy(W:masked_select(A:ne(0)):ne(0):all(), "couplings on the edges are free")
  -- the mask as the sparse adjacency matrix itself
  local ms = nn.Linear(12, 12, { constraint = { "masked", mask = g:adjacency() } })
  same(W_of(ms):ne(0), A:ne(0))
  -- masked, then antisymmetric: a lattice hopping matrix (Dirac-like)
  local h = nn.Linear(12, 12, { bias = false })
  nn.parametrize(h, "weight", "masked", { mask = A })
  nn.parametrize(h, "weight", "antisymmetric")
  train(h, 20)
  W = W_of(h)
  check.truthy(T.equal(W, -W:t()), "antisymmetric")
  same(W:masked_select(A:eq(0)), T.zeros(96))
  eq(#h.parametrizations.weight, 2)
  -- a mask as a 0/1 tensor; gradients through the composition
  local k = nn.Linear(3, 3)
  nn.parametrize(k, "weight", "masked", { mask = T.tensor { { 1, 0, 1 }, { 0, 1, 0 }, { 1, 1, 1 } } })
  nn.parametrize(k, "weight", "symmetric")
  autograd.gradcheck(function(B)
    rawset(k.parametrizations.weight, "original", B)
    return k(T.ones(2, 3))
  end, { T.randn(3, 3) })
end)

test("custom_function_and_removal", function()
  local m = nn.Linear(3, 3)
  nn.parametrize(m, "weight", function(A) return A * A end)     -- W = A .* A >= 0
  train(m, 5)
  check.truthy(W_of(m):ge(0):all(), "elementwise squares")
  local W = W_of(m):clone()
  raises(function() m.weight = T.zeros(3, 3) end, "has no right_inverse")
  nn.remove_parametrizations(m, "weight")
  same(m.weight:detach(), W, 0)
  check.truthy(m.weight.requires_grad, "a parameter again")
  eq(m.parametrizations, nil)
  eq(#m:parameters(), 2)
  -- a new kind, registered by name
  nn.register_parametrization("scaled", function(opts)
    local S = nn.Module:extend("Scaled")
    function S:forward(A) return A * opts.by end
    function S:right_inverse(X) return X / opts.by end
    return S()
  end)
  local n = nn.Linear(2, 2)
  local W0 = W_of(n):clone()
  nn.parametrize(n, "weight", "scaled", { by = 4 })
  same(W_of(n), W0, 1e-15)
  same(n.parametrizations.weight.original:detach(), W0 / 4, 0)
end)

test("tied_weights", function()
  T.manual_seed(26)
  local enc, dec = nn.Linear(3, 3), nn.Linear(3, 3)
  nn.tie(enc, "weight", dec, "weight")
  local model = nn.Sequential(enc, nn.Tanh(), dec)
  eq(#model:parameters(), 3)
  local optim = require "hebb.optim"
  local opt = optim.SGD(model:parameters(), { lr = 0.1 })
  for _ = 1, 5 do
    opt:zero_grad()
    nn.mse_loss(model(T.randn(4, 3)), T.randn(4, 3)):backward()
    opt:step()
  end
  eq(enc.weight, dec.weight)                    -- still one tensor
  -- tying a parametrized weight shares the free parameter
  local a, b = nn.Linear(4, 4, { constraint = "antisymmetric" }), nn.Linear(4, 4)
  nn.tie(a, "weight", b, "weight")
  same(W_of(b), W_of(a), 0)
  eq(#nn.Sequential(a, b):parameters(), 3)
  raises(function() nn.tie(a, "weight", nn.Linear(2, 2), "weight") end,
         "nn.tie: Linear.weight has shape {2,2}, Linear.weight has {4,4}")
  raises(function() nn.tie(a, "nothing", b, "bias") end, "nn.tie: Linear has no parameter \"nothing\"")
end)

test("parametrization_gradients", function()
  -- d(loss)/d(free parameter) by finite differences through every kind
  local kinds = { { "antisymmetric" }, { "symmetric" }, { "orthogonal" },
                  { "orthogonal", { map = "exp" } }, { "positive_definite" },
                  { "masked", { mask = T.tensor { { 1, 1, 0 }, { 0, 1, 1 }, { 1, 0, 1 } } } } }
  local x = T.randn(2, 3)
  for _, k in ipairs(kinds) do
    local m = nn.Linear(3, 3, { bias = false })
    nn.parametrize(m, "weight", k[1], k[2])
    local pl = m.parametrizations.weight
    local ok, err = pcall(autograd.gradcheck, function(B)
      rawset(pl, "original", B)
      return m(x)
    end, { pl.original:detach():clone() })
    check.truthy(ok, k[1] .. ": " .. tostring(err))
  end
end)

test("parametrize_errors", function()
  raises(function() nn.Linear(3, 4, { constraint = "antisymmetric" }) end,
         "nn.parametrize: antisymmetric needs a square matrix, got shape {4,3}")
  raises(function() nn.parametrize(nn.Linear(2, 2), "weight", "skew") end,
         "unknown parametrization \"skew\" (known: antisymmetric, masked, orthogonal, positive_definite")
  raises(function() nn.parametrize(nn.Linear(2, 2), "gain", "symmetric") end,
         "nn.parametrize: Linear has no parameter \"gain\"")
  raises(function() nn.parametrize(nn.Linear(2, 2), "weight", "masked", { mask = T.ones(3, 3) }) end,
         "the mask has shape {3,3}, the weight {2,2}")
  raises(function() nn.parametrize(nn.Linear(2, 2), "weight", "masked") end, "masked needs {mask =")
  raises(function() nn.parametrize(nn.Linear(2, 2), "weight", "orthogonal", { map = "polar" }) end,
         "orthogonal map must be \"cayley\" or \"exp\", got \"polar\"")
  raises(function() nn.parametrize(3, "weight", "symmetric") end, "nn.parametrize: expected a module")
  raises(function() nn.remove_parametrizations(nn.Linear(2, 2), "weight") end,
         "Linear has no parametrized tensor \"weight\"")
  local m = nn.Linear(2, 2, { constraint = "symmetric" })
  raises(function() m:register_parameter("weight", T.zeros(2, 2)) end, "\"weight\" is parametrized")
  raises(function() m.weight = T.zeros(3, 3) end, "the assigned value gives shape {3,3}, the parameter has {2,2}")
end)

check.done()
