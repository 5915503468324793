-- hebb._error: errors raised by hebb's Lua library point at the user's line.
--
-- error(msg, 2) names the caller of the function that raises, which is
-- often another hebb function (nn.Sequential calling nn.Linear's forward);
-- counting levels by hand breaks whenever a call moves.  raise() walks the
-- stack instead and blames the first Lua frame that is not part of hebb's
-- embedded library (chunks named "@stdlib/hebb/...").
local getinfo, error, fmt = debug.getinfo, error, string.format

local M = {}

local function is_library(info)
  return info.what == "C" or info.source:sub(1, 13) == "@stdlib/hebb/"
end

-- the level, as error() counts from raise's caller's caller, of the first
-- frame outside the library; 0 (no position) when there is none
local function user_level()
  local level = 3        -- 1 is user_level, 2 raise/argerror, 3 their caller
  while true do
    local info = getinfo(level, "S")
    if not info then return 0 end
    if not is_library(info) then return level - 1 end
    level = level + 1
  end
end

-- raise(msg): error(msg) positioned at the user's code
function M.raise(msg, ...)
  if select("#", ...) > 0 then msg = fmt(msg, ...) end
  error(msg, user_level())
end

-- Errors raised by C functions (the bindings) carry the position of the
-- Lua line that called them, which inside the library is a library line,
-- or none at all when that line made a tail call or the caller was C (the
-- autograd trampoline).  call(f, ...) runs f(...) and moves such an error
-- to the user's line: the message handler sees the raising function (level
-- 2) before the stack unwinds.  Errors raised in Lua are left as they are:
-- error()'s own (E.raise has placed them already; level 0 means no
-- position), and runtime errors of library code, whose line is the bug's.
local LIB_POS = "^stdlib/hebb/[%w_]+%.lua:%d+: "
local ANY_POS = "^[^\n:]+:%d+: "
local lua_error, lua_assert = error, assert

local function user_where()
  local level = 4        -- 1 user_where, 2 relocate, 3 the C function
  while true do
    local info = getinfo(level, "Sl")
    if not info then return "" end
    if not is_library(info) then
      return info.currentline > 0 and fmt("%s:%d: ", info.short_src, info.currentline) or ""
    end
    level = level + 1
  end
end

local function relocate(msg)
  if type(msg) ~= "string" then return msg end
  local info = getinfo(2, "Sf")
  if not info or info.what ~= "C" or info.func == lua_error or info.func == lua_assert then
    return msg
  end
  local lib = msg:match(LIB_POS)
  if lib then return user_where() .. msg:sub(#lib + 1) end
  if msg:match(ANY_POS) then return msg end
  return user_where() .. msg
end

local function deliver(ok, ...)
  if ok then return ... end
  error((...), 0)        -- already positioned by relocate
end

function M.call(f, ...)
  return deliver(xpcall(f, relocate, ...))
end

-- bare(msg): msg without the "file:line: " an error() or luaL_error put in
-- front, for a message the library passes on (E.raise places it again)
function M.bare(msg)
  return (tostring(msg):gsub(ANY_POS, "", 1))
end

-- the printable form of a value in a message: strings quoted, tensors by
-- dtype and shape, other values by type
function M.show(v)
  local tv = type(v)
  if tv == "string" then return fmt("%q", v) end
  if v ~= v then return "nan" end          -- glibc prints 0/0 as "-nan"
  if tv == "number" or tv == "boolean" or tv == "nil" then return tostring(v) end
  local mt = getmetatable(v)
  if tv == "userdata" and type(mt) == "table" and mt.__name == "hebb.Tensor" then
    local ok, s = pcall(function() return fmt("%s tensor of shape {%s}", v.dtype,
                                              table.concat(v.shape, ", ")) end)
    if ok then return s end
  end
  return "a " .. tv
end

-- Levenshtein distance, for "did you mean" (names are short)
local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

-- the known name closest to name, if it is close enough to be a typo
function M.suggest(name, known)
  if type(name) ~= "string" then return nil end
  local best, bestd
  for k in pairs(known) do
    if type(k) == "string" then
      local d = distance(name:lower(), k:lower())
      if not bestd or d < bestd or (d == bestd and k < best) then best, bestd = k, d end
    end
  end
  if best and (bestd <= 2 or (bestd <= 3 and #name >= 7)) then return best end
  return nil
end

-- checkopts(who, opts, known): opts is nil or a table whose keys are all in
-- the set known ({name = true, ...}); raises "who: unknown option 'x' (did
-- you mean 'y'?)" otherwise.  Returns opts or an empty table.
function M.checkopts(who, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    M.raise("%s: options must be a table, got %s", who, M.show(opts))
  end
  for k in pairs(opts) do
    if not known[k] then
      local near = M.suggest(k, known)
      M.raise("%s: unknown option %s%s", who, M.show(k),
              near and fmt(" (did you mean '%s'?)", near) or "")
    end
  end
  return opts
end

-- Argument checks.  Each raises "who: what must be <kind>, got <value>"
-- at the user's line and otherwise returns the value.

local function is_tensor(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "hebb.Tensor"
end
M.is_tensor = is_tensor

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

local kinds = {
  ["function"] = callable,
  tensor = is_tensor,
  string = function(v) return type(v) == "string" end,
  table = function(v) return type(v) == "table" end,
  boolean = function(v) return type(v) == "boolean" end,
  number = function(v) return type(v) == "number" end,
}
local articles = { ["function"] = "a function", tensor = "a tensor", string = "a string",
  table = "a table", boolean = "true or false", number = "a number" }

-- check(who, what, v, kind [, optional]): v is of kind (a key of kinds)
function M.check(who, what, v, kind, optional)
  if (optional and v == nil) or kinds[kind](v) then return v end
  M.raise("%s: %s must be %s, got %s", who, what, articles[kind], M.show(v))
end

local function bounds(lo, hi)
  if hi then return fmt(" in %s..%s", lo, hi) end
  if lo then return fmt(" >= %s", lo) end
  return ""
end

-- int(who, what, v, lo [, hi]): v an integer (a float with an integral
-- value counts) in lo..hi; returns it as a Lua integer
function M.int(who, what, v, lo, hi)
  local i = math.tointeger(v)
  if i and (not lo or i >= lo) and (not hi or i <= hi) then return i end
  M.raise("%s: %s must be an integer%s, got %s", who, what, bounds(lo, hi), M.show(v))
end

-- finite(x): a Lua number that is neither NaN nor infinite
function M.finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end

-- num_or(who, what, v, def [, lo [, strict]]): num() of v, or of def when v
-- is nil (an option with a default)
function M.num_or(who, what, v, def, lo, strict)
  if v == nil then v = def end
  return M.num(who, what, v, lo, strict)
end

-- num(who, what, v [, lo [, strict]]): a finite number >= lo (> lo when
-- strict)
function M.num(who, what, v, lo, strict)
  if type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
      and (lo == nil or v > lo or (not strict and v == lo)) then
    return v
  end
  local want = lo == nil and "a finite number"
    or fmt("a finite number %s %s", strict and ">" or ">=", lo)
  M.raise("%s: %s must be %s, got %s", who, what, want, M.show(v))
end

return M
