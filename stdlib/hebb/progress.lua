-- hebb.progress: a progress bar for long loops -- Monte Carlo sweeps,
-- training epochs, RG steps.
--
--   sweeps  42% ▕██████████▌              ▏ 420/1000  318 it/s  ETA 0:02  E -1.7456
--
-- It draws on a terminal only: not in a notebook (hebb._display has a
-- sink), not into a pipe or file, not under CI (the CI variable set) or
-- TERM=dumb, so the same loop writes clean logs anywhere.  Redraws are
-- rate-limited (every `interval` seconds, only on multiples of `every`),
-- so update() costs a clock read and a comparison; nothing in it blocks,
-- so Ctrl-C stops the loop as it would without a bar, and a bar made with
-- `local p <close>` (or progress.range, whose loop closes it) ends its line
-- however the loop ends.  hebb.metrics.progress is this bar with the live
-- value called "loss".
local C = require "hebb._data"
local display = require "hebb._display"
local E = require "hebb._error"
local doc = require("hebb").doc
local fmt, floor, huge = string.format, math.floor, math.huge

local M = {}
doc(M, "hebb.progress\n\nProgress bars for long loops (rate, ETA, a live "
  .. "value), drawn only on terminals.  See docs/notebooks.md (Progress).")

local Bar = {}
Bar.__index = Bar
M.Bar = Bar
doc(Bar, "progress.Bar\n\nA progress bar (progress.new): p:update(i [, value]), "
  .. "p:close(); p.value holds the live value.")

local BLOCKS = { "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█" }

local function clock_str(s)
  if s ~= s or s == huge or s < 0 then return "?" end
  s = floor(s + 0.5)
  if s >= 3600 then return fmt("%d:%02d:%02d", s // 3600, s % 3600 // 60, s % 60) end
  return fmt("%d:%02d", s // 60, s % 60)
end
M._clock_str = clock_str

-- whether a bar on `out` would be seen by someone
local function on_terminal(out)
  if display.notebook() then return false end
  local ci = os.getenv and os.getenv("CI")
  if ci and ci ~= "" and ci ~= "false" then return false end
  if os.getenv and os.getenv("TERM") == "dumb" then return false end
  if out == io.stderr then return C.isatty(2) end
  if out == io.stdout then return C.isatty(1) end
  return false
end

local OPTS = { total = true, label = true, unit = true, every = true, interval = true,
               out = true, tty = true, width = true, value = true }

-- the bar; who names the caller in error messages (metrics.progress makes
-- its bars here too)
function M._new(who, opts, defaults)
  opts = E.checkopts(who, opts, OPTS)
  for k, v in pairs(defaults or {}) do if opts[k] == nil then opts[k] = v end end
  local total = opts.total ~= nil and E.int(who, "total", opts.total, 1) or nil
  local every = E.int(who, "every", opts.every or 1, 1)
  local interval = E.num(who, "interval", opts.interval or 0.1, 0)
  E.check(who, "label", opts.label, "string", true)
  E.check(who, "unit", opts.unit, "string", true)
  E.check(who, "value", opts.value, "string", true)
  local active = E.check(who, "tty", opts.tty, "boolean", true)
  if opts.width ~= nil then E.int(who, "width", opts.width, 20) end
  local out = opts.out or io.stderr
  -- a file, or what stands for one (a notebook captures io.stdout)
  local writable = io.type(out) == "file" or
    (type(out) == "table" and type(out.write) == "function")
  if not writable then
    E.raise("%s: out must be an open file, got %s", who, E.show(out))
  end
  if active == nil then active = on_terminal(out) end
  local cols = tonumber(os.getenv and os.getenv("COLUMNS")) or 80
  return setmetatable({
    total = total, every = every, label = opts.label, unit = opts.unit or "it",
    out = out, active = active, interval = interval, value_name = opts.value,
    width = opts.width or math.max(40, math.min(cols, 120)) - 1,
    start = C.clock(), last_draw = -huge, drawn = false, i = 0,
  }, Bar)
end

function M.new(opts) return M._new("progress.new", opts) end
doc(M.new, "progress.new{total=, label=, unit=\"it\", every=1, interval=0.1, "
  .. "value=, out=io.stderr, tty=, width=}\n\nA progress bar: p:update(i [, "
  .. "value]) after step i, p:close() at the end (or `local p <close> = ...`).  "
  .. "The line shows the label, the fraction done as a bar (with a total), "
  .. "i/total, the rate in units per second, the time left (ETA) or elapsed, "
  .. "and the live value (named by `value`: \"loss\", \"E\", ...).  Drawn on a "
  .. "terminal only (not in notebooks, pipes, files, CI); tty = true/false "
  .. "overrides that.")

local function show_value(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return fmt("%.5g", v)
  end
  if type(v) == "userdata" and v.item then return show_value(v:item()) end
  return tostring(v)
end

function Bar:line()
  local i, el = self.i, C.clock() - self.start
  local rate = el > 0 and i / el or 0
  local parts = {}
  if self.label then parts[#parts + 1] = self.label end
  local tail = {}
  if self.total then
    local f = math.min(1, math.max(0, i / self.total))
    parts[#parts + 1] = fmt("%3d%%", floor(100 * f))
    tail[#tail + 1] = fmt("%d/%d", i, self.total)
  else
    tail[#tail + 1] = fmt("%d %s", i, self.unit)
  end
  if rate >= 100 then tail[#tail + 1] = fmt("%.0f %s/s", rate, self.unit)
  elseif rate >= 1 then tail[#tail + 1] = fmt("%.2f %s/s", rate, self.unit)
  elseif rate > 0 then tail[#tail + 1] = fmt("%.2f s/%s", 1 / rate, self.unit)
  else tail[#tail + 1] = "? " .. self.unit .. "/s" end
  if self.total and i < self.total then
    tail[#tail + 1] = "ETA " .. clock_str(rate > 0 and (self.total - i) / rate or huge)
  else
    tail[#tail + 1] = "elapsed " .. clock_str(el)
  end
  if self.value ~= nil then
    tail[#tail + 1] = (self.value_name and self.value_name .. " " or "") .. show_value(self.value)
  end
  local head, rest = table.concat(parts, " "), table.concat(tail, "  ")
  if not self.total then return head .. (head ~= "" and "  " or "") .. rest end
  -- the bar takes what the terminal width leaves
  local room = self.width - utf8.len(head) - utf8.len(rest) - 5
  if room < 8 then return head .. "  " .. rest end
  local f = math.min(1, math.max(0, i / self.total))
  local eighths = floor(f * room * 8 + 0.5)
  local full, part = eighths // 8, eighths % 8
  local bar = string.rep("█", full) .. (part > 0 and BLOCKS[part] or "")
  bar = bar .. string.rep(" ", room - full - (part > 0 and 1 or 0))
  return head .. " ▕" .. bar .. "▏ " .. rest
end

local function is_value(v)
  local tv = type(v)
  return v == nil or tv == "number" or tv == "string"
    or (E.is_tensor(v) and v:numel() == 1)
end

function Bar:update(i, value)
  i = E.int("p:update", "i", i, 0)
  if not is_value(value) then
    E.raise("p:update: value must be a number, a one-element tensor or a string, got %s",
            E.show(value))
  end
  self.i = i
  if value ~= nil then self.value = value end
  if not self.active then return end
  if i % self.every ~= 0 and i ~= self.total then return end
  local now = C.clock()
  if i ~= self.total and now - self.last_draw < self.interval then return end
  self.last_draw = now
  self.out:write("\r", self:line(), "\27[K")
  self.out:flush()
  self.drawn = true
end
doc(Bar.update, "p:update(i [, value])\n\nReports step i (and the live value: a "
  .. "number, a 0-d tensor or a string).  Redraws when the bar is on a terminal, "
  .. "i is a multiple of `every` (or the total) and `interval` seconds have "
  .. "passed since the last redraw.")

function Bar:close()
  if self.active and self.drawn then
    self.out:write("\r", self:line(), "\27[K\n")
    self.out:flush()
  end
  self.active = false
end
Bar.__close = Bar.close
doc(Bar.close, "p:close()\n\nDraws the final state and ends the line (nothing "
  .. "when nothing was drawn); also run on leaving a `<close>` scope.")

-- for i, p in progress.range(a, b [, opts]) do ... end: the loop closes the
-- bar however it ends (break, error), through the generic for's closing
-- value
function M.range(a, b, opts)
  if math.type(a) ~= "integer" or math.type(b) ~= "integer" then
    E.raise("progress.range: a and b must be integers, got %s and %s", E.show(a), E.show(b))
  end
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.total = math.max(1, b - a + 1)
  local bar = M.new(o)
  local function step(_, i)   -- called with the step just done
    if i >= a then bar:update(i - a + 1) end
    if i >= b then return nil end
    return i + 1, bar
  end
  return step, nil, a - 1, bar
end
doc(M.range, "progress.range(a, b [, opts])\n\nfor i, p in progress.range(1, n, "
  .. "{label = \"sweeps\"}) do ... p.value = E end: the integers a..b with a bar "
  .. "(opts as progress.new) that advances as the loop does and is closed when "
  .. "it ends, however it ends.")

return M
