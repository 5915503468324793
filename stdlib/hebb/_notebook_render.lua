-- hebb._notebook_render: a run notebook as Markdown, as one HTML file and
-- as a Jupyter notebook (nbformat 4).
--
-- Renders are deterministic: the same run gives the same bytes at any
-- thread count.  What varies between runs -- wall times, the thread count,
-- the BLAS core -- is only in the HTML page's footer (which digests and the
-- byte-identity test leave out) and in the manifest's environment.
--
-- The HTML page is safe to open whoever wrote the notebook: every output is
-- escaped text, Markdown passes no raw HTML, figures are SVG files embedded
-- as images (data: URIs), in which a browser runs no script and loads
-- nothing, and a Content-Security-Policy forbids scripts and any network
-- access.  Math is MathML, drawn by the browser itself.
local md = require "hebb._markdown"
local mathml = require "hebb._mathml"
local J = require "hebb._json"
local S = require "hebb._plot_svg"
local fmt, concat = string.format, table.concat

local M = {}
local esc = mathml.escape

-- --- helpers -----------------------------------------------------------------------

local function title_of(res)
  local nb = res.nb
  if nb.meta.title then return nb.meta.title end
  for _, c in ipairs(nb.cells) do
    if c.kind == "markdown" then
      local h = c.text:match("^#+%s+([^\n]+)")
      if h then return h end
    end
  end
  return nb.name:match("([^/]*)$")
end
M.title = title_of

-- whether the page needs a title of its own: not when a markdown cell
-- already starts with it as a heading
local function own_title(nb)
  if not nb.meta.title then return false end
  for _, c in ipairs(nb.cells) do
    if c.kind == "markdown" then
      local h = c.text:match("^#%s+([^\n]+)")
      return not (h and h:match("^%s*(.-)%s*$") == nb.meta.title)
    end
  end
  return true
end

local function numbered_cells(res)
  local n = 0
  return function(_, k)
    k = k + 1
    local c = res.nb.cells[k]
    if not c then return nil end
    if c.kind == "code" then n = n + 1 end
    return k, c, n
  end, nil, 0
end

-- --- Lua syntax colouring (for the HTML page) ---------------------------------

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil "
          .. "not or repeat return then true until while"):gmatch("%a+") do
  KEYWORDS[w] = true
end

local function highlight(code)
  local out, i, n = {}, 1, #code
  local function span(cls, s) out[#out + 1] = '<span class="' .. cls .. '">' .. esc(s) .. "</span>" end
  while i <= n do
    local c = code:sub(i, i)
    local long = code:match("^%-%-%[(=*)%[", i)
    if long then
      local e = code:find("]" .. long .. "]", i, true)
      local j = e and e + #long + 1 or n
      span("c", code:sub(i, j)); i = j + 1
    elseif code:sub(i, i + 1) == "--" then
      local j = (code:find("\n", i, true) or n + 1) - 1
      span("c", code:sub(i, j)); i = j + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and code:sub(j, j) ~= c and code:sub(j, j) ~= "\n" do
        j = j + (code:sub(j, j) == "\\" and 2 or 1)
      end
      span("s", code:sub(i, j)); i = j + 1
    elseif code:match("^%[=*%[", i) then
      local eq = code:match("^%[(=*)%[", i)
      local e = code:find("]" .. eq .. "]", i, true)
      local j = e and e + #eq + 1 or n
      span("s", code:sub(i, j)); i = j + 1
    elseif c:match("[%a_]") then
      local w = code:match("^[%w_]+", i)
      if KEYWORDS[w] then span("k", w) else out[#out + 1] = esc(w) end
      i = i + #w
    elseif c:match("%d") then
      local num = code:match("^0[xX][%x%.]+", i) or code:match("^%d+%.?%d*[eE][%+%-]?%d+", i)
        or code:match("^%d+%.?%d*", i)
      span("n", num); i = i + #num
    else
      local j = code:find("[%-\"'%[%w_]", i + 1) or n + 1
      out[#out + 1] = esc(code:sub(i, j - 1)); i = j
    end
  end
  return concat(out)
end
M._highlight = highlight

-- --- Markdown --------------------------------------------------------------------

local function fence(text)
  local f = "```"
  while text:find(f, 1, true) do f = f .. "`" end
  return f
end

local function figure_name(base, k, j)
  return fmt("%s_files/cell%d-figure%d.svg", base:match("([^/]*)$"), k, j)
end

-- M.markdown(res, base) -> text, figures {path = svg}
function M.markdown(res, base)
  local out, figures = {}, {}
  local nb = res.nb
  if own_title(nb) then out[#out + 1] = "# " .. nb.meta.title .. "\n" end
  for k, c in numbered_cells(res) do
    local r = res.cells[k]
    if c.kind == "markdown" then
      out[#out + 1] = c.text .. "\n"
    elseif c.kind == "code" and c.opts.echo ~= false and c.code ~= "" then
      local f = fence(c.code)
      out[#out + 1] = f .. "lua\n" .. c.code .. "\n" .. f .. "\n"
    end
    if c.kind == "code" and c.opts.output ~= false then
      local nfig = 0
      for _, o in ipairs(r.outputs) do
        if o.type == "figure" then
          nfig = nfig + 1
          local name = figure_name(base, k, nfig)
          figures[name] = o.svg
          out[#out + 1] = fmt("![%s](%s)\n", (o.title or "figure"):gsub("[%[%]]", ""), name)
        else
          local text = require("hebb.notebook").output_text({ o })
          local f = fence(text)
          out[#out + 1] = f .. "text\n" .. text:gsub("\n$", "") .. "\n" .. f .. "\n"
        end
      end
      if c.opts.eval == false then out[#out + 1] = "*(not run: eval=false)*\n"
      elseif r.status == "not run" then
        out[#out + 1] = "*(not run: an earlier cell stopped the notebook)*\n"
      end
    end
  end
  return J.clean_utf8(concat(out, "\n")), figures
end

function M.write_md(res, base)
  local text, figures = M.markdown(res, base)
  local dir = base:match("^(.*)/[^/]*$") or "."
  local N = require "hebb._notebook"
  if next(figures) then N.mkdir(dir .. "/" .. base:match("([^/]*)$") .. "_files") end
  for name, svg in pairs(figures) do
    local f = assert(io.open(dir .. "/" .. name, "wb"))
    f:write(svg)
    f:close()
  end
  local f = assert(io.open(base .. ".md", "wb"))
  f:write(text)
  f:close()
end

-- --- HTML ---------------------------------------------------------------------------

local CSS = [[
:root{--fg:#1d2127;--muted:#5f6b7a;--line:#dde2e8;--code:#f5f7f9;--accent:#2b6cb0;--err:#b42318;--warn:#8a5a00}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 1rem}
header h1{font-size:1.9rem;line-height:1.2;margin:0 0 .3rem}
header p{color:var(--muted);margin:0 0 1.5rem;font-size:.9rem}
h1,h2,h3{line-height:1.25}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:1.8rem}h3{font-size:1.1rem}
a{color:var(--accent)}
.cell{margin:0 0 1rem}
.label{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;color:var(--muted);margin:0 0 .2rem}
pre{margin:0;padding:.6rem .8rem;overflow-x:auto;font:13.5px/1.45 ui-monospace,"DejaVu Sans Mono",monospace;border-radius:6px}
pre.code{background:var(--code);border:1px solid var(--line)}
.outputs{margin:.35rem 0 0 0}
.outputs pre{border-left:3px solid var(--line);border-radius:0;padding:.3rem .8rem;white-space:pre-wrap;word-break:break-word}
.outputs pre.stderr{color:var(--warn)}
.outputs pre.warning{color:var(--warn);border-left-color:#e8c170}
.outputs pre.error{color:var(--err);border-left-color:var(--err);background:#fff5f4}
.outputs pre.exit{color:var(--muted)}
.outputs .skipped{color:var(--muted);font-style:italic;font-size:.9rem}
figure{margin:.5rem 0}
figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.85rem}
.k{color:#8839ef}.s{color:#2f7d32}.c{color:#6b7785;font-style:italic}.n{color:#b35c00}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em;background:var(--code);padding:0 .2em;border-radius:3px}
pre code{background:none;padding:0}
blockquote{margin:0;padding:0 1rem;border-left:3px solid var(--line);color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid var(--line);padding:.25rem .6rem}
math[display=block]{margin:.6rem 0}
footer{max-width:52rem;margin:2rem auto 0;padding:1rem 1.25rem 2rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem}
footer table{font-size:.8rem}footer td{border:none;padding:0 .8rem 0 0}
]]

local function output_html(o)
  if o.type == "stream" then
    return '<pre class="' .. o.name .. '">' .. esc(J.clean_utf8(o.text)) .. "</pre>"
  elseif o.type == "warning" then
    return '<pre class="warning">' .. esc(J.clean_utf8((o.text:gsub("[^\n]+", "warning: %0")))) .. "</pre>"
  elseif o.type == "figure" then
    local alt = esc(J.clean_utf8(o.title or "figure"))
    return '<figure><img alt="' .. alt .. '" src="data:image/svg+xml;base64,'
      .. S.base64(o.svg) .. '"></figure>'
  elseif o.type == "error" then
    local t = o.message .. (o.traceback ~= "" and "\n" .. o.traceback or "")
    return '<pre class="error">' .. esc(J.clean_utf8(t)) .. "</pre>"
  elseif o.type == "exit" then
    return '<pre class="exit">' .. esc(fmt("os.exit(%d)", o.code)) .. "</pre>"
  end
  return ""
end

-- the part of the page that varies between runs: environment, times
function M.footer(res)
  local info = res.info
  local rows = {
    { "notebook", res.nb.name },
    { "hebb", fmt("%s (commit %s), %s", info.hebb, info.commit, info.lua) },
    { "BLAS", info.blas },
    { "threads", tostring(info.threads) },
    { "seed", tostring(res.seed) },
    { "arguments", #res.args > 0 and concat(res.args, " ") or "(none)" },
    { "wall time", fmt("%.3f s", res.wall or 0) },
  }
  local times = {}
  for k, c, n in numbered_cells(res) do
    if c.kind == "code" and res.cells[k].time then
      times[#times + 1] = fmt("[%d] %.3f s", n, res.cells[k].time)
    end
  end
  rows[#rows + 1] = { "cell times", concat(times, ", ") }
  local out = { "<footer>", "<table>" }
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr><td>" .. esc(r[1]) .. "</td><td>" .. esc(J.clean_utf8(r[2])) .. "</td></tr>"
  end
  out[#out + 1] = "</table>"
  out[#out + 1] = "</footer>"
  return concat(out, "\n")
end

-- M.html_body(res): the deterministic part of the page (all but the footer)
function M.html_body(res)
  local nb = res.nb
  local title = esc(J.clean_utf8(title_of(res)))
  local out = {
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      .. "img-src data:; style-src 'unsafe-inline'\">",
    '<meta name="generator" content="hebb notebook">',
    "<title>" .. title .. "</title>",
    "<style>" .. CSS .. "</style>",
    "</head>",
    "<body>",
    "<main>",
  }
  local sub = esc(nb.name:match("([^/]*)$"))
  if nb.meta.author then sub = sub .. " · " .. esc(J.clean_utf8(nb.meta.author)) end
  if own_title(nb) then
    out[#out + 1] = "<header><h1>" .. title .. "</h1><p>" .. sub .. "</p></header>"
  else
    out[#out + 1] = "<header><p>" .. sub .. "</p></header>"
  end
  for k, c, n in numbered_cells(res) do
    local r = res.cells[k]
    if c.kind == "markdown" then
      out[#out + 1] = '<section class="cell markdown" id="cell-' .. k .. '">'
        .. md.html(J.clean_utf8(c.text)) .. "</section>"
    elseif c.kind == "code" then
      local parts = { '<section class="cell code" id="cell-' .. k .. '">' }
      local label = fmt("[%d] line %d", n, c.marker or 1)
      if c.title then label = label .. " · " .. c.title end
      if c.opts.echo ~= false and c.code ~= "" then
        parts[#parts + 1] = '<div class="label">' .. esc(J.clean_utf8(label)) .. "</div>"
        parts[#parts + 1] = '<pre class="code"><code>' .. highlight(J.clean_utf8(c.code)) .. "</code></pre>"
      end
      local outs = {}
      if c.opts.output ~= false then
        for _, o in ipairs(r.outputs) do outs[#outs + 1] = output_html(o) end
      end
      if c.opts.eval == false then outs[#outs + 1] = '<p class="skipped">not run (eval=false)</p>' end
      if r.status == "not run" and c.opts.eval ~= false then
        outs[#outs + 1] = '<p class="skipped">not run: an earlier cell stopped the notebook</p>'
      end
      if #outs > 0 then parts[#parts + 1] = '<div class="outputs">' .. concat(outs) .. "</div>" end
      parts[#parts + 1] = "</section>"
      out[#out + 1] = concat(parts, "\n")
    end
  end
  out[#out + 1] = "</main>"
  return concat(out, "\n") .. "\n"
end

function M.html(res)
  return M.html_body(res) .. M.footer(res) .. "\n</body>\n</html>\n"
end

-- --- ipynb -------------------------------------------------------------------------

-- nbformat keeps text as a list of lines, each with its newline
local function lines_of(text)
  local t = {}
  for l in text:gmatch("[^\n]*\n?") do if l ~= "" then t[#t + 1] = l end end
  return J.array(t)
end

local function ipynb_output(o)
  if o.type == "stream" then
    return { output_type = "stream", name = o.name, text = lines_of(o.text) }
  elseif o.type == "warning" then
    return { output_type = "stream", name = "stderr",
             text = lines_of((o.text:gsub("[^\n]+", "warning: %0"))) }
  elseif o.type == "figure" then
    return { output_type = "display_data", metadata = J.object(),
             data = { ["image/svg+xml"] = lines_of(o.svg),
                      ["text/plain"] = J.array { "<figure " .. (o.title or "") .. ">" } } }
  elseif o.type == "error" then
    local tb = { o.message }
    for l in (o.traceback or ""):gmatch("[^\n]+") do tb[#tb + 1] = l end
    return { output_type = "error", ename = "LuaError", evalue = o.message,
             traceback = J.array(tb) }
  elseif o.type == "exit" then
    return { output_type = "stream", name = "stdout",
             text = J.array { fmt("os.exit(%d)\n", o.code) } }
  end
end

function M.ipynb(res)
  local cells = {}
  local count = 0
  for k, c in ipairs(res.nb.cells) do
    local id = "cell-" .. k
    if c.kind == "markdown" then
      cells[#cells + 1] = { cell_type = "markdown", id = id, metadata = J.object(),
                            source = lines_of(c.text) }
    elseif c.kind == "code" then
      local outs = {}
      local ran = c.opts.eval ~= false and res.cells[k].status ~= "not run"
      if ran then count = count + 1 end
      for _, o in ipairs(res.cells[k].outputs) do
        local x = ipynb_output(o)
        if x then
          if x.output_type == "display_data" or x.output_type == "execute_result" then
            x.metadata = x.metadata or J.object()
          end
          outs[#outs + 1] = x
        end
      end
      local meta = J.object()
      if c.opts.echo == false then meta.jupyter = { source_hidden = true } end
      if c.opts.eval == false then meta.tags = J.array { "skip-execution" } end
      cells[#cells + 1] = { cell_type = "code", id = id, metadata = meta,
                            execution_count = ran and count or J.null,
                            source = lines_of(c.code), outputs = J.array(outs) }
    end
  end
  local meta = res.nb.meta
  local nbmeta = {
    kernelspec = { name = "hebb", display_name = "hebb (Lua 5.4)", language = "lua" },
    language_info = { name = "lua", version = "5.4", file_extension = ".lua",
                      mimetype = "text/x-lua" },
    hebb = { notebook = res.nb.name:match("([^/]*)$"), seed = res.seed,
             requires = J.array(meta.requires or {}) },
  }
  if meta.title then nbmeta.title = meta.title end
  if meta.author then nbmeta.authors = J.array { { name = meta.author } } end
  return J.encode { nbformat = 4, nbformat_minor = 5, metadata = nbmeta,
                    cells = J.array(cells) }
end

return M
