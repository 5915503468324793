-- check.lua -- after a kill: the file must load and be one whole version.
-- Prints the version it holds; exits non-zero (with the reason) otherwise.
local T, hio = require "hebb.tensor", require "hebb.io"
local ok, v = pcall(hio.load, arg[1])
if not ok then io.stderr:write(tostring(v), "\n") os.exit(1) end
local n = 1 << 17
if type(v) ~= "table" or v.tail ~= "end" or v.data:numel() ~= n or
   v.data:min() ~= v.version or v.data:max() ~= v.version then
  io.stderr:write("the file holds a mix of versions\n") os.exit(1)
end
print(v.version)
