#!/bin/sh
# tests/notebook/run.sh -- `hebb notebook`: run writes the renders and the
# manifest; check passes on a fresh copy and fails (exit 1, with a diff) on
# an edited output, a forged digest, a changed data file and a changed
# source; renders are byte-identical at 1 and 2 threads (the HTML without
# its footer); export --to ipynb is valid for python3's nbformat; the HTML
# page renders in headless Chromium (a screenshot that is not blank and
# shows the figure); malformed notebooks and bad commands fail clearly.
cd "$(dirname "$0")/../.." || exit 2
HEBB=${HEBB:-build/hebb}
case $HEBB in /*) ;; *) HEBB=$PWD/$HEBB ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS notebook/$1${2:+ ($2)}"; }
fail() { echo "FAIL notebook/$1: $2"; failed=1; }

cp tests/notebook/demo.lua tests/notebook/data.txt "$tmp/"
nb=$tmp/demo.lua

# --- run ------------------------------------------------------------------------
if "$HEBB" notebook run "$nb" > "$tmp/run.out" 2>&1 &&
   [ -s "$tmp/demo.md" ] && [ -s "$tmp/demo.html" ] && [ -s "$tmp/demo.manifest.json" ] &&
   [ -s "$tmp/demo_files/cell5-figure1.svg" ]; then
  pass run_writes_md_html_manifest
else
  fail run_writes_md_html_manifest "$(cat "$tmp/run.out")"
fi
if grep -q '"path": "data.txt"' "$tmp/demo.manifest.json" &&
   grep -q "\"sha256\": \"$(sha256sum < "$tmp/data.txt" | cut -c1-64)\"" "$tmp/demo.manifest.json" &&
   grep -q "\"source_sha256\": \"$(sha256sum < "$nb" | cut -c1-64)\"" "$tmp/demo.manifest.json"; then
  pass manifest_fingerprints_source_and_data
else
  fail manifest_fingerprints_source_and_data "$(head -c 600 "$tmp/demo.manifest.json")"
fi
for k in hebb commit lua blas threads; do
  grep -q "\"$k\": " "$tmp/demo.manifest.json" || fail manifest_environment "no $k"
done
pass manifest_environment

# --- check ----------------------------------------------------------------------
if "$HEBB" notebook check "$nb" > "$tmp/check.out" 2>&1 &&
   grep -q "reproduced: 6 code cells, 1 data files" "$tmp/check.out"; then
  pass check_reproduces
else
  fail check_reproduces "$(cat "$tmp/check.out")"
fi

cp "$tmp/demo.manifest.json" "$tmp/good.json"
# an edited output: the recorded text no longer gives its digest
sed 's/scale from data.txt:\\t2.5/scale from data.txt:\\t9.9/' "$tmp/good.json" > "$tmp/demo.manifest.json"
"$HEBB" notebook check "$nb" > "$tmp/c1.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "DRIFT" "$tmp/c1.out" &&
   grep -q "does not match its digest: the manifest was edited" "$tmp/c1.out"; then
  pass check_fails_on_edited_output
else
  fail check_fails_on_edited_output "rc=$rc $(cat "$tmp/c1.out")"
fi
# a forged output with a matching digest: the re-run disagrees, with a diff
fake="scale from data.txt:\\t9.9\\n"
good="scale from data.txt:\\t2.5\\n"
fsum=$(printf "$fake" | sha256sum | cut -c1-64)
gsum=$(printf "$good" | sha256sum | cut -c1-64)
sed -e "s/scale from data.txt:\\\\t2.5/scale from data.txt:\\\\t9.9/" -e "s/$gsum/$fsum/" \
  "$tmp/good.json" > "$tmp/demo.manifest.json"
"$HEBB" notebook check "$nb" > "$tmp/c2.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "cell 3 (line 15, Setup): output differs" "$tmp/c2.out" &&
   grep -q "^  - scale from data.txt:	9.9" "$tmp/c2.out" &&
   grep -q "^  + scale from data.txt:	2.5" "$tmp/c2.out"; then
  pass check_diff_on_forged_output
else
  fail check_diff_on_forged_output "rc=$rc $(cat "$tmp/c2.out")"
fi
# a changed data file
cp "$tmp/good.json" "$tmp/demo.manifest.json"
echo 3.5 > "$tmp/data.txt"
"$HEBB" notebook check "$nb" > "$tmp/c3.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "data: data.txt changed" "$tmp/c3.out"; then
  pass check_fails_on_changed_data
else
  fail check_fails_on_changed_data "rc=$rc $(cat "$tmp/c3.out")"
fi
echo 2.5 > "$tmp/data.txt"
# a changed source
sed 's/print("done")/print("DONE")/; s/io.write("done"/io.write("Done"/' "$nb" > "$tmp/demo2.lua"
cp "$tmp/good.json" "$tmp/demo2.manifest.json"
"$HEBB" notebook check "$tmp/demo2.lua" > "$tmp/c4.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "source: .*demo2.lua changed since the manifest was recorded" "$tmp/c4.out" &&
   grep -q "^  + Done" "$tmp/c4.out"; then
  pass check_fails_on_changed_source
else
  fail check_fails_on_changed_source "rc=$rc $(cat "$tmp/c4.out")"
fi
"$HEBB" notebook check "$tmp/nothing.lua" > "$tmp/c5.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "cannot open" "$tmp/c5.out"; then
  pass check_without_manifest
else
  fail check_without_manifest "rc=$rc $(cat "$tmp/c5.out")"
fi

# --- byte-identical at 1 and 2 threads -----------------------------------------
cp "$tmp/good.json" "$tmp/demo.manifest.json"
"$HEBB" --threads 1 notebook run "$nb" -o "$tmp/t1" > /dev/null 2>&1
"$HEBB" notebook run --threads 2 "$nb" -o "$tmp/t2" > /dev/null 2>&1
sed '/^<footer>/,$d' "$tmp/t1/demo.html" > "$tmp/t1.body"
sed '/^<footer>/,$d' "$tmp/t2/demo.html" > "$tmp/t2.body"
grep -v '"threads"' "$tmp/t1/demo.manifest.json" > "$tmp/t1.man"
grep -v '"threads"' "$tmp/t2/demo.manifest.json" > "$tmp/t2.man"
if [ -s "$tmp/t1.body" ] && cmp -s "$tmp/t1/demo.md" "$tmp/t2/demo.md" &&
   cmp -s "$tmp/t1.body" "$tmp/t2.body" && cmp -s "$tmp/t1.man" "$tmp/t2.man" &&
   cmp -s "$tmp/t1/demo_files/cell5-figure1.svg" "$tmp/t2/demo_files/cell5-figure1.svg" &&
   grep -q '<td>threads</td><td>1</td>' "$tmp/t1/demo.html" &&
   grep -q '<td>threads</td><td>2</td>' "$tmp/t2/demo.html"; then
  pass renders_identical_at_1_and_2_threads
else
  fail renders_identical_at_1_and_2_threads "$(diff "$tmp/t1.body" "$tmp/t2.body" | head -5)"
fi

# --- ipynb ----------------------------------------------------------------------
if "$HEBB" notebook export "$nb" --to ipynb -o "$tmp/demo.ipynb" > "$tmp/x.out" 2>&1 &&
   /usr/bin/python3 - "$tmp/demo.ipynb" > "$tmp/nbf.out" 2>&1 <<'EOF'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
code = [c for c in nb.cells if c.cell_type == "code"]
md = [c for c in nb.cells if c.cell_type == "markdown"]
assert len(code) == 6 and len(md) == 1, (len(code), len(md))
kinds = [o.output_type for c in code for o in c.outputs]
assert "stream" in kinds and "display_data" in kinds and "error" in kinds, kinds
svg = [o for c in code for o in c.outputs if o.output_type == "display_data"][0]
assert "".join(svg.data["image/svg+xml"]).startswith("<svg"), "svg figure"
assert nb.metadata.kernelspec.language == "lua"
print("ok", len(nb.cells))
EOF
then
  pass ipynb_valid_for_nbformat
else
  fail ipynb_valid_for_nbformat "$(cat "$tmp/x.out" "$tmp/nbf.out" | tail -5)"
fi

# --- the page in Chromium ------------------------------------------------------
chromium_shot() {  # html png width height
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --user-data-dir="$tmp/chrome" --hide-scrollbars \
    --window-size="$3,$4" --screenshot="$2" "file://$1" > "$tmp/chrome.log" 2>&1
}
if ! command -v chromium > /dev/null; then
  fail html_in_chromium "chromium not installed (apt-get install chromium)"
elif chromium_shot "$tmp/demo.html" "$tmp/page.png" 1000 2200 &&
   /usr/bin/python3 - "$tmp/page.png" > "$tmp/px.out" 2>&1 <<'EOF'
import sys, zlib, struct
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
pos, idat, w = 8, b"", 0
while pos < len(d):
    n, kind = struct.unpack(">I4s", d[pos:pos + 8])
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", d[pos + 8:pos + 18])
        bpp = {2: 3, 6: 4}[ctype]
    if kind == b"IDAT":
        idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
inked = blue = 0
for line in rows:
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        if r < 235 or g < 235 or b < 235: inked += 1
        # the first line colour of hebb.plot, #1f77b4
        if abs(r - 0x1f) < 30 and abs(g - 0x77) < 30 and abs(b - 0xb4) < 30: blue += 1
frac = inked / (w * h)
print("inked %.3f blue %d" % (frac, blue))
assert frac > 0.03, "a blank page"
assert blue > 200, "the figure (an SVG in a data: URI) was not drawn"
EOF
then
  pass html_in_chromium "$(cat "$tmp/px.out")"
else
  fail html_in_chromium "$(cat "$tmp/px.out" "$tmp/chrome.log" | tail -4)"
fi

# --- malformed notebooks and commands ------------------------------------------
printf -- '-- %%%% [markdwn]\n-- x\n' > "$tmp/bad1.lua"
printf 'x = 1\n\0\1\2junk' > "$tmp/bad2.lua"
printf -- '-- %%%%\nlocal s = [[\nnever closed\n' > "$tmp/bad3.lua"
printf -- '-- %%%% [timeout=soon]\nx = 1\n' > "$tmp/bad4.lua"
for case in "bad1.lua:1: unknown cell type [markdwn] (did you mean 'markdown'?)" \
            "bad2.lua:2: not a text file (a NUL byte, column 1)" \
            "bad3.lua:2: unfinished long string" \
            "bad4.lua:1: option timeout must be a positive number of seconds"; do
  f=${case%%:*}
  "$HEBB" notebook run "$tmp/$f" > "$tmp/bad.out" 2>&1
  rc=$?
  if [ $rc -eq 2 ] && grep -qF "$case" "$tmp/bad.out"; then
    pass "malformed_${f%.lua}"
  else
    fail "malformed_${f%.lua}" "rc=$rc $(cat "$tmp/bad.out")"
  fi
done
"$HEBB" notebook rn "$nb" > "$tmp/u.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "unknown command 'rn' (did you mean 'run'?)" "$tmp/u.out"; then
  pass bad_command
else
  fail bad_command "rc=$rc $(cat "$tmp/u.out")"
fi
"$HEBB" notebook run "$nb" --frmat md > "$tmp/u.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "unknown option '--frmat'" "$tmp/u.out"; then
  pass bad_option
else
  fail bad_option "rc=$rc $(cat "$tmp/u.out")"
fi
# a failing cell: status 1, the renders still written, the message on stderr
printf -- '-- %%%%\nprint(1)\n-- %%%%\nerror("stop here")\n' > "$tmp/err.lua"
"$HEBB" notebook run "$tmp/err.lua" > "$tmp/e.out" 2> "$tmp/e.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "cell 2 failed: .*err.lua:4: stop here" "$tmp/e.err" &&
   grep -q "err.lua:4: stop here" "$tmp/err.md"; then
  pass failing_cell_exit_status
else
  fail failing_cell_exit_status "rc=$rc $(cat "$tmp/e.out" "$tmp/e.err")"
fi
# a script named "notebook" still runs as a script after --
printf 'print("a script called notebook")\n' > "$tmp/notebook"
if (cd "$tmp" && "$HEBB" -- notebook) | grep -q "a script called notebook"; then
  pass script_named_notebook
else
  fail script_named_notebook "hebb -- notebook did not run the file"
fi
exit $failed
