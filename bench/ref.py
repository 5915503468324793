"""ref.py -- the numpy and torch side of `make bench`.

usage: /usr/bin/python3 bench/ref.py N REPS DISPATCH_LOOP MATMUL_N [linalg]

Debian's numpy and torch load only under /usr/bin/python3.  With the last
argument "linalg" only numpy's svd and eigh run, and their keys start with
"numpy1t." instead of "numpy.": bench/run.sh runs that pass with
OPENBLAS_NUM_THREADS=1 (threadpoolctl is not in Debian's python3 here), so
that numpy's LAPACK runs at one thread, as hebb's does.  Prints one
"key value" line per measurement (times in seconds, the best of REPS after
a warm-up), the same protocol as bench/hebb.lua.  Both libraries run with
their own default thread counts, which are printed too.  Exits non-zero if
either library is missing or a measurement fails.
"""
import sys
import time
import timeit

N, REPS, LOOP, MM = (int(x) for x in sys.argv[1:5])
LINALG_ONLY = sys.argv[5:6] == ["linalg"]


def out(key, value):
    print(key, value, flush=True)


def best(reps, f):
    f()
    f()
    b = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        b = min(b, time.perf_counter() - t0)
    return b


def dispatch(a, b, loop):
    """per-operation CPU time of `a + b` on 1-element arrays (timeit loop;
    CPU time as hebb's row 1)"""
    timer = timeit.Timer("a + b", timer=time.process_time,
                         globals={"a": a, "b": b})
    return min(timer.repeat(repeat=5, number=loop)) / loop


def blas_threads(prefix):
    """numpy's BLAS is Debian's libblas.so.3; ask it when it is OpenBLAS"""
    try:
        import ctypes
        blas = ctypes.CDLL("libblas.so.3")
        out(prefix + ".blas_threads", blas.openblas_get_num_threads())
    except (OSError, AttributeError):
        out(prefix + ".blas_threads", "?")


def bench_linalg(prefix):
    """512 x 512 f64 svd (gesdd) and eigh (syevd), as bench/hebb.lua"""
    import numpy as np
    rng = np.random.default_rng(2)
    a = rng.standard_normal((512, 512))
    s = a + a.T
    reps = max(3, REPS // 4)
    out(prefix + ".svd512", best(reps, lambda: np.linalg.svd(a)))
    out(prefix + ".eigh512", best(reps, lambda: np.linalg.eigh(s)))


def bench_fft():
    """a 2^20-point complex128 FFT (pocketfft, one thread)"""
    import numpy as np
    rng = np.random.default_rng(3)
    n = 1 << 20
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    out("numpy.fft", best(max(3, REPS // 2), lambda: np.fft.fft(z)))


def bench_numpy():
    import numpy as np
    out("numpy.version", np.__version__)
    blas_threads("numpy")
    a1, b1 = np.ones(1), np.ones(1)
    out("numpy.dispatch", dispatch(a1, b1, LOOP))
    rng = np.random.default_rng(1)
    a, b, c = (rng.random(N, dtype=np.float32) for _ in range(3))
    o = np.zeros(N, dtype=np.float32)

    def fma():
        np.multiply(a, b, out=o)
        np.add(o, c, out=o)
    out("numpy.fma_mul_add", best(REPS, fma))
    x64 = rng.random(N)
    x32 = x64.astype(np.float32)
    out("numpy.sum_f64", best(REPS, lambda: x64.sum()))
    out("numpy.sum_f32", best(REPS, lambda: x32.sum()))
    ma = rng.random((MM, MM), dtype=np.float32)
    mb = rng.random((MM, MM), dtype=np.float32)
    mo = np.zeros((MM, MM), dtype=np.float32)
    out("numpy.sgemm", best(max(3, REPS // 2),
                            lambda: np.matmul(ma, mb, out=mo)))
    bench_linalg("numpy")
    bench_fft()


def bench_numpy_1t():
    blas_threads("numpy1t")
    bench_linalg("numpy1t")


def bench_torch():
    import torch
    out("torch.version", torch.__version__)
    out("torch.threads", torch.get_num_threads())
    a1 = torch.ones(1, dtype=torch.float64)
    b1 = torch.ones(1, dtype=torch.float64)
    # torch's dispatch is ~4x numpy's: a shorter loop keeps the run short
    out("torch.dispatch", dispatch(a1, b1, max(1, LOOP // 5)))
    g = torch.Generator().manual_seed(1)
    a, b, c = (torch.rand(N, generator=g, dtype=torch.float32)
               for _ in range(3))
    o = torch.zeros(N, dtype=torch.float32)

    def fma():
        torch.mul(a, b, out=o)
        o.add_(c)
    out("torch.fma_mul_add", best(REPS, fma))
    out("torch.fma_addcmul",
        best(REPS, lambda: torch.addcmul(c, a, b, out=o)))
    x64 = torch.rand(N, generator=g, dtype=torch.float64)
    x32 = x64.to(torch.float32)
    out("torch.sum_f64", best(REPS, lambda: x64.sum()))
    out("torch.sum_f32", best(REPS, lambda: x32.sum()))
    ma = torch.rand(MM, MM, generator=g, dtype=torch.float32)
    mb = torch.rand(MM, MM, generator=g, dtype=torch.float32)
    mo = torch.zeros(MM, MM, dtype=torch.float32)
    out("torch.sgemm", best(max(3, REPS // 2),
                            lambda: torch.matmul(ma, mb, out=mo)))


status = 0
runs = (("numpy", bench_numpy), ("torch", bench_torch))
if LINALG_ONLY:
    runs = (("numpy1t", bench_numpy_1t),)
for name, run in runs:
    try:
        run()
    except Exception as e:  # report, go on with the other library
        print(f"ref.py: {name} failed: {e!r}", file=sys.stderr)
        out(name + ".error", repr(e))
        status = 1
sys.exit(status)
