-- test_max_memory.lua -- the cap on tensor memory (hebb.max_memory, the
-- command's --max-memory and HEBB_MAX_MEMORY: tests/cli): an allocation
-- past it raises an error naming the operation, the request and the cap,
-- changes nothing, and comes only after the collector has freed what it
-- can.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local test, eq, truthy = check.test, check.eq, check.truthy

local MiB = 1 << 20

local function in_use() return hebb.alloc_stats().bytes_in_use end

-- runs fn with a cap of 'extra' bytes above what is in use now
local function capped(extra, fn)
  collectgarbage()
  hebb.max_memory(in_use() + extra)
  local ok, err = pcall(fn)
  hebb.max_memory(0)
  if not ok then error(err, 0) end
end

-- the message of fn's error (fn must fail)
local function message(fn)
  local ok, err = pcall(fn)
  truthy(not ok, "the call fails")
  return tostring(err)
end

test("set_get_remove", function()
  eq(hebb.max_memory(), nil, "no cap by default")
  eq(hebb.max_memory("2G"), 2 * 1024 * MiB)
  eq(hebb.max_memory(), 2 * 1024 * MiB, "the cap stays")
  eq(hebb.max_memory("1.5GiB"), 1536 * MiB)
  eq(hebb.max_memory("64k"), 64 * 1024)
  eq(hebb.max_memory(123456789), 123456789)
  eq(hebb.max_memory(0), nil)
  hebb.max_memory("1M")
  eq(hebb.max_memory(false), nil)
end)

test("bad_arguments", function()
  local e = message(function() hebb.max_memory("lots") end)
  truthy(e:find("bad size 'lots' (expected bytes or a size like 512M or 2G)", 1, true), e)
  e = message(function() hebb.max_memory(-1) end)
  truthy(e:find("a size in bytes must be >= 0 (0: no limit)", 1, true), e)
  e = message(function() hebb.max_memory({}) end)
  truthy(e:find("number expected, got table", 1, true), e)
  eq(hebb.max_memory(), nil, "a bad call leaves no cap")
end)

test("error_names_operation_request_and_limit", function()
  capped(64 * MiB, function()
    local e = message(function() return T.zeros(1e8) end)
    truthy(e:match("zeros: out of memory: 762%.9 MiB requested, limit [%d.]+ MiB %([%d.]+ [KMG]?i?B in use%)$"), e)
    local x = T.ones(1000)
    e = message(function() return x:expand(10000, 1000) + 1 end)
    truthy(e:find("add: out of memory: 76.3 MiB requested", 1, true), e)
    e = message(function() return x:expand(10000, 1000):exp() end)
    truthy(e:find("exp: out of memory: 76.3 MiB requested", 1, true), e)
    e = message(function() return T.randn(3000, 3000) end)
    truthy(e:find("randn: out of memory: 68.7 MiB requested", 1, true), e)
  end)
end)

test("failure_changes_nothing", function()
  local a = T.arange(1, 1000):astype("f64")
  capped(MiB, function()
    local before = hebb.alloc_stats()
    for _ = 1, 100 do pcall(function() return a:expand(1000, 1000) * 2 end) end
    local after = hebb.alloc_stats()
    eq(after.bytes_in_use, before.bytes_in_use, "bytes in use")
    eq(a:sum(), 500500.0, "the input")
    eq((a * 2):sum(), 1001000.0, "an allocation within the cap still works")
  end)
end)

-- dropped tensors of 40 MiB through a 64 MiB cap: each allocation needs
-- the last one's memory, which the collector has not freed yet (its step
-- after an allocation runs while the new tensor is alive).  The allocator
-- asks for a collection instead of failing -- also with the collector
-- stopped (an explicit collection still runs) and inside a coroutine.
test("garbage_is_collected_before_failing", function()
  local n = 5 * MiB   -- 40 MiB of f64
  capped(64 * MiB, function()
    for _ = 1, 20 do local t = T.zeros(n) end
    collectgarbage("stop")
    local ok, err = pcall(function() for _ = 1, 20 do local t = T.zeros(n) end end)
    collectgarbage("restart")
    truthy(ok, err)
    local co = coroutine.wrap(function()
      for _ = 1, 20 do local t = T.ones(n); coroutine.yield(t:numel()) end
      return "done"
    end)
    local last
    for _ = 1, 21 do last = co() end
    eq(last, "done", "a coroutine allocating past the cap")
    local x = T.ones(n)
    local e = message(function() return x + 1 end)   -- 80 MiB live: a real failure
    truthy(e:find("add: out of memory: 40.0 MiB requested, limit", 1, true), e)
  end)
end)

test("cache_stays_under_the_cap", function()
  capped(32 * MiB, function()
    local cap = hebb.max_memory()
    for i = 1, 50 do local t = T.zeros((i % 7 + 1) * 100000) end
    local st = hebb.alloc_stats()
    truthy(st.bytes_in_use + st.bytes_cached <= cap,
      string.format("in use %d + cached %d <= cap %d", st.bytes_in_use, st.bytes_cached, cap))
  end)
end)

-- a failed backward leaves the tape usable: with room, it runs again
test("autograd_past_the_cap", function()
  local A = require "hebb.autograd"
  local x = T.ones(1000):requires_grad_()
  local y = (x:expand(4000, 1000) * 2):sum()
  local e
  capped(8 * MiB, function()
    e = message(function() y:backward({ retain_graph = true }) end)
  end)
  truthy(e:find("out of memory:", 1, true), e)
  y:backward()
  eq(x.grad:sum(), 8000000.0, "backward after the cap is lifted")
  eq(A.grad(function(z) return (z * z):sum() end, { T.tensor({ 3.0 }) })[1]:item(), 6.0)
end)

check.done()
