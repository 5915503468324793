-- test_io_npy.lua -- numpy's .npy and .npz in hebb.io (natives/core/io_npy.c,
-- io_npz.c): numpy writes every dtype, order and shape and hebb reads the
-- same bits; hebb writes and numpy (tests/lua/lib/npy_oracle.py, run by
-- Debian's python3-numpy) reads the same bits; memory-mapped loading; and
-- every kind of bad file refused with a message naming it.
local check = require "check"
local T = require "hebb.tensor"
local hio = require "hebb.io"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy
local pack = string.pack

local PY = "/usr/bin/python3"
local ORACLE = "tests/lua/lib/npy_oracle.py"
local iotest = require "iotest"
local slurp, spit, crc32 = iotest.slurp, iotest.spit, iotest.crc32
local dir, path = iotest.scratch()

local function shape_of(t) return table.concat(t.shape, ",") end

test("numpy_writes_hebb_reads", function()
  truthy(os.execute(PY .. " " .. ORACLE .. " write " .. dir), "numpy wrote the files")
  local n = 0
  for line in io.lines(path("numpy.txt")) do
    local name, dtype, shape = line:match("^([^|]*)|([^|]*)|(.*)$")
    local t = hio.load_npy(path(name .. ".npy"))
    eq(t.dtype, dtype, name)
    eq(shape_of(t), shape, name)
    eq(t:tobytes(), slurp(path(name .. ".bin")), name .. " bits")
    if name:sub(1, 2) == "f_" then
      eq(table.concat(t:stride(), ","), "1,2,6", name .. " keeps Fortran strides")
    end
    n = n + 1
  end
  eq(n, 32, "files")
  for _, z in ipairs({ "p.npz", "pc.npz" }) do
    local arrays = hio.load_npz(path(z))
    for _, k in ipairs({ "a", "b", "c", "d" }) do
      eq(arrays[k]:tobytes(), slurp(path("npz_" .. k .. ".bin")), z .. " " .. k)
    end
    eq(arrays.c.dtype, "c64"); eq(arrays.d.ndim, 0)
  end
end)

test("hebb_writes_numpy_reads", function()
  local listing, g = {}, T.Generator(3)
  local function keep(name, member, t)
    local tag = member and (name .. "_" .. member) or name
    spit(path(tag .. ".bin"), t:contiguous():tobytes())
    listing[#listing + 1] = table.concat({ name, member or "", t.dtype, shape_of(t) }, "|")
  end
  local arrays = {}
  for _, dt in ipairs({ "f64", "f32", "i64", "bool", "c128", "c64" }) do
    local x = g:randn(3, 4) * 100
    x = dt == "bool" and T.gt(x, 0) or (dt:sub(1, 1) == "c" and T.complex(x, x + 1):astype(dt) or x:astype(dt))
    local cases = { ["c_" .. dt] = x, ["t_" .. dt] = x:t(), ["g_" .. dt] = x[{ {}, { 1, 4, 2 } }],
                    ["s_" .. dt] = x:select(1, 2):select(1, 3), ["e_" .. dt] = x:narrow(1, 1, 0) }
    for name, t in pairs(cases) do
      hio.save_npy(path(name .. ".npy"), t)
      keep(name .. ".npy", nil, t)
    end
    arrays[dt] = x
  end
  arrays[1] = T.arange(1, 5)
  hio.save_npz(path("h.npz"), arrays)
  hio.save_npz(path("hc.npz"), arrays, { compress = true })
  for k, t in pairs(arrays) do
    local member = math.type(k) == "integer" and "arr_" .. (k - 1) or k
    keep("h.npz", member, t)
    keep("hc.npz", member, t)
  end
  spit(path("hebb.txt"), table.concat(listing, "\n") .. "\n")
  local out = io.popen(PY .. " " .. ORACLE .. " check " .. dir):read("a")
  local ok, bad = 0, {}
  for line in out:gmatch("[^\n]+") do
    if line:sub(1, 3) == "ok " then ok = ok + 1 else bad[#bad + 1] = line end
  end
  eq(table.concat(bad, "; "), "", "numpy disagrees")
  eq(ok, #listing, "files numpy checked")
end)

test("round_trip_and_layout", function()
  local x = T.randn(4, 5, 3)
  for _, t in ipairs({ x, x:permute(3, 2, 1), x:transpose(1, 2), x[{ 2 }], T.full({}, 7.5) }) do
    hio.save_npy(path("r.npy"), t)
    local y = hio.load_npy(path("r.npy"))
    truthy(T.equal(y, t), "round trip of shape " .. shape_of(t))
  end
  hio.save_npy(path("r.npy"), x:permute(3, 2, 1))   -- column-major: no copy, fortran_order
  truthy(slurp(path("r.npy")):find("'fortran_order': True", 1, true), "fortran_order True")
  eq(table.concat(hio.load_npy(path("r.npy")):stride(), ","), "1,3,15")
  eq(#slurp(path("r.npy")) % 64, (4 * 5 * 3 * 8) % 64, "the header is a multiple of 64 bytes")
end)

test("mmap", function()
  local m = hio.load_npy(path("big.npy"), { mmap = true })
  eq(m:numel(), 1 << 20); eq(m[1 << 20], (1 << 20) - 1.0); eq(m:sum(), (2 ^ 20 - 1) * 2 ^ 19)
  local before = slurp(path("big.npy"))
  m:add_(1)                                   -- private pages: the file never changes
  eq(m[1], 1.0)
  eq(slurp(path("big.npy")) == before, true, "the file is unchanged")
  local v = m:narrow(1, 10, 5)                -- a view keeps the mapping alive
  m = nil
  collectgarbage(); collectgarbage()
  eq(v[1], 10.0)
  local f = hio.load_npy(path("f_f4.npy"), { mmap = true })
  eq(f:tobytes(), slurp(path("f_f4.bin")), "a Fortran array mapped")
  eq(hio.load_npy(path("e_f8.npy"), { mmap = true }):numel(), 0)
  eq(hio.load_npy(path("c_b1.npy"), { mmap = true }):tobytes(), slurp(path("c_b1.bin")))
  raises(function() hio.load_npy(path("be_f8.npy"), { mmap = true }) end,
         "io.load_npy: '" .. path("be_f8.npy") .. "' holds big-endian '>f8' elements, which cannot be mapped")
  raises(function() hio.load_npy(path("big.npy"), { map = true }) end, "io.load_npy: unknown option \"map\" (did you mean 'mmap'?)")
end)

-- a .npy from a header dict and the element bytes
local function npy(dict, data, version)
  version = version or 1
  local pre = 10 + (version > 1 and 2 or 0)
  local pad = (64 - (pre + #dict + 1) % 64) % 64
  local h = dict .. (" "):rep(pad) .. "\n"
  return "\x93NUMPY" .. string.char(version, 0) .. pack(version > 1 and "<I4" or "<I2", #h) .. h .. (data or "")
end

local function refused_npy(bytes, msg)
  local p = path("bad.npy")
  spit(p, bytes)
  raises(function() hio.load_npy(p) end, "io.load_npy: '" .. p .. "'" .. msg)
end

test("bad_npy", function()
  local d8 = ("\0"):rep(16)
  local f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
  eq(hio.load_npy((function() spit(path("ok.npy"), npy(f8, d8)); return path("ok.npy") end)()):numel(), 2)
  refused_npy("", " is empty (0 bytes)")
  refused_npy("hello world", " is not a .npy file (it does not begin with \\x93NUMPY)")
  refused_npy("\x93NUMPY\4\0abcd", ", byte 6: format version 4.0 (hebb reads 1.0, 2.0 and 3.0)")
  refused_npy(npy(f8, d8):sub(1, 40), " is truncated: the header (118 bytes at byte 10) runs past its end (40 bytes)")
  refused_npy(npy(f8, d8:sub(1, 12)), " is truncated: its header describes 16 bytes of f8 elements after byte 128, the file has 12")
  refused_npy(npy(f8, d8 .. "xx"), " is too long: its header describes 16 bytes of f8 elements after byte 128, the file has 18")
  refused_npy("\x93NUMPY\2\0" .. pack("<I4", 1 << 30), ", byte 8: a header of 1073741824 bytes (more than 1 MiB)")
  refused_npy(npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d8),
              ", byte 20: the header describes an object array (dtype 'O': Python objects, which only pickle can read)")
  refused_npy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", d8),
              ", byte 20: the header describes dtype '<i4' (int32), which hebb lacks")
  refused_npy(npy("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (2,), }", d8),
              ", byte 20: the header describes a structured dtype (a list of fields), which hebb lacks")
  refused_npy(npy("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", d8),
              ", byte 20: the header describes dtype '<U3' (unicode strings), which hebb lacks")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
              ", byte 128: the header has a shape whose product overflows (more than 2^59 elements)")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1099511627776, 1099511627776), }"),
              ", byte 128: the header has a shape whose product overflows (more than 2^59 elements)")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }"), ", byte 61: the header has no size where one must be")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
              ", byte 80: the header has a size beyond 2^63")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", d8),
              ", byte 44: the header has no True or False for 'fortran_order'")
  refused_npy(npy("{'descr': '<f8', 'shape': (2,), }", d8), ", byte 64: the header lacks the key 'fortran_order'")
  refused_npy(npy("{'descr': '<f8', 'descr': '<f8', }", d8), ", byte 35: the header has a second key 'descr'")
  refused_npy(npy("{'descr': '<f8', 'evil': __import__('os'), }", d8), ", byte 34: the header has an unknown key 'evil'")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } x", d8),
              ", byte 68: the header goes on after its closing '}'")
  refused_npy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", "\0\1\2"),
              ", byte 130: a bool element is 0x02 (must be 0 or 1)")
  refused_npy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (" .. ("1,"):rep(17) .. "), }"),
              ", byte 93: the header has a shape of more than 16 dimensions")
  raises(function() hio.load_npy(path("obj.npy")) end, "which only pickle can read); hebb never runs code from a file, so it refuses it")
  raises(function() hio.load_npy(path("i4.npy")) end, "(int32), which hebb lacks (it reads f8, f4, i8, b1, c16 and c8: convert with numpy's astype)")
  raises(function() hio.load_npy(path("rec.npy")) end, "a structured dtype")
  raises(function() hio.load_npy(dir) end, "io.load_npy: '" .. dir .. "' is a directory")
  raises(function() hio.load_npy(path("nope.npy")) end, "io.load_npy: cannot open '" .. path("nope.npy") .. "': No such file or directory")
  raises(function() hio.save_npy(path("x.npy"), 3) end, "io.save_npy: the array must be a tensor, got 3")
  raises(function() hio.save_npy("/dev/full", T.randn(100)) end, "io.save_npy: cannot write '/dev/full': No space left on device")
end)

-- a zip from members {name, data, [method], [crc], [at], [inside], ...}
local function zip(members)
  local body, central = {}, {}
  local at = 0
  for _, m in ipairs(members) do
    local crc = m.crc or crc32(m.data)
    local loc = pack("<c4I2I2I2I2I2I4I4I4I2I2", "PK\3\4", 20, m.flags or 0, m.method or 0, 0, 0x21,
                     crc, #m.data, m.usize or #m.data, #m.name, 0) .. m.name
    central[#central + 1] = pack("<c4I2I2I2I2I2I2I4I4I4I2I2I2I2I2I4I4", "PK\1\2", 20, 20, m.flags or 0,
                                 m.method or 0, 0, 0x21, crc, #m.data, m.usize or #m.data, #m.name,
                                 0, 0, 0, 0, 0, m.at or at) .. m.name
    if not m.inside then
      body[#body + 1] = loc .. m.data
      at = at + #loc + #m.data
    end
  end
  local cd = table.concat(central)
  return table.concat(body) .. cd .. pack("<c4I2I2I2I2I4I4I2", "PK\5\6", 0, 0, #members, #members, #cd, at, 0)
end

local function refused_npz(bytes, msg, opts)
  local p = path("bad.npz")
  spit(p, bytes)
  raises(function() hio.load_npz(p, opts) end, "io.load_npz: '" .. p .. "'" .. msg)
end

test("bad_npz", function()
  local a = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", pack("<dd", 1.5, 2.5))
  local good = zip({ { name = "a.npy", data = a }, { name = "b.npy", data = a } })
  local z = hio.load_npz((function() spit(path("ok.npz"), good); return path("ok.npz") end)())
  eq(z.a[2], 2.5); eq(z.b[1], 1.5)
  refused_npz("", " is not a zip archive (no end of central directory record; a .npz is a zip of .npy files)")
  refused_npz(a, " is a .npy file, not a .npz (use io.load_npy)")
  refused_npz(good:sub(1, #good - 5), " is not a zip archive")
  refused_npz(zip({ { name = "a.npy", data = a, crc = 12345 } }),
              ", member 'a.npy' fails its CRC-32 check (stored 0x00003039, computed")
  refused_npz(zip({ { name = "a.txt", data = "hello" } }), ", byte 40: member 'a.txt' is not a .npy file (a .npz holds only .npy members)")
  refused_npz(zip({ { name = "a.npy", data = a }, { name = "a.npy", data = a } }), ", byte 179: member 'a.npy' appears twice")
  refused_npz(zip({ { name = "a.npy", data = a, method = 12 } }), ", byte 179: member 'a.npy' uses compression method 12 (hebb reads 0, stored, and 8, deflated)")
  refused_npz(zip({ { name = "a.npy", data = a, flags = 1 } }), ", byte 179: member 'a.npy' is encrypted")
  refused_npz(zip({ { name = "a.npy", data = a, at = 7 } }), ", byte 7: member 'a.npy' has no local header here")
  refused_npz(zip({ { name = "a.npy", data = a, at = 1 << 31 } }), ", byte 2147483648: member 'a.npy' has no local header here")
  -- two directory entries whose bytes overlap: one range read as two members
  local inner = pack("<c4I2I2I2I2I2I4I4I4I2I2", "PK\3\4", 20, 0, 0, 0, 0x21, crc32(a), #a, #a, 5, 0) .. "b.npy"
  local ov = zip({ { name = "a.npy", data = a .. inner .. a }, { name = "b.npy", data = a, at = 35 + #a, inside = true } })
  refused_npz(ov, ", byte 179: member 'b.npy' overlaps member 'a.npy'")
  refused_npz(zip({ { name = "a.npy", data = a, usize = #a + 1 } }), ", byte 0: stored member 'a.npy' has 144 bytes but declares 145")
  refused_npz(zip({ { name = "a.npy", data = a, method = 8 } }), ", member 'a.npy' is truncated: its deflate data ends after 6 bytes, 144 expected")
  -- a small archive that inflates to gigabytes is refused before inflating
  hio.save_npz(path("zeros.npz"), { z = T.zeros(1000000) }, { compress = true })
  eq(hio.load_npz(path("zeros.npz")).z:numel(), 1000000)
  local size = #slurp(path("zeros.npz"))
  truthy(size < 20000, "a million zeros deflate to " .. size .. " bytes")
  raises(function() hio.load_npz(path("zeros.npz"), { max_bytes = 1000000 }) end,
         "io.load_npz: '" .. path("zeros.npz") .. "' would take more than 1000000 bytes of memory (its members hold 8000128 bytes uncompressed up to 'z.npy'; allow more with max_bytes)")
  local bomb = slurp(path("zeros.npz"))
  local i = bomb:find("PK\1\2", 1, true)     -- the directory claims 4 GB instead of 8 MB
  bomb = bomb:sub(1, i + 23) .. pack("<I4", 0xFFFFFFF0) .. bomb:sub(i + 28)
  spit(path("bomb.npz"), bomb)
  raises(function() hio.load_npz(path("bomb.npz")) end, "would take more than " .. (64 * 1024 * 1024 + 16 * #bomb) .. " bytes of memory")
  raises(function() hio.load_npz(path("bomb.npz"), { max_bytes = math.huge }) end,
         "member 'z.npy' is too long: its header describes 8000000 bytes of f8 elements after byte 128, the member has 4294967152")
  raises(function() hio.save_npz(path("x.npz"), { a = 1 }) end, "io.save_npz: arrays.a must be a tensor, got 1")
  raises(function() hio.save_npz(path("x.npz"), { [true] = T.zeros(1) }) end, "io.save_npz: array names must be non-empty strings, got true")
  raises(function() hio.save_npz("/dev/full", { a = T.zeros(10) }) end, "io.save_npz: cannot write '/dev/full': No space left on device")
end)

test("mutated_npy_and_npz", function()
  -- random corruptions: each loads or raises a message naming the file
  local g = T.Generator(5)
  local files = { slurp(path("c_f8.npy")), slurp(path("pc.npz")), slurp(path("p.npz")) }
  local bad = 0
  for trial = 1, 600 do
    local s = files[trial % 3 + 1]
    for _ = 1, g:randint(1, 3, 1)[1] do
      local i = g:randint(1, #s, 1)[1]
      s = s:sub(1, i - 1) .. string.char(g:randint(0, 255, 1)[1]) .. s:sub(i + 1)
    end
    local p = path(trial % 3 == 0 and "m.npy" or "m.npz")
    spit(p, s)
    local ok, err = pcall(trial % 3 == 0 and hio.load_npy or hio.load_npz, p)
    if not ok and not tostring(err):find(p, 1, true) then bad = bad + 1 end
  end
  eq(bad, 0, "errors without the file's name")
end)

iotest.remove(dir)
check.done()
