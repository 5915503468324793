-- test_io.lua -- hebb.io (stdlib/hebb/io.lua) and t:tobytes / T.frombytes:
-- values and tensors round-trip with exact bits, a model's and an
-- optimizer's state continue identically from a file, bad files and
-- unsavable values raise errors naming them.
local check = require "check"
local T = require "hebb.tensor"
local hebbio = require "hebb.io"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy

local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local function path(name) return dir .. "/" .. name end

test("bytes_round_trip", function()
  for _, dt in ipairs({ "f64", "f32", "i64", "bool", "c128", "c64" }) do
    local x = T.randn(3, 4):astype(dt == "bool" and "f64" or dt)
    if dt == "bool" then x = T.gt(x, 0) end
    local y = T.frombytes(x:t():tobytes(), dt, 4, 3)
    eq(T.equal(y, x:t()), true, dt)
  end
  eq(#T.zeros(0, { dtype = "f32" }):tobytes(), 0)
  eq(T.frombytes("", "f64", 0):numel(), 0)
  raises(function() T.frombytes("abc", "f64", 1) end, "frombytes: 3 bytes for 1 f64 elements (8 bytes expected)")
end)

-- Bytes other than 0 and 1 are no valid bool: they summed differently per
-- build.  The one door from bytes to elements (hebb_from_buffer) makes any
-- nonzero byte true, for T.frombytes and for io.load alike.
test("bool_bytes_are_normalized", function()
  local b = T.frombytes("\0\1\2\255\128\0", "bool", 6)
  eq(b:sum(), 4)
  check.same(b, {false, true, true, true, true, false})
  eq(b:tobytes(), "\0\1\1\1\1\0")
  eq(b:astype("i64"):sum(), 4)
  eq(b:logical_not():sum(), 2)
  eq(b:eq(true):sum(), 4)
  eq(b:any(), true); eq(b:all(), false)
  eq(T.where(b, 1.0, 0.0):sum(), 4.0)
  hebbio.save(path("bools"), {m = T.tensor{true, false, true}})
  local f = assert(io.open(path("bools"), "rb"))
  local data = f:read("a")
  f:close()
  -- the three element bytes end the file: make them 7, 0, 200
  data = data:sub(1, #data - 3) .. "\7\0\200"
  f = assert(io.open(path("bools"), "wb"))
  f:write(data)
  f:close()
  local m = hebbio.load(path("bools")).m
  eq(m:sum(), 2)
  eq(m:tobytes(), "\1\0\1")
end)

test("values_round_trip", function()
  local v = {
    n = 1.5, i = -7, big = math.maxinteger, tiny = 5e-324, inf = math.huge,
    ninf = -math.huge, nan = 0 / 0, negzero = -0.0, s = "line\n\0binary\"", t = true, f = false,
    list = { 1, 2, { 3, "x" } }, [7] = "seven", [true] = 1,
    x = T.randn(2, 3), y = T.tensor({ 1, 2, 3 }), z = T.complex(T.randn(2), T.randn(2)):astype("c64"),
    s0 = T.full({}, 2.5), empty = T.zeros(0, 3), strided = T.randn(4, 5):t(),
  }
  hebbio.save(path("v.hio"), v)
  local w = hebbio.load(path("v.hio"))
  eq(w.n, 1.5); eq(math.type(w.i), "integer"); eq(w.i, -7); eq(w.big, math.maxinteger)
  eq(w.tiny, 5e-324); eq(w.inf, math.huge); eq(w.ninf, -math.huge); truthy(w.nan ~= w.nan, "nan")
  eq(1 / w.negzero, -math.huge, "-0 keeps its sign")
  hebbio.save(path("f.hio"), { 5.0, 3 })
  local fl = hebbio.load(path("f.hio"))
  eq(math.type(fl[1]), "float"); eq(math.type(fl[2]), "integer")
  eq(w.s, v.s); eq(w.t, true); eq(w.f, false); eq(w.list[3][2], "x"); eq(w[7], "seven"); eq(w[true], 1)
  for _, k in ipairs({ "x", "y", "z", "s0", "empty", "strided" }) do
    eq(w[k].dtype, v[k].dtype, k)
    eq(T.equal(w[k], v[k]), true, k)
  end
  eq(w.s0.ndim, 0)
  hebbio.save(path("n.hio"), 42)
  eq(hebbio.load(path("n.hio")), 42)
end)

test("checkpoint_continues_identically", function()
  local function run(model, opt, steps)
    local x, y = T.linspace(-1, 1, 16):reshape(16, 1), T.linspace(-1, 1, 16):reshape(16, 1):sin()
    for _ = 1, steps do
      opt:zero_grad()
      local loss = nn.mse_loss(model(x), y)
      loss:backward()
      opt:step()
    end
  end
  T.manual_seed(3)
  local m1 = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
  local o1 = optim.Adam(m1:parameters(), { lr = 0.01 })
  run(m1, o1, 10)
  hebbio.save(path("ckpt.hio"), { model = m1:state_dict(), optim = o1:state_dict() })
  run(m1, o1, 10)
  T.manual_seed(99)
  local m2 = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
  local o2 = optim.Adam(m2:parameters(), { lr = 0.01 })
  local ck = hebbio.load(path("ckpt.hio"))
  m2:load_state_dict(ck.model)
  o2:load_state_dict(ck.optim)
  run(m2, o2, 10)
  local p1, p2 = m1:parameters(), m2:parameters()
  for i = 1, #p1 do eq(T.equal(p1[i], p2[i]), true, "parameter " .. i) end
end)

test("errors", function()
  raises(function() hebbio.save(path("e.hio"), { f = print }) end, "cannot save a function (at value.f)")
  local c = {}; c.me = c
  raises(function() hebbio.save(path("e.hio"), c) end, "the table at value.me contains itself")
  raises(function() hebbio.save(path("e.hio"), { [{}] = 1 }) end, "cannot save a table key")
  raises(function() hebbio.save(dir .. "/no/such/dir/x.hio", 1) end, "cannot write")
  raises(function() hebbio.save(1, 1) end, "hebb.io.save: path must be a string, got 1")
  raises(function() hebbio.load(path("missing.hio")) end, "hebb.io.load: cannot open " .. path("missing.hio") .. ": No such file")
  local f = io.open(path("bad.hio"), "wb"); f:write("hello"); f:close()
  raises(function() hebbio.load(path("bad.hio")) end, "is not a hebb.io file")
  hebbio.save(path("t.hio"), { x = T.randn(100) })
  f = io.open(path("t.hio"), "rb"); local data = f:read("a"); f:close()
  f = io.open(path("cut.hio"), "wb"); f:write(data:sub(1, #data - 10)); f:close()
  raises(function() hebbio.load(path("cut.hio")) end, "is truncated (in its tensors)")
  f = io.open(path("cut2.hio"), "wb"); f:write(data:sub(1, 15)); f:close()
  raises(function() hebbio.load(path("cut2.hio")) end, "is truncated (in its expression)")
  f = io.open(path("evil.hio"), "wb"); f:write("hebb-io 1\n18\nreturn os.exit(3)\n"); f:close()
  raises(function() hebbio.load(path("evil.hio")) end, "attempt to index a nil value")
end)

os.execute("rm -rf " .. dir)
check.done()
