/* fuzz_ckpt.c -- the checkpoint reader (natives/core/io_ckpt.c) on
   arbitrary bytes: decode, walk every value, read every tensor.  Each input
   runs twice: as it is (the checksum checks), and with its two checksums
   recomputed, so that mutations reach the parser behind them instead of
   stopping at a wrong checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

static void walk(const uint8_t *data, size_t size) {
  hebb_ckpt *r = hebb_ckpt_decode(data, (int64_t)size, 1 << 26);
  int kind = 0;
  int64_t n;
  double f;
  const char *s;
  while (r && hebb_ckpt_next(r, &kind, &n, &f, &s) == HEBB_OK &&
         kind != HEBB_CK_END) {
    if (kind == HEBB_CK_TENSOR) {
      hebb_tensor *t = hebb_ckpt_tensor(r);
      if (!t) break;
      hebb_release(t);
    }
  }
  hebb_ckpt_free(r);
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void put32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++, v >>= 8) p[i] = (uint8_t)v;
}

/* the header's value and data checksums made right, where the sizes it
   gives fit the input */
static void fix_checksums(uint8_t *p, size_t n) {
  uint64_t vs, ds, d;
  if (n < 48) return;
  vs = get64(p + 16);
  ds = get64(p + 24);
  if (vs > n - 48) return;
  put32(p + 32, hebb_crc32c(hebb_crc32c(0, p, 32), p + 48, (int64_t)vs));
  d = (48 + vs + 63) / 64 * 64;
  if (d <= n && ds <= n - d) put32(p + 36, hebb_crc32c(0, p + d, (int64_t)ds));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  walk(data, size);
  if (copy) {
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    walk(copy, size);
    free(copy);
  }
  return 0;
}
