-- reference.lua -- the computation of ffi_check.lua done through the Lua 5.4
-- bindings (build/hebb); prints one number per line for comparison.
local T = require "hebb.tensor"
local a = (T.arange(0, 11) * 0.5 - 1):reshape(3, 4)
local b = T.full({4, 2}, 0.25)
b:set(1, 1, 2.0)
b:set(4, 2, -1.5)
local lines = {}
local function put(x) lines[#lines + 1] = string.format("%.17g", x) end
put(a:sum())
for _, v in ipairs(a:sum(2):totable()) do put(v) end
for _, row in ipairs(T.matmul(a, b):totable()) do
  for _, v in ipairs(row) do put(v) end
end
for _, v in ipairs(T.Generator(2024, 3):randn(5):totable()) do put(v) end
print(table.concat(lines, "\n"))
