-- test_plot.lua -- hebb.plot: deterministic SVG for every kind of series,
-- the SVG allowlist (what notebooks accept as a figure), ticks, histogram
-- counts, the PNG encoder (decoded by python3's zlib), LaTeX-ish labels,
-- errors naming the call, the braille preview, plot.save and plot.show.
local check = require "check"
local T = require "hebb.tensor"
local plot = require "hebb.plot"
local S = require "hebb._plot_svg"
local test, eq, truthy, raises, near = check.test, check.eq, check.truthy, check.raises, check.near

local function sample_figure()
  T.manual_seed(5)
  local x = T.linspace(0.1, 5, 40)
  local fig = plot.figure { title = "all $\\alpha$", rows = 2, cols = 2 }
  fig:panel(1):line(x, x:sin(), { label = "sin" }):scatter(x, x:cos(), { label = "cos", marker = "s" })
     :hline(0.5, { label = "ref" }):vline(2):set { xlabel = "$x$", ylabel = "$y_1^2$", title = "t" }
  fig:panel(2):errorbar({ 1, 2, 3 }, { 1, 10, 100 }, { 0.1, 1, 10 }, { label = "e" })
     :set { xscale = "log", yscale = "log" }
  fig:panel(3):hist(T.randn(500), { bins = 20, label = "h" })
  fig:panel(2, 2):heatmap(T.randn(6, 8), { cmap = "magma", label = "$\\phi$" })
  return fig
end

test("svg_is_deterministic", function()
  local a, b = sample_figure():svg(), sample_figure():svg()
  eq(a == b, true, "same figure, same bytes")
  truthy(a:sub(1, 4) == "<svg", "an svg document")
  truthy(not a:find("nan", 1, true) and not a:find("inf", 1, true), "no nan/inf coordinates")
end)

test("svg_passes_the_allowlist", function()
  local ok, why = S.check(sample_figure():svg())
  truthy(ok, why)
end)

test("allowlist_refuses_script_and_links", function()
  local bad = {
    ['<svg><script>alert(1)</script></svg>'] = "element <script>",
    ['<svg onload="alert(1)"></svg>'] = "bad attribute onload",
    ['<svg><foreignObject></foreignObject></svg>'] = "element <foreignObject>",
    ['<svg><image href="http://x.org/a.png"/></svg>'] = "a link to http://x.org/a.png",
    ['<svg><image href="javascript:alert(1)"/></svg>'] = "a link to javascript:alert(1)",
    ['<svg><rect fill="url(http://x/y)"/></svg>'] = "a url() outside the figure",
    ['<svg><!-- x --></svg>'] = "declarations, comments or CDATA",
    ['<!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>'] = "declarations, comments or CDATA",
    ['<svg>&nbsp;</svg>'] = "an entity other than &amp; &lt; &gt; &quot;",
    ["<svg><rect x='1'/></svg>"] = "cannot read attributes",
    ['<svg>< script></svg>'] = "a '<' that opens no element",
    ['<svg><a href="#x"></a></svg>'] = "element <a>",
  }
  for svg, want in pairs(bad) do
    local ok, why = S.check(svg)
    eq(ok, nil, svg)
    truthy(why:find(want, 1, true), svg .. " -> " .. tostring(why))
  end
end)

test("linear_and_log_ticks", function()
  local p = plot.figure():panel(1):line({ 0, 1 }, { 0, 7.3 })
  local yp = plot._axis_plan(p, "y")
  eq(table.concat(yp.labels, " "), "0 2 4 6")
  p:set { ylim = { -0.05, 0.15 } }
  eq(table.concat(plot._axis_plan(p, "y").labels, " "), "−0.05 0.00 0.05 0.10 0.15")
  p:set { ylim = { 1e-3, 1e2 }, yscale = "log" }
  yp = plot._axis_plan(p, "y")
  eq(table.concat(yp.labels, " "), "$10^{-3}$ $10^{-2}$ $10^{-1}$ $10^{0}$ $10^{1}$ $10^{2}$")
  eq(#yp.minor, 5 * 8)
end)

test("histogram_counts", function()
  local edges, counts = plot.histogram({ 0, 0.1, 0.5, 0.99, 1, 2 }, { bins = 2, range = { 0, 2 } })
  eq(table.concat(edges, " "), "0.0 1.0 2.0")
  eq(table.concat(counts, " "), "4 2")
  T.manual_seed(2)
  local e, d = plot.histogram(T.randn(1000), { bins = 25, density = true })
  local area = 0
  for i = 1, #d do area = area + d[i] * (e[i + 1] - e[i]) end
  near(area, 1, 1e-12, "density integrates to 1")
end)

test("labels_math", function()
  local s = S.label("E / $N$ at $\\beta_c^{2}$")
  eq(s, 'E / <tspan font-style="italic">N</tspan> at β<tspan baseline-shift="sub" '
    .. 'font-size="75%">c</tspan><tspan baseline-shift="super" font-size="75%">2</tspan>')
  eq(S.label("<b>&"), "&lt;b&gt;&amp;")
end)

test("png_decodes", function()
  local rows = { "\255\0\0\0\255\0", "\0\0\255\10\20\30" }
  local png = S.png(2, 2, rows)
  eq(png:sub(1, 8), "\137PNG\r\n\26\n")
  local path = os.tmpname()
  local f = assert(io.open(path, "wb")); f:write(png); f:close()
  local py = io.popen("/usr/bin/python3 -c \"import zlib,struct,sys\n"
    .. "d=open('" .. path .. "','rb').read()\n"
    .. "i=d.index(b'IDAT'); n=struct.unpack('>I',d[i-4:i])[0]\n"
    .. "raw=zlib.decompress(d[i+4:i+4+n]); print(raw.hex())\"")
  local hex = py:read("a")
  py:close()
  os.remove(path)
  eq(hex, "00ff000000ff00000000ff0a141e\n")
end)

test("deflate_roundtrips_through_zlib", function()
  -- rows that repeat (an enlarged heatmap), runs, and bytes that do not
  local parts = {}
  for r = 1, 40 do
    parts[#parts + 1] = "\0" .. ("\1\2\3"):rep(50) .. string.char(r % 256, (r * 7) % 256)
  end
  for i = 1, 3000 do parts[#parts + 1] = string.char((i * i * 31 + i) % 251) end
  local data = table.concat(parts)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(S.deflate(data, 153))
  f:close()
  local py = io.popen("/usr/bin/python3 -c \"import zlib,hashlib\n"
    .. "d=zlib.decompress(open('" .. path .. "','rb').read(), -15)\n"
    .. "print(len(d), hashlib.sha256(d).hexdigest())\"")
  local got = py:read("a")
  py:close()
  os.remove(path)
  eq(got, #data .. " " .. require("hebb._notebook").sha256(data) .. "\n")
end)

test("errors_name_the_call", function()
  raises(function() plot.line({ 1, 2 }, { 1 }) end, "plot.line: x has 2 values and y has 1")
  raises(function() plot.figure { widht = 3 } end, "plot.figure: unknown option \"widht\" (did you mean 'width'?)")
  raises(function() plot.figure():line({ 1 }, { 1 }, { dash = "wavy" }) end, "plot.line: dash must be")
  raises(function() plot.heatmap(T.zeros(3)) end, "plot.heatmap: the field must be 2-d, got shape {3}")
  raises(function() plot.figure():panel(5) end, "plot: the figure has 1 x 1 panels; there is no panel 5")
  raises(function() plot.line({ -1, 0 }, { 1, 2 }, { xscale = "log" }):svg() end,
         "plot: the x axis is logarithmic, but no x value is positive")
  raises(function() plot.scatter({ 1, "a" }, { 1, 2 }) end, "plot.scatter: x[2] is \"a\", not a number")
  raises(function() plot.line({ 1 }, { 1 }, { color = "red\" onload=\"x" }) end, "plot: color must be")
  raises(function() plot.save(plot.line({ 1 }, { 2 }), "/tmp/x.pdf") end, "must end in .svg or .png")
end)

test("preview_is_braille", function()
  local fig = plot.line(T.linspace(0, 1, 20), T.linspace(0, 1, 20):square(), { title = "sq" })
  local s = fig:preview(40, 8)
  truthy(s:find("\u{2800}", 1, true) or s:find("[\u{2801}-\u{28FF}]"), "braille dots")
  eq(tostring(fig), fig:preview())
  local lines = 0
  for _ in s:gmatch("[^\n]+") do lines = lines + 1 end
  eq(lines, 1 + 8 + 2)
end)

test("save_svg_and_png", function()
  local fig = sample_figure()
  local path = os.tmpname() .. ".svg"
  plot.save(fig, path)
  local f = assert(io.open(path, "rb"))
  eq(f:read("a") == fig:svg(), true, "the file holds fig:svg()")
  f:close()
  os.remove(path)
  local has = io.popen("command -v rsvg-convert"):read("a") ~= ""
  local png = os.tmpname() .. ".png"
  if has then
    plot.save(fig, png)
    local g = assert(io.open(png, "rb"))
    eq(g:read(8), "\137PNG\r\n\26\n")
    g:close()
    os.remove(png)
  else
    raises(function() plot.save(fig, png) end, "needs rsvg-convert (Debian package librsvg2-bin)")
  end
end)

test("show_goes_to_the_notebook", function()
  local display = require "hebb._display"
  local got
  display.sink = function(item) got = item end
  plot.line({ 1, 2 }, { 3, 4 }):show()
  display.sink = nil
  eq(got.kind, "figure")
  truthy(S.check(got.svg), "a valid figure")
  raises(function() plot.show({}) end, "plot.show: expected a figure")
end)

check.done()
