-- ranks.lua -- hebb.mpi on several ranks (run by tests/mpi/run.sh under
-- mpirun -np 2 and -np 4).  Every check runs on every rank; rank 0 prints
-- one PASS/FAIL line for all of them.  The work-spreading helpers
-- (DataParallel, ensemble, replica_exchange, sweeps) are compared bit for
-- bit with the same call on a communicator of one rank (mpi.split by rank):
-- the single-process result, computed in the same job.
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local hio = require "hebb.io"
local mpi = require "hebb.mpi"
local sweep = require "hebb.sweep"

local rank, size = mpi.rank(), mpi.size()
local self_comm = mpi.split(rank)   -- a world of one for each rank
local failed = false

local function check(name, fn)
  local ok, err = pcall(fn)
  local all = mpi.allgather(ok and "" or tostring(err))
  local bad = {}
  for r, e in ipairs(all) do if e ~= "" then bad[#bad + 1] = "rank " .. (r - 1) .. ": " .. e end end
  if #bad > 0 then failed = true end
  if rank == 0 then
    print((#bad == 0 and "PASS " or "FAIL ") .. "mpi" .. size .. "/" .. name ..
          (#bad == 0 and "" or ": " .. table.concat(bad, "; ")))
  end
end

local function eq(a, b, what)
  if a ~= b then error(string.format("%s: got %s, want %s", what or "value", tostring(a), tostring(b)), 2) end
end

local function raises(fn, needle)
  local ok, err = pcall(fn)
  if ok then error("did not raise: " .. needle, 2) end
  if not tostring(err):find(needle, 1, true) then error("raised " .. tostring(err) .. ", want " .. needle, 2) end
end

check("rank_and_size", function()
  eq(size, tonumber(os.getenv("OMPI_COMM_WORLD_SIZE")), "size")
  eq(rank, tonumber(os.getenv("OMPI_COMM_WORLD_RANK")), "rank")
  eq(mpi.launched(), true)
  mpi.barrier()
end)

check("allreduce_every_dtype", function()
  local n = size * (size - 1) // 2        -- sum of the ranks
  for _, dtype in ipairs{ "f64", "f32", "i64", "c128", "c64" } do
    local t = (T.arange(1, 5) + rank):astype(dtype)
    mpi.allreduce(t)
    local want = (T.arange(1, 5) * size + n):astype(dtype)
    eq(t:tobytes(), want:tobytes(), dtype)
  end
  local b = T.tensor({ rank == 0, false, true }, { dtype = "bool" })
  mpi.allreduce(b, "lor")
  eq(b[1], true); eq(b[2], false)
  local a = T.tensor({ rank == 0, true }, { dtype = "bool" })
  mpi.allreduce(a, "land")
  eq(a[1], false); eq(a[2], true)
  eq(mpi.allreduce(rank, "max"), size - 1)
  eq(mpi.allreduce(rank + 1, "prod"), ({ 1, 2, 6, 24 })[size])
  eq(mpi.allreduce(rank + 0.5, "min"), 0.5)
  -- in place on a strided view: only that column changes
  local m = T.zeros(3, 4)
  local col = m[{ {}, 2 }]
  col:fill_(rank + 1)
  mpi.allreduce(col)
  eq(m[1][2], (size * (size + 1) // 2) + 0.0, "view written back")
  eq(m[1][1], 0.0, "rest untouched")
end)

check("allreduce_ordered_is_a_fold_in_rank_order", function()
  local x = T.randn(1000, { generator = T.Generator(5, rank) }) * 1e3
  local rows = mpi.allgather(x:clone(), { cat = false })
  local fold = rows[1]
  for r = 2, size do fold = fold + rows[r] end
  local o = x:clone()
  mpi.allreduce(o, "sum", { ordered = true })
  eq(o:tobytes(), fold:tobytes(), "ordered sum")
  local d = x:clone()
  mpi.allreduce(d)
  assert((d - fold):abs():max() < 1e-9, "MPI's sum agrees to rounding")
  local every = mpi.allgather(o:tobytes())
  for r = 2, size do eq(every[r], every[1], "the same bits on every rank") end
end)

check("reduce_bcast_gather_scatter", function()
  local t = T.ones(2) * (rank + 1)
  mpi.reduce(t, "sum", size - 1)
  if rank == size - 1 then eq(t[1], size * (size + 1) / 2) else eq(t[1], rank + 1.0) end
  local v = mpi.bcast(rank == 1 and { msg = "from 1", t = T.arange(1, 3) } or nil, 1)
  eq(v.msg, "from 1"); eq(v.t[3], 3)
  local w = rank == 0 and T.arange(1, 6):astype("f32") or (rank == 1 and T.zeros(6, { dtype = "f32" }) or nil)
  w = mpi.bcast(w, 0)
  eq(w.dtype, "f32"); eq(w[6], 6.0)
  local g = mpi.gather({ r = rank }, 0)
  if rank == 0 then eq(#g, size); eq(g[size].r, size - 1) else eq(g, nil) end
  local all = mpi.allgather(T.ones(rank + 1, 2) * rank, { cat = true })
  eq(all.shape[1], size * (size + 1) // 2); eq(all[all.shape[1]][1], size - 1.0)
  local c = mpi.gather(T.full({ 1 }, rank):astype("i64"), 0, { cat = true })
  if rank == 0 then eq(c[size], size - 1) else eq(c, nil) end
  local list
  if rank == 0 then list = {}; for r = 1, size do list[r] = { k = r * 10 } end end
  eq(mpi.scatter(list, 0).k, (rank + 1) * 10)
end)

check("send_recv_ring", function()
  local nxt, prv = (rank + 1) % size, (rank - 1) % size
  local msg = { from = rank, t = T.full({ 2, 2 }, rank):astype("c64") }
  local got, src, tag
  if rank % 2 == 0 then
    mpi.send(msg, nxt, 7)
    got, src, tag = mpi.recv(prv, 7)
  else
    got, src, tag = mpi.recv(mpi.ANY, mpi.ANY)
    mpi.send(msg, nxt, 7)
  end
  eq(got.from, prv); eq(src, prv); eq(tag, 7)
  eq(got.t.dtype, "c64")
  mpi.barrier()
  eq(mpi.iprobe(), false, "nothing left")
end)

check("split_communicators", function()
  local sub = mpi.split(rank % 2)
  local members = (size + 1 - rank % 2) // 2
  eq(sub:size(), members)
  eq(sub:rank(), rank // 2)
  local s = sub:allreduce(rank)
  local want = 0
  for r = rank % 2, size - 1, 2 do want = want + r end
  eq(s, want)
  sub:free()
  local only0 = mpi.split(rank == 0 and 0 or nil)
  eq(only0 ~= nil, rank == 0)
  eq(self_comm:size(), 1)
end)

check("mismatched_shapes_fail_on_every_rank", function()
  raises(function() mpi.allreduce(T.ones(rank + 2)) end,
         "mpi.allreduce: the tensors differ across ranks: rank 0 has f64 tensor of shape {2}, rank 1 has f64 tensor of shape {3}")
  raises(function() mpi.allreduce(rank == 0 and T.ones(2) or T.ones(2):astype("f32")) end,
         "rank 1 has f32 tensor of shape {2}")
  raises(function() mpi.bcast(T.ones(rank + 1), 0) end, "mpi.bcast: the tensors differ across ranks")
  raises(function() mpi.allgather(T.ones(2, rank + 1), { cat = true }) end,
         "mpi.allgather: the dtypes and trailing shapes differ across ranks")
  raises(function() mpi.send(1, rank) end, "sending to itself would wait forever")
  raises(function() mpi.bcast(1, size) end, "mpi.bcast: root must be an integer in 0.." .. (size - 1) .. ", got " .. size)
  mpi.barrier()   -- every rank is still in step
end)

-- --- the helpers: the same bits as one rank ------------------------------------

local function train(comm)
  T.manual_seed(3)
  local model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1))
  local x = T.randn(24, 5)
  local y = (x:sum(2) * 0.5):sin():reshape(24, 1)
  local dp = mpi.DataParallel(model, { shards = 4, comm = comm })
  local opt = optim.Adam(model:parameters(), { lr = 0.01 })
  local losses = {}
  for step = 1, 5 do
    opt:zero_grad()
    losses[step] = dp:backward(x, y, function(m, xs, ys) return nn.mse_loss(m(xs), ys) end)
    opt:step()
  end
  return hio.encode{ state = model:state_dict(), losses = losses }
end

check("data_parallel_same_bits_as_one_process", function()
  local here = train(mpi.world)
  local alone = train(self_comm)
  eq(here == alone, true, "parameters and losses after 5 Adam steps")
  local every = mpi.allgather(here)
  for r = 2, size do eq(every[r] == every[1], true, "rank " .. (r - 1) .. " in sync") end
end)

check("ensemble_same_bits", function()
  local function f(k, gen) return { k = k, x = T.randn(4, { generator = gen }), y = T.rand(1):item() } end
  eq(hio.encode(mpi.ensemble(7, f, { seed = 2 })) == hio.encode(mpi.ensemble(7, f, { seed = 2, comm = self_comm })),
     true, "7 replicas")
end)

local N = 10
local chain = require("ising_chain")(N)

check("replica_exchange_same_bits", function()
  local function run(comm)
    local o = mpi.replica_exchange{ betas = { 0.1, 0.4, 0.7, 1.0 }, init = chain.init,
      update = chain.update, energy = chain.energy, rounds = 300, seed = 4, comm = comm,
      measure = function(s, beta) return { E = chain.energy(s), m = s[1] * beta } end }
    return hio.encode(o)
  end
  eq(run(mpi.world) == run(self_comm), true, "series, walkers, acceptance")
end)

check("replica_exchange_lattice_same_bits", function()
  local lattice = require "hebb.lattice"
  local lat = lattice.ising{ L = 6 }
  local function run(comm)
    return hio.encode(mpi.replica_exchange{ betas = { 0.2, 0.35, 0.44, 0.55 }, rounds = 100,
      seed = 8, comm = comm,
      init = function(_, gen) return lat:random({ generator = gen }) end,
      update = function(s, beta, gen) lat:metropolis(s, beta, { generator = gen, sweeps = 2 }) end,
      energy = function(s) return lat:energy(s) end,
      measure = function(s) return { E = lat:energy(s), M = math.abs(lat:magnetization(s)) } end })
  end
  eq(run(mpi.world) == run(self_comm), true, "series, walkers, acceptance")
end)

check("sweep_over_ranks", function()
  local dir = mpi.bcast(rank == 0 and os.tmpname() or nil)
  local function f(p) return { sq = p.i * p.i, r = T.rand(3), who = mpi.rank() } end
  local params = { i = { 1, 2, 3, 4, 5, 6, 7 } }
  local out = sweep.run(params, f, { db = dir .. ".db", name = "ranks" })
  eq(out.computed, 7)
  local again = sweep.run(params, f, { db = dir .. ".db", name = "ranks" })
  eq(again.cached, 7, "all cached")
  local ref
  if rank == 0 then ref = sweep.run(params, f, { db = dir .. "-ref.db", name = "ranks", mpi = false }) end
  ref = mpi.bcast(ref)
  local workers = {}
  for i = 1, 7 do
    eq(out[i].results.sq, i * i)
    eq(out[i].results.r:tobytes(), ref[i].results.r:tobytes(), "point " .. i .. " bits")
    workers[out[i].results.who] = true
  end
  eq(#workers + (workers[0] and 1 or 0), size, "every rank computed points")
  if rank == 0 then os.remove(dir); os.execute("rm -f " .. dir .. "*.db*") end
end)

mpi.barrier()
os.exit(failed and 1 or 0)
