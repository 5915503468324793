-- hebb._mpi_parallel: the parts of hebb.mpi that spread work over ranks --
-- data-parallel gradients (mpi.DataParallel), ensembles of independent
-- replicas (mpi.ensemble), replica exchange (mpi.replica_exchange) and
-- sweeps (called by hebb.sweep under mpirun).
--
-- Each gives the same bits on any number of ranks: work is cut into pieces
-- that do not depend on the rank count (shards of a batch, replicas,
-- walkers, points), each piece draws from its own counter-based stream
-- (T.Generator(seed, k)), and results are combined in the order of the
-- pieces, never in the order the ranks finish.
local T = require "hebb.tensor"
local E = require "hebb._error"
local doc = require("hebb").doc

local fmt = string.format

-- pieces lo..hi (1-based, inclusive; hi < lo for none) of n given to rank r
-- of size: contiguous blocks, so that concatenating the ranks' pieces in
-- rank order gives 1..n
local function block(r, size, n)
  return r * n // size + 1, (r + 1) * n // size
end

local function comm_of(M, who, c)
  if c == nil then return M.world end
  if getmetatable(c) ~= M.Comm then E.raise("%s: comm must be a communicator, got %s", who, E.show(c)) end
  return c
end

return function(M)

-- --- data-parallel gradients --------------------------------------------------

local DP = {}
DP.__index = DP

function M.DataParallel(model, opts)
  local who = "mpi.DataParallel"
  opts = E.checkopts(who, opts, { shards = true, comm = true })
  if type(model) ~= "table" or type(model.parameters) ~= "function" then
    E.raise("%s: model must be an nn module, got %s", who, E.show(model))
  end
  local comm = comm_of(M, who, opts.comm)
  local self = setmetatable({ model = model, comm = comm, params = model:parameters(),
                              time = { shards = 0, gather = 0, sum = 0 } }, DP)
  self.shards = E.int(who, "shards", opts.shards or comm:size(), comm:size())
  for _, p in ipairs(self.params) do comm:bcast(p, 0) end   -- one starting point
  return self
end
doc(M.DataParallel, "mpi.DataParallel(model [, {shards = S, comm =}])\n\nData-parallel "
  .. "gradients for an nn module.  dp:backward(x, y, loss_fn) cuts the global batch "
  .. "(x, y; the same on every rank) into S shards along the first dimension (S "
  .. "defaults to the number of ranks and must be at least that), computes on each "
  .. "rank the gradients of its shards (loss_fn(model, xs, ys) must return the mean "
  .. "loss over the shard), gathers them and sums them in shard order, weighted by "
  .. "shard size, into every parameter's .grad on every rank.  Every rank then holds "
  .. "the same gradient, and the same bits whatever the number of ranks: 1 process "
  .. "and 4 ranks with the same S agree exactly (the gradient of the whole batch "
  .. "computed as S pieces: equal to one backward pass over the batch up to "
  .. "rounding).  The constructor broadcasts rank 0's parameters.  dp.time "
  .. "accumulates where backward's time goes, in seconds: shards (forward and "
  .. "backward passes), gather (the exchange, including waiting for the slowest "
  .. "rank), sum (the ordered sum and the writes to .grad).")

-- the flat gradients of the parameters (a row), followed by the loss
local function flat_row(self, loss)
  local parts = {}
  for i, p in ipairs(self.params) do
    parts[i] = p.grad and p.grad:reshape(p:numel()) or T.zeros(p:numel(), { dtype = p.dtype })
  end
  local dtype = self.params[1] and self.params[1].dtype or "f64"
  parts[#parts + 1] = T.tensor({ loss }, { dtype = dtype })
  return T.cat(parts)
end

function DP:backward(x, y, loss_fn)
  local who = "dp:backward"
  E.check(who, "x", x, "tensor")
  E.check(who, "loss_fn", loss_fn, "function")
  local B, S = x.ndim > 0 and x.shape[1] or 0, self.shards
  if B < S then E.raise("%s: a batch of %d rows cannot be cut into %d shards", who, B, S) end
  if y ~= nil and (not T.is_tensor(y) or y.ndim == 0 or y.shape[1] ~= B) then
    E.raise("%s: y must be a tensor with %d rows like x, got %s", who, B, E.show(y))
  end
  local lo, hi = block(self.comm:rank(), self.comm:size(), S)
  local rows, t0 = {}, M.wtime()
  for s = lo, hi do
    local first, n = (s - 1) * B // S + 1, s * B // S - (s - 1) * B // S
    self.model:zero_grad()
    local loss = loss_fn(self.model, x:narrow(1, first, n), y and y:narrow(1, first, n))
    loss:backward()
    rows[#rows + 1] = flat_row(self, loss:item()):reshape(1, -1)
  end
  local local_rows = #rows > 0 and T.cat(rows) or flat_row(self, 0):reshape(1, -1):narrow(1, 1, 0)
  local t1 = M.wtime()
  local all = self.comm:allgather(local_rows, { cat = true })
  local t2, acc = M.wtime(), nil
  for s = 1, S do
    local w = (s * B // S - (s - 1) * B // S) / B
    acc = acc and acc + all[s] * w or all[s] * w
  end
  local off = 1
  for _, p in ipairs(self.params) do
    p.grad = acc:narrow(1, off, p:numel()):reshape(p.shape):clone()
    off = off + p:numel()
  end
  local tm = self.time
  tm.shards, tm.gather, tm.sum = tm.shards + t1 - t0, tm.gather + t2 - t1, tm.sum + M.wtime() - t2
  return acc[off]
end
doc(DP.backward, "dp:backward(x, y, loss_fn)\n\nSets every parameter's .grad to the "
  .. "gradient of the mean loss over the global batch (see mpi.DataParallel) and "
  .. "returns that loss (a number).  Then step the optimizer on every rank.")

-- --- ensembles ----------------------------------------------------------------------

-- runs f(k, gen) for replicas k = lo..hi with the default generator and gen
-- both at stream k of seed
local function run_replicas(lo, hi, seed, f)
  local out, saved = {}, T.get_rng_state()
  for k = lo, hi do
    T.set_rng_state{ seed = seed, stream = k, counter = 0 }
    out[#out + 1] = f(k, T.Generator(seed, k))
  end
  T.set_rng_state(saved)
  return out
end

function M.ensemble(n, f, opts)
  local who = "mpi.ensemble"
  n = E.int(who, "n", n, 1)
  E.check(who, "f", f, "function")
  opts = E.checkopts(who, opts, { seed = true, comm = true })
  local comm = comm_of(M, who, opts.comm)
  local seed = E.int(who, "seed", opts.seed or 0, 0)
  local lo, hi = block(comm:rank(), comm:size(), n)
  local mine = run_replicas(lo, hi, seed, f)
  local all, out = comm:allgather(mine), {}
  for _, list in ipairs(all) do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return out
end
doc(M.ensemble, "mpi.ensemble(n, f [, {seed = 0, comm =}])\n\nRuns n independent "
  .. "replicas spread over the ranks in blocks: f(k, gen) for k = 1..n, where gen is "
  .. "T.Generator(seed, k) and the default generator also starts at (seed, stream k) "
  .. "(both counter-based), and returns the list of the n results, in replica order, "
  .. "on every rank.  The results are the same bits on any number of ranks.")

-- --- replica exchange --------------------------------------------------------------

local RX_OPTS = { betas = true, init = true, update = true, energy = true, measure = true,
                  rounds = true, seed = true, comm = true }

local function rx_check(who, o)
  o = E.checkopts(who, o, RX_OPTS)
  local betas = o.betas
  if T.is_tensor(betas) then betas = betas:totable() end
  if type(betas) ~= "table" or #betas < 2 then
    E.raise("%s: betas must be a list of at least 2 inverse temperatures, got %s", who, E.show(o.betas))
  end
  for i, b in ipairs(betas) do E.num(who, fmt("betas[%d]", i), b) end
  for _, k in ipairs{ "init", "update", "energy" } do E.check(who, k, o[k], "function") end
  E.check(who, "measure", o.measure, "function", true)
  return o, betas, E.int(who, "rounds", o.rounds, 1), E.int(who, "seed", o.seed or 0, 0)
end

-- the measurements of walker k: a table of numbers
local function measure(who, o, state, beta)
  local m = o.measure and o.measure(state, beta) or { E = o.energy(state) }
  if type(m) ~= "table" then E.raise("%s: measure must return a table of numbers, got %s", who, E.show(m)) end
  for k, v in pairs(m) do
    if type(v) ~= "number" then
      E.raise("%s: measurement %s is %s (a number expected)", who, E.show(k), E.show(v))
    end
  end
  return m
end

-- one exchange sweep over the neighbour pairs of one parity; u: uniforms
local function exchange(betas, E_of, at, slot, u, round, tried, accepted)
  for m = 2 - round % 2, #betas - 1, 2 do
    local a, b = at[m], at[m + 1]
    local delta = (betas[m] - betas[m + 1]) * (E_of[a] - E_of[b])
    tried[m] = tried[m] + 1
    if delta >= 0 or u[m] < math.exp(delta) then
      at[m], at[m + 1], slot[a], slot[b] = b, a, m + 1, m
      accepted[m] = accepted[m] + 1
    end
  end
end

function M.replica_exchange(o)
  local who = "mpi.replica_exchange"
  local betas, R, seed
  o, betas, R, seed = rx_check(who, o)
  local comm, n = comm_of(M, who, o.comm), #betas
  if n < comm:size() then
    E.raise("%s: %d temperatures for %d ranks (each rank needs a walker)", who, n, comm:size())
  end
  local lo, hi = block(comm:rank(), comm:size(), n)
  local walkers, slot, at = {}, {}, {}
  for k = 1, n do slot[k], at[k] = k, k end
  for k = lo, hi do
    local gen = T.Generator(seed, k)
    walkers[k] = { state = o.init(k, gen), gen = gen }
  end
  local xgen = T.Generator(seed, 0)   -- the exchanges' own stream
  local tried, accepted, names = {}, {}, nil
  for m = 1, n - 1 do tried[m], accepted[m] = 0, 0 end
  local local_meas, history = {}, {}
  for round = 1, R do
    local energies = {}
    for k = lo, hi do
      local w = walkers[k]
      local s = o.update(w.state, betas[slot[k]], w.gen)
      if s ~= nil then w.state = s end
      local m = measure(who, o, w.state, betas[slot[k]])
      energies[#energies + 1] = o.energy(w.state)
      local_meas[#local_meas + 1] = m
      names = names or m
    end
    local E_of = comm:allgather(T.tensor(energies, { dtype = "f64" }), { cat = true }):totable()
    history[round] = { table.unpack(at) }
    exchange(betas, E_of, at, slot, T.rand(n - 1, { generator = xgen }):totable(), round,
             tried, accepted)
  end
  -- measurements: [walker, round] per name, gathered in walker order, then
  -- put at the slot each walker held in each round
  local series, sorted = {}, {}
  for name in pairs(names) do sorted[#sorted + 1] = name end
  table.sort(sorted)   -- the same order on every rank (pairs' is not)
  for _, name in ipairs(sorted) do
    local mine = T.zeros(hi - lo + 1, R)
    for j = 1, #local_meas do
      local k, round = (j - 1) % (hi - lo + 1) + 1, (j - 1) // (hi - lo + 1) + 1
      mine[k][round] = local_meas[j][name]
    end
    local all = comm:allgather(mine, { cat = true })
    local by_slot = T.zeros(R, n)
    for round = 1, R do
      for m = 1, n do by_slot[round][m] = all[history[round][m]][round] end
    end
    series[name] = by_slot
  end
  local acc = {}
  for m = 1, n - 1 do acc[m] = tried[m] > 0 and accepted[m] / tried[m] or 0 end
  local walker = T.tensor(history, { dtype = "i64" })
  return { betas = T.tensor(betas), acceptance = T.tensor(acc), walker = walker, series = series }
end
doc(M.replica_exchange, "mpi.replica_exchange{betas =, init =, update =, energy = "
  .. "[, measure =, rounds =, seed = 0, comm =]}\n\nParallel tempering with its "
  .. "walkers spread over the ranks.  Walker k (1..#betas) starts at betas[k] from "
  .. "init(k, gen) and keeps its own stream gen = T.Generator(seed, k).  Each round: "
  .. "every walker runs update(state, beta, gen) at its current beta (in place, or "
  .. "returning the new state), is measured (measure(state, beta) -> table of "
  .. "numbers; default {E = energy(state)}), then neighbouring temperatures m, m+1 "
  .. "(odd m on odd rounds, even m on even rounds) swap walkers with probability "
  .. "min(1, exp((beta_m - beta_{m+1}) (E_m - E_{m+1}))), decided on every rank "
  .. "alike from stream (seed, 0).  Only energies travel between ranks.  Returns "
  .. "{betas, acceptance (per pair m, m+1), walker (i64 [rounds, #betas]: the walker "
  .. "at each temperature while measured), series = {name = [rounds, #betas] by "
  .. "temperature}}, the same bits on any number of ranks.")

-- --- sweeps over ranks ------------------------------------------------------------

local TAG = 32001   -- on a private duplicate of the world, so no user message meets it

local function sweep_root(comm, ctx, eng, pending)
  local size, expected, got = comm:size(), 0, 0
  for j = 1, #pending do if (j - 1) % size ~= 0 then expected = expected + 1 end end
  local function drain(wait)
    while got < expected and (wait or comm:iprobe(M.ANY, TAG)) do
      local r = comm:recv(M.ANY, TAG)
      ctx.store:write(r)
      eng.report(ctx, r)
      got = got + 1
    end
  end
  for j = 1, #pending, size do
    local r = eng.compute(ctx, pending[j], 0)
    ctx.store:write(r)
    eng.report(ctx, r)
    drain(false)
  end
  drain(true)
end

function M._sweep(ctx, eng)
  local comm = M.world:dup()
  local rank, size = comm:rank(), comm:size()
  local start = { pending = {} }
  if rank == 0 then
    local ok, err = pcall(function()
      ctx.store = eng.store.open(ctx.store_opts)
      start.cached = ctx.store:done(ctx.name, ctx.code)
      for i, k in ipairs(ctx.keys) do
        if not start.cached[k] then start.pending[#start.pending + 1] = i end
      end
    end)
    if not ok then start.err = tostring(err) end
  end
  start = comm:bcast(start, 0)
  if start.err then comm:free(); error(start.err, 0) end
  ctx.todo = #start.pending
  local saved = T.get_rng_state()
  local result = {}
  local ok, err = pcall(function()
    if rank == 0 then sweep_root(comm, ctx, eng, start.pending)
    else
      for j = rank + 1, #start.pending, size do
        comm:send(eng.compute(ctx, start.pending[j], rank), 0, TAG)
      end
    end
    if rank == 0 then
      result.out = eng.collect(ctx, start.cached)
      if ctx.failed then
        result.err = fmt("sweep.run: point %s failed: %s", ctx.failed.params, ctx.failed.error)
      end
      ctx.store:close()
    end
  end)
  T.set_rng_state(saved)
  if not ok then error(err, 0) end   -- a lost rank: the job is ended by MPI_Abort
  result = comm:bcast(result, 0)
  comm:free()
  if result.err then E.raise("%s", result.err) end
  return result.out
end

end
