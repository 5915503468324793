-- ising_chain.lua -- an open Ising chain of N spins (J = 1), a model with an
-- exact answer for the replica-exchange tests (test_mpi.lua, tests/mpi):
-- its bonds s_i s_{i+1} are independent, so <E> = -(N - 1) tanh(beta).
-- A walker's state is a Lua list of +-1; update is one Metropolis sweep,
-- drawing only from the walker's generator.
local T = require "hebb.tensor"

return function(N)
  local chain = {}
  function chain.init(_, gen)
    local u, s = T.rand(N, { generator = gen }):totable(), {}
    for i = 1, N do s[i] = u[i] < 0.5 and -1 or 1 end
    return s
  end
  function chain.update(s, beta, gen)
    local u = T.rand(N, { generator = gen }):totable()
    for i = 1, N do
      local dE = 2 * s[i] * ((s[i - 1] or 0) + (s[i + 1] or 0))
      if dE <= 0 or u[i] < math.exp(-beta * dE) then s[i] = -s[i] end
    end
  end
  function chain.energy(s)
    local e = 0
    for i = 1, N - 1 do e = e - s[i] * s[i + 1] end
    return e
  end
  return chain
end
