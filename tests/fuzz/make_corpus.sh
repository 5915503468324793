#!/bin/sh
# make_corpus.sh -- (re)writes the seed corpus of the fuzz harnesses in
# tests/fuzz/corpus/<loader>/: small valid files of every kind each loader
# reads, made by hebb's writers and by numpy (run from the repository root
# after `make`; the files are committed, this script documents them).  The
# regress-* files are inputs the fuzzers once broke hebb with; they stay.
set -e
cd "$(dirname "$0")/../.."
C=tests/fuzz/corpus
mkdir -p "$C/ckpt" "$C/npy" "$C/npz" "$C/text" "$C/idx"
find "$C" -type f ! -name 'regress-*' -delete
./build/hebb - <<'LUA'
local T, hio = require "hebb.tensor", require "hebb.io"
local C = "tests/fuzz/corpus/"
local function spit(p, s) local f = assert(io.open(C .. p, "wb")); f:write(s); f:close() end
T.manual_seed(1)
local x = T.randn(3, 2)
spit("ckpt/scalars", hio.encode({ 1, 2.5, "s", true, false, { a = -7, [3] = "x", [2.5] = 0 / 0 } }))
spit("ckpt/tensors", hio.encode({ a = x, b = x:t(), c = T.gt(x, 0), d = T.complex(x, x):astype("c64"),
                                 e = T.complex(x, -x), f = x:astype("f32"), g = T.arange(1, 4), h = T.full({}, 2),
                                 i = T.zeros(0, 3) }))
local deep = 1
for _ = 1, 40 do deep = { deep, k = "v" } end
spit("ckpt/deep", hio.encode(deep))
spit("ckpt/nil", hio.encode(nil))
spit("ckpt/empty", hio.encode({}))
for _, dt in ipairs({ "f64", "f32", "i64", "bool", "c128", "c64" }) do
  local t = dt == "bool" and T.gt(x, 0) or (dt:sub(1, 1) == "c" and T.complex(x, x):astype(dt) or x:astype(dt))
  hio.save_npy(C .. "npy/" .. dt .. ".npy", t)
end
hio.save_npy(C .. "npy/fortran.npy", T.randn(2, 3, 2):permute(3, 2, 1))
hio.save_npy(C .. "npy/scalar.npy", T.full({}, 1.5))
hio.save_npy(C .. "npy/empty.npy", T.zeros(0, 2))
hio.save_npz(C .. "npz/stored.npz", { a = x, b = T.gt(x, 0), c = T.arange(1, 3) })
hio.save_npz(C .. "npz/deflated.npz", { a = x, z = T.zeros(50) }, { compress = true })
hio.savetxt(C .. "text/gnuplot.dat", x, { header = { "t", "E" } })
hio.savetxt(C .. "text/table.csv", T.tensor({ { 1, 2.5 }, { -3, 1e300 } }), { header = { "a", "b" }, delimiter = ",", comments = "" })
spit("text/mixed.txt", "# T E M\n\n2.0 -1.75 0.91  # note\r\n2.5\t-1.2\t0.4\n# end\nnan inf -inf\n")
LUA
/usr/bin/python3 - <<'PY'
import gzip, struct
import numpy as np
C = "tests/fuzz/corpus/"
np.save(C + "npy/bigendian.npy", np.arange(3, dtype=">f8"))
with open(C + "npy/v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(4.0), version=(2, 0))
np.savez(C + "npz/numpy.npz", x=np.arange(3.0), y=np.array([True]))
np.savez_compressed(C + "npz/numpy_c.npz", x=np.arange(6.0).reshape(2, 3))
def idx(code, shape, data):
    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + data
open(C + "idx/ubyte", "wb").write(idx(8, (2, 3), bytes(range(6))))
open(C + "idx/int", "wb").write(idx(0x0C, (2,), struct.pack(">ii", -5, 7)))
open(C + "idx/double", "wb").write(idx(0x0E, (2,), struct.pack(">dd", 1.5, -2)))
open(C + "idx/float.gz", "wb").write(gzip.compress(idx(0x0D, (1, 2), struct.pack(">ff", 1, 2))))
open(C + "text/ints.txt", "w").write("\x02" + "1,2,3\n4,5,6\n")
PY
# the text harness takes its options from the first byte: prefix them
for f in "$C"/text/*; do
  case "$f" in *ints.txt) continue ;; esac
  { case "$f" in *.csv) printf '\001' ;; *) printf '\000' ;; esac; cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
done
ls -R "$C" | head -50
