-- hebb._notebook_parse: reads the cells of a .lua notebook.
--
-- A notebook is a Lua script whose cells are marked by comment lines in
-- Jupytext's percent format:
--
--   -- %% Optional title [key=value, ...]     a code cell, with options
--   -- %% [markdown]                           a markdown cell: its lines are
--                                              "-- text" comments or one long
--                                              comment --[[ ... ]]
--   -- %% [meta]                               "-- key: value" lines (title,
--                                              seed, requires, author, ...)
--
-- Lines before the first marker form a code cell of their own (when any of
-- them is not blank).  A marker counts only where a statement may start:
-- a "-- %%" line inside a long string or long comment is text.  Errors are
-- "name:line: what is wrong", the form of Lua's own syntax errors.
local fmt = string.format

local M = {}

-- the options a code cell accepts, and how each is checked
local OPTIONS = {
  echo = "boolean",     -- show the code (default true)
  output = "boolean",   -- show the outputs (default true)
  eval = "boolean",     -- run the cell (default true)
  error = "choice",     -- "stop" (default) or "continue"
  timeout = "seconds",  -- wall-clock limit of the cell
}
local CHOICES = { error = { stop = true, continue = true } }
local KINDS = { markdown = "markdown", md = "markdown", meta = "meta" }
local META_KEYS = { title = true, author = true, description = true,
                    seed = true, requires = true, date = true }
M.OPTIONS, M.META_KEYS = OPTIONS, META_KEYS

-- an error at the notebook's own line (not the caller's: level 0)
local function fail(name, line, msg, ...)
  error(fmt("%s:%d: " .. msg, name, line, ...), 0)
end

local function suggest(word, known)
  local near = require("hebb._error").suggest(word, known)
  return near and fmt(" (did you mean '%s'?)", near) or ""
end

-- --- the text ---------------------------------------------------------------

-- A notebook must be UTF-8 text: renders and manifests are UTF-8 and JSON.
local function check_text(src, name)
  if src:sub(1, 4) == "\27Lua" then
    error(fmt("%s: a compiled Lua chunk (bytecode), not a notebook", name), 0)
  end
  local nul = src:find("\0", 1, true)
  if nul then
    local line = select(2, src:sub(1, nul):gsub("\n", "")) + 1
    fail(name, line, "not a text file (a NUL byte, column %d)",
         nul - (src:sub(1, nul):match(".*\n()") or 1) + 1)
  end
  local ok, bad = utf8.len(src)
  if not ok then
    local line = select(2, src:sub(1, bad):gsub("\n", "")) + 1
    fail(name, line, "not UTF-8 text (byte 0x%02X)", src:byte(bad))
  end
end

-- the lines of src (without their newlines; "\r\n" counts as one)
local function split_lines(src)
  local lines = {}
  for line in (src:gsub("\r\n", "\n") .. "\n"):gmatch("(.-)\n") do
    lines[#lines + 1] = line
  end
  if src:sub(-1) == "\n" or src == "" then lines[#lines] = nil end
  return lines
end
M.split_lines = split_lines

-- The lines that begin inside a long string or long comment (inside[i] =
-- the line where it opened), by a small scan of Lua's lexical structure:
-- comments, short strings (with their escapes) and long brackets.
local function scan_long(lines, name)
  local src = table.concat(lines, "\n") .. "\n"
  local starts, pos = { 1 }, 1
  while true do
    local nl = src:find("\n", pos, true)
    if not nl then break end
    starts[#starts + 1], pos = nl + 1, nl + 1
  end
  local function line_of(p)  -- binary search in starts
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= p then lo = mid else hi = mid - 1 end
    end
    return lo
  end
  local inside, i, n = {}, 1, #src
  if src:sub(1, 1) == "#" then i = src:find("\n", 1, true) or n end  -- #!
  local function long_from(p, what)   -- p at the first '['
    local eq = src:match("^%[(=*)%[", p)
    local close = "]" .. eq .. "]"
    local e = src:find(close, p, true)
    local first = line_of(p)
    if not e then fail(name, first, "unfinished long %s (it never closes "
                             .. "with %s)", what, close) end
    for l = first + 1, line_of(e) do inside[l] = first end
    return e + #close
  end
  while i <= n do
    local p = src:find("[%-%[\"']", i)
    if not p then break end
    local c = src:sub(p, p)
    if c == "-" then
      if src:sub(p, p + 1) ~= "-" .. "-" then i = p + 1
      elseif src:match("^%[=*%[", p + 2) then i = long_from(p + 2, "comment")
      else i = (src:find("\n", p, true) or n) + 1 end
    elseif c == "[" then
      if src:match("^%[=*%[", p) then i = long_from(p, "string") else i = p + 1 end
    else    -- a short string: up to the same quote, skipping escapes
      local q = p + 1
      while q <= n do
        local ch = src:sub(q, q)
        if ch == c or ch == "\n" then break end
        if ch == "\\" then
          if src:sub(q + 1, q + 1) == "z" then
            q = src:find("[^%s]", q + 2) or n + 1
          else q = q + 2 end
        else q = q + 1 end
      end
      for l = line_of(p) + 1, line_of(math.min(q, n)) do inside[l] = line_of(p) end
      i = q + 1
    end
  end
  return inside
end

-- --- markers ----------------------------------------------------------------

-- "key=value, key2=value2" -> table; values: true/false, numbers, words,
-- "quoted strings"
local function parse_options(text, name, line)
  local opts, pos = {}, 1
  while true do
    pos = text:match("^[%s,]*()", pos)
    if pos > #text then break end
    local key, p2 = text:match("^([%a_][%w_]*)%s*=%s*()", pos)
    if not key then
      fail(name, line, "cannot read the cell options [%s]: expected key=value at '%s'",
           text, text:sub(pos))
    end
    local value, p3
    if text:sub(p2, p2) == '"' then
      value, p3 = text:match('^"([^"]*)"()', p2)
      if not value then fail(name, line, "unfinished string in the cell options [%s]", text) end
    else
      value, p3 = text:match("^([^%s,]+)()", p2)
      if not value then fail(name, line, "option %s has no value", key) end
      if value == "true" then value = true
      elseif value == "false" then value = false
      elseif tonumber(value) then value = tonumber(value) end
    end
    local want = OPTIONS[key]
    if not want then
      fail(name, line, "unknown cell option '%s'%s; known: echo, error, eval, "
           .. "output, timeout", key, suggest(key, OPTIONS))
    end
    if want == "boolean" and type(value) ~= "boolean" then
      fail(name, line, "option %s must be true or false, got '%s'", key, tostring(value))
    elseif want == "seconds" and not (type(value) == "number" and value > 0) then
      fail(name, line, "option %s must be a positive number of seconds, got '%s'",
           key, tostring(value))
    elseif want == "choice" and not CHOICES[key][value] then
      fail(name, line, "option %s must be one of stop, continue; got '%s'%s", key,
           tostring(value), suggest(tostring(value), CHOICES[key]))
    end
    if opts[key] ~= nil then fail(name, line, "option %s is given twice", key) end
    opts[key] = value
    pos = p3
  end
  return opts
end

-- the text after "-- %%" -> kind, title, options
local function parse_marker(rest, name, line)
  local kind, opts = "code", {}
  local b = rest:find("[", 1, true)
  local title = (b and rest:sub(1, b - 1) or rest):match("^%s*(.-)%s*$")
  local seen_kind = false
  while b do
    local inner, after = rest:match("^%[([^%]]*)%]()", b)
    if not inner then fail(name, line, "cell marker: '[' without ']'") end
    inner = inner:match("^%s*(.-)%s*$")
    if inner:find("=", 1, true) then
      for k, v in pairs(parse_options(inner, name, line)) do
        if opts[k] ~= nil then fail(name, line, "option %s is given twice", k) end
        opts[k] = v
      end
    else
      local k = KINDS[inner]
      if not k then
        fail(name, line, "unknown cell type [%s]%s; known: [markdown], [meta]",
             inner, suggest(inner, KINDS))
      end
      if seen_kind then fail(name, line, "cell marker names two cell types") end
      kind, seen_kind = k, true
    end
    local nextb = after
    local gap = rest:match("^%s*()", nextb)
    if gap > #rest then break end
    if rest:sub(gap, gap) ~= "[" then
      fail(name, line, "cell marker: unexpected '%s' after ']' (a title goes "
           .. "before the [...] groups)", rest:sub(gap))
    end
    b = gap
  end
  if kind ~= "code" and next(opts) then
    fail(name, line, "options are for code cells, not [%s] cells", kind)
  end
  return kind, title ~= "" and title or nil, opts
end

-- --- cell bodies -----------------------------------------------------------

-- the markdown text of a [markdown] cell: "-- " comments, or long comments
local function markdown_body(lines, first, last, name)
  local out, i = {}, first
  while i <= last do
    local l = lines[i]
    local level, after = l:match("^%-%-%[(=*)%[()")
    if level then
      local close = "]" .. level .. "]"
      local text = l:sub(after)
      local j = i
      while not text:find(close, 1, true) do
        out[#out + 1] = text
        j = j + 1
        if j > last then fail(name, i, "unfinished long comment in a markdown cell") end
        text = lines[j]
      end
      local cpos = text:find(close, 1, true)
      out[#out + 1] = text:sub(1, cpos - 1)
      if text:sub(cpos + #close):find("%S") then
        fail(name, j, "text after the end of a long comment in a markdown cell")
      end
      if out[#out]:match("^%s*$") then out[#out] = nil end
      i = j + 1
    elseif l:match("^%s*$") or l == "--" then
      out[#out + 1] = ""
      i = i + 1
    elseif l:sub(1, 3) == "-- " then
      out[#out + 1] = l:sub(4)
      i = i + 1
    else
      fail(name, i, "a markdown cell holds only comment lines (\"-- text\" or "
           .. "--[[ ... ]]); start a code cell with \"-- %%%%\" before this line")
    end
  end
  -- a long comment's first line is often empty ("--[[" alone)
  while out[1] == "" do table.remove(out, 1) end
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n")
end

local function parse_meta(text, name, line)
  local meta = {}
  local n = 0
  for l in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if l:find("%S") then
      local key, value = l:match("^%s*([%a_][%w_]*)%s*:%s*(.-)%s*$")
      if not key then fail(name, line + n, "a [meta] line is \"key: value\", got '%s'", l) end
      if not META_KEYS[key] then
        fail(name, line + n, "unknown meta key '%s'%s; known: author, date, "
             .. "description, requires, seed, title", key, suggest(key, META_KEYS))
      end
      if key == "seed" then
        value = math.tointeger(tonumber(value))
        if not value then fail(name, line + n, "meta seed must be an integer") end
      elseif key == "requires" then
        local mods = {}
        for m in value:gmatch("[^%s,]+") do mods[#mods + 1] = m end
        value = mods
      end
      meta[key] = value
    end
  end
  return meta
end

-- --- the notebook -----------------------------------------------------------

local function trim_range(lines, first, last)
  while first <= last and not lines[first]:find("%S") do first = first + 1 end
  while last >= first and not lines[last]:find("%S") do last = last - 1 end
  return first, last
end

local function finish_cell(nb, cell, lines, last)
  cell.last = last
  if cell.kind == "code" then
    local a, b = trim_range(lines, cell.first, last)
    cell.code = table.concat(lines, "\n", a, b)
    if cell.marker == nil and cell.code == "" then return end  -- no preamble
  else
    local a, b = trim_range(lines, cell.first, last)
    cell.text = markdown_body(lines, a, b, nb.name)
    if cell.kind == "meta" then
      if nb.meta_cell then
        fail(nb.name, cell.marker, "a second [meta] cell (the first is at line %d)",
             nb.meta_cell.marker)
      end
      nb.meta, nb.meta_cell = parse_meta(cell.text, nb.name, cell.marker), cell
    end
  end
  nb.cells[#nb.cells + 1] = cell
  cell.index = #nb.cells
end

-- M.parse(src, name) -> notebook {name, source, lines, meta, cells}; each
-- cell: kind ("code", "markdown", "meta"), index, marker (its line, nil for
-- the preamble), first/last (lines of its body), title, opts, code (code
-- cells, without leading/trailing blank lines) or text (markdown, meta).
function M.parse(src, name)
  name = name or "notebook"
  check_text(src, name)
  local lines = split_lines(src)
  local inside = scan_long(lines, name)
  local nb = { name = name, source = src, lines = lines, meta = {}, cells = {} }
  local cell = { kind = "code", first = 1, opts = {} }
  for i, l in ipairs(lines) do
    local rest = not inside[i] and l:match("^%-%- %%%%(.*)$")
    if rest and (rest == "" or rest:find("^%s")) then
      finish_cell(nb, cell, lines, i - 1)
      local kind, title, opts = parse_marker(rest, name, i)
      cell = { kind = kind, title = title, opts = opts, marker = i, first = i + 1 }
    end
  end
  finish_cell(nb, cell, lines, #lines)
  return nb
end

return M
