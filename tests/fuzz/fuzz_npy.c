/* fuzz_npy.c -- the .npy reader (natives/core/io_npy.c) on arbitrary
   bytes. */
#include <stdint.h>
#include <stddef.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hebb_release(hebb_npy_decode(data, (int64_t)size));
  return 0;
}
