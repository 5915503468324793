-- manpage.lua -- renders `hebb --help` as the man page hebb(1), so the page
-- says what the executable says (make docs; tests/packaging checks that
-- docs/hebb.1 is current).
-- usage: hebb --help | hebb tools/manpage.lua > docs/hebb.1
local version = require("hebb").version

-- roff's special characters: backslash, and '-' (a hyphen, not a minus)
local function esc(s)
  s = s:gsub("\\", "\\e"):gsub("%-", "\\-")
  return (s:gsub("`([^`]*)`", "\\fB%1\\fR"))
end

-- "-l g=mod" -> \fB-l\fR \fIg=mod\fR; "-h, --help" -> both bold
local function option(s)
  local parts = {}
  for alt in (s .. ", "):gmatch("(.-), ") do
    local flag, rest = alt:match("^(%S+)%s*(.*)$")
    parts[#parts + 1] = "\\fB" .. esc(flag) .. "\\fR"
      .. (rest ~= "" and " \\fI" .. esc(rest) .. "\\fR" or "")
  end
  return table.concat(parts, ", ")
end

-- the usage text: its sections of options (an option line is two spaces,
-- the option, two or more spaces, the text; deeper lines continue the text)
-- and its closing paragraphs
local lines = {}
for l in io.read("a"):gmatch("[^\n]+") do lines[#lines + 1] = l end
assert(lines[1] and lines[1]:match("^usage: "), "manpage.lua: expected `hebb --help` on stdin")
local sections, tail = {}, {}
local cur
for i = 2, #lines do
  local l = lines[i]
  local opt, text = l:match("^  (%S.-)%s%s+(%S.*)$")
  if l:match("^%S.*:$") then
    cur = { title = l:sub(1, -2), items = {} }
    sections[#sections + 1] = cur
  elseif opt and cur and not l:match("^%s%s%s") then
    cur.items[#cur.items + 1] = { opt = opt, text = text }
  elseif l:match("^%s%s%s") and cur and #cur.items > 0 then
    local it = cur.items[#cur.items]
    it.text = it.text .. " " .. l:match("^%s*(.-)$")
  else
    cur = nil
    if l:match("^%s") and #tail > 0 then
      tail[#tail] = tail[#tail] .. " " .. l:match("^%s*(.-)$")
    else
      tail[#tail + 1] = l
    end
  end
end

local out = {}
local function put(s) out[#out + 1] = s end
put('.TH HEBB 1 "" "hebb ' .. version .. '" "User Commands"')
put(".nh")               -- no hyphenation: names like $HEBB_MAX_MEMORY stay whole
put(".SH NAME")
put("hebb \\- a Lua 5.4 interpreter for scientific computing: tensors, "
  .. "automatic differentiation, networks, optimizers, notebooks")
put(".SH SYNOPSIS")
put(".B hebb")
put("[\\fIoptions\\fR] [\\fIscript\\fR [\\fIargs\\fR]]")
put(".br")
put(".B hebb notebook")
put("\\fIcommand\\fR ...")
put(".SH DESCRIPTION")
put("hebb runs Lua 5.4 scripts like \\fBlua5.4\\fR(1), with the same options, "
  .. "exit codes and \\fBarg\\fR table, and carries hebb's modules (require "
  .. "\"hebb.tensor\", \"hebb.nn\", ...), whose reference is \\fBdocs/api/\\fR "
  .. "and, in the REPL, \\fB?name\\fR.")
for _, sec in ipairs(sections) do
  local title = sec.title == "Available options are" and "options" or sec.title
  put(".SH " .. esc(title:upper()))
  for _, it in ipairs(sec.items) do
    put(".TP")
    put(option(it.opt))
    put(esc(it.text))
  end
end
for _, p in ipairs(tail) do
  local head, rest = p:match("^(%a+): (.*)$")
  if head then
    put(".SH " .. esc(head:upper()))
    put(esc(rest))
  else
    put(".PP")
    put(esc(p))
  end
end
put(".SH SEE ALSO")
put("\\fBlua5.4\\fR(1); \\fBhebb notebook help\\fR; the guides in docs/ of "
  .. "hebb's source.")
io.write(table.concat(out, "\n"), "\n")
