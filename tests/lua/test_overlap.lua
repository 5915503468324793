-- test_overlap.lua -- writes into memory that inputs also use: an out = o
-- (or an in-place receiver) that overlaps an input gives the same answer
-- as without it (natives/lua/l_tensor.c computes into a temporary then);
-- writes into views whose elements repeat are refused everywhere
-- (natives/core/view.c's hebb_check_writable); empty tensors are fine.
local check = require "check"
local T = require "hebb.tensor"
local test, eq, same, raises = check.test, check.eq, check.same, check.raises

T.manual_seed(8)

-- The issue's reproducer: out shifted one place right of the input.
test("shifted_out_reproducer", function()
  local a = T.tensor{1.0, 2, 3, 4}
  T.add(a:narrow(1, 1, 3), 0, {out = a:narrow(1, 2, 3)})
  same(a, {1, 1, 2, 3})
end)

-- Each case: f(args, opts) computes a result from views of one storage;
-- out(base) is a view of the same storage that overlaps them.  With out
-- the values must be those f gives on private copies of its inputs, and
-- the storage outside out must not change.
local function run_case(name, base, args, out, f)
  local copies = {}
  for i, v in ipairs(args) do copies[i] = T.is_tensor(v) and v:clone() or v end
  local want = f(copies):clone()
  local before = base:clone()
  local o = out(base)
  local r = f(args, {out = o})
  eq(rawequal(r, o), true, name .. ": returns out")
  same(o, want, 1e-12, name)
  local mask = T.ones(base.shape, {dtype = "bool"})
  out(mask):fill_(false)   -- the same view of a bool twin marks out
  same(T.where(mask, base, 0), T.where(mask, before, 0), 0, name .. " elsewhere")
end

-- every function that takes {out =}, each with inputs that overlap out
local cases = {
  {"exp", 8, function(b) return {b:narrow(1, 1, 6)} end,
   function(b) return b:narrow(1, 3, 6) end,
   function(a, o) return T.exp(a[1], o) end},
  {"neg_reversed", 6, function(b) return {b:narrow(1, 1, 6)} end,
   function(b) return b[{{6, 1, -1}}] end,
   function(a, o) return T.neg(a[1], o) end},
  {"mul", 10, function(b) return {b:narrow(1, 1, 5), b:narrow(1, 6, 5)} end,
   function(b) return b:narrow(1, 4, 5) end,
   function(a, o) return T.mul(a[1], a[2], o) end},
  {"sub_broadcast", 12, function(b) return {b:view(3, 4), b:narrow(1, 1, 4)} end,
   function(b) return b:view(3, 4) end,
   function(a, o) return T.sub(a[1], a[2], o) end},
  {"where", 9, function(b) return {b:narrow(1, 1, 6):gt(0), b:narrow(1, 1, 6), 0.5} end,
   function(b) return b:narrow(1, 2, 6) end,
   function(a, o) return T.where(a[1], a[2], a[3], o) end},
  {"addcmul", 9, function(b) return {b:narrow(1, 1, 6), b:narrow(1, 2, 6), b:narrow(1, 4, 6)} end,
   function(b) return b:narrow(1, 3, 6) end,
   function(a, o) return T.addcmul(a[1], a[2], a[3], o) end},
  {"clamp", 7, function(b) return {b:narrow(1, 2, 6)} end,
   function(b) return b:narrow(1, 1, 6) end,
   function(a, o) return T.clamp(a[1], -0.5, 0.5, o) end},
  {"sum_dim", 12, function(b) return {b:view(3, 4)} end,
   function(b) return b:narrow(1, 2, 3) end,
   function(a, o) return T.sum(a[1], 2, o) end},
  {"mean_keepdim", 12, function(b) return {b:view(4, 3)} end,
   function(b) return b:narrow(1, 5, 4):view(4, 1) end,
   function(a, o) return T.mean(a[1], 2, {keepdim = true, out = o and o.out}) end},
  {"max_dim", 12, function(b) return {b:view(3, 4)} end,
   function(b) return b:narrow(1, 1, 3) end,
   function(a, o) return (T.max(a[1], 2, o)) end},
  {"cumsum", 8, function(b) return {b:narrow(1, 1, 7)} end,
   function(b) return b:narrow(1, 2, 7) end,
   function(a, o) return T.cumsum(a[1], 1, o) end},
  {"matmul_self", 4, function(b) return {b:view(2, 2), b:view(2, 2)} end,
   function(b) return b:view(2, 2) end,
   function(a, o) return T.matmul(a[1], a[2], o) end},
  {"matmul_transposed", 9, function(b) return {b:view(3, 3), b:view(3, 3):t()} end,
   function(b) return b:view(3, 3):t() end,
   function(a, o) return T.matmul(a[1], a[2], o) end},
  {"mm_shifted", 10, function(b) return {b:narrow(1, 1, 6):view(2, 3), b:narrow(1, 1, 9):view(3, 3)} end,
   function(b) return b:narrow(1, 2, 6):view(2, 3) end,
   function(a, o) return T.mm(a[1], a[2], o) end},
  {"outer", 9, function(b) return {b:narrow(1, 1, 3), b:narrow(1, 4, 3)} end,
   function(b) return b:view(3, 3) end,
   function(a, o) return T.outer(a[1], a[2], o) end},
  {"linear", 12, function(b) return {b:narrow(1, 1, 6):view(2, 3), b:narrow(1, 4, 6):view(2, 3), b:narrow(1, 7, 2)} end,
   function(b) return b:narrow(1, 5, 4):view(2, 2) end,
   function(a, o) return T.linear(a[1], a[2], a[3], o) end},
  {"einsum", 9, function(b) return {b:view(3, 3)} end,
   function(b) return b:view(3, 3) end,
   function(a, o) return o and T.einsum("ij->ji", a[1], o) or T.einsum("ij->ji", a[1]) end},
  {"tensordot", 9, function(b) return {b:view(3, 3), b:view(3, 3)} end,
   function(b) return b:view(3, 3):t() end,
   function(a, o) return T.tensordot(a[1], a[2], 1, o) end},
  {"index_select", 12, function(b) return {b:view(3, 4)} end,
   function(b) return b:narrow(1, 5, 8):view(2, 4) end,
   function(a, o) return T.index_select(a[1], 1, T.tensor{3, 1}, o) end},
  {"gather", 12, function(b) return {b:view(3, 4)} end,
   function(b) return b:view(3, 4) end,
   function(a, o) return T.gather(a[1], 2, T.tensor{{4, 3, 2, 1}, {1, 1, 1, 1}, {2, 2, 3, 3}}, o) end},
}

for _, c in ipairs(cases) do
  local name, n, args, out, f = table.unpack(c)
  test("out_overlaps_input_" .. name, function()
    local base = T.randn(n)
    run_case(name, base, args(base), out, f)
  end)
end

-- fft and linalg take no out= (a stray one is refused: test_badcalls);
-- their inputs may share memory with each other
test("fft_linalg_inputs_sharing_memory", function()
  local linalg, fft = require "hebb.linalg", require "hebb.fft"
  local A = T.randn(3, 3) + T.eye(3) * 4
  same(linalg.solve(A, A:select(2, 1)), linalg.solve(A:clone(), A:select(2, 1):clone()), 1e-14)
  same(linalg.lstsq(A, A:t()), linalg.lstsq(A:clone(), A:t():clone()), 1e-12)
  local x = T.randn(8)
  local z = T.complex(x:narrow(1, 1, 6), x:narrow(1, 3, 6))
  same(fft.fft(z):real(), fft.fft(z:clone()):real(), 1e-13)
  raises(function() linalg.inv(A, {out = A}) end, "linalg.inv: takes 1 argument, got 2")
end)

test("out_same_view_elementwise_allocates_nothing", function()
  local a, b = T.randn(1000), T.randn(1000)
  local want = a + b
  local r = T.add(a, b, {out = a})
  eq(rawequal(r, a), true)
  same(a, want)
  T.mul(a, a, {out = a}); same(a, want * want, 1e-12)
  local c = a:clone(); c:sub_(c); same(c, T.zeros(1000))
end)

test("inplace_with_overlapping_operand", function()
  local a = T.tensor{1.0, 2, 3, 4}
  a:narrow(1, 2, 3):add_(a:narrow(1, 1, 3))
  same(a, {1, 3, 5, 7})                       -- numpy: a[1:] += a[:-1]
  a = T.tensor{1.0, 2, 3, 4}
  a:narrow(1, 1, 3):mul_(a:narrow(1, 2, 3))
  same(a, {2, 6, 12, 4})
  local m = T.tensor{{1.0, 2}, {3, 4}}
  m:add_(m:t())
  same(m, {{2, 5}, {5, 8}})
end)

test("copy_from_overlapping_source", function()
  local a = T.tensor{1.0, 2, 3, 4, 5}
  a:narrow(1, 2, 4):copy_(a:narrow(1, 1, 4))
  same(a, {1, 1, 2, 3, 4})
  a = T.tensor{1.0, 2, 3, 4, 5}
  a:narrow(1, 1, 4):copy_(a:narrow(1, 2, 4))
  same(a, {2, 3, 4, 5, 5})
  a = T.tensor{1.0, 2, 3}
  a:copy_(a[{{3, 1, -1}}])
  same(a, {3, 2, 1})
  local m = T.tensor{{1.0, 2}, {3, 4}}
  m:copy_(m:t())
  same(m, {{1, 3}, {2, 4}})
  a = T.tensor{1.0, 2, 3}
  a[{{2, 3}}] = a[{{1, 2}}]
  same(a, {1, 1, 2})
end)

-- One rule for every write: a target whose elements repeat is refused,
-- whichever way the write comes (it used to be accepted by copy_ and fill_).
test("every_write_into_repeated_elements_is_refused", function()
  local base = T.tensor{1.0, 2, 3}
  local e = base:view(3, 1):expand(3, 4)
  local msg = "cannot write into a broadcast (expanded) view (dim 2 repeats one element)"
  raises(function() e:copy_(T.zeros(3, 4)) end, "copy_: " .. msg)
  raises(function() e:fill_(0) end, "fill_: " .. msg)
  raises(function() e:add_(1) end, "add_: " .. msg)
  raises(function() e:exp_() end, "exp_: " .. msg)
  raises(function() e:clamp_(0, 1) end, "clamp_: " .. msg)
  raises(function() e:uniform_() end, "uniform_: " .. msg)
  raises(function() T.sum(T.ones(3, 4, 2), 3, {out = e}) end, "sum: " .. msg)
  raises(function() T.matmul(T.ones(3, 2), T.ones(2, 4), {out = e}) end, "matmul: " .. msg)
  raises(function() T.cumsum(T.ones(3, 4), 1, {out = e}) end, "cumsum: " .. msg)
  raises(function() e[{{1, 2}}] = 0 end, "index assignment: " .. msg)
  same(base, {1, 2, 3})
  -- views that never repeat: reversed, stepped, transposed, diagonal
  local m = T.zeros(4, 4)
  m[{{4, 1, -2}}]:fill_(1); m:t():narrow(1, 1, 2):add_(1); m:diagonal():fill_(7)
  same(m, {{7, 1, 0, 0}, {2, 7, 1, 1}, {1, 1, 7, 0}, {2, 2, 1, 7}})
end)

-- A size-0 dim gave contiguous strides a 0, which the check read as
-- "repeats its elements": every write into an empty tensor was refused.
test("empty_tensors_take_every_write", function()
  local z = T.zeros(2, 0)
  same(z:stride(), {1, 1})
  eq(z:is_contiguous(), true)
  eq(z:cos_().ndim, 2)
  eq(z:clamp_(0, 1):numel(), 0)
  eq(z:masked_fill_(T.zeros(2, 0):gt(0), 1):numel(), 0)
  eq(z:scatter_(2, T.zeros(2, 0, {dtype = "i64"}), 1.0):numel(), 0)
  eq(T.exp(z, {out = T.zeros(2, 0)}):numel(), 0)
  eq(z:copy_(T.ones(2, 0)):numel(), 0)
  eq(z:fill_(3):numel(), 0)
  eq(z:add_(1):numel(), 0)
  eq(T.zeros(0, 3, 0):uniform_():numel(), 0)
  eq(T.sum(T.ones(0, 3), 1, {out = T.zeros(3)}):sum(), 0.0)
  eq(T.zeros(3, 0):t():contiguous():numel(), 0)
  eq(T.zeros(2, 0):view(0, 5):numel(), 0)
end)

check.done()
