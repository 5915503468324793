#!/bin/sh
# tests/docs: every ```lua block in README.md and docs/*.md runs under
# build/hebb, every ```c block compiles against libhebb and runs, and the
# API reference pages in docs/api/ match the docstrings they are made from.
HEBB=${HEBB:-build/hebb}
LIBDIR=${HEBB_BUILD:-build}
HEBB_CFLAGS=${HEBB_CFLAGS:-$(make -s --no-print-directory test-cflags)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

extract() {  # file, language -> numbered files $TMP/<base>-<n>.<lang>
  awk -v lang="$2" -v out="$TMP/$(basename "$1" .md)" '
    $0 == "```" lang { n++; inblock = 1; next }
    inblock && /^```/ { inblock = 0; next }
    inblock { print > (out "-" n "." lang) }' "$1"
}

for md in README.md docs/*.md; do
  extract "$md" lua
  extract "$md" c
done

for f in "$TMP"/*.lua; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .lua)
  if "$HEBB" "$f" > "$TMP/out" 2>&1; then echo "PASS docs/$name"
  else echo "FAIL docs/$name: $(tail -3 "$TMP/out" | tr '\n' ' ')"; fail=1; fi
done

for f in "$TMP"/*.c; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .c)
  # shellcheck disable=SC2086  # HEBB_CFLAGS: the Makefile's TEST_CFLAGS
  if ${HEBB_CC:-cc} $HEBB_CFLAGS -Iinclude "$f" -L"$LIBDIR" -lhebb \
       -Wl,-rpath,"$PWD/$LIBDIR" -lm -o "$TMP/$name" 2> "$TMP/cc" &&
     "$TMP/$name" > "$TMP/out" 2>&1; then
    echo "PASS docs/$name"
  else
    echo "FAIL docs/$name: $(cat "$TMP/cc" "$TMP/out" | tail -3 | tr '\n' ' ')"; fail=1
  fi
done

for page in docs/api/*.md; do
  m=$(basename "$page" .md)
  if "$HEBB" tools/gendocs.lua $m > "$TMP/$m.md" 2>&1 && cmp -s "$TMP/$m.md" "docs/api/$m.md"; then
    echo "PASS docs/api_current_$m"
  else
    echo "FAIL docs/api_current_$m: docs/api/$m.md is stale: run 'make docs'"; fail=1
  fi
done
# the figures of the guides are what their code draws (tools/docfigures.lua)
for md in docs/*.md; do
  grep -q '](figures/' "$md" || continue
  name=$(basename "$md" .md)
  if "$HEBB" tools/docfigures.lua "$md" docs/figures --check > "$TMP/fig" 2>&1; then
    echo "PASS docs/figures_current_$name"
  else
    echo "FAIL docs/figures_current_$name: $(tr '\n' ' ' < "$TMP/fig")"; fail=1
  fi
done
exit $fail
