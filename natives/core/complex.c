/*
** complex.c -- what only complex numbers have: building them from real and
** imaginary parts, and taking them apart (real, imag, conj, abs, angle).
** Elements are C99 complex numbers (double _Complex for c128, float
** _Complex for c64), laid out as (re, im) pairs like numpy's and BLAS's.
*/
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "core.h"

typedef double _Complex c128;
typedef float _Complex c64;

/* --- kernels ----------------------------------------------------------- */

/* One operand in, one out; a contiguous branch the compiler vectorizes and
   a strided fallback. */
#define PART(NAME, TO, TI, EXPR)                                            \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    int64_t i;                                                              \
    (void)ud;                                                               \
    if (s[0] == sizeof(TO) && s[1] == sizeof(TI)) {                         \
      TO *restrict o = (TO *)p[0];                                          \
      const TI *restrict a = (const TI *)p[1];                              \
      for (i = 0; i < n; i++) { TI z = a[i]; o[i] = (EXPR); }               \
    }                                                                       \
    else {                                                                  \
      char *po = p[0];                                                      \
      const char *pa = p[1];                                                \
      for (i = 0; i < n; i++, po += s[0], pa += s[1]) {                     \
        TI z = *(const TI *)pa;                                             \
        *(TO *)po = (EXPR);                                                 \
      }                                                                     \
    }                                                                       \
  }

PART(real_c128, double, c128, creal(z))
PART(imag_c128, double, c128, cimag(z))
PART(conj_c128, c128, c128, conj(z))
PART(abs_c128, double, c128, cabs(z))
PART(angle_c128, double, c128, carg(z))
PART(real_c64, float, c64, crealf(z))
PART(imag_c64, float, c64, cimagf(z))
PART(conj_c64, c64, c64, conjf(z))
PART(abs_c64, float, c64, cabsf(z))
PART(angle_c64, float, c64, cargf(z))

/* [part][0: c128, 1: c64] */
static const hebb_inner_fn parts[HEBB_NCPARTS][2] = {
  {real_c128, real_c64}, {imag_c128, imag_c64}, {conj_c128, conj_c64},
  {abs_c128, abs_c64}, {angle_c128, angle_c64}
};

static const char *const part_names[HEBB_NCPARTS] = {
  "real", "imag", "conj", "abs", "angle"
};

/* cabs and carg cost like a library function, the rest like a copy */
static const int64_t part_costs[HEBB_NCPARTS] = {1, 1, 1, 16, 20};

/* CMPLX, not re + im*I: inf*I would make a NaN real part */
#define MAKE(NAME, TO, TI, CM)                                              \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {       \
    int64_t i;                                                              \
    char *po = p[0];                                                        \
    const char *pa = p[1], *pb = p[2];                                      \
    (void)ud;                                                               \
    for (i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2])             \
      *(TO *)po = CM(*(const TI *)pa, *(const TI *)pb);                     \
  }

MAKE(make_c128, c128, double, CMPLX)
MAKE(make_c64, c64, float, CMPLXF)

/* --- entry points ------------------------------------------------------ */

/* the complex dtype a real or complex dtype is seen in */
static int complex_of(int dtype) {
  if (hebb_is_complex(dtype)) return dtype;
  return dtype == HEBB_F32 ? HEBB_C64 : HEBB_C128;
}

int hebb_complex_part(int part, const hebb_tensor *a, hebb_tensor **out) {
  const char *who;
  int ct, rt, made = *out == NULL, st;
  hebb_cast ca;
  if (part < 0 || part >= HEBB_NCPARTS)
    return hebb_fail(HEBB_ERR_ARG, "cpart: invalid part %d", part);
  who = part_names[part];
  if (hebb_check_dtype_any(a->dtype, who)) return hebb_last_status();
  ct = complex_of(a->dtype);
  rt = part == HEBB_CONJ ? ct : ct == HEBB_C64 ? HEBB_F32 : HEBB_F64;
  if (hebb_cast_init(&ca, a, ct)) return hebb_last_status();
  st = hebb_prepare_out(out, rt, a->ndim, a->shape, who);
  if (st == HEBB_OK) {
    hebb_tensor *ops[2] = {*out, ca.t};
    st = hebb_ewise_run(2, ops, a->ndim, a->shape,
                        parts[part][ct == HEBB_C64], NULL, part_costs[part]);
  }
  hebb_cast_free(&ca);
  return hebb_ewise_end(out, made, st);
}

int hebb_complex(const hebb_tensor *re, const hebb_tensor *im,
                 hebb_tensor **out) {
  const hebb_tensor *ri[2] = {re, im};
  int rd, nd, made = *out == NULL, st, i;
  int64_t shape[HEBB_MAXDIM];
  hebb_cast c[2];
  for (i = 0; i < 2; i++) {
    if (hebb_check_dtype_any(ri[i]->dtype, "complex"))
      return hebb_last_status();
    if (hebb_is_complex(ri[i]->dtype))
      return hebb_fail(HEBB_ERR_DTYPE, "complex: the %s part must be real, "
                       "got %s", i == 0 ? "real" : "imaginary",
                       hebb_dtype_name(ri[i]->dtype));
  }
  rd = hebb_weak_promote(2, ri) == HEBB_F32 ? HEBB_F32 : HEBB_F64;
  if (hebb_broadcast_shape(re->ndim, re->shape, im->ndim, im->shape, &nd,
                           shape, "complex"))
    return hebb_last_status();
  if (hebb_cast_init(&c[0], re, rd)) return hebb_last_status();
  if (hebb_cast_init(&c[1], im, rd)) {
    hebb_cast_free(&c[0]);
    return hebb_last_status();
  }
  st = hebb_prepare_out(out, complex_of(rd), nd, shape, "complex");
  if (st == HEBB_OK) {
    hebb_tensor *ops[3] = {*out, c[0].t, c[1].t};
    st = hebb_ewise_run(3, ops, nd, shape,
                        rd == HEBB_F32 ? make_c64 : make_c128, NULL, 1);
  }
  hebb_cast_free(&c[0]);
  hebb_cast_free(&c[1]);
  return hebb_ewise_end(out, made, st);
}

/* --- reductions -------------------------------------------------------- */

/* A product has no real/imaginary split, so it runs here: the reduced
   dimensions are moved last and made contiguous (m rows of n elements);
   each row is multiplied in blocks of HEBB_RED_BLOCK elements, in order,
   and the block products are combined in order -- the grouping depends on
   the shapes only, so the bits do not depend on the thread count. */
typedef struct prod_job {
  int c64;
  int64_t n, nblk;            /* row length, blocks per row */
  const char *rows;
  c128 *part;                 /* m * nblk block products */
} prod_job;

static void prod_blocks(int64_t lo, int64_t hi, void *ud) {
  const prod_job *j = ud;
  int64_t u, i;
  for (u = lo; u < hi; u++) {
    int64_t row = u / j->nblk, s = u % j->nblk * HEBB_RED_BLOCK;
    int64_t e = s + HEBB_RED_BLOCK < j->n ? s + HEBB_RED_BLOCK : j->n;
    c128 acc = 1;
    if (j->c64) {
      const c64 *x = (const c64 *)j->rows + row * j->n;
      for (i = s; i < e; i++) acc *= x[i];
    }
    else {
      const c128 *x = (const c128 *)j->rows + row * j->n;
      for (i = s; i < e; i++) acc *= x[i];
    }
    j->part[u] = acc;
  }
}

/* the dims to reduce (all when ndims is 0) as flags, checked */
static int prod_dims(const hebb_tensor *a, int ndims, const int *dims,
                     bool *red) {
  int i;
  for (i = 0; i < HEBB_MAXDIM; i++) red[i] = ndims == 0;
  for (i = 0; i < ndims; i++) {
    int d = dims[i];
    if (a->ndim == 0 && d == 0) continue;   /* a scalar reduces over itself */
    if (d < 0 || d >= a->ndim)
      return hebb_fail(HEBB_ERR_INDEX, "prod: dimension %d out of range for "
                       "a %d-dimensional tensor", d + 1, a->ndim);
    if (red[d])
      return hebb_fail(HEBB_ERR_ARG, "prod: dimension %d repeated", d + 1);
    red[d] = true;
  }
  return HEBB_OK;
}

/* writes the m row products into res (contiguous, a's dtype) */
static int prod_rows(const hebb_tensor *rows, int64_t m, int64_t n,
                     hebb_tensor *res) {
  prod_job j;
  int64_t r, b;
  int st;
  j.c64 = rows->dtype == HEBB_C64;
  j.n = n;
  j.nblk = n > 0 ? (n + HEBB_RED_BLOCK - 1) / HEBB_RED_BLOCK : 1;
  j.rows = hebb_first(rows);
  j.part = malloc((size_t)(m * j.nblk) * sizeof(c128));
  if (!j.part) return hebb_fail(HEBB_ERR_NOMEM, "prod: out of memory");
  st = n > 0 ? hebb_parallel_for(m * j.nblk, HEBB_RED_BLOCK * 4, prod_blocks,
                                 &j) : HEBB_OK;
  for (r = 0; st == HEBB_OK && r < m; r++) {
    c128 acc = 1;
    for (b = 0; n > 0 && b < j.nblk; b++) acc *= j.part[r * j.nblk + b];
    if (j.c64) ((c64 *)hebb_first(res))[r] = (c64)acc;
    else ((c128 *)hebb_first(res))[r] = acc;
  }
  free(j.part);
  return st;
}

static int complex_prod(const hebb_tensor *a, int ndims, const int *dims,
                        bool keepdim, hebb_tensor **out) {
  bool red[HEBB_MAXDIM];
  int perm[HEBB_MAXDIM], nk = 0, nr = 0, nd = 0, i, made = *out == NULL, st;
  int64_t shape[HEBB_MAXDIM], m = 1, n = 1;
  hebb_tensor *moved, *rows = NULL, *res = NULL;
  if (prod_dims(a, ndims, dims, red)) return hebb_last_status();
  for (i = 0; i < a->ndim; i++) {   /* kept dims first, then reduced ones */
    if (red[i]) { n *= a->shape[i]; if (keepdim) shape[nd++] = 1; }
    else { m *= a->shape[i]; shape[nd++] = a->shape[i]; perm[nk++] = i; }
  }
  for (i = 0; i < a->ndim; i++) if (red[i]) perm[nk + nr++] = i;
  st = hebb_prepare_out(out, a->dtype, nd, shape, "prod");
  if (st != HEBB_OK) return st;
  moved = a->ndim > 0 ? hebb_permute((hebb_tensor *)a, perm)
                      : hebb_view_of((hebb_tensor *)a);
  if (moved) rows = hebb_contiguous(moved);
  res = hebb_is_contiguous(*out) && !hebb_same_storage(*out, a) ? *out
        : hebb_empty(a->dtype, nd, shape);
  if (!moved || !rows || !res) st = hebb_last_status();
  if (st == HEBB_OK) st = prod_rows(rows, m, n, res);
  if (st == HEBB_OK && res != *out) st = hebb_convert_into(*out, res);
  if (res != *out) hebb_release(res);
  hebb_release(rows);
  hebb_release(moved);
  return hebb_ewise_end(out, made, st);
}

/* Sum and mean of complex numbers are those of the real and imaginary
   parts, reduced separately by reduce.c's kernels (so with the same fixed
   blocks and lanes, and the same bits at any thread count); the norms are
   those of |z|; the product is complex_prod's. */
int hebb_reduce_complex(int op, const hebb_tensor *a, int ndims,
                        const int *dims, bool keepdim, hebb_tensor **out) {
  hebb_tensor *re = NULL, *im = NULL, *rr = NULL, *ri = NULL;
  int st;
  if (op == HEBB_PROD) return complex_prod(a, ndims, dims, keepdim, out);
  if (op == HEBB_NORM1 || op == HEBB_NORM2 || op == HEBB_NORMINF) {
    st = hebb_complex_part(HEBB_CABS, a, &re);
    if (st == HEBB_OK) st = hebb_reduce(op, re, ndims, dims, keepdim, 0, out);
    hebb_release(re);
    return st;
  }
  if (*out && (*out)->dtype != a->dtype)   /* named as the user's call */
    return hebb_fail(HEBB_ERR_DTYPE, "%s: out has dtype %s, result is %s",
                     op == HEBB_SUM ? "sum" : "mean",
                     hebb_dtype_name((*out)->dtype), hebb_dtype_name(a->dtype));
  st = hebb_complex_part(HEBB_REAL, a, &re);
  if (st == HEBB_OK) st = hebb_complex_part(HEBB_IMAG, a, &im);
  if (st == HEBB_OK) st = hebb_reduce(op, re, ndims, dims, keepdim, 0, &rr);
  if (st == HEBB_OK) st = hebb_reduce(op, im, ndims, dims, keepdim, 0, &ri);
  if (st == HEBB_OK) st = hebb_complex(rr, ri, out);
  hebb_release(re);
  hebb_release(im);
  hebb_release(rr);
  hebb_release(ri);
  return st;
}
