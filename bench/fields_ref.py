"""fields_ref.py -- the numpy and torch side of the fields rows of `make bench`.

usage: /usr/bin/python3 bench/fields_ref.py REPS

The Klein-Gordon leapfrog step on a 256^2 f32 periodic lattice as a numpy or
torch user writes it (np.roll / torch.roll for the neighbours, pi at half
steps), and numpy's split-step Schrodinger step on 2^16 points (numpy.fft).
Prints "key value" lines: CPU seconds per step (time.process_time, as the
hebb side measures), the best of REPS blocks.  torch runs at one thread
(torch.set_num_threads(1)), as the rows compare one thread.
"""
import sys
import time

import numpy as np
import torch

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
L, M, DT, S = 256, 0.5, 0.1, 100


def out(key, value):
    print(key, value, flush=True)


def best(reps, f, per):
    f()
    b = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        f()
        b = min(b, time.process_time() - t0)
    return b / per


def np_kg(phi, pi):
    for _ in range(S):
        f = (np.roll(phi, 1, 0) + np.roll(phi, -1, 0) + np.roll(phi, 1, 1)
             + np.roll(phi, -1, 1) - phi * np.float32(4 + M * M))
        pi += f * np.float32(DT)
        phi += pi * np.float32(DT)


def torch_kg(phi, pi):
    for _ in range(S):
        f = (torch.roll(phi, 1, 0) + torch.roll(phi, -1, 0) + torch.roll(phi, 1, 1)
             + torch.roll(phi, -1, 1) - phi * (4 + M * M))
        pi += f * DT
        phi += pi * DT


def main():
    torch.set_num_threads(1)
    out("numpy.version", np.__version__)
    out("torch.version", torch.__version__)
    rng = np.random.default_rng(7)
    phi = rng.standard_normal((L, L)).astype(np.float32)
    out("numpy.kg.step", best(REPS, lambda: np_kg(phi, np.zeros_like(phi)), S))
    tphi = torch.from_numpy(phi.copy())
    with torch.no_grad():
        out("torch.kg.step", best(REPS, lambda: torch_kg(tphi, torch.zeros_like(tphi)), S))
    n, dx, dt, steps = 65536, 0.01, 1e-4, 20
    x = (np.arange(n) - n // 2) * dx
    k = 2 * np.pi * np.fft.fftfreq(n, dx)
    pv = np.exp(-0.5j * x * x * 0.5 * dt)
    pk = np.exp(-0.5j * k * k * dt)
    psi = np.exp(-(x - 1) ** 2 / 2).astype(np.complex128)

    def split(p):
        p *= pv
        for s in range(steps):
            p = np.fft.ifft(np.fft.fft(p) * pk)
            p *= pv * pv if s < steps - 1 else pv
        return p
    out("numpy.split.step", best(REPS, lambda: split(psi.copy()), steps))


main()
