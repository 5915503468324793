-- errors.lua -- exercises the error paths of every tensor binding (and some
-- normal ones) so that tests/leak/run.sh can check under valgrind that a
-- raised error leaks nothing and touches no freed or uninitialized memory.
local T = require "hebb.tensor"
local hebb = require "hebb"
local n = 0
local function fails(f, ...)
  local ok = pcall(f, ...)
  assert(not ok, "expected an error")
  n = n + 1
end

local a, b = T.ones(2, 3), T.ones(4, 5)
local i64 = T.tensor{1, 2, 3}
local freed = T.ones(2); freed:free()

-- creation and conversion
fails(T.tensor, {{1, 2}, {3}})
fails(T.tensor, {1, "x"})
fails(T.zeros, -1)
fails(T.zeros, 2, {dtype = "nope"})
fails(T.full, {2}, "x")
fails(T.arange, 1, 5, 0)
fails(function() return a:astype("c128"):astype("f64") end)
fails(function() return freed + 1 end)
fails(function() a:copy_(b) end)
fails(function() a:item() end)
-- arithmetic
fails(function() return a + b end)
-- small tensors (results in their box, no finalizer): failing fast paths,
-- and promotion to the heap by views, reductions, out= and in-place forms
do
  local s, si = T.ones(3) + 1, T.ones(2, {dtype = "i64"}) * 2
  fails(function() return si // (si * 0) end)
  fails(function() return s + T.ones(4) end)
  fails(function() return T.complex(s, s):lt(s) end)
  local v = (s * 2):view(3, 1)
  local r = (s + 1)[2]
  local m = (s - 1):sum()
  T.add(s, 1, {out = s * 0})
  local w = (s + 0):add_(1):narrow(1, 1, 2)
  local c <close> = s / 2
  local f = s + 5; f:free()
  fails(function() return f + 1 end)
  assert(v:get(3, 1) == 4 and r == 3 and m:item() == 3 and w:get(1) == 3)
end
fails(function() return a * "x" end)
fails(function() return i64 // 0 end)
fails(function() return i64 % 0 end)
fails(function() i64:add_(0.5) end)
fails(function() T.add(a, a, {out = b}) end)
fails(function() T.where(a:gt(0), a, b) end)
-- reductions
fails(function() return a:sum(3) end)
fails(function() return a:sum({1, 1}) end)
fails(function() return T.zeros(0):max() end)
fails(function() return a:norm(3.5) end)
-- views and indexing
fails(function() return a:view(4, 2) end)
fails(function() return a:narrow(1, 2, 5) end)
fails(function() return a[3] end)
fails(function() return a[{1, {1, 9}}] end)
fails(function() a[{5}] = 1 end)
fails(function() return a:permute(1, 1) end)
fails(function() return a:expand(4, 4) end)
fails(function() return T.cat({a, b}, 1) end)
fails(function() return T.stack({a, b}) end)
fails(function() return a:index_select(1, T.tensor{3}) end)
fails(function() return a:gather(1, T.tensor{{9, 1, 1}}) end)
fails(function() a:scatter_(1, T.tensor{{9, 1, 1}}, 0) end)
fails(function() a:masked_fill_(T.tensor{true, false, true, false}, 0) end)
-- linear algebra
fails(function() return T.matmul(a, b) end)
fails(function() return T.matmul(T.ones(2, 1, 3, 4), T.ones(3, 5, 2)) end)
fails(function() return T.dot(T.ones(3), T.ones(4)) end)
-- random
fails(function() return T.randint(5, 1, 3) end)
fails(function() return T.rand(-1) end)
fails(function() T.Generator(1):set_state({}) end)
-- contractions
fails(function() return T.einsum("ij,jk->ik", a, a) end)
fails(function() return T.ncon({a, a}, {{1, 2}, {1, 1, 3}}) end)
-- linear algebra, FFT, sparse
local la, fft, sparse = require "hebb.linalg", require "hebb.fft", require "hebb.sparse"
fails(function() return la.inv(T.zeros(3, 3)) end)
fails(function() return la.cholesky(-T.eye(3)) end)
fails(function() return la.solve(T.eye(3), T.ones(4)) end)
fails(function() return fft.fft(a, 3) end)
fails(function() return fft.rfft(T.ones(4, {dtype = "c128"})) end)
fails(function() return sparse.csr({1, 5}, {1, 1}, {1.0, 2.0}, {3, 3}) end)
fails(function() return sparse.eye(3):matmul(T.ones(4)) end)

-- normal work in between, so leaks of successful paths show too
for _ = 1, 20 do
  local x = T.randn(17, 5)
  local y = (x:t():matmul(x) + 1):exp():sum(1)
  local z = T.cat({x, x}, 1)[{{2, 30, 3}, {}}]:contiguous()
  local v, i = z:max(2)
  local _ = y:mean() + v:sum() + i:sum() + z:std()
  local u, sv = la.svd(x)
  local f = fft.ifft(fft.fft(x:t():contiguous()))
  local L = sparse.eye(17) * 2
  local _ = u:sum() + sv:sum() + f:abs():sum() + L:matmul(x):sum()
  local _ = T.einsum("ij,kj->ik", x, x):sum()
end
-- raw bytes
fails(function() return T.frombytes("abc", "f64", 1) end)
fails(function() return T.frombytes("", "nope", 0) end)
local _ = T.frombytes(T.randn(5, 3):t():tobytes(), "f64", 3, 5):sum()

-- autograd: recorded work, backward, grad of grad, and its errors
local A = require "hebb.autograd"
for _ = 1, 5 do
  local w = T.randn(5, 3):requires_grad_()
  local x = T.randn(4, 5)
  local h = x:matmul(w):tanh() * 1
  h:mul_(2)
  local loss = (h * h):mean() + h[{2, {1, 2}}]:sum()
  loss:backward({retain_graph = true})
  local g = A.grad(function(q) return (q ^ 3):sum() end, w)
  local _ = A.hvp(function(q) return (q:sin() * q):sum() end, w, g) + A.laplacian(
    function(q) return (q ^ 4):sum() end, T.randn(3))
  fails(function() w:add_(1) end)
  fails(function() loss:backward(T.ones(2)) end)
  A.no_grad(function() h:add_(1) end)
  fails(function() loss:backward() end)
  fails(function() A.grad(loss, T.ones(2)) end)
  fails(function() T.ones(3, {dtype = "i64"}):requires_grad_() end)
end
-- data files: every loader's refusals after partial work (tensors read
-- before a bad checksum, members before a bad CRC), and good round trips
do
  local hio = require "hebb.io"
  local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -p " .. dir)
  local v = {a = T.randn(50), b = {1, "x", T.randn(3, 2):t()}, c = T.gt(T.randn(4), 0)}
  local s = hio.encode(v)
  local _ = hio.decode(s)
  fails(hio.decode, s:sub(1, #s - 1) .. "\7")              -- data checksum, at the end
  fails(hio.decode, s:sub(1, 60) .. "\255" .. s:sub(62))   -- header checksum
  fails(hio.decode, s:sub(1, #s - 9))
  fails(hio.save, dir .. "/x.hio", {f = print})
  fails(hio.save, "/dev/full", v)
  hio.save(dir .. "/x.hio", v)
  local _ = hio.load(dir .. "/x.hio")
  fails(hio.load, dir .. "/none")
  hio.save_npz(dir .. "/z.npz", {a = T.randn(10), b = T.randn(20)}, {compress = true})
  local z = io.open(dir .. "/z.npz", "rb"):read("a")
  local f = io.open(dir .. "/bad.npz", "wb"); f:write(z:sub(1, 79) .. string.char(z:byte(80) ~ 0x20) .. z:sub(81)); f:close()
  fails(hio.load_npz, dir .. "/bad.npz")
  local _ = hio.load_npz(dir .. "/z.npz")
  hio.save_npy(dir .. "/x.npy", T.randn(6, 2):t())
  local _ = hio.load_npy(dir .. "/x.npy", {mmap = true})
  fails(hio.load_npy, dir .. "/z.npz")
  f = io.open(dir .. "/t.txt", "w"); f:write("1 2\n3 x\n"); f:close()
  fails(hio.loadtxt, dir .. "/t.txt")
  hio.savetxt(dir .. "/u.txt", T.randn(5, 2), {header = {"a", "b"}})
  local _ = hio.loadtxt(dir .. "/u.txt")
  local h = hio.h5open(dir .. "/x.h5", "w")
  h:write("a", T.randn(4, 3), {compress = true})
  h:append("s", T.randn(1, 3)); h:append("s", T.randn(2, 3))
  h:set_attr("a", "s", "text"); h:set_attr("/", "n", 3)
  local _ = h:read("a", {start = {2}}) + h:attr("/", "n")
  fails(function() return h:read("nope") end)
  fails(function() return h:write("a", T.zeros(2)) end)
  fails(function() return h:append("s", T.zeros(1, 4)) end)
  h:close()
  fails(hio.h5open, dir .. "/t.txt")
  os.execute("rm -rf " .. dir)
end
-- ordering, roll/flip, special functions, quadrature nodes
do
  local z = T.complex(T.ones(3), T.ones(3))
  local x = T.randn(4, 5)
  local _ = T.sort(x, 2) , T.topk(x, 2), T.unique(x), T.searchsorted(T.sort(x:view(-1)), x),
    T.histc(x, 7), T.roll(x, {1, 2}, {1, 2}), T.roll(x, 3), T.flip(x), T.ellipk(x), T.zeta(x)
  fails(T.sort, z)
  fails(T.topk, x, 9)
  fails(T.unique, z)
  fails(T.searchsorted, T.tensor({3., 1}), x)
  fails(T.histc, x, 0)
  fails(T.roll, x, {1, 2}, {1, 1})
  fails(T.flip, x, {1, 1})
  fails(T.gamma, z)
  fails(require("hebb._numeric").gauss_legendre, 0)
  local _ = require("hebb._numeric").gauss_legendre(9)
end
-- lattice models, Monte Carlo, exact results, statistics
do
  local lattice = require "hebb.lattice"
  local S = require "hebb.stats"
  local lat = lattice.ising{L = 4}
  local s = lat:random(2)
  lat:metropolis(s, 0.4); lat:heatbath(s, 0.4); lat:wolff(s, 0.4); lat:swendsen_wang(s, 0.4)
  local _ = lat:energy(s), lat:correlation(s), lattice.exact.enumerate(lat, 0.4),
    lattice.exact.transfer(4, 4, 0.4)
  local x = lattice.xy{L = 4}
  local xs = x:random()
  x:metropolis(xs, 1); x:overrelax(xs); x:wolff(xs, 1)
  fails(function() lat:metropolis(s, -1) end)
  fails(function() lat:metropolis(T.zeros(2, 4, 4, {dtype = "i64"}), 0.4) end)
  fails(function() lat:wolff(s, {0.1, 0.2, 0.3}) end)
  fails(function() lattice.ising{L = 4, h = 1}:swendsen_wang(s, 0.4) end)
  fails(function() lattice.exact.transfer(11, 4, 0.3) end)
  fails(function() lattice.exact.enumerate(lattice.ising{L = 6}, 0.3) end)
  fails(function() lattice.potts{L = 4, q = 1} end)
  local y = S.ar1(1000, 3)
  local _ = S.mean_error(y), S.binning(y), S.jackknife(function(a) return a end, y)
  fails(function() S.binning(T.randn(10)) end)
  fails(function() S.autocorr(T.randn(2)) end)
end
-- the results store (SQLite) and hebb.mpi at one rank
do
  local S, mpi, sweep = require "hebb._sqlite", require "hebb.mpi", require "hebb.sweep"
  local path = os.tmpname()
  local db = S.open(path)
  db:exec("CREATE TABLE x(a, b)")
  db:query("INSERT INTO x VALUES(?, ?)", 1, S.blob("\0\1"))
  fails(db.query, db, "SELECT nope FROM x")
  fails(db.query, db, "INSERT INTO x VALUES(?, ?)", 1, {})
  fails(db.query, db, "INSERT INTO x VALUES(?, ?)", 1)
  fails(S.open, "/nonexistent/dir/x.db")
  db:close()
  os.remove(path)
  local r = sweep.run({ a = { 1, 2 } }, function(p) return { x = T.ones(3) * p.a } end, { db = path })
  assert(r[2].results.x[1] == 2)
  fails(sweep.run, { a = { 1 } }, function() return { f = print } end, { db = path, name = "e" })
  os.execute("rm -f " .. path .. "*")
  local m = T.randn(4, 4)
  mpi.allreduce(m[{ {}, 2 }])
  mpi.allgather(T.ones(2, 3), { cat = true })
  mpi.scatter({ mpi.bcast({ m }) })
  fails(mpi.recv)
  fails(mpi.allreduce, T.ones(2), "land")
  mpi.split(0):free()
end
collectgarbage()
hebb.alloc_trim()
print(n .. " errors raised")
