-- test_progress.lua -- hebb.progress: the bar's line (label, percentage,
-- blocks, i/total, rate, ETA, live value), redraw rules, range() closing
-- the bar however the loop ends, silence in pipes, notebooks and CI, a
-- bar on a pseudo-terminal, Ctrl-C stopping a loop that draws one.
local check = require "check"
local progress = require "hebb.progress"
local test, eq, truthy, raises = check.test, check.eq, check.truthy, check.raises
local HEBB = os.getenv("HEBB") or arg[-1]

local function capture(fn)
  local name = os.tmpname()
  local fh = assert(io.open(name, "w"))
  fn(fh)
  fh:close()
  fh = io.open(name, "r")
  local s = fh:read("a")
  fh:close()
  os.remove(name)
  return s
end

test("line_has_label_bar_count_rate_eta_value", function()
  local s = capture(function(fh)
    local p = progress.new { total = 8, label = "sweeps", value = "E", tty = true,
                             out = fh, interval = 0, width = 70 }
    p:update(2, -1.25)
    p:close()
  end)
  truthy(s:find("^\rsweeps  25%% ▕"), s)
  truthy(s:find("██", 1, true), "blocks: " .. s)
  truthy(s:find("▏ 2/8  ", 1, true), s)
  truthy(s:find(" it/s  ETA %d:%d%d  E %-1%.25\27%[K"), s)
  eq(s:sub(-1), "\n", "close ends the line")
  local first = s:match("^\r(.-)\27%[K")
  eq(utf8.len(first), 69, "the line fills the width")
end)

test("redraws_on_every_and_at_the_end", function()
  local s = capture(function(fh)
    local p = progress.new { total = 10, every = 3, interval = 0, tty = true, out = fh }
    for i = 1, 10 do p:update(i) end
    p:close()
    p:close()   -- twice: nothing more
  end)
  local _, draws = s:gsub("\r", "")
  eq(draws, 5, "i = 3, 6, 9, 10 and the close")
end)

test("without_total_counts_and_elapsed", function()
  local s = capture(function(fh)
    local p = progress.new { unit = "step", tty = true, out = fh, interval = 0 }
    p:update(7, "warming up")
    p:close()
  end)
  truthy(s:find("\r7 step  [%d%.?]+ step/s  elapsed 0:00  warming up"), s)
end)

test("range_closes_the_bar_on_break_and_error", function()
  local steps = 0
  local s = capture(function(fh)
    for i, p in progress.range(1, 100, { tty = true, out = fh, interval = 0 }) do
      steps = steps + 1
      p.value = i
      if i == 40 then break end
    end
  end)
  eq(steps, 40)
  truthy(s:find("39/100", 1, true), s)
  eq(s:sub(-1), "\n", "closed by the loop")
  s = capture(function(fh)
    pcall(function()
      for i in progress.range(1, 5, { tty = true, out = fh, interval = 0 }) do
        if i == 3 then error("boom") end
      end
    end)
  end)
  eq(s:sub(-1), "\n", "closed by the error")
  local n = 0
  for _ in progress.range(3, 2, { tty = false }) do n = n + 1 end
  eq(n, 0, "an empty range")
end)

test("silent_in_pipes_and_notebooks", function()
  local f = assert(io.popen(HEBB .. [[ -e 'local p = require("hebb.progress").new{total = 5, interval = 0}
    for i = 1, 5 do p:update(i) end p:close() io.write("END")' 2>&1]]))
  eq(f:read("a"), "END", "nothing through a pipe")
  f:close()
  local display = require "hebb._display"
  display.sink = function() end
  local p = progress.new { total = 3, out = io.stderr }
  display.sink = nil
  eq(p.active, false, "not in a notebook")
end)

local has_script = io.popen("command -v script"):read("a") ~= ""

test("draws_on_a_terminal_not_under_ci", function()
  if not has_script then error("needs script(1) from util-linux") end
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write([[local p = require("hebb.progress").new{total = 4, interval = 0, label = "tty"}
    for i = 1, 4 do p:update(i) end p:close()]])
  f:close()
  local function run(env)   -- script(1) gives the child a pseudo-terminal
    local pipe = assert(io.popen("env " .. env .. " script -qec '" .. HEBB .. " " .. file
      .. "' /dev/null"))
    local s = pipe:read("a")
    pipe:close()
    return s
  end
  local s = run("-u CI TERM=xterm")
  truthy(s:find("\rtty 100% ▕", 1, true), "a bar on a terminal: " .. s)
  s = run("CI=true TERM=xterm")
  eq(s:find("▕", 1, true), nil, "no bar under CI: " .. s)
  s = run("-u CI TERM=dumb")
  eq(s:find("▕", 1, true), nil, "no bar on a dumb terminal: " .. s)
  os.remove(file)
end)

test("ctrl_c_stops_a_loop_with_a_bar", function()
  local out = os.tmpname()
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[local f = assert(io.open("]] .. out .. [[", "w"))
    local p <close> = require("hebb.progress").new{total = 1000000000, tty = true, out = f, interval = 0.01}
    local i = 0
    while true do i = i + 1; p:update(i) end]])
  f:close()
  -- timeout(1) turns a loop that Ctrl-C failed to stop into status 124;
  -- --foreground: it passes the signal to hebb once (without it, it also
  -- signals its process group, and a second SIGINT ends hebb as lua.c's
  -- handler does, status 130)
  local sh = assert(io.popen("timeout --foreground 30 " .. HEBB .. " " .. script
    .. " 2>&1 & pid=$!; sleep 0.5; kill -INT $pid; wait $pid; echo status $?"))
  local s = sh:read("a")
  sh:close()
  truthy(s:find("interrupted!", 1, true), s)
  truthy(s:find("status 1", 1, true), s)
  local g = assert(io.open(out))
  local bar = g:read("a")
  g:close()
  truthy(bar:find("/1000000000", 1, true), "the bar drew")
  eq(bar:sub(-1), "\n", "the bar's line was ended on the way out")
  os.remove(out)
  os.remove(script)
end)

test("errors", function()
  raises(function() progress.new { total = 0 } end, "progress.new: total must be an integer >= 1, got 0")
  raises(function() progress.new { every = 1.5 } end, "progress.new: every must be an integer >= 1, got 1.5")
  raises(function() progress.new { tty = 1 } end, "progress.new: tty must be true or false, got 1")
  raises(function() progress.new { out = "x" } end, "progress.new: out must be an open file, got \"x\"")
  raises(function() progress.new():update(-1) end, "p:update: i must be an integer >= 0, got -1")
  raises(function() progress.new { totl = 5 } end, "progress.new: unknown option \"totl\" (did you mean 'total'?)")
  raises(function() progress.range(1, "x") end, "progress.range: a and b must be integers")
end)

check.done()
