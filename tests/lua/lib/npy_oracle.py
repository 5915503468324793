# npy_oracle.py -- numpy's side of tests/lua/test_io_npy.lua.
#   write DIR: numpy writes .npy/.npz files of every kind hebb reads (and some
#              it must refuse), each with its elements' bytes in C order,
#              little-endian, in NAME.bin, listed in DIR/numpy.txt as
#              "file|member|dtype|shape" lines
#   check DIR: numpy reads the files hebb listed in DIR/hebb.txt the same way
#              and prints "ok NAME" or "bad NAME: why" for each
import os
import sys

import numpy as np

DTYPES = {"f64": "f8", "f32": "f4", "i64": "i8", "bool": "b1", "c128": "c16",
          "c64": "c8"}
NPY = {v: k for k, v in DTYPES.items()}


def sample(code, shape, rng):
    x = rng.standard_normal(shape) * 100
    if code == "b1":
        return x > 0
    if code in ("c16", "c8"):
        return (x + 1j * rng.standard_normal(shape)).astype(code)
    return x.astype(code)


def raw(a):
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()


def write(d):
    rng = np.random.default_rng(14)
    listing = []

    def keep(name, a, save):
        save(os.path.join(d, name + (".npy" if not name.endswith(".npz") else "")), a)
        code = a.dtype.str[1:]
        listing.append("%s|%s|%s" % (name, NPY[code], ",".join(map(str, a.shape))))
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(raw(a))

    for code in DTYPES.values():
        a = sample(code, (3, 4), rng)
        keep("c_" + code, a, np.save)
        keep("f_" + code, np.asfortranarray(sample(code, (2, 3, 4), rng)), np.save)
        keep("s_" + code, sample(code, (), rng), np.save)
        keep("e_" + code, sample(code, (0, 3), rng), np.save)
        if code != "b1":
            keep("be_" + code, a.astype(a.dtype.newbyteorder(">")), np.save)
    special = np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324, 1.5])
    special.view(np.uint64)[0] = 0x7FF8000000ABCDEF   # a NaN with a payload
    keep("special", special, np.save)
    for v in ((2, 0), (3, 0)):
        def save_v(p, a, v=v):
            with open(p, "wb") as f:
                np.lib.format.write_array(f, a, version=v)
        keep("v%d" % v[0], sample("f8", (5,), rng), save_v)
    arrays = {"a": sample("f8", (4, 5), rng), "b": sample("b1", (7,), rng),
              "c": sample("c8", (2, 2), rng), "d": sample("i8", (), rng)}
    np.savez(os.path.join(d, "p.npz"), **arrays)
    np.savez_compressed(os.path.join(d, "pc.npz"), **arrays)
    for k, a in arrays.items():
        with open(os.path.join(d, "npz_" + k + ".bin"), "wb") as f:
            f.write(raw(a))
    np.save(os.path.join(d, "obj.npy"), np.array([1, "a"], dtype=object),
            allow_pickle=True)
    np.save(os.path.join(d, "i4.npy"), np.arange(3, dtype=np.int32))
    np.save(os.path.join(d, "rec.npy"), np.zeros(2, dtype=[("x", "<f8")]))
    np.save(os.path.join(d, "big.npy"), np.arange(1 << 20, dtype=np.float64))
    with open(os.path.join(d, "numpy.txt"), "w") as f:
        f.write("\n".join(listing) + "\n")


def check(d):
    for line in open(os.path.join(d, "hebb.txt")):
        name, member, dtype, shape = line.rstrip("\n").split("|")
        if member:
            with np.load(os.path.join(d, name)) as z:
                a = z[member]
            tag = name + ":" + member
        else:
            a = np.load(os.path.join(d, name))
            tag = name
        want = open(os.path.join(d, tag.replace(":", "_") + ".bin"), "rb").read()
        shp = tuple(int(s) for s in shape.split(",") if s)
        why = None
        if a.dtype.str[1:] != DTYPES[dtype]:
            why = "dtype %s, want %s" % (a.dtype.str, dtype)
        elif a.shape != shp:
            why = "shape %s, want %s" % (a.shape, shp)
        elif raw(a) != want:
            why = "different bytes"
        elif name.startswith("t_") and a.ndim > 1 and not a.flags.f_contiguous:
            why = "not Fortran order"
        print("ok " + tag if why is None else "bad %s: %s" % (tag, why))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
