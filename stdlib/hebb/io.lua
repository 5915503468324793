-- hebb.io: saving and loading values made of Lua tables, numbers, strings,
-- booleans and tensors: checkpoints (a model's state_dict, an optimizer's),
-- results, configurations.
--
-- A file is the line "hebb-io 1", the length of a Lua expression on the
-- next line, the expression, then the tensors' raw bytes one after the
-- other.  The expression rebuilds the value; a tensor appears in it as
-- T(offset, dtype, {shape}) and takes its elements from the byte section.
-- Loading runs the expression with nothing but that T in scope, so a file
-- cannot reach the rest of the program.
local E = require "hebb._error"
local T = require "hebb.tensor"
local hebb = require "hebb"

local M = {}
local MAGIC = "hebb-io 1\n"
local fmt = string.format

local function number_literal(x)
  if math.type(x) == "integer" then return fmt("%d", x) end
  if x ~= x then return "(0/0)" end
  if x == math.huge then return "(1/0)" end
  if x == -math.huge then return "(-1/0)" end
  local s = fmt("%.17g", x)
  if not s:find("[.eEn]") then s = s .. ".0" end   -- stays a float (-0.0 too)
  return s
end

-- writes the expression of v into parts; tensors go to blobs
local function encode(v, parts, blobs, state, where)
  local tv = type(v)
  if tv == "number" then parts[#parts + 1] = number_literal(v)
  elseif tv == "string" then parts[#parts + 1] = fmt("%q", v)
  elseif tv == "boolean" or tv == "nil" then parts[#parts + 1] = tostring(v)
  elseif T.is_tensor(v) then
    local bytes = v:tobytes()
    parts[#parts + 1] = fmt("T(%d,%q,{%s})", state.offset, v.dtype,
                            table.concat(v.shape, ","))
    blobs[#blobs + 1] = bytes
    state.offset = state.offset + #bytes
  elseif tv == "table" then
    if state.open[v] then
      E.raise("hebb.io.save: the table at %s contains itself", where)
    end
    state.open[v] = true
    parts[#parts + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)    -- a stable file for a given value
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "boolean" then return (a and 1 or 0) < (b and 1 or 0) end
      return a < b
    end)
    for _, k in ipairs(keys) do
      local tk = type(k)
      if tk ~= "string" and tk ~= "number" and tk ~= "boolean" then
        E.raise("hebb.io.save: cannot save a %s key (in %s)", tk, where)
      end
      parts[#parts + 1] = "["
      encode(k, parts, blobs, state, where)
      parts[#parts + 1] = "]="
      encode(v[k], parts, blobs, state, where .. "." .. tostring(k))
      parts[#parts + 1] = ","
    end
    parts[#parts + 1] = "}"
    state.open[v] = nil
  else
    E.raise("hebb.io.save: cannot save a %s (at %s)", tv, where)
  end
end

--- io.save(path, value)
function M.save(path, value)
  E.check("hebb.io.save", "path", path, "string")
  local parts, blobs = { "return " }, {}
  encode(value, parts, blobs, { offset = 0, open = {} }, "value")
  local src = table.concat(parts)
  local f, ferr = io.open(path, "wb")
  if not f then E.raise("hebb.io.save: cannot write %s", ferr) end
  f:write(MAGIC, #src, "\n", src)
  for _, b in ipairs(blobs) do f:write(b) end
  f:close()
end

-- a broken file: a message without position, given to the user by load
local function fail(path, why) error(fmt("hebb.io.load: '%s' %s", path, why), 0) end

local function read(path)
  local f, ferr = io.open(path, "rb")
  if not f then error("hebb.io.load: cannot open " .. ferr, 0) end
  local data = f:read("a")
  f:close()
  if data:sub(1, #MAGIC) ~= MAGIC then fail(path, "is not a hebb.io file") end
  local nl = data:find("\n", #MAGIC + 1, true)
  local len = nl and math.tointeger(tonumber(data:sub(#MAGIC + 1, nl - 1)))
  if not len or nl + len > #data then fail(path, "is truncated (in its expression)") end
  local src, base = data:sub(nl + 1, nl + len), nl + len
  local function make(offset, dtype, shape)
    local n = 1
    for _, s in ipairs(shape) do n = n * s end
    local size = n * #T.zeros(1, { dtype = dtype }):tobytes()
    if base + offset + size > #data then fail(path, "is truncated (in its tensors)") end
    return T.frombytes(data:sub(base + offset + 1, base + offset + size), dtype, shape)
  end
  local chunk, cerr = load(src, "=" .. path, "t", { T = make })
  if not chunk then fail(path, "is corrupt: " .. cerr) end
  return chunk()
end

--- io.load(path)
function M.load(path)
  E.check("hebb.io.load", "path", path, "string")
  local ok, value = pcall(read, path)
  if ok then return value end
  value = tostring(value)
  if value:sub(1, 13) ~= "hebb.io.load:" then     -- the data itself failed
    value = fmt("hebb.io.load: '%s' is corrupt: %s", path, value)
  end
  E.raise(value)
end

hebb.doc(M.save, "io.save(path, value)\n\nWrites value — nested Lua tables of "
  .. "numbers, strings, booleans and tensors (any dtype; a state_dict, say) — "
  .. "to the file path.  Tensors keep their dtype, shape and exact bits; "
  .. "numbers keep integer or float type (inf and NaN too).  A function, "
  .. "userdata or a table that contains itself is an error naming where it is.")
hebb.doc(M.load, "io.load(path)\n\nThe value io.save wrote to path.  The file "
  .. "is read as data: its expression runs with nothing in scope but the "
  .. "tensor maker.  A file that is not a hebb.io file, or is truncated, is an "
  .. "error naming it.")
hebb.doc(M, "hebb.io\n\nSaving and loading values made of tables, numbers, "
  .. "strings, booleans and tensors (checkpoints: a model's and an optimizer's "
  .. "state_dict) with exact bits.  See docs/io.md.")

return M
