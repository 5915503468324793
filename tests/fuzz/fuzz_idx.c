/* fuzz_idx.c -- the IDX reader (natives/core/idx.c, plain and gzip) on
   arbitrary bytes.  It reads files by path, so each input goes through one
   memory file (memfd) reached as /proc/self/fd/N. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("fuzz_idx", 0);
    if (fd < 0) return 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
    return 0;
  hebb_release(hebb_read_idx(path, size > 3 && data[3] & 1 ? HEBB_I64 : HEBB_F64));
  return 0;
}
