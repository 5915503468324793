/* test_io.c -- the plumbing of hebb.io's formats (natives/core/io_file.c,
   io_ckpt.c) without Lua: the checksums' known answers and hardware =
   software, the checkpoint writer and reader through the C API, a failed
   save that leaves the old file, and nothing left allocated. */
#define SUITE "io"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "io.h"

/* the bit-at-a-time definition, reflected, init and final value ~0 */
static uint32_t crc_ref(uint32_t poly, const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  size_t i;
  int k;
  for (i = 0; i < n; i++)
    for (c ^= p[i], k = 0; k < 8; k++) c = (c & 1) ? poly ^ (c >> 1) : c >> 1;
  return ~c;
}

static void checksums(void) {
  unsigned char buf[4099];
  int i, ok = 1;
  CHECK("crc32_known_answer", hebb_crc32(0, "123456789", 9) == 0xCBF43926u);
  CHECK("crc32c_known_answer", hebb_crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK("crc32c_soft_known_answer",
        hebb_crc32c_soft(0, "123456789", 9) == 0xE3069283u);
  srand(7);
  for (i = 0; i < (int)sizeof buf; i++) buf[i] = (unsigned char)rand();
  for (i = 0; i < 200 && ok; i++) {   /* every alignment and length */
    int off = rand() % 64, n = rand() % (int)(sizeof buf - 64);
    int cut = n ? rand() % n : 0;
    uint32_t whole = hebb_crc32c(0, buf + off, n);
    uint32_t parts = hebb_crc32c(hebb_crc32c(0, buf + off, cut), buf + off + cut,
                                 n - cut);
    ok = whole == crc_ref(0x82F63B78u, buf + off, (size_t)n) && whole == parts &&
         hebb_crc32c_soft(0, buf + off, n) == whole &&
         hebb_crc32(0, buf + off, n) == crc_ref(0xEDB88320u, buf + off, (size_t)n);
  }
  CHECK("crc_fast_equals_definition", ok);
}

/* {x = tensor, [1] = 2.5} through the C API */
static hebb_ckpt *write_value(hebb_tensor *t) {
  hebb_ckpt *w = hebb_ckpt_writer();
  if (!w || hebb_ckpt_put(w, HEBB_CK_TABLE, 2, 0) ||
      hebb_ckpt_put(w, HEBB_CK_INT, 1, 0) || hebb_ckpt_put(w, HEBB_CK_FLOAT, 0, 2.5) ||
      hebb_ckpt_put_string(w, "x", 1) || hebb_ckpt_put_tensor(w, t)) {
    hebb_ckpt_free(w);
    return NULL;
  }
  return w;
}

static void checkpoint(const char *dir) {
  int64_t shape[2] = {3, 4}, n = 0;
  hebb_tensor *t = hebb_arange(HEBB_F64, 0, 1, 12), *v, *back = NULL;
  hebb_ckpt *w, *r;
  char path[256], *buf;
  int kind = 0, items = 0;
  double f = 0;
  const char *s;
  hebb_alloc_stats before, after;
  v = hebb_view(t, 2, shape);
  w = write_value(v);
  CHECK("writer", w != NULL);
  n = hebb_ckpt_encoded_size(w);
  buf = malloc((size_t)n);
  CHECK("encode", n > 0 && hebb_ckpt_encode(w, buf, n) == HEBB_OK);
  r = hebb_ckpt_decode(buf, n, -1);
  while (r && hebb_ckpt_next(r, &kind, &n, &f, &s) == HEBB_OK && kind != HEBB_CK_END) {
    items++;
    if (kind == HEBB_CK_TENSOR) back = hebb_ckpt_tensor(r);
  }
  CHECK("decode_items", r && kind == HEBB_CK_END && items == 5);
  CHECK("decode_tensor", back && back->ndim == 2 && back->shape[1] == 4 &&
        ((double *)hebb_data_ptr(back))[11] == 11.0);
  hebb_release(back);
  hebb_ckpt_free(r);
  snprintf(path, sizeof path, "%s/c.hio", dir);
  CHECK("save", hebb_ckpt_save(w, path) == HEBB_OK);
  hebb_ckpt_free(w);
  w = hebb_ckpt_writer();
  hebb_ckpt_put(w, HEBB_CK_TABLE, 1, 0);
  CHECK("incomplete_value_refused", hebb_ckpt_save(w, path) != HEBB_OK &&
        strstr(hebb_last_error(), "incomplete"));
  hebb_ckpt_free(w);
  hebb_alloc_get_stats(&before);
  r = hebb_ckpt_decode(buf, 30, -1);
  CHECK("truncated_refused", r == NULL &&
        strstr(hebb_last_error(), "io.decode: the string is truncated"));
  hebb_alloc_get_stats(&after);
  CHECK("refusal_allocates_nothing", after.bytes_in_use == before.bytes_in_use);
  r = hebb_ckpt_load(path, -1);
  CHECK("old_file_survives", r != NULL);
  hebb_ckpt_free(r);
  free(buf);
  hebb_release(v);
  hebb_release(t);
}

int main(void) {
  char dir[] = "/tmp/hebb_io_XXXXXX", cmd[64];
  if (!mkdtemp(dir)) return 2;
  checksums();
  checkpoint(dir);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 2;
  return check_done();
}
