-- hebb._nn_parametrize: the constrained parameters of hebb.nn.
--
-- nn.parametrize(m, "weight", "antisymmetric") replaces the parameter
-- m.weight by a free parameter A (m.parametrizations.weight.original) and
-- makes m.weight a value computed on every read: W = A - A^T.  The
-- optimizer moves A freely; W satisfies the constraint by construction, so
-- it holds after every step exactly (A - A^T is exactly antisymmetric in
-- floating point: a - b = -(b - a)).  Parametrizations compose: a second
-- one on the same name is applied to the first one's result.
--
-- A parametrization is a module with forward(A) -> W and, optionally,
-- right_inverse(W) -> A, used when the parametrization is registered (so W
-- starts from the module's current weight, or its nearest constrained
-- matrix) and when a value is assigned to m.weight.
local E = require "hebb._error"
local T = require "hebb.tensor"
local B = require "hebb._nn_module"
local Ct = require "hebb._nn_containers"
local linalg = require "hebb.linalg"
local doc = require("hebb").doc

local P = {}
local fmt = string.format
local Module = B.Module
local shape_str = B._shape_str
local no_grad, detach = B._no_grad, B._detach

local function square(W, what)
  if W.ndim ~= 2 or W.shape[1] ~= W.shape[2] then
    E.raise("nn.parametrize: %s needs a square matrix, got shape %s", what, shape_str(W))
  end
end

-- --- the list of parametrizations of one tensor ------------------------------------

local PList = Module:extend("ParametrizationList")
P.ParametrizationList = PList
doc(P.ParametrizationList, "nn.ParametrizationList\n\nHolds a parametrized "
  .. "tensor's free parameter (original) and its parametrizations (1, 2, ...).")

function PList:__init(original)
  rawset(self, "_plist", true)
  self.original = original
end

-- W = f_k(... f_1(original))
function PList:value()
  local W = self.original
  for i = 1, #self do W = self[i](W) end
  return W
end
doc(PList.value, "pl:value()\n\nThe parametrized tensor f_k(... f_1(pl.original)) "
  .. "(what m.weight reads).")

-- m.weight = W: original takes the right inverses of W, last one first
function PList:set(W)
  if not T.is_tensor(W) then
    E.raise("nn.parametrize: a parametrized tensor can only be assigned a tensor, got %s", E.show(W))
  end
  local A = detach(W)
  for i = #self, 1, -1 do
    local f = self[i]
    if not f.right_inverse then
      E.raise("nn.parametrize: cannot assign to a tensor parametrized by %s: it has no "
                .. "right_inverse", f.__name)
    end
    A = no_grad(f.right_inverse, f, A)
  end
  if shape_str(A) ~= shape_str(self.original) then
    E.raise("nn.parametrize: the assigned value gives shape %s, the parameter has %s",
              shape_str(A), shape_str(self.original))
  end
  local o = self.original
  no_grad(function() o:copy_(A) end)
end
doc(PList.set, "pl:set(W)\n\nAssigns W to the parametrized tensor: the free "
  .. "parameter becomes the right inverses of W (last parametrization first), "
  .. "copied in place.  What `m.weight = W` does.")

function PList:forward()
  E.raise("nn.ParametrizationList: read the parametrized tensor instead (m.weight)")
end

function PList:extra_repr()
  return "original: " .. shape_str(self.original) .. " " .. self.original.dtype
end

-- --- the built-in parametrizations ---------------------------------------------------------

local registry = {}
-- the options of the built-in kinds (a registered kind checks its own)
local kind_keys = { antisymmetric = {}, symmetric = {}, orthogonal = { map = true },
                    positive_definite = { eps = true }, masked = { mask = true } }

local Antisymmetric = Module:extend("Antisymmetric")
doc(Antisymmetric, "nn.Antisymmetric()\n\nThe parametrization W = A - A^T "
  .. "(nn.parametrize(m, name, \"antisymmetric\")).")
P.Antisymmetric = Antisymmetric
function Antisymmetric:forward(A) return A - A:t() end
-- W/2 - (W/2)^T is the antisymmetric part of W, and W itself when W is
-- antisymmetric (halving is exact)
function Antisymmetric:right_inverse(W) return W * 0.5 end
doc(Antisymmetric.right_inverse, "p:right_inverse(W)\n\nW/2: maps W to its "
  .. "antisymmetric part, and an antisymmetric W to itself exactly.")
registry.antisymmetric = function(_, W) square(W, "antisymmetric"); return Antisymmetric() end

local Symmetric = Module:extend("Symmetric")
doc(Symmetric, "nn.Symmetric()\n\nThe parametrization W = A + A^T.")
P.Symmetric = Symmetric
function Symmetric:forward(A) return A + A:t() end
function Symmetric:right_inverse(W) return W * 0.5 end
doc(Symmetric.right_inverse, "p:right_inverse(W)\n\nW/2: a symmetric W maps to "
  .. "itself exactly.")
registry.symmetric = function(_, W) square(W, "symmetric"); return Symmetric() end

-- e^A by scaling and squaring with a Taylor polynomial, all matrix
-- products: autograd differentiates it (linalg.expm has no rule), and for
-- |A/2^s|_1 <= 1/2 degree 18 leaves a truncation error below 1e-22
local function expm(A)
  local n = A.shape[1]
  local I = T.eye(n, { dtype = A.dtype })
  local norm = no_grad(function() local v = detach(A):abs():sum(1):max()
    return T.is_tensor(v) and v:item() or v
  end)
  local s = 0
  if norm > 0.5 then s = math.ceil(math.log(norm / 0.5, 2)) end
  local X = A * (0.5 ^ s)
  local Ex = I
  for k = 18, 1, -1 do Ex = I + X:matmul(Ex) / k end
  for _ = 1, s do Ex = Ex:matmul(Ex) end
  return Ex
end
P._expm = expm

local Orthogonal = Module:extend("Orthogonal")
P.Orthogonal = Orthogonal

function Orthogonal:__init(map)
  self.map = map or "cayley"
  if self.map ~= "cayley" and self.map ~= "exp" then
    E.raise("nn.parametrize: orthogonal map must be \"cayley\" or \"exp\", got %s", E.show(map))
  end
end
doc(Orthogonal, "nn.Orthogonal([map=\"cayley\"])\n\nThe parametrization Q = "
  .. "(I + A)^-1 (I - A) (\"cayley\") or e^A (\"exp\") with A = B - B^T.")

-- Q = (I + A)^-1 (I - A) (Cayley; I + A is invertible for antisymmetric A)
-- or Q = e^A, with A = B - B^T
function Orthogonal:forward(B)
  local A = B - B:t()
  if self.map == "exp" then return expm(A) end
  local I = T.eye(A.shape[1], { dtype = A.dtype })
  return linalg.solve(I + A, I - A)
end

-- for an orthogonal W without eigenvalue -1 the Cayley map inverts exactly
-- (A = (I + W)^-1 (I - W)); otherwise (and for the exponential map) B = W/2,
-- so the weight becomes the map of W's antisymmetric part
function Orthogonal:right_inverse(W)
  local n = W.shape[1]
  local I = T.eye(n, { dtype = W.dtype })
  if self.map == "cayley" and ((W:t():matmul(W) - I):abs():max()) < 1e-10 then
    local ok, A = pcall(linalg.solve, I + W, I - W)
    if ok and A:abs():max() < math.huge then return A * 0.5 end
  end
  return W * 0.5
end
doc(Orthogonal.right_inverse, "p:right_inverse(W)\n\nFor the Cayley map and an "
  .. "orthogonal W without eigenvalue -1, B with Cayley(B - B^T) = W; otherwise "
  .. "W/2 (the map of W's antisymmetric part).")

function Orthogonal:extra_repr() return "map=" .. self.map end
registry.orthogonal = function(opts, W)
  square(W, "orthogonal")
  return Orthogonal(opts and opts.map)
end

local PositiveDefinite = Module:extend("PositiveDefinite")
P.PositiveDefinite = PositiveDefinite

function PositiveDefinite:__init(eps)
  self.eps = E.num("nn.parametrize", "positive_definite eps", eps or 1e-5, 0)
end
doc(PositiveDefinite, "nn.PositiveDefinite([eps=1e-5])\n\nThe parametrization "
  .. "W = B B^T + eps I (symmetrized to the last bit).")

-- W = B B^T + eps I, symmetrized so that W == W^T holds to the last bit
function PositiveDefinite:forward(B)
  local S = B:matmul(B:t())
  S = (S + S:t()) * 0.5
  if self.eps > 0 then S = S + T.eye(B.shape[1], { dtype = B.dtype }) * self.eps end
  return S
end

-- the Cholesky factor of W - eps I when W is positive definite, else W
-- itself (W W^T + eps I is then the weight)
function PositiveDefinite:right_inverse(W)
  local I = T.eye(W.shape[1], { dtype = W.dtype })
  local sym = (W - W:t()):abs():max() == 0
  if sym then
    local ok, L = pcall(linalg.cholesky, W - I * self.eps)
    if ok then return L end
  end
  return W
end
doc(PositiveDefinite.right_inverse, "p:right_inverse(W)\n\nThe Cholesky factor of "
  .. "W - eps I when W is symmetric positive definite, else W.")

function PositiveDefinite:extra_repr() return fmt("eps=%g", self.eps) end
registry.positive_definite = function(opts, W)
  square(W, "positive_definite")
  return PositiveDefinite(opts and opts.eps)
end

local Masked = Module:extend("Masked")
P.Masked = Masked

-- mask: a tensor of W's shape (bool or numbers, nonzero = free), a hebb.graph
-- graph or a sparse matrix (its pattern: the graph's edges)
local function mask_tensor(mask, W)
  if type(mask) == "table" and mask.adjacency then mask = mask:adjacency() end
  if type(mask) == "userdata" and not T.is_tensor(mask) and mask.to_dense then
    mask = mask:to_dense()
  end
  if not T.is_tensor(mask) then
    E.raise("nn.parametrize: masked needs {mask = tensor, graph or sparse matrix}, got %s",
            E.show(mask))
  end
  if shape_str(mask) ~= shape_str(W) then
    E.raise("nn.parametrize: the mask has shape %s, the weight %s", shape_str(mask),
              shape_str(W))
  end
  return mask:ne(0):astype(W.dtype)
end

function Masked:__init(mask)
  self:register_buffer("mask", mask)
end
doc(Masked, "nn.Masked(mask)\n\nThe parametrization W = B * mask (a buffer of 0/1 "
  .. "in the weight's dtype): exact zeros outside the pattern.")

-- exact zeros outside the mask (B * 0 == 0 for finite B)
function Masked:forward(B) return B * self.mask end
function Masked:right_inverse(W) return W * self.mask end
doc(Masked.right_inverse, "p:right_inverse(W)\n\nW * mask.")

function Masked:extra_repr()
  return fmt("%d of %d free", self.mask:sum(), self.mask:numel())
end
registry.masked = function(opts, W)
  return Masked(mask_tensor(opts and opts.mask, W))
end

-- a Lua function W = f(A) (no right inverse: the original starts as W)
local FunctionP = Module:extend("FunctionParametrization")
function FunctionP:__init(fn) self.fn = fn end
function FunctionP:forward(A) return self.fn(A) end

-- --- registration -----------------------------------------------------------------------------------

-- the ParametrizationList of m[name], or nil
local plist_of = B._parametrized

-- removes the registry entry name of module m (the value too)
local function unregister(m, name)
  rawget(m, "_kind")[name] = nil
  rawget(m, "_nopersist")[name] = nil
  local order = rawget(m, "_order")
  for i, k in ipairs(order) do
    if k == name then table.remove(order, i); break end
  end
  rawset(m, name, nil)
end

local function attach(m, name, pl)
  local pd = rawget(m, "parametrizations")
  if pd == nil then
    pd = Ct.ModuleDict()
    m:add_module("parametrizations", pd)
  end
  pd:add_module(name, pl)
end

local function names_list()
  local names = {}
  for k in pairs(registry) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

function P.parametrize(m, name, kind, opts)
  if not B.is_module(m) then
    E.raise("nn.parametrize: expected a module, got %s", E.show(m))
  end
  if type(name) ~= "string" then
    E.raise("nn.parametrize: the tensor's name must be a string, got %s", E.show(name))
  end
  local pl = plist_of(m, name)
  local W
  if pl then
    W = no_grad(pl.value, pl)
  else
    W = rawget(m, name)
    if rawget(m, "_kind")[name] ~= "param" or W == nil then
      E.raise("nn.parametrize: %s has no parameter %q", m.__name, name)
    end
  end
  local f
  if type(kind) == "string" then
    local make = registry[kind]
    if not make then
      E.raise("nn.parametrize: unknown parametrization %q (known: %s)", kind, names_list())
    end
    if kind_keys[kind] then E.checkopts("nn.parametrize", opts, kind_keys[kind]) end
    f = make(opts, W)
  elseif type(kind) == "function" then
    f = FunctionP(kind)
  elseif B.is_module(kind) then
    f = kind
  else
    E.raise("nn.parametrize: expected a parametrization name, function or module, got %s",
            E.show(kind))
  end
  if pl then
    pl:add_module(#pl + 1, f)
    return m
  end
  local A = detach(W)
  if f.right_inverse then A = no_grad(f.right_inverse, f, A) end
  local original = B.Parameter(no_grad(function() return A:clone() end))
  pl = PList(original)
  pl:add_module(1, f)
  unregister(m, name)
  attach(m, name, pl)
  return m
end
doc(P.parametrize, "nn.parametrize(m, name, kind [, opts])\n\nConstrains the "
  .. "parameter m[name]: it is replaced by a free parameter "
  .. "(m.parametrizations[name].original, named 'parametrizations.NAME.original') "
  .. "and m[name] is computed from it on every read.  kind: \"antisymmetric\" "
  .. "(W = A - A^T), \"symmetric\" (A + A^T), \"orthogonal\" ({map=\"cayley\"}: "
  .. "(I + A)^-1 (I - A), or map=\"exp\": e^A, with A = B - B^T), "
  .. "\"positive_definite\" (B B^T + eps I, {eps=1e-5}), \"masked\" ({mask = "
  .. "tensor, graph or sparse matrix}: zeros outside the pattern), a Lua "
  .. "function W = f(A), or a module with forward and optionally right_inverse.  "
  .. "The free parameter starts from right_inverse(W), so the weight keeps its "
  .. "value when it already satisfies the constraint.  A second call on the "
  .. "same name composes (applied after the first).  Returns m.")

function P.is_parametrized(m, name)
  local pd = B.is_module(m) and rawget(m, "parametrizations")
  if not pd then return false end
  if name == nil then return #pd:children() > 0 end
  return plist_of(m, name) ~= nil
end
doc(P.is_parametrized, "nn.is_parametrized(m [, name])\n\nWhether m[name] (or "
  .. "any tensor of m) is parametrized.")

function P.remove_parametrizations(m, name, opts)
  local pl = B.is_module(m) and plist_of(m, name)
  if not pl then
    E.raise("nn.remove_parametrizations: %s has no parametrized tensor %s",
              B.is_module(m) and m.__name or E.show(m), E.show(name))
  end
  opts = E.checkopts("nn.remove_parametrizations", opts, { leave_parametrized = true })
  E.check("nn.remove_parametrizations", "leave_parametrized", opts.leave_parametrized,
          "boolean", true)
  local keep = opts.leave_parametrized ~= false
  local W = no_grad(function()
    return (keep and detach(pl:value()) or detach(pl.original)):clone()
  end)
  local pd = rawget(m, "parametrizations")
  unregister(pd, name)
  if #pd:children() == 0 then unregister(m, "parametrizations") end
  m:register_parameter(name, B.Parameter(W))
  return m
end
doc(P.remove_parametrizations, "nn.remove_parametrizations(m, name [, "
  .. "{leave_parametrized=true}])\n\nMakes m[name] a plain parameter again, "
  .. "holding its current (constrained) value, or the free parameter's value "
  .. "with leave_parametrized = false.")

function P.register_parametrization(name, make)
  E.check("nn.register_parametrization", "name", name, "string")
  E.check("nn.register_parametrization", "make", make, "function")
  registry[name] = make
end
doc(P.register_parametrization, "nn.register_parametrization(name, make)\n\n"
  .. "Adds a parametrization kind: make(opts, W) returns the module (forward, "
  .. "optionally right_inverse) for the current value W.")

-- m2[n2] becomes the very tensor m1[n1] (or the same parametrization: both
-- read one free parameter); parameters() lists it once
function P.tie(m1, n1, m2, n2)
  if not B.is_module(m1) or not B.is_module(m2) then
    E.raise("nn.tie: expected (module, name, module, name), got %s and %s as modules",
            E.show(m1), E.show(m2))
  end
  local pl = plist_of(m1, n1)
  local src = pl and no_grad(pl.value, pl) or rawget(m1, n1)
  if src == nil or not (pl or rawget(m1, "_kind")[n1] == "param") then
    E.raise("nn.tie: %s has no parameter %q", m1.__name, tostring(n1))
  end
  if plist_of(m2, n2) then
    E.raise("nn.tie: %s's %q is parametrized (remove it first)", m2.__name, tostring(n2))
  end
  local old = rawget(m2, n2)
  if old ~= nil and T.is_tensor(old) and shape_str(old) ~= shape_str(src) then
    E.raise("nn.tie: %s.%s has shape %s, %s.%s has %s", m2.__name, tostring(n2),
              shape_str(old), m1.__name, tostring(n1), shape_str(src))
  end
  if pl then
    unregister(m2, n2)
    attach(m2, n2, pl)
  else
    m2:register_parameter(n2, src)
  end
  return m2
end
doc(P.tie, "nn.tie(m1, name1, m2, name2)\n\nShares a parameter: m2[name2] "
  .. "becomes the same tensor as m1[name1] (a parametrized one shares its free "
  .. "parameter).  parameters() of a model holding both lists it once, and its "
  .. "gradient accumulates both uses.  Shapes must agree.")

return P
