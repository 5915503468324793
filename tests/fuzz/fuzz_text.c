/* fuzz_text.c -- the text table reader (natives/core/io_text.c) on
   arbitrary bytes; the first byte picks the options (delimiter, comment
   character, dtype), the rest is the text. */
#include <stdint.h>
#include <stddef.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char delims[4] = {0, ',', ';', '|'};
  static const int dtypes[4] = {HEBB_F64, HEBB_I64, HEBB_F32, HEBB_F64};
  char names[256];
  if (size == 0) return 0;
  hebb_release(hebb_loadtxt_decode(data + 1, (int64_t)size - 1,
                                   delims[data[0] & 3],
                                   data[0] & 4 ? '%' : '#',
                                   dtypes[data[0] >> 3 & 3], names,
                                   sizeof names));
  return 0;
}
