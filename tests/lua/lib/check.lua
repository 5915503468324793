-- check.lua -- the small test harness of hebb's Lua suites.
-- Each check prints "PASS suite/name" or "FAIL suite/name: why"; tests/run.sh
-- counts those lines over all suites.  check.done() exits non-zero on failure.
-- Plain Lua 5.1 as well: the LuaJIT FFI suite (tests/ffi) uses it too.
local check = {}
-- the prefix of the names; a script may set another
check.suite = (arg and arg[0] or "?"):match("([^/]+)%.lua$") or "?"
local passed, failed = 0, 0

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- check.ok(name, ok, why): one check from a condition; why tells a failure
function check.ok(name, ok, why)
  if ok then
    passed = passed + 1
    print("PASS " .. check.suite .. "/" .. name)
  else
    failed = failed + 1
    print("FAIL " .. check.suite .. "/" .. name .. ": " .. tostring(why):gsub("\n", "\n    "))
  end
end

-- check.test(name, fn): runs fn; any error (or failed assertion) fails it.
function check.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  check.ok(name, ok, err)
end

function check.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", fmt(got), fmt(want)), 2)
  end
end

function check.truthy(v, what)
  if not v then error((what or "condition") .. " is false", 2) end
end

-- |got - want| <= tol (absolute), with NaN equal to NaN
function check.near(got, want, tol, what)
  tol = tol or 0
  local same_nan = got ~= got and want ~= want
  if not same_nan and not (math.abs(got - want) <= tol) then
    error(string.format("%s: got %.17g, want %.17g (tol %g)", what or "value", got, want, tol), 2)
  end
end

-- recursive comparison of nested tables of numbers/booleans
local function deep(got, want, tol, path)
  if type(want) == "table" then
    if type(got) ~= "table" then return path .. ": not a table" end
    if #got ~= #want then return string.format("%s: length %d, want %d", path, #got, #want) end
    for i = 1, #want do
      local e = deep(got[i], want[i], tol, path .. "[" .. i .. "]")
      if e then return e end
    end
    return nil
  end
  if type(want) == "number" and type(got) == "number" then
    if want ~= want and got ~= got then return nil end
    if math.abs(got - want) <= tol then return nil end
    if want == got then return nil end  -- infinities
  elseif got == want then return nil end
  return string.format("%s: got %s, want %s", path, fmt(got), fmt(want))
end

-- compares a tensor (or table) with a nested table, elementwise within tol
function check.same(got, want, tol, what)
  if type(got) == "userdata" then got = got:totable() end
  if type(want) == "userdata" then want = want:totable() end
  local e = deep(got, want, tol or 0, what or "tensor")
  if e then error(e, 2) end
end

-- a tensor untracked by autograd (when autograd is loaded at all: t:detach()
-- would load it)
local function plain(t)
  if type(t) == "userdata" and package.loaded["hebb.autograd"] then return t:detach() end
  return t
end

-- the largest |x| over a tensor (real or complex), a nested table of
-- numbers or a number, as a Lua number; nothing is recorded for autograd
function check.maxabs(t)
  if type(t) == "number" then return math.abs(t) end
  if type(t) == "table" then
    local m = 0
    for i = 1, #t do m = math.max(m, check.maxabs(t[i])) end
    return m
  end
  local m = plain(t):abs():max()
  if type(m) ~= "number" then m = m:item() end
  return m
end

-- the largest |a - b| over two tensors (broadcasting), nested tables of
-- numbers or numbers, as a Lua number: the distance of most checks
function check.maxdiff(a, b)
  if type(a) == "table" then
    local m = 0
    for i = 1, #a do m = math.max(m, check.maxdiff(a[i], b[i])) end
    return m
  end
  return check.maxabs(plain(a) - plain(b))
end

-- two tensors with the same dtype, shape and elements bit for bit (NaN
-- payloads and signed zeros included): what a fast path must give against
-- the general form it replaces
function check.same_bits(a, b, what)
  check.eq(a.dtype, b.dtype, what .. ": dtype")
  check.eq(table.concat(a.shape, ","), table.concat(b.shape, ","), what .. ": shape")
  check.truthy(a:contiguous():tobytes() == b:contiguous():tobytes(), what .. ": bits differ")
end

-- same_bits, except that any NaN equals any NaN: which operand's NaN a
-- product or a sum returns depends on the operand order the compiler or
-- the BLAS kernel took, and the payload means nothing
function check.same_values(a, b, what)
  local T = require "hebb.tensor"
  local na, nb = T.ne(a, a), T.ne(b, b)
  check.truthy(T.equal(na, nb), what .. ": NaNs at other places")
  check.same_bits(T.where(na, 0.5, a), T.where(nb, 0.5, b), what)
end

-- fn() run with hebb's thread count set to n, the count put back even when
-- fn fails (its error rethrown as it is)
function check.at_threads(n, fn)
  local hebb = require "hebb"
  local before = hebb.threads()
  hebb.threads(n)
  local ok, err = pcall(fn)
  hebb.threads(before)
  if not ok then error(err, 0) end
end

-- fn must raise an error whose message contains the plain text 'needle'
function check.raises(fn, needle, what)
  local ok, err = pcall(fn)
  if ok then error((what or "call") .. " did not raise (expected: " .. needle .. ")", 2) end
  err = tostring(err)
  if not err:find(needle, 1, true) then
    error(string.format("%s raised %q, expected it to contain %q", what or "call", err, needle), 2)
  end
end

-- the contents of the file at path
function check.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- 1..n (i64) as a tensor of the given shape; T is the hebb.tensor module
function check.seq(T, ...)
  local shape, n = {...}, 1
  for _, s in ipairs(shape) do n = n * s end
  return T.arange(1, n):view(shape)
end

-- the matrix product r[i][k] = sum_j a[i][j] b[j][k], summed left to right,
-- of two 2-d tensors or nested tables: the reference for matmul-like tests
function check.mm(a, b)
  if type(a) == "userdata" then a = a:totable() end
  if type(b) == "userdata" then b = b:totable() end
  local r = {}
  for i = 1, #a do
    r[i] = {}
    for k = 1, #b[1] do
      local s = 0
      for j = 1, #b do s = s + a[i][j] * b[j][k] end
      r[i][k] = s
    end
  end
  return r
end

-- close: as os.exit's, closes the Lua state first
function check.done(close)
  io.stdout:flush()
  os.exit(failed == 0 and 0 or 1, close)
end

return check
