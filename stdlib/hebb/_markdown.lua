-- hebb._markdown: the Markdown of notebook cells as HTML.
--
-- Blocks: ATX headings, paragraphs, bullet and numbered lists (one level of
-- nesting by indentation), fenced code, block quotes, rules, pipe tables and
-- display math ($$ ... $$).  Inline: `code`, $math$, **strong**, *em* /
-- _em_, [links](url).  Everything else is text: raw HTML is escaped, never
-- passed through, so a shared notebook cannot put script into its page;
-- links go only to http(s), mailto, in-page anchors and relative paths,
-- and images are shown as links (a page must load nothing by itself).
local mathml = require "hebb._mathml"
local concat = table.concat

local M = {}
local esc = mathml.escape

local function safe_url(u)
  if u:match("^https?://") or u:match("^mailto:") or u:match("^#") then return u end
  if not u:match("^[%a][%w+.-]*:") and not u:match("^//") then return u end
  return nil
end

-- emphasis and links in a text run (already HTML-escaped)
local function spans(s)
  s = s:gsub("!?%[([^%]]-)%]%(([^%s%)]+)%)", function(text, url)
    local u = safe_url(url:gsub("&amp;", "&"))
    if not u then return text end
    return '<a href="' .. esc(u) .. '">' .. text .. "</a>"
  end)
  s = s:gsub("%*%*(%S.-%S?)%*%*", "<strong>%1</strong>")
  s = s:gsub("__(%S.-%S?)__", "<strong>%1</strong>")
  s = s:gsub("%*(%S.-%S?)%*", "<em>%1</em>")
  s = s:gsub("%f[%w_]_(%S.-%S?)_%f[^%w_]", "<em>%1</em>")
  return s
end

-- a paragraph's text: code spans and math first (their contents are not
-- Markdown), the rest escaped and marked up
function M.inline(s)
  local out, i, n = {}, 1, #s
  local text_start = 1
  local function flush(upto)
    if upto >= text_start then out[#out + 1] = spans(esc(s:sub(text_start, upto))) end
  end
  while i <= n do
    local c = s:sub(i, i)
    if c == "\\" and s:sub(i + 1, i + 1):match("[%$`%*_%[%]\\]") then
      flush(i - 1)
      out[#out + 1] = esc(s:sub(i + 1, i + 1))
      i = i + 2
      text_start = i
    elseif c == "`" then
      local ticks = s:match("^`+", i)
      local close = s:find(ticks, i + #ticks, true)
      if close then
        flush(i - 1)
        out[#out + 1] = "<code>" .. esc(s:sub(i + #ticks, close - 1):match("^ ?(.-) ?$")) .. "</code>"
        i = close + #ticks
        text_start = i
      else
        i = i + #ticks
      end
    elseif c == "$" then
      local display = s:sub(i + 1, i + 1) == "$"
      local open = display and 2 or 1
      local close = s:find(display and "$$" or "$", i + open, true)
      local body = close and s:sub(i + open, close - 1)
      -- $ 5 and $ 6 is money, not math (pandoc's rule: no space inside)
      if body and body ~= "" and (display or not (body:match("^%s") or body:match("%s$"))) then
        flush(i - 1)
        out[#out + 1] = mathml.convert(body, display)
        i = close + open
        text_start = i
      else
        i = i + 1
      end
    else
      i = i + 1
    end
  end
  flush(n)
  return concat(out)
end

-- --- blocks ---------------------------------------------------------------------

local function is_blank(l) return not l:find("%S") end

local function table_row(l)
  local cells = {}
  l = l:match("^%s*|?(.-)|?%s*$")
  for c in (l .. "|"):gmatch("(.-)|") do cells[#cells + 1] = c:match("^%s*(.-)%s*$") end
  return cells
end

local function render_table(rows, out)
  local head, align = table_row(rows[1]), {}
  for i, spec in ipairs(table_row(rows[2])) do
    local l, r = spec:sub(1, 1) == ":", spec:sub(-1) == ":"
    align[i] = (l and r) and ' style="text-align:center"' or r and ' style="text-align:right"' or ""
  end
  out[#out + 1] = "<table><thead><tr>"
  for i, c in ipairs(head) do out[#out + 1] = "<th" .. (align[i] or "") .. ">" .. M.inline(c) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for k = 3, #rows do
    out[#out + 1] = "<tr>"
    for i, c in ipairs(table_row(rows[k])) do
      out[#out + 1] = "<td" .. (align[i] or "") .. ">" .. M.inline(c) .. "</td>"
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
end

local function list_item(l)
  local indent, marker, rest = l:match("^(%s*)([%-%*%+])%s+(.*)$")
  if marker then return #indent, "ul", rest end
  indent, marker, rest = l:match("^(%s*)(%d+[%.%)])%s+(.*)$")
  if marker then return #indent, "ol", rest, tonumber(marker:match("%d+")) end
  return nil
end

local blocks

-- a list starting at lines[i]; returns the next line's index
local function render_list(lines, i, out)
  local base, kind, _, start = list_item(lines[i])
  out[#out + 1] = kind == "ol" and start ~= 1 and ('<ol start="' .. start .. '">') or "<" .. kind .. ">"
  local item
  local function close_item()
    if item then
      local inner = {}
      blocks(item, inner, true)
      out[#out + 1] = "<li>" .. concat(inner, "\n") .. "</li>"
    end
  end
  while i <= #lines do
    local l = lines[i]
    local ind, k2, rest = list_item(l)
    if ind and ind <= base + 1 and k2 == kind then
      close_item()
      item = { rest }
    elseif ind and ind <= base + 1 then
      break
    elseif is_blank(l) then
      local nxt = lines[i + 1]
      if not nxt or not (nxt:match("^%s%s") or list_item(nxt)) then break end
      item[#item + 1] = ""
    elseif l:match("^%s") or not is_blank(l) and item and not is_blank(item[#item]) then
      item[#item + 1] = l:gsub("^" .. string.rep(" ", base + 2), "", 1):gsub("^%s%s%s?%s?", "", 1)
    else
      break
    end
    i = i + 1
  end
  close_item()
  out[#out + 1] = "</" .. kind .. ">"
  return i
end

function blocks(lines, out, tight)
  local i, para = 1, {}
  local function end_para()
    if #para > 0 then
      local text = M.inline(concat(para, "\n"))
      out[#out + 1] = tight and #out == 0 and text or "<p>" .. text .. "</p>"
      para = {}
    end
  end
  while i <= #lines do
    local l = lines[i]
    local fence = l:match("^%s*(```+)") or l:match("^%s*(~~~+)")
    local hashes, title = l:match("^(#+)%s+(.-)%s*#*%s*$")
    if fence then
      end_para()
      local lang = l:match("^%s*[`~]+%s*([%w_+-]*)")
      local code = {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^%s*" .. fence:gsub("%p", "%%%0")) do
        code[#code + 1] = lines[i]
        i = i + 1
      end
      out[#out + 1] = "<pre><code" .. (lang ~= "" and (' class="language-' .. esc(lang) .. '"') or "")
        .. ">" .. esc(concat(code, "\n")) .. "</code></pre>"
    elseif hashes and #hashes <= 6 then
      end_para()
      out[#out + 1] = ("<h%d>%s</h%d>"):format(#hashes, M.inline(title), #hashes)
    elseif l:match("^%s*%$%$") then
      end_para()
      local body = { (l:match("^%s*%$%$(.*)$")) }
      local closed = body[1]:find("%$%$")
      while not closed and i < #lines do
        i = i + 1
        body[#body + 1] = lines[i]
        closed = lines[i]:find("%$%$")
      end
      local tex = concat(body, "\n"):gsub("%$%$.*$", "")
      out[#out + 1] = mathml.convert(tex, true)
    elseif l:match("^%s*[%-%*_]%s*[%-%*_]%s*[%-%*_][%s%-%*_]*$") and is_blank(l:gsub("[%-%*_]", "")) then
      end_para()
      out[#out + 1] = "<hr>"
    elseif l:match("^%s*>") then
      end_para()
      local quote = {}
      while i <= #lines and lines[i]:match("^%s*>") do
        quote[#quote + 1] = lines[i]:gsub("^%s*> ?", "")
        i = i + 1
      end
      local inner = {}
      blocks(quote, inner)
      out[#out + 1] = "<blockquote>" .. concat(inner, "\n") .. "</blockquote>"
      i = i - 1
    elseif l:find("|", 1, true) and lines[i + 1] and lines[i + 1]:match("^%s*|?%s*:?%-+:?%s*|") then
      end_para()
      local rows = {}
      while i <= #lines and lines[i]:find("|", 1, true) do
        rows[#rows + 1] = lines[i]
        i = i + 1
      end
      render_table(rows, out)
      i = i - 1
    elseif list_item(l) and (#para == 0) then
      i = render_list(lines, i, out) - 1
    elseif is_blank(l) then
      end_para()
    else
      para[#para + 1] = l:match("^%s*(.-)$")
    end
    i = i + 1
  end
  end_para()
end

-- M.html(markdown) -> HTML fragment
function M.html(text)
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  local out = {}
  blocks(lines, out)
  return concat(out, "\n")
end

return M
