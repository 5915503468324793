#!/usr/bin/python3
"""speed_ref.py -- numpy's and torch's side of rows 21-23 of `make bench`
(bench/speed.lua has hebb's and the report).
usage: /usr/bin/python3 bench/speed_ref.py REPS N
Prints "key value" lines: CPU seconds (time.process_time, one thread) per
operation or per iteration, the best of REPS after a warm-up."""
import sys
import time

import numpy as np

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
now = time.process_time


def out(key, value):
    print(key, value, flush=True)


def best_of(reps, f, n):
    f()
    return min(f() for _ in range(reps)) / n


# 23. the 16-site harmonic chain of bench/speed.lua, the same nine
# operations per iteration (fancy indexing for index_select)
def chain():
    n, m2, dt = 16, 0.25, 0.01
    up = np.array([(i + 1) % n for i in range(n)])
    dn = np.array([(i - 1) % n for i in range(n)])
    x = np.zeros(n)
    x[0] = 1.0
    v = np.zeros(n)
    t0 = now()
    for _ in range(N):
        f = x[up] + x[dn] - x * (2 + m2)
        v += f * dt
        x += v * dt
    t = now() - t0
    out("numpy.phys.iter", t / N)
    out("numpy.phys.x1", "%.17g" % x[0])


# 21. torch's 1-element add, tracked and not
def tracked_add():
    import torch
    torch.set_num_threads(1)
    out("torch.version", torch.__version__)
    loop = 200000
    b = torch.ones(1, dtype=torch.float64)
    for key, a in (("torch.add.plain", torch.ones(1, dtype=torch.float64)),
                   ("torch.add.tracked",
                    torch.ones(1, dtype=torch.float64, requires_grad=True))):
        def run():
            t0 = now()
            for _ in range(loop):
                c = a + b
            return now() - t0
        out(key, best_of(REPS, run, loop))


out("numpy.version", np.__version__)
chain()
tracked_add()
