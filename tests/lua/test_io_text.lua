-- test_io_text.lua -- io.savetxt / io.loadtxt (natives/core/io_text.c):
-- f64, f32 and i64 columns round-trip with exact bits in the shortest
-- decimal form, gnuplot- and spreadsheet-style headers, comments, CSV,
-- numpy's loadtxt/savetxt as the other side, and errors naming the file,
-- the line and the column.
local check = require "check"
local T = require "hebb.tensor"
local hio = require "hebb.io"
local test, eq, raises, truthy = check.test, check.eq, check.raises, check.truthy

local PY = "/usr/bin/python3"
local iotest = require "iotest"
local slurp, spit = iotest.slurp, iotest.spit
local dir, path = iotest.scratch()

-- every bit pattern class: random doubles over the whole exponent range,
-- subnormals, signed zeros, infinities, extremes
local function nasty_f64(g, n)
  local bits = g:randint(-(1 << 62), 1 << 62, n, 2)
  local x = T.frombytes(bits:tobytes(), "f64", n, 2)
  local special = T.tensor({ 0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308,
                             math.huge, -math.huge, 0.1, 1 / 3, 123456789012345678 })
  x = x:masked_fill(x:ne(x), 1.5)               -- NaNs checked apart (no payload in text)
  return T.cat({ x, special:reshape(5, 2) }, 1)
end

test("f64_exact_round_trip", function()
  local g = T.Generator(21)
  local x = nasty_f64(g, 2000)
  hio.savetxt(path("x.txt"), x)
  local y = hio.loadtxt(path("x.txt"))
  eq(y:tobytes(), x:tobytes(), "bits")
  local text = slurp(path("x.txt"))
  truthy(text:find(" 0.1\n0.3333333333333333 ", 1, true), "shortest digits: " .. text:sub(-200))
  truthy(text:find("\n0 -0\n", 1, true), "signed zeros")
  local v = hio.loadtxt((function() hio.savetxt(path("n.txt"), T.tensor({ 0 / 0, 1 })); return path("n.txt") end)())
  truthy(v[1][1] ~= v[1][1], "nan comes back as a NaN")
end)

test("f32_i64_bool", function()
  local g = T.Generator(4)
  local f = T.frombytes(g:randint(0, 0x7f7fffff, 300):astype("i64"):tobytes(), "f32", 600)[{ { 1, 600, 2 } }]
  hio.savetxt(path("f.txt"), f)
  eq(hio.loadtxt(path("f.txt"), { dtype = "f32" }):reshape(300):tobytes(), f:contiguous():tobytes())
  truthy(#slurp(path("f.txt")) < 300 * 15, "f32 needs at most 9 digits")
  local k = T.tensor({ { math.maxinteger, math.mininteger }, { 0, -7 } })
  hio.savetxt(path("k.txt"), k, { delimiter = "," })
  eq(slurp(path("k.txt")), "9223372036854775807,-9223372036854775808\n0,-7\n")
  truthy(T.equal(hio.loadtxt(path("k.txt"), { dtype = "i64", delimiter = "," }), k), "i64 exact")
  hio.savetxt(path("b.txt"), T.tensor({ 1, 0, 2 }):gt(0.5))
  eq(slurp(path("b.txt")), "1\n0\n1\n")
  local strided = T.randn(6, 4):t()[{ {}, { 1, 6, 2 } }]
  hio.savetxt(path("s.txt"), strided)
  truthy(T.equal(hio.loadtxt(path("s.txt")), strided), "a strided view")
end)

test("headers_comments_csv", function()
  spit(path("g.dat"), "# Ising 32x32, seed 7\n#\n# T E M\n\n2.0 -1.75 0.91  # ordered\r\n2.5\t-1.2\t0.4\n\n# done\n")
  local t, names = hio.loadtxt(path("g.dat"))
  eq(table.concat(t.shape, ","), "2,3"); eq(t[2][3], 0.4); eq(t[1][2], -1.75)
  eq(table.concat(names, ","), "T,E,M")
  spit(path("s.csv"), "T,E,M\n2.0, -1.75 ,0.91\n2.5,-1.2,0.4\n")
  t, names = hio.loadtxt(path("s.csv"), { delimiter = "," })
  eq(table.concat(names, ","), "T,E,M"); eq(t[1][2], -1.75)
  spit(path("nohead.txt"), "# just a note here\n1 2 3\n")
  t, names = hio.loadtxt(path("nohead.txt"))
  eq(names, nil, "a comment with another number of fields is not a header")
  spit(path("empty.txt"), "# t E\n")
  t = hio.loadtxt(path("empty.txt"))
  eq(table.concat(t.shape, ","), "0,0")
  hio.savetxt(path("h.txt"), T.ones(2, 2), { header = { "a", "b" }, comments = "% " })
  eq(slurp(path("h.txt")), "% a b\n1 1\n1 1\n")
  t, names = hio.loadtxt(path("h.txt"), { comments = "%" })
  eq(table.concat(names, ","), "a,b")
  hio.savetxt(path("c.csv"), T.ones(1, 2), { header = { "a", "b" }, delimiter = ",", comments = "" })
  eq(slurp(path("c.csv")), "a,b\n1,1\n")
end)

test("numpy_reads_and_writes", function()
  local x = nasty_f64(T.Generator(8), 100)
  hio.savetxt(path("np.txt"), x, { header = { "a", "b" } })
  local py = [[
import numpy as np, sys
d = sys.argv[1]
a = np.loadtxt(d + "/np.txt")
a.tofile(d + "/np.bin")
b = np.random.default_rng(3).standard_normal((4, 3)) * 1e-200
np.savetxt(d + "/numpy.txt", b, header="x y z")
b.tofile(d + "/numpy.bin")
]]
  spit(path("t.py"), py)
  truthy(os.execute(PY .. " " .. path("t.py") .. " " .. dir), "python ran")
  eq(slurp(path("np.bin")), x:tobytes(), "numpy reads hebb's table with the same bits")
  local b, names = hio.loadtxt(path("numpy.txt"))
  eq(b:tobytes(), slurp(path("numpy.bin")), "hebb reads numpy's %.18e table with the same bits")
  eq(table.concat(names, ","), "x,y,z")
end)

local function refused(text, msg, opts)
  spit(path("bad.txt"), text)
  raises(function() hio.loadtxt(path("bad.txt"), opts) end, "io.loadtxt: '" .. path("bad.txt") .. "'" .. msg)
end

test("errors", function()
  refused("1 2 3\n4 5\n", ", line 2: 2 columns, but line 1 has 3")
  refused("a b\n1 2 3\n", ", line 2: 3 columns, but the header, line 1 has 2")
  refused("1 2\n3 x4\n", ", line 2: column 2, \"x4\", is not a number")
  refused("1,2\n3,,4\n", ", line 2: 3 columns, but line 1 has 2", { delimiter = "," })
  refused("1,,2\n", ", line 1: column 2 is empty", { delimiter = "," })
  refused("1 2.5\n", ", line 1: column 2, \"2.5\", is not an integer in i64's range", { dtype = "i64" })
  refused("9223372036854775808\n", ", line 1: column 1, \"9223372036854775808\", is not an integer in i64's range",
          { dtype = "i64" })
  raises(function() hio.loadtxt(dir) end, "io.loadtxt: '" .. dir .. "' is a directory")
  raises(function() hio.loadtxt(path("none.txt")) end, "io.loadtxt: cannot open '" .. path("none.txt") .. "': No such file or directory")
  raises(function() hio.loadtxt(path("bad.txt"), { delimiter = ", " }) end, "io.loadtxt: delimiter must be one character, got \", \"")
  raises(function() hio.loadtxt(path("bad.txt"), { delimiter = "#" }) end, "the delimiter and the comment character must differ")
  raises(function() hio.loadtxt(path("bad.txt"), { dtype = "c128" }) end, "io.loadtxt: dtype must be \"f64\", \"f32\" or \"i64\", got \"c128\"")
  raises(function() hio.loadtxt(path("bad.txt"), { delim = "," }) end, "io.loadtxt: unknown option \"delim\"")
  raises(function() hio.savetxt(path("o.txt"), T.zeros(2, 2, 2)) end,
         "io.savetxt: a table is a 1-d or 2-d real tensor, got f64 with 3 dimensions")
  raises(function() hio.savetxt(path("o.txt"), T.complex(T.zeros(2), T.zeros(2))) end,
         "(for complex numbers, save real() and imag() as columns)")
  raises(function() hio.savetxt(path("o.txt"), T.zeros(2, 2), { header = { "a" } }) end, "io.savetxt: 1 header names for 2 columns")
  raises(function() hio.savetxt(path("o.txt"), T.zeros(2, 2), { header = { "a b", "c" } }) end,
         "io.savetxt: header name 1 must be a string without the delimiter, got \"a b\"")
  raises(function() hio.savetxt("/dev/full", T.zeros(100, 2)) end, "io.savetxt: cannot write '/dev/full': No space left on device")
end)

iotest.remove(dir)
check.done()
