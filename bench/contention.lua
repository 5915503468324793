-- contention.lua -- the loop of bench/contention.sh: `T.add(a, b, {out = o});
-- o:sum()` on 3e5 f64 elements (issue 8's reproducer), run for a fixed
-- wall-clock window after a warm-up, so that processes started together
-- contend for the whole window.  Prints the seconds per iteration.
-- usage: build/hebb [--threads N] bench/contention.lua SECONDS
--        build/hebb bench/contention.lua median FILE
--   (the second form reads the "row side rep seconds" lines that
--    contention.sh collected and prints the "key value" results)
local clock = require("hebb").clock

local function loop(seconds)
  local T = require "hebb.tensor"
  local n = 300000
  local a, b, o = T.rand(n), T.rand(n), T.empty(n)
  local s = 0
  for _ = 1, 20 do T.add(a, b, {out = o}); s = s + o:sum() end
  local iters, t0 = 0, clock()
  local t = t0
  while t - t0 < seconds do
    T.add(a, b, {out = o})
    s = s + o:sum()
    iters = iters + 1
    t = clock()
  end
  assert(s > 0)
  io.write(string.format("%.9g\n", (t - t0) / iters))
end

local function median(xs)
  table.sort(xs)
  local m = #xs // 2
  return #xs % 2 == 1 and xs[m + 1] or (xs[m] + xs[m + 1]) / 2
end

-- lines "row side rep seconds": side is default or one; a rep may have
-- several processes per side (the pair row), whose times are averaged
local function summarize(file)
  local t = {}
  for line in io.lines(file) do
    local row, side, rep, sec = line:match("^(%S+) (%S+) (%d+) (%S+)$")
    if row then
      t[row] = t[row] or {}
      local r = t[row]
      r[rep] = r[rep] or { default = {}, one = {} }
      table.insert(r[rep][side], tonumber(sec))
    end
  end
  local function mean(xs)
    local s = 0
    for _, x in ipairs(xs) do s = s + x end
    return s / #xs
  end
  for row, reps in pairs(t) do
    local d, o, q, list = {}, {}, {}, {}
    for _, r in pairs(reps) do
      if #r.default > 0 and #r.one > 0 then
        local x, y = mean(r.default), mean(r.one)
        d[#d + 1], o[#o + 1], q[#q + 1] = x, y, x / y
      end
    end
    for i, x in ipairs(q) do list[i] = string.format("%.2f", x) end
    print("contention." .. row .. ".default " .. median(d))
    print("contention." .. row .. ".one " .. median(o))
    print("contention." .. row .. ".ratio " .. median(q))
    table.sort(list)
    print("contention." .. row .. ".ratios " .. table.concat(list, ","))
  end
end

if arg[1] == "median" then summarize(arg[2])
else loop(tonumber(arg[1]) or 0.5) end
