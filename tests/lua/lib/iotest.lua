-- iotest.lua -- what the hebb.io suites (tests/lua/test_io*.lua) share: a
-- scratch folder, whole-file reads and writes, and CRC-32 (to make damaged
-- files whose checksums still agree).
local M = {}

-- a new empty folder, and a function giving the path of a name in it
function M.scratch()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  return dir, function(name) return dir .. "/" .. name end
end

function M.remove(dir) os.execute("rm -rf " .. dir) end

function M.slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

local function crc(poly, s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = c ~ s:byte(i)
    for _ = 1, 8 do c = (c >> 1) ~ (poly & -(c & 1)) end
  end
  return c ~ 0xFFFFFFFF
end

-- CRC-32 as zip uses it (reflected 0xEDB88320), and CRC-32C as hebb's
-- checkpoints do (reflected 0x82F63B78)
function M.crc32(s) return crc(0xEDB88320, s) end
function M.crc32c(s) return crc(0x82F63B78, s) end

return M
