-- fail.lua -- one rank fails while the others wait in a collective: the
-- whole job must end, with the failing rank's message, instead of hanging
-- (run by tests/mpi/run.sh)
local mpi = require "hebb.mpi"
local T = require "hebb.tensor"
if mpi.rank() == mpi.size() - 1 then
  error("rank " .. mpi.rank() .. " cannot go on")
end
mpi.allreduce(T.ones(3))
print("the other ranks went past the collective")
