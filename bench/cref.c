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
** cref.spmv_setup(rows, cols, vals, x, nrows)
**                       builds a CSR matrix (int64 row pointers and
**                       column indices, f64 values) from 1-based triplets
**                       in Lua tables, row by row in the order given, and
**                       the vector x (a Lua table)
** cref.spmv(t)          y = S x, the plain CSR row loop, t threads
**                       -- each returns the seconds one pass took
** cref.spmv_y(i)        y[i] (1-based) of the last spmv, for checking
** cref.lapack_setup(k, a)
**                       the k x k matrix A (a: its k*k entries in a Lua
**                       table, as hebb's), the symmetric S = A + A^T, and
**                       the workspaces LAPACK asks for
** cref.dgesdd()         the SVD of A (dgesdd, jobz 'S': U, s, Vt)
** cref.dsyevd()         the eigen-decomposition of S (dsyevd, 'V', 'U')
**                       -- each copies its input first (LAPACK overwrites
**                       it), runs OpenBLAS at one thread as hebb does, and
**                       returns the seconds one pass took
** cref.blas_core()      openblas_get_corename()
** cref.flags            the compiler flags it was built with (BENCH_FLAGS)
*/
#include <stdint.h>

#define BENCH_MODULE "cref"
#include "bench.h"

#define NACC 16

static int64_t n, m;
static float *fa, *fb, *fc, *fo, *x32, *ma, *mb, *mc;
static double *x64;
static volatile double sink;   /* the sums land here so they are not dropped */
static int64_t sp_n, *sp_ptr, *sp_col;   /* the CSR matrix of spmv */
static double *sp_val, *sp_x, *sp_y;
static int la_n, la_lwork_svd, la_lwork_eig, la_liwork_eig;
static double *la_a, *la_s, *la_in, *la_u, *la_vt, *la_w, *la_work;
static int *la_iwork;

/* LAPACK's Fortran entry points in the same OpenBLAS (no LAPACKE header
   here); the trailing size_t are the lengths of the character arguments */
void dgesdd_(const char *jobz, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu,
             double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t ljobz);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
             const int *lda, double *w, double *work, const int *lwork,
             int *iwork, const int *liwork, int *info, size_t ljobz,
             size_t luplo);

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

/* the loop a C programmer writes for y = S x: one ordered sum per row */
static void spmv_range(double *restrict y, const int64_t *restrict ptr,
                       const int64_t *restrict col,
                       const double *restrict val, const double *restrict x,
                       int64_t lo, int64_t hi) {
  for (int64_t i = lo; i < hi; i++) {
    double s = 0;
    for (int64_t k = ptr[i]; k < ptr[i + 1]; k++) s += val[k] * x[col[k]];
    y[i] = s;
  }
}

/* --- the bindings ------------------------------------------------------- */

static int checkthreads(lua_State *L) {
  lua_Integer t = luaL_checkinteger(L, 1);
  luaL_argcheck(L, t >= 1 && t <= MAXT, 1, "threads must be 1..64");
  if (!fa) luaL_error(L, "cref: call cref.setup(n, m) first");
  return (int)t;
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

/* the loop a C programmer writes with OpenMP: range(lo, hi) over [0, len)
   in t even parts (on the calling thread when t is 1); returns the time it
   took, and keeps the sum of what the parts return in sink */
typedef double (*Range)(int64_t lo, int64_t hi);

static int timed_split(lua_State *L, int t, int64_t len, Range range) {
  double part[MAXT] = {0}, s = 0, t0 = now();
  if (t == 1) s = range(0, len);
  else {
    #pragma omp parallel num_threads(t)
    {
      int id = omp_get_thread_num(), k = omp_get_num_threads();
      part[id] = range(len * id / k, len * (id + 1) / k);
    }
    for (int i = 0; i < t; i++) s += part[i];
  }
  sink = s;
  lua_pushnumber(L, now() - t0);
  return 1;
}

static double fma_part(int64_t lo, int64_t hi) {
  fma_range(fo + lo, fa + lo, fb + lo, fc + lo, hi - lo);
  return 0;
}

static double sum_f64_part(int64_t lo, int64_t hi) {
  return sum_f64_range(x64 + lo, hi - lo);
}

static double sum_f32_part(int64_t lo, int64_t hi) {
  return sum_f32_range(x32 + lo, hi - lo);
}

static int l_fma(lua_State *L) {
  return timed_split(L, checkthreads(L), n, fma_part);
}

static int l_sum_f64(lua_State *L) {
  return timed_split(L, checkthreads(L), n, sum_f64_part);
}

static int l_sum_f32(lua_State *L) {
  return timed_split(L, checkthreads(L), n, sum_f32_part);
}

/* hebb opens the same libopenblas.so.0 (one instance per process) and runs
   it single-threaded, tiling products over its own threads; the reference
   is OpenBLAS's own threading at t threads.  In the OpenMP build setting
   OpenBLAS's count also sets the caller's OpenMP default, so both are put
   back afterwards (threads_restore). */
static int l_sgemm(lua_State *L) {
  int t = checkthreads(L), used;
  Threads prev = threads_set(t);
  double t0, dt;
  used = openblas_get_num_threads();
  t0 = now();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)m,
              (int)m, 1.0f, ma, (int)m, mb, (int)m, 0.0f, mc, (int)m);
  dt = now() - t0;
  threads_restore(prev);
  lua_pushnumber(L, dt);
  lua_pushinteger(L, used);
  return 2;
}

static lua_Integer table_int(lua_State *L, int t, lua_Integer i) {
  lua_Integer v;
  lua_geti(L, t, i);
  v = luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

static double table_num(lua_State *L, int t, lua_Integer i) {
  double v;
  lua_geti(L, t, i);
  v = luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* the triplets are counted into rows first, so any order of rows works;
   within a row the order given is kept (it is the order of the sum) */
static int l_spmv_setup(lua_State *L) {
  lua_Integer nnz, nr = luaL_checkinteger(L, 5);
  int64_t *fill_at;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  nnz = (lua_Integer)luaL_len(L, 1);
  luaL_argcheck(L, nr >= 1 && (lua_Integer)luaL_len(L, 4) == nr, 4,
                "x must have nrows entries");
  if (sp_ptr) return luaL_error(L, "cref: spmv_setup called twice");
  sp_n = nr;
  sp_ptr = big_alloc(L, (size_t)(nr + 1) * sizeof *sp_ptr);
  sp_col = big_alloc(L, (size_t)nnz * sizeof *sp_col);
  sp_val = big_alloc(L, (size_t)nnz * sizeof *sp_val);
  sp_x = big_alloc(L, (size_t)nr * sizeof *sp_x);
  sp_y = big_alloc(L, (size_t)nr * sizeof *sp_y);
  fill_at = big_alloc(L, (size_t)nr * sizeof *fill_at);
  for (lua_Integer k = 1; k <= nnz; k++) {
    lua_Integer r = table_int(L, 1, k);
    if (r < 1 || r > nr) return luaL_error(L, "cref: row %d out of range", (int)r);
    sp_ptr[r]++;
  }
  for (int64_t i = 0; i < nr; i++) {
    sp_ptr[i + 1] += sp_ptr[i];
    fill_at[i] = sp_ptr[i];
  }
  for (lua_Integer k = 1; k <= nnz; k++) {
    int64_t r = table_int(L, 1, k) - 1, p = fill_at[r]++;
    lua_Integer c = table_int(L, 2, k);
    if (c < 1 || c > nr) return luaL_error(L, "cref: column %d out of range", (int)c);
    sp_col[p] = c - 1;
    sp_val[p] = table_num(L, 3, k);
  }
  for (int64_t i = 0; i < nr; i++) sp_x[i] = table_num(L, 4, i + 1);
  free(fill_at);
  return 0;
}

static double spmv_part(int64_t lo, int64_t hi) {
  spmv_range(sp_y, sp_ptr, sp_col, sp_val, sp_x, lo, hi);
  return 0;
}

static int l_spmv(lua_State *L) {
  lua_Integer t = luaL_checkinteger(L, 1);
  luaL_argcheck(L, t >= 1 && t <= MAXT, 1, "threads must be 1..64");
  if (!sp_ptr) return luaL_error(L, "cref: call cref.spmv_setup first");
  return timed_split(L, (int)t, sp_n, spmv_part);
}

static int l_spmv_y(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 1);
  luaL_argcheck(L, sp_y && i >= 1 && i <= sp_n, 1, "index out of range");
  lua_pushnumber(L, sp_y[i - 1]);
  return 1;
}

static int l_lapack_setup(lua_State *L) {
  lua_Integer k = luaL_checkinteger(L, 1);
  int n, info, lw = -1, liw = -1, qi[2];
  double qw[2];
  luaL_argcheck(L, k >= 1 && k <= 4096, 1, "matrix size must be 1..4096");
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_argcheck(L, (lua_Integer)luaL_len(L, 2) == k * k, 2, "A must have k*k entries");
  if (la_a) return luaL_error(L, "cref: lapack_setup called twice");
  la_n = n = (int)k;
  la_a = big_alloc(L, (size_t)n * n * sizeof *la_a);
  la_s = big_alloc(L, (size_t)n * n * sizeof *la_s);
  la_in = big_alloc(L, (size_t)n * n * sizeof *la_in);
  la_u = big_alloc(L, (size_t)n * n * sizeof *la_u);
  la_vt = big_alloc(L, (size_t)n * n * sizeof *la_vt);
  la_w = big_alloc(L, (size_t)n * sizeof *la_w);
  /* hebb's row-major A read as column-major is A^T: the same work */
  for (int64_t i = 0; i < (int64_t)n * n; i++) la_a[i] = table_num(L, 2, i + 1);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      la_s[(int64_t)i * n + j] = la_a[(int64_t)i * n + j] + la_a[(int64_t)j * n + i];
  dgesdd_("S", &n, &n, la_in, &n, la_w, la_u, &n, la_vt, &n, qw, &lw, qi,
          &info, 1);
  la_lwork_svd = (int)qw[0];
  dsyevd_("V", "U", &n, la_in, &n, la_w, qw + 1, &lw, qi + 1, &liw, &info,
          1, 1);
  la_lwork_eig = (int)qw[1];
  la_liwork_eig = qi[1];
  lw = la_lwork_svd > la_lwork_eig ? la_lwork_svd : la_lwork_eig;
  la_work = big_alloc(L, (size_t)lw * sizeof *la_work);
  la_iwork = big_alloc(L, (size_t)(8 * n > la_liwork_eig ? 8 * n : la_liwork_eig)
                          * sizeof *la_iwork);
  return 0;
}

/* one LAPACK pass at one OpenBLAS thread, the count put back after (see
   l_sgemm) */
static int lapack_pass(lua_State *L, int svd) {
  int info, n = la_n;
  Threads prev;
  double t0, dt;
  if (!la_a) return luaL_error(L, "cref: call cref.lapack_setup first");
  prev = threads_set(1);
  t0 = now();
  memcpy(la_in, svd ? la_a : la_s, (size_t)n * n * sizeof *la_in);
  if (svd)
    dgesdd_("S", &n, &n, la_in, &n, la_w, la_u, &n, la_vt, &n, la_work,
            &la_lwork_svd, la_iwork, &info, 1);
  else
    dsyevd_("V", "U", &n, la_in, &n, la_w, la_work, &la_lwork_eig, la_iwork,
            &la_liwork_eig, &info, 1, 1);
  dt = now() - t0;
  threads_restore(prev);
  if (info != 0) return luaL_error(L, "cref: LAPACK info %d", info);
  lua_pushnumber(L, dt);
  return 1;
}

static int l_dgesdd(lua_State *L) { return lapack_pass(L, 1); }
static int l_dsyevd(lua_State *L) { return lapack_pass(L, 0); }

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
    {"spmv_setup", l_spmv_setup},
    {"spmv", l_spmv},
    {"spmv_y", l_spmv_y},
    {"lapack_setup", l_lapack_setup},
    {"dgesdd", l_dgesdd},
    {"dsyevd", l_dsyevd},
    {"blas_core", l_blas_core},
    {NULL, NULL}
  };
  luaL_newlib(L, funcs);
  lua_pushliteral(L, BENCH_FLAGS);
  lua_setfield(L, -2, "flags");
  return 1;
}
