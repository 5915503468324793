/*
** fft.c -- discrete Fourier transforms over FFTW3, loaded on first use.
** Like OpenBLAS (blas.c), FFTW is opened with dlopen the first time a
** transform needs it, so scripts that never transform pay nothing at start.
** libfftw3 serves c128/f64, libfftw3f serves c64/f32.
**
** Every transform is a batch of 1-d transforms along the last dimension of
** a contiguous buffer (the transformed dimension is moved there first).
** The batch is cut into chunks of a fixed number of rows that depends only
** on the length, and each chunk is one execute call on a cached plan; the
** chunks are spread over threads by hebb_parallel_for.  FFTW's own threads
** are not used: this way a row is computed by the same plan and the same
** code whatever the thread count, and results are identical bits at 1 and
** at N threads.
*/
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "core.h"

/* values from fftw3.h (the header is not needed: FFTW is reached through
   dlsym only) */
enum { FFT_FORWARD = -1, FFT_BACKWARD = 1 };
#define FFT_ESTIMATE (1U << 6)

/* prototypes of the fftw_ / fftwf_ entry points used here; plans and arrays
   go as void *, which serves both precisions */
typedef void *(*plan_dft_fn)(int rank, const int *n, int howmany, void *in,
                             const int *inembed, int istride, int idist,
                             void *out, const int *onembed, int ostride,
                             int odist, int sign, unsigned flags);
typedef void *(*plan_real_fn)(int rank, const int *n, int howmany, void *in,
                              const int *inembed, int istride, int idist,
                              void *out, const int *onembed, int ostride,
                              int odist, unsigned flags);
typedef void (*execute_fn)(const void *plan, void *in, void *out);
typedef void (*destroy_fn)(void *plan);
typedef int (*align_fn)(const void *p);

typedef struct fft_lib {
  plan_dft_fn plan_dft;
  plan_real_fn plan_r2c, plan_c2r;
  execute_fn exec_dft, exec_r2c, exec_c2r;
  destroy_fn destroy;
  align_fn align;
} fft_lib;

/* precision: [0] double (libfftw3), [1] single (libfftw3f) */
static const char *const prefix[2] = {"fftw_", "fftwf_"};
static hebb_dynlib dl[2] = {{"libfftw3.so.3", NULL, ""},
                            {"libfftw3f.so.3", NULL, ""}};
static fft_lib lib[2];
static const fft_lib *loaded[2];
static pthread_once_t once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void *sym(int p, const char *name) {
  return hebb_dl_sym(&dl[p], prefix[p], name);
}

static void load(int p) {
  fft_lib *l = &lib[p];
  if (!hebb_dl_open(&dl[p])) return;
  l->plan_dft = (plan_dft_fn)sym(p, "plan_many_dft");
  l->plan_r2c = (plan_real_fn)sym(p, "plan_many_dft_r2c");
  l->plan_c2r = (plan_real_fn)sym(p, "plan_many_dft_c2r");
  l->exec_dft = (execute_fn)sym(p, "execute_dft");
  l->exec_r2c = (execute_fn)sym(p, "execute_dft_r2c");
  l->exec_c2r = (execute_fn)sym(p, "execute_dft_c2r");
  l->destroy = (destroy_fn)sym(p, "destroy_plan");
  l->align = (align_fn)sym(p, "alignment_of");
  if (!dl[p].error[0]) loaded[p] = l;
}

static void load_double(void) { load(0); }
static void load_single(void) { load(1); }

static const fft_lib *fft_lib_get(int p, const char *who) {
  pthread_once(&once[p], p ? load_single : load_double);
  if (!loaded[p])
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "%s: cannot load FFTW (%s); "
                          "install libfftw3-dev", who, dl[p].error);
  return loaded[p];
}

/* --- plans --------------------------------------------------------------- */

/* Plans are made with FFTW_ESTIMATE: planning is cheap, leaves the arrays
   alone, and picks the same algorithm every run.  FFTW_MEASURE times
   candidate algorithms, so it could pick different ones from run to run and
   give results that differ in the last bits: no reproducibility. */
enum { K_FORWARD, K_BACKWARD, K_R2C, K_C2R };

typedef struct plan_key {
  int kind, prec, n, howmany, ialign, oalign;
} plan_key;

#define NPLANS 64
static struct { plan_key key; void *plan; } cache[NPLANS];
static int ncached;
/* FFTW's planner is not thread-safe (executing a plan is) */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static void *make_plan(const fft_lib *l, const plan_key *k, void *in,
                       void *out) {
  int n = k->n, h = k->n / 2 + 1;
  switch (k->kind) {
    case K_FORWARD: case K_BACKWARD:
      return l->plan_dft(1, &n, k->howmany, in, NULL, 1, n, out, NULL, 1, n,
                         k->kind == K_FORWARD ? FFT_FORWARD : FFT_BACKWARD,
                         FFT_ESTIMATE);
    case K_R2C:
      return l->plan_r2c(1, &n, k->howmany, in, NULL, 1, n, out, NULL, 1, h,
                         FFT_ESTIMATE);
    default:
      return l->plan_c2r(1, &n, k->howmany, in, NULL, 1, h, out, NULL, 1, n,
                         FFT_ESTIMATE);
  }
}

/* A plan for howmany rows at in/out (the key records their alignment, as
   FFTW's new-array execute requires).  *owned is set when the cache is full
   and the caller must destroy the plan (release_plan) after use. */
static void *get_plan(const fft_lib *l, int kind, int prec, int64_t n,
                      int64_t howmany, void *in, void *out, int *owned) {
  plan_key k;
  void *plan = NULL;
  int i;
  memset(&k, 0, sizeof k);
  k.kind = kind; k.prec = prec; k.n = (int)n; k.howmany = (int)howmany;
  k.ialign = l->align(in); k.oalign = l->align(out);
  *owned = 0;
  pthread_mutex_lock(&plan_lock);
  for (i = 0; i < ncached && !plan; i++)
    if (memcmp(&cache[i].key, &k, sizeof k) == 0) plan = cache[i].plan;
  if (!plan && (plan = make_plan(l, &k, in, out)) != NULL) {
    if (ncached < NPLANS) {
      cache[ncached].key = k;
      cache[ncached++].plan = plan;
    }
    else *owned = 1;
  }
  pthread_mutex_unlock(&plan_lock);
  return plan;
}

static void release_plan(const fft_lib *l, void *plan, int owned) {
  if (!plan || !owned) return;
  pthread_mutex_lock(&plan_lock);
  l->destroy(plan);
  pthread_mutex_unlock(&plan_lock);
}

/* --- execution ------------------------------------------------------------ */

typedef struct fft_job {
  const fft_lib *lib;
  int kind, prec;
  int64_t rows, chunk;      /* rows per execute call */
  int64_t ilen, olen;       /* elements per row */
  int64_t isize, osize;     /* bytes per element */
  char *in, *out;
  void *full, *last;        /* plans for a whole chunk and for the rest */
  double scale;             /* applied to the output; 1: none */
} fft_job;

/* Rows per chunk: about 64k elements of work, and a multiple of 16 so that
   every chunk starts at the same alignment (mod 64 bytes) as the first and
   one plan fits them all.  It depends on the length only, never on the
   thread count. */
static int64_t chunk_rows(int64_t n) {
  int64_t c = (65536 / n) & ~(int64_t)15;
  return c < 16 ? 16 : c;
}

static void scale_rows(char *p, int64_t count, int prec, double s) {
  int64_t i;
  if (prec == 0) {
    double *restrict x = (double *)p;
    for (i = 0; i < count; i++) x[i] *= s;
  }
  else {
    float *restrict x = (float *)p;
    float fs = (float)s;
    for (i = 0; i < count; i++) x[i] *= fs;
  }
}

static void run_chunks(int64_t lo, int64_t hi, void *ud) {
  const fft_job *j = ud;
  int64_t c;
  for (c = lo; c < hi; c++) {
    int64_t r0 = c * j->chunk;
    int64_t m = j->rows - r0 < j->chunk ? j->rows - r0 : j->chunk;
    const void *plan = m == j->chunk ? j->full : j->last;
    char *in = j->in + r0 * j->ilen * j->isize;
    char *out = j->out + r0 * j->olen * j->osize;
    if (j->kind == K_R2C) j->lib->exec_r2c(plan, in, out);
    else if (j->kind == K_C2R) j->lib->exec_c2r(plan, in, out);
    else j->lib->exec_dft(plan, in, out);
    if (j->scale != 1)   /* count in real numbers: 2 per complex element */
      scale_rows(out, m * j->olen * (j->osize / (j->prec ? 4 : 8)), j->prec,
                 j->scale);
  }
}

/* Transforms the rows of 'in' (contiguous, last dim the input rows) into
   'out' (contiguous, same rows); n is the logical transform length. */
static hebb_status transform(int kind, int64_t n, hebb_tensor *in,
                             hebb_tensor *out, double scale, const char *who) {
  fft_job j;
  int prec = in->dtype == HEBB_F32 || in->dtype == HEBB_C64;
  int own_full = 0, own_last = 0, status;
  int64_t nchunks, lg = 1;
  if (n > INT_MAX)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "%s: length %lld is too long for "
                     "FFTW (at most %d)", who, (long long)n, INT_MAX);
  j.lib = fft_lib_get(prec, who);
  if (!j.lib) return hebb_last_status();
  j.kind = kind; j.prec = prec; j.scale = scale;
  j.ilen = in->shape[in->ndim - 1]; j.olen = out->shape[out->ndim - 1];
  j.isize = hebb_dtype_size(in->dtype); j.osize = hebb_dtype_size(out->dtype);
  j.rows = j.olen ? hebb_shape_numel(out->ndim, out->shape) / j.olen : 0;
  if (j.rows == 0) return HEBB_OK;
  j.in = hebb_first(in); j.out = hebb_first(out);
  j.chunk = chunk_rows(n);
  nchunks = (j.rows + j.chunk - 1) / j.chunk;
  j.full = j.rows >= j.chunk ? get_plan(j.lib, kind, prec, n, j.chunk, j.in,
                                        j.out, &own_full) : NULL;
  j.last = NULL;
  if (j.rows % j.chunk) {
    int64_t r0 = (nchunks - 1) * j.chunk;
    j.last = get_plan(j.lib, kind, prec, n, j.rows - r0,
                      j.in + r0 * j.ilen * j.isize,
                      j.out + r0 * j.olen * j.osize, &own_last);
  }
  if ((j.rows >= j.chunk && !j.full) || (j.rows % j.chunk && !j.last))
    status = hebb_fail(HEBB_ERR_UNSUPPORTED, "%s: FFTW could not plan a "
                       "transform of length %lld", who, (long long)n);
  else if (nchunks == 1) {   /* nothing to share between threads */
    run_chunks(0, 1, &j);
    status = HEBB_OK;
  }
  else {   /* about 5 n log2(n) flops per row */
    while ((int64_t)1 << lg < n) lg++;
    status = hebb_parallel_for(nchunks, j.chunk * n * 5 * lg, run_chunks, &j);
  }
  release_plan(j.lib, j.full, own_full);
  release_plan(j.lib, j.last, own_last);
  return status;
}

/* --- dimensions and results ------------------------------------------------ */

/* a view of t with dimension dim moved to the end */
static hebb_tensor *dim_last(const hebb_tensor *t, int dim) {
  int perm[HEBB_MAXDIM], i, k = 0;
  for (i = 0; i < t->ndim; i++)
    if (i != dim) perm[k++] = i;
  perm[k] = dim;
  return hebb_permute(hebb_unconst(t), perm);
}

/* r computed with dim last, as a contiguous tensor with dim back in place */
static hebb_tensor *dim_back(hebb_tensor *r, int dim) {
  int perm[HEBB_MAXDIM], i, nd = r->ndim;
  hebb_tensor *v, *c;
  for (i = 0; i < nd; i++) perm[i] = i < dim ? i : i == dim ? nd - 1 : i - 1;
  v = hebb_permute(r, perm);
  if (!v) return NULL;
  c = hebb_contiguous(v);
  hebb_release(v);
  return c;
}

/* t with dim last, contiguous, in dtype (the input itself when it already
   is all that) */
static hebb_tensor *prepare(const hebb_tensor *t, int dim, int dtype) {
  hebb_tensor *v = dim_last(t, dim), *c;
  if (!v) return NULL;
  c = v->dtype == dtype ? hebb_contiguous(v) : hebb_astype(v, dtype);
  hebb_release(v);
  return c;
}

/* Hands the new result res (dim last; NULL after a failure) to the caller
   through the 'out' convention of hebb.h. */
static int finish(hebb_tensor *res, int dim, int status, hebb_tensor **out,
                  const char *who) {
  hebb_tensor *r;
  if (status != HEBB_OK) {
    hebb_release(res);
    return status;
  }
  r = dim_back(res, dim);
  hebb_release(res);
  if (!r) return hebb_last_status();
  return hebb_out_deliver(1, &out, &r, who);
}

static int check_axis(const hebb_tensor *a, int dim, const char *who) {
  int status = hebb_check_dim(a, dim, who);
  if (status == HEBB_OK && a->shape[dim] < 1)
    status = hebb_fail(HEBB_ERR_SHAPE, "%s: dimension %d has length 0 "
                       "(nothing to transform)", who, dim + 1);
  return status;
}

static int complex_of(int dtype) {
  return dtype == HEBB_F32 || dtype == HEBB_C64 ? HEBB_C64 : HEBB_C128;
}

/* --- transforms ------------------------------------------------------------ */

hebb_status hebb_fft(const hebb_tensor *a, int dim, bool inverse,
                     hebb_tensor **out) {
  const char *who = inverse ? "ifft" : "fft";
  int cdt = complex_of(a->dtype), status;
  hebb_tensor *in, *r;
  int64_t n;
  if ((status = check_axis(a, dim, who)) != HEBB_OK) return status;
  n = a->shape[dim];
  if (!(in = prepare(a, dim, cdt))) return hebb_last_status();
  r = hebb_empty(cdt, in->ndim, in->shape);
  status = r ? transform(inverse ? K_BACKWARD : K_FORWARD, n, in, r,
                         inverse ? 1.0 / (double)n : 1, who)
             : hebb_last_status();
  hebb_release(in);
  return finish(r, dim, status, out, who);
}

hebb_status hebb_rfft(const hebb_tensor *a, int dim, hebb_tensor **out) {
  int rdt = a->dtype == HEBB_F32 ? HEBB_F32 : HEBB_F64, status;
  int64_t shape[HEBB_MAXDIM], n;
  hebb_tensor *in, *r;
  if (hebb_is_complex(a->dtype))
    return hebb_fail(HEBB_ERR_DTYPE, "rfft: input is complex (%s); rfft "
                     "transforms real signals, use fft",
                     hebb_dtype_name(a->dtype));
  if ((status = check_axis(a, dim, "rfft")) != HEBB_OK) return status;
  n = a->shape[dim];
  if (!(in = prepare(a, dim, rdt))) return hebb_last_status();
  memcpy(shape, in->shape, sizeof shape);
  shape[in->ndim - 1] = n / 2 + 1;
  r = hebb_empty(complex_of(rdt), in->ndim, shape);
  status = r ? transform(K_R2C, n, in, r, 1, "rfft") : hebb_last_status();
  hebb_release(in);
  return finish(r, dim, status, out, "rfft");
}

/* The first n/2+1 entries of a along dim (zero-padded or truncated, as
   numpy), dim last, in a new contiguous complex tensor: c2r transforms
   overwrite their input, so it has to be a private copy. */
static hebb_tensor *half_spectrum(const hebb_tensor *a, int dim, int64_t n) {
  hebb_tensor *v = dim_last(a, dim), *buf = NULL, *dst = NULL, *src = NULL;
  int64_t shape[HEBB_MAXDIM], h = n / 2 + 1, k;
  int last = a->ndim - 1, ok = 0;
  if (!v) return NULL;
  k = v->shape[last] < h ? v->shape[last] : h;
  memcpy(shape, v->shape, sizeof shape);
  shape[last] = h;
  buf = hebb_zeros(complex_of(a->dtype), a->ndim, shape);
  if (buf && (dst = hebb_narrow(buf, last, 0, k)) != NULL &&
      (src = hebb_narrow(v, last, 0, k)) != NULL)
    ok = hebb_copy(dst, src) == HEBB_OK;
  if (dst) hebb_release(dst);
  if (src) hebb_release(src);
  hebb_release(v);
  if (!ok && buf) {
    hebb_release(buf);
    buf = NULL;
  }
  return buf;
}

hebb_status hebb_irfft(const hebb_tensor *a, int64_t n, int dim,
                       hebb_tensor **out) {
  int64_t shape[HEBB_MAXDIM];
  hebb_tensor *in, *r;
  int status;
  if ((status = check_axis(a, dim, "irfft")) != HEBB_OK) return status;
  if (n < 0) n = 2 * (a->shape[dim] - 1);
  if (n < 1)
    return hebb_fail(HEBB_ERR_ARG, "irfft: n = %lld output points (input "
                     "length %lld along dimension %d); n must be >= 1",
                     (long long)n, (long long)a->shape[dim], dim + 1);
  if (!(in = half_spectrum(a, dim, n))) return hebb_last_status();
  memcpy(shape, in->shape, sizeof shape);
  shape[in->ndim - 1] = n;
  r = hebb_empty(in->dtype == HEBB_C64 ? HEBB_F32 : HEBB_F64, in->ndim,
                 shape);
  status = r ? transform(K_C2R, n, in, r, 1.0 / (double)n, "irfft")
             : hebb_last_status();
  hebb_release(in);
  return finish(r, dim, status, out, "irfft");
}

/* dims[0..ndims-1] checked distinct and in range; ndims 0 means all, which
   *all lists */
static int check_dims(const hebb_tensor *a, int ndims, const int *dims,
                      int *all, const char *who) {
  bool seen[HEBB_MAXDIM] = {false};
  int i, status;
  if (ndims == 0)
    for (i = 0; i < a->ndim; i++) all[i] = i;
  for (i = 0; i < ndims; i++) {
    if ((status = hebb_check_dim(a, dims[i], who)) != HEBB_OK) return status;
    if (seen[dims[i]])
      return hebb_fail(HEBB_ERR_ARG, "%s: dimension %d appears twice", who,
                       dims[i] + 1);
    seen[dims[i]] = true;
  }
  return HEBB_OK;
}

hebb_status hebb_fftn(const hebb_tensor *a, int ndims, const int *dims,
                      bool inverse, hebb_tensor **out) {
  const char *who = inverse ? "ifftn" : "fftn";
  int all[HEBB_MAXDIM], i, status;
  hebb_tensor *cur = NULL, *next;
  if (a->ndim == 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: a 0-dimensional tensor has no "
                     "dimension to transform", who);
  if ((status = check_dims(a, ndims, dims, all, who)) != HEBB_OK)
    return status;
  if (ndims == 0) {
    ndims = a->ndim;
    dims = all;
  }
  /* successive 1-d transforms; the last one writes into *out */
  for (i = 0; i < ndims; i++) {
    next = NULL;
    status = hebb_fft(cur ? cur : a, dims[i], inverse,
                      i == ndims - 1 ? out : &next);
    if (cur) hebb_release(cur);
    cur = next;
    if (status != HEBB_OK) break;
  }
  if (cur && status != HEBB_OK) hebb_release(cur);
  return status;
}

hebb_status hebb_fftshift(const hebb_tensor *a, int ndims, const int *dims,
                          bool inverse, hebb_tensor **out) {
  const char *who = inverse ? "ifftshift" : "fftshift";
  int all[HEBB_MAXDIM], i, status;
  hebb_tensor *cur = hebb_unconst(a), *r;
  if ((status = check_dims(a, ndims, dims, all, who)) != HEBB_OK)
    return status;
  if (ndims == 0) {
    ndims = a->ndim;
    dims = all;
  }
  hebb_retain(cur);
  /* a roll by s: out[i] = x[(i - s) mod n], i.e. the last s entries first */
  for (i = 0; i < ndims && cur; i++) {
    int d = dims[i];
    int64_t n = a->shape[d], s = inverse ? n - n / 2 : n / 2;
    hebb_tensor *part[2] = {NULL, NULL}, *next = NULL;
    if (n < 2 || s % n == 0) continue;
    part[0] = hebb_narrow(cur, d, n - s, s);
    part[1] = part[0] ? hebb_narrow(cur, d, 0, n - s) : NULL;
    if (part[1]) next = hebb_cat(2, part, d);
    if (part[0]) hebb_release(part[0]);
    if (part[1]) hebb_release(part[1]);
    hebb_release(cur);
    cur = next;
  }
  if (!cur) return hebb_last_status();
  r = cur == a ? hebb_clone(cur) : cur;
  if (cur == a) hebb_release(cur);
  if (!r) return hebb_last_status();
  return hebb_out_deliver(1, &out, &r, who);
}

/* numpy's order: 0, 1, ..., then the negative frequencies; k times
   1/(n d), computed as numpy does so that the values agree bit for bit */
hebb_tensor *hebb_fftfreq(int64_t n, double d, bool half) {
  const char *who = half ? "rfftfreq" : "fftfreq";
  int64_t len = half ? n / 2 + 1 : n, i, pos = (n - 1) / 2 + 1;
  double val;
  hebb_tensor *r;
  double *x;
  if (n < 1)
    return hebb_fail_null(HEBB_ERR_ARG, "%s: n = %lld; the number of points "
                          "must be >= 1", who, (long long)n);
  if (d == 0 || d != d)
    return hebb_fail_null(HEBB_ERR_ARG, "%s: sample spacing d = %g; it must "
                          "be a nonzero number", who, d);
  if (!(r = hebb_empty(HEBB_F64, 1, &len))) return NULL;
  val = 1.0 / ((double)n * d);
  x = (double *)hebb_first(r);
  for (i = 0; i < len; i++)
    x[i] = (double)(half || i < pos ? i : i - n) * val;
  return r;
}
