/* fuzz_ckpt.c -- the checkpoint reader (natives/core/io_ckpt.c) on
   arbitrary bytes: decode, walk every value, read every tensor. */
#include <stdint.h>
#include <stddef.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
  return 0;
}
