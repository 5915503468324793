-- speed_jit.lua -- LuaJIT's side of row 23 of `make bench`: the 16-site
-- chain of bench/speed.lua written against libhebb's C API through the
-- FFI (the block of include/hebb.h), as a LuaJIT user would: every result
-- a new tensor released by the collector (ffi.gc), the in-place updates
-- into v and x.
-- usage: luajit bench/speed_jit.lua CDEF_FILE LIBRARY N
local ffi = require "ffi"
local cdef_file, libpath = arg[1], arg[2]
local N = tonumber(arg[3]) or 1000000
local fh = assert(io.open(cdef_file))
ffi.cdef(fh:read("*a"))
fh:close()
local H = ffi.load(libpath)
H.hebb_set_num_threads(1)

local function out(key, value) io.write(key, " ", tostring(value), "\n") end

local function gc(t)
  assert(t ~= nil, ffi.string(H.hebb_last_error()))
  return ffi.gc(t, H.hebb_release)
end

local res = ffi.new("hebb_tensor *[1]")
local function binary(op, a, b)
  res[0] = nil
  assert(H.hebb_binary(op, a, b, res) == 0, ffi.string(H.hebb_last_error()))
  return gc(res[0])
end
local function inplace(op, a, b)
  res[0] = a
  assert(H.hebb_binary(op, a, b, res) == 0, ffi.string(H.hebb_last_error()))
end
local function select(a, idx)
  res[0] = nil
  assert(H.hebb_index_select(a, 0, idx, 0, res) == 0, ffi.string(H.hebb_last_error()))
  return gc(res[0])
end

local n, m2, dt = 16, 0.25, 0.01
local shape = ffi.new("int64_t[1]", n)
local up = gc(H.hebb_empty(H.HEBB_I64, 1, shape))
local dn = gc(H.hebb_empty(H.HEBB_I64, 1, shape))
local pu = ffi.cast("int64_t *", H.hebb_data_ptr(up))
local pd = ffi.cast("int64_t *", H.hebb_data_ptr(dn))
for i = 0, n - 1 do pu[i], pd[i] = (i + 1) % n, (i - 1) % n end
local x = gc(H.hebb_zeros(H.HEBB_F64, 1, shape))
local v = gc(H.hebb_zeros(H.HEBB_F64, 1, shape))
ffi.cast("double *", H.hebb_data_ptr(x))[0] = 1.0
local c2 = gc(H.hebb_full(H.HEBB_F64, 0, nil, 2 + m2))   -- 0-d constants
local cdt = gc(H.hebb_full(H.HEBB_F64, 0, nil, dt))
local ADD, SUB, MUL = H.HEBB_ADD, H.HEBB_SUB, H.HEBB_MUL

local t0 = os.clock()
for _ = 1, N do
  local f = binary(SUB, binary(ADD, select(x, up), select(x, dn)), binary(MUL, x, c2))
  inplace(ADD, v, binary(MUL, f, cdt))
  inplace(ADD, x, binary(MUL, v, cdt))
end
local t = os.clock() - t0
out("jit.version", jit.version:gsub(" ", "_"))
out("jit.phys.iter", t / N)
out("jit.phys.x1", string.format("%.17g", ffi.cast("double *", H.hebb_data_ptr(x))[0]))
