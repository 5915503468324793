"""rg_np.py -- Levin-Nave TRG written with numpy (the reference of the
tensor-RG row of `make bench`): the 2D Ising tensor at T_c, chi = 24, 40
steps, each split by numpy's (full) SVD cut to chi, the same contraction
order and normalization as rg.trg.

usage: /usr/bin/python3 bench/rg_np.py REPS
Prints "rg.trg24.numpy <seconds>" (best of REPS) and "rg.trg24.numpy_lnz
<ln Z / N>" (it must agree with hebb's run of the same algorithm).
"""
import math
import sys
import time

import numpy as np

REPS = int(sys.argv[1])
CHI, STEPS = 24, 40
K = 0.5 * math.log(1 + math.sqrt(2))


def ising_tensor(k):
    c, s = math.sqrt(math.cosh(k)), math.sqrt(math.sinh(k))
    w = np.array([[c, s], [c, -s]])
    return np.einsum("si,sj,sk,sl->ijkl", w, w, w, w)


def split(m, chi):
    u, s, vh = np.linalg.svd(m, full_matrices=False)
    keep = min(chi, int(np.sum(s > 1e-14 * s[0])))
    p = np.sqrt(s[:keep])
    return u[:, :keep] * p, p[:, None] * vh[:keep]


def step(a, chi):
    dh, dv = a.shape[0], a.shape[1]
    u1, v1 = split(a.reshape(dh * dv, dh * dv), chi)
    u2, v2 = split(a.transpose(1, 2, 3, 0).reshape(dv * dh, dv * dh), chi)
    f1 = u1.reshape(dh, dv, -1)
    f3 = v1.reshape(-1, dh, dv)
    f2 = u2.reshape(dv, dh, -1)
    f4 = v2.reshape(-1, dv, dh)
    x = np.tensordot(f3, f4, axes=([1], [2]))      # [a, j, b, k]
    y = np.tensordot(f1, f2, axes=([0], [1]))      # [k, g, j, d]
    return np.tensordot(x, y, axes=([1, 3], [2, 0]))


def trg():
    a = ising_tensor(K)
    c = np.linalg.norm(a)
    a = a / c
    lnz = math.log(c)
    for n in range(1, STEPS + 1):
        a = step(a, CHI)
        c = np.linalg.norm(a)
        a = a / c
        lnz += math.log(c) / 2 ** n
    dh, dv = a.shape[0], a.shape[1]
    return lnz + math.log(np.trace(a.reshape(dh * dv, dh * dv))) / 2 ** STEPS


best, lnz = float("inf"), None
for _ in range(REPS):
    t0 = time.perf_counter()
    lnz = trg()
    best = min(best, time.perf_counter() - t0)
print("rg.trg24.numpy", best, flush=True)
print("rg.trg24.numpy_lnz", repr(lnz), flush=True)
