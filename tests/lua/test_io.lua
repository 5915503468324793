-- test_io.lua -- hebb.io checkpoints (stdlib/hebb/io.lua over
-- natives/core/io_ckpt.c) and t:tobytes / T.frombytes: values and tensors
-- round-trip with exact bits and strides, a model's, an optimizer's and the
-- generator's state continue identically from a file, deep nesting works,
-- saves are atomic and checked, and every kind of bad file is refused with
-- a message naming the file and the byte.
local check = require "check"
local T = require "hebb.tensor"
local hebb = require "hebb"
local hio = require "hebb.io"
local nn = require "hebb.nn"
local optim = require "hebb.optim"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy
local pack, unpack = string.pack, string.unpack

local iotest = require "iotest"
local slurp, spit, crc32c = iotest.slurp, iotest.spit, iotest.crc32c
local dir, path = iotest.scratch()

-- values equal with tensors compared by dtype, shape and bits
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if T.is_tensor(a) then
    return T.is_tensor(b) and a.dtype == b.dtype and T.equal(a, b)
  end
  if type(a) == "number" then
    return math.type(a) == math.type(b) and (a == b or (a ~= a and b ~= b))
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

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
-- build.  T.frombytes goes through hebb_from_buffer, which makes any nonzero
-- byte true; io.load refuses such a file by name.
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
  hio.save(path("bools"), {m = T.tensor{true, false, true}})
  local f = assert(io.open(path("bools"), "rb"))
  local data = f:read("a")
  f:close()
  -- the three element bytes end the file: make them 7, 0, 200
  data = data:sub(1, #data - 3) .. "\7\0\200"
  f = assert(io.open(path("bools"), "wb"))
  f:write(data)
  f:close()
  raises(function() return hio.load(path("bools")) end,
         "a bool element is 0x07 (must be 0 or 1)")
end)

test("values_round_trip", function()
  local v = {
    n = 1.5, i = -7, big = math.maxinteger, small = math.mininteger, tiny = 5e-324,
    inf = math.huge, ninf = -math.huge, nan = 0 / 0, negzero = -0.0,
    s = "line\n\0binary\"", empty = "", t = true, f = false,
    list = { 1, 2, { 3, "x" } }, [7] = "seven", [true] = 1, [false] = 0, [2.5] = "f",
    x = T.randn(2, 3), y = T.tensor({ 1, 2, 3 }), z = T.complex(T.randn(2), T.randn(2)):astype("c64"),
    w = T.complex(T.randn(3), T.randn(3)), b = T.gt(T.randn(5), 0), k = T.arange(1, 6),
    f32 = T.randn(4, { dtype = "f32" }), s0 = T.full({}, 2.5), empty_t = T.zeros(0, 3),
  }
  hio.save(path("v.hio"), v)
  local w = hio.load(path("v.hio"))
  truthy(same(w, v), "the loaded value equals the saved one")
  eq(math.type(w.i), "integer"); eq(w.big, math.maxinteger); eq(w.small, math.mininteger)
  eq(1 / w.negzero, -math.huge, "-0 keeps its sign")
  truthy(w.nan ~= w.nan, "nan")
  eq(w.s, v.s); eq(w[2.5], "f"); eq(w[false], 0)
  eq(w.s0.ndim, 0); eq(w.empty_t.shape[1], 0); eq(w.empty_t.shape[2], 3)
  hio.save(path("f.hio"), { 5.0, 3 })
  local fl = hio.load(path("f.hio"))
  eq(math.type(fl[1]), "float"); eq(math.type(fl[2]), "integer")
  for _, x in ipairs({ 42, "s", true, false, 2.5, T.randn(2) }) do
    hio.save(path("n.hio"), x)
    truthy(same(hio.load(path("n.hio")), x), "plain " .. tostring(x))
  end
  hio.save(path("nil.hio"), nil)
  eq(hio.load(path("nil.hio")), nil)
end)

test("nan_payload_and_bits", function()
  -- a NaN with a payload and the f32 subnormals keep their exact bits
  local nan = unpack("<d", pack("<I8", 0x7ff8000000abcdef))
  local x = T.frombytes(pack("<I4I4I4", 0x00000001, 0x7fc01234, 0x80000000), "f32", 3)
  local w = hio.decode(hio.encode({ nan, x }))
  eq(pack("<d", w[1]), pack("<d", nan))
  eq(w[2]:tobytes(), x:tobytes())
end)

test("strides_as_stored", function()
  -- a transposed (dense) tensor is written as it lies, with its strides;
  -- a slice with gaps is written contiguous
  local x = T.randn(3, 4):t()
  local g = T.randn(4, 6)[{ {}, { 1, 3 } }]
  local p = T.randn(2, 3, 4):permute(3, 1, 2)
  local w = hio.decode(hio.encode({ x = x, g = g, p = p }))
  eq(table.concat(w.x:stride(), ","), "1,4"); truthy(T.equal(w.x, x), "x")
  eq(table.concat(w.g:stride(), ","), "3,1"); truthy(T.equal(w.g, g), "g")
  eq(table.concat(w.p:stride(), ","), table.concat(p:stride(), ",")); truthy(T.equal(w.p, p), "p")
  local e = T.randn(3):expand(4, 3)   -- repeated elements: saved as a copy
  truthy(T.equal(hio.decode(hio.encode(e)), e), "expanded")
end)

test("encode_is_the_file", function()
  local v = { a = T.randn(5), b = { 1, 2, 3 }, c = "x" }
  hio.save(path("e.hio"), v)
  local s = hio.encode(v)
  eq(s, slurp(path("e.hio")), "encode gives the bytes save writes")
  eq(hio.encode(hio.decode(s)), s, "re-encoding a decoded value gives the same bytes")
  eq(s:sub(1, 8), "\x89HEBB\r\n\x1a")
  eq(#s % 64, 40 % 64 == 0 and 0 or #s % 64)   -- sanity: a string
  truthy(same(hio.decode(s), v), "decode")
end)

-- random nested values: every kind of item, nested up to 4 deep
local function random_value(g, depth)
  local r = g:randint(1, 9, 1)[1]
  if depth > 3 and r >= 8 then r = r - 5 end
  if r == 1 then return g:randint(-1000, 1000, 1)[1] end
  if r == 2 then return g:randn(1)[1] end
  if r == 3 then return ("s"):rep(g:randint(0, 5, 1)[1]) .. tostring(depth) end
  if r == 4 then return g:rand(1)[1] < 0.5 end
  if r == 5 then
    local dts = { "f64", "f32", "i64", "bool", "c128", "c64" }
    local dt = dts[g:randint(1, 6, 1)[1]]
    local x = g:randn(g:randint(0, 3, 1)[1], 3)
    if dt == "bool" then return T.gt(x, 0) end
    if dt == "c128" or dt == "c64" then return T.complex(x, x * 2):astype(dt) end
    return x:astype(dt)
  end
  if r == 6 then return T.full({}, g:randn(1)[1]) end
  if r == 7 then return g:randn(1)[1] * 1e300 end
  local t, n = {}, g:randint(0, 4, 1)[1]
  for i = 1, n do
    if r == 8 then t[i] = random_value(g, depth + 1)
    else t["k" .. i .. "_" .. depth] = random_value(g, depth + 1) end
  end
  return t
end

test("random_values_round_trip", function()
  local g = T.Generator(14)
  for trial = 1, 200 do
    local v = random_value(g, 0)
    local s = hio.encode(v)
    truthy(same(hio.decode(s), v), "trial " .. trial)
    eq(hio.encode(hio.decode(s)), s, "stable encoding, trial " .. trial)
  end
end)

test("deep_nesting", function()
  -- 200 000 levels: the walk and the build keep their stacks on the heap
  local depth, v = 200000, "bottom"
  for _ = 1, depth do v = { v } end
  hio.save(path("deep.hio"), v)
  local w, n = hio.load(path("deep.hio")), 0
  while type(w) == "table" do w, n = w[1], n + 1 end
  eq(n, depth); eq(w, "bottom")
  local m = { x = 1 }
  for i = 1, 1000 do m = { ["k" .. i] = m, i = i } end
  truthy(same(hio.decode(hio.encode(m)), m), "deep tables with keys")
end)

test("checkpoint_continues_identically", function()
  -- the model, the optimizer and the random stream (noisy inputs) all come
  -- back from the file: the next 10 steps give the same bits
  local function run(model, opt, steps)
    local x, y = T.linspace(-1, 1, 16):reshape(16, 1), T.linspace(-1, 1, 16):reshape(16, 1):sin()
    for _ = 1, steps do
      opt:zero_grad()
      local loss = nn.mse_loss(model(x + T.randn(16, 1) * 0.01), y)
      loss:backward()
      opt:step()
    end
  end
  T.manual_seed(3)
  local m1 = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
  local o1 = optim.Adam(m1:parameters(), { lr = 0.01 })
  run(m1, o1, 10)
  hio.save(path("ckpt.hio"), { model = m1:state_dict(), optim = o1:state_dict(),
                                rng = T.get_rng_state() })
  run(m1, o1, 10)
  T.manual_seed(99)
  local m2 = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
  local o2 = optim.Adam(m2:parameters(), { lr = 0.01 })
  local ck = hio.load(path("ckpt.hio"))
  m2:load_state_dict(ck.model)
  o2:load_state_dict(ck.optim)
  T.set_rng_state(ck.rng)
  run(m2, o2, 10)
  local p1, p2 = m1:parameters(), m2:parameters()
  for i = 1, #p1 do eq(T.equal(p1[i], p2[i]), true, "parameter " .. i) end
end)

test("save_errors", function()
  raises(function() hio.save(path("e.hio"), { f = print }) end, "io.save: cannot save a function (at value.f)")
  local c = {}; c.me = c
  raises(function() hio.save(path("e.hio"), c) end, "io.save: the table at value.me contains itself")
  raises(function() hio.save(path("e.hio"), { [{}] = 1 }) end, "io.save: cannot save a table key (in value)")
  raises(function() hio.save(path("e.hio"), { a = { [T.zeros(1)] = 1 } }) end,
         "io.save: cannot save a tensor key (in value.a)")
  raises(function() hio.encode({ co = coroutine.create(print) }) end, "io.encode: cannot save a thread (at value.co)")
  raises(function() hio.save(1, 1) end, "io.save: path must be a string, got 1")
  raises(function() hio.save(dir .. "/no/such/dir/x.hio", 1) end,
         "io.save: cannot write '" .. dir .. "/no/such/dir/x.hio': No such file or directory")
  raises(function() hio.save(dir, 1) end, "io.save: cannot write '" .. dir .. "': Is a directory")
  raises(function() hio.save("/dev/full", { x = T.randn(10) }) end,
         "io.save: cannot write '/dev/full': No space left on device")
  raises(function() hio.load(path("v.hio"), { max_byte = 1 }) end, "io.load: unknown option \"max_byte\" (did you mean 'max_bytes'?)")
  raises(function() hio.load(path("v.hio"), { max_bytes = -1 }) end, "max_bytes must be a non-negative integer or math.huge, got -1")
end)

test("save_is_atomic", function()
  local p = path("keep.hio")
  hio.save(p, { version = 1 })
  raises(function() hio.save(p, { version = 2, bad = print }) end, "cannot save a function")
  eq(hio.load(p).version, 1, "a failed save leaves the old file")
  os.execute("chmod 640 " .. p)
  hio.save(p, { version = 3 })
  eq(hio.load(p).version, 3)
  local mode = io.popen("stat -c %a " .. p):read("l")
  eq(mode, "640", "the file keeps its permissions")
  os.execute("ln -sf keep.hio " .. path("link.hio"))
  hio.save(path("link.hio"), { version = 4 })
  eq(io.popen("stat -c %F " .. path("link.hio")):read("l"), "symbolic link", "a link stays a link")
  eq(hio.load(p).version, 4, "the file it points to is replaced")
  local left = io.popen("ls -a " .. dir .. " | grep -c '\\.tmp$'"):read("l")
  eq(left, "0", "no temporary file is left behind")
end)

-- --- bad files ---------------------------------------------------------------

-- a file of the format from its value section and data section, with
-- correct checksums unless told otherwise
local function make(values, data, o)
  o = o or {}
  data = data or ""
  local head = "\x89HEBB\r\n\x1a" .. pack("<I4I4I8I8", o.version or 1, o.flags or 0,
                                          #values, #data)
  local pad = ("\0"):rep((64 - (48 + #values) % 64) % 64)
  local vcrc = o.vcrc or crc32c(head .. values)
  return head .. pack("<I4I4I8", vcrc, o.dcrc or crc32c(data), 0) .. values .. pad .. data
end

local function tensor(dtype, shape, stride, offset, nbytes)
  local s = pack("<BBBxxxxx", 8, dtype, #shape)
  for _, n in ipairs(shape) do s = s .. pack("<i8", n) end
  for _, n in ipairs(stride) do s = s .. pack("<i8", n) end
  return s .. pack("<i8i8", offset, nbytes)
end
local function int(i) return pack("<Bi8", 3, i) end
local function list(n) return pack("<BI8", 7, n) end
local function tbl(n) return pack("<BI8", 6, n) end
local function str(s) return pack("<BI8", 5, #s) .. s end

local function refused(bytes, msg, opts)
  local p = path("bad.hio")
  spit(p, bytes)
  raises(function() hio.load(p, opts) end, "io.load: '" .. p .. "'" .. msg)
  local ok, err = pcall(hio.decode, bytes, opts)
  truthy(not ok and err:find("io.decode: the string", 1, true), "decode refuses it too: " .. tostring(err))
end

test("good_crafted_files", function()
  -- the format as docs/io.md describes it, written by hand
  local v = hio.decode(make(tbl(2) .. str("a") .. int(7) .. str("x") ..
                            tensor(2, { 2 }, { 1 }, 0, 16), pack("<i8i8", 5, -6)))
  eq(v.a, 7); eq(v.x[1], 5); eq(v.x[2], -6); eq(v.x.dtype, "i64")
  local two = hio.decode(make(list(2) .. tensor(3, { 3 }, { 1 }, 0, 3) .. tensor(0, {}, {}, 64, 8),
                              "\1\0\1" .. ("\0"):rep(61) .. pack("<d", 2.5)))
  eq(two[1]:totable()[3], true); eq(two[2]:item(), 2.5)
  local deep = hio.decode(make(list(1):rep(100000) .. int(1)))
  local n = 0
  while type(deep) == "table" do deep, n = deep[1], n + 1 end
  eq(n, 100000)
end)

test("bad_headers", function()
  local good = hio.encode({ x = T.arange(1, 10), y = "abc" })
  refused("", " is empty (0 bytes)")
  refused("hello", " is not a hebb checkpoint (its first bytes are not \\x89HEBB\\r\\n\\x1a)")
  refused("hebb-io 1\n18\nreturn os.exit(3)\n", " is in hebb's old expression format, which is no longer read (it ran code)")
  refused("\x93NUMPY\1\0", " is a numpy .npy file, not a hebb checkpoint (use io.load_npy)")
  refused(good:sub(1, 20), " is truncated: the 48-byte header (48 bytes at byte 0) runs past its end (20 bytes)")
  refused(good:sub(1, #good - 10), " is truncated: its header announces " .. #good .. " bytes, the file has " .. (#good - 10))
  refused(good .. "xyz", " has 3 bytes after the end its header announces (" .. #good .. " bytes)")
  refused(good:sub(1, 8) .. pack("<I4", 2) .. good:sub(13), ", byte 8: format version 2, but this hebb reads version 1")
  refused(good:sub(1, 12) .. pack("<I4", 1) .. good:sub(17), ", byte 12: reserved header bytes are not zero")
  refused(good:sub(1, 16) .. pack("<I8", 1 << 40) .. good:sub(25),
          ", byte 16: a section size of 1099511627776 bytes, larger than the whole file")
  refused(good:sub(1, 24) .. pack("<I8", -8) .. good:sub(33),
          ", byte 24: a section size of 18446744073709551608 bytes")
  local flip = good:sub(1, 60) .. string.char(good:byte(61) ~ 1) .. good:sub(62)
  refused(flip, ", byte 32: the header's checksum does not match")
  local dflip = good:sub(1, #good - 1) .. string.char(good:byte(#good) ~ 0x10)
  refused(dflip, ", byte 36: the data checksum does not match")
end)

test("bad_values", function()
  refused(make(pack("B", 9)), ", byte 48: unknown value tag 0x09")
  refused(make(tbl(1) .. tbl(0) .. int(1)), ", byte 57: a table key that is not a boolean, number or string")
  refused(make(tbl(1) .. pack("<Bd", 4, 0 / 0) .. int(1)), ", byte 57: a table key that is NaN")
  refused(make(tbl(1) .. int(1) .. pack("B", 0)), ", byte 66: nil inside a table")
  refused(make(tbl(2) .. int(1) .. int(2) .. pack("<Bd", 4, 1.0) .. int(3)), ", byte 84: the key 1.0 appears twice")
  refused(make(int(1) .. int(2)), ", byte 57: 9 bytes after the end of the value")
  refused(make(list(3) .. int(1)), ", byte 66: the value section ends inside a table or list")
  refused(make(list(1 << 40) .. int(1)), ", byte 48: a list of 1099511627776 items cannot fit in the 9 bytes left")
  refused(make(tbl(-1) .. int(1)), ", byte 48: a table of -1 items cannot fit")
  refused(make(str("abc"):sub(1, 10)), ", byte 48: a string of 3 bytes runs past the value section (1 bytes left)")
  refused(make(pack("<BI8", 5, -1)), ", byte 48: a string of 18446744073709551615 bytes runs past")
  refused(make(pack("<Bi4", 3, 1)), ", byte 48: a number or length needs 8 bytes, the value section has 4 left")
  refused(make(list(1):rep(1000)), ", byte 9039: a list of 1 items cannot fit in the 0 bytes left")
end)

test("bad_tensors", function()
  local d16 = ("\0"):rep(16)
  refused(make(tensor(0, { 2 }, { 1 }, -64, 16), d16), ", byte 48: tensor data offset -64 is negative")
  refused(make(list(2) .. tensor(0, { 2 }, { 1 }, 0, 16) .. tensor(0, { 2 }, { 1 }, 0, 16), d16 .. ("\0"):rep(48) .. d16),
          ", byte 97: tensor data offset 0 overlaps the data before it (this tensor's data must begin at offset 64")
  refused(make(tensor(0, { 2 }, { 1 }, 64, 16), ("\0"):rep(80)), ", byte 48: tensor data offset 64 is not where it must be")
  refused(make(tensor(0, { 1000000000 }, { 1 }, 0, 8000000000)),
          ", byte 48: tensor data (8000000000 bytes at offset 0) runs past the data section (0 bytes)")
  refused(make(tensor(0, { 1 << 40, 1 << 40 }, { 1 << 40, 1 }, 0, 0)),
          ", byte 48: tensor shape overflows (the product of its sizes exceeds 2^59 elements)")
  -- an empty tensor whose other sizes overflow (found by tests/fuzz: the
  -- strides of {0, 2^40, 2^40} overflowed in the core)
  refused(make(tensor(0, { 0, 1 << 40, 1 << 40 }, { 1 << 40, 1 << 40, 1 }, 0, 0)),
          ", byte 48: tensor shape overflows (the product of its sizes exceeds 2^59 elements)")
  raises(function() T.zeros(0, 1 << 40, 1 << 40) end, "zeros: too many elements")
  refused(make(tensor(0, { -2 }, { 1 }, 0, 0)), ", byte 48: tensor size -2 in dim 1 is negative")
  refused(make(tensor(9, { 2 }, { 1 }, 0, 16), d16),
          ", byte 48: tensor dtype code 9 is unknown (hebb has 0 f64, 1 f32, 2 i64, 3 bool, 4 c128, 5 c64)")
  refused(make(pack("<BBBxxxxx", 8, 0, 17)), ", byte 48: tensor has 17 dimensions (at most 16)")
  refused(make(tensor(0, { 2 }, { 1 }, 0, 8), d16), ", byte 48: tensor of 2 f64 elements claims 8 bytes (16 expected)")
  refused(make(tensor(0, { 2, 2 }, { 5, 1 }, 0, 32), d16 .. d16),
          ", byte 48: tensor stride 5 in dim 1 is negative or beyond its elements")
  refused(make(tensor(0, { 2, 2 }, { 1, 1 }, 0, 32), d16 .. d16),
          ", byte 48: tensor strides leave gaps or overlap (they must place the elements in one dense block)")
  refused(make(tensor(0, { 0, 3 }, { 1, 1 }, 0, 0)),
          ", byte 48: tensor stride 1 in dim 1 is not the row-major one (the tensor is empty)")
  refused(make(tensor(3, { 3 }, { 1 }, 0, 3), "\1\2\0"), ", byte 129: a bool element is 0x02 (must be 0 or 1)")
  refused(make(list(2) .. tensor(0, { 1 }, { 1 }, 0, 8) .. tensor(0, { 1 }, { 1 }, 64, 8),
               ("\0"):rep(8) .. "\0\0\0\7" .. ("\0"):rep(52) .. ("\0"):rep(8)),
          ", byte 203: padding byte 0x07 is not zero")
  refused(make(tensor(0, { 1 }, { 1 }, 0, 8), ("\0"):rep(72)), ", byte 24: the data section has 72 bytes, its tensors end at 8")
  -- the 60-byte file that asked the old loader for 6.3 GB asks in vain
  refused(make(list(100000000)), ", byte 48: a list of 100000000 items cannot fit in the 0 bytes left")
end)

test("bad_paths_and_limits", function()
  raises(function() hio.load(path("missing.hio")) end,
         "io.load: cannot open '" .. path("missing.hio") .. "': No such file or directory")
  raises(function() hio.load(dir) end, "io.load: '" .. dir .. "' is a directory")
  os.execute("mkfifo " .. path("fifo"))
  raises(function() hio.load(path("fifo")) end, "io.load: '" .. path("fifo") .. "' is not a regular file")
  raises(function() hio.load(path("v.hio") .. "/x") end,
         "io.load: cannot open '" .. path("v.hio") .. "/x': Not a directory")
  -- an unreadable file, read as an unprivileged user (root reads anything)
  spit(path("secret.hio"), hio.encode(1))
  os.execute("chmod 000 " .. path("secret.hio") .. "; chmod 755 " .. dir)
  local as_nobody = io.popen("id -u"):read("l") == "0" and "setpriv --reuid=65534 --regid=65534 --clear-groups " or ""
  local cmd = as_nobody .. arg[-1] .. " -e \"print(select(2, pcall(require('hebb.io').load, '" ..
              path("secret.hio") .. "')))\""
  eq(io.popen(cmd):read("l"), "(command line):1: io.load: cannot open '" .. path("secret.hio") .. "': Permission denied")
  raises(function() hio.load(1) end, "io.load: path must be a string, got 1")
  raises(function() hio.decode(1) end, "io.decode: expected a string, got 1")
  -- the memory a value will take is counted before anything is built
  hio.save(path("big.hio"), { x = T.zeros(1000), s = ("x"):rep(1000) })
  raises(function() hio.load(path("big.hio"), { max_bytes = 5000 }) end,
         "io.load: '" .. path("big.hio") .. "' would take more than 5000 bytes of memory")
  eq(hio.load(path("big.hio"), { max_bytes = 20000 }).x:numel(), 1000)
  eq(hio.load(path("big.hio"), { max_bytes = math.huge }).s, ("x"):rep(1000))
  local many = make(list(5000000) .. ("\1"):rep(5000000))   -- 5 MB of `false`
  raises(function() hio.decode(many) end, "io.decode: the string would take more than " ..
         (64 * 1024 * 1024 + 16 * #many) .. " bytes of memory")
end)

test("nothing_allocated_on_refusal", function()
  collectgarbage()
  local before = hebb.alloc_stats().bytes_in_use
  local good = hio.encode({ x = T.randn(1000), y = T.randn(500) })
  for _, bad in ipairs({ good:sub(1, 60) .. "\255" .. good:sub(62), good:sub(1, #good - 100),
                         good:sub(1, #good - 1) .. "\7" }) do
    pcall(hio.decode, bad)
  end
  collectgarbage(); collectgarbage()
  eq(hebb.alloc_stats().bytes_in_use, before, "tensor bytes in use")
end)

test("mutated_files_are_refused_cleanly", function()
  -- 3000 random corruptions of a valid file: each decodes or raises a
  -- message naming the string (the C fuzzers in tests/fuzz go much further)
  local g = T.Generator(7)
  local good = hio.encode({ a = T.randn(3, 2), b = { 1, 2.5, "x", true }, c = T.gt(T.randn(4), 0),
                            d = { e = T.complex(T.randn(2), T.randn(2)) } })
  local bad = 0
  for _ = 1, 3000 do
    local s = good
    for _ = 1, g:randint(1, 4, 1)[1] do
      local i = g:randint(1, #s, 1)[1]
      s = s:sub(1, i - 1) .. string.char(g:randint(0, 255, 1)[1]) .. s:sub(i + 1)
    end
    local ok, err = pcall(hio.decode, s)
    if not ok and not tostring(err):find("io.decode: the string", 1, true) then bad = bad + 1 end
  end
  eq(bad, 0, "errors without the file's name")
end)

iotest.remove(dir)
check.done()
