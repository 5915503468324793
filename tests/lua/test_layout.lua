-- test_layout.lua -- the house rules that are about files, checked on the
-- tree itself (run from the repository's root, as tests/run.sh does):
--  * the file map of docs/design.md ("Where things are") has a row for
--    every natives/core/X.c, every file it names exists, and a row whose
--    binding is not natives/lua/l_X.c, or that has no test named
--    test_X.lua / test_X.c or no guide, says why in its last column;
--  * every docstring of stdlib/ sits right after what it documents: the
--    first line above a hebb.doc(f, ...) that is not a comment or another
--    docstring defines f, or ends a function whose first line names f
--    (values made in C, such as T.I, are not held to it).
local check = require "check"

local function lines_of(path)
  local t = {}
  for l in (check.read(path) .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local function listing(dir, pattern)
  local out = {}
  local p = assert(io.popen("ls " .. dir))
  for name in p:lines() do
    if name:match(pattern) then out[#out + 1] = name end
  end
  p:close()
  return out
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- --- the file map -----------------------------------------------------------

-- the rows of the map: the table after the heading "## Where things are"
-- whose first cell names a file of natives/core
local function map_rows()
  local rows, on = {}, false
  for _, l in ipairs(lines_of("docs/design.md")) do
    if l:match("^## ") then on = l == "## Where things are" end
    local core = on and l:match("^| `([%w_]+%.c)` |")
    if core then
      local cells = {}
      for c in l:sub(2):gmatch("([^|]*)|") do cells[#cells + 1] = c:match("^%s*(.-)%s*$") end
      rows[#rows + 1] = { core = core, binding = cells[2], tests = cells[3],
                          guide = cells[4], why = cells[5] or "", line = l }
    end
  end
  return rows
end

-- the file names in backquotes in a cell
local function names(cell)
  local t = {}
  for n in (cell or ""):gmatch("`([^`]+)`") do t[#t + 1] = n end
  return t
end

local function check_row(r)
  assert(exists("natives/core/" .. r.core), "natives/core/" .. r.core .. " does not exist")
  local x = r.core:sub(1, -3)
  local own_binding, own_test, has_guide = false, false, false
  for _, b in ipairs(names(r.binding)) do
    assert(exists("natives/lua/" .. b), "natives/lua/" .. b .. " does not exist")
    own_binding = own_binding or b == "l_" .. x .. ".c"
  end
  for _, t in ipairs(names(r.tests)) do
    local path = (t:match("%.c$") and "tests/core/" or "tests/lua/") .. t
    assert(exists(path), path .. " does not exist")
    own_test = own_test or t == "test_" .. x .. ".lua" or t == "test_" .. x .. ".c"
  end
  for _, g in ipairs(names(r.guide)) do
    assert(exists("docs/" .. g), "docs/" .. g .. " does not exist")
    has_guide = true
  end
  local missing = {}
  if not own_binding then missing[#missing + 1] = "no natives/lua/l_" .. x .. ".c" end
  if not own_test then missing[#missing + 1] = "no test_" .. x .. ".lua or .c" end
  if not has_guide then missing[#missing + 1] = "no guide" end
  if #missing > 0 and r.why == "" then
    error(r.core .. ": " .. table.concat(missing, ", ") .. ", and the row says not why")
  end
end

local rows = map_rows()
local by_core = {}
for _, r in ipairs(rows) do
  check.test("map_row_unique_" .. r.core, function()
    check.truthy(not by_core[r.core], r.core .. " has two rows")
  end)
  by_core[r.core] = r
end
for _, c in ipairs(listing("natives/core", "%.c$")) do
  check.test("map_" .. c:sub(1, -3), function()
    local r = by_core[c]
    check.truthy(r, "docs/design.md's file map has no row for natives/core/" .. c)
    check_row(r)
  end)
end

-- --- docstrings beside their functions -------------------------------------

-- the line where the statement starting at line i ends (parentheses
-- balanced outside strings, long strings [[...]] and [==[...]==] included)
local function statement_end(lines, i)
  local depth, j, close = 0, i, nil
  while lines[j] do
    local s, k, q = lines[j], 1, nil
    while k <= #s do
      local c = s:sub(k, k)
      if close then
        if s:sub(k, k + #close - 1) == close then k = k + #close - 1; close = nil end
      elseif q then
        if c == "\\" then k = k + 1 elseif c == q then q = nil end
      elseif s:match("^%[=*%[", k) then
        local open = s:match("^%[=*%[", k)
        close = "]" .. open:sub(2, -2) .. "]"
        k = k + #open - 1
      elseif c == '"' or c == "'" then q = c
      elseif s:sub(k, k + 1) == "--" then break
      elseif c == "(" or c == "{" then depth = depth + 1
      elseif c == ")" or c == "}" then depth = depth - 1 end
      k = k + 1
    end
    if depth <= 0 and not close then return j end
    j = j + 1
  end
  return #lines
end

-- whether the code of line names target (a method's docstring names
-- Class.m, its definition Class:m)
local function mentions(line, target)
  local code = line:gsub("%-%-.*$", "")
  for _, t in ipairs({ target, (target:gsub("%.([%w_]+)$", ":%1")) }) do
    local from = 1
    while true do
      local a, b = code:find(t, from, true)
      if not a then break end
      local before, after = code:sub(a - 1, a - 1), code:sub(b + 1, b + 1)
      if not before:match("[%w_.:]") and not after:match("[%w_]") then return true end
      from = b + 1
    end
  end
  return false
end

local function indent(line) return #line:match("^%s*") end

-- whether some line that is not a docstring defines target (values that C
-- makes, such as T.I, are documented wherever the module's Lua file likes)
local function defined_here(lines, is_doc, target)
  local colon = target:gsub("%.([%w_]+)$", ":%1")
  for i, l in ipairs(lines) do
    if not is_doc[i] then
      for _, t in ipairs({ target, colon }) do
        local a, b = l:find(t, 1, true)
        if a and (l:sub(1, a - 1):match("function%s+$") or l:sub(b + 1):match("^%s*=[^=]")
                  or l:sub(b + 1):match("^%s*,[^=]*=[^=]")) then
          return true
        end
      end
    end
  end
  return false
end

-- the first line of the function an `end` at line j closes
local function header_of(lines, j)
  for k = j - 1, 1, -1 do
    if indent(lines[k]) == indent(lines[j]) and lines[k]:find("function", 1, true) then
      return lines[k]
    end
  end
end

local function docstring_problems(path)
  local lines, is_doc, docs = lines_of(path), {}, {}
  for i, l in ipairs(lines) do
    local target = l:match("^%s*hebb%.doc%(([^,]+),") or l:match("^%s*doc%(([^,]+),")
    if target then
      local e = statement_end(lines, i)
      for k = i, e do is_doc[k] = true end
      docs[#docs + 1] = { line = i, target = target }
    end
  end
  local bad = {}
  for _, d in ipairs(docs) do
    local j = d.line - 1
    while j > 0 and (is_doc[j] or lines[j]:match("^%s*$") or lines[j]:match("^%s*%-%-")) do
      j = j - 1
    end
    local anchor = lines[j] or ""
    local ok = mentions(anchor, d.target)
    if not ok and anchor:match("^%s*end%)?$") then
      local h = header_of(lines, j)
      ok = h ~= nil and mentions(h, d.target)
    end
    if not ok and defined_here(lines, is_doc, d.target) then
      bad[#bad + 1] = string.format("%s:%d (%s)", path, d.line, d.target)
    end
  end
  return bad
end

for _, f in ipairs(listing("stdlib/hebb", "%.lua$")) do
  check.test("docstrings_beside_" .. f:sub(1, -5), function()
    local bad = docstring_problems("stdlib/hebb/" .. f)
    check.truthy(#bad == 0, "docstrings away from what they document: " .. table.concat(bad, ", "))
  end)
end

check.done()
