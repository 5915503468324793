/* test_alloc.c -- the caching allocator: alignment, reuse by size class,
   statistics, trim; the Lua state's allocator of small blocks. */
#define SUITE "alloc"
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "core.h"

int main(void) {
  hebb_alloc_stats a, b;
  void *p, *q, *big;
  hebb_lua_cache *lc;
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
  /* Lua's allocator: a freed block comes back for its exact size only */
  lc = hebb_lua_cache_new();
  CHECK("lua_cache_made", lc != NULL);
  p = hebb_lua_alloc(lc, NULL, 0, 88);
  memset(p, 7, 88);
  hebb_lua_alloc(lc, p, 88, 0);
  q = hebb_lua_alloc(lc, NULL, 0, 96);
  CHECK("lua_other_size_not_reused", q != p);
  big = hebb_lua_alloc(lc, NULL, 0, 88);
  CHECK("lua_same_size_reused", big == p);
  big = hebb_lua_alloc(lc, big, 88, 200);   /* realloc keeps the bytes */
  CHECK("lua_realloc_keeps", ((unsigned char *)big)[87] == 7);
  hebb_lua_alloc(lc, big, 200, 0);
  hebb_lua_alloc(lc, q, 96, 0);
  p = hebb_lua_alloc(lc, NULL, 0, 300);     /* above 256: not kept */
  hebb_lua_alloc(lc, p, 300, 0);
  p = hebb_lua_alloc(lc, NULL, 0, 12);      /* not a multiple of 8 */
  hebb_lua_alloc(lc, p, 12, 0);
  {   /* at most 1 MiB kept: the rest is freed (valgrind sees no leak) */
    enum { N = 20000 };
    static void *blk[N];
    for (i = 0; i < N; i++) blk[i] = hebb_lua_alloc(lc, NULL, 0, 64);
    for (i = 0; i < N; i++) hebb_lua_alloc(lc, blk[i], 64, 0);
    for (i = 0; i < N; i++) blk[i] = hebb_lua_alloc(lc, NULL, 0, 64);
    for (i = 1; i < N && blk[i] != blk[0]; i++)
      ;
    CHECK("lua_blocks_distinct", i == N);
    for (i = 0; i < N; i++) hebb_lua_alloc(lc, blk[i], 64, 0);
  }
  hebb_lua_cache_free(lc);
  return check_done();
}
