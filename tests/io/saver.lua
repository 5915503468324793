-- saver.lua -- the process tests/io/run.sh kills: saves versions 1, 2, 3 ...
-- of a 1 MB checkpoint over one file as fast as it can.  Every version's
-- tensor holds its version number, so a reader can tell a whole file from
-- a mix of two.
local T, hio = require "hebb.tensor", require "hebb.io"
local path, once = arg[1], arg[2] == "once"
local n = 1 << 17
if once then   -- version 0, the file that exists before the first kill
  hio.save(path, { version = 0, data = T.full({ n }, 0), tail = "end" })
  return
end
for v = 1, math.huge do
  hio.save(path, { version = v, data = T.full({ n }, v), tail = "end" })
end
