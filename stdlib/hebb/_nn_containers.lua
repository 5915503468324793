-- hebb._nn_containers: the modules that hold other modules -- nn.Sequential,
-- nn.ModuleList, nn.ModuleDict and nn.Residual (part of hebb.nn).
local E = require "hebb._error"
local B = require "hebb._nn_module"
local doc = require("hebb").doc

local M = {}
local Module, is_module = B.Module, B.is_module

local Sequential = Module:extend("Sequential")
M.Sequential = Sequential

function Sequential:__init(...)
  local mods = { ... }
  if #mods == 1 and type(mods[1]) == "table" and not is_module(mods[1]) then mods = mods[1] end
  for i, m in ipairs(mods) do
    if not is_module(m) then
      E.raise("nn.Sequential: argument %d must be a module, got %s", i, E.show(m))
    end
    self:add_module(i, m)
  end
end
doc(Sequential, "nn.Sequential(m1, m2, ...)  or  nn.Sequential{m1, m2, ...}"
  .. "\n\nCalls its modules in order, each on the previous one's result.  "
  .. "seq[i] is the i-th module, #seq their number; parameters are named "
  .. "'1.weight', '2.bias', ... (1-based).  seq:add(m) appends.")

function Sequential:add(m)
  if not is_module(m) then E.raise("nn.Sequential:add: expected a module, got %s", E.show(m)) end
  self:add_module(#self + 1, m)
  return self
end
doc(Sequential.add, "seq:add(m)\n\nAppends the module m (registered as "
  .. "seq[#seq + 1]); returns seq.")

-- An nn.Linear followed by an nn.ReLU, inside the sequence (a module
-- follows the pair, so the pair's output is never the caller's), runs as
-- one op: relu(x W^T + b) with the ReLU taken in the product's tiles
-- (T._linear_relu), the same values and gradients as the two modules,
-- without the ReLU's pass over memory and its record.  hebb._nn_layers
-- sets fuse(m, nxt, x): the fused result, or nil when the pair is not
-- exactly those two modules as defined there.
local fuse = function() return nil end
function M._set_fuse(f) fuse = f end

function Sequential:forward(x)
  local n, i = #self, 1
  while i <= n do
    local m = self[i]
    local y = i + 1 < n and fuse(m, self[i + 1], x)
    if y then x, i = y, i + 2
    else x, i = m(x), i + 1 end
  end
  return x
end

local ModuleList = Module:extend("ModuleList")
M.ModuleList = ModuleList

function ModuleList:__init(mods)
  E.check("nn.ModuleList", "the list of modules", mods, "table", true)
  for i, m in ipairs(mods or {}) do
    if not is_module(m) then
      E.raise("nn.ModuleList: element %d must be a module, got %s", i, E.show(m))
    end
    self:add_module(i, m)
  end
end
doc(ModuleList, "nn.ModuleList({m1, m2, ...})\n\nA list of modules whose "
  .. "parameters are registered (names '1.…'); no forward.  l:add(m) appends.")

function ModuleList:add(m)
  if not is_module(m) then E.raise("nn.ModuleList:add: expected a module, got %s", E.show(m)) end
  self:add_module(#self + 1, m)
  return self
end
doc(ModuleList.add, "list:add(m)\n\nAppends the module m; returns the list.")

function ModuleList:forward()
  E.raise("nn.ModuleList: a list of modules has no forward; call its elements")
end

local ModuleDict = Module:extend("ModuleDict")
M.ModuleDict = ModuleDict

function ModuleDict:__init(mods)
  E.check("nn.ModuleDict", "the table of modules", mods, "table", true)
  if mods then
    local keys = {}
    for k in pairs(mods) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do self:add_module(k, mods[k]) end
  end
end
doc(ModuleDict, "nn.ModuleDict({name = m, ...})\n\nModules under string "
  .. "names (registered in sorted order); no forward.")

function ModuleDict:forward()
  E.raise("nn.ModuleDict: a table of modules has no forward; call its elements")
end

local Residual = Module:extend("Residual")
M.Residual = Residual

function Residual:__init(fn)
  if not is_module(fn) then
    E.raise("nn.Residual: expected a module, got %s", E.show(fn))
  end
  self.fn = fn
end
doc(Residual, "nn.Residual(f)\n\nThe skip connection x + f(x); f is a module "
  .. "(its parameters are named 'fn.…').")

function Residual:forward(x, ...) return x + self.fn(x, ...) end

return M
