-- test_fuse.lua -- T.fuse: random chains of elementwise operations over
-- random shapes, broadcasts, strided views and rolls give the bits of the
-- same function run eagerly (it is the reference: T.fuse calls the same
-- function), in f32 and f64; 1 and 2 threads agree bit for bit; what the
-- tracer cannot record falls back with the eager results and says why; bad
-- programs and arguments raise naming the values; nothing leaks.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, truthy, raises = check.test, check.eq, check.truthy, check.raises

T.manual_seed(11)
math.randomseed(tonumber(os.getenv("FUSE_SEED") or 11))

-- the elements of a tensor as a flat list (complex: re, im pairs)
local function flat(t)
  local out = {}
  local function walk(v)
    if type(v) == "table" then for _, x in ipairs(v) do walk(x) end
    else out[#out + 1] = v end
  end
  walk(t:totable())
  return out
end

-- same bits (NaN equal to NaN, -0 apart from +0), or the first difference
local function same_bits(a, b, what)
  eq(a.dtype, b.dtype, what .. " dtype")
  local x, y = flat(a), flat(b)
  eq(#x, #y, what .. " size")
  for i = 1, #x do
    local p, q = x[i], y[i]
    local ok = (p ~= p and q ~= q) or string.pack("d", p) == string.pack("d", q)
    if not ok then
      error(string.format("%s: element %d differs: %.17g vs %.17g", what, i, p, q), 2)
    end
  end
end

-- --- random programs ---------------------------------------------------------------

local UNARY = { "neg", "abs", "exp", "sin", "cos", "tanh", "sigmoid", "square", "atan", "floor" }
local BINARY = { "add", "sub", "mul", "div", "minimum", "maximum" }

local function pick(t) return t[math.random(#t)] end

-- a random shape of 1 to 3 dims and one that broadcasts to it
local function random_shape()
  local s = {}
  for i = 1, math.random(1, 3) do s[i] = math.random(1, 6) end
  -- sometimes rows long enough to be read in place in pieces when rolled
  if math.random() < 0.3 then s[#s] = math.random(64, 160) end
  return s
end

local function broadcast_of(s)
  local b = {}
  local drop = math.random(0, #s - 1)
  for i = drop + 1, #s do b[#b + 1] = math.random() < 0.3 and 1 or s[i] end
  return b
end

-- a tensor of shape s, contiguous or a strided view (transposed, or every
-- other element of a bigger one)
local function random_tensor(s, dtype)
  local kind = math.random(3)
  if kind == 1 or #s < 2 then
    if kind == 3 and #s == 1 then
      return T.randn(2 * s[1]):astype(dtype):narrow(1, 1, s[1])
    end
    return T.randn(table.unpack(s)):astype(dtype)
  end
  if kind == 2 then   -- a transpose of the swapped shape
    local w = {}
    for i = 1, #s do w[i] = s[i] end
    w[#s - 1], w[#s] = w[#s], w[#s - 1]
    return T.randn(table.unpack(w)):astype(dtype):transpose(#s - 1, #s)
  end
  local w = {}   -- a narrow of a wider tensor: strides with gaps
  for i = 1, #s do w[i] = s[i] end
  w[#s] = s[#s] + 2
  return T.randn(table.unpack(w)):astype(dtype):narrow(#s, 2, s[#s])
end

-- A random program over nargs tensor arguments (argument 1 has the full
-- shape and may be written in place) and two numbers: a list of steps a
-- Lua function interprets, so that one function runs fused and eagerly.
local function random_program(nargs)
  local prog, nvals = {}, nargs
  for _ = 1, math.random(2, 9) do
    local r = math.random()
    if r < 0.3 then
      prog[#prog + 1] = { "unary", pick(UNARY), math.random(nvals) }
    elseif r < 0.6 then
      prog[#prog + 1] = { "binary", pick(BINARY), math.random(nvals), math.random(nvals) }
    elseif r < 0.75 then   -- with a number: a parameter or a literal
      prog[#prog + 1] = { "scalar", pick { "add", "sub", "mul", "div", "pow" }, math.random(nvals),
                          math.random() < 0.5 and "u" or (math.random() < 0.5 and 2 or 0.5),
                          math.random() < 0.5 }
    elseif r < 0.9 then
      prog[#prog + 1] = { "roll", math.random(nargs), math.random(-3, 3) }
    else
      prog[#prog + 1] = { "chain", math.random(nvals), math.random(nvals), math.random(nvals),
                          math.random(4) }
    end
    nvals = nvals + 1
  end
  prog.inplace = math.random() < 0.5 and pick { "add_", "mul_", "copy_", "sub_" }
  return prog
end

local function interpret(prog)
  return function(...)
    local v = { ... }
    local u, w = v[#v - 1], v[#v]   -- the two numbers
    local n = #v - 2
    for i = n + 1, #v do v[i] = nil end
    for _, st in ipairs(prog) do
      local kind = st[1]
      local x
      if kind == "unary" then
        x = v[st[3]][st[2]](v[st[3]])
      elseif kind == "binary" then
        x = v[st[3]][st[2]](v[st[3]], v[st[4]])
      elseif kind == "scalar" then
        local c = st[4] == "u" and u or st[4]
        local a = v[st[3]]
        if st[2] == "pow" then x = a:abs() ^ c
        elseif st[5] then x = a[st[2]](a, c)
        else   -- the number on the left, through the operators
          x = st[2] == "add" and c + a or st[2] == "sub" and c - a or st[2] == "mul" and c * a
              or c / a
        end
      elseif kind == "roll" then
        local a = v[st[2]]
        local d = math.min(#a.shape, 1 + (st[3] + 3) % 3)
        x = a:roll(st[3], d)
      else   -- SUM, AXPY and SUMAXPY material
        local a, b, c = v[st[2]], v[st[3]], v[st[4]]
        if st[5] == 1 then x = ((a + b) - c) * w + a
        elseif st[5] == 2 then x = ((a + b) - c) - b * w          -- 3 terms, - a product
        elseif st[5] == 3 then x = (((a - b) - c) + a) + c * b    -- 4 terms, + a product
        else x = ((a - c) + b) - a * c end
      end
      v[#v + 1] = x
    end
    local last = v[#v]
    if prog.inplace then
      -- argument 1 takes the last value (it has the full shape when the
      -- last value broadcasts to it)
      local ok = pcall(function() return v[1] + last end)
      if ok and #(v[1] + last).shape == #v[1].shape then
        local full = true
        local s1, s2 = v[1].shape, (v[1] + last).shape
        for i = 1, #s1 do full = full and s1[i] == s2[i] end
        if full then
          if prog.inplace == "copy_" then v[1]:copy_(last)
          elseif prog.inplace == "mul_" then v[1]:mul_(w)
          else v[1][prog.inplace](v[1], last) end
        end
      end
      return v[1], last
    end
    return last
  end
end

test("random_chains_match_eager_bits", function()
  local fused_calls, eager_calls = 0, 0
  for trial = 1, tonumber(os.getenv("FUSE_TRIALS") or 120) do
    local dtype = trial % 2 == 0 and "f32" or "f64"
    local s = random_shape()
    local nargs = math.random(1, 3)
    local shapes = { s }
    for i = 2, nargs do shapes[i] = broadcast_of(s) end
    local prog = random_program(nargs)
    local fn = interpret(prog)
    local fused = T.fuse(fn)
    for call = 1, 3 do   -- a new number each call: parameters, not constants
      local args = {}
      for i = 1, nargs do args[i] = random_tensor(shapes[i], dtype) end
      local u, w = 0.25 + call / 7, -1.5 + call / 3
      local e_args, f_args = {}, {}
      for i = 1, nargs do e_args[i] = args[i]:clone(); f_args[i] = args[i]:clone() end
      if args[1]:is_contiguous() == false then f_args[1] = args[1]:clone() end
      e_args[nargs + 1], e_args[nargs + 2] = u, w
      f_args[nargs + 1], f_args[nargs + 2] = u, w
      local ok_e, re1, re2 = pcall(fn, table.unpack(e_args, 1, nargs + 2))
      local ok_f, rf1, rf2 = pcall(fused, table.unpack(f_args, 1, nargs + 2))
      eq(ok_f, ok_e, "trial " .. trial .. ": both raise or neither")
      if ok_e then
        local what = string.format("trial %d call %d (%s)", trial, call, dtype)
        if os.getenv("FUSE_DUMP") then
          local parts = {}
          for _, st in ipairs(prog) do
            local q = {}
            for _, x in ipairs(st) do q[#q + 1] = tostring(x) end
            parts[#parts + 1] = "{" .. table.concat(q, " ") .. "}"
          end
          print(what, "shapes", (function() local o = {} for _, sh in ipairs(shapes) do o[#o+1] = "{" .. table.concat(sh, ",") .. "}" end return table.concat(o, " ") end)(), table.concat(parts, " "), prog.inplace)
        end
        same_bits(rf1, re1, what .. " result 1")
        if re2 then same_bits(rf2, re2, what .. " result 2") end
        for i = 1, nargs do same_bits(f_args[i], e_args[i], what .. " argument " .. i) end
      end
    end
    fused_calls, eager_calls = fused_calls + fused.stats.fused, eager_calls + fused.stats.eager
    if os.getenv("FUSE_DUMP") and fused.stats.eager > 0 then print("EAGER", fused.stats.reason) end
  end
  -- most programs fuse (the rest broadcast a roll or write a broadcast
  -- value: the eager fallback, checked above all the same)
  truthy(fused_calls > 200, "fused calls: " .. fused_calls .. ", eager " .. eager_calls)
end)

test("kg_step_matches_and_compiles_once", function()
  local m = 0.5
  local function step(p, q, dt)
    local f = p:roll(1, 1) + p:roll(-1, 1) + p:roll(1, 2) + p:roll(-1, 2) - p * (4 + m * m)
    q:add_(f * dt)
    p:add_(q * dt)
  end
  local fused = T.fuse(step)
  for _, dtype in ipairs { "f32", "f64" } do
    local p0 = T.randn(17, dtype == "f32" and 9 or 97):astype(dtype)
    local p1, q1, p2, q2 = p0:clone(), p0 * 0, p0:clone(), p0 * 0
    for k = 1, 20 do
      step(p1, q1, 0.01 * k)
      fused(p2, q2, 0.01 * k)
    end
    same_bits(p2, p1, dtype .. " phi")
    same_bits(q2, q1, dtype .. " pi")
  end
  eq(fused.stats.compiled, 2, "one program per dtype")
  eq(fused.stats.eager, 0, "no fallback")
end)

-- an argument written in place and read rolled along the rows: its rows
-- are stored a tile late, those near the ends of a thread's range through
-- a temporary; the bits of the operations one by one at 1 and 2 threads
test("rows_written_late_match_eager_at_1_and_2_threads", function()
  local function stepper(r)
    return function(p, q, dt)
      q:add_((p:roll(r, 1) + p:roll(-1, 1) + p:roll(3, 2) - p * 3) * dt)
      p:add_(q * dt)
    end
  end
  -- many tiles of rows (a tile: 1024 elements), rolls of 1 and 2 rows;
  -- 700 x 700: past the parallel grain
  for _, c in ipairs { { 700, 700, 1, "f64" }, { 64, 100, 2, "f64" }, { 256, 256, 1, "f32" },
                       { 50, 64, 2, "f32" }, { 5, 200, 2, "f64" }, { 40, 17, 1, "f64" } } do
    local step = stepper(c[3])
    local fused = T.fuse(step)
    local p0, q0 = T.randn(c[1], c[2]):astype(c[4]), T.randn(c[1], c[2]):astype(c[4])
    local pe, qe = p0:clone(), q0:clone()
    step(pe, qe, 0.1)
    step(pe, qe, 0.2)
    for _, th in ipairs { 1, 2 } do
      hebb.threads(th)
      local pf, qf = p0:clone(), q0:clone()
      fused(pf, qf, 0.1)
      fused(pf, qf, 0.2)
      hebb.threads(1)
      local what = c[1] .. "x" .. c[2] .. " " .. c[4] .. " at " .. th .. " threads"
      same_bits(pf, pe, what .. ", phi")
      same_bits(qf, qe, what .. ", pi")
    end
    eq(fused.stats.eager, 0, "no fallback")
  end
end)

-- Rolls read in place (the span path: pointers offset along the row, the
-- edge columns computed apart): every shift along each dimension -- 0,
-- negative, a row's length and beyond --, f32 and f64, views, results new
-- and in place (into an argument read at its neighbours, or not), rows
-- shorter and longer than a tile, at 1 and 2 threads: the eager bits.
test("rolls_in_place_every_shift_match_eager_at_1_and_2_threads", function()
  local function shifts_for(n)
    local s = { 0, 1, -1, 2, -2, n - 1, n, n + 1, -n, -n - 1, 2 * n + 3, math.random(-3 * n, 3 * n) }
    return s
  end
  -- a view of shape s: contiguous, every other row of a taller tensor, a
  -- narrow of wider rows, or a transpose
  local function view_of(s, dtype, kind)
    if kind == 1 or #s == 1 then return T.randn(table.unpack(s)):astype(dtype) end
    if kind == 2 then return T.randn(s[1], 2, s[2]):astype(dtype):select(2, 2) end
    if kind == 3 then return T.randn(s[1], s[2] + 3):astype(dtype):narrow(2, 2, s[2]) end
    return T.randn(s[2], s[1]):astype(dtype):transpose(1, 2)
  end
  local shapes = { { 9, 7 }, { 33, 64 }, { 256, 48 }, { 3, 5000 }, { 130, 301 }, { 64 }, { 700 },
                   { 5000 }, { 2, 3 } }
  local trials = 0
  for _, s in ipairs(shapes) do
    for _, dtype in ipairs { "f32", "f64" } do
      for d = 1, #s do
        for _, sh in ipairs(shifts_for(s[d])) do
          local sh2 = math.random(-2, 2)   -- the other dimension's roll
          local od = #s == 2 and 3 - d or d
          local kind = math.random(4)
          local mode = math.random(3)
          -- mode 1: new results; 2: written into p, which is read rolled
          -- (stored late or through the temporary); 3: written into q,
          -- read in place only
          local function step(p, q, c)
            local f = p:roll(sh, d) + p:roll(sh2, od) - p * c + q:roll(-sh, d) * 0.5
            if mode == 1 then return f * c, f:tanh() end
            if mode == 2 then p:add_(f * c); return nil end
            q:sub_(f * c)
            p:add_(q * c)
          end
          local fused = T.fuse(step)
          local p0, q0 = view_of(s, dtype, kind), view_of(s, dtype, math.random(4))
          local pe, qe = p0:clone(), q0:clone()
          local e1, e2 = step(pe, qe, 0.3)
          for _, th in ipairs { 1, 2 } do
            hebb.threads(th)
            local pf, qf = p0:clone(), q0:clone()
            if kind ~= 1 then pf = p0 * 1; pf:copy_(p0) end
            local f1, f2 = fused(pf, qf, 0.3)
            hebb.threads(1)
            local what = string.format("{%s} %s roll %d along %d, view %d, mode %d, %d threads",
                                       table.concat(s, ","), dtype, sh, d, kind, mode, th)
            if e1 then same_bits(f1, e1, what .. ": result 1"); same_bits(f2, e2, what .. ": result 2") end
            same_bits(pf, pe, what .. ": p")
            same_bits(qf, qe, what .. ": q")
          end
          eq(fused.stats.eager, 0, "no fallback")
          trials = trials + 1
        end
      end
    end
  end
  truthy(trials > 300, "trials: " .. trials)
end)

-- the replay knows operands by the proxies themselves: swapping them,
-- reusing a value after an in-place write, or a branch that writes an
-- argument in one call and not the next, gives each call's own bits
test("replay_follows_operands_and_in_place_values", function()
  local fn = T.fuse(function(x, y, flip, write)
    local a, b = x, y
    if flip then a, b = y, x end
    if write then x:mul_(2) end
    local r = a - b * 3
    return r + x, x == y, x == x
  end)
  local x0, y0 = T.randn(6, 5), T.randn(6, 5)
  for _, c in ipairs { { false, false }, { true, false }, { false, true }, { true, true },
                       { false, false }, { true, true }, { true, false } } do
    local xe, ye, xf, yf = x0:clone(), y0:clone(), x0:clone(), y0:clone()
    local a, b = xe, ye
    if c[1] then a, b = ye, xe end
    if c[2] then xe:mul_(2) end
    local want = a - b * 3 + xe
    local got, same_xy, same_xx = fn(xf, yf, c[1], c[2])
    local what = string.format("flip %s write %s", tostring(c[1]), tostring(c[2]))
    same_bits(got, want, what)
    same_bits(xf, xe, what .. ": x")
    eq(same_xy, false, what .. ": x == y is false")
    eq(same_xx, true, what .. ": x == x is true")
  end
  eq(fn.stats.eager, 0, "no fallback")
end)

-- A call that repeats the entry's last one (same plain arguments, same
-- plain upvalues, fn closed: no globals) runs the program without calling
-- fn; anything that could make fn act differently calls it again.
test("repeated_calls_run_fn_again_when_anything_could_differ", function()
  local x0 = T.randn(5, 6)
  -- an upvalue that changes between calls: a new number
  local k = 2
  local calls = 0
  local counted = T.fuse(function(x, c) return x * k + c end)
  for _, kk in ipairs { 2, 2, 3, 3, -1 } do
    k = kk
    same_bits(counted(x0, 0.5), x0 * kk + 0.5, "upvalue k = " .. kk)
  end
  -- fn that changes its upvalue runs at every call
  local bump = T.fuse(function(x) calls = calls + 1; return x + calls end)
  for i = 1, 4 do same_bits(bump(x0), x0 + i, "call " .. i .. " of a function with an effect") end
  eq(calls, 4, "fn ran at every call")
  -- a table argument whose contents change, a global that changes
  local opt = { s = 2 }
  local tab = T.fuse(function(x, o) return x * o.s end)
  for _, v in ipairs { 2, 2, 5 } do
    opt.s = v
    same_bits(tab(x0, opt), x0 * v, "table argument s = " .. v)
  end
  FUSE_TEST_GLOBAL = 1
  local glob = T.fuse(function(x) return x - FUSE_TEST_GLOBAL end)
  for _, v in ipairs { 1, 1, 7 } do
    FUSE_TEST_GLOBAL = v
    same_bits(glob(x0), x0 - v, "global = " .. v)
  end
  FUSE_TEST_GLOBAL = nil
  -- a helper function as upvalue (not a plain value): fn runs each call
  local scale = 3
  local function helper(x) return x * scale end
  local viahelper = T.fuse(function(x) return helper(x) + 1 end)
  for _, v in ipairs { 3, 3, 4 } do
    scale = v
    same_bits(viahelper(x0), x0 * v + 1, "helper's upvalue = " .. v)
  end
  -- repeated calls on other tensors, and in place: each call's own bits
  local step = T.fuse(function(p, q, dt) q:add_(p * dt); p:sub_(q * dt) end)
  local pe, qe, pf, qf = x0:clone(), x0 * 0, x0:clone(), x0 * 0
  for _ = 1, 5 do
    qe:add_(pe * 0.1); pe:sub_(qe * 0.1)
    step(pf, qf, 0.1)
  end
  same_bits(pf, pe, "repeated in-place step, p")
  same_bits(qf, qe, "repeated in-place step, q")
  local y = T.randn(5, 6)
  same_bits(counted(y, 0.5), y * k + 0.5, "the same numbers on another tensor")
  -- a returned table is fn's own each call
  local rt = T.fuse(function(x) return x * 2, { n = 1 } end)
  local _, t1 = rt(x0)
  local _, t2 = rt(x0)
  truthy(t1 ~= t2, "a returned table is a new one each call")
  -- a NaN number is never the same: fn runs, the result is right
  local nan = 0 / 0
  local r1 = counted(x0, nan)
  truthy(r1[1][1] ~= r1[1][1], "NaN parameter")
  -- values that are == but that fn can tell apart: 0.0 and -0.0, an
  -- integer and a float (n * 4 wraps only as an integer)
  local ones = T.ones(3, 4)
  local zk = 0.0
  local signed = T.fuse(function(x, c) return x / c, x / zk end)
  local wide = T.fuse(function(x, m) return x * (m * 4) end)
  for _, z in ipairs { { 0.0, 0.0 }, { 0.0, 0.0 }, { -0.0, 0.0 }, { -0.0, -0.0 }, { 0.0, -0.0 } } do
    local c = z[1]
    zk = z[2]
    local what = string.format("zeros of signs %g, %g", 1 / c, 1 / zk)
    local r1, r2 = signed(ones, c)
    same_bits(r1, ones / c, what .. ": argument")
    same_bits(r2, ones / zk, what .. ": upvalue")
  end
  for _, m in ipairs { 1 << 62, 1 << 62, 2.0 ^ 62, 2.0 ^ 62, 1 << 62 } do
    same_bits(wide(ones, m), ones * (m * 4), "m = " .. math.type(m) .. " 2^62")
  end
  -- a debug hook sees fn run at every call (a line hook counting fn's line)
  local line, seen
  local hooked = T.fuse(function(x, c) return x * c end)
  line = debug.getinfo(hooked.fn, "S").linedefined
  local function hook(_, l)
    if l == line and debug.getinfo(2, "f").func == hooked.fn then seen = seen + 1 end
  end
  seen = 0
  local h0, m0, c0 = debug.gethook()
  debug.sethook(hook, "l")
  for _ = 1, 3 do hooked(x0, 0.5) end
  if h0 then debug.sethook(h0, m0, c0) else debug.sethook() end
  eq(seen, 3, "the hook saw fn at each call")
  for _, f in ipairs { counted, bump, tab, glob, viahelper, step, rt, signed, wide, hooked } do
    eq(f.stats.eager, 0, "no fallback")
  end
end)

test("threads_give_the_same_bits", function()
  local fn = T.fuse(function(a, b, c)
    local x = (a * 1.5 + b:roll(3, 1) - b:roll(-2, 2)):tanh() - c:exp() * 0.25
    a:sub_(x * 0.125)
    return x:sigmoid(), ((a + b) - c) + x
  end)
  local n = 700   -- 490000 elements: past the parallel grain
  local a, b, c = T.randn(n, n), T.randn(n, n), T.randn(n)
  local res = {}
  for _, th in ipairs { 1, 2 } do
    hebb.threads(th)
    local a2 = a:clone()
    local r1, r2 = fn(a2, b, c)
    res[th] = { a2, r1, r2 }
  end
  hebb.threads(1)
  for k = 1, 3 do same_bits(res[2][k], res[1][k], "1 vs 2 threads, value " .. k) end
end)

test("numbers_are_parameters_and_control_flow_recompiles", function()
  local fn = T.fuse(function(x, k, s)
    if k > 0 then return x * s + k end
    return (x - s):abs()
  end)
  local x = T.randn(5, 4)
  for _, a in ipairs { { 1, 2 }, { 3, 0.5 }, { -1, 2 }, { 2, -7 } } do
    local k, s = a[1], a[2]
    local want = k > 0 and x * s + k or (x - s):abs()
    same_bits(fn(x, k, s), want, "k = " .. k)
  end
  eq(fn.stats.eager, 0, "no fallback")
  eq(fn.stats.compiled, 3, "a recompile when the branch changes, not when numbers do")
end)

test("returns_and_in_place", function()
  local fn = T.fuse(function(x, y)
    x:mul_(2)
    return x, y:exp(), 7, x + y
  end)
  local x, y = T.randn(3, 3), T.randn(3)
  local x0 = x:clone()
  local r1, r2, r3, r4 = fn(x, y)
  truthy(rawequal(r1, x), "an argument comes back as itself")
  same_bits(x, x0 * 2, "x written in place")
  same_bits(r2, y:exp(), "new result")
  eq(r3, 7, "a plain value passes through")
  same_bits(r4, x + y, "the value after the in-place write")
  -- a write into an argument read at other places goes through a temporary
  local g = T.fuse(function(p) p:add_(p:roll(1, 1) - p:roll(-1, 2)) end)
  local p = T.randn(6, 5)
  local want = p + (T.roll(p, 1, 1) - T.roll(p, -1, 2))
  g(p)
  same_bits(p, want, "rolled reads of a written argument")
  -- {out=} on an argument
  local h = T.fuse(function(a, b, o) a:add(b, { out = o }) end)
  local a, b, o = T.randn(4), T.randn(4), T.zeros(4)
  h(a, b, o)
  same_bits(o, a + b, "{out=}")
  eq(h.stats.eager, 0, "{out=} fused")
end)

test("fallbacks_give_eager_results_and_say_why", function()
  local x, y = T.randn(4, 3), T.randn(4, 3)
  local cases = {
    { function(a) return a * 2 + a:sum() end, { x }, "'sum'" },
    { function(a, b) return a:matmul(b:t()) end, { x, y }, "'matmul'" },
    { function(a) return a + y end, { x }, "not an argument" },
    { function(a, b) return a + b end, { x, y:astype("f32") }, "different dtypes" },
    { function(a) return a + 1 end, { T.arange(1, 5) }, "dtype i64" },
    { function(a) if a < 0 then return a end return a + 1 end, { x }, "comparison" },
    { function(a) return T.exp(a) end, { x }, "error while tracing" },
    { function(a) local y2 = a * 2; y2:add_(1); return y2 end, { x }, "not an argument" },
  }
  for i, c in ipairs(cases) do
    local f = T.fuse(c[1])
    local ok_e, want = pcall(c[1], table.unpack(c[2]))
    local ok_f, got = pcall(f, table.unpack(c[2]))
    eq(ok_f, ok_e, "case " .. i .. " raises as eager does")
    if ok_e and T.is_tensor(want) then same_bits(got, want, "case " .. i) end
    eq(f.stats.fused, 0, "case " .. i .. " not fused")
    truthy(tostring(f.stats.reason):find(c[3], 1, true),
           "case " .. i .. " reason: " .. tostring(f.stats.reason))
  end
  -- the same tensor twice, one of them written: aliasing, eagerly
  local f = T.fuse(function(a, b) a:add_(1); return b * 2 end)
  local z = T.randn(3)
  local want = (z + 1) * 2
  same_bits(f(z, z), want, "aliased arguments")
  eq(f.stats.fused, 0, "aliased: not fused")
end)

test("tracked_inputs_record_eagerly", function()
  local A = require "hebb.autograd"
  local f = T.fuse(function(a, b) return (a * b):sin() + a end)
  local a, b = T.randn(3):requires_grad_(), T.randn(3)
  local y = f(a, b)
  truthy(tostring(f.stats.reason):find("autograd", 1, true), "reason names autograd")
  A.backward(y:sum())
  check.same(a.grad, (a * b):cos() * b + 1, 1e-12)
end)

test("bad_inputs_raise_naming_values", function()
  raises(function() T.fuse(42) end, "fuse: fn must be a function, got 42")
  local C = require "hebb._fuse"
  local base = { dtype = "f64", shape = { 3 }, args = { { 3 } }, leaves = { { arg = 0, shift = { 0 } } },
                 code = { C.LOAD, 0, 0, 0, 0, 0, 0, 0, 0, C.UNARY, C.unops.exp, 1, 0, 0, 0, 0, 0, 0 },
                 nregs = 2, nparams = 0, outs = { 1, -1 }, nall = 1, pos = { 1 } }
  local function with(k, v)
    local s = {}
    for key, val in pairs(base) do s[key] = val end
    s[k] = v
    return s
  end
  local prog = C.compile(base)
  local ok, r = C.run(prog, {}, T.tensor { 0.5, 1, 2 })
  truthy(ok, "runs")
  check.same(r, T.tensor { 0.5, 1, 2 }:exp(), 0)
  raises(function() C.compile(with("dtype", "i64")) end, "dtype i64 (f32, f64, c64 or c128 only)")
  raises(function() C.compile(with("code", { C.LOAD, 0, 0, 0, 0, 0, 0, 0, 0, C.UNARY, 3, 5, 0, 0, 0, 0, 0, 0 })) end,
         "instruction 2 writes register 5 (the program has 2)")
  raises(function() C.compile(with("code", { C.UNARY, 3, 1, 0, 0, 0, 0, 0, 0 })) end,
         "instruction 1 reads register 0 before any instruction writes it")
  raises(function() C.compile(with("code", { 9, 0, 0, 0, 0, 0, 0, 0, 0 })) end, "instruction 1 has kind 9")
  raises(function() C.compile(with("code", { C.LOAD, 0, 0, 4, 0, 0, 0, 0, 0 })) end,
         "instruction 1 loads input 4 (the program has 1)")
  raises(function() C.compile(with("args", { { 4 } })) end,
         "argument 1 (size 4 along dimension 1) does not broadcast to the results' size 3")
  raises(function() C.compile(with("outs", { 1, 0, 1, 0 })) end, "results 1 and 2 both go to argument 1")
  raises(function() C.run(prog, {}, T.tensor { 1.5, 2 }) end,
         "argument 1 has size 2 along dimension 1, the program expects 3")
  raises(function() C.run(prog, {}, T.tensor { 1.5, 2, 3 }:astype("f32")) end,
         "argument 1 is f32, the program f64")
  raises(function() C.run(prog, { 1 }, T.tensor { 1.5, 2, 3 }) end, "1 numbers for a program of 0")
  raises(function() C.run(prog, {}, 5) end, "the values do not have the program's tensors")
end)

test("complex_chains", function()
  local fn = T.fuse(function(z, w) return (z * w + z:exp()) / (w - 2) end)
  local z = T.complex(T.randn(5), T.randn(5))
  local w = T.complex(T.randn(5), T.randn(5))
  same_bits(fn(z, w), (z * w + z:exp()) / (w - 2), "c128")
  eq(fn.stats.fused, 1, "complex fused")
  -- rolled complex inputs read in place (16- and 8-byte elements), one
  -- written in place while read at its neighbours
  local function step(p, q, c)
    q:add_((p:roll(1, 1) + p:roll(-2, 2) - p * c) * 0.5)
    p:sub_(q * c + p:roll(3, 2) * 0.125)
  end
  local fstep = T.fuse(step)
  for _, sh in ipairs { { 9, 7 }, { 40, 33 }, { 3, 3000 } } do
    for _, dt in ipairs { "c128", "c64" } do
      local p0 = T.complex(T.randn(sh[1], sh[2]), T.randn(sh[1], sh[2])):astype(dt)
      local q0 = T.complex(T.randn(sh[1], sh[2]), T.randn(sh[1], sh[2])):astype(dt)
      local pe, qe = p0:clone(), q0:clone()
      step(pe, qe, 0.25)
      for _, th in ipairs { 1, 2 } do
        hebb.threads(th)
        local pf, qf = p0:clone(), q0:clone()
        fstep(pf, qf, 0.25)
        hebb.threads(1)
        local what = string.format("%dx%d %s at %d threads", sh[1], sh[2], dt, th)
        same_bits(pf, pe, what .. ": p")
        same_bits(qf, qe, what .. ": q")
      end
    end
  end
  eq(fstep.stats.eager, 0, "complex rolls fused")
end)

test("no_leaks", function()
  local fn = T.fuse(function(p, q, dt)
    q:add_((p:roll(1, 1) + p:roll(-1, 2) - p * 4) * dt)
    p:add_(q * dt)
    return p * q
  end)
  local p, q = T.randn(32, 32), T.zeros(32, 32)
  for _ = 1, 5 do fn(p, q, 0.01) end
  collectgarbage(); collectgarbage()
  local before = hebb.alloc_stats().bytes_in_use
  for _ = 1, 200 do fn(p, q, 0.01) end
  collectgarbage(); collectgarbage()
  eq(hebb.alloc_stats().bytes_in_use, before, "bytes in use after 200 calls")
end)

check.done()
