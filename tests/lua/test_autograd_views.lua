-- test_autograd_views.lua -- gradients that reach a tensor through views of
-- itself (t, transpose, permute, narrow, select, expand, diagonal,
-- indexing): backward() into x.grad, autograd.grad and finite differences
-- must agree for random compositions, symmetrization before eigh and
-- cholesky included.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local L = require "hebb.linalg"
local test, eq, near, truthy = check.test, check.eq, check.near, check.truthy

local maxdiff = check.maxdiff

-- x.grad after y = f(x):backward() on a fresh leaf, and autograd.grad's
local function both(f, x0)
  local x = x0:clone():requires_grad_()
  f(x):backward()
  return x.grad, A.grad(f, x0)
end

test("symmetrization_reproducer", function()
  local W = T.tensor { { 1.0, 2 }, { 3, 4 } }
  local x = T.tensor { { .5, -1 }, { 2, .25 } }:requires_grad_()
  ;(W * (x + x:t())):sum():backward()
  check.same(x.grad, { { 2, 5 }, { 5, 8 } }, 0, "x.grad = W + W^T")
end)

-- views of an n x n tensor, each broadcastable against {n, n}
local function views(n)
  return {
    function(x) return x end,
    function(x) return x:t() end,
    function(x) return x:transpose(1, 2) end,
    function(x) return x:permute(2, 1) end,
    function(x) return x:narrow(1, 2, 1) end,
    function(x) return x:narrow(2, 1, 1) end,
    function(x) return x:select(1, 1) end,
    function(x) return x:select(2, n):unsqueeze(2) end,
    function(x) return x[2] end,
    function(x) return x[{ {}, { 1, 1 } }] end,
    function(x) return x[{ { 1, n }, {} }]:t() end,
    function(x) return x:select(1, n):expand(n, n) end,
    function(x) return x:reshape(-1):reshape(n, n):t() end,
    function(x) return x:diagonal() end,
    function(x) return x:t():contiguous() end,
    function(x) return x:unsqueeze(1):squeeze(1):t() end,
  }
end
local binary = {
  function(a, b) return a + b end,
  function(a, b) return a - b end,
  function(a, b) return a * b end,
}
local outer = {
  function(z) return z end,
  function(z) return T.sin(z) end,
  function(z) return z * z end,
}

-- f(x) = sum(W * u(v1(x) op v2(x) op v3(x))), views and ops drawn at random
local function composition(gen, n)
  local vs = views(n)
  local pick = gen:randint(1, 1000, { 6 }):totable()
  local W = gen:randn(n, n)
  return function(x)
    local z = vs[pick[1] % #vs + 1](x)
    z = binary[pick[2] % #binary + 1](z, vs[pick[3] % #vs + 1](x))
    z = binary[pick[4] % #binary + 1](z, vs[pick[5] % #vs + 1](x))
    return (W * outer[pick[6] % #outer + 1](z)):sum()
  end, pick
end

test("random_view_compositions", function()
  local gen = T.Generator(2024)
  for trial = 1, 60 do
    local n = trial % 3 + 2
    local f, pick = composition(gen, n)
    local x0 = gen:randn(n, n)
    local gb, gg = both(f, x0)
    local why = "trial " .. trial .. " picks " .. table.concat(pick, ",")
    -- same terms summed in another order: equal to rounding
    near(maxdiff(gb, gg), 0, 1e-12, why .. ": backward vs grad")
    local ok, err = pcall(A.gradcheck, f, { x0 })
    truthy(ok, why .. ": " .. tostring(err))
  end
end)

-- a second backward adds the same gradient: in place into the .grad that
-- the first one kept, which must not alias what else flows
test("accumulation_over_two_backwards", function()
  local gen = T.Generator(7)
  for trial = 1, 20 do
    local n = trial % 3 + 2
    local f = composition(gen, n)
    local x = gen:randn(n, n):requires_grad_()
    local y = f(x)
    y:backward({ retain_graph = true })
    local once = x.grad:clone()
    y:backward()
    near(maxdiff(x.grad, once * 2), 0, 1e-12, "trial " .. trial)
  end
end)

test("two_leaves_and_retained_grads_do_not_share", function()
  local x = T.tensor { { 1.0, 2 }, { 3, 4 } }:requires_grad_()
  local y = T.tensor { { 0.5, 0.5 }, { -1, 2 } }:requires_grad_()
  local h = x + y
  h:retain_grad()
  ;(h + h:t()):sum():backward()
  check.same(x.grad, { { 2, 2 }, { 2, 2 } }, 0, "x.grad")
  check.same(y.grad, { { 2, 2 }, { 2, 2 } }, 0, "y.grad")
  x.grad:mul_(10)        -- the user's in-place edit touches x.grad alone
  check.same(y.grad, { { 2, 2 }, { 2, 2 } }, 0, "y.grad after x.grad:mul_")
  check.same(h.grad, { { 2, 2 }, { 2, 2 } }, 0, "h.grad after x.grad:mul_")
end)

test("views_of_a_computed_tensor", function()
  local W = T.tensor { { 1.0, 2 }, { 3, 4 } }
  local f = function(x)
    local h = x * 1.5
    return (W * (h + h:t() + h[1])):sum()
  end
  local x0 = T.tensor { { .5, -1 }, { 2, .25 } }
  local gb, gg = both(f, x0)
  eq(maxdiff(gb, gg), 0)
  truthy(A.gradcheck(f, { x0 }))
end)

test("create_graph_through_views", function()
  local x = T.tensor { { .5, -1 }, { 2, .25 } }:requires_grad_()
  local W = T.tensor { { 1.0, 2 }, { 3, 4 } }
  ;(W * (x + x:t()) * x):sum():backward({ create_graph = true })
  local g1 = x.grad
  local want = A.grad(function(z) return (W * (z + z:t()) * z):sum() end,
                      T.tensor { { .5, -1 }, { 2, .25 } })
  eq(maxdiff(g1, want), 0)
  truthy(A.gradgradcheck(function(z) return (W * (z + z:t()) * z):sum() end,
                         { T.tensor { { .5, -1 }, { 2, .25 } } }))
end)

-- the case users hit: symmetrize, then a symmetric-matrix routine
test("symmetrized_eigh_and_cholesky", function()
  local gen = T.Generator(99)
  local n = 4
  local Wv, Wl = gen:randn(n), gen:randn(n, n)
  local fs = {
    eigh = function(x) return (L.eigvalsh((x + x:t()) * 0.5) * Wv):sum() end,
    eigh_vectors = function(x)
      local _, V = L.eigh(x + x:transpose(1, 2))
      return (V * V * Wl):sum()
    end,
    cholesky = function(x)
      local s = x:matmul(x:t()) + (x + x:t()) * 0.1 + T.eye(n) * n
      return (L.cholesky(s) * Wl):sum()
    end,
  }
  for name, f in pairs(fs) do
    local x0 = gen:randn(n, n)
    local gb, gg = both(f, x0)
    near(maxdiff(gb, gg), 0, 1e-12, name .. ": backward vs grad")
    truthy(A.gradcheck(f, { x0 }), name)
  end
end)

check.done()
