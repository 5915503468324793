-- hebb._autograd_sparse: backward rules of hebb.sparse.
--
-- A sparse matrix is not a tensor, so autograd cannot track it.  What it
-- tracks is the values tensor a matrix was built from: sparse.csr(rows,
-- cols, vals) with a vals that requires grad (or S:with_values(vals))
-- gives a matrix that remembers {rows, cols, vals} (S:source()), and
-- S:matmul(x) / S:to_dense() hand vals to the recorder as an extra
-- argument (natives/lua/l_sparse.c).  So the op "sparse.matmul" has the
-- arguments (S, x, opts, vals), vals absent for a constant matrix.
--
-- With S = sum_k vals[k] e_{r_k} e_{c_k}^T and y = S x:
--   grad_x       = S^H g
--   grad_vals[k] = sum_j g[r_k, j] conj(x[c_k, j])
-- in the convention of hebb._autograd_complex (the gradient stored for a
-- complex z is dL/dRe z + i dL/dIm z; a real input gets the real part).
-- Both are tensor and sparse ops, so they are recorded again under
-- create_graph: S:H() carries the source along (conjugated, transposed).
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local R = A._ruleset()
local is_tensor = T.is_tensor
local complex = { c128 = true, c64 = true }


-- per-entry gradient of a values tensor: one number per (r_k, c_k)
-- entry, summed to one number when vals was a single 0-d value
local function fold(ge, vals)
  if vals.ndim == 0 then ge = ge:sum(1) end
  return ge
end

R.def("sparse.matmul", function(g, a, _, need)
  local S, x, vals = a[1], a[2], a[4]
  local gx, gv
  if (need == nil or need[2]) and is_tensor(x) then gx = S:H():matmul(g) end
  if vals ~= nil and (need == nil or need[4]) then
    local rows, cols = S:source()
    local xc = x:index_select(1, cols)
    if complex[xc.dtype] then xc = T.conj(xc) end
    local ge = g:index_select(1, rows) * xc
    if ge.ndim == 2 then ge = ge:sum(2) end
    gv = fold(ge, vals)
  end
  return nil, gx, nil, gv
end, { saves = { 2, 4 } })

-- D = sum_k vals[k] e_{r_k} e_{c_k}^T: grad_vals[k] = G[r_k, c_k]
R.def("sparse.to_dense", function(g, a)
  local S, vals = a[1], a[2]
  local rows, cols = S:source()
  local lin = (rows - 1) * S.ncols + cols
  return nil, fold(g:reshape(S.nrows * S.ncols):index_select(1, lin), vals)
end)

-- constructors: their results are matrices, not tensors (the values a
-- matrix remembers carry the gradient)
R.nondiff("sparse.csr", "sparse.coo", "sparse.from_dense", "sparse.diag",
          "sparse.with_values")

return R
