-- hebb._json: JSON for notebook manifests and .ipynb files.
--
-- encode() is deterministic: object keys sorted, floats with 17
-- significant digits, one value per line indented by one space (the layout
-- nbformat writes, so files diff well).  A Lua table is an array when its
-- keys are exactly 1..n; json.array{} and json.object{} say which an empty
-- or ambiguous table is.  Strings must be UTF-8: invalid bytes become
-- U+FFFD (clean_utf8), because a cell may print any bytes.
local fmt, concat, sort = string.format, table.concat, table.sort
local byte, char, sub, gsub, find = string.byte, string.char, string.sub,
  string.gsub, string.find

local M = {}
local ARRAY, OBJECT = {}, {}

function M.array(t) return setmetatable(t or {}, ARRAY) end
function M.object(t) return setmetatable(t or {}, OBJECT) end

-- s with every byte that is not part of valid UTF-8 replaced by U+FFFD
function M.clean_utf8(s)
  if utf8.len(s) then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local ok, bad = utf8.len(s, i)
    if ok then out[#out + 1] = sub(s, i); break end
    out[#out + 1] = sub(s, i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
  end
  return concat(out)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  s = gsub(M.clean_utf8(s), '[%c"\\]', function(c)
    return ESC[c] or fmt("\\u%04x", byte(c))
  end)
  return '"' .. s .. '"'
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == ARRAY then return true end
  if mt == OBJECT then return false end
  local n = #t
  if n == 0 then return next(t) == nil end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function number(x)
  if math.type(x) == "integer" then return fmt("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and math.abs(x) < 2^53 then return fmt("%.1f", x) end
  return fmt("%.17g", x)
end

local function encode(v, out, indent)
  local tv = type(v)
  if tv == "string" then out[#out + 1] = quote(v)
  elseif tv == "number" then out[#out + 1] = number(v)
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif v == nil or v == M.null then out[#out + 1] = "null"
  elseif tv == "table" then
    local inner = indent .. " "
    if is_array(v) then
      if #v == 0 then out[#out + 1] = "[]"; return end
      out[#out + 1] = "[\n"
      for i = 1, #v do
        out[#out + 1] = inner
        encode(v[i], out, inner)
        out[#out + 1] = i < #v and ",\n" or "\n"
      end
      out[#out + 1] = indent .. "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then error("json: object key is a " .. type(k), 0) end
        keys[#keys + 1] = k
      end
      if #keys == 0 then out[#out + 1] = "{}"; return end
      sort(keys)
      out[#out + 1] = "{\n"
      for i, k in ipairs(keys) do
        out[#out + 1] = inner .. quote(k) .. ": "
        encode(v[k], out, inner)
        out[#out + 1] = i < #keys and ",\n" or "\n"
      end
      out[#out + 1] = indent .. "}"
    end
  else
    error("json: cannot encode a " .. tv, 0)
  end
end

M.null = setmetatable({}, { __tostring = function() return "null" end })

-- encode(v) -> text (with a final newline)
function M.encode(v)
  local out = {}
  encode(v, out, "")
  out[#out + 1] = "\n"
  return concat(out)
end

-- --- decoding ----------------------------------------------------------------

local decode_value

-- (json's errors carry no position: the caller names the file)
local function perr(s, i, what)
  local line = select(2, gsub(sub(s, 1, i), "\n", "")) + 1
  error(fmt("json: %s at line %d", what, line), 0)
end

local function skip(s, i) return find(s, "[^ \t\r\n]", i) or #s + 1 end

local function utf8_of(cp) return utf8.char(cp) end

local function decode_string(s, i)   -- s[i] == '"'
  local out, j = {}, i + 1
  while true do
    local k = find(s, '["\\%c]', j)
    if not k then perr(s, i, "unfinished string") end
    out[#out + 1] = sub(s, j, k - 1)
    local c = sub(s, k, k)
    if c == '"' then return concat(out), k + 1 end
    if c ~= "\\" then perr(s, k, "control character in a string") end
    local e = sub(s, k + 1, k + 1)
    if e == "u" then
      local hex = sub(s, k + 2, k + 5)
      local cp = hex:match("^%x%x%x%x$") and tonumber(hex, 16)
      if not cp then perr(s, k, "bad \\u escape") end
      j = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF and sub(s, j, j + 1) == "\\u" then
        local lo = tonumber(sub(s, j + 2, j + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          j = j + 6
        end
      end
      out[#out + 1] = utf8_of(cp)
    else
      local m = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
                   n = "\n", r = "\r", t = "\t" })[e]
      if not m then perr(s, k, "bad escape \\" .. e) end
      out[#out + 1] = m
      j = k + 2
    end
  end
end

local function decode_list(s, i, close, item)
  i = skip(s, i + 1)
  if sub(s, i, i) == close then return i + 1 end
  while true do
    i = item(i)
    i = skip(s, i)
    local c = sub(s, i, i)
    if c == close then return i + 1 end
    if c ~= "," then perr(s, i, "expected ',' or '" .. close .. "'") end
    i = skip(s, i + 1)
  end
end

function decode_value(s, i)
  i = skip(s, i)
  local c = sub(s, i, i)
  if c == "{" then
    local obj = {}
    local j = decode_list(s, i, "}", function(k)
      if sub(s, k, k) ~= '"' then perr(s, k, "expected a key") end
      local key, after = decode_string(s, k)
      after = skip(s, after)
      if sub(s, after, after) ~= ":" then perr(s, after, "expected ':'") end
      local v
      v, after = decode_value(s, after + 1)
      obj[key] = v
      return after
    end)
    return M.object(obj), j
  elseif c == "[" then
    local arr = {}
    local j = decode_list(s, i, "]", function(k)
      local v, after = decode_value(s, k)
      arr[#arr + 1] = v
      return after
    end)
    return M.array(arr), j
  elseif c == '"' then return decode_string(s, i)
  elseif sub(s, i, i + 3) == "true" then return true, i + 4
  elseif sub(s, i, i + 4) == "false" then return false, i + 5
  elseif sub(s, i, i + 3) == "null" then return M.null, i + 4
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if not num or num == "" or num == "-" then perr(s, i, "unexpected character") end
  return tonumber(num), i + #num
end

-- decode(text) -> value (null is json.null)
function M.decode(s)
  local v, i = decode_value(s, 1)
  if skip(s, i) <= #s then perr(s, i, "text after the value") end
  return v
end

return M
