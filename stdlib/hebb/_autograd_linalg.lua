-- hebb._autograd_linalg: backward rules of hebb.linalg.  Each rule is
-- written with tensor and linalg operations (matmul, solve, inv, eigh,
-- expm...), so that with create_graph it is recorded and can be
-- differentiated again.  Matrices are the last two dimensions; every rule
-- works over leading batch dimensions as the forward does.  Gradients of
-- complex tensors follow the conjugate (Wirtinger) convention of
-- hebb._autograd_complex: for holomorphic f, grad_in = g * conj(f'(z)),
-- which for matrices puts conjugate transposes (H below) where the real
-- formulas have transposes.
local E = require "hebb._error"
local T = require "hebb.tensor"
local A = require "hebb._autograd_engine"

local L = require "hebb.linalg"

local R = A._ruleset()
local def, unb = R.def, A.unbroadcast
local complex = { c128 = true, c64 = true }

local function H(x)          -- conjugate transpose (transpose if real)
  x = x:transpose(-2, -1)
  if complex[x.dtype] then x = T.conj(x) end
  return x
end
local function eye(n, like) return T.eye(n, { dtype = like.dtype }) end
-- v {..., n} -> the diagonal matrices {..., n, n}
local function diag_embed(v)
  local n = v.shape[v.ndim]
  return v:unsqueeze(-1) * eye(n, v)
end
-- a per-matrix value {...} lifted to broadcast against {..., m, n}
local function lift(s) return s:unsqueeze(-1):unsqueeze(-1) end
-- constant mask: ones on and below diagonal k (tril(x, -1): strictly below)
local function tri_mask(n, k, dtype)
  local i = T.arange(1, n):reshape(n, 1)
  local j = T.arange(1, n):reshape(1, n)
  return T.where(T.ge(i + k, j), 1.0, 0.0):astype(dtype)
end
local function tril(x, k)
  return x * tri_mask(x.shape[x.ndim], k or 0, x.dtype)
end
local function size(x, d) return x.shape[d < 0 and x.ndim + 1 + d or d] end

-- Linear systems, inverse, determinant -----------------------------------
-- X = A^-1 B:  gB = A^-H G,  gA = -gB X^H  (B a vector: a column)
def("linalg.solve", function(g, a, x)
  local Am, B = a[1], a[2]
  local vec = B.ndim == 1
  local B2 = vec and B:unsqueeze(-1) or B
  local x2 = vec and x:unsqueeze(-1) or x
  local g2 = vec and g:unsqueeze(-1) or g
  local gB = L.solve(H(Am), g2)
  local gA = -gB:matmul(H(x2))
  gB = unb(gB, B2)
  if vec then gB = gB:reshape(B.shape) end
  return unb(gA, Am), gB
end, { saves = { 1, 0 } })

-- Y = A^-1: gA = -Y^H G Y^H
def("linalg.inv", function(g, _, y)
  local yh = H(y)
  return -yh:matmul(g):matmul(yh)
end, { saves = { 0 } })

-- d(det A) = det A tr(A^-1 dA): gA = g conj(det A) A^-H
def("linalg.det", function(g, a, d)
  local Am = a[1]
  local c = complex[d.dtype] and T.conj(d) or d
  return lift(g * c) * H(L.inv(Am))
end, { saves = { 1, 0 }, scalar = true })

-- sign, log|det A|: d log|det A| = Re tr(A^-1 dA) gives g A^-H; the sign
-- is constant for real A, and for complex A, d sign = sign i Im tr(A^-1
-- dA) gives -Im(conj(g_sign) sign) i A^-H
def("linalg.slogdet", function(gs, a, outs)
  local Am, gsign, g = a[1], gs[1], gs[2]
  local c
  if g then c = g end
  if gsign and complex[outs[1].dtype] then
    local t = -T.imag(T.conj(gsign) * outs[1]) * T.I
    c = c and c + t or t
  end
  if c == nil then return nil end
  return lift(c) * H(L.inv(Am))
end, { multi = true, saves = { 1 } })

-- Factorizations ---------------------------------------------------------
-- A = L L^H (PyTorch's form of Murray 2016): with X = tril(L^H gL),
-- gA = L^-H (X + tril(X, -1)^H) / 2 L^-1, which is Hermitian: the
-- gradient with respect to a symmetric A (forward reads only its lower
-- triangle, so symmetrize A before cholesky when checking it).
def("linalg.cholesky", function(g, _, l)
  local X = tril(H(l):matmul(g))
  X = (X + H(tril(X, -1))) * 0.5
  local li = L.inv(l)
  return H(li):matmul(X):matmul(li)
end, { saves = { 0 } })

-- A = Q R, reduced.  m >= n (Liao et al. 2019): M = R gR^H - gQ^H Q,
-- gA = (gQ + Q copyltu(M)) R^-H with copyltu(M) = tril(M, -1) +
-- tril(M, -1)^H + Re diag(M) (R's diagonal is real, so Q^H dQ takes the
-- imaginary part of the diagonal).  m < n: A = Q [R1 R2], the first m
-- columns X = Q R1 take the m >= n formula with gQ + Y gR2^H, and
-- Y = Q R2 gets Q gR2.
local function qr_tall(gQ, gR, Q, R)
  local M = R:matmul(H(gR)) - H(gQ):matmul(Q)
  local low = tril(M, -1)
  local d = M:diagonal(0, -2, -1)
  if complex[d.dtype] then d = T.real(d) end
  local C = low + H(low) + diag_embed(d)
  return (gQ + Q:matmul(C)):matmul(H(L.inv(R)))
end
def("linalg.qr", function(gs, a, outs)
  local Am, Q, R = a[1], outs[1], outs[2]
  local gQ = gs[1] or T.zeros_like(Q)
  local gR = gs[2] or T.zeros_like(R)
  local m, n = size(Am, -2), size(Am, -1)
  if m >= n then return qr_tall(gQ, gR, Q, R) end
  local R1, R2 = R:narrow(-1, 1, m), R:narrow(-1, m + 1, n - m)
  local gR1, gR2 = gR:narrow(-1, 1, m), gR:narrow(-1, m + 1, n - m)
  local Y = Am:narrow(-1, m + 1, n - m)
  local gX = qr_tall(gQ + Y:matmul(H(gR2)), gR1, Q, R1)
  return T.cat({ gX, Q:matmul(gR2) }, -1)
end, { multi = true, saves = { 1 } })

-- Eigen-decomposition of Hermitian matrices -------------------------------
-- F_ij = 1/(w_j - w_i) off the diagonal, 0 on it
local function inv_gaps(w, who)
  local n = w.shape[w.ndim]
  local Dw = w:unsqueeze(-2) - w:unsqueeze(-1)
  local I = eye(n, Dw)
  local gap, top = A.no_grad(function()
    return T.where(T.gt(I:real(), 0), math.huge, Dw:abs()):min(),
           w:abs():max()
  end)
  if type(gap) ~= "number" then gap = gap:item() end
  if type(top) ~= "number" then top = top:item() end
  if gap <= 1e-13 * math.max(top, 1e-300) then
    E.raise("autograd: %s backward: degenerate eigenvalues "
      .. "(gap %.3g at scale %.3g) make the eigenvector derivative "
      .. "undefined; only functions of the eigenvalues, or of the whole "
      .. "degenerate subspace, can be differentiated", who, gap, top)
  end
  return (1 - I) / (Dw + I)
end
-- A = V diag(w) V^H:  gA = V (diag(gw) + F o (V^H gV)) V^H, made
-- Hermitian (the gradient with respect to a Hermitian A).  Eigenvector
-- derivatives need non-degenerate eigenvalues.
local function eigh_back(gw, gV, w, V)
  local inner
  if gw then inner = diag_embed(gw):astype(V.dtype) end
  if gV then
    local K = inv_gaps(w, "linalg.eigh") * H(V):matmul(gV)
    inner = inner and inner + K or K
  end
  local gA = V:matmul(inner):matmul(H(V))
  return (gA + H(gA)) * 0.5
end
def("linalg.eigh", function(gs, _, outs)
  if gs[1] == nil and gs[2] == nil then return nil end
  return eigh_back(gs[1], gs[2], outs[1], outs[2])
end, { multi = true, saves = { 0 } })
def("linalg.eigvalsh", function(g, a)
  local w, V = L.eigh(a[1])
  return eigh_back(g, nil, w, V)
end, { saves = { 1 } })

-- General eigen-decomposition A V = V diag(w), V's columns of unit norm
-- (complex w, V):  with K = V^H gV,
-- gA = V^-H (diag(gw) + (K - V^H V Re diag(K)) / conj(E)) V^H,
-- E_ij = w_j - w_i off the diagonal (the diagonal of the quotient is
-- dropped), the second term keeping the columns' norms fixed.  A loss must
-- not depend on the eigenvectors' phases; eigenvector derivatives need
-- distinct eigenvalues.  A real A gets the real part.
local function eig_back(gw, gV, w, V, Am)
  local n = w.shape[w.ndim]
  local inner
  if gV then
    local K = H(V):matmul(gV)
    local d = T.real(K:diagonal(0, -2, -1))
    K = K - H(V):matmul(V * d:unsqueeze(-2))
    local Dw = T.conj(w:unsqueeze(-2) - w:unsqueeze(-1))
    local I = eye(n, Dw)
    local gap = A.no_grad(function()
      return T.where(T.gt(T.real(I), 0), math.huge, Dw:abs()):min()
    end)
    if type(gap) ~= "number" then gap = gap:item() end
    if gap == 0 then
      E.raise("autograd: linalg.eig backward: repeated eigenvalues make the "
        .. "eigenvector derivative undefined")
    end
    inner = K / (Dw + I) * (1 - I)
  end
  if gw then
    local D = diag_embed(gw):astype(V.dtype)
    inner = inner and inner + D or D
  end
  return L.solve(H(V), inner:matmul(H(V)))
end
def("linalg.eig", function(gs, a, outs)
  if gs[1] == nil and gs[2] == nil then return nil end
  return eig_back(gs[1], gs[2], outs[1], outs[2], a[1])
end, { multi = true, saves = { 1, 0 } })
def("linalg.eigvals", function(g, a)
  local w, V = L.eig(a[1])
  return eig_back(g, nil, w, V, a[1])
end, { saves = { 1 } })

-- Singular value decomposition ---------------------------------------------
-- Townsend (2016), reduced A = U diag(S) V^H (transposes become
-- conjugate transposes for complex A), F_ij =
-- 1/(s_j^2 - s_i^2) off the diagonal, broadened to E/(E^2 + eps^2) with
-- eps = 1e-12 s_max^2, the usual safeguard for (near-)degenerate singular
-- values (exact otherwise):
-- gA = U [(F o (U^T gU - gU^T U)) S + diag(gS) + S (F o (V^T gV - gV^T V))] V^T
--    + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
-- and for complex A, i Im diag(U^H gU) / S on the diagonal of [...]: the
-- phases of the singular vectors are fixed up to a common one per pair,
-- which a loss cannot depend on, so the whole phase goes to U.
local function svd_back(gU, gS, gVh, U, S, Vh)
  local V = H(Vh)
  local k = S.shape[S.ndim]
  local inner = gS and diag_embed(gS) or nil
  local function add(t) inner = inner and inner + t or t end
  local s2 = S * S
  local Dw = s2:unsqueeze(-2) - s2:unsqueeze(-1)
  local top = A.no_grad(function() return S:abs():max() end)
  if type(top) ~= "number" then top = top:item() end
  local eps = (1e-12 * top * top) ^ 2
  local F = Dw / (Dw * Dw + eps) * (1 - eye(k, Dw))
  local Sd = diag_embed(S)
  local Sinv = diag_embed(1 / S)
  local extra
  if gU then
    local J = H(U):matmul(gU)
    add((F * (J - H(J))):matmul(Sd))
    if complex[J.dtype] then
      add(diag_embed(T.imag(J:diagonal(0, -2, -1)) / S) * T.I)
    end
    local m = size(U, -2)
    if m > k then
      extra = (gU - U:matmul(J)):matmul(Sinv):matmul(Vh)
    end
  end
  if gVh then
    local gV = H(gVh)
    local K = H(V):matmul(gV)
    add(Sd:matmul(F * (K - H(K))))
    local n = size(V, -2)
    if n > k then
      local t = U:matmul(Sinv):matmul(H(gV - V:matmul(K)))
      extra = extra and extra + t or t
    end
  end
  local gA = inner and U:matmul(inner):matmul(Vh) or nil
  if extra then gA = gA and gA + extra or extra end
  return gA
end
-- zeros appended along dim to reach n entries
local function pad(g, dim, n)
  local have = size(g, dim)
  if have == n then return g end
  local shape = g.shape
  shape[dim < 0 and g.ndim + 1 + dim or dim] = n - have
  return T.cat({ g, T.zeros(shape, { dtype = g.dtype }) }, dim)
end
def("linalg.svd", function(gs, a, outs)
  local Am, opts = a[1], a[2]
  local gU, gS, gVh, gd = gs[1], gs[2], gs[3], gs[4]
  local gA
  if type(opts) == "table" and opts.full and (gU or gVh) then
    E.raise("autograd: no derivative for the singular vectors of "
      .. "linalg.svd(A, {full=true}) (the extra columns are arbitrary); "
      .. "use the reduced svd")
  end
  if gU or gS or gVh then
    local U, S, Vh = outs[1], outs[2], outs[3]
    local k = math.min(size(Am, -2), size(Am, -1))
    if type(opts) == "table" and opts.full then
      U, Vh = U:narrow(-1, 1, k), Vh:narrow(-2, 1, k)
    end
    local kk = S.shape[S.ndim]
    if kk < k then      -- truncated: pad to the reduced svd
      -- with the kept triplets the forward's own (their signs, and the
      -- basis of a degenerate pair, may differ from the full svd's)
      local Uf, Sf, Vhf = L.svd(Am)
      U = T.cat({ U, Uf:narrow(-1, kk + 1, k - kk) }, -1)
      S = T.cat({ S, Sf:narrow(-1, kk + 1, k - kk) }, -1)
      Vh = T.cat({ Vh, Vhf:narrow(-2, kk + 1, k - kk) }, -2)
      gU = gU and pad(gU, -1, k)
      gS = gS and pad(gS, -1, k)
      gVh = gVh and pad(gVh, -2, k)
    end
    gA = svd_back(gU, gS, gVh, U, S, Vh)
  end
  if gd then         -- discarded = |A|^2 - |U S Vh|^2
    local kept = outs[1]:matmul(diag_embed(outs[2])):matmul(outs[3])
    local t = lift(gd) * 2 * (Am - kept)
    gA = gA and gA + t or t
  end
  return gA
end, { multi = true, saves = { 1, 0 } })
def("linalg.svdvals", function(g, a)
  local U, S, Vh = L.svd(a[1])
  return svd_back(nil, g, nil, U, S, Vh)
end, { saves = { 1 } })

-- Matrix functions -----------------------------------------------------------
-- The derivative of expm at A applied backwards to G is the upper-right
-- block of expm([[A^H, G], [0, A^H]]) (exact: Mathias 1996).
def("linalg.expm", function(g, a)
  local Am = a[1]
  local n = size(Am, -1)
  local ah = H(Am)
  local top = T.cat({ ah, g }, -1)
  local bottom = T.cat({ T.zeros_like(ah), ah }, -1)
  local big = L.expm(T.cat({ top, bottom }, -2))
  return big:narrow(-2, 1, n):narrow(-1, n + 1, n)
end, { saves = { 1 } })

-- A^p = prod: gA = sum_k (A^H)^k G (A^H)^(p-1-k); p < 0 through inv(A)
local function power_back(g, B, p)
  local bh = H(B)
  local pw = { eye(size(B, -1), B):expand(B.shape) }
  for k = 2, p do pw[k] = pw[k - 1]:matmul(bh) end
  local gB
  for k = 1, p do
    local t = pw[k]:matmul(g):matmul(pw[p + 1 - k])
    gB = gB and gB + t or t
  end
  return gB
end
def("linalg.matrix_power", function(g, a)
  local Am, p = a[1], a[2]
  if p == 0 then return T.zeros_like(Am) end
  if p > 0 then return power_back(g, Am, p) end
  local B = L.inv(Am)
  local gB = power_back(g, B, -p)
  local bh = H(B)
  return -bh:matmul(gB):matmul(bh)
end, { saves = { 1 } })

-- P = pinv(A) (constant rank; Golub & Pereyra 1973):
-- gA = -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A)
local function pinv_back(g, Am, P)
  local ph, gh = H(P), H(g)
  local m, n = size(Am, -2), size(Am, -1)
  local AP, PA = Am:matmul(P), P:matmul(Am)
  return -ph:matmul(g):matmul(ph)
    + (eye(m, AP) - AP):matmul(gh):matmul(P):matmul(ph)
    + ph:matmul(P):matmul(gh):matmul(eye(n, PA) - PA)
end
def("linalg.pinv", function(g, a, p)
  return pinv_back(g, a[1], p)
end, { saves = { 1, 0 } })

-- X = pinv(A) B (the minimum-norm least-squares solution; constant rank)
def("linalg.lstsq", function(g, a)
  local Am, B = a[1], a[2]
  local vec = B.ndim == 1
  local B2 = vec and B:unsqueeze(-1) or B
  local g2 = vec and g:unsqueeze(-1) or g
  local P = L.pinv(Am, a[3])          -- the same rcond as the forward
  local gB = unb(H(P):matmul(g2), B2)
  if vec then gB = gB:reshape(B.shape) end
  local gA = unb(pinv_back(g2:matmul(H(B2)), Am, P), Am)
  return gA, gB
end, { saves = { 1, 2 } })

-- Norms --------------------------------------------------------------------
local function ord_of(o)
  if o == nil then return "fro" end
  if o == math.huge then return "inf" end
  if o == -math.huge then return "-inf" end
  return tostring(o)
end
-- the singular vectors of the largest (first) or smallest (last) s
local function extreme_sv(Am, last)
  local U, S, Vh = L.svd(Am)
  local k = S.shape[S.ndim]
  local i = last and k or 1
  local u, v = U:narrow(-1, i, 1), Vh:narrow(-2, i, 1)
  return u:matmul(v), S:narrow(-1, i, 1):squeeze(-1)
end
def("linalg.norm", function(g, a, out)
  local Am, ord = a[1], ord_of(a[2])
  local gl = lift(g)
  if ord == "fro" then return gl * Am / lift(out) end
  if ord == "nuc" then
    local U, _, Vh = L.svd(Am)
    return gl * U:matmul(Vh)
  end
  if ord == "2" or ord == "-2" then
    local uv = extreme_sv(Am, ord == "-2")
    return gl * uv
  end
  E.raise("autograd: no derivative for linalg.norm with ord " .. ord
    .. " (differentiable: 'fro', 'nuc', 2, -2)")
end, { saves = { 1, 0 }, scalar = true })

-- cond = s_max / s_min
def("linalg.cond", function(g, a)
  local Am = a[1]
  local top, smax = extreme_sv(Am, false)
  local bottom, smin = extreme_sv(Am, true)
  smax, smin = lift(smax), lift(smin)
  return lift(g) * (top / smin - bottom * smax / (smin * smin))
end, { saves = { 1 }, scalar = true })

-- A^a for symmetric positive A through its eigen-decomposition
-- (Daleckii-Krein): gA = V (Phi o (V^T G V)) V^T with Phi_ij =
-- (f(w_i) - f(w_j)) / (w_i - w_j), f'(w_i) on (near-)ties.
local function powm_back(g, Am, p)
  local w, V = L.eigh(Am)
  local f, df = w ^ p, p * w ^ (p - 1)
  local n = w.shape[w.ndim]
  local Dw = w:unsqueeze(-1) - w:unsqueeze(-2)
  local I = eye(n, Dw)
  local top = A.no_grad(function() return w:abs():max() end)
  if type(top) ~= "number" then top = top:item() end
  local tie = T.le(Dw:abs(), 1e-9 * top)
  local safe = T.where(tie, 1.0, Dw)
  local dq = (f:unsqueeze(-1) - f:unsqueeze(-2)) / safe
  local avg = (df:unsqueeze(-1) + df:unsqueeze(-2)) * 0.5
  local Phi = T.where(tie, avg, dq) * (1 - I) + diag_embed(df)
  local gs = (g + H(g)) * 0.5
  return V:matmul(Phi * H(V):matmul(gs):matmul(V)):matmul(H(V))
end
def("linalg.powm_psd", function(g, a) return powm_back(g, a[1], a[2]) end,
    { saves = { 1 } })
def("linalg.sqrtm_psd", function(g, a) return powm_back(g, a[1], 0.5) end,
    { saves = { 1 } })

return R
