/* misuse.c -- deliberate memory errors that make sanitize must catch even
   though hebb keeps freed memory for reuse (natives/core/alloc.c's cache,
   tensor.c's recycled headers).  Run only by tests/sanitize/run.sh, against
   the ASan build: `misuse CASE` should die with an ASan report, except for
   the control case "reuse", which must run clean. */
#include <stdio.h>
#include <string.h>

#include "core.h"

static volatile double sink;

/* a block freed into the cache, then read */
static int cached(void) {
  double *p = hebb_alloc_bytes(4096);
  hebb_free_bytes(p, 4096);
  sink = p[5];
  return 0;
}

/* one element past the size asked for, inside the size class's slack
   (100 bytes round up to 112) */
static int slack(void) {
  char *p = hebb_alloc_bytes(100);
  sink = p[100];
  hebb_free_bytes(p, 100);
  return 0;
}

/* a tensor's elements read after its last reference is gone */
static int tensor_data(void) {
  int64_t n = 1000;
  hebb_tensor *t = hebb_full(HEBB_F64, 1, &n, 1.0);
  double *d = t->data;
  hebb_release(t);
  sink = d[0];
  return 0;
}

/* a tensor header (recycled, not freed) read after release */
static int tensor_header(void) {
  int64_t n = 3;
  hebb_tensor *t = hebb_zeros(HEBB_F64, 1, &n);
  hebb_release(t);
  sink = (double)t->ndim;
  return 0;
}

/* control: a block taken again from the cache is fully usable */
static int reuse(void) {
  double *p = hebb_alloc_bytes(4096), *q;
  int i;
  hebb_free_bytes(p, 4096);
  q = hebb_alloc_bytes(4000);          /* the same size class */
  for (i = 0; i < 500; i++) q[i] = i;
  sink = q[499];
  hebb_free_bytes(q, 4000);
  if (p != q) {
    printf("the cache did not hand the block out again\n");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  static const struct { const char *name; int (*run)(void); } cases[] = {
    {"cached", cached}, {"slack", slack}, {"tensor_data", tensor_data},
    {"tensor_header", tensor_header}, {"reuse", reuse}
  };
  size_t i;
  for (i = 0; argc > 1 && i < sizeof cases / sizeof cases[0]; i++)
    if (strcmp(argv[1], cases[i].name) == 0) return cases[i].run();
  fprintf(stderr, "usage: misuse cached|slack|tensor_data|tensor_header|reuse\n");
  return 2;
}
