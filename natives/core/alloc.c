/*
** alloc.c -- caching allocator for tensor element storage.
** A fresh 4 KiB page costs 10-15 us to fault in on these machines, so a
** tensor library that returns big buffers to the OS after every operation
** spends its time in page faults.  Freed blocks are kept in size classes
** and handed out again; blocks are 64-byte aligned (unaligned AVX-512 loads
** doubled a sum's time) and large blocks are advised for huge pages.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core.h"

#define ALIGN 64
#define HUGE_ALIGN ((size_t)2 << 20)      /* one transparent huge page */
#define NCLASSES 256
#define DEFAULT_CACHE_CAP ((int64_t)1 << 30)

typedef struct block { struct block *next; } block;

static block *freelist[NCLASSES];
static int64_t cached_bytes, used_bytes, peak_bytes, n_alloc, n_reused;
static int64_t cache_cap = -1;
static atomic_flag lock = ATOMIC_FLAG_INIT;

/* A spin lock: uncontended it costs a few ns, and tensors are normally
   allocated and freed by one interpreter thread. */
static void lock_acquire(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {}
}

static void lock_release(void) {
  atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* Size classes: 4 per power of two (at most 25% waste), from 64 bytes. */
static int size_class(size_t n, size_t *rounded) {
  int k;
  size_t base, quarter, m;
  if (n <= ALIGN) { *rounded = ALIGN; return 0; }
  k = 63 - __builtin_clzll((unsigned long long)(n - 1));   /* 2^k < n */
  base = (size_t)1 << k;
  quarter = base >> 2;
  m = (n - base + quarter - 1) / quarter;                   /* 1..4 */
  *rounded = base + m * quarter;
  return (k - 6) * 4 + (int)m;
}

static int64_t cap(void) {
  if (cache_cap < 0) {
    const char *s = getenv("HEBB_CACHE_MB");
    long long mb = s ? atoll(s) : -1;
    cache_cap = mb >= 0 ? (int64_t)mb << 20 : DEFAULT_CACHE_CAP;
  }
  return cache_cap;
}

#ifdef __SANITIZE_ADDRESS__
/* A cached block is poisoned and chains to the next through its first
   word; LeakSanitizer skips poisoned words unless told otherwise, and would
   report every cached block after the first as leaked.  (Programs that load
   libhebb.so, where this symbol is hidden, set LSAN_OPTIONS instead.) */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "use_poisoned=1"; }
#endif

static void *os_alloc(size_t n) {
  void *p = NULL;
  size_t align = n >= HUGE_ALIGN ? HUGE_ALIGN : ALIGN;
  if (posix_memalign(&p, align, n) != 0) return NULL;
  if (align == HUGE_ALIGN) madvise(p, n, MADV_HUGEPAGE);
  return p;
}

void *hebb_alloc_bytes(size_t nbytes) {
  size_t rounded;
  int c = size_class(nbytes, &rounded);
  void *p = NULL;
  lock_acquire();
  n_alloc++;
  if (c < NCLASSES && freelist[c]) {
    block *b = freelist[c];
    HEBB_UNPOISON(b, sizeof *b);
    freelist[c] = b->next;
    cached_bytes -= (int64_t)rounded;
    n_reused++;
    p = b;
  }
  lock_release();
  if (!p) p = os_alloc(rounded);
  if (!p) return NULL;
  /* under ASan, addressable only up to the size asked for, so that an
     overrun into the size class's slack is caught too */
  HEBB_POISON(p, rounded);
  HEBB_UNPOISON(p, nbytes);
  lock_acquire();
  used_bytes += (int64_t)rounded;
  if (used_bytes > peak_bytes) peak_bytes = used_bytes;
  lock_release();
  return p;
}

void hebb_free_bytes(void *p, size_t nbytes) {
  size_t rounded;
  int c;
  if (!p) return;
  c = size_class(nbytes, &rounded);
  lock_acquire();
  used_bytes -= (int64_t)rounded;
  if (c < NCLASSES && cached_bytes + (int64_t)rounded <= cap()) {
    block *b = p;
    HEBB_UNPOISON(b, sizeof *b);
    b->next = freelist[c];
    freelist[c] = b;
    HEBB_POISON(b, rounded);   /* a use after free is caught under ASan */
    cached_bytes += (int64_t)rounded;
    p = NULL;
  }
  lock_release();
  free(p);
}

void hebb_alloc_trim(void) {
  int c;
  block *all = NULL;
  lock_acquire();
  for (c = 0; c < NCLASSES; c++) {
    while (freelist[c]) {
      block *b = freelist[c];
      HEBB_UNPOISON(b, sizeof *b);
      freelist[c] = b->next;
      b->next = all;
      all = b;
    }
  }
  cached_bytes = 0;
  lock_release();
  while (all) {
    block *b = all;
    HEBB_UNPOISON(b, sizeof *b);
    all = b->next;
    free(b);
  }
}

/* A host that unloads libhebb.so (dlclose; LuaJIT frees an ffi.load'ed
   library when its state closes) would otherwise lose the cached blocks
   for good: the list heads go away with the library's data. */
__attribute__((destructor)) static void trim_at_unload(void) {
  hebb_alloc_trim();
}

void hebb_alloc_get_stats(hebb_alloc_stats *st) {
  lock_acquire();
  st->bytes_in_use = used_bytes;
  st->bytes_cached = cached_bytes;
  st->bytes_peak = peak_bytes;
  st->n_alloc = n_alloc;
  st->n_reused = n_reused;
  lock_release();
}

size_t hebb_sizeof_alloc_stats(void) { return sizeof(hebb_alloc_stats); }
