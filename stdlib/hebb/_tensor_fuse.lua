-- hebb._tensor_fuse: T.fuse, chains of elementwise operations evaluated in
-- one pass (natives/core/fuse.c through hebb._fuse).  tensor.lua hands it
-- hebb.tensor's module table, methods table and doc function.
--
-- A fused function calls the user's function at every call, with proxies in
-- place of its tensor arguments: the proxies record the operations (a
-- trace) instead of computing them.  The first call of a signature (the
-- tensors' dtypes and shapes) compiles the trace into a program of
-- fuse.c; later calls *replay*: each operation is checked against the trace
-- (same operation on the same operands) and the Lua numbers it meets are
-- stored as the program's parameters, so numbers may change from call to
-- call and control flow may differ (a trace that changes is recompiled).
-- Anything the proxies cannot record -- an operation that is not
-- elementwise, a tensor that is not an argument, a comparison, a tracked
-- (autograd) argument -- makes the call evaluate eagerly, with the
-- ordinary operations and their results.
--
-- tensor.lua loads this file at the first call of T.fuse (a stub that
-- carries T.fuse's docstring, which the real T.fuse takes over).
local E = require "hebb._error"

return function(T, methods, doc)
  local text = doc(T.fuse)   -- the stub's (tensor.lua)
  local is_tensor = T.is_tensor
  local C            -- hebb._fuse, loaded at the first call (it requires
                     -- hebb.tensor, which is loading this file)
  local MAXSIGS = 8  -- compiled signatures kept per fused function

  local P = {}       -- the metatable of proxies
  local cur          -- the call being traced or replayed, or nil
  local UNSUP = {}   -- the error value of an operation the tracer refuses

  local function unsupported(fmt, ...)
    if cur then cur.reason = string.format(fmt, ...) end
    error(UNSUP, 0)
  end

  local function session()
    if not cur then
      E.raise("T.fuse: a traced value was used outside the call of its fused function")
    end
    return cur
  end

  local function is_proxy(x) return getmetatable(x) == P end

  -- NumPy broadcasting of two shapes, or nil
  local function broadcast(a, b)
    local na, nb = #a, #b
    local n = na > nb and na or nb
    local r = {}
    for i = 1, n do
      local x, y = a[i - n + na] or 1, b[i - n + nb] or 1
      if x ~= y and x ~= 1 and y ~= 1 then return nil end
      r[i] = x == 1 and y or x
    end
    return r
  end

  local function same_shape(a, b)
    if #a ~= #b then return false end
    for i = 1, #a do if a[i] ~= b[i] then return false end end
    return true
  end

  -- an operand: the node a proxy denotes now, or a Lua number
  local function operand(S, x, what, name)
    if getmetatable(x) == P then
      local v = x.v
      if (v.idx and (v.idx > S.pos or not rawequal(S.trace[v.idx], v)))
         or (not v.idx and v.owner ~= S.entry) then
        unsupported("a value traced in another call of the fused function")
      end
      return v
    end
    if math.type(x) == "float" then return x end
    if math.type(x) == "integer" then
      if x > 2 ^ 53 or x < -2 ^ 53 then
        unsupported("the integer %d (beyond 2^53) as the %s of %s", x, what, name)
      end
      return x
    end
    if is_tensor(x) then unsupported("a tensor that is not an argument, as the %s of %s", what, name) end
    unsupported("%s as the %s of %s", E.show(x), what, name)
  end

  -- The next event of the call: the trace's own when it is the same
  -- operation on the same operands (replay), else a new one (record).
  -- a, b: nodes or numbers; ex: extra data compared by value (shifts).
  local function event(S, op, a, b, ex)
    local k = S.pos + 1
    S.pos = k
    local ev = S.trace[k]
    local na, nb = type(a) == "table" and a or false, type(b) == "table" and b or false
    if ev and ev.op == op and rawequal(ev.a, na) and rawequal(ev.b, nb) and ev.ex == ex then
      local pa, pb = ev.pa, ev.pb
      if pa then S.params[pa] = a; if pa > S.np then S.np = pa end end
      if pb then S.params[pb] = b; if pb > S.np then S.np = pb end end
      return ev, false
    end
    for i = #S.trace, k, -1 do S.trace[i] = nil end   -- the trace changes here
    S.changed = true
    ev = { op = op, a = na, b = nb, ex = ex, idx = k }
    if not na and a ~= nil then
      S.np = S.np + 1; ev.pa = S.np; S.params[ev.pa] = a
    end
    if not nb and b ~= nil then
      S.np = S.np + 1; ev.pb = S.np; S.params[ev.pb] = b
    end
    S.trace[k] = ev
    return ev, true
  end

  local function node_of(S, ev, shape, kind, code)
    if ev.v then return ev end
    ev.v, ev.shape, ev.kind, ev.code, ev.dtype, ev.ndim = ev, shape, kind, code, S.dtype, #shape
    return setmetatable(ev, P)
  end

  local UN, BIN   -- operation codes (C.unops, C.binops)

  local BIG = 2 ^ 53

  local function unary_slow(name, x)
    local S = session()
    local a = operand(S, x, "operand", name)
    if type(a) ~= "table" then unsupported("%s of a number", name) end
    local ev = event(S, name, a, nil)
    ev.ox = x
    return node_of(S, ev, a.shape, "unary", UN[name])
  end

  local function binary_slow(name, x, y)
    local S = session()
    local a = operand(S, x, "first operand", name)
    local b = operand(S, y, "second operand", name)
    local ev, new = event(S, name, a, b)
    ev.ox = type(a) == "table" and x
    ev.oy = type(b) == "table" and y
    if not new and ev.v then return ev end
    local shape
    if type(a) == "table" and type(b) == "table" then
      shape = broadcast(a.shape, b.shape)
      if not shape then unsupported("%s of shapes that do not broadcast", name) end
    else
      shape = type(a) == "table" and a.shape or b.shape
    end
    return node_of(S, ev, shape, "binary", BIN[name])
  end

  -- The replay of the trace's next event when it is this operation on
  -- these operands (the common case after the first call), else the
  -- general path.  An event keeps the operands it was last met with (ox,
  -- oy: the proxies themselves, false for a number): when the events
  -- before it were replayed as recorded, every proxy denotes what it did
  -- then (a proxy changes only at the trace's "=" events), so meeting the
  -- same proxy is meeting the same operand.  (x == ox is raw: proxies' __eq
  -- is rawequal, and ox comes first.)
  local function unary(name, x)
    local S = cur
    if S then
      local k = S.pos + 1
      local ev = S.trace[k]
      if ev and ev.op == name and ev.v and ev.ox == x then
        S.pos = k
        return ev
      end
    end
    return unary_slow(name, x)
  end

  local function binary(name, x, y)
    local S = cur
    if S then
      local k = S.pos + 1
      local ev = S.trace[k]
      if ev and ev.op == name and ev.v then
        local ox, oy = ev.ox, ev.oy
        if ox then
          if not (ox == x) then return binary_slow(name, x, y) end
        elseif not (type(x) == "number" and x < BIG and x > -BIG) then
          return binary_slow(name, x, y)
        end
        if oy then
          if not (oy == y) then return binary_slow(name, x, y) end
        elseif not (type(y) == "number" and y < BIG and y > -BIG) then
          return binary_slow(name, x, y)
        end
        if not ox then
          local pa = ev.pa
          S.params[pa] = x
          if pa > S.np then S.np = pa end
        end
        if not oy then
          local pb = ev.pb
          S.params[pb] = y
          if pb > S.np then S.np = pb end
        end
        S.pos = k
        return ev
      end
    end
    return binary_slow(name, x, y)
  end

  local function assign_slow(S, target, node, who)
    if getmetatable(target) ~= P or not target.arg then
      unsupported("%s on a value that is not an argument (in-place writes go to arguments)", who)
    end
    if type(node) ~= "table" then unsupported("%s with a number", who) end
    local tshape = target.shape
    local bs = broadcast(tshape, node.shape)
    if not bs or not same_shape(bs, tshape) then
      unsupported("%s: the value does not broadcast to the argument's shape", who)
    end
    local ev = event(S, "=", target.leaf, node)
    ev.ot = target
    target.v = node
    return target
  end

  -- x:op_(...) on an argument: the argument denotes the new value
  local function assign(S, target, node, who)
    local k = S.pos + 1
    local ev = S.trace[k]
    if ev and ev.op == "=" and ev.ot == target and ev.b == node then
      S.pos = k
      target.v = node
      return target
    end
    return assign_slow(S, target, node, who)
  end

  -- x:roll(shifts [, dims]) of an argument's elements: a new input
  local function roll(x, shifts, dims)
    local S = cur
    if S then
      local k = S.pos + 1
      local ev = S.trace[k]
      -- (rs, rd: the shifts and dims when they were numbers, else false)
      if ev and ev.op == "roll" and ev.ox == x and ev.rs == shifts and ev.rd == dims then
        S.pos = k
        return ev
      end
    end
    S = session()
    local a = operand(S, x, "operand", "roll")
    if type(a) ~= "table" or not a.leafof then
      unsupported("roll of a computed value (roll the arguments, then compute)")
    end
    if dims == nil then unsupported("roll without dims (a flat roll)") end
    local rs0, rd0 = shifts, dims
    if type(shifts) ~= "table" then shifts, dims = { shifts }, { dims } end
    if type(dims) ~= "table" or #dims ~= #shifts then unsupported("roll with shifts and dims that differ") end
    local nd, sh = #a.shape, {}
    for i = 1, nd do sh[i] = a.shift[i] end
    for i = 1, #shifts do
      local d, s = dims[i], shifts[i]
      if math.type(d) ~= "integer" or math.type(s) ~= "integer" then
        unsupported("roll with shifts or dims that are not integers")
      end
      if d < 0 then d = d + nd + 1 end
      if d < 1 or d > nd then unsupported("roll along dimension %d of %d", dims[i], nd) end
      sh[d] = sh[d] + s
    end
    local key = table.concat(sh, ",")
    local rs, rd = rs0, rd0
    local ev, new = event(S, "roll", a, nil, key)
    ev.ox = x
    ev.rs = type(rs) == "number" and rs
    ev.rd = type(rd) == "number" and rd
    if not new and ev.v then return ev end
    ev.v, ev.shape, ev.kind, ev.shift, ev.leafof, ev.dtype = ev, a.shape, "leaf", sh, a.leafof, S.dtype
    ev.ndim = #a.shape
    return setmetatable(ev, P)
  end

  -- --- the proxies' methods ---------------------------------------------------

  local M = {}
  for _, name in ipairs { "neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "sin",
                          "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan",
                          "sigmoid", "relu", "softplus", "floor", "ceil", "round",
                          "reciprocal", "square" } do
    M[name] = function(x, opts)
      if opts ~= nil then unsupported("%s with options", name) end
      return unary(name, x)
    end
    local who = name .. "_"
    M[who] = function(x)
      local S = session()
      return assign(S, x, unary(name, x), who)
    end
  end
  for _, name in ipairs { "add", "sub", "mul", "div", "idiv", "mod", "pow", "minimum", "maximum",
                          "atan2" } do
    M[name] = function(x, y, opts)
      local r = binary(name, x, y)
      if opts == nil then return r end
      if type(opts) ~= "table" or next(opts, next(opts)) ~= nil or opts.out == nil then
        unsupported("%s with options other than {out=}", name)
      end
      return assign(session(), opts.out, r, name .. "{out=}")
    end
    local who = name .. "_"
    M[who] = function(x, y)
      return assign(session(), x, binary(name, x, y), who)
    end
  end
  M.remainder = M.mod
  function M.copy_(x, y)
    local S = session()
    local b = operand(S, y, "the source of copy_")
    return assign(S, x, b, "copy_")
  end
  function M.clone(x) return unary("clone", x) end
  M.roll = roll
  function M.numel(x)
    local n = 1
    for _, s in ipairs(x.shape) do n = n * s end
    return n
  end
  function M.size(x, d)
    if d == nil then return table.unpack(x.shape) end
    if d < 0 then d = d + #x.shape + 1 end
    return x.shape[d]
  end

  -- the fields of proxies and nodes this file reads, absent on some
  local INTERNAL = { idx = true, owner = true, arg = true, leafof = true, a = true, b = true,
                     pa = true, pb = true, v = true, ex = true, shift = true, code = true,
                     kind = true, op = true, leaf = true, ox = true, oy = true, ot = true,
                     rs = true, rd = true }
  -- methods are found in M directly; other keys are the proxies' own
  -- fields (shape, ndim, dtype) or refused
  M.requires_grad = false
  setmetatable(M, { __index = function(_, k)
    if INTERNAL[k] then return nil end
    unsupported("%s of a tensor", type(k) == "string" and ("'" .. k .. "'") or "indexing")
  end })
  P.__index = M
  P.__add = function(x, y) return binary("add", x, y) end
  P.__sub = function(x, y) return binary("sub", x, y) end
  P.__mul = function(x, y) return binary("mul", x, y) end
  P.__div = function(x, y) return binary("div", x, y) end
  P.__mod = function(x, y) return binary("mod", x, y) end
  P.__idiv = function(x, y) return binary("idiv", x, y) end
  P.__pow = function(x, y) return binary("pow", x, y) end
  P.__unm = function(x) return unary("neg", x) end
  P.__lt = function() unsupported("a comparison (<)") end
  P.__le = function() unsupported("a comparison (<=)") end
  P.__len = function(x) return rawget(x, "shape")[1] end
  P.__eq = rawequal   -- (the replay's identity checks rely on it)
  P.__tostring = function(x)
    return string.format("traced %s value of shape {%s}", rawget(x, "dtype"),
                         table.concat(rawget(x, "shape"), ", "))
  end
  P.__name = "hebb.fuse.traced"

  -- clone is an identity inside a program: the result is a new tensor anyway
  -- when it is returned, and nothing can write into it
  local function resolve(n)
    while n.op == "clone" do n = n.a end
    return n
  end

  -- --- compiling a trace --------------------------------------------------------

  -- the program of a finished trace, or nil and the reason
  local function compile(S, entry, rets, nret)
    local trace = S.trace
    -- results: returned computed values (new tensors) and final arguments
    local outs, outnode, retmap = {}, {}, {}
    local shape
    local function want_shape(sh, what)
      if not shape then shape = sh
      elseif not same_shape(shape, sh) then
        return nil, what .. " has another shape than the other results"
      end
      return true
    end
    for i = 1, nret do
      local r = rets[i]
      if is_proxy(r) then
        if r.arg then
          retmap[i] = { arg = r.arg }
        else
          local n = resolve(r.v)
          local ok, why = want_shape(r.shape, "result " .. i)
          if not ok then return nil, why end
          local found
          for j, o in ipairs(outs) do if o.node == n and o.arg < 0 then found = j end end
          if not found then
            outs[#outs + 1] = { node = n, arg = -1 }
            found = #outs
          end
          retmap[i] = { out = found }
        end
      end
    end
    for _, ap in ipairs(entry.argproxies) do
      if ap.v ~= ap.leaf then
        local ok, why = want_shape(ap.shape, "argument " .. ap.arg .. " (written in place)")
        if not ok then return nil, why end
        outs[#outs + 1] = { node = resolve(ap.v), arg = ap.arg - 1 }
      end
    end
    if #outs == 0 then return { noop = true, retmap = retmap } end
    local nnew = 0
    for _, o in ipairs(outs) do
      if o.arg < 0 then nnew = nnew + 1; o.newidx = nnew end
    end
    -- the nodes the results need, in trace order
    local live, order = {}, {}
    local function mark(n)
      n = resolve(n)
      if live[n] then return end
      live[n] = true
      if n.kind == "unary" or n.kind == "binary" then
        if n.a then mark(n.a) end
        if n.b then mark(n.b) end
      end
    end
    for _, o in ipairs(outs) do mark(o.node) end
    for n in pairs(live) do order[#order + 1] = n end
    table.sort(order, function(x, y) return (x.idx or 0) < (y.idx or 0) end)
    -- instructions: an operand is a node or a parameter's slot (a number)
    local recs, recof, uses = {}, {}, {}
    local function ref(n, p)
      if n then n = resolve(n); uses[n] = (uses[n] or 0) + 1; return n end
      return p
    end
    for _, n in ipairs(order) do
      if n.kind == "unary" or n.kind == "binary" then
        if not n.code then return nil, "the operation " .. n.op .. " is not supported" end
        local r = { node = n, kind = n.kind == "unary" and C.UNARY or C.BINARY, op = n.code,
                    args = { ref(n.a, n.pa), n.kind == "binary" and ref(n.b, n.pb) or nil } }
        recs[#recs + 1] = r
        recof[n] = r
      end
    end
    for _, o in ipairs(outs) do uses[o.node] = math.huge end
    -- chains of real + - * in one instruction (roots first, so that a
    -- chain takes in all it can): a value used once, by the next operation
    if S.dtype == "f32" or S.dtype == "f64" then
      local ADD, SUB, MUL = BIN.add, BIN.sub, BIN.mul
      local function single(x, op)   -- the instruction of a node used once
        local r = type(x) == "table" and uses[x] == 1 and recof[x]
        if r and not r.dead and r.kind == C.BINARY and (op == nil or r.op == op) then return r end
      end
      local function node(x) return type(x) == "table" end
      for k = #recs, 1, -1 do
        local r = recs[k]
        if not r.dead and r.kind == C.BINARY and (r.op == ADD or r.op == SUB) then
          local x, y = r.args[1], r.args[2]
          local my, mx = single(y, MUL), single(x, MUL)
          if node(x) and my and node(my.args[1]) then
            r.kind, r.op, r.args = C.AXPY, r.op == ADD and 0 or 1, { x, my.args[1], my.args[2] }
            my.dead = true
          elseif node(y) and mx and node(mx.args[1]) then
            r.kind, r.op, r.args = C.AXPY, r.op == ADD and 3 or 2, { y, mx.args[1], mx.args[2] }
            mx.dead = true
          elseif node(y) then
            -- ((t0 +- t1) +- t2) +- t3, from the right
            local terms, signs = { y }, { r.op == SUB }
            local cur_ = x
            while #terms < 3 do
              local c = single(cur_)
              if not c or (c.op ~= ADD and c.op ~= SUB) or not node(c.args[1]) or not node(c.args[2]) then
                break
              end
              c.dead = true
              table.insert(terms, 1, c.args[2])
              table.insert(signs, 1, c.op == SUB)
              cur_ = c.args[1]
            end
            if #terms >= 2 and node(cur_) then
              table.insert(terms, 1, cur_)
              local op = (#terms) << 4
              for t = 2, #terms do if signs[t - 1] then op = op | (1 << (t - 2)) end end
              r.kind, r.op, r.args = C.SUM, op, terms
            end
          end
        end
      end
    end
    -- a SUM whose value only an AXPY adds a product to: one instruction
    -- (((t0 +- t1) +- t2) [+- t3]) +- x*y
    if S.dtype == "f32" or S.dtype == "f64" then
      for _, r in ipairs(recs) do
        if not r.dead and r.kind == C.AXPY and r.op <= 1 then
          local x = r.args[1]
          local sm = type(x) == "table" and uses[x] == 1 and recof[x]
          if sm and not sm.dead and sm.kind == C.SUM then
            local args = {}
            for k, a in ipairs(sm.args) do args[k] = a end
            args[#args + 1], args[#args + 2] = r.args[2], r.args[3]
            r.kind, r.op, r.args = C.SUMAXPY, sm.op | (r.op << 8), args
            sm.dead = true
          end
        end
      end
    end
    -- last use of each node (an instruction index), results: never
    local live_recs, last = {}, {}
    for _, r in ipairs(recs) do if not r.dead then live_recs[#live_recs + 1] = r end end
    for i, r in ipairs(live_recs) do
      for _, a in ipairs(r.args) do if type(a) == "table" then last[a] = i end end
    end
    for _, o in ipairs(outs) do last[o.node] = math.huge end
    -- registers, loads and instructions
    local reg, free, nregs = {}, {}, 0
    local leaves, leafidx = {}, {}
    local code, params, pmap = {}, {}, {}
    local function newreg()
      local r = table.remove(free)
      if r then return r end
      nregs = nregs + 1
      return nregs - 1
    end
    local function emit(kind, op, dst, a)
      code[#code + 1] = kind; code[#code + 1] = op; code[#code + 1] = dst
      for k = 1, C.MAXIN do code[#code + 1] = a[k] or 0 end
    end
    local function leaf_reg(n)
      if reg[n] then return reg[n] end
      local li = leafidx[n]
      if not li then
        local shift = {}
        for i = 1, #n.shape do shift[i] = n.shift[i] end
        leaves[#leaves + 1] = { arg = n.leafof - 1, shift = shift }
        li = #leaves - 1
        leafidx[n] = li
      end
      local r = newreg()
      emit(C.LOAD, 0, r, { li })
      reg[n] = r
      return r
    end
    local function slot(a)   -- a node's register or a parameter's slot
      if type(a) == "table" then
        return a.kind == "leaf" and leaf_reg(a) or reg[a]
      end
      if not pmap[a] then params[#params + 1] = a; pmap[a] = #params end
      return -pmap[a]   -- fixed up below: nregs + k - 1
    end
    local nins = 0
    for i, r in ipairs(live_recs) do
      local sl = {}
      for k, a in ipairs(r.args) do sl[k] = slot(a) end
      -- operands used for the last time free their registers first
      for _, a in ipairs(r.args) do
        if type(a) == "table" and last[a] == i and reg[a] then
          free[#free + 1] = reg[a]; reg[a] = nil
        end
      end
      local d = newreg()
      reg[r.node] = d
      emit(r.kind, r.op, d, sl)
      nins = nins + 1
    end
    -- results that are inputs as they are
    for _, o in ipairs(outs) do
      if o.node.kind == "leaf" then leaf_reg(o.node) end
    end
    -- parameter slots come after the registers
    local words = 3 + C.MAXIN   -- kind, op, dst, the operands
    for i = 1, #code, words do
      if code[i] ~= C.LOAD then
        for k = i + 3, i + words - 1 do
          if code[k] < 0 then code[k] = nregs - code[k] - 1 end
        end
      end
    end
    local spec = { dtype = S.dtype, shape = shape, args = {}, leaves = leaves, code = code,
                   nregs = nregs, nparams = #params, outs = {}, nall = entry.n,
                   pos = entry.tpos }
    for i, ap in ipairs(entry.argproxies) do spec.args[i] = ap.shape end
    for _, o in ipairs(outs) do
      spec.outs[#spec.outs + 1] = reg[o.node]
      spec.outs[#spec.outs + 1] = o.arg
    end
    local ok, prog = pcall(C.compile, spec)
    if not ok then return nil, tostring(prog) end
    return { prog = prog, params = params, outs = outs, retmap = retmap, nnew = nnew }
  end

  -- --- calls -------------------------------------------------------------------

  -- a new entry: the proxies of the tensor arguments (at positions tpos
  -- among n values) and an empty trace
  local function make_entry(tensors, tpos, n, dtype, sig)
    local e = { argproxies = {}, trace = {}, dtype = dtype, sig = sig, n = n, tpos = tpos,
                callargs = {}, istensor = {}, rets = {} }
    e.S = { trace = e.trace, pos = 0, params = {}, np = 0, dtype = dtype, changed = false,
            entry = e }
    for i, t in ipairs(tensors) do
      local shape = t.shape
      local shift = {}
      for d = 1, #shape do shift[d] = 0 end
      local leaf = setmetatable({ kind = "leaf", shape = shape, shift = shift, leafof = i,
                                  dtype = dtype, owner = e, ndim = #shape }, P)
      leaf.v = leaf
      local ap = setmetatable({ arg = i, leaf = leaf, v = leaf, shape = shape, dtype = dtype,
                                ndim = #shape }, P)
      e.argproxies[i] = ap
      e.callargs[tpos[i]] = ap
      e.istensor[tpos[i]] = true
    end
    return e
  end

  local function eager(F, why, ...)
    local st = F.stats
    st.eager = st.eager + 1
    if why then st.reason = why end
    return F.fn(...)
  end

  local function signature(tensors)
    local parts = {}
    for i, t in ipairs(tensors) do
      parts[i] = t.dtype .. "{" .. table.concat(t.shape, ",") .. "}"
    end
    return table.concat(parts, " ")
  end

  local function drop(F, e)
    for i, c in ipairs(F.entries) do if c == e then table.remove(F.entries, i); return end end
  end

  -- the entry for values that no compiled entry matches: a new one, or
  -- nil and why the call is eager ("inline": inside another trace)
  local function prepare(F, ...)
    local n = select("#", ...)
    local tensors, tpos = {}, {}
    for i = 1, n do
      local x = select(i, ...)
      if is_tensor(x) then
        tensors[#tensors + 1] = x
        tpos[#tpos + 1] = i
      elseif getmetatable(x) == P then
        return nil, "inline"
      end
    end
    if #tensors == 0 then return nil, "no tensor arguments" end
    for _, t in ipairs(tensors) do
      if t.requires_grad then return nil, "an argument is tracked by autograd (requires_grad)" end
    end
    local sig = signature(tensors)
    if F.refused[sig] then return nil, F.refused[sig] end
    local dtype = tensors[1].dtype
    local why
    for _, t in ipairs(tensors) do
      if t.dtype ~= dtype then why = "arguments of different dtypes" end
    end
    if dtype ~= "f32" and dtype ~= "f64" and dtype ~= "c64" and dtype ~= "c128" then
      why = "dtype " .. dtype .. " (f32, f64, c64 and c128 only)"
    end
    if why then
      F.refused[sig] = why
      return nil, why
    end
    return make_entry(tensors, tpos, n, dtype, sig)
  end

  -- stores fn's returns in S.rets; their count, or -1 after an error
  local function collect(e, ok, ...)
    if not ok then
      e.err = ...
      return -1
    end
    local n, rets = select("#", ...), e.rets
    for i = 1, n do rets[i] = select(i, ...) end
    for i = n + 1, #rets do rets[i] = nil end
    return n
  end

  -- whether the returns are the compiled program's
  local function same_returns(compiled, rets, nret)
    local rm = compiled.retmap
    if nret ~= compiled.nret then return false end
    for i = 1, nret do
      local r, m = rets[i], rm[i]
      if (getmetatable(r) == P) ~= (m ~= nil) then return false end
      if m then
        if m.arg then
          if r.arg ~= m.arg then return false end
        elseif r.arg or resolve(r.v) ~= compiled.outs[m.out].node then
          return false
        end
      end
    end
    return true
  end

  local unpack = table.unpack
  local finish, upvalues, closed_call, repeats

  -- Calls that repeat the last one.  A fused function whose fn is a Lua
  -- function with no _ENV (no globals) sees only its arguments and its
  -- upvalues; when those are plain values (numbers, strings, booleans,
  -- nil: tensors apart, which the proxies stand for), equal to the entry's
  -- last call, and that call changed no upvalue and returned no table or
  -- function, fn would do exactly what it did then: the program runs with
  -- the same numbers, and fn is not called (docs/fuse.md).
  local getupvalue = debug and debug.getupvalue
  local getinfo = debug and debug.getinfo
  local gethook = debug and debug.gethook

  local function plain(v)
    local t = type(v)
    return t == "number" or t == "string" or t == "boolean" or t == "nil"
  end

  -- plain values fn cannot tell apart: == but for 0.0 and -0.0 (x * 0.0
  -- is not x * -0.0) and an integer and a float (2^62 * 4 wraps only as
  -- an integer)
  local mathtype = math.type
  local function same(a, b)
    return a == b and mathtype(a) == mathtype(b) and (a ~= 0 or 1 / a == 1 / b)
  end

  -- fn's upvalues into u; nil when one is not a plain value
  upvalues = function(F, u)
    local fn = F.fn
    for i = 1, F.nups do
      local _, v = getupvalue(fn, i)
      if not plain(v) then return nil end
      u[i] = v
    end
    return u
  end

  -- after a call through fn: whether it may be repeated (e.upv: the
  -- upvalues it leaves)
  closed_call = function(F, e, before, n, ca, ist, rets, nret)
    for i = 1, n do
      if not ist[i] and not plain(ca[i]) then return false end
    end
    for i = 1, nret do
      local r = rets[i]
      if getmetatable(r) ~= P and not plain(r) then return false end
    end
    local after = upvalues(F, e.upv or {})
    if not after then return false end
    for i = 1, F.nups do
      if not same(after[i], before[i]) then return false end
    end
    e.upv = after
    return true
  end

  -- whether this call's plain values and fn's upvalues are the last call's,
  -- and no debug hook would watch fn (a hook may change what it does; a
  -- profiler or a coverage tool is to see it run)
  repeats = function(F, e, n, ca, ist, ...)
    if gethook() then return false end
    for i = 1, n do
      if not ist[i] and not same(ca[i], (select(i, ...))) then return false end
    end
    local fn, u = F.fn, e.upv
    for i = 1, F.nups do
      local _, v = getupvalue(fn, i)
      if not same(v, u[i]) then return false end
    end
    return true
  end

  local function call(F, ...)
    local entries, e = F.entries, nil
    for i = 1, #entries do
      local c = entries[i]
      if C.match(c.prog, ...) then e = c; break end
    end
    if not e then
      C = C or require "hebb._fuse"
      UN, BIN = C.unops, C.binops
      local why
      e, why = prepare(F, ...)
      if not e then
        if why == "inline" then return F.fn(...) end
        return eager(F, why, ...)
      end
    end
    local n, S, ca, ist = e.n, e.S, e.callargs, e.istensor
    -- the entry's last call again: the same program and numbers
    if e.repeatable and repeats(F, e, n, ca, ist, ...) then
      return finish(F, e, e.compiled, e.compiled.nret, ...)
    end
    -- replay (or record) fn on the proxies
    S.pos, S.np, S.changed, S.reason = 0, 0, false, nil
    local aps = e.argproxies
    for i = 1, #aps do local ap = aps[i]; ap.v = ap.leaf end
    for i = 1, n do
      if not ist[i] then ca[i] = (select(i, ...)) end
    end
    local outer = cur
    local before = F.closed and upvalues(F, {})
    cur = S
    local nret = collect(e, pcall(F.fn, unpack(ca, 1, n)))
    cur = outer
    if nret < 0 then
      -- nothing was computed: the whole call again, eagerly
      local why = e.err == UNSUP and S.reason or ("an error while tracing: " .. tostring(e.err))
      e.err = nil
      F.refused[e.sig] = why
      drop(F, e)
      return eager(F, why, ...)
    end
    local trace = e.trace
    if S.pos < #trace then   -- fewer events than the trace: it changed
      for i = #trace, S.pos + 1, -1 do trace[i] = nil end
      S.changed = true
    end
    local rets, compiled = e.rets, e.compiled
    if not compiled or S.changed or not same_returns(compiled, rets, nret) then
      local why
      compiled, why = compile(S, e, rets, nret)
      if not compiled then
        F.refused[e.sig] = why
        drop(F, e)
        return eager(F, why, ...)
      end
      compiled.nret = nret
      compiled.pv = {}
      F.stats.compiled = F.stats.compiled + 1
      e.compiled = compiled
      if compiled.prog then
        local known = e.prog ~= nil
        e.prog = compiled.prog
        if not known then
          table.insert(F.entries, 1, e)
          if #F.entries > MAXSIGS then table.remove(F.entries) end
        end
      end
    end
    -- the numbers of this call, in the program's order
    local pv, params, slots = compiled.pv, S.params, compiled.params
    for k = 1, #slots do pv[k] = params[slots[k]] end
    e.repeatable = before and closed_call(F, e, before, n, ca, ist, rets, nret)
    return finish(F, e, compiled, nret, ...)
  end

  -- the program's run on the call's tensors, and fn's returns
  finish = function(F, e, compiled, nret, ...)
    local rets, pv = e.rets, compiled.pv
    if compiled.noop then
      local res = {}
      for i = 1, nret do
        local m = compiled.retmap[i]
        res[i] = m and select(e.tpos[m.arg], ...) or rets[i]
      end
      return unpack(res, 1, nret)
    end
    local out
    if compiled.nnew <= 3 then
      local ok, r1, r2, r3 = C.run(compiled.prog, pv, ...)
      if not ok then
        return eager(F, "an argument written in place shares memory with another argument", ...)
      end
      if nret == 0 then
        F.stats.fused = F.stats.fused + 1
        return
      end
      out = { r1, r2, r3 }
    else
      local r = table.pack(C.run(compiled.prog, pv, ...))
      if not r[1] then
        return eager(F, "an argument written in place shares memory with another argument", ...)
      end
      out = { unpack(r, 2, r.n) }
    end
    F.stats.fused = F.stats.fused + 1
    local res = {}
    for i = 1, nret do
      local m = compiled.retmap[i]
      if not m then res[i] = rets[i]
      elseif m.arg then res[i] = select(e.tpos[m.arg], ...)
      else res[i] = out[compiled.outs[m.out].newidx] end
    end
    return unpack(res, 1, nret)
  end

  local FM = { __call = call, __name = "hebb.fused" }
  FM.__index = {}

  function T.fuse(fn)
    if type(fn) ~= "function" then E.raise("fuse: fn must be a function, got %s", E.show(fn)) end
    -- closed: a Lua function without _ENV (see repeats)
    local info = getinfo and getupvalue and getinfo(fn, "Su")
    local closed = info and info.what ~= "C"
    for i = 1, closed and info.nups or 0 do
      if getupvalue(fn, i) == "_ENV" then closed = false end
    end
    return setmetatable({ fn = fn, entries = {}, refused = {}, closed = closed,
                          nups = info and info.nups or 0,
                          stats = { compiled = 0, fused = 0, eager = 0 } }, FM)
  end
  doc(T.fuse, text)
end
