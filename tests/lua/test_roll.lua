-- test_roll.lua -- T.roll and T.flip: against index arithmetic written
-- here, in several dimensions, negative and large shifts, strided inputs,
-- every dtype, errors, gradients and thread counts.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"
local hebb = require "hebb"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises

T.manual_seed(3)

-- y[i][j] = x[(i - s1) mod n1][(j - s2) mod n2], 1-based
local function ref_roll2(x, s1, s2)
  local t, n1, n2, y = x:totable(), x:size(1), x:size(2), {}
  for i = 1, n1 do
    y[i] = {}
    for j = 1, n2 do y[i][j] = t[(i - 1 - s1) % n1 + 1][(j - 1 - s2) % n2 + 1] end
  end
  return y
end

test("roll_matches_index_arithmetic", function()
  local x = T.randn(5, 7)
  for _, s in ipairs({ { 1, 0 }, { 0, 3 }, { -2, 5 }, { 12, -15 }, { 5, 7 } }) do
    same(T.roll(x, s, { 1, 2 }), ref_roll2(x, s[1], s[2]), 0)
  end
  same(x:roll(2, 1), ref_roll2(x, 2, 0), 0)
  same(T.roll(x, -1, -1), ref_roll2(x, 0, -1), 0)
end)

test("roll_flat_and_3d_and_strided", function()
  local x = T.arange(1, 6):view(2, 3)
  same(T.roll(x, 1), { { 6, 1, 2 }, { 3, 4, 5 } })
  local y = T.randn(3, 4, 5)
  -- rolling dims one at a time equals rolling them together
  same(T.roll(y, { 1, -2, 3 }, { 1, 2, 3 }),
       T.roll(T.roll(T.roll(y, 1, 1), -2, 2), 3, 3), 0)
  local s = T.randn(6, 4):transpose(1, 2)
  same(T.roll(s, 2, 2), T.roll(s:contiguous(), 2, 2), 0)
  -- roll is the periodic neighbour: y[x] = s[x - e]
  local lat = T.randn(4, 4)
  eq(T.roll(lat, 1, 1)[2][3], lat[1][3], "neighbour")
  for _, dt in ipairs({ "i64", "bool", "f32", "c128" }) do
    local z = T.ones(3, 2, { dtype = dt })
    eq(T.roll(z, 1, 1).dtype, dt, dt)
  end
end)

test("flip", function()
  local x = T.arange(1, 6):view(2, 3)
  same(T.flip(x, 2), { { 3, 2, 1 }, { 6, 5, 4 } })
  same(T.flip(x, 1), { { 4, 5, 6 }, { 1, 2, 3 } })
  same(T.flip(x), { { 6, 5, 4 }, { 3, 2, 1 } })
  same(x:flip({ 1, 2 }), T.flip(x), 0)
  local y = T.randn(3, 4, 5)
  same(T.flip(T.flip(y, { 1, 3 }), { 3, 1 }), y, 0)
  eq(T.flip(T.zeros(0, 3), 1).shape[1], 0, "empty")
end)

test("errors", function()
  local x = T.ones(2, 3)
  raises(function() T.roll(x, 1, 3) end, "dimension 3 out of range for a 2-dimensional tensor")
  raises(function() T.roll(x, { 1, 2 }, { 1 }) end, "roll: 2 shifts for a different number of dims")
  raises(function() T.roll(x, { 1, 2 }, { 1, 1 }) end, "roll: dimension 1 appears twice")
  raises(function() T.roll(x, 1.5, 1) end, "number has no integer representation")
  raises(function() T.flip(x, { 2, -1 }) end, "flip: dimension 2 appears twice")
end)

test("gradients", function()
  local x = T.randn(3, 4)
  eq(A.gradcheck(function(t) return T.roll(t, { 1, -1 }, { 1, 2 }) * T.arange(1, 12):view(3, 4) end, { x }), true, "roll")
  eq(A.gradcheck(function(t) return T.roll(t, 5) * T.arange(1, 12):view(3, 4) end, { x }), true, "flat roll")
  eq(A.gradcheck(function(t) return T.flip(t, 2) * T.arange(1, 12):view(3, 4) end, { x }), true, "flip")
end)

test("same_bits_at_1_and_2_threads", function()
  local x = T.randn(700, 700)
  local old = hebb.threads()
  hebb.threads(1)
  local a, b = T.roll(x, { 3, -5 }, { 1, 2 }), T.flip(x, 1)
  hebb.threads(2)
  local c, d = T.roll(x, { 3, -5 }, { 1, 2 }), T.flip(x, 1)
  hebb.threads(old)
  eq(T.equal(a, c) and T.equal(b, d), true, "identical")
end)

check.done()
