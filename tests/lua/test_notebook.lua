-- test_notebook.lua -- hebb.notebook: the parser (markers, titles, options,
-- markdown forms, malformed notebooks), the runner (one chunk, locals across
-- cells, file line numbers in messages and tracebacks, per-cell capture of
-- print/io.write/warn/errors/figures, error=continue, eval=false,
-- timeouts, os.exit, files read), script-run equivalence, the manifest and
-- compare(), and the renders' escaping.
local check = require "check"
local nbm = require "hebb.notebook"
local test, eq, truthy, raises = check.test, check.eq, check.truthy, check.raises

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local function write(name, text)
  local f = assert(io.open(tmp .. "/" .. name, "wb"))
  f:write(text)
  f:close()
  return tmp .. "/" .. name
end

local function kinds(nb)
  local t = {}
  for _, c in ipairs(nb.cells) do t[#t + 1] = c.kind end
  return table.concat(t, " ")
end

-- --- parser --------------------------------------------------------------------

test("parse_markers_titles_options", function()
  local nb = nbm.parse(table.concat({
    "-- %% [markdown]",
    "-- # Title",
    "--",
    "-- text $x^2$",
    "-- %% First cell [echo=false, timeout=2.5]",
    "local x = 1",
    "",
    "-- %% [error=continue] [eval=false]",
    "print(x)",
    "-- %%   Spaced   title  ",
    "x = 2",
  }, "\n"), "t.lua")
  eq(kinds(nb), "markdown code code code")
  eq(nb.cells[1].text, "# Title\n\ntext $x^2$")
  eq(nb.cells[2].title, "First cell")
  eq(nb.cells[2].opts.echo, false)
  eq(nb.cells[2].opts.timeout, 2.5)
  eq(nb.cells[2].code, "local x = 1")
  eq(nb.cells[2].marker, 5)
  eq(nb.cells[2].first, 6)
  eq(nb.cells[3].title, nil)
  eq(nb.cells[3].opts.error, "continue")
  eq(nb.cells[3].opts.eval, false)
  eq(nb.cells[4].title, "Spaced   title")
end)

test("parse_preamble_and_quoted_option", function()
  local nb = nbm.parse('#!/usr/bin/env hebb\nlocal a = 1\n-- %% t [error="continue"]\nprint(a)\n', "p.lua")
  eq(kinds(nb), "code code")
  eq(nb.cells[1].marker, nil)
  eq(nb.cells[1].code, "#!/usr/bin/env hebb\nlocal a = 1")
  eq(nb.cells[2].opts.error, "continue")
  -- blank lines before the first marker make no cell
  eq(kinds(nbm.parse("\n\n-- %%\nx = 1\n", "b.lua")), "code")
end)

test("parse_markdown_long_comments", function()
  local nb = nbm.parse(table.concat({
    "-- %% [markdown]",
    "--[[",
    "# Heading",
    "",
    "Text with -- dashes.",
    "]]",
    "-- %% [md]",
    "--[==[ one line ]] inside ]==]",
    "-- %%",
    "x = 1",
  }, "\n"), "m.lua")
  eq(kinds(nb), "markdown markdown code")
  eq(nb.cells[1].text, "# Heading\n\nText with -- dashes.")
  eq(nb.cells[2].text, " one line ]] inside ")
end)

test("parse_marker_inside_long_string_is_text", function()
  local nb = nbm.parse(table.concat({
    "-- %%",
    "local s = [[",
    "-- %% not a marker",
    "]]",
    "--[==[",
    "-- %% nor this",
    "]==]",
    "local q = 'a\\",
    "-- %% nor this (an escaped newline in a string)'",
    "-- %%",
    "print(s)",
  }, "\n"), "s.lua")
  eq(kinds(nb), "code code")
  eq(nb.cells[2].marker, 10)
end)

test("parse_meta", function()
  local nb = nbm.parse("-- %% [meta]\n-- title: Ising\n-- seed: 42\n"
    .. "-- requires: hebb.tensor, hebb.nn\n-- %%\nx = 1\n", "meta.lua")
  eq(nb.meta.title, "Ising")
  eq(nb.meta.seed, 42)
  eq(#nb.meta.requires, 2)
  eq(nb.meta.requires[2], "hebb.nn")
end)

test("parse_errors_are_clear", function()
  local function bad(src, msg) raises(function() nbm.parse(src, "bad.lua") end, msg, msg) end
  bad("-- %% [ech=false]\nx=1", "bad.lua:1: unknown cell option 'ech' (did you mean 'echo'?)")
  bad("-- %% [echo=maybe]\nx=1", "bad.lua:1: option echo must be true or false, got 'maybe'")
  bad("-- %% [timeout=-1]\nx=1", "bad.lua:1: option timeout must be a positive number of seconds")
  bad("-- %% [error=contnue]\nx=1", "option error must be one of stop, continue; got 'contnue' (did you mean 'continue'?)")
  bad("-- %% [markdwn]\n-- x", "bad.lua:1: unknown cell type [markdwn] (did you mean 'markdown'?)")
  bad("-- %% [markdown] [echo=false]\n-- x", "bad.lua:1: options are for code cells")
  bad("-- %% [echo=false\nx=1", "bad.lua:1: cell marker: '[' without ']'")
  bad("-- %% [echo=false] title\nx=1", "unexpected 'title' after ']'")
  bad("-- %% [markdown]\n-- text\nx = 1\n", "bad.lua:3: a markdown cell holds only comment lines")
  bad("-- %% [markdown]\n--[[ never closed\n-- %%\nx=1\n", "bad.lua:2: unfinished long comment")
  bad("x = 1\nlocal s = [==[\n", "bad.lua:2: unfinished long string")
  bad("x = 1\n-- %% [meta]\n-- seed: pi\n", "bad.lua:3: meta seed must be an integer")
  bad("-- %% [meta]\n-- titel: x\n", "bad.lua:2: unknown meta key 'titel' (did you mean 'title'?)")
  bad("-- %% [meta]\n-- seed: 1\n-- %% [meta]\n-- seed: 2\n", "bad.lua:3: a second [meta] cell (the first is at line 1)")
  bad("-- %% [echo=true, echo=false]\nx=1", "option echo is given twice")
end)

test("parse_binary_junk", function()
  raises(function() nbm.parse("x = 1\ny = 2\0\0\1junk", "j.lua") end,
         "j.lua:2: not a text file (a NUL byte, column 6)")
  raises(function() nbm.parse("x = '\xff\xfe'\n", "u.lua") end, "u.lua:1: not UTF-8 text (byte 0xFF)")
  raises(function() nbm.parse(string.dump(function() end), "c.lua") end,
         "c.lua: a compiled Lua chunk (bytecode), not a notebook")
  raises(function() nbm.parse(42) end, "notebook.parse: src must be a string, got 42")
end)

-- --- runner -----------------------------------------------------------------------

local function run(src, opts, name)
  local path = write(name or "nb.lua", src)
  return nbm.run(path, opts), path
end

local function stdout_of(cell)
  local t = {}
  for _, o in ipairs(cell.outputs) do
    if o.type == "stream" and o.name == "stdout" then t[#t + 1] = o.text end
  end
  return table.concat(t)
end

test("run_locals_flow_and_capture_per_cell", function()
  local res = run(table.concat({
    "-- %% [markdown]",
    "-- # t",
    "-- %%",
    "local x = 20",
    "print('a', x, nil)",
    "-- %%",
    "x = x + 1",
    "io.write('w', 1.5, ' ', 3, '\\n')",
    "io.stdout:write('s\\n')",
    "io.stderr:write('e\\n')",
    "warn('careful')",
    "print(x)",
  }, "\n"))
  eq(res.cells[1].status, "markdown")
  eq(stdout_of(res.cells[2]), "a\t20\tnil\n")
  eq(stdout_of(res.cells[3]), "w1.5 3\ns\n21\n")
  local kinds_ = {}
  for _, o in ipairs(res.cells[3].outputs) do kinds_[#kinds_ + 1] = o.type .. (o.name or "") end
  eq(table.concat(kinds_, ","), "streamstdout,streamstderr,warning,streamstdout")
  eq(res.cells[3].outputs[3].text, "careful\n")
  eq(res.failed, nil)
end)

test("run_error_keeps_file_line_numbers", function()
  local res, path = run(table.concat({
    "-- %%",
    "local function f(t)",
    "  return t.x.y",    -- line 3
    "end",
    "-- %%",
    "print('before')",
    "f({})",             -- line 7
    "-- %%",
    "print('never')",
  }, "\n"))
  eq(res.failed, 2)
  local e = res.cells[2].outputs[2]
  eq(e.type, "error")
  eq(e.message, path .. ":3: attempt to index a nil value (field 'x')")
  truthy(e.traceback:find(path .. ":3: in ", 1, true), "traceback names line 3: " .. e.traceback)
  truthy(e.traceback:find(path .. ":7: in main chunk", 1, true), "traceback names line 7")
  truthy(not e.traceback:find("_notebook_run", 1, true), "no runner frames: " .. e.traceback)
  eq(res.cells[3].status, "not run")
  eq(#res.cells[3].outputs, 0)
end)

test("run_error_continue_and_eval_false", function()
  local res, path = run(table.concat({
    "-- %%",
    "n = 1",
    "-- %% [error=continue]",
    "n = n + 1",
    "error('boom')",        -- line 5
    "-- %% [eval=false]",
    "n = 100",
    "-- %%",
    "print(n)",
  }, "\n"))
  eq(res.failed, nil)
  eq(res.cells[2].status, "error")
  eq(res.cells[2].outputs[1].message, path .. ":5: boom")
  eq(res.cells[3].status, "skipped")
  eq(stdout_of(res.cells[4]), "2\n")
  n = nil
end)

test("run_timeout_stops_a_cell", function()
  local res, path = run("-- %%\nprint('start')\n-- %% [timeout=0.2, error=continue]\n"
    .. "while true do end\n-- %%\nprint('after')\n")
  eq(res.cells[2].status, "error")
  eq(res.cells[2].outputs[1].message, path .. ":3: cell 2 ran longer than its timeout of 0.2 s")
  eq(stdout_of(res.cells[3]), "after\n")
  -- the default timeout of the run, and a loop inside a coroutine
  res = run("-- %%\ncoroutine.wrap(function() while true do end end)()\n", { timeout = 0.2 })
  eq(res.failed, 1)
  truthy(res.cells[1].outputs[1].message:find("ran longer than its timeout of 0.2 s", 1, true),
         res.cells[1].outputs[1].message)
end)

test("run_os_exit_is_captured", function()
  local res = run("-- %%\nprint(1)\nos.exit(3)\n-- %%\nprint(2)\n")
  eq(res.exit, 3)
  eq(res.cells[1].outputs[2].type, "exit")
  eq(res.cells[2].status, "not run")
  eq(res.failed, nil)
end)

test("run_args_and_varargs", function()
  local res = run("-- %%\nprint(arg[0], arg[1], select('#', ...), ...)\n", { args = { "a", "b" } })
  eq(stdout_of(res.cells[1]), tmp .. "/nb.lua\ta\t2\ta\tb\n")
end)

test("run_restores_the_environment", function()
  local p, w, o, ex = print, io.write, io.stdout, os.exit
  run("-- %%\nprint(1)\nerror('x')\n")
  truthy(print == p and io.write == w and io.stdout == o and os.exit == ex, "restored")
end)

test("run_records_files_read", function()
  write("data.txt", "1 2 3\n")
  local res = run(table.concat({
    "-- %%",
    "local f = assert(io.open('" .. tmp .. "/data.txt'))",
    "print(f:read('a'))",
    "f:close()",
    "for l in io.lines('" .. tmp .. "/data.txt') do end",
    "local g = assert(io.open('" .. tmp .. "/out.txt', 'w')); g:write('x'); g:close()",
    "assert(io.open('" .. tmp .. "/out.txt')):close()",
  }, "\n"))
  eq(#res.data, 1)
  eq(res.data[1].path, "data.txt")
  eq(res.data[1].sha256, require("hebb._notebook").sha256("1 2 3\n"))
end)

test("run_records_c_readers", function()
  -- an IDX file of 3 bytes, read by hebb.data's C reader through the guard
  write("v.idx", "\0\0\8\1\0\0\0\3\1\2\3")
  local res = run("-- %%\nlocal d = require 'hebb.data'\nprint(d.read_idx('"
    .. tmp .. "/v.idx'):sum())\n")
  eq(res.failed, nil)
  eq(res.data[1] and res.data[1].path, "v.idx")
end)

test("run_figures_through_the_display_sink", function()
  local res = run("-- %%\nrequire('hebb._display').sink{kind = 'figure', svg = '<svg/>', title = 'f'}\n"
    .. "require('hebb._display').sink{kind = 'figure', svg = '<svg><script>alert(1)</script></svg>'}\n")
  eq(res.cells[1].outputs[1].type, "figure")
  eq(res.cells[1].outputs[1].title, "f")
  eq(res.cells[1].outputs[2].type, "warning")
  eq(res.cells[1].outputs[2].text, "figure refused: element <script>\n")
  eq(require("hebb._display").sink, nil)
end)

test("run_marker_inside_a_statement", function()
  raises(function() run("-- %%\nlocal t = {\n-- %%\n1 }\n") end,
         "a cell marker sits inside a statement or expression")
  raises(function() run("-- %%\nlocal x = = 1\n", nil, "syn.lua") end, "syn.lua:2:")
end)

test("script_and_notebook_runs_agree", function()
  local src = table.concat({
    "-- %% [markdown]", "-- # same", "-- %%",
    "local T = require 'hebb.tensor'", "T.manual_seed(3)",
    "local x = T.randn(5)", "-- %%",
    "print(string.format('%.12f', x:sum()))",
    "io.write('partial ')", "-- %%", "io.write('line\\n')", "print(#arg, ...)",
  }, "\n")
  local res, path = run(src, { args = { "p" } }, "same.lua")
  local all = {}
  for k in ipairs(res.nb.cells) do all[#all + 1] = stdout_of(res.cells[k]) end
  local hebb = os.getenv("HEBB") or "build/hebb"
  local pipe = assert(io.popen(hebb .. " " .. path .. " p"))
  local script_out = pipe:read("a")
  pipe:close()
  eq(table.concat(all), script_out)
end)

-- --- manifest and compare ------------------------------------------------------

test("manifest_and_compare", function()
  write("in.txt", "42\n")
  local src = "-- %%\nlocal f = io.open('" .. tmp .. "/in.txt'); local v = f:read('n'); f:close()\n"
    .. "-- %% value\nprint(v * 2)\nwarn('w')\n"
  local res = run(src, nil, "m.lua")
  local m = nbm.manifest(res)
  eq(#m.cells, 2)
  eq(m.cells[2].title, "value")
  eq(m.cells[2].output, "84\n[warning] w\n")
  eq(m.data[1].path, "in.txt")
  local ok, lines = nbm.compare(m, run(src, nil, "m.lua"))
  truthy(ok, table.concat(lines, "\n"))
  -- an edited data file
  write("in.txt", "43\n")
  ok, lines = nbm.compare(m, run(src, nil, "m.lua"))
  eq(ok, false)
  local report = table.concat(lines, "\n")
  truthy(report:find("data: in.txt changed", 1, true), report)
  truthy(report:find("cell 2 (line 3, value): output differs", 1, true), report)
  truthy(report:find("  - 84\n  + 86", 1, true), report)
  -- a hand-edited recorded output
  write("in.txt", "42\n")
  m.cells[2].output = "85\n[warning] w\n"
  ok, lines = nbm.compare(m, run(src, nil, "m.lua"))
  eq(ok, false)
  truthy(table.concat(lines, "\n"):find("does not match its digest: the manifest was edited", 1, true))
end)

-- a figure whose numbers moved by rounding (another BLAS kernel) is the
-- recorded picture; a visible move, a new label or colour, a new element or
-- a change of the printed text is not
test("compare_figures_within_a_twentieth_of_a_pixel", function()
  local src = "-- %% fig\nlocal x, label, colour, extra, text = ...\n"
    .. "require('hebb._display').sink{kind = 'figure', title = 'f', svg = '<svg width=\"10\">"
    .. "<line x1=\"' .. x .. '\" y1=\"2.5\" stroke=\"' .. colour .. '\"/>' .. extra"
    .. " .. '<text x=\"1\">' .. label .. '</text></svg>'}\nprint(text)\n"
  local function go(x, label, colour, extra, text)
    return run(src, { args = { x, label or "0.5", colour or "#1f77b4", extra or "",
                               text or "t" } }, "fig.lua")
  end
  local m = nbm.manifest(go("1.03"))
  eq(m.cells[1].figures[1].coords, "10 1.03 2.5 1")
  local ok, lines = nbm.compare(m, go("1.03"))
  truthy(ok and #lines == 0, table.concat(lines, "\n"))
  for _, x in ipairs({ "1.02", "1.04", "1.07", "0.99", "1.0300000001" }) do
    ok, lines = nbm.compare(m, go(x))
    truthy(ok, x .. ": " .. table.concat(lines, "\n"))
    truthy(lines[1] and lines[1]:find("figure 1 is the recorded picture: 1 of 4 coordinates "
                                      .. "moved", 1, true), lines[1])
  end
  local drifts = {
    { "1.09" }, { "-1.03" }, { "1.03", "0.6" }, { "1.03", nil, "#1f77b5" },
    { "1.03", nil, nil, "<rect x=\"1\"/>" }, { "1.02", nil, nil, nil, "u" },
  }
  for _, d in ipairs(drifts) do
    ok, lines = nbm.compare(m, go(d[1], d[2], d[3], d[4], d[5]))
    eq(ok, false)
    truthy(table.concat(lines, "\n"):find("cell 1 (line 1, fig): output differs", 1, true))
  end
  -- a manifest without fingerprints (recorded before they were kept)
  m.cells[1].figures = nil
  eq((nbm.compare(m, go("1.02"))), false)
  eq((nbm.compare(m, go("1.03"))), true)
end)

-- a manifest whose figures were edited into other JSON values: drift (or
-- the recorded output), never an error
test("compare_figures_of_a_malformed_manifest", function()
  local src = "-- %% fig\nlocal x = ...\n"
    .. "require('hebb._display').sink{kind = 'figure', title = 'f', svg = '<svg width=\"10\">"
    .. "<line x1=\"' .. x .. '\" y1=\"2.5\"/></svg>'}\n"
  local J = require "hebb._json"
  local good = nbm.manifest(run(src, { args = { "1.03" } }, "fig.lua"))
  local now = run(src, { args = { "1.02" } }, "fig.lua")
  local f1 = good.cells[1].figures[1]
  local bad = {
    "x", 3, J.null, {}, { J.null }, { "x" }, { 1 }, { {} }, { f1, f1 },
    { { sha256 = f1.sha256, shape = f1.shape, coords = 5 } },
    { { sha256 = f1.sha256, shape = f1.shape, coords = "a b c" } },
    { { sha256 = f1.sha256, shape = f1.shape, coords = "1 2" } },
    { { sha256 = {}, shape = f1.shape, coords = f1.coords } },
    { { sha256 = 7, shape = f1.shape, coords = f1.coords } },
    { { sha256 = J.null, shape = f1.shape, coords = f1.coords } },
    { { sha256 = f1.sha256, shape = {}, coords = f1.coords } },
  }
  for i, figs in ipairs(bad) do
    local m = J.decode(J.encode(good))
    m.cells[1].figures = figs
    local okc, ok = pcall(nbm.compare, m, now)
    truthy(okc, "malformed figures " .. i .. ": " .. tostring(ok))
    eq(ok, false, "malformed figures " .. i)
  end
end)

-- the plot module's figure of a series, and of the series times (1 + eps):
-- the same picture, whichever coordinates rounding moved; eps = 1e-2 is not
test("compare_plot_figure_of_rounded_numbers", function()
  local src = "-- %% curve\nlocal eps = tonumber((...))\nlocal plot = require 'hebb.plot'\n"
    .. "local x, y = {}, {}\nfor i = 1, 400 do x[i] = i; y[i] = math.exp(-i / 90) * "
    .. "(1 + 0.3 * math.sin(i)) * (1 + eps) end\n"
    .. "plot.show(plot.figure{}:line(x, y):set{yscale = 'log'})\n"
  local m = nbm.manifest(run(src, { args = { "0" } }, "curve.lua"))
  -- 1e-9 moves nothing at 0.01 px; 1e-5 and 1e-4 move a few points by one step
  for eps, moves in pairs({ ["1e-9"] = false, ["-1e-9"] = false, ["1e-5"] = true,
                            ["-1e-4"] = true }) do
    local ok, lines = nbm.compare(m, run(src, { args = { eps } }, "curve.lua"))
    truthy(ok, eps .. ": " .. table.concat(lines, "\n"))
    eq(#lines > 0, moves)
  end
  local ok = nbm.compare(m, run(src, { args = { "1e-2" } }, "curve.lua"))
  eq(ok, false)
end)

test("diff_shows_changed_lines", function()
  local d = table.concat(nbm._diff("a\nb\nc\n", "a\nB\nc\nd\n", 40), "\n")
  eq(d, "  - b\n  + B\n  + d")
end)

-- --- renders ----------------------------------------------------------------------

test("html_escapes_outputs_and_markdown", function()
  local R = require "hebb._notebook_render"
  local res = run("-- %% [markdown]\n-- <script>alert(1)</script> [x](javascript:alert(1)) $a<b$\n"
    .. "-- %%\nprint('<img src=x onerror=alert(1)>')\nerror('<b>')\n", nil, "esc.lua")
  local html = R.html(res)
  truthy(not html:find("<script", 1, true), "no script tag")
  truthy(not html:find("<img src=x", 1, true), "output escaped")
  truthy(not html:find("javascript:", 1, true), "no javascript: link")
  truthy(html:find("&lt;img src=x onerror=alert(1)&gt;", 1, true), "escaped text present")
  truthy(html:find("default-src 'none'", 1, true), "a CSP")
  truthy(html:find("<math>", 1, true), "math rendered as MathML")
end)

test("mathml_subset", function()
  local m = require "hebb._mathml"
  local function body(t)
    return m.convert(t):match("<mrow>(.*)</mrow><annotation")
  end
  eq(body("\\frac{a}{b}"), "<mfrac><mi>a</mi><mi>b</mi></mfrac>")
  eq(body("\\sqrt[3]{x}"), "<mroot><mi>x</mi><mn>3</mn></mroot>")
  eq(body("x_i^2"), "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>")
  eq(body("\\tanh^2 K"), "<msup><mi>tanh</mi><mn>2</mn></msup><mo>&#x2061;</mo><mi>K</mi>")
  eq(body("a<b"), "<mi>a</mi><mo>&lt;</mo><mi>b</mi>")
  eq(body("\\mathbb{R}"), '<mi mathvariant="normal">ℝ</mi>')
  eq(body("\\alpha \\Omega"), '<mi>α</mi><mi mathvariant="normal">Ω</mi>')
  eq(body("\\nosuch"), "<merror><mtext>\\nosuch</mtext></merror>")
  truthy(body("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}"):find(
    "<mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr>", 1, true), "a matrix")
  truthy(m.convert("\\sum_{i=1}^N", true):find("<munderover>", 1, true), "limits in display")
  eq(m.convert("x", true):sub(1, 22), '<math display="block">')
end)

-- notebook.checks: flags, numbers, verdicts, and the exit status under
-- --check, seen from a real process (os.exit cannot be caught in-process)
test("checks_preamble", function()
  local c = nbm.checks { "7", "--small", "x2", "--check" }
  eq(c.small, true); eq(c.check, true); eq(#c.args, 2)
  eq(c.number(1, 3), 7); eq(c.number(3, 3), 3)
  raises(function() c.number(2) end, "notebook.checks: argument 2 must be a number, got \"x2\"")
  local d = nbm.checks(nil)
  eq(d.small, false); eq(d.check, false); eq(d.number(1, 5), 5)
  local hebb = os.getenv("HEBB") or "build/hebb"
  write("verdicts.lua", [[
local nb = require("hebb.notebook").checks(arg)
nb.verdict(true, "holds")
nb.verdict(arg[2] ~= "fail", "may fail")
nb.finish()
print("after finish")]])
  local function run(...)
    local p = assert(io.popen(table.concat({ hebb, tmp .. "/verdicts.lua", ... }, " ") .. " 2>&1"))
    local out = p:read("a")
    return out, select(3, p:close())
  end
  local out, code = run("--check", "fail")
  eq(code, 1, "a failed verdict under --check exits 1")
  truthy(out:find("may fail%s+FAILED\n1 check%(s%) FAILED\n$"), out)
  out, code = run("--small", "fail")
  eq(code, 0, "without --check the run goes on")
  truthy(out:find("after finish", 1, true), out)
  out, code = run("--check", "pass")
  eq(code, 0); truthy(out:find("holds%s+ok\n"), out)
end)

os.execute("rm -rf " .. tmp)
check.done()
