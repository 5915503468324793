-- test_clock.lua -- hebb.clock(): a monotonic wall clock in seconds.
local check = require "check"
local hebb = require "hebb"
local test, eq = check.test, check.eq

test("monotonic_and_advancing", function()
  local t0, last = hebb.clock(), hebb.clock()
  for _ = 1, 1000 do
    local t = hebb.clock()
    eq(t >= last, true, "never goes back")
    last = t
  end
  local x = 0
  for i = 1, 2e6 do x = x + i end   -- some work: the clock must move
  eq(hebb.clock() > t0, true, "advances")
  eq(math.type(hebb.clock()), "float", "seconds as a float")
end)

check.done()
