-- hebb.plot: figures for notebooks, scripts and the REPL.
--
-- A figure is a grid of panels; a panel holds series -- lines, scatter
-- points, error bars, histograms, heatmaps (a field on a lattice, with a
-- colour bar), reference lines -- on linear or logarithmic axes, with a
-- legend, a title and labels in which $...$ is LaTeX-ish math.  fig:svg()
-- draws it as SVG, the same bytes for the same figure (fixed number
-- formats, no clocks, no random ids); plot.save writes .svg (and .png when
-- Debian's rsvg-convert is there); plot.show puts it inline in a notebook,
-- or draws a braille preview on a terminal (hebb._plot_text), which is
-- also what the REPL shows for a figure.
local T = require "hebb.tensor"
local S = require "hebb._plot_svg"
local E = require "hebb._error"
local display = require "hebb._display"
local doc = require("hebb").doc
local fmt, concat = string.format, table.concat
local floor, ceil, huge = math.floor, math.ceil, math.huge
local function log10(x) return math.log(x, 10) end

local M = {}
doc(M, "hebb.plot\n\nFigures: lines, points, error bars, histograms, heatmaps "
  .. "with colour bars, log axes, panels, legends, LaTeX-ish labels; "
  .. "deterministic SVG, inline in notebooks, braille previews on terminals.  "
  .. "See docs/plot.md.")

local Figure, Panel = {}, {}
Figure.__index = Figure
Panel.__index = Panel
M.Figure, M.Panel = Figure, Panel
doc(Figure, "plot.Figure\n\nA figure (plot.figure): fig:panel(i), the drawing "
  .. "methods of its first panel (fig:line, ...), fig:svg(), fig:show(), "
  .. "fig:save(path), fig:preview().")
doc(Panel, "plot.Panel\n\nOne panel of a figure (fig:panel(i)): line, scatter, "
  .. "errorbar, hist, heatmap, hline, vline and set; each returns the panel, "
  .. "so calls chain.")

-- Tableau's 10 colours (the matplotlib default cycle)
local PALETTE = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }
local DASHES = { solid = false, dashed = "6 4", dotted = "1.5 3", dashdot = "6 3 1.5 3" }
local MARKERS = { o = true, s = true, ["^"] = true, v = true, d = true, x = true, ["+"] = true }
local FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

-- --- input ----------------------------------------------------------------------------

-- a list of numbers from a Lua list or a real tensor (any shape, flattened)
local function numbers(v, who, what)
  if T.is_tensor(v) then
    if v.detach then v = v:detach() end
    if v.dtype == "c128" or v.dtype == "c64" then
      E.raise("%s: %s must be real, got a %s tensor", who, what, v.dtype)
    end
    return v:to("f64"):contiguous():view(-1):totable()
  end
  if type(v) ~= "table" then
    E.raise("%s: %s must be a list of numbers or a tensor, got %s", who, what, E.show(v))
  end
  local out = {}
  for i = 1, #v do
    local x = v[i]
    if T.is_tensor(x) and x:numel() == 1 then x = x:item() end
    if type(x) ~= "number" then
      E.raise("%s: %s[%d] is %s, not a number", who, what, i, E.show(x))
    end
    out[i] = x + 0.0
  end
  return out
end

-- rows of a 2-d tensor or nested table
local function matrix(z, who)
  if T.is_tensor(z) then
    if z.ndim ~= 2 then
      E.raise("%s: the field must be 2-d, got shape {%s}", who, concat(z.shape, ", "))
    end
    if z.detach then z = z:detach() end
    return z:to("f64"):contiguous():totable(), z.shape[1], z.shape[2]
  end
  if type(z) ~= "table" or type(z[1]) ~= "table" then
    E.raise("%s: the field must be a 2-d tensor or a table of rows, got %s", who, E.show(z))
  end
  local rows = {}
  for i = 1, #z do
    rows[i] = numbers(z[i], who, "row " .. i)
    if #rows[i] ~= #rows[1] then
      E.raise("%s: row %d has %d values, row 1 has %d", who, i, #rows[i], #rows[1])
    end
  end
  return rows, #rows, #rows[1]
end

local function finite(x) return x == x and x ~= huge and x ~= -huge end

-- --- figures and panels ---------------------------------------------------------------

local FIG_OPTS = { width = true, height = true, title = true, rows = true, cols = true }
local PANEL_OPTS = { title = true, xlabel = true, ylabel = true, xscale = true,
  yscale = true, xlim = true, ylim = true, legend = true, grid = true, aspect = true }

function M.figure(opts)
  opts = E.checkopts("plot.figure", opts, FIG_OPTS)
  local rows, cols = opts.rows or 1, opts.cols or 1
  for _, k in ipairs { "rows", "cols" } do
    local v = opts[k] or 1
    if math.type(v) ~= "integer" or v < 1 or v > 8 then
      E.raise("plot.figure: %s must be an integer from 1 to 8, got %s", k, E.show(v))
    end
  end
  local w = opts.width or (cols == 1 and 640 or 420 * cols)
  local h = opts.height or (rows == 1 and 400 or 320 * rows)
  for k, v in pairs { width = w, height = h } do
    if type(v) ~= "number" or v < 50 or v > 10000 then
      E.raise("plot.figure: %s must be 50..10000 pixels, got %s", k, E.show(v))
    end
  end
  return setmetatable({ width = w, height = h, title = opts.title, rows = rows,
                        cols = cols, panels = {} }, Figure)
end
doc(M.figure, "plot.figure{width=640, height=400, title=, rows=1, cols=1}\n\n"
  .. "A new figure: a grid of rows x cols panels (fig:panel(i) or "
  .. "fig:panel(row, col)).  The drawing methods of a panel also work on the "
  .. "figure, for its first panel: fig:line(x, y).")

function Figure:panel(r, c)
  local i = r
  if c ~= nil then i = (r - 1) * self.cols + c end
  if math.type(i) ~= "integer" or i < 1 or i > self.rows * self.cols then
    E.raise("plot: the figure has %d x %d panels; there is no panel %s", self.rows,
            self.cols, c ~= nil and fmt("(%s, %s)", tostring(r), tostring(c)) or tostring(r))
  end
  if not self.panels[i] then
    self.panels[i] = setmetatable({ fig = self, index = i, series = {}, opts = {},
                                    ncolor = 0 }, Panel)
  end
  return self.panels[i]
end
doc(Figure.panel, "fig:panel(i) or fig:panel(row, col)\n\nPanel i of the figure "
  .. "(numbered row by row from 1), made on first use.")

function Panel:set(opts)
  opts = E.checkopts("plot.set", opts, PANEL_OPTS)
  for _, k in ipairs { "xscale", "yscale" } do
    if opts[k] ~= nil and opts[k] ~= "linear" and opts[k] ~= "log" then
      E.raise("plot.set: %s must be \"linear\" or \"log\", got %s", k, E.show(opts[k]))
    end
  end
  for _, k in ipairs { "xlim", "ylim" } do
    local v = opts[k]
    if v ~= nil and not (type(v) == "table" and type(v[1]) == "number"
                         and type(v[2]) == "number" and v[2] > v[1]) then
      E.raise("plot.set: %s must be {lo, hi} with lo < hi, got %s", k, E.show(v))
    end
  end
  if opts.aspect ~= nil and opts.aspect ~= "equal" and opts.aspect ~= "auto" then
    E.raise("plot.set: aspect must be \"equal\" or \"auto\", got %s", E.show(opts.aspect))
  end
  local legend = opts.legend
  if legend ~= nil and legend ~= false and legend ~= "best" and legend ~= "upper right"
     and legend ~= "upper left" and legend ~= "lower left" and legend ~= "lower right" then
    E.raise("plot.set: legend must be \"best\", \"upper right\", \"upper left\", "
            .. "\"lower left\", \"lower right\" or false, got %s", E.show(legend))
  end
  for k, v in pairs(opts) do self.opts[k] = v end
  return self
end
doc(Panel.set, "panel:set{title=, xlabel=, ylabel=, xscale=\"linear\"|\"log\", "
  .. "yscale=, xlim={lo, hi}, ylim=, legend=\"best\"|\"upper right\"|...|false, "
  .. "grid=true, aspect=\"auto\"|\"equal\"}\n\nThe panel's title, axis labels (with $...$ math: "
  .. "\"$\\\\beta J$\", \"$\\\\langle E \\\\rangle / N$\"), scales, ranges, legend "
  .. "place, grid and aspect (\"equal\": one unit is as long on both axes; "
  .. "the default for heatmaps, so lattice cells are square).  Returns the "
  .. "panel.")

local function next_color(p, opts)
  if opts.color then return S.color(opts.color, "plot") end
  p.ncolor = p.ncolor + 1
  return PALETTE[(p.ncolor - 1) % #PALETTE + 1]
end

local function style(p, who, opts, extra)
  local known = { label = true, color = true }
  for k in pairs(extra) do known[k] = true end
  opts = E.checkopts(who, opts, known)
  local st = { label = opts.label and tostring(opts.label), color = next_color(p, opts) }
  for k in pairs(extra) do st[k] = opts[k] end
  if st.dash ~= nil and DASHES[st.dash] == nil then
    E.raise("%s: dash must be \"solid\", \"dashed\", \"dotted\" or \"dashdot\", got %s",
            who, E.show(st.dash))
  end
  if st.marker ~= nil and st.marker ~= false and not MARKERS[st.marker] then
    E.raise("%s: marker must be one of o s ^ v d x +, got %s", who, E.show(st.marker))
  end
  return st
end

local function xy(who, x, y)
  if y == nil then   -- line(y): x = 1..n
    y = numbers(x, who, "y")
    local xs = {}
    for i = 1, #y do xs[i] = i + 0.0 end
    return xs, y
  end
  x, y = numbers(x, who, "x"), numbers(y, who, "y")
  if #x ~= #y then E.raise("%s: x has %d values and y has %d", who, #x, #y) end
  return x, y
end

local function add(p, s)
  p.series[#p.series + 1] = s
  return p
end

function Panel:line(x, y, opts)
  if opts == nil and type(y) == "table" and y[1] == nil and next(y) ~= nil then
    opts, y = y, nil   -- line(y, {opts})
  end
  local xs, ys = xy("plot.line", x, y)
  local st = style(self, "plot.line", opts, { width = true, dash = true, marker = true })
  st.kind, st.x, st.y = "line", xs, ys
  return add(self, st)
end
doc(Panel.line, "panel:line([x,] y [, {label=, color=, width=1.6, dash=\"solid\"|"
  .. "\"dashed\"|\"dotted\"|\"dashdot\", marker=}])\n\nA line through the points "
  .. "(x lists or 1-d tensors; without x, 1..n).  NaN values and, on a log "
  .. "axis, values <= 0 break the line.  Returns the panel.")

function Panel:scatter(x, y, opts)
  local xs, ys = xy("plot.scatter", x, y)
  local st = style(self, "plot.scatter", opts, { size = true, marker = true })
  st.kind, st.x, st.y = "scatter", xs, ys
  st.marker = st.marker or "o"
  return add(self, st)
end
doc(Panel.scatter, "panel:scatter(x, y [, {label=, color=, size=3, marker=\"o\"}])"
  .. "\n\nPoints; markers o (circle), s (square), ^ v (triangles), d (diamond), x, "
  .. "+.  Returns the panel.")

function Panel:errorbar(x, y, err, opts)
  local who = "plot.errorbar"
  local xs, ys = xy(who, x, y)
  local lo, hi
  if type(err) == "number" then
    lo, hi = {}, {}
    for i = 1, #ys do lo[i], hi[i] = err, err end
  elseif type(err) == "table" and not T.is_tensor(err) and #err == 2
         and (type(err[1]) == "table" or T.is_tensor(err[1])) then
    lo, hi = numbers(err[1], who, "err[1]"), numbers(err[2], who, "err[2]")
  else
    lo = numbers(err, who, "err")
    hi = lo
  end
  if #lo ~= #ys or #hi ~= #ys then
    E.raise("%s: err has %d values and y has %d", who, #lo, #ys)
  end
  local st = style(self, who, opts, { marker = true, size = true, width = true })
  st.kind, st.x, st.y, st.lo, st.hi = "errorbar", xs, ys, lo, hi
  if st.marker == nil then st.marker = "o" end
  return add(self, st)
end
doc(Panel.errorbar, "panel:errorbar(x, y, err [, {label=, color=, marker=\"o\", "
  .. "size=3, width=}])\n\nPoints with vertical error bars: err is one number, a "
  .. "list/tensor (y +- err) or {lower, upper}.  marker=false draws bars only.  "
  .. "Returns the panel.")

-- the counts of values in bins; edges has bins + 1 entries
function M.histogram(values, opts)
  local who = "plot.histogram"
  opts = E.checkopts(who, opts, { bins = true, range = true, density = true })
  local v = numbers(values, who, "values")
  local lo, hi = huge, -huge
  for _, x in ipairs(v) do
    if finite(x) then lo, hi = math.min(lo, x), math.max(hi, x) end
  end
  if opts.range then lo, hi = opts.range[1], opts.range[2] end
  if lo == huge then lo, hi = 0, 1 end
  if hi <= lo then lo, hi = lo - 0.5, hi + 0.5 end
  local edges = {}
  local bins = opts.bins
  if type(bins) == "table" then
    edges = numbers(bins, who, "bins")
    lo, hi = edges[1], edges[#edges]
  else
    bins = bins or math.max(10, math.min(60, ceil(math.sqrt(#v))))
    if math.type(bins) ~= "integer" or bins < 1 then
      E.raise("%s: bins must be a positive integer or a list of edges, got %s", who, E.show(bins))
    end
    for i = 0, bins do edges[i + 1] = lo + (hi - lo) * i / bins end
  end
  local n = #edges - 1
  local counts = {}
  for i = 1, n do counts[i] = 0 end
  local total = 0
  for _, x in ipairs(v) do
    if x >= lo and x <= hi then
      local a, b = 1, n   -- binary search: the last edge <= x
      while a < b do
        local m = (a + b + 1) // 2
        if edges[m] <= x then a = m else b = m - 1 end
      end
      counts[a] = counts[a] + 1
      total = total + 1
    end
  end
  if opts.density and total > 0 then
    for i = 1, n do counts[i] = counts[i] / (total * (edges[i + 1] - edges[i])) end
  end
  return edges, counts
end
doc(M.histogram, "plot.histogram(values [, {bins=, range={lo, hi}, density=false}])"
  .. "  ->  edges, counts\n\nThe counts of values (a list or tensor) in bins: bins "
  .. "equal bins over range (default: min..max; bins default: sqrt(n) within "
  .. "10..60) or a list of edges.  Each bin holds lo <= x < hi, the last one also "
  .. "its upper edge.  With density, counts / (n * width).")

function Panel:hist(values, opts)
  opts = opts or {}
  local hopts = { bins = opts.bins, range = opts.range, density = opts.density }
  local sopts = {}
  for k, v in pairs(opts) do if hopts[k] == nil and k ~= "bins" and k ~= "range"
    and k ~= "density" then sopts[k] = v end end
  local edges, counts = M.histogram(values, hopts)
  local st = style(self, "plot.hist", sopts, {})
  st.kind, st.edges, st.counts = "hist", edges, counts
  return add(self, st)
end
doc(Panel.hist, "panel:hist(values [, {bins=, range=, density=, label=, color=}])"
  .. "\n\nA histogram of values (see plot.histogram).  Returns the panel.")

function Panel:heatmap(z, opts)
  local who = "plot.heatmap"
  opts = E.checkopts(who, opts, { cmap = true, vmin = true, vmax = true,
    colorbar = true, label = true, extent = true, origin = true })
  local rows, ny, nx = matrix(z, who)
  local cmap = opts.cmap or "viridis"
  if not S.CMAPS[cmap] then
    E.raise("%s: cmap must be viridis, magma, coolwarm or gray, got %s", who, E.show(cmap))
  end
  local origin = opts.origin or "upper"
  if origin ~= "upper" and origin ~= "lower" then
    E.raise("%s: origin must be \"upper\" (row 1 at the top) or \"lower\", got %s",
            who, E.show(origin))
  end
  local vmin, vmax = huge, -huge
  for i = 1, ny do
    for j = 1, nx do
      local v = rows[i][j]
      if finite(v) then vmin, vmax = math.min(vmin, v), math.max(vmax, v) end
    end
  end
  if vmin == huge then vmin, vmax = 0, 1 end
  vmin, vmax = opts.vmin or vmin, opts.vmax or vmax
  if vmax <= vmin then vmin, vmax = vmin - 0.5, vmax + 0.5 end
  local ext = opts.extent or { 0.5, nx + 0.5, 0.5, ny + 0.5 }
  return add(self, { kind = "heatmap", rows = rows, nx = nx, ny = ny, cmap = cmap,
    vmin = vmin, vmax = vmax, colorbar = opts.colorbar ~= false, clabel = opts.label,
    extent = ext, origin = origin, default_extent = opts.extent == nil })
end
doc(Panel.heatmap, "panel:heatmap(z [, {cmap=\"viridis\"|\"magma\"|\"coolwarm\"|"
  .. "\"gray\", vmin=, vmax=, colorbar=true, label=, extent={x0, x1, y0, y1}, "
  .. "origin=\"upper\"|\"lower\"}])\n\nA field on a lattice (a 2-d tensor or a "
  .. "table of rows) as coloured cells, with a colour bar (label: its title).  "
  .. "Row 1 is at the top (origin=\"upper\", as a matrix is printed) or at the "
  .. "bottom (\"lower\", y pointing up).  By default cell (i, j) is centred on "
  .. "x = j, y = i.  NaN cells are grey.  Returns the panel.")

local function refline(p, kind, v, opts)
  local who = "plot." .. kind
  if type(v) ~= "number" then E.raise("%s: the value must be a number, got %s", who, E.show(v)) end
  local st = style(p, who, opts, { dash = true, width = true })
  if not (opts and opts.color) then p.ncolor = p.ncolor - 1; st.color = "#555555" end
  st.kind, st.value = kind, v
  st.dash = st.dash or "dashed"
  return add(p, st)
end

function Panel:hline(y, opts) return refline(self, "hline", y, opts) end
doc(Panel.hline, "panel:hline(y [, {label=, color=, dash=\"dashed\", width=}])\n\n"
  .. "A horizontal reference line (an exact value, say).  Returns the panel.")
function Panel:vline(x, opts) return refline(self, "vline", x, opts) end
doc(Panel.vline, "panel:vline(x [, {label=, color=, dash=\"dashed\", width=}])\n\n"
  .. "A vertical reference line (a critical temperature, say).  Returns the panel.")

-- the figure forwards drawing to its first panel
for _, name in ipairs { "line", "scatter", "errorbar", "hist", "heatmap", "hline",
                        "vline", "set" } do
  Figure[name] = function(self, ...)
    self:panel(1)[name](self:panel(1), ...)
    return self
  end
end

-- --- axes -------------------------------------------------------------------------------

-- "nice" tick positions for a linear axis over [lo, hi]: steps of 1, 2, 2.5
-- or 5 times a power of ten, about 5 of them
local function linear_ticks(lo, hi, integer)
  local span = hi - lo
  local raw = span / 5
  local p = 10 ^ floor(log10(raw))
  local step
  for _, m in ipairs { 1, 2, 2.5, 5, 10 } do
    if m * p >= raw and not (integer and (m == 2.5 and p < 10 or m * p < 1)) then
      step = m * p
      break
    end
  end
  step = step or 1
  local ticks = {}
  local k0 = ceil(lo / step - 1e-9)
  for k = k0, floor(hi / step + 1e-9) do
    local t = k * step
    if math.abs(t) < step * 1e-9 then t = 0 end
    ticks[#ticks + 1] = t
  end
  return ticks, step
end

local function tick_label(t, step)
  local a = math.abs(t)
  if a ~= 0 and (a >= 1e5 or a < 1e-3) then
    local s = fmt("%.3g", t)
    local m, e = s:match("^(.-)e([-+]%d+)$")
    if m then return fmt("%s×10^{%d}", m, tonumber(e)), true end
    return s
  end
  local d = math.max(0, -floor(log10(step) + 1e-9))
  if step * 10 ^ d ~= floor(step * 10 ^ d) then d = d + 1 end
  local s = fmt("%." .. d .. "f", t)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return (s:gsub("^%-", "−"))
end

local function log_ticks(lo, hi)
  local a, b = floor(log10(lo) + 1e-9), ceil(log10(hi) - 1e-9)
  local major, minor = {}, {}
  local every = math.max(1, ceil((b - a) / 8))
  for k = a, b do
    local v = 10.0 ^ k
    if v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) and (k - a) % every == 0 then
      major[#major + 1] = v
    end
    if b - a <= 6 then
      for m = 2, 9 do
        local w = m * v
        if w >= lo and w <= hi then minor[#minor + 1] = w end
      end
    end
  end
  return major, minor
end

-- the data range of an axis ("x" or "y") over a panel's series
local function data_range(p, axis, logscale)
  local lo, hi = huge, -huge
  local tight = false
  local function see(v)
    if finite(v) and (not logscale or v > 0) then
      if v < lo then lo = v end
      if v > hi then hi = v end
    end
  end
  for _, s in ipairs(p.series) do
    if s.kind == "line" or s.kind == "scatter" or s.kind == "errorbar" then
      for i, v in ipairs(s[axis]) do
        if axis == "y" and s.kind == "errorbar" then
          see(v - s.lo[i]); see(v + s.hi[i])
        else see(v) end
      end
    elseif s.kind == "hist" then
      if axis == "x" then see(s.edges[1]); see(s.edges[#s.edges]); tight = true
      else
        for _, c in ipairs(s.counts) do see(c) end
        if not logscale then see(0) end
      end
    elseif s.kind == "heatmap" then
      local e = s.extent
      if axis == "x" then see(e[1]); see(e[2]) else see(e[3]); see(e[4]) end
      tight = true
    elseif (s.kind == "hline" and axis == "y") or (s.kind == "vline" and axis == "x") then
      see(s.value)
    end
  end
  return lo, hi, tight
end

local function axis_plan(p, axis)
  local logscale = p.opts[axis .. "scale"] == "log"
  local lim = p.opts[axis .. "lim"]
  local lo, hi, tight = data_range(p, axis, logscale)
  if lim then lo, hi = lim[1], lim[2] end
  if lo == huge then
    if logscale and next(p.series) then
      E.raise("plot: the %s axis is logarithmic, but no %s value is positive", axis, axis)
    end
    lo, hi = logscale and 1 or 0, logscale and 10 or 1
  end
  if hi <= lo then
    local d = lo ~= 0 and math.abs(lo) * 0.1 or 0.5
    if logscale then lo, hi = lo / 2, hi * 2 else lo, hi = lo - d, hi + d end
  end
  if not lim and not tight then   -- a 4% margin around the data
    if logscale then
      local r = (log10(hi) - log10(lo)) * 0.04
      lo, hi = 10 ^ (log10(lo) - r), 10 ^ (log10(hi) + r)
    else
      local m = (hi - lo) * 0.04
      local lo0 = lo
      lo, hi = lo - m, hi + m
      if lo0 == 0 and p.series[1] and p.series[1].kind == "hist" and axis == "y" then lo = 0 end
    end
  end
  -- a lattice's rows and columns are counted: whole-number ticks
  local integer = false
  for _, s in ipairs(p.series) do
    if s.kind == "heatmap" and s.default_extent then integer = true end
  end
  local plan = { log = logscale, lo = lo, hi = hi }
  if logscale then
    plan.ticks, plan.minor = log_ticks(lo, hi)
    plan.labels = {}
    for i, t in ipairs(plan.ticks) do plan.labels[i] = fmt("$10^{%d}$", floor(log10(t) + 0.5)) end
    if #plan.ticks < 3 then   -- under two decades: label 1, 2 and 5 times 10^k
      local ticks, labels, minor = {}, {}, {}
      for k = floor(log10(lo)), ceil(log10(hi)) do
        for m = 1, 9 do
          local v = m * 10.0 ^ k
          if v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) then
            if m == 1 or m == 2 or m == 5 then
              ticks[#ticks + 1], labels[#labels + 1] = v, (fmt("%g", v):gsub("^%-", "−"))
            else
              minor[#minor + 1] = v
            end
          end
        end
      end
      if #ticks >= 2 then plan.ticks, plan.labels, plan.minor = ticks, labels, minor end
    end
  else
    local step
    plan.ticks, step = linear_ticks(lo, hi, integer)
    plan.minor = {}
    plan.labels = {}
    for i, t in ipairs(plan.ticks) do
      local s, math_ = tick_label(t, step)
      plan.labels[i] = math_ and "$" .. s .. "$" or s
    end
  end
  return plan
end

local function scaler(plan, a, b)
  if plan.log then
    local l0, l1 = log10(plan.lo), log10(plan.hi)
    return function(v)
      if not (v > 0) then return nil end
      return a + (log10(v) - l0) / (l1 - l0) * (b - a)
    end
  end
  return function(v)
    if not finite(v) then return nil end
    return a + (v - plan.lo) / (plan.hi - plan.lo) * (b - a)
  end
end

-- --- drawing ----------------------------------------------------------------------------

local el, num = S.el, S.num

local function marker(out, kind, x, y, r, color)
  if kind == "o" then
    out[#out + 1] = el("circle", { "cx", x, "cy", y, "r", r, "fill", color })
  elseif kind == "s" then
    out[#out + 1] = el("rect", { "x", x - r, "y", y - r, "width", 2 * r, "height", 2 * r, "fill", color })
  elseif kind == "^" or kind == "v" then
    local s = kind == "^" and 1 or -1
    out[#out + 1] = el("polygon", { "points", fmt("%s,%s %s,%s %s,%s", num(x), num(y - s * 1.2 * r),
      num(x - 1.1 * r), num(y + s * 0.8 * r), num(x + 1.1 * r), num(y + s * 0.8 * r)), "fill", color })
  elseif kind == "d" then
    out[#out + 1] = el("polygon", { "points", fmt("%s,%s %s,%s %s,%s %s,%s", num(x), num(y - 1.3 * r),
      num(x + r), num(y), num(x), num(y + 1.3 * r), num(x - r), num(y)), "fill", color })
  else
    local d = kind == "x" and fmt("M%s %sL%s %sM%s %sL%s %s", num(x - r), num(y - r), num(x + r),
      num(y + r), num(x - r), num(y + r), num(x + r), num(y - r))
      or fmt("M%s %sL%s %sM%s %sL%s %s", num(x - r), num(y), num(x + r), num(y), num(x),
             num(y - r), num(x), num(y + r))
    out[#out + 1] = el("path", { "d", d, "stroke", color, "stroke-width", 1.5, "fill", "none" })
  end
end

local function polyline(out, s, fx, fy)
  local seg = {}
  local function flush()
    if #seg >= 2 then
      out[#out + 1] = el("polyline", { "points", concat(seg, " "), "fill", "none",
        "stroke", s.color, "stroke-width", s.width or 1.6, "stroke-linejoin", "round",
        "stroke-linecap", "round", "stroke-dasharray", DASHES[s.dash or "solid"] or nil })
    end
    seg = {}
  end
  for i = 1, #s.x do
    local px, py = fx(s.x[i]), fy(s.y[i])
    if px and py then seg[#seg + 1] = num(px) .. "," .. num(py) else flush() end
  end
  flush()
  if s.marker then
    for i = 1, #s.x do
      local px, py = fx(s.x[i]), fy(s.y[i])
      if px and py then marker(out, s.marker, px, py, 3, s.color) end
    end
  end
end

local function heatmap_image(out, s, fx, fy)
  -- each cell k x k pixels, the image about 256 pixels across (at most 32x)
  local k = math.max(1, math.min(32, 256 // math.max(s.nx, s.ny)))
  local rgb = {}
  for i = 1, s.ny do
    local src = s.rows[s.origin == "upper" and i or s.ny + 1 - i]
    local line = {}
    for j = 1, s.nx do
      local v = src[j]
      local px
      if v ~= v then px = "\200\200\200"
      else
        local r, g, b = S.cmap(s.cmap, (v - s.vmin) / (s.vmax - s.vmin))
        px = string.char(r, g, b)
      end
      line[j] = px:rep(k)
    end
    local row = concat(line)
    for r = 1, k do rgb[(i - 1) * k + r] = row end
  end
  local png = S.png(s.nx * k, s.ny * k, rgb)
  local x0, x1 = fx(s.extent[1]), fx(s.extent[2])
  local ytop = s.origin == "upper" and s.extent[3] or s.extent[4]
  local ybot = s.origin == "upper" and s.extent[4] or s.extent[3]
  -- "upper": row 1 at the top, so the axis runs downwards
  local y0, y1 = fy(ytop), fy(ybot)
  out[#out + 1] = el("image", { "x", math.min(x0, x1), "y", math.min(y0, y1),
    "width", math.abs(x1 - x0), "height", math.abs(y1 - y0),
    "preserveAspectRatio", "none", "image-rendering", "pixelated",
    "href", "data:image/png;base64," .. S.base64(png) })
end

local function text(out, x, y, s, attrs)
  local body = S.label(s)
  local a = { "x", x, "y", y }
  for i = 1, #(attrs or {}) do a[#a + 1] = attrs[i] end
  out[#out + 1] = el("text", a, body)
end

local function label_width(s, size)
  local _, w = S.label(s)
  return w * (size or 12)
end

-- legend entries, and where the box goes
local function legend(out, p, box, fx, fy)
  local entries = {}
  for _, s in ipairs(p.series) do
    if s.label and s.kind ~= "heatmap" then entries[#entries + 1] = s end
  end
  if #entries == 0 or p.opts.legend == false then return end
  local w = 0
  for _, s in ipairs(entries) do w = math.max(w, label_width(s.label, 11)) end
  local bw, bh = w + 40, #entries * 17 + 8
  local corners = {
    ["upper right"] = { box.r - bw - 8, box.t + 8 }, ["upper left"] = { box.l + 8, box.t + 8 },
    ["lower left"] = { box.l + 8, box.b - bh - 8 }, ["lower right"] = { box.r - bw - 8, box.b - bh - 8 },
  }
  local place = p.opts.legend or "best"
  if place == "best" then   -- the corner that covers the fewest points
    local best, fewest = "upper right", huge
    for _, name in ipairs { "upper right", "upper left", "lower left", "lower right" } do
      local c, n = corners[name], 0
      for _, s in ipairs(p.series) do
        if s.x then
          for i = 1, #s.x do
            local px, py = fx(s.x[i]), fy(s.y[i])
            if px and py and px >= c[1] and px <= c[1] + bw and py >= c[2] and py <= c[2] + bh then
              n = n + 1
            end
          end
        end
      end
      if n < fewest then best, fewest = name, n end
    end
    place = best
  end
  local x, y = corners[place][1], corners[place][2]
  out[#out + 1] = el("rect", { "x", x, "y", y, "width", bw, "height", bh, "rx", 3,
    "fill", "#ffffff", "fill-opacity", 0.88, "stroke", "#c8c8c8" })
  for i, s in ipairs(entries) do
    local cy = y + 4 + (i - 0.5) * 17
    if s.kind == "hist" then
      out[#out + 1] = el("rect", { "x", x + 8, "y", cy - 5, "width", 20, "height", 10,
        "fill", s.color, "fill-opacity", 0.7 })
    elseif s.kind == "scatter" or (s.kind == "errorbar" and s.marker) then
      if s.kind == "errorbar" then
        out[#out + 1] = el("line", { "x1", x + 18, "y1", cy - 6, "x2", x + 18, "y2", cy + 6,
          "stroke", s.color, "stroke-width", 1.2 })
      end
      marker(out, s.marker, x + 18, cy, 3.5, s.color)
    else
      out[#out + 1] = el("line", { "x1", x + 6, "y1", cy, "x2", x + 30, "y2", cy,
        "stroke", s.color, "stroke-width", s.width or 1.8,
        "stroke-dasharray", DASHES[s.dash or "solid"] or nil })
      if s.marker then marker(out, s.marker, x + 18, cy, 3, s.color) end
    end
    text(out, x + 36, cy + 4, s.label, { "font-size", 11 })
  end
end

local function colorbar(out, s, box, id)
  local x, w = box.r + 16, 14
  local stops = {}
  local n = s.cmap == "gray" and 2 or 9
  for k = 0, n - 1 do
    local r, g, b = S.cmap(s.cmap, k / (n - 1))
    stops[#stops + 1] = el("stop", { "offset", fmt("%.4f", k / (n - 1)),
      "stop-color", fmt("#%02x%02x%02x", r, g, b) })
  end
  out[#out + 1] = el("defs", {}, el("linearGradient", { "id", id, "x1", 0, "y1", 1, "x2", 0, "y2", 0 },
                                    concat(stops)))
  out[#out + 1] = el("rect", { "x", x, "y", box.t, "width", w, "height", box.b - box.t,
    "fill", "url(#" .. id .. ")", "stroke", "#333333", "stroke-width", 0.8 })
  local plan = { lo = s.vmin, hi = s.vmax }
  local ticks, step = linear_ticks(s.vmin, s.vmax)
  local fy = scaler(plan, box.b, box.t)
  for _, t in ipairs(ticks) do
    local y = fy(t)
    out[#out + 1] = el("line", { "x1", x + w, "y1", y, "x2", x + w + 4, "y2", y,
      "stroke", "#333333", "stroke-width", 0.8 })
    local lab, m = tick_label(t, step)
    text(out, x + w + 7, y + 4, m and "$" .. lab .. "$" or lab, { "font-size", 11 })
  end
  if s.clabel then
    local cx, cy = x + w + 52, (box.t + box.b) / 2
    text(out, cx, cy, s.clabel, { "text-anchor", "middle",
      "transform", fmt("rotate(-90 %s %s)", num(cx), num(cy)) })
  end
end

local function draw_panel(out, p, px, py, pw, ph, id)
  local xp, yp = axis_plan(p, "x"), axis_plan(p, "y")
  local heat
  for _, s in ipairs(p.series) do
    if s.kind == "heatmap" then heat = s end
  end
  if heat and heat.origin == "upper" and not p.opts.ylim then
    yp.flip = true     -- row 1 on top: y grows downwards
  end
  local ylw = 0
  for _, l in ipairs(yp.labels) do ylw = math.max(ylw, label_width(l, 11)) end
  local box = {}
  box.l = px + 14 + ylw + (p.opts.ylabel and 22 or 0)
  box.r = px + pw - 14 - ((heat and heat.colorbar) and (heat.clabel and 86 or 66) or 0)
  box.t = py + (p.opts.title and 30 or 12)
  box.b = py + ph - 28 - (p.opts.xlabel and 20 or 0)
  local aspect = p.opts.aspect or (heat and "equal" or "auto")
  if aspect == "equal" and not xp.log and not yp.log then   -- shrink one side
    local sx = (box.r - box.l) / (xp.hi - xp.lo)
    local sy = (box.b - box.t) / (yp.hi - yp.lo)
    if sx > sy then
      local half, mid = sy * (xp.hi - xp.lo) / 2, (box.l + box.r) / 2
      box.l, box.r = mid - half, mid + half
    else
      local half, mid = sx * (yp.hi - yp.lo) / 2, (box.t + box.b) / 2
      box.t, box.b = mid - half, mid + half
    end
  end
  local fx = scaler(xp, box.l, box.r)
  local fy = yp.flip and scaler(yp, box.t, box.b) or scaler(yp, box.b, box.t)
  -- grid
  if p.opts.grid ~= false and not heat then
    local g = {}
    for _, t in ipairs(xp.ticks) do
      local x = fx(t)
      g[#g + 1] = el("line", { "x1", x, "y1", box.t, "x2", x, "y2", box.b })
    end
    for _, t in ipairs(yp.ticks) do
      local y = fy(t)
      g[#g + 1] = el("line", { "x1", box.l, "y1", y, "x2", box.r, "y2", y })
    end
    out[#out + 1] = el("g", { "stroke", "#e6e6e6", "stroke-width", 0.8 }, concat(g))
  end
  -- series, clipped to the box
  out[#out + 1] = el("defs", {}, el("clipPath", { "id", id }, el("rect",
    { "x", box.l, "y", box.t, "width", box.r - box.l, "height", box.b - box.t })))
  local body = {}
  for _, s in ipairs(p.series) do
    if s.kind == "heatmap" then heatmap_image(body, s, fx, fy)
    elseif s.kind == "hist" then
      local base = fy(yp.log and yp.lo or 0) or box.b
      for i = 1, #s.counts do
        local x0, x1, y = fx(s.edges[i]), fx(s.edges[i + 1]), fy(s.counts[i])
        if x0 and x1 and y and s.counts[i] > 0 then
          body[#body + 1] = el("rect", { "x", x0, "y", math.min(y, base), "width", x1 - x0,
            "height", math.abs(base - y), "fill", s.color, "fill-opacity", 0.7,
            "stroke", "#ffffff", "stroke-width", 0.5 })
        end
      end
    elseif s.kind == "line" then polyline(body, s, fx, fy)
    elseif s.kind == "scatter" then
      for i = 1, #s.x do
        local x, y = fx(s.x[i]), fy(s.y[i])
        if x and y then marker(body, s.marker, x, y, s.size or 3, s.color) end
      end
    elseif s.kind == "errorbar" then
      for i = 1, #s.x do
        local x, y = fx(s.x[i]), fy(s.y[i])
        local ylo, yhi = fy(s.y[i] - s.lo[i]), fy(s.y[i] + s.hi[i])
        if x and ylo and yhi then
          body[#body + 1] = el("path", { "d", fmt("M%s %sL%s %sM%s %sL%s %sM%s %sL%s %s",
            num(x), num(ylo), num(x), num(yhi), num(x - 3), num(ylo), num(x + 3), num(ylo),
            num(x - 3), num(yhi), num(x + 3), num(yhi)),
            "stroke", s.color, "stroke-width", s.width or 1.2, "fill", "none" })
        end
        if x and y and s.marker then marker(body, s.marker, x, y, s.size or 3, s.color) end
      end
    elseif s.kind == "hline" or s.kind == "vline" then
      local a = { "stroke", s.color, "stroke-width", s.width or 1.2,
                  "stroke-dasharray", DASHES[s.dash] or nil }
      if s.kind == "hline" then
        local y = fy(s.value)
        if y then body[#body + 1] = el("line", { "x1", box.l, "y1", y, "x2", box.r, "y2", y, table.unpack(a) }) end
      else
        local x = fx(s.value)
        if x then body[#body + 1] = el("line", { "x1", x, "y1", box.t, "x2", x, "y2", box.b, table.unpack(a) }) end
      end
    end
  end
  out[#out + 1] = el("g", { "clip-path", "url(#" .. id .. ")" }, concat(body))
  -- frame, ticks, labels
  out[#out + 1] = el("rect", { "x", box.l, "y", box.t, "width", box.r - box.l,
    "height", box.b - box.t, "fill", "none", "stroke", "#333333", "stroke-width", 1 })
  local ticks = {}
  for _, t in ipairs(xp.minor) do
    local x = fx(t)
    ticks[#ticks + 1] = el("line", { "x1", x, "y1", box.b, "x2", x, "y2", box.b + 3 })
  end
  for _, t in ipairs(yp.minor) do
    local y = fy(t)
    ticks[#ticks + 1] = el("line", { "x1", box.l - 3, "y1", y, "x2", box.l, "y2", y })
  end
  for i, t in ipairs(xp.ticks) do
    local x = fx(t)
    ticks[#ticks + 1] = el("line", { "x1", x, "y1", box.b, "x2", x, "y2", box.b + 5 })
    text(out, x, box.b + 18, xp.labels[i], { "text-anchor", "middle", "font-size", 11 })
  end
  for i, t in ipairs(yp.ticks) do
    local y = fy(t)
    ticks[#ticks + 1] = el("line", { "x1", box.l - 5, "y1", y, "x2", box.l, "y2", y })
    text(out, box.l - 8, y + 4, yp.labels[i], { "text-anchor", "end", "font-size", 11 })
  end
  out[#out + 1] = el("g", { "stroke", "#333333", "stroke-width", 1 }, concat(ticks))
  if p.opts.xlabel then
    text(out, (box.l + box.r) / 2, box.b + 40, p.opts.xlabel, { "text-anchor", "middle" })
  end
  if p.opts.ylabel then
    local x, y = px + 16, (box.t + box.b) / 2
    text(out, x, y, p.opts.ylabel, { "text-anchor", "middle",
      "transform", fmt("rotate(-90 %s %s)", num(x), num(y)) })
  end
  if p.opts.title then
    text(out, (box.l + box.r) / 2, py + 20, p.opts.title,
         { "text-anchor", "middle", "font-size", 13, "font-weight", "bold" })
  end
  if heat and heat.colorbar then colorbar(out, heat, box, id .. "g") end
  legend(out, p, box, fx, fy)
end

function Figure:svg()
  local W, H = self.width, self.height
  local out = {}
  local top = self.title and 32 or 0
  if self.title then
    text(out, W / 2, 22, self.title, { "text-anchor", "middle", "font-size", 16, "font-weight", "bold" })
  end
  local cw, ch = W / self.cols, (H - top) / self.rows
  for i = 1, self.rows * self.cols do
    local p = self.panels[i]
    if p then
      local r, c = (i - 1) // self.cols, (i - 1) % self.cols
      draw_panel(out, p, c * cw, top + r * ch, cw, ch, "p" .. i)
    end
  end
  local head = fmt('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%s" '
    .. 'height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="12" role="img"%s>',
    num(W), num(H), num(W), num(H), FONT,
    self.title and fmt(' aria-label="%s"', S.label(self.title):gsub("<[^>]*>", "")) or "")
  return head .. "\n" .. el("rect", { "width", W, "height", H, "fill", "#ffffff" }) .. "\n"
    .. concat(out, "\n") .. "\n</svg>\n"
end
doc(Figure.svg, "fig:svg()\n\nThe figure as an SVG document (a string): the same "
  .. "figure always gives the same bytes.")

M._axis_plan, M._scaler = axis_plan, scaler

-- --- output --------------------------------------------------------------------------

function Figure:preview(width, height)
  return require("hebb._plot_text").render(self, width, height)
end
doc(Figure.preview, "fig:preview([width=72 [, height=18]])\n\nA quick text "
  .. "picture of the figure in Unicode braille dots (lines, points, bars) and "
  .. "shades (heatmaps), with the axis ranges: what plot.show draws on a "
  .. "terminal and the REPL prints for a figure.")
Figure.__tostring = function(self) return self:preview() end
Figure.__name = "hebb.plot.Figure"

function M.show(fig)
  if getmetatable(fig) ~= Figure then
    E.raise("plot.show: expected a figure (plot.figure), got %s", E.show(fig))
  end
  if display.sink then
    display.sink { kind = "figure", svg = fig:svg(), title = fig.title }
  elseif require("hebb._data").isatty(1) then
    io.write(fig:preview(), "\n")
  end
  return fig
end
Figure.show = M.show
doc(M.show, "plot.show(fig) or fig:show()\n\nIn a notebook, puts the figure "
  .. "into the current cell's output (inline SVG in the HTML page); in a "
  .. "script or the REPL on a terminal, prints a braille preview; otherwise "
  .. "(output to a pipe or file) nothing.  Returns fig.")

local function find_program(name)
  if not io.popen then return nil end
  local p = io.popen("command -v " .. name .. " 2>/dev/null")
  if not p then return nil end
  local path = p:read("l")
  p:close()
  return path and path ~= "" and path or nil
end

function M.save(fig, path)
  if getmetatable(fig) ~= Figure then
    E.raise("plot.save: expected a figure (plot.figure), got %s", E.show(fig))
  end
  if type(path) ~= "string" then E.raise("plot.save: path must be a string, got %s", E.show(path)) end
  local ext = path:match("%.(%w+)$")
  ext = ext and ext:lower()
  if ext ~= "svg" and ext ~= "png" then
    E.raise("plot.save: the file name must end in .svg or .png, got '%s'", path)
  end
  local svg = fig:svg()
  local target = ext == "svg" and path or path .. ".tmp.svg"
  local f, err = io.open(target, "wb")
  if not f then E.raise("plot.save: cannot write %s", err) end
  f:write(svg)
  f:close()
  if ext == "png" then
    local conv = find_program("rsvg-convert")
    if not conv then
      os.remove(target)
      E.raise("plot.save: writing PNG needs rsvg-convert (Debian package "
              .. "librsvg2-bin), which is not installed%s; save as .svg",
              io.popen and "" or " or not allowed here")
    end
    local q = function(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
    local ok = os.execute(q(conv) .. " -f png -o " .. q(path) .. " " .. q(target))
    os.remove(target)
    if not ok then E.raise("plot.save: rsvg-convert failed to write %s", path) end
  end
  return path
end
Figure.save = M.save
doc(M.save, "plot.save(fig, path) or fig:save(path)\n\nWrites the figure to "
  .. "path: .svg always; .png through rsvg-convert (Debian package "
  .. "librsvg2-bin) when it is installed, else an error that says so.  "
  .. "Returns path.")

-- --- one-call figures ----------------------------------------------------------------

local function quick(kind, nargs)
  return function(...)
    local args = { ... }
    local opts = args[nargs + 1] or {}
    local fopts, popts, sopts = {}, {}, {}
    for k, v in pairs(opts) do
      if FIG_OPTS[k] and k ~= "title" then fopts[k] = v
      elseif PANEL_OPTS[k] then popts[k] = v
      else sopts[k] = v end
    end
    local fig = M.figure(fopts)
    local p = fig:panel(1)
    if next(popts) then p:set(popts) end
    args[nargs + 1] = next(sopts) and sopts or nil
    p[kind](p, table.unpack(args, 1, nargs + 1))
    return fig
  end
end
M.line = quick("line", 2)
doc(M.line, "plot.line(x, y [, opts])  ->  fig\n\nA new one-panel figure with "
  .. "one line; opts mixes the line's (label, color, ...) the panel's (title, "
  .. "xlabel, xscale, ...) and the figure's (width, height) options.")
M.scatter = quick("scatter", 2)
doc(M.scatter, "plot.scatter(x, y [, opts])  ->  fig\n\nA new one-panel figure "
  .. "with points (options as plot.line).")
M.errorbar = quick("errorbar", 3)
doc(M.errorbar, "plot.errorbar(x, y, err [, opts])  ->  fig\n\nA new one-panel "
  .. "figure with error bars (options as plot.line).")
M.hist = quick("hist", 1)
doc(M.hist, "plot.hist(values [, opts])  ->  fig\n\nA new one-panel figure with "
  .. "a histogram (bins, range, density and the options of plot.line).")
M.heatmap = quick("heatmap", 1)
doc(M.heatmap, "plot.heatmap(z [, opts])  ->  fig\n\nA new one-panel figure with "
  .. "a heatmap (options of panel:heatmap and the panel's).")

return M
