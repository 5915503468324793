-- test_optim_group.lua -- Adam/AdamW update every parameter in one C call
-- (_optim.apply, stdlib/hebb/_optim_first_order.lua): the same bits as the
-- per-parameter form it replaced, written out here as it was (step count
-- and bias corrections in Lua, one _optim.adam call per parameter), for
-- random parameter lists (shapes, f32/f64), options (weight decay,
-- amsgrad, AdamW), steps where only some parameters have gradients (their
-- step counts part), gradients given by the closure or in p.grad,
-- non-contiguous gradients, 1 and 2 threads, and a state_dict /
-- load_state_dict in the middle of a run.  Then the errors, which name the
-- optimizer, the parameter and the value as before.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local optim = require "hebb.optim"
local C = require "hebb._optim"
local test, eq, raises = check.test, check.eq, check.raises

local ok_ag, autograd = pcall(require, "hebb.autograd")

-- the per-parameter step of before: state made at the first step, then
-- st.step + 1, bc = 1 - b^t in Lua, one C call per parameter
local function ref_step(r, grads)
  for i, p in ipairs(r.params) do
    local g = grads[i]
    if g ~= nil then
      if not g:is_contiguous() then g = g:contiguous() end
      local st = r.state[i]
      if not st then
        st = { step = 0, exp_avg = T.zeros_like(p), exp_avg_sq = T.zeros_like(p) }
        if r.amsgrad then st.max_exp_avg_sq = T.zeros_like(p) end
        r.state[i] = st
      end
      local b1, b2 = r.betas[1], r.betas[2]
      st.step = st.step + 1
      local hp = { name = "ref", lr = r.lr, weight_decay = r.weight_decay, eps = r.eps,
        beta1 = b1, beta2 = b2, bc1 = 1 - b1 ^ st.step, bc2 = 1 - b2 ^ st.step,
        decoupled = r.decoupled, amsgrad = r.amsgrad }
      C.adam(p, g, hp, st.exp_avg, st.exp_avg_sq, st.max_exp_avg_sq)
    end
  end
end

local function rand_shape()
  local nd = math.random(1, 3)
  local s = {}
  for d = 1, nd do s[d] = math.random(1, nd == 1 and 60 or 9) end
  return s
end

local function same_bits(a, b, what)
  eq(a:tobytes() == b:tobytes(), true, what)
end

-- one random case: returns a description and runs the check at 'threads'
local function run_case(seed, threads)
  math.randomseed(seed)
  T.manual_seed(seed)
  local dtype = math.random() < 0.5 and "f32" or "f64"
  local np = math.random(1, 5)
  local shapes = {}
  for i = 1, np do shapes[i] = rand_shape() end
  if seed % 4 == 0 then shapes[1] = { 600, 250 } end   -- split over 2 threads
  local opts = {
    lr = 10 ^ (-math.random(1, 3)), eps = 10 ^ (-math.random(4, 9)),
    betas = { 0.5 + 0.49 * math.random(), 0.9 + 0.0999 * math.random() },
    weight_decay = math.random() < 0.5 and 0 or 0.1 * math.random(),
    amsgrad = math.random() < 0.5,
  }
  local cls = math.random() < 0.3 and "AdamW" or "Adam"
  local nsteps = math.random(1, 12)
  local save_at = math.random(0, nsteps)
  local via_grad = ok_ag and math.random() < 0.5
  -- the gradients of every step (nil: the parameter has none that step)
  local G = {}
  for s = 1, nsteps do
    G[s] = {}
    for i = 1, np do
      if math.random() < 0.8 then
        local g = T.randn(table.unpack(shapes[i])):astype(dtype)
        if #shapes[i] == 2 and math.random() < 0.3 then   -- a transposed view
          g = T.randn(shapes[i][2], shapes[i][1]):astype(dtype):t()
        end
        G[s][i] = g
      end
    end
  end
  local P0 = {}
  for i = 1, np do P0[i] = T.randn(table.unpack(shapes[i])):astype(dtype) end

  -- the reference, at 1 thread
  hebb.threads(1)
  local r = { params = {}, state = {}, lr = opts.lr, eps = opts.eps, betas = opts.betas,
    weight_decay = opts.weight_decay, amsgrad = opts.amsgrad, decoupled = cls == "AdamW" }
  for i = 1, np do r.params[i] = P0[i]:clone() end
  for s = 1, nsteps do ref_step(r, G[s]) end

  -- the optimizer, at 'threads'
  hebb.threads(threads)
  local ps = {}
  for i = 1, np do
    ps[i] = P0[i]:clone()
    if via_grad then ps[i]:requires_grad_() end
  end
  local opt = optim[cls](ps, opts)
  for s = 1, nsteps do
    if s == save_at + 1 and save_at > 0 then   -- continue from a saved state
      local sd = opt:state_dict()
      opt = optim[cls](ps, {})
      opt:load_state_dict(sd)
    end
    if via_grad then
      for i = 1, np do ps[i].grad = G[s][i] end
      opt:step()
      opt:zero_grad()
    else
      local list = G[s]
      opt:step(function() return 0, list end)
    end
  end
  hebb.threads(1)
  local what = string.format("seed %d (%s %s, %d params, %d steps, amsgrad %s, wd %g, %d threads)",
    seed, cls, dtype, np, nsteps, tostring(opts.amsgrad), opts.weight_decay, threads)
  for i = 1, np do
    local p = via_grad and ps[i]:detach() or ps[i]
    same_bits(p, r.params[i], what .. ": params[" .. i .. "]")
    local st, rs = opt.state[i], r.state[i]
    eq(st == nil, rs == nil, what .. ": state of params[" .. i .. "]")
    if st then
      eq(st.step, rs.step, what .. ": step of params[" .. i .. "]")
      same_bits(st.exp_avg, rs.exp_avg, what .. ": exp_avg")
      same_bits(st.exp_avg_sq, rs.exp_avg_sq, what .. ": exp_avg_sq")
      if rs.max_exp_avg_sq then same_bits(st.max_exp_avg_sq, rs.max_exp_avg_sq, what .. ": vmax") end
    end
  end
end

test("adam_group_same_bits_as_per_parameter", function()
  local saved = hebb.threads()
  for seed = 1, 40 do
    run_case(seed, 1)
    run_case(seed, 2)
  end
  hebb.threads(saved)
end)

-- a step count that differs between parameters (some had no gradient at
-- some steps) gives each its own bias corrections
test("adam_group_own_step_counts", function()
  local a, b = T.tensor({ 1.0, -2.0 }), T.tensor({ 0.5 })
  local opt = optim.Adam({ a, b }, { lr = 0.1 })
  local ga, gb = T.tensor({ 0.3, -0.1 }), T.tensor({ 2.0 })
  opt:step(function() return 0, { ga } end)
  opt:step(function() return 0, { ga } end)
  opt:step(function() return 0, { ga, gb } end)
  eq(opt.state[1].step, 3, "steps of params[1]")
  eq(opt.state[2].step, 1, "steps of params[2]")
  -- b's first step: m = 0.1 g, v = 0.001 g^2, bc1 = 0.1, bc2 = 0.001, so
  -- the step is lr g / (|g| + eps)
  local want = 0.5 - 0.1 * 2 / (2 + 1e-8)
  check.near(b[1], want, 1e-15, "b after its first step")
end)

test("adam_group_errors", function()
  local x = T.tensor({ 1.0, 2.0 })
  local y = T.tensor({ { 1.0, 2.0, 3.0 }, { 4.0, 5.0, 6.0 } })
  local opt = optim.Adam({ x, y }, { lr = 0.1 })
  raises(function() opt:step(function() return 0, { x:clone(), T.zeros(3) } end) end,
    "optim.Adam (params[2]): gradient shape {3} does not match parameter shape {2,3}")
  raises(function() opt:step(function() return 0, { x:clone(), "g" } end) end,
    "optim.Adam: the gradient of params[2] must be a tensor, got \"g\"")
  raises(function() opt:step(function() return 0, { x:astype("f32") } end) end,
    "optim.Adam (params[1]): gradient dtype f32 does not match parameter dtype f64")
  -- a view that is not contiguous cannot be a parameter of the C loops
  local base = T.zeros(3, 2)
  local v = base:t()
  local ov = optim.Adam({ v }, { lr = 0.1 })
  raises(function() ov:step(function() return 0, T.ones(2, 3) end) end,
    "optim.Adam (params[1]): the parameter (shape {2,3}) is not contiguous")
  -- amsgrad switched on after the state was made: the maximum is missing
  local oa = optim.AdamW({ x }, { lr = 0.1 })
  oa:step(function() return 0, x:clone() end)
  oa.amsgrad = true
  raises(function() oa:step(function() return 0, x:clone() end) end,
    "optim.AdamW (params[1]): 2 state tensors given, 3 expected")
  -- the message is placed at the caller's line, as before
  local okr, err = pcall(function() opt:step(function() return 0, { x:clone(), T.zeros(3) } end) end)
  check.truthy(not okr and tostring(err):find("test_optim_group.lua:%d+:") ~= nil,
    "the error names the caller's line: " .. tostring(err))
end)

-- against Adam written out per element in Lua (an independent
-- reference: the other tests compare with the C loop called per
-- parameter), through opt:step, with and without decoupled decay and amsgrad
test("adam_group_matches_the_formula_in_lua", function()
  for trial = 1, 12 do
    local decoupled, amsgrad = trial % 2 == 0, trial % 3 == 0
    local lr, b1, b2, eps, wd = 0.05, 0.8 + 0.01 * trial, 0.99, 1e-6, 0.1
    local ps = { T.randn(3), T.randn(2, 2) }
    local ref = {}
    for i, p in ipairs(ps) do
      ref[i] = { p = p:reshape(-1):totable(), m = {}, v = {}, vmax = {}, n = p:numel() }
      for j = 1, p:numel() do ref[i].m[j], ref[i].v[j], ref[i].vmax[j] = 0, 0, 0 end
    end
    local make = decoupled and optim.AdamW or optim.Adam
    local opt = make(ps, { lr = lr, betas = { b1, b2 }, eps = eps, weight_decay = wd,
                           amsgrad = amsgrad })
    for t = 1, 5 do
      local gs = { T.randn(3), T.randn(2, 2) }
      -- params[2] skips step 2: its own step count
      local given = t == 2 and { gs[1] } or gs
      opt:step(function() return 0, given end)
      for i = 1, #given do
        local r, g = ref[i], given[i]:reshape(-1):totable()
        r.t = (r.t or 0) + 1
        for j = 1, r.n do
          local gj = g[j]
          if decoupled then r.p[j] = r.p[j] * (1 - lr * wd) else gj = gj + wd * r.p[j] end
          r.m[j] = b1 * r.m[j] + (1 - b1) * gj
          r.v[j] = b2 * r.v[j] + (1 - b2) * gj * gj
          r.vmax[j] = math.max(r.vmax[j], r.v[j])
          local v = amsgrad and r.vmax[j] or r.v[j]
          local mhat, vhat = r.m[j] / (1 - b1 ^ r.t), v / (1 - b2 ^ r.t)
          r.p[j] = r.p[j] - lr * mhat / (math.sqrt(vhat) + eps)
        end
      end
    end
    for i, p in ipairs(ps) do
      local got = p:reshape(-1):totable()
      for j = 1, ref[i].n do
        check.near(got[j], ref[i].p[j], 1e-12 * (1 + math.abs(ref[i].p[j])),
          ("trial %d params[%d][%d]"):format(trial, i, j))
      end
    end
  end
end)

-- a state table changed by hand: errors naming the parameter and the entry
test("adam_group_bad_state_raises", function()
  local x = T.tensor({ 1.0, 2.0 })
  local function fresh()
    local opt = optim.Adam({ x:clone() }, { lr = 0.1 })
    opt:step(function() return 0, T.ones(2) end)
    return opt
  end
  local step = function(opt) return function() opt:step(function() return 0, T.ones(2) end) end end
  local o1 = fresh(); o1.state[1].step = "x"
  raises(step(o1), "optim.Adam (params[1]): state.step must be a number, got string")
  local o2 = fresh(); o2.state[1].exp_avg = {}
  raises(step(o2), "optim.Adam (params[1]): state.exp_avg must be a tensor, got table")
  local o3 = fresh(); o3.state[1] = 7
  raises(step(o3), "optim.Adam (params[1]): the state must be a table, got number")
  local o4 = fresh(); o4.params[1] = "p"
  raises(step(o4), "optim.Adam (params[1]): the parameter must be a tensor, got string")
end)

check.done()
