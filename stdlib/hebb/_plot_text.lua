-- hebb._plot_text: a figure as text for a terminal.  Lines, points, error
-- bars and histogram bars are drawn in Unicode braille (each character is a
-- 2 x 4 grid of dots, so a 60 x 16 character plot has 120 x 64 dots);
-- heatmaps in shade characters; the y range on the left, the x range
-- below, the labels of the series after.  Panels are drawn one under the
-- other.
local fmt, concat, floor = string.format, table.concat, math.floor

local M = {}

-- the bit of dot (dx, dy) in a braille cell, dx 0..1, dy 0..3
local BIT = { [0] = { [0] = 0x01, 0x02, 0x04, 0x40 }, [1] = { [0] = 0x08, 0x10, 0x20, 0x80 } }
local SHADES = { " ", "░", "▒", "▓", "█" }

local function canvas(w, h)
  local c = { w = w, h = h, bits = {}, chars = {} }
  function c.dot(x, y)   -- dot coordinates, 0-based, y down
    x, y = floor(x + 0.5), floor(y + 0.5)
    if x < 0 or y < 0 or x >= 2 * w or y >= 4 * h then return end
    local k = (y // 4) * w + (x // 2)
    c.bits[k] = (c.bits[k] or 0) | BIT[x % 2][y % 4]
  end
  function c.line(x0, y0, x1, y1)
    local n = math.max(math.abs(x1 - x0), math.abs(y1 - y0), 1)
    n = math.min(floor(n + 0.5), 4 * (w + h))
    for i = 0, n do c.dot(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) end
  end
  function c.char(col, row, ch) c.chars[row * w + col] = ch end
  function c.row(r)
    local t = {}
    for col = 0, w - 1 do
      local k = r * w + col
      t[#t + 1] = c.chars[k] or (c.bits[k] and utf8.char(0x2800 + c.bits[k])) or " "
    end
    return concat(t)
  end
  return c
end

local function short(v)
  if v == 0 then return "0" end
  local s = fmt("%.3g", v)
  return s
end

local function plain(s)   -- a label without its $ and backslashes
  s = tostring(s):gsub("%$", ""):gsub("\\(%a+)", "%1"):gsub("[{}]", "")
  return s
end

local function draw(lines, plot, p, width, height)
  local xp, yp = plot._axis_plan(p, "x"), plot._axis_plan(p, "y")
  local heat
  for _, s in ipairs(p.series) do if s.kind == "heatmap" then heat = s end end
  if heat and heat.origin == "upper" and not p.opts.ylim then yp.flip = true end
  local ylab = { short(yp.flip and yp.lo or yp.hi), short(yp.flip and yp.hi or yp.lo) }
  local gutter = math.max(utf8.len(ylab[1]), utf8.len(ylab[2])) + 1
  local w, h = width - gutter - 1, height
  local c = canvas(w, h)
  local fx = plot._scaler(xp, 0, 2 * w - 1)
  local fy = yp.flip and plot._scaler(yp, 0, 4 * h - 1) or plot._scaler(yp, 4 * h - 1, 0)
  local labels = {}
  for _, s in ipairs(p.series) do
    if s.label then labels[#labels + 1] = plain(s.label) end
    if s.kind == "line" then
      local px, py
      for i = 1, #s.x do
        local x, y = fx(s.x[i]), fy(s.y[i])
        if x and y and px then c.line(px, py, x, y) elseif x and y then c.dot(x, y) end
        px, py = x, y
      end
    elseif s.kind == "scatter" or s.kind == "errorbar" then
      for i = 1, #s.x do
        local x, y = fx(s.x[i]), fy(s.y[i])
        if s.kind == "errorbar" then
          local a, b = fy(s.y[i] - s.lo[i]), fy(s.y[i] + s.hi[i])
          if x and a and b then c.line(x, a, x, b) end
        end
        if x and y then c.dot(x, y); c.dot(x + 1, y) end
      end
    elseif s.kind == "hist" then
      local base = fy(yp.log and yp.lo or 0) or 4 * h - 1
      for i = 1, #s.counts do
        local x0, x1, y = fx(s.edges[i]), fx(s.edges[i + 1]), fy(s.counts[i])
        if x0 and x1 and y and s.counts[i] > 0 then
          for x = math.ceil(x0), math.floor(x1) - 1 do c.line(x, base, x, y) end
        end
      end
    elseif s.kind == "hline" then
      local y = fy(s.value)
      if y then for x = 0, 2 * w - 1, 3 do c.dot(x, y) end end
    elseif s.kind == "vline" then
      local x = fx(s.value)
      if x then for y = 0, 4 * h - 1, 3 do c.dot(x, y) end end
    elseif s.kind == "heatmap" then
      for row = 0, h - 1 do
        for col = 0, w - 1 do
          -- the data point under the centre of this character
          local xd = xp.lo + (col + 0.5) / w * (xp.hi - xp.lo)
          local t = (row + 0.5) / h
          local yd = yp.flip and yp.lo + t * (yp.hi - yp.lo) or yp.hi - t * (yp.hi - yp.lo)
          local e = s.extent
          local j = floor((xd - e[1]) / (e[2] - e[1]) * s.nx) + 1
          -- data row i spans e[3] + (i-1..i) dy whatever the origin: the
          -- origin only says which way the axis runs
          local i = floor((yd - e[3]) / (e[4] - e[3]) * s.ny) + 1
          if i >= 1 and i <= s.ny and j >= 1 and j <= s.nx then
            local v = s.rows[i][j]
            local k = v == v and floor((v - s.vmin) / (s.vmax - s.vmin) * 4.999) + 1 or 1
            c.char(col, row, SHADES[math.max(1, math.min(5, k))])
          end
        end
      end
    end
  end
  if p.opts.title then lines[#lines + 1] = plain(p.opts.title) end
  for r = 0, h - 1 do
    local lab = r == 0 and ylab[1] or r == h - 1 and ylab[2] or ""
    lines[#lines + 1] = string.rep(" ", gutter - utf8.len(lab)) .. lab .. "│" .. c.row(r)
  end
  lines[#lines + 1] = string.rep(" ", gutter) .. "└" .. string.rep("─", w)
  local xl, xh = short(xp.lo), short(xp.hi)
  local axis = p.opts.xlabel and plain(p.opts.xlabel) or ""
  local mid = math.max(1, w - #xl - #xh - #axis)
  lines[#lines + 1] = string.rep(" ", gutter + 1) .. xl .. string.rep(" ", mid // 2) .. axis
    .. string.rep(" ", mid - mid // 2) .. xh
  if p.opts.ylabel then lines[#lines + 1] = "  y: " .. plain(p.opts.ylabel) end
  if yp.log or xp.log then
    lines[#lines + 1] = "  (" .. (xp.log and "x" or "") .. (xp.log and yp.log and ", " or "")
      .. (yp.log and "y" or "") .. " on a log scale)"
  end
  if heat then
    lines[#lines + 1] = fmt("  shades ░▒▓█ from %s to %s%s", short(heat.vmin), short(heat.vmax),
                            heat.clabel and " (" .. plain(heat.clabel) .. ")" or "")
  end
  if #labels > 0 then lines[#lines + 1] = "  series: " .. concat(labels, ", ") end
end

function M.render(fig, width, height)
  local plot = require "hebb.plot"
  width, height = width or 72, height or 16
  local lines = {}
  if fig.title then lines[1] = plain(fig.title) end
  local any = false
  for i = 1, fig.rows * fig.cols do
    local p = fig.panels[i]
    if p then
      any = true
      draw(lines, plot, p, width, math.max(4, height // math.max(1, fig.rows)))
    end
  end
  if not any then lines[#lines + 1] = "(an empty figure)" end
  return concat(lines, "\n")
end

return M
