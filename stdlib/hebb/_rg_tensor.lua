-- _rg_tensor.lua -- part of hebb.rg: tensor renormalization group for
-- classical lattice models.  Levin-Nave TRG (PRL 99, 120601 (2007)), its
-- bond-weighted form BTRG (Adachi, Okubo & Todo, PRB 105, L060402
-- (2022)), HOTRG (Xie et al., PRB 86, 045139 (2012)) in 2D and 3D, impurity
-- tensors for one- and two-point functions, and conformal data from the
-- fixed-point tensor (Gu & Wen, PRB 80, 155131 (2009)).
--
-- Every scheme is tensor calls (tensordot, reshape, the truncated svd or
-- eigh), so it is differentiable: built from a tracked inverse temperature,
-- ln Z / N carries its graph, and u = -d ln Z/N / d beta and c = beta^2 d^2
-- ln Z/N / d beta^2 come from autodiff (Liao et al., PRX 9, 031041 (2019)).
--
-- Bookkeeping: a network of N tensors (one per site) is normalized at
-- every step, T_k <- T_k / c_k with c_k its Frobenius norm; after step k a
-- tensor stands for 2^k sites (every step halves the number of tensors),
-- so ln Z / N = sum_k ln c_k / 2^k + ln Tr(T_n) / 2^n, Tr the trace of the
-- one tensor left on the torus of 2^n sites.  Exact: with chi large
-- enough, 4 TRG steps give the 4 x 4 torus's ln Z to rounding.
local T = require "hebb.tensor"
local L = require "hebb.linalg"
local AG = require "hebb.autograd"
local E = require "hebb._error"
local doc = require("hebb").doc

local M = {}
local is_tensor = T.is_tensor
local td = T.tensordot

local function lg(x) return is_tensor(x) and T.log(x) or math.log(x) end
local function num(x) return is_tensor(x) and x:detach():item() or x end

-- --- local tensors --------------------------------------------------------------

-- beta as a number or a (maybe tracked) 0-d tensor
local function check_beta(who, beta)
  if type(beta) ~= "number" and not (is_tensor(beta) and beta:numel() == 1) then
    E.raise("%s: beta must be a number or a one-element tensor, got %s", who, E.show(beta))
  end
  if num(beta) < 0 or num(beta) ~= num(beta) then
    E.raise("%s: beta must be >= 0, got %s", who, E.show(num(beta)))
  end
  return is_tensor(beta) and beta:reshape({}) or beta
end

local function tensor_of(x) return is_tensor(x) and x or T.tensor(x) end

-- W with W W^T = the Ising bond matrix [e^K e^-K; e^-K e^K]: rows
-- (sqrt cosh K, +-sqrt sinh K), so that the local tensor is symmetric
local function ising_w(K)
  local c, s = T.sqrt(T.cosh(K)), T.sqrt(T.sinh(K))
  return T.stack { T.stack { c, s }, T.stack { c, -s } }
end

-- sum_s w_s prod_legs W[s, leg] for `legs` legs
local function site_tensor(W, w, legs)
  local q = W:size(1)
  local A = w:reshape(q, 1)
  for _ = 1, legs do
    local n = A:size(2)
    A = (A:unsqueeze(3) * W:unsqueeze(2)):reshape(q, n * W:size(2))
  end
  local shape = {}
  for i = 1, legs do shape[i] = W:size(2) end
  return A:sum(1):reshape(shape)
end

local function ising_parts(who, beta, opts)
  opts = E.checkopts(who, opts, { h = true, J = true })
  local b = check_beta(who, beta)
  local J, h = opts.J or 1, opts.h or 0
  if type(J) ~= "number" or J < 0 then E.raise("%s: J must be a number >= 0 (ferromagnetic), got %s", who, E.show(J)) end
  if type(h) ~= "number" and not is_tensor(h) then E.raise("%s: h must be a number, got %s", who, E.show(h)) end
  local K = tensor_of(b * J)
  local w = T.exp(T.stack { tensor_of(b * h), tensor_of(-(b * h)) })
  return ising_w(K), w
end

function M.ising_tensor(beta, opts)
  local W, w = ising_parts("rg.ising_tensor", beta, opts)
  return site_tensor(W, w, 4)
end
doc(M.ising_tensor, [==[rg.ising_tensor(beta [, {J=1, h=0}])

The local tensor of the square-lattice Ising model H = -J sum s_i s_j - h
sum s_i, one per site: A[l, u, r, d] = sum_s e^{beta h s} W[s, l] W[s, u]
W[s, r] W[s, d] with W W^T = e^{beta J s s'} (bond dimension 2), so that Z =
tTr of A on every site.  beta may be a tracked 0-d tensor (then A is
differentiable in it).  Ferromagnetic J >= 0.]==])

function M.ising_tensor3d(beta, opts)
  local W, w = ising_parts("rg.ising_tensor3d", beta, opts)
  return site_tensor(W, w, 6)
end
doc(M.ising_tensor3d, [==[rg.ising_tensor3d(beta [, {J=1, h=0}])

The local tensor of the simple-cubic Ising model: A[x-, x+, y-, y+, z-,
z+], as rg.ising_tensor with six legs.  For rg.hotrg3d.]==])

function M.potts_tensor(beta, q, opts)
  local who = "rg.potts_tensor"
  opts = E.checkopts(who, opts, { J = true })
  local b = check_beta(who, beta)
  if math.type(q) ~= "integer" or q < 2 then E.raise("%s: q must be an integer >= 2, got %s", who, E.show(q)) end
  local J = opts.J or 1
  if type(J) ~= "number" or J < 0 then E.raise("%s: J must be a number >= 0, got %s", who, E.show(J)) end
  -- B = e^{K delta} = (e^K - 1) I + 1 1^T: eigenvalues e^K - 1 + q on the
  -- uniform vector, e^K - 1 on its complement; W = B^{1/2}
  local eK = T.exp(tensor_of(b * J))
  local P = T.full({ q, q }, 1 / q)
  local W = T.sqrt(eK - 1 + q) * P + T.sqrt(eK - 1) * (T.eye(q) - P)
  return site_tensor(W, T.ones(q), 4)
end
doc(M.potts_tensor, [==[rg.potts_tensor(beta, q [, {J=1}])

The local tensor of the q-state Potts model H = -J sum delta(s_i, s_j) on
the square lattice (bond dimension q), built from the symmetric square
root of the bond matrix e^{beta J delta}.  Critical at beta J = ln(1 +
sqrt q).]==])

-- --- checks -------------------------------------------------------------------------

local function check_local(who, A, rank)
  if not is_tensor(A) then E.raise("%s: the local tensor must be a tensor, got %s", who, E.show(A)) end
  if A.ndim ~= rank then
    E.raise("%s: the local tensor must have rank %d (%s), got shape {%s}", who, rank,
      rank == 4 and "legs left, up, right, down" or "legs x-, x+, y-, y+, z-, z+",
      table.concat(A.shape, ", "))
  end
  for i = 1, rank, 2 do
    if A:size(i) ~= A:size(i + 1) and rank == 6 then
      E.raise("%s: legs %d and %d must have equal dimensions, got shape {%s}", who, i, i + 1,
        table.concat(A.shape, ", "))
    end
  end
  if rank == 4 and (A:size(1) ~= A:size(3) or A:size(2) ~= A:size(4)) then
    E.raise("%s: left and right legs, and up and down legs, must have equal dimensions, got shape {%s}",
      who, table.concat(A.shape, ", "))
  end
  if A.dtype ~= "f64" then A = A:astype("f64") end
  return A
end

local function check_run(who, opts, extra)
  local known = { chi = true, steps = true, svd = true }
  for k in pairs(extra or {}) do known[k] = true end
  opts = E.checkopts(who, opts, known)
  local chi, steps = opts.chi, opts.steps
  if math.type(chi) ~= "integer" or chi < 1 then
    E.raise("%s: chi must be an integer >= 1, got %s", who, E.show(chi))
  end
  if math.type(steps) ~= "integer" or steps < 0 then
    E.raise("%s: steps must be an integer >= 0, got %s", who, E.show(steps))
  end
  return opts, chi, steps
end

-- T / c with c its Frobenius norm; the norm (a number or a 0-d tensor)
local function normalize(who, A, step)
  local s = A:square():sum()
  local c = is_tensor(s) and s:sqrt() or math.sqrt(s)
  local v = num(c)
  if not (v > 0 and v < math.huge) then
    E.raise("%s: the tensor's norm is %s after step %d (overflow, or a network that sums to 0)",
      who, tostring(v), step)
  end
  return A / c, c
end

-- --- Levin-Nave TRG and bond-weighted TRG ----------------------------------------

-- the truncated svd of M, split as M = F1 diag(s^k) F3 with F1 = U
-- s^{(1-k)/2}, F3 = s^{(1-k)/2} Vh; and the relative discarded weight.
-- Singular values below 1e-14 s_1 are dropped too: the first steps have
-- exact zeros (the 4 x 4 matrix of a bond-dimension-2 tensor has rank 2),
-- whose s^{1/2} has no derivative and s^k (k < 0) no value.
local TRIM = 1e-14

local function split(M, chi, svdopts, k)
  local o = { rank = chi }
  for key, v in pairs(svdopts or {}) do o[key] = v end
  local U, S, Vh, disc = L.svd(M, o)
  local sv = S:detach()
  local keep = sv:gt(TRIM * sv[1]):sum()
  if keep < sv:size(1) then
    U, S, Vh = U:narrow(2, 1, keep), S:narrow(1, 1, keep), Vh:narrow(1, 1, keep)
  end
  local p = S ^ ((1 - k) / 2)
  local rel = num(disc) / num(M:square():sum())
  return U * p, p:unsqueeze(2) * Vh, k ~= 0 and S ^ k or nil, rel
end

-- one TRG step of A[l, u, r, d] with bond weights wh, wv (BTRG; nil for
-- TRG): the coarse tensor on the 45-degree rotated lattice (left' =
-- toward the old up-left, up' = up-right, ...) and its new bond weights
local function trg_step(A, chi, svdopts, k, wh, wv)
  local Dh, Dv = A:size(1), A:size(2)
  -- TL and BR sites: (l u | r d); TR and BL sites: (u r | d l)
  local U1, V1, s1, r1 = split(A:reshape(Dh * Dv, Dh * Dv), chi, svdopts, k)
  local U2, V2, s2, r2 = split(A:permute(2, 3, 4, 1):reshape(Dv * Dh, Dv * Dh), chi, svdopts, k)
  local k1, k2 = U1:size(2), U2:size(2)
  local F1 = U1:reshape(Dh, Dv, k1)      -- [l, u, a]   (BR site)
  local F3 = V1:reshape(k1, Dh, Dv)      -- [a, r, d]   (TL site)
  local F2 = U2:reshape(Dv, Dh, k2)      -- [u, r, b]   (BL site)
  local F4 = V2:reshape(k2, Dv, Dh)      -- [b, d, l]   (TR site)
  if wh then                             -- the old weights on the plaquette's bonds
    F3 = F3 * wh:reshape(1, Dh, 1)
    F4 = F4 * wv:reshape(1, Dv, 1)
    F1 = F1 * wh:reshape(Dh, 1, 1)
    F2 = F2 * wv:reshape(Dv, 1, 1)
  end
  -- T'[a, b, g, d] = F3[a, i, j] F4[b, k, i] F1[m, k, g] F2[j, m, d]
  local X = td(F3, F4, { { 2 }, { 3 } })  -- [a, j, b, k]
  local Y = td(F1, F2, { { 1 }, { 2 } })  -- [k, g, j, d]
  local B = td(X, Y, { { 2, 4 }, { 3, 1 } })
  return B, s1, s2, math.max(r1, r2)
end

-- the trace of one tensor on a torus, with bond weights
local function torus_trace(A, wh, wv)
  local Dh, Dv = A:size(1), A:size(2)
  local d = A:reshape(Dh * Dv, Dh * Dv):diagonal()
  if wh then d = d * (wh:reshape(Dh, 1) * wv:reshape(1, Dv)):reshape(Dh * Dv) end
  return d:sum()
end

local function trg_run(who, A, opts, k, on_step)
  local chi, steps
  opts, chi, steps = check_run(who, opts, { bond_weight = true })
  A = check_local(who, A, 4)
  local B, c = normalize(who, A, 0)
  local lnz, norms, disc = lg(c), { lg(c) }, {}
  local wh, wv
  if k ~= 0 then wh, wv = T.ones(A:size(1)), T.ones(A:size(2)) end
  for step = 1, steps do
    local C, s1, s2, rel = trg_step(B, chi, opts.svd, k, wh, wv)
    B, c = normalize(who, C, step)
    if k ~= 0 then wh, wv = s1, s2 end
    norms[step + 1] = lg(c)
    lnz = lnz + norms[step + 1] / 2 ^ step
    disc[step] = rel
    if on_step then on_step(step, B, wh, wv) end
  end
  local tr = torus_trace(B, wh, wv)
  if num(tr) <= 0 then
    E.raise("%s: the final trace is %s (not positive): too few sites for this tensor?", who, tostring(num(tr)))
  end
  lnz = lnz + lg(tr) / 2 ^ steps
  return { lnz = lnz, norms = norms, discarded = disc, tensor = B, weights = wh and { wh, wv },
    steps = steps, chi = chi }
end

function M.trg(A, opts)
  local k = opts and opts.bond_weight or 0
  if type(k) ~= "number" then E.raise("rg.trg: bond_weight must be a number, got %s", E.show(k)) end
  return trg_run("rg.trg", A, opts, k)
end
doc(M.trg, [==[rg.trg(A, {chi=, steps= [, bond_weight=0, svd={...}]})

Levin-Nave tensor renormalization group on the square lattice: A[l, u, r,
d] is the local tensor (one per site: rg.ising_tensor, rg.potts_tensor,
or any rank-4 tensor with equal left/right and up/down dimensions).  Each
step splits A by two truncated SVDs (bond dimension chi, linalg.svd(M,
{rank = chi}): the subspace iteration, exact to 1e-12) and contracts four
halves around a plaquette: the lattice turns by 45 degrees and the number
of tensors halves.  steps steps stand for an infinite lattice when 2^steps
is large (30 to 40), or for a torus of exactly 2^steps sites (4 steps: 4 x
4).  bond_weight = k gives bond-weighted TRG (BTRG, Adachi et al. 2022):
the splits keep s^k on the new bonds (k = -1/2 is their optimum, more
accurate than TRG at the same chi; k = 0 is TRG).  Returns {lnz = ln Z /
N, norms = {ln c_0, ln c_1, ...}, discarded = the relative discarded
weight per step, tensor = the last normalized tensor, weights = BTRG's
bond weights, steps, chi}; lnz is a 0-d tensor carrying the graph when A
depends on tracked tensors.  R2 at T_c, 30 steps: chi = 8, 16, 24 give
relative errors 6.9e-5, 4.6e-6, 1.1e-6 against Onsager.]==])

function M.btrg(A, opts)
  local k = opts and opts.bond_weight or -0.5
  if type(k) ~= "number" then E.raise("rg.btrg: bond_weight must be a number, got %s", E.show(k)) end
  return trg_run("rg.btrg", A, opts, k)
end
doc(M.btrg, [==[rg.btrg(A, {chi=, steps= [, bond_weight=-0.5, svd=]})

Bond-weighted TRG (Adachi, Okubo & Todo, PRB 105, L060402 (2022)):
rg.trg with bond_weight = -1/2 by default.  Same results table.]==])

-- --- HOTRG in 2D ---------------------------------------------------------------------

-- the isometry of a vertical step from the Grams of the two sides: the
-- eigenvectors of the larger chi eigenvalues of the side that discards
-- less; U[l_top, l_bottom, x] and the relative discarded weight
local function grams(Ta, Tb)
  local Dh = Ta:size(1)
  local AL = td(Ta, Ta, { { 2, 3 }, { 2, 3 } })           -- [l1, m, l1', m']
  local BL = td(Tb, Tb, { { 3, 4 }, { 3, 4 } })           -- [l2, m, l2', m']
  local GL = td(AL, BL, { { 2, 4 }, { 2, 4 } })           -- [l1, l1', l2, l2']
  local AR = td(Ta, Ta, { { 1, 2 }, { 1, 2 } })           -- [r1, m, r1', m']
  local BR = td(Tb, Tb, { { 1, 4 }, { 1, 4 } })           -- [m, r2, m', r2']
  local GR = td(AR, BR, { { 2, 4 }, { 1, 3 } })           -- [r1, r1', r2, r2']
  local n = Dh * Dh
  return GL:permute(1, 3, 2, 4):reshape(n, n), GR:permute(1, 3, 2, 4):reshape(n, n)
end

-- the leading chi eigenvectors of the symmetric positive semi-definite
-- Gram G and the relative weight of the rest, by the truncated svd (G =
-- U S U^T): its backward broadens degenerate pairs (eigh's refuses them,
-- and Ising's Grams have exact degeneracies and zeros)
local function top_eigvecs(G, chi)
  local U, S = L.svd(G, { rank = chi })
  local sv = S:detach()
  local keep = sv:gt(TRIM * sv[1]):sum()
  if keep < sv:size(1) then U = U:narrow(2, 1, keep) end
  local tot = num(G:detach():diagonal():sum())
  return U, (tot - num(sv:narrow(1, 1, keep):sum())) / tot
end

local function isometry(Ta, Tb, chi)
  local GL, GR = grams(Ta, Tb)
  local UL, eL = top_eigvecs(GL, chi)
  local UR, eR = top_eigvecs(GR, chi)
  local U, e = UL, eL
  if eR < eL then U, e = UR, eR end
  local Dh = Ta:size(1)
  return U:reshape(Dh, Dh, U:size(2)), math.max(e, 0)
end

-- the coarse tensor of top Ta over bottom Tb through U: [x, u, y, d]
local function vcontract(Ta, Tb, U)
  local P = td(U, Ta, { { 1 }, { 1 } })                   -- [l2, x, u, r1, m]
  local Q = td(P, Tb, { { 1, 5 }, { 1, 2 } })             -- [x, u, r1, r2, d]
  local R = td(Q, U, { { 3, 4 }, { 1, 2 } })              -- [x, u, d, y]
  return R:permute(1, 2, 4, 3)
end

-- a horizontal step is a vertical one on tensors turned by 90 degrees:
-- A~[l, u, r, d] = A[d, l, u, r] puts A's right leg down, and the result
-- turns back with permute(2, 3, 4, 1)
local function turn(A) return A:permute(4, 1, 2, 3) end
local function unturn(A) return A:permute(2, 3, 4, 1) end

-- one HOTRG step (vertical when step is odd, horizontal when even) of the
-- pure tensor and the impurities: imp.a (with a pure or impurity partner)
local function hotrg_step(A, chi, vertical, imps)
  local Ta = vertical and A or turn(A)
  local U, e = isometry(Ta, Ta, chi)
  local function coarse(top, bottom)
    if vertical then return vcontract(top, bottom, U) end
    return unturn(vcontract(turn(top), turn(bottom), U))
  end
  local out = {}
  for i, p in ipairs(imps or {}) do out[i] = coarse(p[1], p[2]) end
  return coarse(A, A), out, e
end

local function hotrg_trace(A) return torus_trace(A) end

-- the pairs each impurity forms at a step: a two-point function at
-- distance 2^p along the horizontal: impurities a and b stay separate
-- until the horizontal step that brings them into one tensor
local function imp_pairs(state, A, vertical)
  if not state then return nil end
  if state.single then return { { state.single, A } } end
  if vertical or state.dist > 1 then
    return { { state.a, A }, { state.b, A } }
  end
  return { { state.a, state.b } }
end

local function imp_update(state, vertical, out, c)
  if not state then return end
  if state.single then state.single = out[1] / c return end
  if vertical or state.dist > 1 then
    state.a, state.b = out[1] / c, out[2] / c
    if not vertical then state.dist = state.dist // 2 end
  else
    state.single, state.a, state.b = out[1] / c, nil, nil
  end
end

local function hotrg_run(who, A, opts)
  local chi, steps
  opts, chi, steps = check_run(who, opts, { impurity = true, pair = true })
  A = check_local(who, A, 4)
  if A:size(1) ~= A:size(2) then
    E.raise("%s: HOTRG needs equal bond dimensions on all legs, got shape {%s}", who, table.concat(A.shape, ", "))
  end
  local state
  if opts.impurity then
    state = { single = check_local(who, opts.impurity, 4) }
  elseif opts.pair then
    local p = opts.pair
    if type(p) ~= "table" or #p ~= 3 or math.type(p[3]) ~= "integer" or p[3] < 0 then
      E.raise("%s: pair must be {S1, S2, p} (distance 2^p along the horizontal), got %s", who, E.show(p))
    end
    if 2 * p[3] + 2 > steps then
      E.raise("%s: distance 2^%d needs at least %d steps, got %d", who, p[3], 2 * p[3] + 2, steps)
    end
    state = { a = check_local(who, p[1], 4), b = check_local(who, p[2], 4), dist = 2 ^ p[3] // 1 }
  end
  local B, c = normalize(who, A, 0)
  if state then imp_update(state, true, { state.single or state.a, state.b }, c) end
  if state and not state.single then state.dist = 2 ^ opts.pair[3] // 1 end
  local lnz, norms, disc = lg(c), { lg(c) }, {}
  for step = 1, steps do
    local vertical = step % 2 == 1
    local C, out, e = hotrg_step(B, chi, vertical, imp_pairs(state, B, vertical))
    B, c = normalize(who, C, step)
    imp_update(state, vertical, out, c)
    norms[step + 1] = lg(c)
    lnz = lnz + norms[step + 1] / 2 ^ step
    disc[step] = e
  end
  local tr = hotrg_trace(B)
  lnz = lnz + lg(tr) / 2 ^ steps
  local res = { lnz = lnz, norms = norms, discarded = disc, tensor = B, steps = steps, chi = chi }
  if state then res.value = hotrg_trace(state.single) / tr end
  return res
end

function M.hotrg(A, opts)
  return hotrg_run("rg.hotrg", A, opts)
end
doc(M.hotrg, [==[rg.hotrg(A, {chi=, steps= [, impurity=S, pair={S1, S2, p}]})

Higher-order TRG (Xie et al., PRB 86, 045139 (2012)) on the square lattice:
each step contracts two neighbouring tensors (vertical pairs on odd steps,
horizontal on even ones) and truncates the doubled legs to chi with the
isometry from the higher-order SVD (the eigenvectors of the side's Gram
matrix that discards less).  Bookkeeping as rg.trg (a step halves the
tensors).  Impurities: with impurity = S (a tensor like A with an
observable inserted, e.g. rg.impurity_tensor) the result's value is
<O> = tTr(S, A, A, ...) / Z; with pair = {S1, S2, p} it is <O1(0) O2(r)> at
distance r = 2^p along the horizontal (needs steps >= 2p + 2).  Returns
{lnz=, value=, norms=, discarded=, tensor=, steps=, chi=}.  R3 at T_c, 40
steps: relative errors 1.4e-5 (chi = 8), 5.6e-7 (chi = 16).]==])

function M.impurity_tensor(beta, opts)
  local who = "rg.impurity_tensor"
  local W, w = ising_parts(who, beta, opts)
  return site_tensor(W, w * T.tensor { 1, -1 }, 4)
end
doc(M.impurity_tensor, [==[rg.impurity_tensor(beta [, {J=1, h=0}])

The Ising local tensor with the spin inserted, S[l, u, r, d] = sum_s s
e^{beta h s} prod W[s, leg]: rg.hotrg(A, {impurity = S}) gives <s> and
{pair = {S, S, p}} the two-point function <s_0 s_r>, r = 2^p.]==])

-- --- HOTRG in 3D ---------------------------------------------------------------------

-- the Gram of the merged legs (i of Ta, i of Tb) for a step along the last
-- axis pair (Ta's leg 6 joins Tb's leg 5)
local function gram3(Ta, Tb, i)
  local restA, restB = {}, {}
  for k = 1, 5 do if k ~= i then restA[#restA + 1] = k end end
  for k = 1, 6 do if k ~= i and k ~= 5 then restB[#restB + 1] = k end end
  local A2 = td(Ta, Ta, { restA, restA })                 -- [i, m, i', m']
  local B2 = td(Tb, Tb, { restB, restB })                 -- [i, m, i', m']
  local G = td(A2, B2, { { 2, 4 }, { 2, 4 } })            -- [ia, ia', ib, ib']
  local D = Ta:size(i)
  return G:permute(1, 3, 2, 4):reshape(D * D, D * D)
end

-- top_eigvecs that keeps whole multiplets: when chi cuts through a set of
-- equal eigenvalues (relative gap below DEGEN; the cubic lattice's
-- symmetries make 2- and 4-fold ones, e.g. 1, .39, .10, .10, .056, .053,
-- .016 x 4 in the second step at beta = 0.25), the whole set is dropped.
-- Keeping part of it picks an arbitrary subspace of the multiplet that
-- jumps as beta moves: u from derivatives of ln Z came out 3% off at chi
-- = 7 while chi = 6 and 8 agreed.  chi is thus the largest bond dimension.
local DEGEN = 1e-7

local function top_multiplets(G, chi)
  local n = G:size(1)
  if chi >= n then return top_eigvecs(G, chi) end
  local U, S = L.svd(G, { rank = chi + 1 })
  local sv = S:detach()
  local keep = math.min(chi, sv:gt(TRIM * sv[1]):sum())
  if keep == chi and sv[chi + 1] > TRIM * sv[1] then
    local k = chi
    while k > 1 and sv[k] - sv[k + 1] <= DEGEN * sv[k] do k = k - 1 end
    if k > 1 or sv[1] - sv[2] > DEGEN * sv[1] then keep = k end
  end
  U = U:narrow(2, 1, keep)
  local tot = num(G:detach():diagonal():sum())
  return U, (tot - num(sv:narrow(1, 1, keep):sum())) / tot
end

local function isometry3(Ta, Tb, legs, chi)
  local G1 = gram3(Ta, Tb, legs[1])
  local G2 = gram3(Ta, Tb, legs[2])
  local U1, e1 = top_multiplets(G1, chi)
  local U2, e2 = top_multiplets(G2, chi)
  local U, e = U1, e1
  if e2 < e1 then U, e = U2, e2 end
  local D = Ta:size(legs[1])
  return U:reshape(D, D, U:size(2)), math.max(e, 0)
end

-- Ta below Tb along z (Ta's z+ = Tb's z-), x and y legs merged through Ux,
-- Uy: the coarse [x-, x+, y-, y+, z-, z+]
local function zslab(Ta, Tb, Ux, Uy)
  local A1 = td(Ta, Ux, { { 1 }, { 1 } })          -- [x1+, y1-, y1+, z-, m, x2-, X-]
  local A2 = td(A1, Uy, { { 2 }, { 1 } })          -- [x1+, y1+, z-, m, x2-, X-, y2-, Y-]
  local A3 = td(A2, Tb, { { 4, 5, 7 }, { 5, 1, 3 } })  -- [x1+, y1+, z-, X-, Y-, x2+, y2+, z+]
  local A4 = td(A3, Ux, { { 1, 6 }, { 1, 2 } })    -- [y1+, z-, X-, Y-, y2+, z+, X+]
  local A5 = td(A4, Uy, { { 1, 5 }, { 1, 2 } })    -- [z-, X-, Y-, z+, X+, Y+]
  return A5:permute(2, 5, 3, 6, 1, 4)
end

-- the intermediate A2 above holds chi^8 numbers (800 MB at chi = 10, and
-- tensordot copies it): Ta's z- leg stays free to the end, so the
-- contraction runs on slabs of it holding at most SLAB numbers each
local SLAB = 1 << 23

local function zcontract(Ta, Tb, Ux, Uy)
  local Dz = Ta:size(5)
  local per = Ta:size(2) * Ta:size(4) * Ta:size(6) * Ux:size(1) * Ux:size(3) * Uy:size(1) * Uy:size(3)
  local n = math.max(1, SLAB // per)
  if n >= Dz then return zslab(Ta, Tb, Ux, Uy) end
  local parts = {}
  for i = 1, Dz, n do
    parts[#parts + 1] = zslab(Ta:narrow(5, i, math.min(n, Dz - i + 1)), Tb, Ux, Uy)
  end
  return T.cat(parts, 5)
end

-- the axis cycle: a step along z, then the tensor is relabelled so that
-- the next axis is last: (x, y, z) -> (y, z, x)
local function cycle(A) return A:permute(3, 4, 5, 6, 1, 2) end

function M.hotrg3d(A, opts)
  local who = "rg.hotrg3d"
  local chi, steps
  opts, chi, steps = check_run(who, opts)
  A = check_local(who, A, 6)
  local B, c = normalize(who, A, 0)
  local lnz, norms, disc = lg(c), { lg(c) }, {}
  for step = 1, steps do
    local Ux, ex = isometry3(B, B, { 1, 2 }, chi)
    local Uy, ey = isometry3(B, B, { 3, 4 }, chi)
    B, c = normalize(who, cycle(zcontract(B, B, Ux, Uy)), step)
    norms[step + 1] = lg(c)
    lnz = lnz + norms[step + 1] / 2 ^ step
    disc[step] = math.max(ex, ey)
  end
  local Dx, Dy, Dz = B:size(1), B:size(3), B:size(5)
  local d = B:permute(1, 3, 5, 2, 4, 6):reshape(Dx * Dy * Dz, Dx * Dy * Dz):diagonal():sum()
  lnz = lnz + lg(d) / 2 ^ steps
  return { lnz = lnz, norms = norms, discarded = disc, tensor = B, steps = steps, chi = chi }
end
doc(M.hotrg3d, [==[rg.hotrg3d(A, {chi=, steps=})

HOTRG on the simple-cubic lattice (Xie et al. 2012): A[x-, x+, y-, y+,
z-, z+] (rg.ising_tensor3d), each step contracting two tensors along one
axis (z, then x, then y, ...) with one isometry per transverse axis (the
Gram's leading eigenvectors; a degenerate multiplet that chi would cut is
dropped whole, so chi is the largest bond dimension).  Cost ~chi^11 per
step at the matmul's speed (chi = 6, 8, 10: ~0.04, 0.4, 5 s a step),
memory ~chi^7 (the contraction runs on slabs).  Bookkeeping as rg.trg;
returns {lnz=, norms=, discarded=, tensor=, steps=, chi=}.  Accuracy:
chi = 6 misses 0.2 v^4 of the high-temperature series' 3 v^4 (v = tanh
beta) and u by 0.8% at beta = 0.15, 0.1% at beta = 0.3 (docs/rg.md).]==])

-- --- thermodynamics by autodiff ------------------------------------------------------

local METHODS = { trg = M.trg, btrg = M.btrg, hotrg = M.hotrg }

function M.thermo(beta, opts)
  local who = "rg.thermo"
  opts = E.checkopts(who, opts, { chi = true, steps = true, method = true, model = true,
    h = true, q = true, J = true, order = true, svd = true })
  if type(beta) ~= "number" then E.raise("%s: beta must be a number, got %s", who, E.show(beta)) end
  local method = opts.method or "trg"
  local run = METHODS[method] or (method == "hotrg3d" and M.hotrg3d)
  if not run then E.raise("%s: method must be trg, btrg, hotrg or hotrg3d, got %s", who, E.show(method)) end
  local model = opts.model or "ising"
  local order = opts.order or 2
  local b = T.tensor(beta):requires_grad_()
  local function lnz_of(bt)
    local A
    if method == "hotrg3d" then A = M.ising_tensor3d(bt, { h = opts.h, J = opts.J })
    elseif model == "ising" then A = M.ising_tensor(bt, { h = opts.h, J = opts.J })
    elseif model == "potts" then A = M.potts_tensor(bt, opts.q, { J = opts.J })
    else E.raise("%s: model must be \"ising\" or \"potts\", got %s", who, E.show(model)) end
    return run(A, { chi = opts.chi, steps = opts.steps, svd = opts.svd }).lnz
  end
  local lnz = lnz_of(b)
  local out = { lnz = num(lnz) }
  if order >= 1 then
    local g = AG.grad(lnz, b, { create_graph = order >= 2 })
    out.u = -num(g)
    if order >= 2 then
      local h = AG.grad(g, b)
      out.c = beta * beta * num(h)
    end
  end
  return out
end
doc(M.thermo, [==[rg.thermo(beta, {chi=, steps= [, method="trg", model="ising", h=0, J=1, q=, order=2]})

ln Z / N, the energy per site u = -d(ln Z/N)/d beta and the specific heat
per site c = beta^2 d^2(ln Z/N)/d beta^2 from automatic differentiation
through a tensor RG run (method "trg", "btrg", "hotrg", or "hotrg3d" for
the cubic Ising model): the local tensor is built from a tracked beta and
the gradient and Hessian of ln Z / N flow back through the truncated SVDs
(or eigh) of every step.  order = 1 skips the Hessian.  Returns {lnz=,
u=, c=}.  TRG chi = 16 at T = 2: u = -1.7455646 (R4).]==])

-- --- conformal data --------------------------------------------------------------------

-- the eigenvalues of the transfer matrix of a cylinder `width` tensors
-- around, one tensor long, largest |.| first
local function transfer_spectrum(A, width)
  local D = A:size(1)
  local Mt
  if width == 1 then
    Mt = td(A, T.eye(A:size(2)), { { 2, 4 }, { 1, 2 } })  -- [l, r]
  else
    local P = td(A, A, { { 2, 4 }, { 4, 2 } })            -- [l1, r1, l2, r2]
    Mt = P:permute(1, 3, 2, 4):reshape(D * D, D * D)
  end
  local w = L.eigvals(Mt):abs()
  return (T.sort(w, 1, { descending = true }))
end

function M.conformal(A, opts)
  local who = "rg.conformal"
  opts = E.checkopts(who, opts, { chi = true, steps = true, width = true, levels = true,
    method = true, svd = true, lnz = true })
  local width, levels = opts.width or 2, opts.levels or 6
  if width ~= 1 and width ~= 2 then E.raise("%s: width must be 1 or 2, got %s", who, E.show(width)) end
  local tensors = {}
  local res = trg_run(who, A, { chi = opts.chi, steps = opts.steps, svd = opts.svd }, 0,
    function(step, B) if step % 2 == 0 then tensors[step] = B end end)
  local f = opts.lnz or num(res.lnz)
  local lnS, out = 0, {}
  for step = 0, res.steps do
    lnS = 2 * lnS + num(res.norms[step + 1])   -- ln(actual / stored) of T_step
    local B = tensors[step]
    if B then
      local w = transfer_spectrum(B:detach(), width)
      local shift = width * (lnS - 2 ^ step * f)      -- remove the bulk e^{N f}
      local l0 = math.log(w[1]) + shift
      local c = (6 * width / math.pi) * l0
      local dims = {}
      for i = 2, math.min(levels + 1, w:size(1)) do
        dims[i - 1] = width / (2 * math.pi) * (math.log(w[1]) - math.log(w[i]))
      end
      out[#out + 1] = { step = step, size = 2 ^ (step // 2), c = c, dims = dims }
    end
  end
  return out
end
doc(M.conformal, [==[rg.conformal(A, {chi=, steps= [, width=2, levels=6, lnz=]})

Conformal data from TRG's fixed-point tensor (Gu & Wen, PRB 80, 155131
(2009)): after every even step the tensor T stands for an L x L patch (L
= 2^{step/2}) in the lattice's orientation; the transfer matrix of a
cylinder of `width` tensors around and one long has eigenvalues
lambda_i = e^{(2 pi / width)(c/12 - Delta_i)} once the bulk free energy
e^{N f} is divided out (f = ln Z/N of the same run, or opts.lnz), so the
central charge c = (6 width / pi) ln lambda_0 and the scaling dimensions
Delta_i = (width / 2 pi) ln(lambda_0 / lambda_i).  Returns a list per even
step {step=, size=L, c=, dims={...}}.  Ising at T_c: c = 1/2, dims 1/8,
1, 9/8, 9/8, 2, ... (best at intermediate L: small L has lattice
corrections, large L the truncation's).]==])

return M
