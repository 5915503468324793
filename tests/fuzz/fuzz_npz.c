/* fuzz_npz.c -- the .npz reader (natives/core/io_npz.c: zip directory,
   stored and deflated members, .npy inside) on arbitrary bytes. */
#include <stdint.h>
#include <stddef.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hebb_npz *z = hebb_npz_decode(data, (int64_t)size, 1 << 26);
  int64_t i;
  for (i = 0; z && i < hebb_npz_count(z); i++) hebb_release(hebb_npz_read(z, i));
  hebb_npz_free(z);
  return 0;
}
