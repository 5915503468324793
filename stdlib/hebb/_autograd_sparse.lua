-- hebb._autograd_sparse: backward rules of hebb.sparse.
--
-- A sparse matrix is not a tensor, so autograd cannot track it.  What it
-- tracks is the values tensor a matrix was built from: sparse.csr(rows,
-- cols, vals) with a vals that requires grad (or S:with_values(vals))
-- gives a matrix that remembers {rows, cols, vals} (S:source(); the hooks
-- at the end of this file keep it), and S:matmul(x) / S:to_dense() hand
-- vals to the recorder as an extra argument (natives/lua/l_sparse.c asks
-- the hooks for it).  So the op "sparse.matmul" has the arguments (S, x,
-- opts, vals), vals absent for a constant matrix.
--
-- With S = sum_k vals[k] e_{r_k} e_{c_k}^T and y = S x:
--   grad_x       = S^H g
--   grad_vals[k] = sum_j g[r_k, j] conj(x[c_k, j])
-- in the convention of hebb._autograd_complex (the gradient stored for a
-- complex z is dL/dRe z + i dL/dIm z; a real input gets the real part).
-- Both are tensor and sparse ops, so they are recorded again under
-- create_graph: S:H() carries the source along (conjugated, transposed).
local T = require "hebb.tensor"
local sparse = require "hebb.sparse"
local C = require "hebb._autograd"
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

-- x = S^-1 b for a constant S (its values are not followed): grad_b =
-- S^-H g, one more solve with the options of the first (x0 aside); a real
-- b gets the real part
R.def("sparse.solve", function(g, a)
  local S, b, opts = a[1], a[2], a[3]
  local o = {}
  if type(opts) == "table" then
    o.method, o.precond, o.tol, o.maxiter = opts.method, opts.precond, opts.tol, opts.maxiter
  end
  local gb = sparse.solve(S:H(), g, o)
  if complex[gb.dtype] and not complex[b.dtype] then gb = T.real(gb) end
  return nil, gb
end)

-- constructors: their results are matrices, not tensors (the values a
-- matrix remembers carry the gradient)
R.nondiff("sparse.csr", "sparse.coo", "sparse.from_dense", "sparse.diag",
          "sparse.with_values")

-- --- the values a matrix is made of ------------------------------------------
-- While autograd records, hebb.sparse's C functions hand every matrix R they
-- make from values or from another matrix to hooks[op](R, arguments...),
-- which gives R its source {rows =, cols =, vals =}: 1-based i64 entry
-- lists (duplicates allowed) and the values tensor.  t, conj, H, share,
-- scaling and sums pass a source on, transforming the values with recorded
-- tensor ops.  hooks.vals and hooks.source answer l_sparse.c's questions.
local sources = setmetatable({}, { __mode = "k" })
local hooks = {}

local function tracked(v) return C.record(v) ~= nil end

-- an entry list (a table of integers or an i64 tensor) as a new i64 tensor
local function entry_list(x)
  if is_tensor(x) then return x:clone() end
  return T.tensor(x, { dtype = "i64" })
end

-- sparse.csr and sparse.coo
function hooks.csr(R, rows, cols, vals)
  if tracked(vals) then
    sources[R] = { rows = entry_list(rows), cols = entry_list(cols), vals = vals }
  end
end

-- S:with_values(vals): S's pattern in S:triplets() order
function hooks.with_values(R, S, vals)
  if tracked(vals) then
    local rows, cols = S:triplets()
    sources[R] = { rows = rows, cols = cols, vals = vals }
  end
end

-- sparse.from_dense(A): A's elements at the stored positions
function hooks.from_dense(R, dense)
  if not tracked(dense) then return end
  local rows, cols = R:triplets()
  local flat = T.reshape(dense, R.nrows * R.ncols)
  sources[R] = { rows = rows, cols = cols,
                 vals = T.index_select(flat, 1, (rows - 1) * R.ncols + cols) }
end

-- sparse.diag(d)
function hooks.diag(R, d)
  if not tracked(d) then return end
  local n = d.shape[1]
  local idx = n > 0 and T.arange(1, n, { dtype = "i64" }) or T.tensor({}, { dtype = "i64" })
  sources[R] = { rows = idx, cols = idx, vals = d }
end

-- the source of R made from S: rows and cols swapped (swap), the values
-- conjugated (conj) or multiplied by factor
local function derive(R, S, swap, conj, factor)
  local src = sources[S]
  if not src then return end
  local vals = src.vals
  if conj and complex[vals.dtype] then vals = T.conj(vals) end
  if factor ~= nil then vals = T.mul(vals, factor) end
  sources[R] = { rows = swap and src.cols or src.rows,
                 cols = swap and src.rows or src.cols, vals = vals }
end

function hooks.t(R, S) derive(R, S, true, false) end
function hooks.conj(R, S) derive(R, S, false, true) end
function hooks.H(R, S) derive(R, S, true, true) end
function hooks.share(R, S) derive(R, S, false, false) end
function hooks.scale(R, S, factor) derive(R, S, false, false, factor) end

-- the entries of S: its source, or its stored entries (constants)
local function entries(S)
  local src = sources[S]
  if src then return src.rows, src.cols, src.vals end
  return S:triplets()
end

-- R = P + beta Q: both entry lists and values one after the other
local function sum(R, P, Q, beta)
  if not (sources[P] or sources[Q]) then return end
  local rp, cp, vp = entries(P)
  local rq, cq, vq = entries(Q)
  if beta ~= 1 then vq = T.mul(vq, beta) end
  sources[R] = { rows = T.cat { rp, rq }, cols = T.cat { cp, cq }, vals = T.cat { vp, vq } }
end

function hooks.add(R, P, Q) sum(R, P, Q, 1) end
function hooks.sub(R, P, Q) sum(R, P, Q, -1.0) end

-- the values tensor of S's source (S:matmul and S:to_dense record it)
function hooks.vals(_, S)
  local src = sources[S]
  return src and src.vals
end

-- S:source()
function hooks.source(_, S)
  local src = sources[S]
  if src then return src.rows, src.cols, src.vals end
end

sparse._follow(hooks)

return R
