/*
** bench.h -- what the C references of `make bench` (bench/cref.c,
** bench/mlp_step.c) share: the clock, the big allocation, the compiler flags
** and the OpenBLAS thread count set for a timed block and put back.
** Define BENCH_MODULE (the module's name, for error messages) first; with
** BENCH_CLOCK_ONLY the OpenBLAS/OpenMP part is left out.
*/
#ifndef BENCH_H
#define BENCH_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lua.h"
#include "lauxlib.h"

#ifndef BENCH_FLAGS
#define BENCH_FLAGS "?"
#endif

#define MAXT 64

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* mod.now(): wall clock (CLOCK_MONOTONIC), seconds; os.clock() is CPU time
   and would count every worker thread */
static inline int l_now(lua_State *L) {
  lua_pushnumber(L, now());
  return 1;
}

/* 2 MiB aligned, advised for huge pages (as hebb's allocator does for large
   blocks), every page faulted in */
static inline void *big_alloc(lua_State *L, size_t nbytes) {
  void *p = NULL;
  if (posix_memalign(&p, (size_t)2 << 20, nbytes) != 0)
    luaL_error(L, BENCH_MODULE ": out of memory (%d MiB)", (int)(nbytes >> 20));
  madvise(p, nbytes, MADV_HUGEPAGE);
  memset(p, 0, nbytes);
  return p;
}

#ifndef BENCH_CLOCK_ONLY
#include <cblas.h>
#include <omp.h>

/* OpenBLAS at t threads for a timed block, the previous counts put back
   after it: in the OpenMP build setting OpenBLAS's count also sets the
   caller's OpenMP default */
typedef struct { int blas, icv; } Threads;

static inline Threads threads_set(int t) {
  Threads prev = { openblas_get_num_threads(), omp_get_max_threads() };
  openblas_set_num_threads(t);
  return prev;
}

static inline void threads_restore(Threads prev) {
  openblas_set_num_threads(prev.blas);
  omp_set_num_threads(prev.icv);
}
#endif

#endif
