-- test_io_h5.lua -- HDF5 in hebb.io (natives/core/io_hdf5.c over Debian's
-- libhdf5): h5py writes every kind of dataset and attribute and hebb reads
-- the same bits; hebb writes and h5py (tests/lua/lib/h5_oracle.py) reads
-- the same bits, chunks, compression and growable shapes; blocks read and
-- written; a Monte Carlo series appended during a run; errors.
local check = require "check"
local T = require "hebb.tensor"
local hio = require "hebb.io"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy

local PY = "/usr/bin/python3"
local ORACLE = "tests/lua/lib/h5_oracle.py"
local iotest = require "iotest"
local slurp = iotest.slurp
local dir, path = iotest.scratch()

local function binname(name) return path(name:gsub("/", "_") .. ".bin") end

test("h5py_writes_hebb_reads", function()
  truthy(os.execute(PY .. " " .. ORACLE .. " write " .. path("py.h5") .. " " .. dir), "h5py wrote the file")
  local f <close> = hio.h5open(path("py.h5"))
  local n = 0
  for line in io.lines(path("h5py.txt")) do
    local name, dtype, shape = line:match("^([^|]*)|([^|]*)|(.*)$")
    local t = f:read(name)
    eq(t.dtype, dtype, name)
    eq(table.concat(t.shape, ","), shape, name)
    eq(t:tobytes(), slurp(binname(name)), name .. " bits")
    n = n + 1
  end
  eq(n, 13, "datasets")
  eq(table.concat(f:list(), ","), "b,c128,c64,empty,f16,f32,f64,grow,grp,gz,i64,scalar,strings,u64")
  eq(table.concat(f:list("grp"), ","), "i32,i8,u8")
  local a = f:attrs("/")
  eq(a.L, 32); eq(math.type(a.L), "integer"); eq(a.beta, 0.4406868); eq(a.model, "ising"); eq(a.flag, true)
  truthy(T.equal(f:attr("f64", "couplings"), T.arange(0, 3):astype("f64")), "array attribute")
  eq(f:attr("f64", "missing"), nil)
  local gz = f:info("gz")
  eq(gz.kind, "dataset"); eq(gz.dtype, "f64"); eq(table.concat(gz.chunks, ","), "50,10")
  eq(f:info("grow").maxshape[1], math.huge); eq(f:info("grow").maxshape[2], 4)
  eq(f:info("grp").kind, "group"); eq(f:info("nothing"), nil); eq(f:exists("grp/u8"), true)
  eq(f:info("u64").type, "unsigned 64-bit integer elements of 8 bytes")
  local p = "io.h5read: '" .. path("py.h5") .. "': "
  raises(function() f:read("u64") end, p .. "'u64' holds unsigned 64-bit integer elements of 8 bytes, which hebb lacks")
  raises(function() f:read("f16") end, p .. "'f16' holds float elements of 2 bytes, which hebb lacks")
  raises(function() f:read("strings") end, p .. "'strings' holds string elements of 2 bytes, which hebb lacks")
end)

test("hebb_writes_h5py_reads", function()
  local g, lines = T.Generator(12), {}
  local f <close> = hio.h5open(path("hebb.h5"), "w")
  local function keep(name, t, opts, chunks, gzip, grow)
    f:write(name, t, opts)
    local out = assert(io.open(binname(name), "wb"))
    out:write(t:contiguous():tobytes())
    out:close()
    lines[#lines + 1] = table.concat({ name, t.dtype, table.concat(t.shape, ","), chunks or "", gzip or "", grow or "" }, "|")
  end
  local x = g:randn(6, 5) * 100
  keep("f64", x)
  keep("f32", x:astype("f32"))
  keep("i64", (x * 1e6):astype("i64"))
  keep("bool", x:gt(0))
  keep("c128", T.complex(x, -x))
  keep("c64", T.complex(x, x * 2):astype("c64"))
  keep("view", x:t())
  keep("scalar", T.full({}, -0.5))
  keep("empty", T.zeros(0, 4))
  keep("runs/7/E", g:randn(100))
  keep("chunked", g:randn(300, 20), { chunks = { 100, 10 }, compress = 6 }, "100,10", "6")
  keep("gz", T.zeros(1000), { compress = true }, nil, "4")
  keep("grow", g:randn(3, 2), { growable = 1 }, nil, nil, "1")
  f:set_attr("/", "L", 64)
  f:set_attr("/", "T", 2.269)
  f:set_attr("/", "model", "ising")
  f:set_attr("/", "periodic", true)
  f:set_attr("f64", "scale", T.tensor({ 1, 2 }))
  f:close()
  local out = assert(io.open(path("hebb.txt"), "w"))
  out:write(table.concat(lines, "\n"), "\n")
  out:close()
  local res = io.popen(PY .. " " .. ORACLE .. " check " .. path("hebb.h5") .. " " .. dir):read("a")
  local ok, bad, attrs = 0, {}, {}
  for line in res:gmatch("[^\n]+") do
    if line:sub(1, 3) == "ok " then ok = ok + 1
    elseif line:sub(1, 5) == "attr " then attrs[#attrs + 1] = line:sub(6)
    else bad[#bad + 1] = line end
  end
  eq(table.concat(bad, "; "), "", "h5py disagrees")
  eq(ok, #lines, "datasets h5py checked")
  eq(table.concat(attrs, "; "), "L int64 64; T float64 2.269; model str 'ising'; periodic bool_ True")
end)

test("blocks", function()
  local f <close> = hio.h5open(path("blocks.h5"), "w")
  local x = T.randn(8, 6, 4)
  f:write("x", x, { chunks = { 3, 2, 4 } })
  truthy(T.equal(f:read("x", { start = { 2, 3, 1 }, count = { 4, 2, 4 } }), x[{ { 2, 5 }, { 3, 4 }, {} }]), "a block")
  truthy(T.equal(f:read("x", { start = { 7 } }), x[{ { 7, 8 } }]), "count defaults to the rest")
  local b = T.randn(2, 3, 4)
  f:write("x", b, { start = { 5, 2, 1 } })
  x[{ { 5, 6 }, { 2, 4 }, {} }] = b
  truthy(T.equal(f:read("x"), x), "a block written in place")
  f:write("x", b:permute(3, 2, 1):permute(3, 2, 1), { start = { 1, 1, 1 } })   -- strided block
  x[{ { 1, 2 }, { 1, 3 }, {} }] = b
  truthy(T.equal(f:read("x"), x), "a strided block")
  raises(function() f:read("x", { start = { 8, 1, 1 }, count = { 2, 1, 1 } }) end,
         "io.h5read: '" .. path("blocks.h5") .. "': a block of 2 from 8 in dim 1 is outside 'x' (size 8)")
  raises(function() f:write("x", T.randn(2, 2), { start = { 1, 1 } }) end,
         "io.h5write: '" .. path("blocks.h5") .. "': 'x' is 3-dimensional f64 {8,6,4}; the block is 2-dimensional f64")
  raises(function() f:read("x", { start = { 0, 1, 1 } }) end, "h5:read: start[1] must be an integer >= 1, got 0")
end)

test("monte_carlo_series", function()
  -- a run appends one row of observables per sweep and flushes now and
  -- then; another reader (h5py) sees the whole series at the end
  T.manual_seed(1)
  local f <close> = hio.h5open(path("run.h5"), "w")
  f:set_attr("/", "L", 16)
  local rows = {}
  for sweep = 1, 300 do
    local obs = T.tensor({ { sweep, -1.5 + 0.01 * T.randn(1)[1], T.rand(1)[1] } })
    rows[#rows + 1] = obs
    f:append("obs", obs)
    if sweep % 100 == 0 then f:flush() end
  end
  f:append("obs", T.cat({ rows[1], rows[2] }, 1))                 -- a block of rows
  for i = 1, 50 do f:append("energy", T.tensor({ i * 0.5 })) end   -- a 1-d series
  local info = f:info("obs")
  eq(table.concat(info.shape, ","), "302,3"); eq(info.maxshape[1], math.huge)
  truthy(info.chunks[1] >= 1000, "rows are chunked together: " .. info.chunks[1])
  truthy(T.equal(f:read("obs", { start = { 1 }, count = { 300 } }), T.cat(rows, 1)), "the series")
  eq(f:read("energy")[50], 25.0)
  f:close()
  local py = io.popen(PY .. " -c \"import h5py; f = h5py.File('" .. path("run.h5") ..
                      "', 'r'); o = f['obs']; print(o.shape, o.maxshape, o[299, 0], f['energy'].shape)\""):read("a")
  eq(py, "(302, 3) (None, 3) 300.0 (50,)\n")
  local g <close> = hio.h5open(path("run.h5"), "a")
  g:append("energy", T.tensor({ 99.0 }))
  eq(g:info("energy").shape[1], 51, "appending after reopening")
  g:write("fixed", T.zeros(3))
  raises(function() g:append("fixed", T.zeros(1)) end,
         "io.h5append: '" .. path("run.h5") .. "': 'fixed' cannot grow along dim 1 beyond 3 (it was not made growable there)")
  raises(function() g:append("obs", T.zeros(1, 4)) end, "io.h5append: '" .. path("run.h5") .. "': 'obs' has size 3 in dim 2, the block 4")
  raises(function() g:append("obs", T.zeros(1, 3), { dim = 3 }) end, "h5:append: dim must be 1..2 for a 2-dimensional block, got 3")
end)

test("errors", function()
  local p = path("e.h5")
  raises(function() hio.h5open(path("none.h5")) end,
         "io.h5open: '" .. path("none.h5") .. "': cannot open it: No such file or directory")
  local txt = assert(io.open(path("text.h5"), "w")); txt:write("not hdf5 at all"); txt:close()
  raises(function() hio.h5open(path("text.h5")) end,
         "io.h5open: '" .. path("text.h5") .. "': cannot open it (HDF5: unable to open file: file signature not found)")
  raises(function() hio.h5open(dir) end, "io.h5open: '" .. dir .. "' is a directory")
  raises(function() hio.h5open(p, "rw") end, "io.h5open: mode must be \"r\", \"r+\", \"w\", \"x\" or \"a\", got \"rw\"")
  local f = hio.h5open(p, "w")
  f:write("a", T.zeros(2))
  f:group("g/h")
  raises(function() f:write("a", T.zeros(2)) end, "io.h5write: '" .. p .. "' already has 'a'")
  raises(function() f:read("zz") end, "io.h5read: '" .. p .. "' has no 'zz'")
  raises(function() f:read("g") end, "io.h5read: '" .. p .. "': 'g' is not a dataset")
  raises(function() f:read("a", { max_bytes = 8 }) end, "io.h5read: '" .. p .. "': 'a' would take more than 8 bytes of memory")
  raises(function() f:write("b", 3) end, "h5:write: the data must be a tensor, got 3")
  raises(function() f:write("b", T.zeros(2), { compress = 10 }) end, "h5:write: compress must be true or a gzip level 0..9, got 10")
  raises(function() f:write("b", T.zeros(2), { chunk = { 1 } }) end, "h5:write: unknown option \"chunk\" (did you mean 'chunks'?)")
  raises(function() f:set_attr("nope", "k", 1) end, "io.h5attr: '" .. p .. "' has no 'nope'")
  raises(function() f:set_attr("a", "k", print) end, "h5:set_attr: an attribute is a number, boolean, string or tensor, got a function")
  raises(function() f:list("a/b") end, "io.h5list: '" .. p .. "' has no group 'a/b'")
  f:close()
  raises(function() f:read("a") end, "h5:read: the file \"" .. p .. "\" is closed")
  f:close()   -- closing twice is harmless
  local r <close> = hio.h5open(p)
  raises(function() r:write("c", T.zeros(1)) end, "io.h5write: '" .. p .. "' is open read-only (mode \"r\")")
  raises(function() hio.h5open(p, "x") end, "io.h5open: '" .. p .. "': cannot create it (HDF5: unable to create file: file exists)")
end)

iotest.remove(dir)
check.done()
