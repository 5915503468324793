-- hebb.tensor, Lua side: extends the C module with printing and helpers.
-- Receives the module table, the methods table, the metatable and hebb.doc
-- (it cannot require "hebb", which requires this module).
local T, methods, mt, doc = ...
local E = require "hebb._error"

-- Printing ---------------------------------------------------------------

local print_opts = { threshold = 1000, edgeitems = 3, linewidth = 100, precision = 4 }

-- the indices shown along a dimension of size n (0 stands for "..."); outer
-- dims of a summarized tensor show one block at each end, so a big 3-d or
-- 4-d tensor still fits on a screen
local function shown(n, summarize, outer)
  local e = outer and 1 or print_opts.edgeitems
  local idx = {}
  if summarize and n > 2 * e then
    for i = 1, e do idx[#idx + 1] = i end
    idx[#idx + 1] = 0
    for i = n - e + 1, n do idx[#idx + 1] = i end
  else
    for i = 1, n do idx[i] = i end
  end
  return idx
end

-- visits the shown elements in order, calling f(value)
local function each_shown(t, summarize, f)
  local shape, nd, index = t.shape, t.ndim, {}
  local function walk(d)
    if d > nd then f(t:get(table.unpack(index, 1, nd))); return end
    for _, i in ipairs(shown(shape[d], summarize, d < nd - 1)) do
      if i > 0 then index[d] = i; walk(d + 1) end
    end
  end
  walk(1)
end

-- one number format for all shown elements, so columns line up
local function formatter(t, summarize)
  local dtype = t.dtype
  if dtype == "bool" then
    return function(v) return v and "true" or "false" end
  end
  if dtype == "i64" then return function(v) return string.format("%d", v) end end
  local maxabs, minabs, integral = 0, math.huge, true
  local function see(v)
    if v ~= v or v == math.huge or v == -math.huge then return end
    local a = math.abs(v)
    if a > maxabs then maxabs = a end
    if a > 0 and a < minabs then minabs = a end
    if v ~= math.floor(v) then integral = false end
  end
  -- complex elements come as two numbers (re, im): both parts share one format
  each_shown(t, summarize, function(v, im) see(v); if im then see(im) end end)
  local p = print_opts.precision
  local fmt
  if integral and maxabs < 1e9 then fmt = "%.0f."
  elseif maxabs >= 1e6 or (minabs < 1e-3 and minabs > 0) then fmt = "%." .. p .. "e"
  else fmt = "%." .. p .. "f" end
  local function real(v)
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    return string.format(fmt, v)
  end
  if dtype ~= "c128" and dtype ~= "c64" then return real end
  -- re+imi with the real parts right-aligned, so the signs line up
  local rewidth = 0
  each_shown(t, summarize, function(v) rewidth = math.max(rewidth, #real(v)) end)
  return function(re, im)
    local sign = (im < 0 or (im == 0 and 1 / im < 0)) and "-" or "+"
    local r = real(re)
    return string.rep(" ", rewidth - #r) .. r .. sign .. real(math.abs(im)) .. "i"
  end
end

local function render(t)
  local nd = t.ndim
  local summarize = t:numel() > print_opts.threshold
  local fmt = formatter(t, summarize)
  local cells, width = {}, 0
  each_shown(t, summarize, function(v, im)
    local s = fmt(v, im)
    cells[#cells + 1] = s
    if #s > width then width = #s end
  end)
  local shape, k = t.shape, 0
  -- summarize the last dim when a row would be too wide; the cells (and
  -- width) stay those of the whole row, of which only the edges are shown
  local last_summary = summarize or shape[nd] * (width + 2) > print_opts.linewidth
  local function block(d, indent)
    local idx = shown(shape[d], summarize or (last_summary and d == nd), d < nd - 1)
    if d == nd then
      local row, parts = {}, {}
      for _, i in ipairs(shown(shape[d], summarize)) do
        if i > 0 then k = k + 1; row[i] = cells[k] end
      end
      for _, i in ipairs(idx) do
        local s = i == 0 and "..." or row[i]
        parts[#parts + 1] = string.rep(" ", width - #s) .. s
      end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    local rows = {}
    for _, i in ipairs(idx) do
      if i == 0 then rows[#rows + 1] = "..."
      else rows[#rows + 1] = block(d + 1, indent .. " ") end
    end
    local sep = ",\n" .. string.rep("\n", nd - d - 1) .. indent .. " "
    return "[" .. table.concat(rows, sep) .. "]"
  end
  return shape[1] == 0 and "[]" or block(1, "")
end

local function has_zero(shape)
  for _, n in ipairs(shape) do if n == 0 then return true end end
  return false
end

local raw_tostring = mt.__tostring
local function tensor_tostring(t)
  if not T.is_tensor(t) then return raw_tostring(t) end
  local shape = t.shape
  local tag = string.format("[%s tensor of shape {%s}]", t.dtype, table.concat(shape, ","))
  if t.ndim == 0 then
    return formatter(t, false)(t:item()) .. "  " .. tag
  end
  if has_zero(shape) then return "[]  " .. tag end
  return render(t) .. "\n" .. tag
end
mt.__tostring = tensor_tostring

-- Complex numbers ----------------------------------------------------------

doc(T.I, [[T.I

The imaginary unit i as a 0-d c128 tensor: `3 + 4 * T.I`, `(T.I * k * x):exp()`.
Like a Lua number it is weak: `x * T.I` is c64 for an f32 x, c128 for f64.
It is one shared tensor: never modify it in place.]])

function T.vdot(a, b)
  E.check("T.vdot", "a", a, "tensor")
  E.check("T.vdot", "b", b, "tensor")
  if a.ndim ~= 1 or b.ndim ~= 1 or a.shape[1] ~= b.shape[1] then
    E.raise("T.vdot: expects two 1-d tensors of one length, got %s and %s",
            E.show(a), E.show(b))
  end
  if a.dtype == "c128" or a.dtype == "c64" then a = a:conj() end
  return T.dot(a, b)
end
doc(T.vdot, [[T.vdot(a, b)

The inner product sum(conj(a[i]) * b[i]) of two 1-d tensors: the first
argument is conjugated, so T.vdot(psi, psi) is the squared norm <psi|psi>
(T.dot does not conjugate, like numpy's dot).  A 0-d tensor, as T.dot
gives.]])

-- the smallest value of each option; precision stops at 17 digits, all a
-- double holds
local print_min = { threshold = 0, edgeitems = 1, linewidth = 1, precision = 0 }
local print_max = { precision = 17 }

function T.set_printoptions(opts)
  local who = "T.set_printoptions"
  if type(opts) ~= "table" then E.raise("%s: expected a table of options, got %s", who, E.show(opts)) end
  E.checkopts(who, opts, print_opts)
  for k, v in pairs(opts) do E.int(who, k, v, print_min[k], print_max[k]) end
  for k, v in pairs(opts) do print_opts[k] = math.tointeger(v) end
end
doc(T.set_printoptions, [[T.set_printoptions{threshold=, edgeitems=, linewidth=, precision=}

How tensors print: above `threshold` elements (1000) only `edgeitems` (3)
rows/columns at each end are shown; rows wider than `linewidth` (100) are cut
the same way; floats get `precision` (4) digits.]])

-- Lua numbers ---------------------------------------------------------------

-- A full reduction gives a Lua number for an untracked tensor and a 0-d
-- tensor for one that requires grad.  So that code need not care, a number
-- answers :item() with itself, and :backward() with what to do instead of
-- "attempt to index a number value".  Other keys raise as before.
local number_methods = {
  item = function(n) return n end,
  backward = function()
    E.raise("backward: this is a Lua number, not a tensor: a full reduction "
      .. "of tensors that do not require grad gives a number.  Call "
      .. "x:requires_grad_() on the inputs before computing it, or use "
      .. "autograd.grad(f, x)")
  end,
}
-- Lua 5.4 calls __lt and __le for a tensor against a number (it never calls
-- __eq: `t == 0` is plain false), and turns their result into a boolean.
-- So `<` and `<=` on tensors raise an error naming the two remedies rather
-- than compare one element; docs/design.md says why.
local function compare_error()
  E.raise("attempt to compare a tensor with <, <=, > or >=: for the value of a "
    .. "one-element tensor use t:item() (a Lua number also has :item()); "
    .. "elementwise use t:lt(x), t:le(x), t:gt(x), t:ge(x)")
end
mt.__lt, mt.__le = compare_error, compare_error

-- (level 2: the line that indexed, as Lua's own "attempt to index" error)
debug.setmetatable(0, { __index = function(_, k)
  local f = number_methods[k]
  if f then return f end
  error(string.format("attempt to index a number value (field '%s')", tostring(k)), 2)
end })

-- Autograd's tensor methods: the first call loads hebb.autograd, which puts
-- the real ones in their place.
for name, sig in pairs({ requires_grad_ = "x:requires_grad_([flag=true])",
    backward = "y:backward([gradient] [, opts])", detach = "x:detach()",
    retain_grad = "y:retain_grad()" }) do
  methods[name] = function(...)
    require "hebb.autograd"
    return methods[name](...)
  end
  doc(methods[name], sig .. "\n\nAutomatic differentiation: the first call loads "
    .. "hebb.autograd, whose `?autograd." .. name .. "` has the details "
    .. "(docs/autograd.md).")
end

-- kron, meshgrid, logspace, diff, trapz (written over tensor operations)
require("hebb._tensor_extra")(T, methods, doc)

-- T.fuse: hebb._tensor_fuse (~55 KB of Lua heap, which every collector
-- cycle marks and sweeps) is loaded at its first call, which puts the real
-- T.fuse in the stub's place (docs/performance.md, "the resident heap").
local fuse
function T.fuse(...)
  if not fuse then
    require("hebb._tensor_fuse")(T, methods, doc)
    fuse = T.fuse
  end
  return fuse(...)
end
doc(T.fuse, [[
T.fuse(fn) -> fused

A function that computes what fn computes, with chains of elementwise
operations evaluated in one pass over memory (no temporary tensor per
operation).  fn receives tensors (and any other values) and uses operators
(+ - * / % // ^, unary -), elementwise methods (exp, sin, sqrt, tanh,
sigmoid, ..., minimum, maximum, atan2), x:roll(shifts, dims) of its tensor
arguments, and in-place methods on its arguments (x:add_(y), x:copy_(y),
x:mul(y, {out = z})); it returns tensors, numbers or nothing.

fused(...) calls fn at every call with proxies in place of the tensors:
the first call of a signature (dtypes and shapes) records and compiles the
operations, later ones check that the same operations happen and take the
Lua numbers met on the way as the call's parameters.  A call that repeats
the last one (fn uses no globals; its other arguments and its upvalues are
the same plain values, and the last call changed none) runs the program
again without calling fn.  The results are the
bits the same operations give one by one.  What the proxies cannot record
(reductions, matmul, indexing, comparisons, T.f(x) function forms, tensors
that are not arguments, arguments of several dtypes, integer dtypes, or an
argument tracked by autograd) makes fused(...) call fn eagerly with the
tensors themselves: the same results, at the speed of separate operations;
fused.stats.reason says why.  f32, f64, c64 and c128.  See docs/fuse.md.]])

return T
