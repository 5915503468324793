-- test_autograd_engine.lua -- the backward engine itself
-- (stdlib/hebb/_autograd_engine.lua, the node primitives of
-- natives/lua/l_autograd.c): the state of a pass is reused from pass to
-- pass, so a backward run from inside a rule or a Function's backward must
-- not disturb the one that runs it, a pass that fails must leave nothing
-- behind for the next, and the default seed (made inside the pass) must
-- be a tensor of ones of its own whatever is done to the tensors a pass
-- hands out.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local test, truthy, eq, raises = check.test, check.truthy, check.eq, check.raises
local same_bits = check.same_bits

T.manual_seed(17)

local function rn(...) return T.randn({ ... }) end

-- f(x) = sum(w * x^2) and its gradient 2 w x, computed without autograd
local function quad(w, x) return (w * x * x):sum() end
local function quad_grad(w, x) return 2 * w * x end

test("a_backward_inside_a_function_backward_leaves_the_outer_pass_alone", function()
  for trial = 1, 10 do
    local n = math.random(1, 6)
    local w, w2 = rn(n), rn(n)
    local z = rn(n):requires_grad_()
    -- a Function whose backward runs a whole backward pass of its own
    -- (and an autograd.grad) on another graph before answering
    local inner = A.Function { name = "inner",
      forward = function(_, x) return x * 3 end,
      backward = function(_, g)
        A.enable_grad(function()   -- a rule runs with recording off
          z.grad = nil
          quad(w2, z):backward()
          local gz = A.grad(quad(w2, z), z)
          same_bits(gz, z.grad, "trial " .. trial .. ": inner grad and backward")
        end)
        return g * 3
      end }
    local x = rn(n):requires_grad_()
    local y = (w * inner(x * 2)):sum() + quad(w, x)
    y:backward()
    -- d/dx: 6 w (through inner) + 2 w x (the quad term)
    check.near(check.maxdiff(x.grad, 6 * w + quad_grad(w, x)), 0, 1e-12,
               "trial " .. trial .. ": outer gradient")
    check.near(check.maxdiff(z.grad, quad_grad(w2, z)), 0, 1e-12,
               "trial " .. trial .. ": inner gradient")
    truthy(A.is_grad_enabled(), "grad mode restored")
  end
end)

test("nested_passes_to_depth_three", function()
  local x = rn(4):requires_grad_()
  local depth, max = 0, 0
  local f
  f = A.Function { name = "deep",
    forward = function(_, t) return t * 1 end,
    backward = function(_, g)
      depth = depth + 1
      max = math.max(max, depth)
      if depth < 3 then
        local u = rn(4):requires_grad_()
        A.enable_grad(function() f(u):sum():backward() end)
        eq(check.maxdiff(u.grad, T.ones(4)), 0, "depth " .. depth)
      end
      depth = depth - 1
      return g
    end }
  f(x):sum():backward()
  eq(max, 3, "three nested passes")
  eq(check.maxdiff(x.grad, T.ones(4)), 0, "outer gradient")
end)

test("a_failed_pass_leaves_nothing_for_the_next", function()
  for trial = 1, 10 do
    local n = math.random(1, 5)
    local fail = true
    local id = A.Function { name = "flaky",
      forward = function(_, t) return t * 1 end,
      backward = function(_, g)
        if fail then error("flaky backward fails") end
        return g
      end }
    local x = rn(n):requires_grad_()
    local a = x * 2
    -- the root runs first and hands gradients to both branches; flaky
    -- fails before a * 3's branch and a's node have run
    local y = id(a):sum() + (a * 3):sum()
    raises(function() y:backward({ retain_graph = true }) end, "flaky backward fails")
    truthy(A.is_grad_enabled(), "trial " .. trial .. ": grad mode restored")
    eq(x.grad, nil, "trial " .. trial .. ": nothing reached x")
    fail = false
    y:backward()   -- the kept graph again: gradients from this pass only
    eq(check.maxdiff(x.grad, T.full({ n }, 8.0)), 0, "trial " .. trial)
    -- an error inside a nested pass propagates through the outer one
    local outer = A.Function { name = "outer",
      forward = function(_, t) return t * 1 end,
      backward = function(_, g)
        local u = rn(2):requires_grad_()
        local bad = A.Function { name = "bad", forward = function(_, t) return t * 1 end,
                                 backward = function() error("inner fails") end }
        A.enable_grad(function() bad(u):sum():backward() end)
        return g
      end }
    raises(function() outer(x):sum():backward() end, "inner fails")
    x.grad = nil
    quad(T.ones(n), x):backward()
    same_bits(x.grad, 2 * x:detach(), "trial " .. trial .. ": after the errors")
  end
end)

test("the_default_seed_stays_ones", function()
  -- a Function's backward that writes into the gradient it is given (the
  -- seed itself, for a one-element root) must not change later seeds
  local scale = A.Function { name = "scale_in_place",
    forward = function(_, t) return t * 1 end,
    backward = function(_, g) g:mul_(5); return g end }
  for _, dt in ipairs({ "f64", "f32", "c128" }) do
    local x = T.randn({}, { dtype = dt }):requires_grad_()
    scale(x):backward()
    eq(check.maxdiff(x.grad, T.full({}, 5, { dtype = dt })), 0, dt .. ": scaled")
    x.grad = nil
    (x * 1):backward()
    eq(check.maxdiff(x.grad, T.ones({}, { dtype = dt })), 0, dt .. ": seed is ones again")
  end
  -- create_graph: a leaf root's .grad is its seed; writing into it must
  -- not change the next pass's seed
  local x = T.randn({ 1 }):requires_grad_()
  x:backward({ create_graph = true })
  x.grad:mul_(7)
  local y = x * 2
  x.grad = nil
  y:backward()
  eq(check.maxdiff(x.grad, T.full({ 1 }, 2.0)), 0, "after writing into x.grad")
  -- a gradient kept from an earlier pass and written into during a later
  -- one does not reach that pass's seed
  local kept
  local stash = A.Function { name = "stash",
    forward = function(_, t) return t * 1 end,
    backward = function(_, g)
      if kept then kept:mul_(100) end
      kept = g
      return g
    end }
  for i = 1, 3 do
    local v = T.randn({}):requires_grad_()
    local w = stash(v) * 2
    w:backward()
    eq(check.maxdiff(v.grad, T.full({}, 2.0)), 0, "pass " .. i .. " with a stash")
  end
  -- autograd.grad of a root by itself: the seed, a tensor of its own each time
  local z = T.randn({}):requires_grad_() * 3
  local g1 = A.grad(z, { z }, { retain_graph = true })[1]
  local g2 = A.grad(z, { z })[1]
  truthy(not rawequal(g1, g2), "two calls, two tensors")
  g1:mul_(4)
  eq(g2:item(), 1.0, "writing into one leaves the other")
  -- the seed takes each root's dtype and shape
  for _, shape in ipairs({ {}, { 1 }, { 1, 1 } }) do
    for _, dt in ipairs({ "f32", "f64" }) do
      local v = T.randn(shape, { dtype = dt }):requires_grad_()
      local r = v * 3
      r:retain_grad()
      r:backward()
      eq(r.grad.dtype, dt, "seed dtype")
      eq(table.concat(r.grad.shape, ","), table.concat(shape, ","), "seed shape")
      eq(check.maxdiff(r.grad, T.ones(shape, { dtype = dt })), 0, "retained seed")
      eq(check.maxdiff(v.grad, T.full(shape, 3, { dtype = dt })), 0, "leaf gradient")
    end
  end
end)

test("backward_and_autograd_grad_agree_on_random_graphs", function()
  -- shared subexpressions, views, a multi-output op (chunk), a list
  -- argument (cat), retained intermediates: the gradients backward puts in
  -- .grad have the bits of autograd.grad's
  for trial = 1, 30 do
    local n = 2 * math.random(1, 4)
    local x, w = rn(n):requires_grad_(), rn(n):requires_grad_()
    local function f()
      local a = x * w
      local b = (a + x):tanh()
      local p, q = table.unpack(b:chunk(2))
      local c = T.cat({ q * p, a:narrow(1, 1, n // 2), p })
      local d = c * c:detach() + a:sum() * (trial % 2 == 0 and b:sum() or 1)
      return d:sum(), a
    end
    local y, a = f()
    a:retain_grad()
    y:backward()
    local y2 = f()
    local gx, gw = table.unpack(A.grad(y2, { x, w }))
    same_bits(x.grad, gx, "trial " .. trial .. ": x")
    same_bits(w.grad, gw, "trial " .. trial .. ": w")
    truthy(a.grad ~= nil, "trial " .. trial .. ": retained a.grad")
    x.grad, w.grad = nil, nil
  end
end)

test("freed_and_stale_graphs_name_the_op", function()
  local x = rn(3):requires_grad_()
  local y = (x:exp() * 2):sum()
  y:backward()
  raises(function() y:backward() end, "a second time")
  local v = rn(3):requires_grad_()
  local e = v * 1
  local s = e:exp()
  local z = s:sum()
  A.no_grad(function() s:add_(1) end)
  raises(function() z:backward() end, "'exp' saved for backward")
  -- both errors leave the engine usable
  x.grad = nil
  quad(T.ones(3), x):backward()
  same_bits(x.grad, 2 * x:detach(), "after the errors")
end)

test("a_pass_without_retain_graph_frees_each_node_it_ran", function()
  local C = require "hebb._autograd"
  for _, retain in ipairs({ false, true }) do
    local x = rn(3):requires_grad_()
    local a = x:exp()
    local b = a * 2
    local c = b:sin()
    local y = c:sum()
    local nodes = { C.record(a), C.record(b), C.record(c), C.record(y) }
    y:backward({ retain_graph = retain })
    for i, nd in ipairs(nodes) do
      eq(nd.freed, not retain, "node " .. i .. " freed")
      eq(nd.args == nil, not retain, "node " .. i .. " arguments dropped")
    end
  end
  -- a rule that fails: the nodes that ran before it are freed, it and the
  -- nodes after it are not
  local flaky = A.Function { name = "flaky",
    forward = function(_, t) return t * 1 end,
    backward = function() error("flaky backward fails") end }
  local x = rn(3):requires_grad_()
  local m = x * 2
  local f = flaky(m)
  local y = f:sum()
  local nm, nf, ny = C.record(m), C.record(f), C.record(y)
  raises(function() y:backward() end, "flaky backward fails")
  eq(ny.freed, true, "the sum ran: freed")
  eq(nf.freed, false, "the failing node is kept")
  eq(nm.freed, false, "the node after it is kept")
end)

check.done()
