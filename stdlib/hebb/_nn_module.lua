-- hebb._nn_module: the base of hebb.nn -- nn.Module, nn.Parameter and the
-- helpers the other parts of hebb.nn share.
--
-- A module is a Lua table whose metatable is its class.  Its trainable
-- tensors (parameters), non-trainable state (buffers) and child modules
-- live as ordinary fields, so `self.weight` is one table read; what makes
-- them parameters is the registry kept beside them (`_kind[name]` and the
-- registration order `_order`).  Assigning a module, or a tensor made by
-- nn.Parameter, to a NEW field registers it
-- (the class's __newindex sees only new fields); assigning to an existing
-- field replaces the value under the same name, which is how weights are
-- shared (`m2.weight = m1.weight`): the walks below deduplicate by identity.
--
-- A parametrized tensor (nn.parametrize, in hebb._nn_parametrize) is not a
-- field at all: the class's __index finds it in `self.parametrizations` and
-- computes it from its free parameter on every read.
local E = require "hebb._error"
local T = require "hebb.tensor"
local doc = require("hebb").doc

local M = {}

local has_autograd, autograd = pcall(require, "hebb.autograd")
if not has_autograd then autograd = nil end
-- p.grad read without lending it to user code (zero_grad keeps no reference)
local grad_of = autograd and require("hebb._autograd_engine")._grad_of

local fmt = string.format

local function is_tensor(v) return T.is_tensor(v) end

local function shape_str(t)
  return "{" .. table.concat(t.shape, ",") .. "}"
end
M._shape_str = shape_str

-- runs f(...) with gradient recording off (a plain call before autograd)
local function no_grad(f, ...)
  if autograd then return autograd.no_grad(f, ...) end
  return f(...)
end
M._no_grad = no_grad

-- t:detach() once autograd exists; t itself before
local function detach(t)
  if t.detach then return t:detach() end
  return t
end
M._detach = detach

-- --- parameters -------------------------------------------------------------

-- tensors made by nn.Parameter, so that assigning one registers it even
-- when autograd is not loaded (weak: the marks die with the tensors)
local marked = setmetatable({}, { __mode = "k" })

function M.Parameter(t, requires_grad)
  E.check("nn.Parameter", "t", t, "tensor")
  E.check("nn.Parameter", "requires_grad", requires_grad, "boolean", true)
  if t.dtype ~= "f64" and t.dtype ~= "f32" and t.dtype ~= "c128" and t.dtype ~= "c64" then
    E.raise("nn.Parameter: a parameter must be a float tensor, got dtype " .. t.dtype)
  end
  if t.grad_fn then t = detach(t) end
  if t.requires_grad_ then t:requires_grad_(requires_grad ~= false) end
  marked[t] = true
  return t
end
doc(M.Parameter, "nn.Parameter(t [, requires_grad=true])\n\nMarks the float "
  .. "tensor t as a parameter (it requires grad; a non-leaf is detached "
  .. "first) and returns it: assigned to a new field of a module "
  .. "(`self.w = nn.Parameter(T.randn(3, 3))`) it is registered, so "
  .. "m:parameters() lists it.")

-- only tensors marked by nn.Parameter: a leaf that merely requires grad
-- (an input cached in a field, say) must not become a parameter silently
local function is_param(v)
  return marked[v] == true
end

local function is_module(v)
  return type(v) == "table" and rawget(v, "_kind") ~= nil
end
M.is_module = is_module
doc(M.is_module, "nn.is_module(v)\n\nWhether v is a module instance.")

-- --- classes ----------------------------------------------------------------

M.classes = {}    -- every class by name (the last defined wins)
doc(M.classes, "nn.classes\n\nEvery module class by name (nn.classes.Linear), "
  .. "including the ones made with nn.Module:extend.")

-- the parametrization list for name k, if k is parametrized
local function parametrized(self, k)
  local pd = rawget(self, "parametrizations")
  if pd == nil then return nil end
  local pl = rawget(pd, k)
  if type(pl) == "table" and rawget(pl, "_plist") then return pl end
  return nil
end
M._parametrized = parametrized

local function register(self, k, v, kind)
  local kinds = rawget(self, "_kind")
  if kinds[k] == nil then
    local order = rawget(self, "_order")
    order[#order + 1] = k
  end
  kinds[k] = kind
  rawset(self, k, v)
end

local function newindex(self, k, v)
  local pl = parametrized(self, k)
  if pl then pl:set(v); return end
  if is_module(v) then register(self, k, v, "module")
  elseif is_param(v) then register(self, k, v, "param")
  else rawset(self, k, v) end
end

-- m(x): forward, with errors that C functions raise inside the library
-- (a bad input reaching T.linear, say) placed at the user's line
local function call(self, ...) return E.call(self.forward, self, ...) end

local repr

local function make_class(name, parent)
  local cls = { __name = name, super = parent }
  cls.__index = function(self, k)
    local pl = parametrized(self, k)
    if pl then return pl:value() end
    return cls[k]
  end
  cls.__newindex = newindex
  cls.__call = call
  cls.__tostring = function(self) return repr(self) end
  setmetatable(cls, {
    __index = parent,
    __call = function(c, ...) return c:new(...) end,
    __tostring = function(c) return "nn." .. rawget(c, "__name") .. " (a module class)" end,
  })
  M.classes[name] = cls
  return cls
end

-- the root class: Module itself is a class like the others
local Module = make_class("Module")
M.Module = Module
getmetatable(Module).__tostring = function() return "nn.Module (the base module class)" end
doc(Module, "nn.Module\n\nThe base class.  nn.Module:extend(\"Name\") makes a "
  .. "class; give it __init(self, ...) and forward(self, ...); Name(...) "
  .. "makes an instance and m(x) calls m:forward(x).  In __init, assigning a "
  .. "module or an nn.Parameter to a new field registers it; buffers "
  .. "(non-trainable state saved in state_dict) with self:register_buffer.  "
  .. "Methods: parameters, named_parameters, buffers, named_buffers, children, "
  .. "named_children, modules, named_modules, apply, zero_grad, train, eval, "
  .. "to, state_dict, load_state_dict, num_parameters, extra_repr.")

function Module.extend(parent, name)
  if type(parent) ~= "table" or rawget(parent, "__newindex") ~= newindex then
    E.raise("nn.Module.extend: call it on a module class, as nn.Module:extend(\"Name\")")
  end
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    E.raise("nn.Module:extend: the class name must be an identifier, got %s", E.show(name))
  end
  return make_class(name, parent)
end
doc(Module.extend, "nn.Module:extend(name)  or  Class:extend(name)\n\nA new "
  .. "module class derived from the receiver (methods are looked up through "
  .. "the chain; Class.super is the parent).  Registered as nn.classes[name].")

function Module.new(cls, ...)
  if rawget(cls, "__newindex") ~= newindex then
    E.raise("nn.Module.new: call it on a module class, as nn.Linear(...) or Class:new(...)")
  end
  local self = setmetatable({ _kind = {}, _order = {}, _nopersist = {}, training = true }, cls)
  self:__init(...)
  return self
end
doc(Module.new, "Class:new(...)  or  Class(...)\n\nA new instance: the "
  .. "registries are set up, then self:__init(...) runs.")

function Module:__init() end

function Module:forward()
  E.raise("nn." .. self.__name .. ": forward is not defined (give the class a forward method)")
end

-- the class chain of self contains cls
function M.isinstance(v, cls)
  if not is_module(v) then return false end
  local c = getmetatable(v)
  while c do
    if c == cls then return true end
    c = rawget(c, "super")
  end
  return false
end
doc(M.isinstance, "nn.isinstance(v, cls)\n\nWhether v is a module of class "
  .. "cls or of a class extended from it (nn.isinstance(m, nn.Module) for any "
  .. "module).")

-- --- registration -------------------------------------------------------------

local function check_name(self, what, name)
  if type(name) ~= "string" and math.type(name) ~= "integer" then
    E.raise("nn.%s:%s: the name must be a string or an integer, got %s",
              self.__name, what, E.show(name))
  end
  if type(name) == "string" and name:find(".", 1, true) then
    E.raise("nn.%s:%s: the name %q must not contain '.'", self.__name, what, name)
  end
  if parametrized(self, name) then
    E.raise("nn.%s:%s: %q is parametrized (remove the parametrization first)",
              self.__name, what, name)
  end
end

function Module:register_parameter(name, t)
  check_name(self, "register_parameter", name)
  if t ~= nil and not is_tensor(t) then
    E.raise("nn.%s:register_parameter: %s must be a tensor or nil, got %s",
              self.__name, E.show(name), E.show(t))
  end
  if t ~= nil and not is_param(t) then t = M.Parameter(t) end
  register(self, name, t, "param")
  return t
end
doc(Module.register_parameter, "m:register_parameter(name, t)\n\nRegisters "
  .. "the tensor t (made a parameter with nn.Parameter unless it already "
  .. "requires grad) as m[name]; returns it.  name: a string without '.', or "
  .. "an integer.")

function Module:register_buffer(name, t, persistent)
  check_name(self, "register_buffer", name)
  if t ~= nil and not is_tensor(t) then
    E.raise("nn.%s:register_buffer: %s must be a tensor or nil, got %s",
              self.__name, E.show(name), E.show(t))
  end
  register(self, name, t, "buffer")
  rawget(self, "_nopersist")[name] = (persistent == false) or nil
  return t
end
doc(Module.register_buffer, "m:register_buffer(name, t [, persistent=true])"
  .. "\n\nRegisters t as a buffer m[name]: state that is not trained (a "
  .. "running mean, a neuron state).  Persistent buffers are in state_dict.")

function Module:add_module(name, m)
  check_name(self, "add_module", name)
  if m ~= nil and not is_module(m) then
    E.raise("nn.%s:add_module: %s must be a module, got %s",
              self.__name, E.show(name), E.show(m))
  end
  register(self, name, m, "module")
  return m
end
doc(Module.add_module, "m:add_module(name, child)\n\nRegisters child as "
  .. "m[name] (the same as assigning it to a new field).")

-- --- walks ----------------------------------------------------------------

-- calls visit(module, prefix) for self and every descendant, each module
-- once (a module shared in two places is visited at its first place)
local function walk(self, prefix, seen, visit)
  if seen then
    if seen[self] then return end
    seen[self] = true
  end
  visit(self, prefix)
  local kinds = rawget(self, "_kind")
  for _, k in ipairs(rawget(self, "_order")) do
    if kinds[k] == "module" then
      local m = rawget(self, k)
      if m ~= nil then walk(m, prefix .. tostring(k) .. ".", seen, visit) end
    end
  end
end

-- {name, value} of the entries of one kind, recursively, each value once
local function named(self, kind, recurse)
  local out, seen_t = {}, {}
  local function visit(m, prefix)
    local kinds = rawget(m, "_kind")
    for _, k in ipairs(rawget(m, "_order")) do
      local v = rawget(m, k)
      if kinds[k] == kind and v ~= nil and not seen_t[v] then
        seen_t[v] = true
        out[#out + 1] = { prefix .. tostring(k), v }
      end
    end
  end
  if recurse then walk(self, "", {}, visit) else visit(self, "") end
  return out
end

-- the second elements of a list of {name, value}
local function values(pairs_list)
  local out = {}
  for i, p in ipairs(pairs_list) do out[i] = p[2] end
  return out
end

local walk_keys = { recurse = true }

-- whether a walk with opts ({recurse = false}) goes into submodules
local function recurse(self, what, opts)
  opts = E.checkopts("nn." .. self.__name .. ":" .. what, opts, walk_keys)
  E.check("nn." .. self.__name .. ":" .. what, "recurse", opts.recurse, "boolean", true)
  return opts.recurse ~= false
end

function Module:named_parameters(opts)
  return named(self, "param", recurse(self, "named_parameters", opts))
end
doc(Module.named_parameters, "m:named_parameters([{recurse=true}])\n\nA list "
  .. "of {name, tensor}: m's own parameters in registration order, then each "
  .. "child's under the prefix 'child.' (dotted names, e.g. '1.weight' in a "
  .. "Sequential).  A tensor shared by several modules (tied weights) appears "
  .. "once, under its first name.")

function Module:parameters(opts)
  return values(self:named_parameters(opts))
end
doc(Module.parameters, "m:parameters([{recurse=true}])\n\nThe parameter "
  .. "tensors, in the order of m:named_parameters(): what an optimizer takes.")

function Module:named_buffers(opts)
  return named(self, "buffer", recurse(self, "named_buffers", opts))
end
doc(Module.named_buffers, "m:named_buffers([{recurse=true}])\n\nA list of "
  .. "{name, tensor} of the buffers, like named_parameters.")

function Module:buffers(opts)
  return values(self:named_buffers(opts))
end
doc(Module.buffers, "m:buffers([{recurse=true}])\n\nThe buffer tensors.")

function Module:named_children()
  local out = {}
  local kinds = rawget(self, "_kind")
  for _, k in ipairs(rawget(self, "_order")) do
    local m = rawget(self, k)
    if kinds[k] == "module" and m ~= nil then out[#out + 1] = { tostring(k), m } end
  end
  return out
end
doc(Module.named_children, "m:named_children()\n\nA list of {name, module} "
  .. "of the direct children.")

function Module:children()
  return values(self:named_children())
end
doc(Module.children, "m:children()\n\nThe direct child modules.")

function Module:named_modules()
  local out = {}
  walk(self, "", {}, function(m, prefix)
    out[#out + 1] = { prefix:sub(1, -2), m }
  end)
  return out
end
doc(Module.named_modules, "m:named_modules()\n\nA list of {name, module} of m "
  .. "(name '') and all its descendants, each module once.")

function Module:modules()
  return values(self:named_modules())
end
doc(Module.modules, "m:modules()\n\nm and all its descendants, each once.")

function Module:apply(fn)
  E.check("nn." .. self.__name .. ":apply", "fn", fn, "function")
  for _, m in ipairs(self:modules()) do fn(m) end
  return self
end
doc(Module.apply, "m:apply(fn)\n\nCalls fn(module) for m and every "
  .. "descendant (parents first); returns m.")

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end
doc(Module.num_parameters, "m:num_parameters()\n\nThe number of trainable "
  .. "numbers (elements of the distinct parameters).")

-- --- training helpers --------------------------------------------------------

function Module:zero_grad(set_to_none)
  E.check("nn." .. self.__name .. ":zero_grad", "set_to_none", set_to_none, "boolean", true)
  for _, p in ipairs(self:parameters()) do
    if set_to_none == false then
      local g = grad_of and grad_of(p)
      if g then no_grad(function() g:fill_(0) end) end
    else
      p.grad = nil
    end
  end
  return self
end
doc(Module.zero_grad, "m:zero_grad([set_to_none=true])\n\nForgets the "
  .. "accumulated gradients: p.grad = nil for every parameter (or fills them "
  .. "with zeros when set_to_none is false).  Returns m.")

function Module:train(mode)
  E.check("nn." .. self.__name .. ":train", "mode", mode, "boolean", true)
  if mode == nil then mode = true end
  for _, m in ipairs(self:modules()) do rawset(m, "training", mode and true or false) end
  return self
end
doc(Module.train, "m:train([mode=true])\n\nSets m.training = mode in m and "
  .. "every descendant (Dropout is active only in training mode); returns m.")

function Module:eval() return self:train(false) end
doc(Module.eval, "m:eval()\n\nm:train(false): evaluation mode.")

-- converts every parameter and buffer to dtype (new tensors; parameters stay
-- parameters, shared tensors stay shared)
local float_dtypes = { f64 = true, f32 = true, c128 = true, c64 = true }

function Module:to(dtype)
  if not float_dtypes[dtype] then
    E.raise("nn.%s:to: dtype must be \"f64\", \"f32\", \"c128\" or \"c64\", got %s",
            self.__name, E.show(dtype))
  end
  local done = {}
  local function conv(v, param)
    if v.dtype == dtype then return v end
    if done[v] then return done[v] end
    local w = no_grad(function() return detach(v):astype(dtype) end)
    if param then w = M.Parameter(w) end
    done[v] = w
    return w
  end
  walk(self, "", {}, function(m)
    local kinds = rawget(m, "_kind")
    for _, k in ipairs(rawget(m, "_order")) do
      local v = rawget(m, k)
      if v ~= nil and (kinds[k] == "param" or kinds[k] == "buffer")
         and v.dtype ~= "i64" and v.dtype ~= "bool" then
        rawset(m, k, conv(v, kinds[k] == "param"))
      end
    end
  end)
  return self
end
doc(Module.to, "m:to(dtype)\n\nConverts every float parameter and buffer to "
  .. "dtype ('f32', 'f64'): new tensors, still parameters; a tensor shared "
  .. "between modules stays shared.  Returns m.")

-- --- state ------------------------------------------------------------------

-- every parameter and persistent buffer under its dotted name (a tensor
-- shared by two names appears under both, so loading restores each)
local function state_entries(self)
  local out = {}
  walk(self, "", nil, function(m, prefix)
    local kinds, nop = rawget(m, "_kind"), rawget(m, "_nopersist")
    for _, k in ipairs(rawget(m, "_order")) do
      local v = rawget(m, k)
      if v ~= nil and (kinds[k] == "param" or (kinds[k] == "buffer" and not nop[k])) then
        out[#out + 1] = { prefix .. tostring(k), v }
      end
    end
  end)
  return out
end

function Module:state_dict()
  local sd = {}
  for _, e in ipairs(state_entries(self)) do
    sd[e[1]] = no_grad(function() return detach(e[2]):clone() end)
  end
  return sd
end
doc(Module.state_dict, "m:state_dict()\n\nA table dotted name -> copy of "
  .. "every parameter and persistent buffer (a parametrized weight is stored "
  .. "through its free parameter, 'parametrizations.weight.original').")

function Module:load_state_dict(sd, opts)
  local who = "nn." .. self.__name .. ":load_state_dict"
  if type(sd) ~= "table" then
    E.raise("%s: expected a table name -> tensor, got %s", who, E.show(sd))
  end
  opts = E.checkopts(who, opts, { strict = true })
  local strict = E.check(who, "strict", opts.strict, "boolean", true) ~= false
  local entries, have, missing, bad = state_entries(self), {}, {}, {}
  for _, e in ipairs(entries) do
    local name, v = e[1], e[2]
    have[name] = true
    local s = sd[name]
    if s == nil then
      missing[#missing + 1] = name
    elseif not is_tensor(s) then
      bad[#bad + 1] = fmt("%s must be a tensor, got %s", name, E.show(s))
    elseif shape_str(s) ~= shape_str(v) then
      bad[#bad + 1] = fmt("%s has shape %s in the state_dict but %s in the module",
                          name, shape_str(s), shape_str(v))
    end
  end
  local unexpected = {}
  for k in pairs(sd) do
    if not have[k] then unexpected[#unexpected + 1] = tostring(k) end
  end
  table.sort(unexpected)
  local problems = {}
  if #bad > 0 then problems[#problems + 1] = table.concat(bad, "; ") end
  if strict and #missing > 0 then
    problems[#problems + 1] = "missing keys: " .. table.concat(missing, ", ")
  end
  if strict and #unexpected > 0 then
    problems[#problems + 1] = "unexpected keys: " .. table.concat(unexpected, ", ")
  end
  if #problems > 0 then
    E.raise("nn." .. self.__name .. ":load_state_dict: " .. table.concat(problems, "; "))
  end
  no_grad(function()
    for _, e in ipairs(entries) do
      local s = sd[e[1]]
      if s ~= nil then e[2]:copy_(s) end
    end
  end)
  return { missing = missing, unexpected = unexpected }
end
doc(Module.load_state_dict, "m:load_state_dict(sd [, {strict=true}])\n\n"
  .. "Copies the values of sd into m's parameters and buffers (converting "
  .. "dtype).  Nothing is copied when a shape differs, or (strict) when a key "
  .. "is missing or unexpected: the error lists them all.  Returns "
  .. "{missing=, unexpected=}.")

-- --- printing -------------------------------------------------------------------

function Module:extra_repr() return "" end
doc(Module.extra_repr, "m:extra_repr()\n\nThe text between the parentheses "
  .. "when m prints (override it in a class); '' by default.")

repr = function(self)
  local head = self.__name .. "(" .. self:extra_repr()
  local kids = self:named_children()
  if #kids == 0 then return head .. ")" end
  local lines = { head }
  for _, c in ipairs(kids) do
    local sub = tostring(c[2]):gsub("\n", "\n  ")
    lines[#lines + 1] = "  (" .. c[1] .. "): " .. sub
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

return M
