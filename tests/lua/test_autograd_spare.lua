-- test_autograd_spare.lua -- a leaf's gradient buffer reused after
-- x.grad = nil (opt:zero_grad(), m:zero_grad()): the engine keeps a .grad
-- it made and no one saw as a hidden spare, and the linear rule writes the
-- next weight gradient over it (a gemm with beta = 0) instead of
-- allocating one.  Reuse must never be visible: a gradient user code read
-- (x.grad, a view of it, a metric function's info.grad) keeps its values,
-- and every .grad holds the bits the fresh-allocation path gives.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local hebb = require "hebb"
local engine = require "hebb._autograd_engine"
local C = require "hebb._autograd"
local test, eq, truthy = check.test, check.eq, check.truthy

T.manual_seed(23)
math.randomseed(23)

local dtypes = { "f64", "f32" }

local same_bits = check.same_bits

-- p's .grad without lending it (what the optimizers read), and the
-- identity of its storage
local peek = engine._grad_of
local function storage(p)
  local g = peek(p)
  return g and C.dense_storage(g)
end

local function mlp(nin, nh, nout, dt)
  return nn.Sequential(nn.Linear(nin, nh, { dtype = dt }), nn.ReLU(),
                       nn.Linear(nh, nout, { dtype = dt }))
end

local function sq_loss(m, x, t) return ((m(x) - t) ^ 2):sum() end

test("linear_grad_with_beta_0_has_the_bits_of_the_product", function()
  -- over a buffer full of NaN, into a new one, and with beta = 1 the sum
  for trial = 1, 30 do
    local dt = dtypes[trial % 2 + 1]
    local n = trial <= 3 and trial - 1 or math.random(1, 90)
    local nout, nin = math.random(1, 40), math.random(1, 60)
    local g, x = T.randn(n, nout, { dtype = dt }), T.randn(n, nin, { dtype = dt })
    local want = g:t():matmul(x)
    local spare = T.full({ nout, nin }, 0 / 0, { dtype = dt })
    truthy(rawequal(C.linear_grad(g, x, spare, 0), spare), "the spare is returned")
    same_bits(spare, want, "trial " .. trial .. ": over a spare")
    same_bits(C.linear_grad(g, x, nil, 0), want, "trial " .. trial .. ": a new buffer")
    local acc = T.randn(nout, nin, { dtype = dt })
    local sum = acc + want
    C.linear_grad(g, x, acc, 1)
    same_bits(acc, sum, "trial " .. trial .. ": beta = 1")
  end
  -- where the fast path does not apply: false, the buffer left alone
  local g, x = T.randn(5, 3), T.randn(5, 4)
  local wrong = T.zeros(4, 3)
  eq(C.linear_grad(g, x, wrong, 0), false, "a buffer of another shape")
  same_bits(wrong, T.zeros(4, 3), "left alone")
  eq(C.linear_grad(g, x, T.zeros(3, 4, { dtype = "f32" }), 0), false, "another dtype")
  eq(C.linear_grad(g, T.randn(4, 5):t(), nil, 0), false, "a transposed x")
end)

test("the_buffer_is_reused_after_zero_grad_when_no_one_holds_it", function()
  for _, dt in ipairs(dtypes) do
    local m = mlp(30, 20, 5, dt)
    local ps = m:parameters()
    local opt = optim.Adam(ps, { lr = 1e-3 })
    local x, t = T.randn(16, 30, { dtype = dt }), T.randn(16, 5, { dtype = dt })
    local function step()
      opt:zero_grad()
      sq_loss(m, x, t):backward()
      opt:step()
    end
    step()
    local k1, k3 = storage(ps[1]), storage(ps[3])
    truthy(k1 and k3, dt .. ": dense gradients")
    for s = 1, 4 do
      step()
      truthy(storage(ps[1]) == k1 and storage(ps[3]) == k3, dt .. ": step " .. s .. " reused")
      opt:zero_grad()
      eq(ps[1].grad, nil, dt .. ": the spare is hidden")
      sq_loss(m, x, t):backward()
    end
    -- fewer allocations than when the gradients are read every step
    local function allocs(read)
      local before = hebb.alloc_stats().n_alloc
      for _ = 1, 5 do
        step()
        if read then for _, p in ipairs(ps) do local _ = p.grad end end
      end
      return hebb.alloc_stats().n_alloc - before
    end
    allocs(false)
    local reused, lent = allocs(false), allocs(true)
    truthy(lent - reused >= 2 * 4, dt .. ": two weight gradients a step not allocated ("
      .. reused .. " vs " .. lent .. " allocations)")
  end
end)

test("a_gradient_read_is_never_written_over", function()
  for _, dt in ipairs(dtypes) do
    local m = mlp(12, 9, 4, dt)
    local w = m:parameters()[1]
    local opt = optim.SGD(m:parameters(), { lr = 0.1 })
    local function step(x, t)
      opt:zero_grad()
      sq_loss(m, x, t):backward()
      opt:step()
    end
    local x, t = T.randn(8, 12, { dtype = dt }), T.randn(8, 4, { dtype = dt })
    step(x, t)
    local held = w.grad
    local copy = held:clone()
    local k = storage(w)
    step(T.randn(8, 12, { dtype = dt }), t)
    same_bits(held, copy, dt .. ": a held .grad")
    truthy(storage(w) ~= k, dt .. ": a new buffer")
    -- a view of it (through the getter) counts as reading it
    local view = w.grad:narrow(2, 3, 4)
    local vcopy = view:clone()
    step(T.randn(8, 12, { dtype = dt }), t)
    same_bits(view, vcopy, dt .. ": a held view")
    -- the buffer made after a read is private again: reused next step
    k = storage(w)
    step(x, t)
    truthy(storage(w) == k, dt .. ": reuse resumes")
  end
end)

test("training_with_reuse_has_the_bits_of_training_with_fresh_buffers", function()
  -- fresh buffers: every .grad read each step (lent, never reused); at 1
  -- and 2 threads; a 3-d input and a transposed weight among the shapes
  local default = hebb.threads()
  for trial = 1, 6 do
    local dt = dtypes[trial % 2 + 1]
    local nin, nh, nout = math.random(1, 90), math.random(1, 70), math.random(1, 12)
    local n = trial == 1 and 1 or math.random(1, 64)
    if trial == 6 then nin, nh, nout, n, dt = 784, 256, 10, 64, "f32" end
    if trial == 5 then nin, nout = nh, nh end   -- one layer applied twice
    local lead = trial == 3 and { 2 } or {}
    local seed = math.random(1, 1e6)
    local function run(read, threads)
      hebb.threads(threads)
      T.manual_seed(seed)
      local m
      if trial == 5 then
        local lin = nn.Linear(nh, nh, { dtype = dt })
        m = nn.Sequential(lin, nn.ReLU(), lin, nn.Linear(nh, nh, { dtype = dt }))
      else
        m = mlp(nin, nh, nout, dt)
      end
      if trial == 4 then   -- the first weight a transposed view (a leaf)
        m[1].weight = nn.Parameter(m[1].weight:detach():t():contiguous():t())
      end
      local ps = m:parameters()
      local opt = optim.Adam(ps, { lr = 1e-2 })
      local shape = { table.unpack(lead) }
      shape[#shape + 1] = n
      local xs = T.randn(shape, { dtype = dt }):reshape(-1, 1) * T.ones(1, nin, { dtype = dt })
      xs = xs + T.randn(xs.shape, { dtype = dt })
      xs = xs:reshape(table.unpack(shape), nin)
      local tshape = { table.unpack(shape) }
      tshape[#tshape + 1] = nout
      local ts = T.randn(tshape, { dtype = dt })
      local keys, reused = {}, 0
      for _ = 1, 5 do
        opt:zero_grad()
        sq_loss(m, xs, ts):backward()
        if read then for _, p in ipairs(ps) do local _ = p.grad end end
        local k1, k3 = storage(ps[1]), storage(ps[3])
        if keys[1] == k1 and keys[3] == k3 then reused = reused + 1 end
        keys[1], keys[3] = k1, k3
        if trial == 4 then   -- the optimizers want contiguous parameters
          A.no_grad(function()
            for _, p in ipairs(ps) do p:sub_(peek(p) * 0.01) end
          end)
        else
          opt:step()
        end
      end
      local res = {}
      for i, p in ipairs(ps) do res[i] = { p:detach():clone(), peek(p):clone() } end
      return res, reused
    end
    local fresh = run(true, 1)
    for _, threads in ipairs({ 1, 2 }) do
      local got, reused = run(false, threads)
      truthy(reused == 4, "trial " .. trial .. ": the buffer was reused (" .. reused .. ")")
      for i = 1, #fresh do
        local what = "trial " .. trial .. ", " .. threads .. " thread(s), parameter " .. i
        same_bits(got[i][1], fresh[i][1], what .. ": value")
        same_bits(got[i][2], fresh[i][2], what .. ": gradient")
      end
    end
  end
  hebb.threads(default)
end)

-- Random sequences of backward, zero_grad (both forms), reads, held
-- references, assignments, optimizer steps, autograd.grad and thread
-- changes on two copies of a model: in B every .grad is read after every
-- operation (lent: the fresh-allocation path), in A only when the sequence
-- says so.  Each .grad must hold the reference model's bits (the sum of
-- autograd.grad's gradients since the last zero_grad, or what was
-- assigned), A and B the same; a tensor that stopped being a .grad never
-- changes again.
test("random_sequences_against_a_reference_model", function()
  local default = hebb.threads()
  local total_reuse = 0
  for trial = 1, 12 do
    local dt = dtypes[trial % 2 + 1]
    local nin, nh, nout = math.random(1, 30), math.random(1, 25), math.random(1, 6)
    local seed = math.random(1, 1e6)
    T.manual_seed(seed)
    local mA = mlp(nin, nh, nout, dt)
    T.manual_seed(seed)
    local mB = mlp(nin, nh, nout, dt)
    local PA, PB = mA:parameters(), mB:parameters()
    local optA = optim.SGD(PA, { lr = 1e-3 })
    local optB = optim.SGD(PB, { lr = 1e-3 })
    local ref, held = {}, {}
    local function lend_B() for _, p in ipairs(PB) do local _ = p.grad end end
    local function data()
      local n = math.random(1, 20)
      return T.randn(n, nin, { dtype = dt }), T.randn(n, nout, { dtype = dt })
    end
    local ops = {
      function()   -- backward, the reference from autograd.grad
        local x, t = data()
        local gs = A.grad(sq_loss(mA, x, t), PA)
        for i, g in ipairs(gs) do ref[i] = ref[i] and ref[i] + g or g end
        local before = storage(PA[1])
        local spare = C.record(PA[1]).spare
        sq_loss(mA, x, t):backward()
        sq_loss(mB, x, t):backward()
        if spare and before == nil and C.dense_storage(spare) == storage(PA[1]) then
          total_reuse = total_reuse + 1
        end
        return "backward"
      end,
      function()
        if math.random() < 0.5 then optA:zero_grad(); optB:zero_grad()
        else mA:zero_grad(); mB:zero_grad() end
        ref = {}
        return "zero_grad"
      end,
      function()
        mA:zero_grad(false); mB:zero_grad(false)
        for i, p in ipairs(PA) do if ref[i] then ref[i] = T.zeros_like(p:detach()) end end
        return "zero_grad(false)"
      end,
      function()
        local i = math.random(#PA)
        local g = PA[i].grad
        if g and math.random() < 0.7 then held[#held + 1] = { i = i, t = g, last = g:clone() } end
        return "read"
      end,
      function()
        local i = math.random(#PA)
        local u = T.randn(PA[i].shape, { dtype = dt })
        PA[i].grad, PB[i].grad = u:clone(), u:clone()
        ref[i] = u
        held[#held + 1] = { i = i, t = peek(PA[i]), last = u }
        return "assign"
      end,
      function()
        local i = math.random(#PA)
        PA[i].grad, PB[i].grad = nil, nil
        ref[i] = nil
        return "set nil"
      end,
      function()
        optA:step(); optB:step()
        return "step"
      end,
      function()
        local x, t = data()
        A.grad(sq_loss(mA, x, t), PA)
        A.grad(sq_loss(mB, x, t), PB)
        return "autograd.grad"
      end,
      function()
        hebb.threads(math.random(1, 2))
        return "threads"
      end,
    }
    for s = 1, 40 do
      local what = "trial " .. trial .. " op " .. s .. " ("
        .. ops[math.random(#ops)]() .. ")"
      lend_B()
      for i = 1, #PA do
        local a, b = peek(PA[i]), peek(PB[i])
        if ref[i] == nil then
          truthy(a == nil and b == nil, what .. ": parameter " .. i .. " has no .grad")
        else
          truthy(a and b, what .. ": parameter " .. i .. " has a .grad")
          if a and b then
            same_bits(a, ref[i], what .. ": parameter " .. i .. " against the reference")
            same_bits(b, a, what .. ": parameter " .. i .. " A against B")
          end
        end
        same_bits(PA[i]:detach(), PB[i]:detach(), what .. ": parameter " .. i .. " values")
      end
      -- once dropped, a tensor the user holds is never a .grad again (the
      -- engine would write over it) and keeps its values
      for _, h in ipairs(held) do
        local live = rawequal(h.t, peek(PA[h.i]))
        if live and not h.dropped then h.last = h.t:clone()
        else
          h.dropped = true
          truthy(not live, what .. ": a dropped tensor is a .grad again")
          same_bits(h.t, h.last, what .. ": a tensor that was a .grad")
        end
      end
    end
  end
  hebb.threads(default)
  truthy(total_reuse > 0, "spares were written over (" .. total_reuse .. " times)")
end)

test("create_graph_autograd_grad_requires_grad_and_assignment_with_a_spare", function()
  local m = mlp(6, 5, 3, "f64")
  local w = m:parameters()[1]
  local x, t = T.randn(4, 6), T.randn(4, 3)
  local want = A.grad(sq_loss(m, x, t), w)
  sq_loss(m, x, t):backward()
  local k = storage(w)
  m:zero_grad()
  truthy(C.record(w).spare ~= nil, "a spare")
  -- autograd.grad leaves .grad and the spare alone
  same_bits(A.grad(sq_loss(m, x, t), w), want, "autograd.grad")
  eq(w.grad, nil, "no .grad after autograd.grad")
  sq_loss(m, x, t):backward()
  truthy(storage(w) == k, "the spare survived autograd.grad")
  same_bits(peek(w), want, "written over the spare")
  -- create_graph: a recorded .grad, never kept as a spare
  m:zero_grad()
  sq_loss(m, x, t):backward({ create_graph = true })
  truthy(w.grad.requires_grad, "a recorded .grad")
  eq(C.record(w).spare, nil, "create_graph dropped the spare")
  check.near(check.maxdiff(w.grad:detach(), want), 0, 1e-12, "create_graph's gradient")
  m:zero_grad()
  eq(C.record(w).spare, nil, "a recorded .grad is no spare")
  sq_loss(m, x, t):backward()
  same_bits(peek(w), want, "a new buffer")
  -- an assigned .grad drops the spare; the user's tensor is not written
  m:zero_grad()
  local mine = T.randn(5, 6)
  local copy = mine:clone()
  w.grad = mine
  eq(C.record(w).spare, nil, "assignment dropped the spare")
  w.grad = nil
  eq(C.record(w).spare, nil, "the user's tensor is no spare")
  sq_loss(m, x, t):backward()
  same_bits(mine, copy, "the user's tensor")
  same_bits(peek(w), want, "after the user's tensor")
  -- requires_grad_(false) forgets the spare with the record
  m:zero_grad()
  w:requires_grad_(false)
  w:requires_grad_(true)
  eq(C.record(w).spare, nil, "a new record")
  sq_loss(m, x, t):backward()
  same_bits(peek(w), want, "after requires_grad_(false)")
  -- retain_graph: the second backward adds a sum, as with a fresh buffer
  m:zero_grad()
  local l = sq_loss(m, x, t)
  l:backward({ retain_graph = true })
  l:backward()
  same_bits(peek(w), want + want, "retain_graph twice")
end)

test("library_reads_do_not_lend_and_a_metric_function_does", function()
  local m = mlp(7, 4, 2, "f64")
  local x, t = T.randn(5, 7), T.randn(5, 2)
  local w = m:parameters()[1]
  -- nn's zero_grad(false) and the optimizers read without lending
  sq_loss(m, x, t):backward()
  m:zero_grad(false)
  optim.Adam(m:parameters()):step()
  m:zero_grad()
  truthy(C.record(w).spare ~= nil, "still private after zero_grad(false) and a step")
  -- covariant GD hands info.grad (a view of p.grad) to the user's metric
  local seen = {}
  local lone = T.randn(3, 4):requires_grad_()
  local opt = optim.CovariantGD({ lone }, { lr = 0.1, metric = function(info)
    seen[#seen + 1] = info.grad
    return function(f) return f end
  end })
  local function step()
    opt:zero_grad()
    local y = T.linear(T.randn(6, 4), lone)
    T.sum(y * y):backward()
    opt:step()
  end
  step()
  local copy = seen[1]:clone()
  step()
  step()
  eq(#seen, 3, "the metric was called")
  same_bits(seen[1], copy, "info.grad kept by the metric function")
end)

check.done()
