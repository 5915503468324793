#!/bin/sh
# tests/install: `make install PREFIX=...` puts the executable, libraries,
# header, Lua module, pkg-config file and man page in place, and each of
# them works from there.
HEBB_CFLAGS=${HEBB_CFLAGS:-$(make -s --no-print-directory test-cflags)}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail=0
ok() { echo "PASS install/$1"; }
ko() { echo "FAIL install/$1: $2"; fail=1; }

if make -s install PREFIX="$prefix" > "$prefix/log" 2>&1; then ok make_install
else ko make_install "$(tail -3 "$prefix/log" | tr '\n' ' ')"; exit 1; fi

for f in bin/hebb lib/libhebb.so lib/libhebb.so.0 lib/libhebb.a include/hebb.h \
         lib/lua/5.4/hebb.so lib/pkgconfig/hebb.pc share/hebb/stdlib/tensor.lua \
         share/man/man1/hebb.1; do
  [ -e "$prefix/$f" ] && ok "file_$f" || ko "file_$f" "missing"
done

out=$("$prefix/bin/hebb" -e 'print((require "hebb.tensor").arange(1, 4):sum())' 2>&1)
[ "$out" = "10" ] && ok installed_hebb_runs || ko installed_hebb_runs "$out"

out=$(LD_PRELOAD=${HEBB_PRELOAD:-} lua5.4 -e "package.cpath='$prefix/lib/lua/5.4/?.so;'..package.cpath
  print((require 'hebb.tensor').ones(3):sum())" 2>&1)
[ "$out" = "3.0" ] && ok installed_module_loads || ko installed_module_loads "$out"

cat > "$prefix/prog.c" <<'C'
#include <stdio.h>
#include <hebb.h>
int main(void) {
  int64_t n = 4;
  double s = 0;
  hebb_tensor *t = hebb_full(HEBB_F64, 1, &n, 2.5);
  if (!t || hebb_sum_all(t, &s) != HEBB_OK) return 1;
  printf("%g\n", s);
  hebb_release(t);
  return 0;
}
C
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs hebb)
# shellcheck disable=SC2086  # HEBB_CFLAGS: the Makefile's TEST_CFLAGS
if ${HEBB_CC:-cc} $HEBB_CFLAGS "$prefix/prog.c" $flags -Wl,-rpath,"$prefix/lib" -o "$prefix/prog" 2> "$prefix/cc" &&
   [ "$("$prefix/prog")" = "10" ]; then ok pkg_config_build
else ko pkg_config_build "$(cat "$prefix/cc" | head -3 | tr '\n' ' ')"; fi
exit $fail
