/*
** alloc.c -- caching allocator for tensor element storage.
** A fresh 4 KiB page costs 10-15 us to fault in on these machines, so a
** tensor library that returns big buffers to the OS after every operation
** spends its time in page faults.  Freed blocks are kept in size classes
** and handed out again; blocks are 64-byte aligned (unaligned AVX-512 loads
** doubled a sum's time) and large blocks are advised for huge pages.
**
** An optional cap on the bytes in use (--max-memory) turns a runaway
** allocation into an error the REPL survives, instead of the machine
** swapping or the kernel's OOM killer ending the session.  Dropped tensors
** are freed only when the Lua collector gets to them, so a request past
** the cap first asks the host to collect (the reclaim hook) and looks
** again; and the cache is emptied rather than push the total past the cap.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static int64_t limit;              /* bytes in use at most; 0: no cap */
static atomic_flag lock = ATOMIC_FLAG_INIT;

/* The reclaim hook runs only on the thread that set it (the Lua
   interpreter's: never an OpenMP worker), and not from inside itself. */
static hebb_reclaim_fn reclaim;
static void *reclaim_ud;
static pthread_t reclaim_thread;
static _Thread_local int reclaiming;

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

/* "8.0 GiB", "512 B": sizes in messages */
static const char *size_str(int64_t n, char *buf, size_t size) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 5) { v /= 1024; u++; }
  if (u == 0) snprintf(buf, size, "%lld B", (long long)n);
  else snprintf(buf, size, "%.1f %s", v, units[u]);
  return buf;
}

static int fail_nomem(size_t nbytes, int64_t in_use, int64_t cap_bytes) {
  char need[32], use[32], lim[32];
  size_str((int64_t)nbytes, need, sizeof need);
  size_str(in_use, use, sizeof use);
  if (cap_bytes > 0)
    return hebb_fail(HEBB_ERR_NOMEM, "out of memory: %s requested, limit %s "
                     "(%s in use)", need, size_str(cap_bytes, lim, sizeof lim),
                     use);
  return hebb_fail(HEBB_ERR_NOMEM, "out of memory: %s requested (%s in use)",
                   need, use);
}

/* counts 'rounded' bytes in use if the cap allows them */
static int try_reserve(int64_t rounded) {
  int ok;
  lock_acquire();
  ok = limit <= 0 || used_bytes + rounded <= limit;
  if (ok) {
    used_bytes += rounded;
    if (used_bytes > peak_bytes) peak_bytes = used_bytes;
  }
  lock_release();
  return ok;
}

/* try_reserve, after one reclaim if the first try fails; else the error */
static int reserve(size_t nbytes, int64_t rounded) {
  if (try_reserve(rounded)) return 1;
  if (reclaim && !reclaiming && pthread_equal(pthread_self(), reclaim_thread)) {
    reclaiming = 1;
    reclaim(reclaim_ud);
    reclaiming = 0;
    if (try_reserve(rounded)) return 1;
  }
  fail_nomem(nbytes, used_bytes, limit);
  return 0;
}

static void unreserve(int64_t rounded) {
  lock_acquire();
  used_bytes -= rounded;
  lock_release();
}

void *hebb_alloc_bytes(size_t nbytes) {
  size_t rounded;
  int c = size_class(nbytes, &rounded);
  void *p = NULL;
  if (!reserve(nbytes, (int64_t)rounded)) return NULL;
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
  /* under a cap, cached blocks count too: give them back rather than
     take more from the OS than the cap */
  if (!p && limit > 0 && used_bytes + cached_bytes > limit) hebb_alloc_trim();
  if (!p && !(p = os_alloc(rounded))) {
    unreserve((int64_t)rounded);
    fail_nomem(nbytes, used_bytes, 0);
    return NULL;
  }
  /* under ASan, addressable only up to the size asked for, so that an
     overrun into the size class's slack is caught too */
  HEBB_POISON(p, rounded);
  HEBB_UNPOISON(p, nbytes);
  return p;
}

void hebb_free_bytes(void *p, size_t nbytes) {
  size_t rounded;
  int c;
  if (!p) return;
  c = size_class(nbytes, &rounded);
  lock_acquire();
  used_bytes -= (int64_t)rounded;
  if (c < NCLASSES && cached_bytes + (int64_t)rounded <= cap() &&
      (limit <= 0 || used_bytes + cached_bytes + (int64_t)rounded <= limit)) {
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

int64_t hebb_alloc_set_limit(int64_t bytes) {
  int64_t old;
  lock_acquire();
  old = limit;
  limit = bytes > 0 ? bytes : 0;
  lock_release();
  return old;
}

int64_t hebb_alloc_get_limit(void) { return limit; }

void hebb_alloc_set_reclaim(hebb_reclaim_fn fn, void *ud) {
  reclaim = fn;
  reclaim_ud = ud;
  reclaim_thread = pthread_self();
}

/* digits with an optional fraction, an optional K, M, G or T (powers of
   1024) and an optional B (or iB after a unit): "2G", "1.5GiB", "4096" */
int64_t hebb_parse_size(const char *s) {
  static const char units[] = "KMGT";
  double v = 0, frac = 1, mult = 1;
  int digits = 0;
  const char *u;
  if (!s) return -1;
  for (; *s >= '0' && *s <= '9'; s++, digits++) v = v * 10 + (*s - '0');
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, digits++)
      v += (*s - '0') * (frac /= 10);
  if (digits == 0) return -1;
  if (*s != '\0' && (u = strchr(units, *s & ~0x20)) != NULL) {  /* upper */
    mult = (double)((int64_t)1 << (10 * (u - units + 1)));
    s++;
    if (*s == 'i' && (s[1] == 'B' || s[1] == 'b')) s++;
  }
  if (*s == 'B' || *s == 'b') s++;
  if (*s != '\0' || v * mult >= 9.2e18) return -1;
  return (int64_t)(v * mult);
}

/* --- Lua's allocator --------------------------------------------------- */

/* Freed blocks of Lua objects by exact size (8 .. LUA_MAX_BYTES, multiples
   of 8), each list threaded through the blocks' first word.  A block is
   reused only for a request of the very size it was asked with, so blocks
   that Lua's default allocator made before this one took over fit too.
   The cap keeps at most one collector cycle's worth of boxes.  One cache a
   state (the allocator's ud), so states in other threads need no lock. */
#define LUA_MAX_BYTES 256
#define LUA_CACHE_BYTES (1 << 20)

struct hebb_lua_cache {
  void *head[LUA_MAX_BYTES / 8 + 1];
  size_t bytes;
};

hebb_lua_cache *hebb_lua_cache_new(void) {
  return calloc(1, sizeof(hebb_lua_cache));
}

void *hebb_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  hebb_lua_cache *c = ud;
  size_t k;
  if (nsize == 0) {   /* osize is the block's size only when ptr is set */
    if (ptr && osize <= LUA_MAX_BYTES && osize % 8 == 0 && osize > 0 &&
        c->bytes + osize <= LUA_CACHE_BYTES) {
      k = osize / 8;
      *(void **)ptr = c->head[k];
      HEBB_POISON((char *)ptr + 8, osize - 8);
      c->head[k] = ptr;
      c->bytes += osize;
      return NULL;
    }
    free(ptr);
    return NULL;
  }
  if (!ptr && nsize <= LUA_MAX_BYTES && nsize % 8 == 0 && c->head[nsize / 8]) {
    void *p = c->head[nsize / 8];
    HEBB_UNPOISON((char *)p + 8, nsize - 8);
    c->head[nsize / 8] = *(void **)p;
    c->bytes -= nsize;
    return p;
  }
  return realloc(ptr, nsize);
}

void hebb_lua_cache_free(hebb_lua_cache *c) {
  size_t k;
  if (!c) return;
  for (k = 0; k <= LUA_MAX_BYTES / 8; k++)
    while (c->head[k]) {
      void *p = c->head[k];
      c->head[k] = *(void **)p;
      free(p);
    }
  free(c);
}
