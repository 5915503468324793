/* test_idx.c -- the IDX reader of the core (natives/core/idx.c) without
   Lua: values, status and message on failure, nothing left allocated. */
#define SUITE "idx"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "idx.h"

static void put(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

int main(void) {
  char dir[] = "/tmp/hebb_idx_XXXXXX", path[64];
  /* ubyte {2,2}, then int {3} with a negative value */
  static const unsigned char u8[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                                     1, 2, 254, 255};
  static const unsigned char i32[] = {0, 0, 0x0C, 1, 0, 0, 0, 3,
                                      0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe,
                                      0x01, 0x02, 0x03, 0x04};
  hebb_alloc_stats before, after;
  hebb_tensor *t;
  int64_t ix[2] = {1, 0}, v = 0;
  double d = 0;
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/a.idx", dir);

  put(path, u8, sizeof u8);
  t = hebb_read_idx(path, HEBB_F64);
  CHECK("ubyte_shape", t && t->ndim == 2 && t->shape[0] == 2 &&
        t->shape[1] == 2 && t->dtype == HEBB_F64);
  CHECK("ubyte_value", t && hebb_get(t, ix, &d) == HEBB_OK && d == 254);
  hebb_release(t);

  put(path, i32, sizeof i32);
  t = hebb_read_idx(path, HEBB_I64);
  ix[0] = 1;
  CHECK("int_negative", t && hebb_get_i64(t, ix, &v) == HEBB_OK && v == -2);
  ix[0] = 2;
  CHECK("int_big_endian", t && hebb_get_i64(t, ix, &v) == HEBB_OK &&
        v == 0x01020304);
  hebb_release(t);

  hebb_alloc_get_stats(&before);
  put(path, i32, sizeof i32 - 1);
  CHECK("truncated_null", hebb_read_idx(path, HEBB_F32) == NULL);
  CHECK("truncated_status", hebb_last_status() == HEBB_ERR_IO);
  CHECK("truncated_message", strstr(hebb_last_error(), path) &&
        strstr(hebb_last_error(), "needs 20 bytes, found 19"));
  hebb_alloc_get_stats(&after);
  CHECK("truncated_frees", after.bytes_in_use == before.bytes_in_use);

  CHECK("bool_refused", hebb_read_idx(path, HEBB_BOOL) == NULL &&
        hebb_last_status() == HEBB_ERR_DTYPE);
  unlink(path);
  CHECK("missing", hebb_read_idx(path, HEBB_F64) == NULL &&
        hebb_last_status() == HEBB_ERR_IO &&
        strstr(hebb_last_error(), "No such file"));
  rmdir(dir);
  return check_done();
}
