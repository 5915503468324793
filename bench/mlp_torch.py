"""mlp_torch.py -- the torch side of the MLP benchmark of `make bench`.

usage: /usr/bin/python3 bench/mlp_torch.py warm REPS
       /usr/bin/python3 bench/mlp_torch.py fresh
       /usr/bin/python3 bench/mlp_torch.py check K

One training step of an MLP 784-256-10 (ReLU, softmax cross-entropy from
the logits, batch 64, f32) with torch.optim.Adam(lr=1e-3), written as a
torch user writes it: opt.zero_grad(); loss = cross_entropy(model(x), y);
loss.backward(); opt.step().  The parameters start from the counter-based
generator that bench/mlp_step.c describes (u(s, i) below), so the losses
can be compared with the hand-written C step and hebb's step by step.

warm:  per step, the best of REPS blocks of 50 steps on the fixed batch
       (after one warm-up block), each block starting again from the
       initial parameters and a new optimizer; per epoch, the best of
       max(2, REPS // 10) epochs of 60000 random samples in order (after
       one warm-up epoch), each from the initial parameters.
fresh: what a user sees in a new process: after the import, the model, the
       optimizer and the data are made, one epoch from the start, with the
       time of its first step and the mean of its first 10 steps.
check: the loss of each of K steps on the fixed batch.

Prints one "key value" line per measurement (seconds), as bench/ref.py.
"""
import sys
import time

T_IMPORT = time.perf_counter()
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
T_IMPORT = time.perf_counter() - T_IMPORT

D, H, C, B = 784, 256, 10, 64
NSAMPLES = 60000
BLOCK = 50
LR = 1e-3


def out(key, value):
    print(key, value, flush=True)


def unif(s, k):
    """u(s, i) for i = 0..k-1: splitmix64's finalizer, top 24 bits"""
    with np.errstate(over="ignore"):
        x = (np.uint64(s) << np.uint64(32)) + np.arange(k, dtype=np.uint64)
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(30)
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x = x * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(40)).astype(np.float64) / 16777216.0


def sym(s, shape, fan_in):
    k = int(np.prod(shape))
    v = (2 * unif(s, k) - 1) / np.sqrt(fan_in)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


INIT = [sym(1, (H, D), D), sym(2, (H,), D), sym(3, (C, H), H), sym(4, (C,), H)]
XB = torch.from_numpy(unif(5, B * D).astype(np.float32).reshape(B, D))
YB = torch.from_numpy(np.floor(10 * unif(6, B)).astype(np.int64))


def make_model():
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(),
                                torch.nn.Linear(H, C))
    reset(model)
    return model


def reset(model):
    """the initial parameters again, and a new optimizer"""
    with torch.no_grad():
        for p, v in zip(model.parameters(), INIT):
            p.copy_(v)
    return torch.optim.Adam(model.parameters(), lr=LR)


def step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def epoch_data():
    g = torch.Generator().manual_seed(7)
    x = torch.rand(NSAMPLES, D, generator=g, dtype=torch.float32)
    y = torch.randint(0, C, (NSAMPLES,), generator=g)
    return x, y


def epoch(model, opt, x, y, firsts=None):
    """one pass in order, batches of 64; the times of the first steps go to
    firsts; returns the seconds and the mean batch loss"""
    total, nb = 0.0, 0
    t0 = time.perf_counter()
    for i in range(0, x.shape[0], B):
        ts = time.perf_counter()
        loss = step(model, opt, x[i:i + B], y[i:i + B])
        if firsts is not None and nb < 10:
            firsts.append(time.perf_counter() - ts)
        total += loss.item()
        nb += 1
    return time.perf_counter() - t0, total / nb


def warm(reps):
    model = make_model()
    opt = reset(model)
    for _ in range(20):
        loss = step(model, opt, XB, YB)
    out("torch.mlp.loss20", loss.item())
    best = float("inf")
    for r in range(reps + 1):
        opt = reset(model)
        t0 = time.perf_counter()
        for _ in range(BLOCK):
            step(model, opt, XB, YB)
        dt = time.perf_counter() - t0
        if r > 0:
            best = min(best, dt / BLOCK)
    out("torch.mlp.step", best)
    x, y = epoch_data()
    best = float("inf")
    for r in range(max(2, reps // 10) + 1):
        opt = reset(model)
        dt, loss = epoch(model, opt, x, y)
        if r > 0:
            best = min(best, dt)
    out("torch.mlp.epoch", best)
    out("torch.mlp.epoch_loss", loss)


def fresh():
    t0 = time.perf_counter()
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = epoch_data()
    out("torch.mlp.fresh_setup", time.perf_counter() - t0)
    firsts = []
    dt, loss = epoch(model, opt, x, y, firsts)
    out("torch.mlp.fresh_import", T_IMPORT)
    out("torch.mlp.fresh_first_step", firsts[0])
    out("torch.mlp.fresh_step10", sum(firsts) / len(firsts))
    out("torch.mlp.fresh_epoch", dt)
    out("torch.mlp.fresh_epoch_loss", loss)


def check(k):
    model = make_model()
    opt = reset(model)
    for i in range(1, k + 1):
        out("torch.mlp.loss%d" % i, step(model, opt, XB, YB).item())


mode = sys.argv[1] if len(sys.argv) > 1 else "warm"
if mode == "warm":
    out("torch.mlp.version", torch.__version__)
    out("torch.mlp.threads", torch.get_num_threads())
    warm(int(sys.argv[2]) if len(sys.argv) > 2 else 20)
elif mode == "fresh":
    fresh()
elif mode == "check":
    check(int(sys.argv[2]) if len(sys.argv) > 2 else 20)
else:
    sys.exit("mlp_torch.py: unknown mode " + repr(mode) +
             " (expected warm, fresh or check)")
