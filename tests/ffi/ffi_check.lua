-- ffi_check.lua -- libhebb through LuaJIT's FFI: the header's FFI block,
-- fed verbatim to ffi.cdef, must describe the library exactly.
-- usage: luajit ffi_check.lua CDEF_FILE LIBRARY REFERENCE_FILE
local ffi = require "ffi"
local cdef_file, libpath, ref_file = arg[1], arg[2], arg[3]
local C = require "check"   -- tests/lua/lib, on LUA_PATH (run.sh)
C.suite = "ffi"
local check = C.ok

local slurp = C.read

local ok, err = pcall(ffi.cdef, slurp(cdef_file))
check("cdef", ok, err)
if not ok then os.exit(1) end
local lib = ffi.load(libpath)

-- struct layouts agree with the C compiler's
check("sizeof_tensor", ffi.sizeof("hebb_tensor") == tonumber(lib.hebb_sizeof_tensor()),
      ffi.sizeof("hebb_tensor") .. " vs " .. tostring(lib.hebb_sizeof_tensor()))
check("sizeof_alloc_stats",
      ffi.sizeof("hebb_alloc_stats") == tonumber(lib.hebb_sizeof_alloc_stats()))
check("sizeof_rng", ffi.sizeof("hebb_rng") == tonumber(lib.hebb_sizeof_rng()))
check("version", ffi.string(lib.hebb_version()):match("^%d+%.%d+%.%d+"))

local function gc(t)
  assert(t ~= nil, "NULL tensor: " .. ffi.string(lib.hebb_last_error()))
  return ffi.gc(t, lib.hebb_release)
end

-- a = (0, 0.5, ..., 5.5) - 1 as 3x4, written through the data pointer
local shape = ffi.new("int64_t[2]", 3, 4)
local a = gc(lib.hebb_empty(lib.HEBB_F64, 2, shape))
check("empty", a.ndim == 2 and a.shape[0] == 3 and a.shape[1] == 4 and
      tonumber(a.stride[0]) == 4 and lib.hebb_is_contiguous(a))
check("fill", lib.hebb_fill(a, 0) == lib.HEBB_OK)
local p = ffi.cast("double *", lib.hebb_data_ptr(a))
for i = 0, 11 do p[i] = i * 0.5 - 1 end

-- b = 0.25 everywhere but b[1][1] = 2 and b[4][2] = -1.5
local bshape = ffi.new("int64_t[2]", 4, 2)
local b = gc(lib.hebb_full(lib.HEBB_F64, 2, bshape, 0.25))
check("set", lib.hebb_set(b, ffi.new("int64_t[2]", 0, 0), 2.0) == 0 and
      lib.hebb_set(b, ffi.new("int64_t[2]", 3, 1), -1.5) == 0)
local v = ffi.new("double[1]")
check("get", lib.hebb_get(b, ffi.new("int64_t[2]", 3, 1), v) == 0 and v[0] == -1.5)

local got = {}
check("sum_all", lib.hebb_sum_all(a, v) == lib.HEBB_OK)
got[#got + 1] = v[0]

local out = ffi.new("hebb_tensor *[1]")
local dims = ffi.new("int[1]", 1)
check("reduce", lib.hebb_reduce(lib.HEBB_SUM, a, 1, dims, false, 0, out) == lib.HEBB_OK)
local rs = gc(out[0])
check("reduce_shape", rs.ndim == 1 and rs.shape[0] == 3)
for i = 0, 2 do got[#got + 1] = ffi.cast("double *", lib.hebb_data_ptr(rs))[i] end

out[0] = nil
check("matmul", lib.hebb_matmul(a, b, out) == lib.HEBB_OK)
local c = gc(out[0])
check("matmul_shape", c.ndim == 2 and c.shape[0] == 3 and c.shape[1] == 2)
for i = 0, 5 do got[#got + 1] = ffi.cast("double *", lib.hebb_data_ptr(c))[i] end

-- a generator struct owned by LuaJIT
local g = ffi.new("hebb_rng")
lib.hebb_rng_init(g, 2024, 3)
local n5 = ffi.new("int64_t[1]", 5)
local z = gc(lib.hebb_empty(lib.HEBB_F64, 1, n5))
check("rand_normal", lib.hebb_rand_normal(g, z, 0, 1) == lib.HEBB_OK and g.counter == 5)
for i = 0, 4 do got[#got + 1] = ffi.cast("double *", lib.hebb_data_ptr(z))[i] end

-- the same numbers as the Lua 5.4 bindings, bit for bit
local want = {}
for line in slurp(ref_file):gmatch("[^\n]+") do want[#want + 1] = tonumber(line) end
check("reference_count", #want == #got, #want .. " reference values, " .. #got .. " computed")
for i = 1, math.min(#want, #got) do
  check("same_as_lua_" .. i, want[i] == got[i],
        string.format("%.17g vs %.17g", got[i], want[i]))
end

-- errors come back as a status and a message
out[0] = nil
local st = lib.hebb_matmul(a, a, out)
local msg = ffi.string(lib.hebb_last_error())
check("error_status", st == lib.HEBB_ERR_SHAPE and lib.hebb_last_status() == st, st)
check("error_text", msg == "matmul: shapes {3,4} and {3,4} do not align (4 \xe2\x89\xa0 3)", msg)
check("error_no_result", out[0] == nil)
lib.hebb_clear_error()
check("clear_error", lib.hebb_last_status() == 0 and ffi.string(lib.hebb_last_error()) == "")
check("null_on_failure", lib.hebb_empty(42, 1, n5) == nil and
      lib.hebb_last_status() == lib.HEBB_ERR_DTYPE)

-- reference counts through the FFI
local view = lib.hebb_transpose(a, 0, 1)
check("view_shares", view ~= nil and lib.hebb_same_storage(view, a) and a.refcount == 1)
lib.hebb_release(view)

local st2 = ffi.new("hebb_alloc_stats")
lib.hebb_alloc_get_stats(st2)
check("alloc_stats", st2.bytes_in_use > 0 and st2.n_alloc > 0)

-- the memory cap: a request past it fails cleanly with the core's message
check("parse_size", lib.hebb_parse_size("1.5G") == 1610612736 and lib.hebb_parse_size("x") == -1)
lib.hebb_alloc_set_limit(st2.bytes_in_use + 4096)
local n1m = ffi.new("int64_t[1]", 1000000)
local big = lib.hebb_empty(lib.HEBB_F64, 1, n1m)
local msg2 = ffi.string(lib.hebb_last_error())
check("limit_refuses", big == nil and lib.hebb_last_status() == lib.HEBB_ERR_NOMEM and
      msg2:find("out of memory: 7.6 MiB requested, limit", 1, true) ~= nil, msg2)
check("limit_removed", lib.hebb_alloc_set_limit(0) == st2.bytes_in_use + 4096 and
      lib.hebb_alloc_get_limit() == 0)

C.done(true)   -- closes the state: the ffi.gc finalizers release every tensor
