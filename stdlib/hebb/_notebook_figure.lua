-- hebb._notebook_figure: a figure's fingerprint for `hebb notebook check`.
--
-- A figure is an SVG whose coordinates come from computed numbers, written
-- at 0.01 px.  The same notebook on another BLAS kernel (OPENBLAS_CORETYPE,
-- another CPU) computes the same numbers to within rounding, and now and
-- then one of them lands on the other side of a 0.01 px step: the SVG's
-- bytes differ, the picture does not.  So the manifest keeps, beside the
-- SVG's SHA-256, its shape (the SVG with every coordinate replaced by '#':
-- elements, colours, text and tick labels stay exact) and the coordinates
-- themselves, and check accepts a figure whose shape is the recorded one and
-- whose every coordinate is within TOLERANCE of the recorded one.  The
-- printed numbers of a notebook are its check; a figure only has to be the
-- same picture.
local N = require "hebb._notebook"
local concat = table.concat

local M = {}

-- 1/20 of a pixel, five steps of the SVG's 0.01 px: invisible, and far
-- below any move a reader could see
M.TOLERANCE = 0.05

-- attributes whose values are lengths or coordinates (everything else --
-- colours, ids, links, embedded images, text -- stays in the shape)
local GEOMETRY = {
  x = true, y = true, x1 = true, y1 = true, x2 = true, y2 = true,
  cx = true, cy = true, r = true, rx = true, ry = true, dx = true, dy = true,
  width = true, height = true, points = true, d = true, transform = true,
  viewBox = true, ["stroke-width"] = true, ["font-size"] = true,
}

-- fingerprint(svg) -> shape (16 hex digits of its SHA-256), coordinates
-- (the numbers as the SVG writes them, space-separated)
function M.fingerprint(svg)
  local coords = {}
  local function number(s)
    coords[#coords + 1] = s
    return "#"
  end
  local shape = svg:gsub('([%w:%-]+)="([^"]*)"', function(name, value)
    if not GEOMETRY[name] then return nil end
    return name .. '="' .. value:gsub("%-?%d*%.?%d+", number) .. '"'
  end)
  return N.sha256(shape):sub(1, 16), concat(coords, " ")
end

-- close(a, b) -> the largest move (nil when the lists differ in length or a
-- number fails to read), how many coordinates moved
function M.close(a, b)
  local x, y = {}, {}
  for s in a:gmatch("%S+") do x[#x + 1] = tonumber(s) end
  for s in b:gmatch("%S+") do y[#y + 1] = tonumber(s) end
  if #x ~= #y then return nil end
  local worst, moved = 0, 0
  for i = 1, #x do
    if not (x[i] and y[i]) then return nil end
    local d = math.abs(x[i] - y[i])
    if d > 0 then moved = moved + 1 end
    if d > worst then worst = d end
  end
  return worst, moved, #x
end

return M
