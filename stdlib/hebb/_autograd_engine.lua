-- hebb._autograd_engine: the tape of hebb.autograd -- recording,
-- backward, grad, Function and grad modes (the rules and tools are parts of
-- their own).
--
-- Every registered tensor function passes through a C hook
-- (natives/lua/l_autograd.c).  While grad mode is on and a tensor that
-- requires grad is alive, a call with such a tensor among its arguments is
-- handed to `record` below, which adds a node to the tape: the op's name,
-- its arguments, the versions of the ones its rule reads, and edges to the
-- records of its tracked inputs.  Backward rules (hebb._autograd_rules) are
-- tensor expressions, so with create_graph they are recorded in turn and
-- can be differentiated again.  docs/autograd.md explains the design.
local E = require "hebb._error"
local T = require "hebb.tensor"
local C = require "hebb._autograd"
local hebb = require "hebb"

local M = {}
local mt = getmetatable(T.zeros(0))
local methods = mt.__methods
local is_tensor = T.is_tensor
local clone, add_ = T.clone, methods.add_   -- no method lookup per gradient
local pack, unpack = table.pack, table.unpack

local floating = { f64 = true, f32 = true, c128 = true, c64 = true }

local function shape_str(t)
  return "{" .. table.concat(t.shape, ", ") .. "}"
end

-- A tensor's record (kept in its box by C.track, read by record_of) is
-- {leaf = true, grad = ...} for a leaf; for a computed tensor it is the
-- node that made it when that node has one output, else {node = n, slot =
-- k} (its position among n's outputs).  Nodes are C userdata
-- (natives/lua/l_autograd.c: the tape in C); the engine reads them with
-- C.open and C.order, and a node also answers the fields of a record
-- (node, slot, grad, owned, retain) and name, args, inputs, out.  An in-place op gives
-- the tensor a new record, so the edges of earlier nodes keep pointing at
-- the value they saw.
local record_of = C.record

local rules = {}
M.rules = rules

-- Rules ------------------------------------------------------------------

--- autograd.defrule(name, fn [, opts])
-- Registers the backward rule of the op registered as `name` (a module
-- function's name carries its module: "linalg.solve").  fn(g, args, out)
-- returns one gradient per positional argument (nil where there is none);
-- g is the gradient of the result; with opts.multi, fn(gs, args, outs) gets
-- a table of output gradients (nil for outputs that received none) and all
-- outputs.  opts.saves lists the argument positions whose values fn reads
-- (0: the output), so that changing one in place before backward is caught;
-- opts.scalar makes a Lua-number result of a tracked call a 0-d tensor.
-- A fourth argument `need` has need[i] set for the arguments that take a
-- gradient, so a rule can skip the work for the others.
-- fn must use tensor ops, so that it can be differentiated again.
local rule_opts = { saves = true, multi = true, scalar = true }

local function new_rule(name, fn, opts)
  E.check("autograd.defrule", "name", name, "string")
  E.check("autograd.defrule", "fn", fn, "function")
  opts = E.checkopts("autograd.defrule", opts, rule_opts)
  if opts.saves ~= nil then
    E.check("autograd.defrule", "opts.saves", opts.saves, "table")
    for i, p in ipairs(opts.saves) do
      E.int("autograd.defrule", "opts.saves[" .. i .. "]", p, 0)
    end
  end
  return { fn = fn, saves = opts.saves, multi = opts.multi,
           scalar = opts.scalar, name = name }
end

function M.defrule(name, fn, opts)
  rules[name] = new_rule(name, fn, opts)
end
hebb.doc(M.defrule, "autograd.defrule(name, fn [, opts])\n\nRegisters the backward "
  .. "rule of the op registered as name (module functions carry their module: "
  .. "'linalg.solve').  fn(g, args, out) returns one gradient per positional "
  .. "argument (nil where there is none).  opts.saves lists the argument "
  .. "positions whose values fn reads (0 = the output), opts.multi gives fn "
  .. "(gs, args, outs) for several outputs, opts.scalar turns a Lua-number "
  .. "result of a tracked call into a 0-d tensor.  Write fn with tensor ops "
  .. "so that it can be differentiated again.")

-- the arguments of nondiff, checked: a list of op names
local function op_names(...)
  local names = pack(...)
  for i = 1, names.n do
    E.check("autograd.nondiff", "argument " .. i, names[i], "string")
  end
  return names
end

--- autograd.nondiff(name, ...)
-- Declares ops whose results carry no gradient (comparisons, argmax,
-- floor, random fills...): their results are not tracked.
function M.nondiff(...)
  local names = op_names(...)
  for i = 1, names.n do rules[names[i]] = false end
end
hebb.doc(M.nondiff, "autograd.nondiff(name, ...)\n\nDeclares ops whose results carry "
  .. "no gradient (comparisons, argmax, rounding, random fills).")

-- The rule files (hebb._autograd_rules, _autograd_linalg, ...) are plain
-- modules that return a rule set: R = _ruleset(), filled with R.def (as
-- defrule), R.nondiff and R.alias(alias, name) (one rule under two op
-- names), and hebb.autograd installs the sets in its order (_install).
function M._ruleset()
  local set = {}
  local R = { rules = set }
  function R.def(name, fn, opts) set[name] = new_rule(name, fn, opts) end
  function R.nondiff(...)
    local names = op_names(...)
    for i = 1, names.n do set[names[i]] = false end
  end
  function R.alias(alias, name) set[alias] = set[name] end
  return R
end

function M._install(R)
  for name, r in pairs(R.rules) do rules[name] = r end
end

-- an op without a rule records as usual and fails only at backward, so
-- code that never differentiates through it is not affected
local function missing_rule(name)
  return { name = name, fn = function()
    E.raise("autograd: no derivative for '%s'", name)
  end }
end

local function rule_of(name, inplace)
  local r = rules[name]
  if r == nil and inplace and name:sub(-1) == "_" then r = rules[name:sub(1, -2)] end
  if r == nil then r = missing_rule(name) end
  return r
end

-- Recording ----------------------------------------------------------------

-- gives t the record rec if t is a floating-point tensor
local track = C.track

local function leaf_inplace_error(name)
  E.raise("autograd: '%s' would modify in place a leaf tensor "
    .. "that requires grad; do it inside autograd.no_grad", name)
end

-- the records of the tracked tensors among args[1..n]; a list argument
-- (cat, stack) gets a list of records
local function input_records(args, n)
  local inputs, any = {}, false
  for i = 1, n do
    local v = args[i]
    local tv = type(v)
    if tv == "userdata" then
      local r = record_of(v)
      if r then inputs[i] = r; any = true end
    elseif tv == "table" then
      local list
      for j = 1, #v do
        local r = record_of(v[j])
        if r then list = list or { list = true }; list[j] = r; any = true end
      end
      inputs[i] = list
    end
  end
  return inputs, any
end

-- a Lua number is real: the result of a complex-to-real reduction (norm)
local real_of = { c128 = "f64", c64 = "f32" }

local function first_float_dtype(args, n)
  for i = 1, n do
    local v = args[i]
    if record_of(v) then return v.dtype end
    if type(v) == "table" then
      for j = 1, #v do if record_of(v[j]) then return v[j].dtype end end
    end
  end
end

-- the tensors among results: one slot per tensor, a list result expanded
-- (a table of numbers, x:size() or x:totable(), holds none)
local function collect_outputs(res, from, to)
  local outs = {}
  for i = from, to do
    local v = res[i]
    if is_tensor(v) then outs[#outs + 1] = v
    elseif type(v) == "table" then
      for j = 1, #v do
        if is_tensor(v[j]) then outs[#outs + 1] = v[j] end
      end
    end
  end
  return outs
end

-- makes output k of node the computed value of tensor o (a one-output
-- node is its output's record itself)
local function mark_output(node, o, k, single)
  local old = record_of(o)
  if old and old.leaf then leaf_inplace_error(node.name) end
  track(o, single and node or { node = node, slot = k })
end

-- adds the node of a call with several (or list) outputs: C.node(name,
-- rule, args, n, inputs, outs) keeps its rule, arguments (args[1..n]), the
-- records of its tracked inputs (inputs[i]), outputs, and the versions of
-- the values the rule reads
local function attach(name, rule, args, n, inputs, outs)
  local node = C.node(name, rule, args, n, inputs, outs)
  local single = #outs == 1
  for k, o in ipairs(outs) do mark_output(node, o, k, single) end
end

-- a tracked call left a Lua number where its rule wants a 0-d tensor
local function scalars_to_tensors(a, n, na)
  for i = n + 2, na do
    if type(a[i]) == "number" then
      local dt = first_float_dtype(a, n)
      a[i] = T.full({}, a[i], { dtype = real_of[dt] or dt })
    end
  end
end

-- ops whose result may share memory with their first argument
local view_ops = { view = true, reshape = true, flatten = true, squeeze = true,
  unsqueeze = true, narrow = true, select = true, transpose = true, t = true,
  permute = true, expand = true, expand_as = true, diagonal = true,
  split = true, chunk = true, getindex = true, contiguous = true }

-- An in-place write into a view of a tracked tensor would change the base
-- behind autograd's back (its record would not see the write): refused.
local function check_not_view(name, t, r)
  local nd = r.node
  if not (nd and view_ops[nd.name] and nd.args) then return end
  local base = nd.args[1]
  if T.is_tensor(base) and T.shares_storage(t, base) then
    E.raise("autograd: '%s' would write in place into a view "
      .. "('%s') of a tensor that requires grad, which autograd cannot "
      .. "follow; clone() the view first, or write inside autograd.no_grad",
      name, nd.name)
  end
end

-- an in-place op on arg 1 recorded without a rule (a random fill, say):
-- the tensor now holds a constant
local function overwritten(name, t)
  local r = record_of(t)
  if not r then return end
  if r.leaf then leaf_inplace_error(name) end
  check_not_view(name, t, r)
  C.untrack(t)
end

-- whether the result o is one of the arguments themselves
local function returns_argument(a, n, o)
  for i = 1, n do
    if rawequal(a[i], o) then return true end
  end
  return false
end

-- Called by the C hook: recorder(name, n, arg1..argn, old, res1..resk).
-- The argument table becomes the node's args (results cleared from it).
local function record(name, n, ...)
  local na = select("#", ...)
  local a = { ... }
  local old, target = a[n + 1], a[1]
  local rule = rules[name]
  if rule == nil then rule = rule_of(name, old ~= nil) end
  if rule == false then
    if old ~= nil then overwritten(name, target) end
    return unpack(a, n + 2, na)
  end
  if old ~= nil then            -- in place: arg 1 held the old value
    local prev = record_of(target)
    if prev and prev.leaf then leaf_inplace_error(name) end
    if prev then
      check_not_view(name, target, prev)
      track(old, prev)         -- the copy carries the value's old record
    end
    a[1] = old
  end
  local inputs, any = input_records(a, n)
  if not any then return unpack(a, n + 2, na) end
  if rule.scalar then scalars_to_tensors(a, n, na) end
  local o = a[n + 2]
  if old == nil and na == n + 2 and returns_argument(a, n, o) then
    return o          -- x:contiguous() of a contiguous x is x: nothing new
  end
  if na == n + 2 and is_tensor(o) and not rule.multi then   -- the usual case
    mark_output(C.node(name, rule, a, n, inputs, { o }), o, 1, true)
    return o
  end
  local args = { n = n }
  for i = 1, n do args[i] = a[i] end
  local outs = collect_outputs(a, n + 2, na)
  if old ~= nil and #outs == 0 then outs[1] = target end   -- t[k] = v
  if #outs == 0 then return unpack(a, n + 2, na) end       -- no tensor made
  attach(name, rule, args, n, inputs, outs)
  return unpack(a, n + 2, na)
end
C.set_recorder(record, rules)

-- Grad mode ------------------------------------------------------------------

-- the grad mode prev back, then the results of a pcall (its error rethrown
-- as it is): no table packs the results (optimizers run no_grad each step)
local function restore(prev, ok, ...)
  C.set_enabled(prev)
  if not ok then error((...), 0) end
  return ...
end

-- calls fn(...) in the given grad mode, restoring the mode even on error
local function with_mode(enabled, fn, ...)
  return restore(C.set_enabled(enabled), pcall(fn, ...))
end

--- autograd.no_grad(fn, ...)
-- Calls fn(...) with recording off and returns its results.
function M.no_grad(fn, ...)
  E.check("autograd.no_grad", "fn", fn, "function")
  return with_mode(false, fn, ...)
end
hebb.doc(M.no_grad, "autograd.no_grad(fn, ...)\n\nCalls fn(...) without recording "
  .. "operations and returns its results.")

--- autograd.enable_grad(fn, ...)
-- Calls fn(...) with recording on (inside a no_grad scope, say).
function M.enable_grad(fn, ...)
  E.check("autograd.enable_grad", "fn", fn, "function")
  return with_mode(true, fn, ...)
end
hebb.doc(M.enable_grad, "autograd.enable_grad(fn, ...)\n\nCalls fn(...) with recording "
  .. "on and returns its results.")

--- autograd.is_grad_enabled()
-- Whether operations are being recorded.
M.is_grad_enabled = C.is_enabled
hebb.doc(M.is_grad_enabled, "autograd.is_grad_enabled()\n\nWhether operations are "
  .. "recorded.")

--- autograd.set_grad_enabled(flag)
-- Turns recording on or off; returns the previous setting.
function M.set_grad_enabled(flag)
  return C.set_enabled(E.check("autograd.set_grad_enabled", "flag", flag, "boolean"))
end
hebb.doc(M.set_grad_enabled, "autograd.set_grad_enabled(flag)\n\nTurns recording on or "
  .. "off; returns the previous setting.")

-- Tensor methods and properties -------------------------------------------

local function check_floating(t, what)
  if not floating[t.dtype] then
    E.raise("%s: only floating-point tensors can require grad "
      .. "(got %s)", what, t.dtype)
  end
end

function methods.requires_grad_(t, flag)
  E.check("requires_grad_", "the receiver", t, "tensor")
  E.check("requires_grad_", "flag", flag, "boolean", true)
  if flag == nil or flag then
    check_floating(t, "requires_grad_")
    local r = record_of(t)
    if r and not r.leaf then
      E.raise("requires_grad_: only leaf tensors can be made to require grad; "
        .. "this one is computed (use x:detach():requires_grad_())")
    end
    if not r then track(t, { leaf = true }) end
  else
    local r = record_of(t)
    if r and not r.leaf then
      E.raise("requires_grad_(false): a computed tensor cannot stop requiring "
        .. "grad; use x:detach()")
    end
    C.untrack(t)
  end
  return t
end
hebb.doc(methods.requires_grad_, "x:requires_grad_([flag=true])\n\nMakes x a leaf whose "
  .. "gradient backward accumulates in x.grad (false: stop).  Returns x.  "
  .. "Properties: x.requires_grad, x.grad (assignable), x.is_leaf, x.grad_fn.")

function methods.detach(t)
  E.check("detach", "the receiver", t, "tensor")
  return C.alias(t)
end
hebb.doc(methods.detach, "x:detach()\n\nThe same elements, not recorded: no gradient flows "
  .. "through it.")

function methods.retain_grad(t)
  local r = record_of(t)
  if not r then E.raise("retain_grad: the tensor does not require grad") end
  r.retain = true
  return t
end
hebb.doc(methods.retain_grad, "y:retain_grad()\n\nKeeps the gradient of a computed tensor in "
  .. "y.grad at the next backward.")

local getters, setters = mt.__getters, mt.__setters or {}
mt.__setters = setters
for _, name in ipairs({ "grad", "requires_grad", "is_leaf", "grad_fn" }) do
  local props = mt.__properties
  props[#props + 1] = name
end
-- Reading x.grad lends the buffer: from then on user code may hold it, so
-- it is never reused as a spare (rec.private is dropped; see _grad_into).
getters.grad = function(t)
  local r = record_of(t)
  if not r then return nil end
  if r.leaf then r.private = nil end
  return r.grad
end
getters.requires_grad = function(t) return record_of(t) ~= nil end
getters.is_leaf = function(t) local r = record_of(t); return r == nil or r.leaf == true end
getters.grad_fn = function(t) local r = record_of(t); return r and r.node and r.node.name end
setters.grad = function(t, g)
  local r = record_of(t)
  if g ~= nil then
    if not is_tensor(g) then E.raise("x.grad must be a tensor or nil, got %s", E.show(g)) end
    if not C.same_shape(g, t) then
      E.raise("x.grad: gradient of shape %s for a tensor of shape %s",
        shape_str(g), shape_str(t))
    end
  end
  if not r then
    if g == nil then return end
    E.raise("x.grad: the tensor does not require grad (call x:requires_grad_())")
  end
  if r.leaf then
    -- x.grad = nil over a buffer the engine made that no one has seen:
    -- kept hidden as the spare the next backward may write over
    local cur = r.grad
    if g ~= nil then r.spare = nil
    elseif cur ~= nil then r.spare = rawequal(r.private, cur) and cur or nil end
    r.private = nil
  end
  r.grad, r.owned = g, nil
end

-- For library code that reads a leaf's gradient only for the length of a
-- call (the optimizers' step, nn's zero_grad): x.grad without lending it.
-- The caller must not keep the tensor (nor a view of it) after it returns,
-- nor hand it to user code.
function M._grad_of(t)
  local r = record_of(t)
  return r and r.grad
end

-- Backward -----------------------------------------------------------------

local function add(a, b)
  if a == nil then return b end
  return a + b
end

local function raise_freed(nd)
  E.raise("autograd: backward through '%s' a second time: its "
    .. "saved values were freed (pass {retain_graph = true} to the first "
    .. "backward)", nd.name)
end

-- a value nd's rule reads (argument p, 0 its output) changed in place
local function raise_stale(nd, p, now, v)
  E.raise("autograd: a tensor that '%s' saved for backward "
    .. "(%s) was modified in place afterwards (version %d, saved at %d)",
    nd.name, p == 0 and "its output" or "argument " .. p, now, v)
end

-- g made to fit like, the value it is the gradient of, when C.edge said
-- it does not as it is (kind: l_autograd.c's fit_kind)
local function conform(g, like, nd, pos, kind)
  if kind == 1 then    -- a real value's gradient is real (and its dtype)
    if g.dtype == "c128" or g.dtype == "c64" then g = T.real(g) end
    return g.dtype == like.dtype and g or g:astype(like.dtype)
  end
  if kind == 3 then
    E.raise("autograd: backward of '%s' gave a %s for argument %s",
      nd.name, type(g), pos)
  end
  E.raise("autograd: backward of '%s' gave a gradient of shape %s "
    .. "for argument %s of shape %s", nd.name, shape_str(g), pos,
    shape_str(like))
end

-- A backward pass runs backward from roots (records) seeded with grads.
-- With targets (a set of records), it returns their gradients instead of
-- filling leaves.
--
-- A gradient a rule returns may travel along several edges at once: add
-- hands the same g to both operands, and t() or permute() hand a view of
-- it on, so in W * (x + x:t()) x's first gradient and the one that comes
-- back through t() share memory.  A kept gradient (x.grad, or a retained
-- one) is therefore taken by reference only while no other kept gradient
-- holds that storage (handed), and the engine adds in place only into a
-- .grad it allocated itself (rec.owned, or rec.private: one a rule wrote
-- through _grad_into); the first accumulation into a gradient taken by
-- reference allocates.
--
-- The state of a pass is a table st: create (create_graph), retain
-- (retain_graph), targets, captured (their gradients), pending (node ->
-- the gradient of its one output), slotted (node -> {slot -> gradient},
-- for nodes of several outputs), handed (the storages kept), order (the
-- nodes to run, C.order's).  The tables are reused from pass to pass (a
-- pool: a backward run from inside a rule or a Function's backward takes
-- a state of its own) and cleared when the pass ends, even on error: a
-- backward used to make ~12 tables and closures before its first rule.
local pool, npool = {}, 0

local function acquire()
  if npool == 0 then
    return { pending = {}, slotted = {}, handed = {}, order = {} }
  end
  local st = pool[npool]
  pool[npool], npool = nil, npool - 1
  return st
end

local function clear(t)
  for k in next, t do t[k] = nil end
end

-- after a pass that ran to its end, pending, slotted and order are empty
-- (each node's entries are taken when it runs, and every node that gets a
-- gradient is in the order); after an error they may not be
local function release(st, ok)
  if not ok then clear(st.pending); clear(st.slotted); clear(st.order) end
  clear(st.handed)
  st.targets, st.captured = nil, nil
  npool = npool + 1
  pool[npool] = st
end

-- g, or a copy if another kept gradient has its storage
local function keep(handed, g)
  local key = C.dense_storage(g)
  if key and not handed[key] then handed[key] = true; return g, nil end
  local c = clone(g)
  handed[C.dense_storage(c)] = true
  return c, c
end

-- adds g into the gradient kept for rec (a leaf, or a retained record)
local function accumulate(st, rec, g, leaf)
  local create = st.create
  local cur = rec.grad
  if cur == nil then
    if create then rec.grad = g
    else rec.grad, rec.owned = keep(st.handed, g) end
  elseif create or record_of(cur)
      or not (rawequal(rec.owned, cur) or rawequal(rec.private, cur)) then
    rec.grad = cur + g
    rec.owned = not create and rec.grad or nil
  else
    -- an owned buffer, or a private one (a rule wrote it with beta = 0:
    -- no one else has it, and add_ gives the bits of cur + g)
    add_(cur, g)
    rec.owned = cur
    return
  end
  -- a new .grad: unseen if the engine made it (a clone, a sum); a spare
  -- is not written into here (the gradient is there already)
  if leaf then rec.private, rec.spare = rec.owned, nil end
end

-- gives g to the record rec, whose edge C.edge read: to its node (to; slot
-- nil for a one-output node), to its .grad (a leaf: to false; retained)
local function deliver(st, rec, g, to, slot, retain)
  local targets = st.targets
  if targets and targets[rec] then
    local c = st.captured
    c[rec] = add(c[rec], g)
  end
  if not to then
    if not targets then accumulate(st, rec, g, true) end
    return
  end
  if retain and not targets then accumulate(st, rec, g, false) end
  if slot == nil then
    local pending = st.pending
    pending[to] = add(pending[to], g)
  else
    local slotted = st.slotted
    local slots = slotted[to]
    if not slots then slots = {}; slotted[to] = slots end
    slots[slot] = add(slots[slot], g)
  end
end

-- a list argument's gradients gl (cat, stack): one per tracked tensor
local function route_list(st, nd, list, gl, like, pos)
  for j, q in pairs(list) do
    if q ~= true and gl[j] ~= nil then
      local g = gl[j]
      local kind, to, slot, retain = C.edge(q, g, like[j])
      if kind ~= 0 then g = conform(g, like[j], nd, pos .. "[" .. j .. "]", kind) end
      deliver(st, q, g, to, slot, retain)
    end
  end
end

-- hands the gradients nd's rule returned (g1, g2, ... for its arguments)
-- to the records of its tracked inputs (no table for the results)
local function route(st, nd, args, inputs, g1, g2, g3, ...)
  for pos, r in next, inputs do
    local g
    if pos == 1 then g = g1
    elseif pos == 2 then g = g2
    elseif pos == 3 then g = g3
    else g = (select(pos - 3, ...)) end
    if g ~= nil then
      local like = args[pos]
      local kind, to, slot, retain = C.edge(r, g, like)
      if to == true then
        route_list(st, nd, r, g, like, pos)
      else
        if kind ~= 0 then g = conform(g, like, nd, pos, kind) end
        deliver(st, r, g, to, slot, retain)
      end
    end
  end
end

-- runs nd's rule on the gradient of its output (g) or outputs (gs); done
-- (if any) is the node run before, to be freed (C.open does it)
local function run_rule(st, nd, g, gs, done)
  local rule, args, out, inputs = C.open(nd, done)
  if not rule then
    if rule == nil then raise_freed(nd) end
    raise_stale(nd, args, out, inputs)
  end
  if rule.multi then
    return route(st, nd, args, inputs, rule.fn(gs or { g }, args, out, inputs))
  end
  if gs then g = gs[1] end
  return route(st, nd, args, inputs, rule.fn(g, args, out and out[1], inputs))
end

-- the pass: roots and seeds lists, or one root r1 seeded with g1 (with
-- ones, made here, when ones is set: g1 is then the root's tensor)
local function run_engine(st, roots, seeds, r1, g1, ones)
  local handed, start = st.handed, nil
  if roots == nil then
    if ones then g1 = T.ones_like(g1) end
    local key = C.dense_storage(g1)   -- the caller's: never kept as a .grad
    if key then handed[key] = true end
    local _, to, slot, retain = C.edge(r1)
    deliver(st, r1, g1, to, slot, retain)
    start = to or nil
  else
    for _, g in ipairs(seeds) do
      local key = C.dense_storage(g)
      if key then handed[key] = true end
    end
    start = {}
    for i, r in ipairs(roots) do
      local _, to, slot, retain = C.edge(r)
      deliver(st, r, seeds[i], to, slot, retain)
      if to then start[#start + 1] = to end
    end
  end
  if not start then return st.captured end
  -- a node runs once every node that uses it has run (Kahn's order, C.order)
  local order, pending, slotted = st.order, st.pending, st.slotted
  local free, done = not st.retain, nil
  for i = 1, C.order(start, order) do
    local nd = order[i]
    order[i] = nil
    local g, gs = pending[nd], nil
    if g ~= nil then pending[nd] = nil
    else
      gs = slotted[nd]
      if gs then slotted[nd] = nil end
    end
    if g ~= nil or gs then
      run_rule(st, nd, g, gs, done)
      -- without retain_graph a node lets go of its values once its rule
      -- and deliveries are done: freed when the next one opens, or here
      if free then done = nd end
    end
  end
  if done then C.free(done) end
  return st.captured
end

-- Whether gradients reaching a leaf now are added into its .grad (a
-- backward without targets, not recording): then a rule may add its part
-- for a leaf argument into the leaf's gradient buffer itself (_grad_into).
local into_leaves = false

-- puts back what engine changed (even on error), then returns the pass's
-- results or rethrows its error as it is (no table packs them)
local function finish(st, prev_into, prev_mode, ok, ...)
  into_leaves = prev_into
  C.set_enabled(prev_mode)
  release(st, ok)
  if not ok then error((...), 0) end
  return ...
end

-- a backward pass (run_engine) with grad mode create (create_graph),
-- keeping the graph if retain; with targets, returns their gradients
local function engine(create, retain, targets, roots, seeds, r1, g1, ones)
  local st = acquire()
  st.create, st.retain, st.targets = create, retain, targets
  if targets then st.captured = {} end
  local prev_mode = C.set_enabled(create)
  local prev_into = into_leaves
  into_leaves = not targets and not create
  return finish(st, prev_into, prev_mode, pcall(run_engine, st, roots, seeds, r1, g1, ones))
end

-- For rules (the linear rule's weight gradient): puts the gradient that
-- kernel(a, b, buf, beta) computes for the input with record r straight
-- into r's gradient buffer, when r is a leaf and the gradient would go
-- into its .grad now (outside create_graph and autograd.grad), and says
-- whether it did (kernel returns the buffer written, or false where it
-- does not apply).  Two cases:
--   * r.grad is a buffer the engine allocated itself and no one replaced
--     (rec.owned): beta = 1, the kernel adds into it -- the engine's
--     accumulate would have done cur:add_(g) at the same point of the pass;
--   * r has no .grad: beta = 0, the kernel writes the gradient over r's
--     spare (the engine's own buffer hidden by x.grad = nil, never lent)
--     or, given buf = nil, into a buffer it allocates.  The result is a
--     new .grad the engine made: private (unseen until read through x.grad),
--     but not owned: the next gradient for it (a shared weight, a second
--     backward) goes through the engine's accumulate, whose add_ has the
--     bits of the sum the old path made there, not through a beta = 1
--     gemm (which rounds the batch sum and the add once), so bits stay
--     those of before.
-- A rule that put its gradient for that input there returns nil for it.
function M._grad_into(r, kernel, a, b)
  if not (into_leaves and type(r) == "table" and r.leaf) then return false end
  local cur = r.grad
  if cur == nil then
    local buf = kernel(a, b, r.spare, 0)
    if not buf then return false end
    r.grad, r.private, r.spare = buf, buf, nil
    return true
  end
  if rawequal(r.owned, cur) and not record_of(cur) then
    return kernel(a, b, cur, 1) and true or false
  end
  return false
end

-- The default seed of backward's one-element y: ones like y, made inside
-- the pass (run_engine), where grad mode is create_graph's, so that
-- outside create_graph neither y:numel() nor T.ones_like(y) of the tracked
-- y goes through the recording hook (~5 000 of the ~60 000 instructions
-- of a 1-node backward).  Each pass has a seed of its own: a rule or a
-- Function's backward may keep its g.
local function one_element(y)
  local prev = C.set_enabled(false)
  local n = y:numel()
  C.set_enabled(prev)
  return n == 1
end

-- the record of y and the seed g (checked, or ones); with lazy, nil
-- stands for ones (run_engine makes them)
local function seed_for(y, g, who, lazy)
  local r = record_of(y)
  if type(y) == "number" then
    E.raise(who .. ": the output is a Lua number, not a tensor that requires "
      .. "grad (a full reduction of tensors that do not require grad gives a "
      .. "number; call x:requires_grad_() on the inputs before computing it)")
  end
  if not r then
    E.raise(who .. ": the tensor does not require grad (nothing it was "
      .. "computed from requires grad)")
  end
  if g == nil then
    if not one_element(y) then
      E.raise("%s: a gradient is needed for a result of shape %s "
        .. "(only one-element results get 1 by default)", who,
        shape_str(y))
    end
    if not lazy then g = T.ones_like(y) end
  elseif not (is_tensor(g) and C.same_shape(g, y)) then
    E.raise("%s: the gradient must be a tensor of shape %s, got %s", who,
      shape_str(y), E.show(g))
  end
  return r, g
end

local backward_keys = { create_graph = true, retain_graph = true }
local grad_keys = { create_graph = true, retain_graph = true, allow_unused = true,
                    grad_outputs = true }

-- create_graph (a boolean), retain_graph (create_graph unless given) and
-- allow_unused of the options of backward or grad
local function backward_opts(opts)
  if opts == nil then return false, false, nil end
  local create = opts.create_graph and true or false
  local retain = opts.retain_graph
  if retain == nil then retain = create end
  return create, retain, opts.allow_unused
end

function methods.backward(y, g, opts)
  -- a tracked y is a tensor: T.is_tensor of it would pass the recording hook
  if not record_of(y) then E.check("backward", "the receiver", y, "tensor") end
  if type(g) == "table" and not is_tensor(g) then g, opts = nil, g end
  if opts ~= nil then E.checkopts("backward", opts, backward_keys) end
  local create, retain = backward_opts(opts)
  local r
  r, g = seed_for(y, g, "backward", true)
  engine(create, retain, nil, nil, nil, r, g or y, g == nil)
end
hebb.doc(methods.backward, "y:backward([gradient] [, {retain_graph=, create_graph=}])\n\n"
  .. "Accumulates dy/dx into x.grad for every leaf x that y depends on.  "
  .. "gradient (dL/dy, y's shape) is needed unless y has one element.  "
  .. "create_graph records the backward pass itself (higher derivatives).")

-- a tensor or a Lua number: one output; else a list of them
local function as_outputs(v)
  if is_tensor(v) or type(v) == "number" then return { v } end
  return v
end

-- inputs: a tensor or a non-empty list of them; returns the list and
-- whether it was one tensor (hebb._autograd_tools uses it too)
local function input_list(who, inputs)
  if is_tensor(inputs) then return { inputs }, true end
  if type(inputs) ~= "table" or #inputs == 0 then
    E.raise("%s: inputs must be a tensor or a non-empty list of tensors, got %s",
            who, type(inputs) == "table" and "an empty table" or E.show(inputs))
  end
  for i = 1, #inputs do E.check(who, "inputs[" .. i .. "]", inputs[i], "tensor") end
  return inputs, false
end
M._input_list = input_list

-- torch-style grad(outputs, inputs [, opts]): lists or single tensors.  An
-- output that depends on no tracked tensor (a Lua number from a full
-- reduction, an untracked tensor) is a constant: with allow_unused it gives
-- nil gradients, so a derivative that is identically zero is no error.
local function grad_of(outputs, inputs, opts)
  outputs = as_outputs(outputs)
  if type(outputs) ~= "table" or #outputs == 0 then
    E.raise("autograd.grad: the first argument must be a function, a tensor or a "
      .. "non-empty list of tensors, got %s", E.show(outputs))
  end
  E.checkopts("autograd.grad", opts, grad_keys)
  local single
  inputs, single = input_list("autograd.grad", inputs)
  local gouts = opts and opts.grad_outputs or {}
  if is_tensor(gouts) then gouts = { gouts } end
  local create, retain, allow_unused = backward_opts(opts)
  local roots, seeds, targets = {}, {}, {}
  for i, y in ipairs(outputs) do
    if record_of(y) or not allow_unused then
      roots[#roots + 1], seeds[#seeds + 1] = seed_for(y, gouts[i], "autograd.grad")
    end
  end
  for i, x in ipairs(inputs) do
    local r = record_of(x)
    if not r then
      E.raise("autograd.grad: input %d does not require grad", i)
    end
    targets[r] = true
  end
  local captured = {}
  if #roots > 0 then
    captured = engine(create, retain, targets, roots, seeds)
  end
  local res = {}
  for i, x in ipairs(inputs) do
    local g = captured[record_of(x)]
    if g == nil and not allow_unused then
      E.raise("autograd.grad: input %d was not used to compute "
        .. "the outputs (pass {allow_unused = true} to get nil)", i)
    end
    res[i] = g
  end
  if single then return res[1] end
  return res
end

-- evaluates f at inputs made leaves (or kept, if an outer derivative is
-- being taken through them); returns the value, the leaves, whether the
-- graph must be kept for an outer derivative
local function prepare(who, f, inputs)
  local xs, single = input_list(who, inputs)
  local leaves, outer = {}, false
  for i, x in ipairs(xs) do
    if record_of(x) and C.is_enabled() then leaves[i] = x; outer = true
    else
      if not floating[x.dtype] then
        E.raise("%s: input %d has dtype %s; only floating-point tensors can be "
          .. "differentiated", who, i, x.dtype)
      end
      leaves[i] = C.alias(x)
      track(leaves[i], { leaf = true })
    end
  end
  local y = with_mode(true, f, unpack(leaves))
  if not is_tensor(y) and type(y) ~= "number" then
    E.raise("%s: f must return a tensor or a number, got %s", who, E.show(y))
  end
  return y, leaves, outer, single
end

local function zeros_for_unused(gs, leaves)
  for i, x in ipairs(leaves) do
    if gs[i] == nil then gs[i] = T.zeros_like(x) end
  end
  return gs
end

--- autograd.grad(f, inputs [, opts])  or  autograd.grad(outputs, inputs [, opts])
-- With a function f: the gradient of f(x1, x2, ...) (a one-element tensor)
-- at inputs (a tensor, or a list of them: then a list of gradients).  Inputs
-- that do not reach the result get zeros.  Inside another derivative the
-- result stays differentiable (grad of grad).  With tensors: torch's form,
-- the gradients of outputs with respect to inputs, opts {grad_outputs=,
-- create_graph=, retain_graph=, allow_unused=}.
function M.grad(f, inputs, opts)
  if type(f) ~= "function" then return grad_of(f, inputs, opts) end
  E.checkopts("autograd.grad", opts, { create_graph = true })
  local y, leaves, outer, single = prepare("autograd.grad", f, inputs)
  local gs = {}
  if record_of(y) then    -- else y does not depend on the inputs (or is a number)
    gs = grad_of(y, leaves, { create_graph = outer or (opts and opts.create_graph),
                              allow_unused = true })
  end
  gs = zeros_for_unused(gs, leaves)
  if single then return gs[1] end
  return gs
end
hebb.doc(M.grad, "autograd.grad(f, inputs [, opts])  or  autograd.grad(outputs, inputs "
  .. "[, opts])\n\nWith a function: the gradient of f(x1, ...) (a one-element "
  .. "tensor) at inputs (a tensor or a list; a list gives a list).  Inputs "
  .. "that do not reach the result get zeros; inside another derivative the "
  .. "result stays differentiable.  With tensors (torch's form): gradients of "
  .. "outputs with respect to inputs; opts {grad_outputs=, create_graph=, "
  .. "retain_graph=, allow_unused=}.")

--- autograd.value_and_grad(f)
-- A function g(x1, ...) returning f's value (a Lua number for a 0-d
-- result, else the tensor) and its gradient with respect to the tensor
-- arguments (one gradient, or a list when f takes several).
function M.value_and_grad(f)
  E.check("autograd.value_and_grad", "f", f, "function")
  return function(...)
    local xs = pack(...)
    local inputs = xs.n == 1 and xs[1] or { ... }
    local y, leaves, outer, single = prepare("autograd.value_and_grad", f, inputs)
    local gs = record_of(y) and grad_of(y, leaves,
      { create_graph = outer, allow_unused = true }) or {}
    gs = zeros_for_unused(gs, leaves)
    local value = y
    if is_tensor(y) and not outer then
      value = y:numel() == 1 and y:item() or C.alias(y)
    end
    if single then return value, gs[1] end
    return value, gs
  end
end
hebb.doc(M.value_and_grad, "autograd.value_and_grad(f)\n\nA function returning f's "
  .. "value (a Lua number for a one-element result) and its gradient with "
  .. "respect to the tensor arguments.")

-- Custom functions -----------------------------------------------------------

--- autograd.Function{forward = function(ctx, ...) ... end, backward = function(ctx, g) ... end}
-- A differentiable function written in Lua: forward computes the result(s)
-- (without recording), saving what backward needs with
-- ctx:save_for_backward(...) (read back as ctx.saved[i]) or ctx fields;
-- backward(ctx, g1, g2, ...) returns one gradient per argument of forward.
local function_keys = { forward = true, backward = true, name = true }

function M.Function(def)
  if type(def) ~= "table" then
    E.raise("autograd.Function: expected {forward = fn, backward = fn}, got %s", E.show(def))
  end
  E.checkopts("autograd.Function", def, function_keys)
  E.check("autograd.Function", "forward", def.forward, "function")
  E.check("autograd.Function", "backward", def.backward, "function")
  local name = E.check("autograd.Function", "name", def.name, "string", true) or "custom"
  return function(...)
    local args = pack(...)
    local ctx = { saved = {} }
    function ctx.save_for_backward(self, ...) self.saved = pack(...) end
    local res = pack(M.no_grad(def.forward, ctx, ...))
    if not C.is_enabled() then return unpack(res, 1, res.n) end
    local inputs, any = input_records(args, args.n)
    if not any then return unpack(res, 1, res.n) end
    local saved_versions = {}
    for i = 1, ctx.saved.n or 0 do
      local v = ctx.saved[i]
      if is_tensor(v) then saved_versions[i] = C.version(v) end
    end
    local rule = { name = name, multi = true, fn = function(gs)
      for i, v in pairs(saved_versions) do
        if C.version(ctx.saved[i]) ~= v then
          E.raise("autograd: tensor %d saved by '%s' was modified "
            .. "in place before backward", i, name)
        end
      end
      return def.backward(ctx, unpack(gs, 1, res.n))
    end }
    attach(name, rule, args, args.n, inputs, collect_outputs(res, 1, res.n))
    return unpack(res, 1, res.n)
  end
end
hebb.doc(M.Function, "autograd.Function{forward = fn(ctx, ...), backward = fn(ctx, g, "
  .. "...) [, name =]}\n\nA differentiable function written in Lua: forward "
  .. "runs without recording and may call ctx:save_for_backward(...) (read "
  .. "as ctx.saved[i]); backward returns one gradient per forward argument.")

-- Helpers for rules ------------------------------------------------------------

-- for rules: conj(x) of a complex tensor, x itself otherwise (a real
-- tensor or a number): grad_z = g * conj(f'(z)) for holomorphic f
function M._cj(x)
  if is_tensor(x) and (x.dtype == "c128" or x.dtype == "c64") then
    return T.conj(x)
  end
  return x
end

--- autograd.unbroadcast(g, arg)
-- g summed down to the shape of arg (the operand of a broadcasting op):
-- nil when arg is not a tensor.
function M.unbroadcast(g, arg)
  E.check("autograd.unbroadcast", "g", g, "tensor")
  if not is_tensor(arg) then return nil end
  if C.same_shape(g, arg) then return g end
  local gs, as = g.shape, arg.shape
  local lead = #gs - #as
  local dims = {}
  for d = 1, #gs do
    if d <= lead or (as[d - lead] == 1 and gs[d] ~= 1) then dims[#dims + 1] = d end
  end
  local s = g
  if #dims > 0 then s = g:sum(dims, { keepdim = true }) end
  return s:reshape(as)
end
hebb.doc(M.unbroadcast, "autograd.unbroadcast(g, arg)\n\ng summed to the shape of arg, "
  .. "the operand of a broadcasting op (nil if arg is a number).")

for name, f in pairs({ requires_grad_ = methods.requires_grad_,
                       detach = methods.detach, backward = methods.backward,
                       retain_grad = methods.retain_grad }) do
  M[name] = f
end

return M
