/* test_alloc.c -- the caching allocator: alignment, reuse by size class,
   statistics, trim. */
#define SUITE "alloc"
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "core.h"

int main(void) {
  hebb_alloc_stats a, b;
  void *p, *q, *big;
  int aligned = 1, i;
  for (i = 1; i < 5000; i += 37) {
    void *x = hebb_alloc_bytes((size_t)i);
    aligned &= ((uintptr_t)x % 64) == 0;
    memset(x, 1, (size_t)i);
    hebb_free_bytes(x, (size_t)i);
  }
  CHECK("aligned_64", aligned);
  p = hebb_alloc_bytes(1000);
  hebb_free_bytes(p, 1000);
  q = hebb_alloc_bytes(1010);          /* same size class as 1000 */
  CHECK("same_class_reused", p == q);
  hebb_free_bytes(q, 1010);
  hebb_alloc_get_stats(&a);
  big = hebb_alloc_bytes((size_t)3 << 20);
  CHECK("huge_aligned_2MiB", ((uintptr_t)big % ((size_t)2 << 20)) == 0);
  hebb_alloc_get_stats(&b);
  CHECK("in_use_counts", b.bytes_in_use - a.bytes_in_use >= (3 << 20));
  CHECK("peak_tracks", b.bytes_peak >= b.bytes_in_use);
  hebb_free_bytes(big, (size_t)3 << 20);
  hebb_alloc_get_stats(&b);
  CHECK("in_use_back", b.bytes_in_use == a.bytes_in_use);
  CHECK("cached_grows", b.bytes_cached > a.bytes_cached);
  hebb_alloc_trim();
  hebb_alloc_get_stats(&b);
  CHECK("trim_empties", b.bytes_cached == 0);
  p = hebb_alloc_bytes(0);
  CHECK("zero_bytes_non_null", p != NULL);
  hebb_free_bytes(p, 0);
  hebb_free_bytes(NULL, 10);
  CHECK("free_null_ok", 1);
  return check_done();
}
