-- test_mpi.lua -- hebb.mpi without mpirun (stdlib/hebb/mpi.lua,
-- _mpi_parallel.lua over natives/core/mpi.c): a world of one rank that does
-- not load libmpi, where every collective works as MPI's would at size 1;
-- arguments refused by name; and the work-spreading helpers checked against
-- what they must compute: data-parallel gradients against the full batch,
-- ensembles against their generators, replica exchange on a 1D Ising chain
-- against the exact energy -(N-1) tanh(beta).  tests/mpi runs the same
-- helpers on 2 and 4 ranks and requires the same bits.
local check = require "check"
local T = require "hebb.tensor"
local nn = require "hebb.nn"
local mpi = require "hebb.mpi"
local test, eq, raises, truthy, near = check.test, check.eq, check.raises, check.truthy, check.near

test("one_rank_without_libmpi", function()
  eq(mpi.rank(), 0)
  eq(mpi.size(), 1)
  eq(mpi.launched(), false)
  local f = assert(io.open("/proc/self/maps"))
  local maps = f:read("a")
  f:close()
  truthy(not maps:find("libmpi", 1, true), "libmpi is not loaded")
  mpi.barrier()
end)

test("collectives_at_size_1", function()
  for _, dtype in ipairs{ "f64", "f32", "i64", "c128", "c64" } do
    local t = T.arange(1, 6):astype(dtype)
    local before = t:tobytes()
    eq(mpi.allreduce(t), t, dtype .. " in place")
    eq(t:tobytes(), before, dtype .. " unchanged")
  end
  local b = T.tensor({ true, false }, { dtype = "bool" })
  mpi.allreduce(b, "lor")
  eq(b[1], true)
  eq(mpi.allreduce(7), 7)
  eq(math.type(mpi.allreduce(7)), "integer")
  eq(mpi.allreduce(2.5, "max"), 2.5)
  local m = T.randn(4, 4)
  local col = m[{ {}, 2 }]
  mpi.allreduce(col, "sum", { ordered = true })
  eq(mpi.bcast({ a = { 1, 2 } }).a[2], 2)
  eq(mpi.bcast(m), m)
  eq(mpi.bcast(nil), nil)
  eq(mpi.gather(5)[1], 5)
  eq(#mpi.allgather("x"), 1)
  local c = mpi.allgather(T.ones(3, 2), { cat = true })
  eq(table.concat(c.shape, ","), "3,2")
  eq(mpi.scatter({ { k = 1 } }).k, 1)
  eq(mpi.iprobe(), false)
  local sub = mpi.split(0)
  eq(sub:size(), 1)
  eq(sub:allreduce(3), 3)
  eq(mpi.split(nil), nil)
  local d = mpi.dup()
  eq(d:rank(), 0)
  d:free()
  truthy(mpi.wtime() > 0)
end)

test("bad_arguments", function()
  raises(function() mpi.bcast(1, 1) end, "mpi.bcast: root must be an integer in 0..0, got 1")
  raises(function() mpi.allreduce(T.ones(2), "avg") end,
         "mpi.allreduce: op must be one of sum, prod, max, min, land, lor, got \"avg\"")
  raises(function() mpi.allreduce(T.ones(2), "land") end, "mpi.allreduce: op 'land' is not defined for f64 tensors")
  raises(function() mpi.allreduce(T.ones(2):astype("c128"), "max") end,
         "mpi.allreduce: op 'max' is not defined for c128 tensors")
  raises(function() mpi.allreduce(T.ones(2):astype("bool"), "sum") end,
         "mpi.allreduce: op 'sum' is not defined for bool tensors")
  raises(function() mpi.allreduce("x") end, "mpi.allreduce: expected a tensor or a number, got \"x\"")
  raises(function() mpi.allreduce(T.ones(2), "sum", { orderd = true }) end,
         "mpi.allreduce: unknown option \"orderd\" (did you mean 'ordered'?)")
  raises(function() mpi.send(1, 0) end, "mpi.send: rank 0 sending to itself would wait forever; keep the value instead")
  raises(function() mpi.send(1, 3) end, "mpi.send: dest must be an integer in 0..0, got 3")
  raises(function() mpi.recv() end, "mpi.recv: recv: this is a world of one rank (run under mpirun for more)")
  raises(function() mpi.send(1, 0, 40000) end, "mpi.send: tag must be an integer in 0..32767, got 40000")
  raises(function() mpi.scatter({ 1, 2 }) end, "mpi.scatter: root needs a list of 1 values (one per rank), got a list of 2")
  raises(function() mpi.gather(1, 0, { cat = true }) end, "mpi.gather: cat = true needs a tensor, got 1")
  raises(function() mpi.split(-2) end, "mpi.split: color must be an integer in 0..1073741823, got -2")
  raises(function() mpi.gather(print) end, "mpi.gather: io.encode: cannot save a function")
  raises(function() mpi.abort(300) end, "mpi.abort: code must be an integer in 0..255, got 300")
end)

-- a small MLP and its data; the same on every rank (seeded)
local function setup()
  T.manual_seed(11)
  local model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))
  local x = T.randn(10, 3)
  local y = x:sum(2):reshape(10, 1):sin()
  return model, x, y
end
local function loss_fn(model, xs, ys) return nn.mse_loss(model(xs), ys) end

test("data_parallel_gradient_is_the_batch_gradient", function()
  local model, x, y = setup()
  local dp = mpi.DataParallel(model, { shards = 4 })   -- shards of 3, 2, 3, 2 rows
  local loss = dp:backward(x, y, loss_fn)
  local got = {}
  for i, p in ipairs(model:parameters()) do got[i] = p.grad:clone() end
  model:zero_grad()
  local full = loss_fn(model, x, y)
  full:backward()
  -- the shard-weighted sum equals the full-batch gradient up to rounding
  -- (a few ulps of values of order 1: 1e-14)
  near(loss, full:item(), 1e-14, "loss")
  for i, p in ipairs(model:parameters()) do
    near((p.grad - got[i]):abs():max(), 0, 1e-14, "gradient " .. i)
  end
  raises(function() dp:backward(x:narrow(1, 1, 3), y, loss_fn) end,
         "dp:backward: a batch of 3 rows cannot be cut into 4 shards")
  raises(function() mpi.DataParallel(model, { shards = 0 }) end,
         "mpi.DataParallel: shards must be an integer >= 1, got 0")
end)

test("ensemble_streams", function()
  local r = mpi.ensemble(5, function(k, gen)
    return { k = k, a = T.randn(3, { generator = gen }), b = T.rand(2) }
  end, { seed = 9 })
  eq(#r, 5)
  for k = 1, 5 do
    eq(r[k].k, k)
    eq(r[k].a:tobytes(), T.randn(3, { generator = T.Generator(9, k) }):tobytes(), "replica " .. k .. " stream")
    eq(r[k].b:tobytes(), T.rand(2, { generator = T.Generator(9, k) }):tobytes(), "default generator at (9, k)")
  end
  raises(function() mpi.ensemble(0, print) end, "mpi.ensemble: n must be an integer >= 1, got 0")
end)

-- an open Ising chain (tests/lua/lib/ising_chain.lua): <E> = -(N-1) tanh(beta)
local N = 12
local chain = require("ising_chain")(N)

test("replica_exchange_ising_chain", function()
  local betas = { 0.2, 0.5, 0.8, 1.1 }
  local R = 4000
  local out = mpi.replica_exchange{ betas = betas, init = chain.init, update = chain.update,
                                    energy = chain.energy, rounds = R, seed = 3 }
  eq(table.concat(out.series.E.shape, ","), R .. ",4")
  for m, beta in ipairs(betas) do
    -- mean over rounds 201..R, error from 19 blocks of 200 rounds
    local e = out.series.E[{ { 201, R }, m }]
    local blocks = e:reshape(19, 200):mean(2)
    local mean, se = blocks:mean(), blocks:std() / math.sqrt(19)
    local exact = -(N - 1) * math.tanh(beta)
    truthy(math.abs(mean - exact) < 5 * se + 0.02,
           string.format("beta %g: %.4f +- %.4f, exact %.4f", beta, mean, se, exact))
  end
  for m = 1, 3 do
    local a = out.acceptance[m]
    truthy(a > 0.05 and a < 1, "acceptance " .. m .. ": " .. a)
  end
  -- each round the walkers are a permutation of 1..4
  for round = 1, R, 397 do
    local seen = {}
    for m = 1, 4 do seen[out.walker[round][m]] = true end
    eq(#seen, 4)
  end
  raises(function() mpi.replica_exchange{ betas = { 1 }, init = chain.init, update = chain.update,
                                          energy = chain.energy, rounds = 1 } end,
         "mpi.replica_exchange: betas must be a list of at least 2 inverse temperatures, got a table")
  raises(function() mpi.replica_exchange{ betas = { 1, 2 }, init = chain.init, update = chain.update,
                                          energy = chain.energy, rounds = 1, measure = function() return { x = "a" } end } end,
         "mpi.replica_exchange: measurement \"x\" is \"a\" (a number expected)")
end)

-- hebb.lattice walkers: a 4 x 4 Ising torus against exact enumeration
test("replica_exchange_lattice_ising", function()
  local lattice = require "hebb.lattice"
  local lat = lattice.ising{ L = 4 }
  local betas = { 0.2, 0.3, 0.44, 0.6 }
  local R = 3000
  local out = mpi.replica_exchange{ betas = betas, rounds = R, seed = 5,
    init = function(_, gen) return lat:random({ generator = gen }) end,
    update = function(s, beta, gen) lat:metropolis(s, beta, { generator = gen }) end,
    energy = function(s) return lat:energy(s) end }
  for m, beta in ipairs(betas) do
    -- per site, rounds 201..R in 14 blocks of 200
    local blocks = (out.series.E[{ { 201, R }, m }] / lat.N):reshape(14, 200):mean(2)
    local mean, se = blocks:mean(), blocks:std() / math.sqrt(14)
    local exact = lattice.exact.enumerate(lat, beta).e
    truthy(math.abs(mean - exact) < 5 * se + 0.01,
           string.format("beta %g: %.4f +- %.4f, exact %.4f", beta, mean, se, exact))
  end
end)

-- every public function called with junk either works or raises hebb's own
-- message at the caller's line (mpi.abort, which ends the process, aside)
test("junk_arguments", function()
  local FILE = debug.getinfo(1, "S").short_src
  local junk = { { nil }, { "junk" }, { -1 }, { 0 / 0 }, { 1e300 }, { {} }, { 3, "junk" },
                 { T.ones(2), -5 }, { T.ones(2), { bogus = 1 } } }
  local bad, n = {}, 0
  for k, f in pairs(mpi) do
    if type(f) == "function" and k ~= "abort" and k:sub(1, 1) ~= "_" then
      n = n + 1
      for _, args in ipairs(junk) do
        local ok, err = pcall(f, table.unpack(args, 1, 2))
        err = tostring(err)
        if not ok and (err:sub(1, #FILE + 1) ~= FILE .. ":" or err:find("attempt to")
                       or err:find("bad argument")) then
          bad[#bad + 1] = "mpi." .. k .. ": " .. err:gsub("\n.*", "")
        end
      end
    end
  end
  truthy(n >= 19, "functions: " .. n)
  table.sort(bad)
  eq(table.concat(bad, "\n"), "", "calls that fail badly")
end)

check.done()
