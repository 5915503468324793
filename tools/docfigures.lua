-- docfigures.lua -- the figures of a guide page, rendered from its code.
-- usage: hebb tools/docfigures.lua PAGE.md OUTDIR [--check]
-- Runs every ```lua block of the page (numbered from 1, as tests/docs
-- numbers them) with hebb._display's sink set, so that plot.show(fig)
-- hands over the figure; the first figure of block n goes to
-- OUTDIR/<page>-<n>.svg, the k-th (k > 1) to <page>-<n>-<k>.svg.  With
-- --check nothing is written: it exits 1 if a file differs or is missing
-- (the figures in docs/ are what the code on the page draws).
local page, outdir, mode = arg[1], arg[2], arg[3]
assert(page and outdir, "usage: hebb tools/docfigures.lua PAGE.md OUTDIR [--check]")
local display = require "hebb._display"
local name = page:match("([^/]*)%.md$")

local blocks, cur = {}, nil
for line in io.lines(page) do
  if cur then
    if line:match("^```") then blocks[#blocks + 1] = table.concat(cur, "\n"); cur = nil
    else cur[#cur + 1] = line end
  elseif line == "```lua" then cur = {} end
end

local bad = 0
for n, src in ipairs(blocks) do
  local figures = {}
  display.sink = function(item) figures[#figures + 1] = item.svg end
  local chunk = assert(load(src, "=" .. page .. " block " .. n, "t"))
  chunk()
  display.sink = nil
  for k, svg in ipairs(figures) do
    local file = string.format("%s/%s-%d%s.svg", outdir, name, n, k > 1 and "-" .. k or "")
    if mode == "--check" then
      local f = io.open(file, "rb")
      local old = f and f:read("a")
      if f then f:close() end
      if old ~= svg then
        print(string.format("%s: %s (run 'make docs')", file, old and "differs" or "missing"))
        bad = bad + 1
      end
    else
      local f = assert(io.open(file, "wb"))
      f:write(svg)
      f:close()
    end
  end
end
os.exit(bad == 0 and 0 or 1)
