# h5_oracle.py -- h5py's side of tests/lua/test_io_h5.lua.
#   write FILE DIR: h5py writes FILE with datasets of every kind hebb reads
#                   (and some it must refuse), attributes and groups; each
#                   readable dataset's bytes (C order, little-endian, as hebb
#                   holds them: integers widened to int64) go to DIR/NAME.bin
#                   and its name, hebb dtype and shape to DIR/h5py.txt
#   check FILE DIR: h5py reads what hebb wrote to FILE and compares it with
#                   the list DIR/hebb.txt ("name|dtype|shape|chunks|gzip|grow"
#                   lines, with DIR/NAME.bin); prints "ok NAME" or
#                   "bad NAME: why" for each, then the attributes it found
import os
import sys

import h5py
import numpy as np

HEBB = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "bool": np.bool_,
        "c128": np.complex128, "c64": np.complex64}


def binname(name):
    return name.replace("/", "_") + ".bin"


def write(path, d):
    rng = np.random.default_rng(9)
    lines = []
    with h5py.File(path, "w") as f:
        def keep(name, a, hebb_dtype, **kw):
            f.create_dataset(name, data=a, **kw)
            b = np.asarray(a).astype(HEBB[hebb_dtype])
            with open(os.path.join(d, binname(name)), "wb") as g:
                g.write(np.ascontiguousarray(b).tobytes())
            lines.append("%s|%s|%s" % (name, hebb_dtype, ",".join(map(str, b.shape))))

        x = rng.standard_normal((5, 7)) * 1e3
        keep("f64", x, "f64")
        keep("f32", x.astype(np.float32), "f32")
        keep("i64", (x * 1e6).astype(np.int64), "i64")
        keep("b", x > 0, "bool")
        keep("c128", x + 1j * x[::-1], "c128")
        keep("c64", (x - 2j * x).astype(np.complex64), "c64")
        keep("grp/i32", x.astype(np.int32), "i64")
        keep("grp/u8", (np.abs(x) % 256).astype(np.uint8), "i64")
        keep("grp/i8", (x % 100).astype(np.int8), "i64")
        keep("scalar", np.float64(2.5), "f64")
        keep("empty", np.zeros((0, 3)), "f64")
        keep("gz", rng.standard_normal((200, 30)), "f64", chunks=(50, 10),
             compression="gzip", compression_opts=6)
        keep("grow", rng.standard_normal((10, 4)), "f64", maxshape=(None, 4),
             chunks=(8, 4))
        f.create_dataset("u64", data=np.arange(3, dtype=np.uint64))
        f.create_dataset("f16", data=np.arange(3, dtype=np.float16))
        f.create_dataset("strings", data=np.array([b"ab", b"cd"]))
        f.attrs["L"] = 32
        f.attrs["beta"] = 0.4406868
        f.attrs["model"] = "ising"
        f.attrs["flag"] = True
        f["f64"].attrs["couplings"] = np.arange(4.0)
    with open(os.path.join(d, "h5py.txt"), "w") as g:
        g.write("\n".join(lines) + "\n")


def check(path, d):
    with h5py.File(path, "r") as f:
        for line in open(os.path.join(d, "hebb.txt")):
            name, dtype, shape, chunks, gzip, grow = line.rstrip("\n").split("|")
            ds = f[name]
            a = ds[()]
            want = open(os.path.join(d, binname(name)), "rb").read()
            shp = tuple(int(s) for s in shape.split(",") if s)
            why = None
            if ds.dtype != HEBB[dtype]:
                why = "dtype %s, want %s" % (ds.dtype, dtype)
            elif ds.shape != shp:
                why = "shape %s, want %s" % (ds.shape, shp)
            elif np.ascontiguousarray(a).tobytes() != want:
                why = "different bytes"
            elif chunks and ds.chunks != tuple(int(s) for s in chunks.split(",")):
                why = "chunks %s, want %s" % (ds.chunks, chunks)
            elif gzip and (ds.compression != "gzip" or ds.compression_opts != int(gzip)):
                why = "compression %s %s" % (ds.compression, ds.compression_opts)
            elif grow and ds.maxshape[int(grow) - 1] is not None:
                why = "maxshape %s" % (ds.maxshape,)
            print("ok " + name if why is None else "bad %s: %s" % (name, why))
        for k in sorted(f.attrs):
            v = f.attrs[k]
            print("attr %s %s %r" % (k, type(v).__name__, v.tolist() if hasattr(v, "tolist") else v))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2], sys.argv[3])
