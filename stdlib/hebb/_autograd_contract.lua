-- hebb._autograd_contract: backward rules of T.einsum, T.tensordot and
-- T.ncon.  All three become one einsum with explicit letters; the gradient
-- of operand k is again an einsum, of the output gradient with the
-- (conjugated) other operands, into operand k's letters:
--   - a letter repeated within operand k (a trace or diagonal) is renamed
--     and tied back by an identity matrix operand, so "ii->" gives g * I;
--   - a letter only operand k has (summed away by the forward) is left out
--     and the result broadcast back along it with expand.
-- The rules use einsum itself, so they are differentiable again.
local E = require "hebb._error"
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local R = A._ruleset()
local def = R.def
local is_tensor = T.is_tensor
local LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

local cj = A._cj

-- a supply of letters that none of `used` (a set) holds
local function fresh_letters(used)
  local i = 0
  return function()
    repeat
      i = i + 1
      if i > #LETTERS then
        E.raise("autograd: einsum backward ran out of letters (more than 52 "
          .. "distinct indices)")
      end
    until not used[LETTERS:sub(i, i)]
    local c = LETTERS:sub(i, i)
    used[c] = true
    return c
  end
end

local function letters_of(s)
  local t = {}
  for c in s:gmatch("%a") do t[#t + 1] = c end
  return t
end

-- The gradients of the operands xs (tensors) of the einsum whose operand
-- k has letters subs[k] (lists of one-letter strings) and whose output
-- has letters out, given the output gradient g.  used: every letter
-- taken.
local function einsum_grads(subs, out, xs, g, used)
  local fresh = fresh_letters(used)
  local size = {}
  for k, s in ipairs(subs) do
    for p, c in ipairs(s) do size[c] = xs[k].shape[p] end
  end
  local grads = {}
  for k, x in ipairs(xs) do
    local ops, specs = {}, {}
    if #out > 0 then ops[1], specs[1] = g, table.concat(out) end
    local avail = {}
    for _, c in ipairs(out) do avail[c] = true end
    for j, s in ipairs(subs) do
      if j ~= k then
        ops[#ops + 1], specs[#specs + 1] = cj(xs[j]), table.concat(s)
        for _, c in ipairs(s) do avail[c] = true end
      end
    end
    -- operand k's letters, repeats renamed and tied by identities
    local target, seen = {}, {}
    for p, c in ipairs(subs[k]) do
      if seen[c] then
        local f = fresh()
        target[p] = f
        local n = size[c]
        local real = ({ c128 = "f64", c64 = "f32" })[x.dtype] or x.dtype
        ops[#ops + 1] = T.eye(n, { dtype = real })
        specs[#specs + 1] = c .. f
        avail[c], avail[f] = true, true
      else
        target[p] = c
        seen[c] = true
      end
    end
    local keep, shape = {}, {}
    for p, c in ipairs(target) do
      if avail[c] then
        keep[#keep + 1] = c
        shape[p] = size[subs[k][p]]
      else
        shape[p] = 1           -- summed by the forward: broadcast back
      end
    end
    local r
    if #ops == 0 then
      r = g
    else
      r = T.einsum(table.concat(specs, ",") .. "->" .. table.concat(keep),
                   table.unpack(ops))
      if #out == 0 then r = r * g end
    end
    r = r:reshape(shape):expand(x.shape)
    grads[k] = r
  end
  return grads
end

-- einsum's subscripts made explicit: one list of letters per operand and
-- the output's, "..." replaced by letters of their own
local function parse(spec, xs)
  spec = spec:gsub("%s", "")
  local lhs, rhs = spec:match("^(.-)%->(.*)$")
  if not lhs then lhs = spec end
  local parts, used = {}, {}
  for piece in (lhs .. ","):gmatch("([^,]*),") do parts[#parts + 1] = piece end
  for c in spec:gmatch("%a") do used[c] = true end
  local fresh = fresh_letters(used)
  local nell = 0
  for k, piece in ipairs(parts) do
    if piece:find("...", 1, true) then
      nell = math.max(nell, xs[k].ndim - #letters_of(piece))
    end
  end
  local ell = {}
  for i = 1, nell do ell[i] = fresh() end
  local subs, count = {}, {}
  for k, piece in ipairs(parts) do
    local s = {}
    local before, after = piece:match("^(.-)%.%.%.(.*)$")
    if before then
      for _, c in ipairs(letters_of(before)) do s[#s + 1] = c end
      local m = xs[k].ndim - #letters_of(before) - #letters_of(after)
      for i = nell - m + 1, nell do s[#s + 1] = ell[i] end
      for _, c in ipairs(letters_of(after)) do s[#s + 1] = c end
    else
      s = letters_of(piece)
    end
    for _, c in ipairs(s) do count[c] = (count[c] or 0) + 1 end
    subs[k] = s
  end
  local out = {}
  if rhs then
    local before, after = rhs:match("^(.-)%.%.%.(.*)$")
    if before then
      out = letters_of(before)
      for i = 1, nell do out[#out + 1] = ell[i] end
      for _, c in ipairs(letters_of(after)) do out[#out + 1] = c end
    else
      out = letters_of(rhs)
    end
  else
    for i = 1, nell do out[i] = ell[i] end
    local isell = {}
    for _, c in ipairs(ell) do isell[c] = true end
    local named = {}
    for c, n in pairs(count) do
      if n == 1 and not isell[c] then named[#named + 1] = c end
    end
    table.sort(named)
    for _, c in ipairs(named) do out[#out + 1] = c end
  end
  return subs, out, used
end

local operand_positions = {}
for i = 2, 53 do operand_positions[#operand_positions + 1] = i end
def("einsum", function(g, a)
  local xs = {}
  for i = 2, a.n do
    if is_tensor(a[i]) then xs[#xs + 1] = a[i] end
  end
  local subs, out, used = parse(a[1], xs)
  local gs = einsum_grads(subs, out, xs, g, used)
  return nil, table.unpack(gs)
end, { saves = operand_positions })

-- tensordot(a, b, dims): a's free dims, then b's
def("tensordot", function(g, a)
  local x, y, dims = a[1], a[2], a[3]
  if dims == nil or type(dims) == "table" and not dims[1] then dims = 2 end
  local da, db = {}, {}
  if type(dims) == "number" then
    for i = 1, dims do
      da[i] = x.ndim - dims + i
      db[i] = i
    end
  else
    for i, d in ipairs(dims[1]) do da[i] = d < 0 and x.ndim + 1 + d or d end
    for i, d in ipairs(dims[2]) do db[i] = d < 0 and y.ndim + 1 + d or d end
  end
  local used = {}
  local fresh = fresh_letters(used)
  local sa, sb = {}, {}
  for p = 1, x.ndim do sa[p] = fresh() end
  for i, p in ipairs(db) do sb[p] = sa[da[i]] end
  for p = 1, y.ndim do sb[p] = sb[p] or fresh() end
  local contracted, out = {}, {}
  for _, p in ipairs(da) do contracted[sa[p]] = true end
  for p = 1, x.ndim do if not contracted[sa[p]] then out[#out + 1] = sa[p] end end
  for p = 1, y.ndim do if not contracted[sb[p]] then out[#out + 1] = sb[p] end end
  local gs = einsum_grads({ sa, sb }, out, { x, y }, g, used)
  return gs[1], gs[2]
end, { saves = { 1, 2 } })

-- ncon(tensors, labels): positive labels summed, -1, -2, ... the output
def("ncon", function(g, a)
  local xs, labels = a[1], a[2]
  local used = {}
  local fresh = fresh_letters(used)
  local letter, subs, open = {}, {}, {}
  for k, lab in ipairs(labels) do
    local s = {}
    for p, l in ipairs(lab) do
      if not letter[l] then letter[l] = fresh() end
      s[p] = letter[l]
      if l < 0 then open[-l] = letter[l] end
    end
    subs[k] = s
  end
  return einsum_grads(subs, open, xs, g, used)
end)

return R
