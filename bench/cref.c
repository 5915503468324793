/*
** cref.c -- the hand-written C references of `make bench`, as a Lua module
** that bench/hebb.lua loads into the hebb process itself.
**
** Why a module and not a separate program: the machine has 2 cores and is
** shared, and a burst of other work during one program's run but not the
** other's skewed ratios by 2x.  Inside one process the reference and hebb
** run rep by rep in turn, so both see the same conditions.  They also share
** the one OpenMP pool, and the one libopenblas.so.0 (this module links it;
** hebb opens the same file on first use, and gets the same instance).
**
** The loops are what a careful C programmer writes: 2 MiB aligned buffers
** advised for huge pages (as hebb's allocator does for large blocks), warm
** memory, a sum with 16 independent accumulators so the adds pipeline and
** vectorize without -ffast-math, and with T threads an OpenMP split into T
** contiguous chunks.  bench/run.sh builds this file twice, with -O3 -march=
** native (build/bench/cref-native.so) and with -O3 (cref-O3.so); both export
** luaopen_cref, and `require "cref-native"` finds it because Lua drops the
** name's suffix from the hyphen on when it looks for the opener.
**
** cref.now()            wall clock (CLOCK_MONOTONIC), seconds; os.clock()
**                       is CPU time and would count both worker threads
** cref.setup(n, m)      allocates and fills the buffers: n elements for the
**                       elementwise loop and the sums, m x m for sgemm
** cref.fma(t)           o[i] = a[i]*b[i] + c[i] on f32, t threads
** cref.sum_f64(t)       sum of n f64, t threads
** cref.sum_f32(t)       sum of n f32 (f64 accumulators), t threads
** cref.sgemm(t)         one cblas_sgemm, m x m row-major, OpenBLAS at t
**                       threads (also returns the count OpenBLAS took)
**                       -- each returns the seconds one pass took
** cref.blas_core()      openblas_get_corename()
** cref.flags            the compiler flags it was built with (BENCH_FLAGS)
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cblas.h>
#include <omp.h>

#include "lua.h"
#include "lauxlib.h"

#ifndef BENCH_FLAGS
#define BENCH_FLAGS "?"
#endif

#define NACC 16
#define MAXT 64

static int64_t n, m;
static float *fa, *fb, *fc, *fo, *x32, *ma, *mb, *mc;
static double *x64;
static volatile double sink;   /* the sums land here so they are not dropped */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 2 MiB aligned, advised for huge pages, every page faulted in */
static void *big_alloc(lua_State *L, size_t nbytes) {
  void *p = NULL;
  if (posix_memalign(&p, (size_t)2 << 20, nbytes) != 0)
    luaL_error(L, "cref: out of memory (%d MiB)", (int)(nbytes >> 20));
  madvise(p, nbytes, MADV_HUGEPAGE);
  memset(p, 0, nbytes);
  return p;
}

/* values in [0, 1) from a 64-bit LCG: no denormals, no special values */
static void fill(float *x, int64_t k, uint64_t seed) {
  for (int64_t i = 0; i < k; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (float)(seed >> 40) * (1.0f / 16777216.0f);
  }
}

/* --- the kernels --------------------------------------------------------- */

static void fma_range(float *restrict o, const float *restrict a,
                      const float *restrict b, const float *restrict c,
                      int64_t k) {
  for (int64_t i = 0; i < k; i++) o[i] = a[i] * b[i] + c[i];
}

static double sum_f64_range(const double *restrict x, int64_t k) {
  double acc[NACC] = {0}, s = 0;
  int64_t i = 0;
  for (; i + NACC <= k; i += NACC)
    for (int j = 0; j < NACC; j++) acc[j] += x[i + j];
  for (; i < k; i++) s += x[i];
  for (int j = 0; j < NACC; j++) s += acc[j];
  return s;
}

/* f32 input, f64 accumulators, as hebb does: as fast while the loop is
   bound by memory, and accurate */
static double sum_f32_range(const float *restrict x, int64_t k) {
  double acc[NACC] = {0}, s = 0;
  int64_t i = 0;
  for (; i + NACC <= k; i += NACC)
    for (int j = 0; j < NACC; j++) acc[j] += (double)x[i + j];
  for (; i < k; i++) s += (double)x[i];
  for (int j = 0; j < NACC; j++) s += acc[j];
  return s;
}

/* --- the bindings ------------------------------------------------------- */

static int checkthreads(lua_State *L) {
  lua_Integer t = luaL_checkinteger(L, 1);
  luaL_argcheck(L, t >= 1 && t <= MAXT, 1, "threads must be 1..64");
  if (!fa) luaL_error(L, "cref: call cref.setup(n, m) first");
  return (int)t;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, now());
  return 1;
}

static int l_setup(lua_State *L) {
  lua_Integer k = luaL_checkinteger(L, 1), mm = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 1, 1, "size must be positive");
  luaL_argcheck(L, mm >= 1 && mm <= 65536, 2, "matrix size must be 1..65536");
  if (fa) return luaL_error(L, "cref: setup called twice");
  n = k;
  m = mm;
  fa = big_alloc(L, (size_t)n * sizeof *fa);
  fb = big_alloc(L, (size_t)n * sizeof *fb);
  fc = big_alloc(L, (size_t)n * sizeof *fc);
  fo = big_alloc(L, (size_t)n * sizeof *fo);
  x32 = big_alloc(L, (size_t)n * sizeof *x32);
  x64 = big_alloc(L, (size_t)n * sizeof *x64);
  ma = big_alloc(L, (size_t)(m * m) * sizeof *ma);
  mb = big_alloc(L, (size_t)(m * m) * sizeof *mb);
  mc = big_alloc(L, (size_t)(m * m) * sizeof *mc);
  fill(fa, n, 1); fill(fb, n, 2); fill(fc, n, 3); fill(x32, n, 4);
  for (int64_t i = 0; i < n; i++) x64[i] = (double)fa[i];
  fill(ma, m * m, 5); fill(mb, m * m, 6);
  return 0;
}

static int l_fma(lua_State *L) {
  int t = checkthreads(L);
  double t0 = now();
  if (t == 1) fma_range(fo, fa, fb, fc, n);
  else {
    #pragma omp parallel num_threads(t)
    {
      int id = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t lo = n * id / k, hi = n * (id + 1) / k;
      fma_range(fo + lo, fa + lo, fb + lo, fc + lo, hi - lo);
    }
  }
  lua_pushnumber(L, now() - t0);
  return 1;
}

static int l_sum_f64(lua_State *L) {
  int t = checkthreads(L);
  double part[MAXT] = {0}, s = 0, t0 = now();
  if (t == 1) s = sum_f64_range(x64, n);
  else {
    #pragma omp parallel num_threads(t)
    {
      int id = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t lo = n * id / k, hi = n * (id + 1) / k;
      part[id] = sum_f64_range(x64 + lo, hi - lo);
    }
    for (int i = 0; i < t; i++) s += part[i];
  }
  sink = s;
  lua_pushnumber(L, now() - t0);
  return 1;
}

static int l_sum_f32(lua_State *L) {
  int t = checkthreads(L);
  double part[MAXT] = {0}, s = 0, t0 = now();
  if (t == 1) s = sum_f32_range(x32, n);
  else {
    #pragma omp parallel num_threads(t)
    {
      int id = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t lo = n * id / k, hi = n * (id + 1) / k;
      part[id] = sum_f32_range(x32 + lo, hi - lo);
    }
    for (int i = 0; i < t; i++) s += part[i];
  }
  sink = s;
  lua_pushnumber(L, now() - t0);
  return 1;
}

/* hebb opens the same libopenblas.so.0 (one instance per process) and runs
   it single-threaded, tiling products over its own threads; the reference
   is OpenBLAS's own threading at t threads.  In the OpenMP build setting
   OpenBLAS's count also sets the caller's OpenMP default, so both are put
   back afterwards. */
static int l_sgemm(lua_State *L) {
  int t = checkthreads(L), prev = openblas_get_num_threads();
  int icv = omp_get_max_threads(), used;
  double t0, dt;
  openblas_set_num_threads(t);
  used = openblas_get_num_threads();
  t0 = now();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)m,
              (int)m, 1.0f, ma, (int)m, mb, (int)m, 0.0f, mc, (int)m);
  dt = now() - t0;
  openblas_set_num_threads(prev);
  omp_set_num_threads(icv);
  lua_pushnumber(L, dt);
  lua_pushinteger(L, used);
  return 2;
}

static int l_blas_core(lua_State *L) {
  lua_pushstring(L, openblas_get_corename());
  return 1;
}

int luaopen_cref(lua_State *L);

int luaopen_cref(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"now", l_now},
    {"setup", l_setup},
    {"fma", l_fma},
    {"sum_f64", l_sum_f64},
    {"sum_f32", l_sum_f32},
    {"sgemm", l_sgemm},
    {"blas_core", l_blas_core},
    {NULL, NULL}
  };
  luaL_newlib(L, funcs);
  lua_pushliteral(L, BENCH_FLAGS);
  lua_setfield(L, -2, "flags");
  return 1;
}
