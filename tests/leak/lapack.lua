-- tests/leak/lapack.lua: every complex LAPACK path at sizes that take the
-- blocked code (n >= 32: zhetrd's zlatrd, zgebrd's zlabrd, zgehrd's
-- zlahr2), run under valgrind by tests/leak/run.sh.  OpenBLAS 0.3.21's
-- zgemv_n/cgemv_n read one stride past the vector x when its row count is
-- 2 mod 4 (see linalg.c); valgrind reports the read whenever a buffer
-- LAPACK sees lacks the spare elements linalg.c gives them.  Shapes
-- include rows 2 mod 4 (34, 46) and both orders of wide and tall.
local T = require "hebb.tensor"
local L = require "hebb.linalg"

local g = T.Generator(8, 1)
local calls = 0
local function run(f, ...)
  f(...)
  calls = calls + 1
end

for _, dtype in ipairs({ "c128", "c64" }) do
  for _, n in ipairs({ 34, 46 }) do
    local a = g:randn({ n, n }, { dtype = dtype })
    local h = (a + a:conj():t()) * 0.5
    local spd = a:matmul(a:conj():t()) + T.eye(n, { dtype = dtype }) * n
    run(L.eigvalsh, h)
    run(L.eigh, h)
    run(L.eigvals, a)
    run(L.eig, a)
    run(L.svdvals, a)
    run(L.svd, a)
    run(L.inv, a)
    run(L.det, a)
    run(L.qr, a)
    run(L.cholesky, spd)
    run(L.solve, a, g:randn({ n, 3 }, { dtype = dtype }))
    run(L.powm_psd, spd, 0.5)
    run(L.sqrtm_psd, spd)
    run(L.expm, a * (1 / n))
    run(L.pinv, a)
    local wide = g:randn({ n, n + 6 }, { dtype = dtype })
    run(L.svd, wide)
    run(L.svd, wide:t())
    run(L.lstsq, wide, g:randn({ n, 2 }, { dtype = dtype }))
    run(L.lstsq, wide:t(), g:randn({ n + 6, 2 }, { dtype = dtype }))
  end
end
print(string.format("%d complex LAPACK calls", calls))
