"""statmech_np.py -- numpy's vectorized checkerboard Metropolis sweep of a
256^2 Ising lattice at beta_c (the numpy column of the statistical-mechanics
rows of `make bench`).

usage: /usr/bin/python3 bench/statmech_np.py REPS
Prints "sm.numpy.metro <seconds>" (best of REPS after a warm-up): both
colours, neighbour sums by np.roll, the acceptance probability from a
table, numpy's default generator (PCG64) for the uniforms.
"""
import math
import sys
import time

import numpy as np

REPS = int(sys.argv[1])
L = 256
beta = 0.5 * math.log(1 + math.sqrt(2))
rng = np.random.default_rng(1)
s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(L, L))
ij = np.add.outer(np.arange(L), np.arange(L))
colour = [ij % 2 == 0, ij % 2 == 1]
# acceptance of dE = 2 s * sum, sum*s in -4..4: index s*sum + 4
prob = np.array([min(1.0, math.exp(-beta * 2 * k)) for k in range(-4, 5)])


def sweep():
    global s
    for c in (0, 1):
        nb = (np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1)
              + np.roll(s, -1, 1))
        p = prob[(s * nb).astype(np.int64) + 4]
        flip = (rng.random((L, L)) < p) & colour[c]
        s = np.where(flip, -s, s)


sweep()
best = float("inf")
for _ in range(REPS):
    t0 = time.perf_counter()
    sweep()
    best = min(best, time.perf_counter() - t0)
print("sm.numpy.metro", best, flush=True)
