/*
** index.c -- indexing by tensors: index_select, gather, scatter (by index
** tensors that count from a caller-chosen base: 0 in C, 1 from Lua) and
** masked_fill, masked_select (by bool masks).  Every index is checked
** before any element is written, so a failed call changes nothing.
*/
#include <string.h>

#include "core.h"

/* What the take/put kernels need besides the loop's pointers. */
typedef struct along {
  int64_t stride;   /* bytes between neighbours along the indexed dim */
  int64_t base;     /* the index value that names the first element */
} along;

/* Runs a loop on the calling thread, in row-major order.  Scatter needs
   that order (with repeated indices the last write wins, and sums are added
   in a fixed order), and so do the checks that name the first bad index. */
static void loop_serial(const hebb_loop *lp, hebb_inner_fn fn, void *ud) {
  int nd = lp->ndim, k, d;
  int64_t idx[HEBB_MAXDIM] = {0}, inner[HEBB_MAXOPS];
  char *ptr[HEBB_MAXOPS];
  if (hebb_shape_numel(nd, lp->shape) == 0) return;
  for (k = 0; k < lp->nops; k++) {
    ptr[k] = lp->base[k];
    inner[k] = nd > 0 ? lp->stride[k][nd - 1] : 0;
  }
  if (nd == 0) { fn(1, ptr, inner, ud); return; }
  for (;;) {
    fn(lp->shape[nd - 1], ptr, inner, ud);
    for (d = nd - 2; d >= 0; d--) {   /* step the outer multi-index */
      for (k = 0; k < lp->nops; k++) ptr[k] += lp->stride[k][d];
      if (++idx[d] < lp->shape[d]) break;
      for (k = 0; k < lp->nops; k++) ptr[k] -= idx[d] * lp->stride[k][d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/* Whether t broadcasts to exactly (ndim, shape). */
static int broadcasts_to(const hebb_tensor *t, int ndim, const int64_t *shape) {
  int lead = ndim - t->ndim, i;
  if (lead < 0) return 0;
  for (i = 0; i < t->ndim; i++)
    if (t->shape[i] != 1 && t->shape[i] != shape[lead + i]) return 0;
  return 1;
}

/* --- checking indices -------------------------------------------------- */

typedef struct bounds {
  int64_t lo, hi;   /* valid values, inclusive */
  int64_t bad;      /* the first value outside them */
  int found;
} bounds;

static void find_bad(int64_t n, char **p, const int64_t *s, void *ud) {
  bounds *b = ud;
  const char *q = p[0];
  int64_t i;
  if (b->found) return;
  for (i = 0; i < n; i++, q += s[0]) {
    int64_t v = *(const int64_t *)q;
    if (v < b->lo || v > b->hi) {
      b->found = 1;
      b->bad = v;
      return;
    }
  }
}

/* Every value of 'index' must name an element of a dim of 'size'; the
   first that does not (row-major) is reported as the caller wrote it. */
static int check_indices(const hebb_tensor *index, int64_t size, int dim,
                         int64_t base, const char *who) {
  hebb_tensor *op = hebb_unconst(index);
  bounds b = {base, base + size - 1, 0, 0};
  hebb_loop lp;
  if (index->dtype != HEBB_I64)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: indices must be an i64 tensor, got "
                     "%s", who, hebb_dtype_name(index->dtype));
  if (index->ndim <= 1) {   /* a list of indices: no loop to set up */
    char *p = hebb_first(index);
    int64_t step = index->ndim ? index->stride[0] * 8 : 0;
    find_bad(index->ndim ? index->shape[0] : 1, &p, &step, &b);
  } else {
    hebb_loop_init(&lp, 1, &op, index->ndim, index->shape);
    loop_serial(&lp, find_bad, &b);
  }
  if (!b.found) return HEBB_OK;
  if (size == 0)
    return hebb_fail(HEBB_ERR_INDEX, "%s: index %lld out of range for dim %d "
                     "of size 0", who, (long long)b.bad, dim + 1);
  return hebb_fail(HEBB_ERR_INDEX, "%s: index %lld out of range for dim %d of "
                   "size %lld (valid %lld..%lld)", who, (long long)b.bad,
                   dim + 1, (long long)size, (long long)b.lo, (long long)b.hi);
}

/* gather and scatter: index has a's dimensions and is no larger outside
   the indexed dim. */
static int check_index_shape(const hebb_tensor *a, int dim,
                             const hebb_tensor *index, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  int d;
  if (index->ndim != a->ndim)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: index has %d dimensions, the tensor "
                     "has %d", who, index->ndim, a->ndim);
  for (d = 0; d < a->ndim; d++)
    if (d != dim && index->shape[d] > a->shape[d])
      return hebb_fail(HEBB_ERR_SHAPE, "%s: index of shape %s is larger than "
                       "the tensor's shape %s in dim %d", who,
                       hebb_shape_str(index->ndim, index->shape, b1, sizeof b1),
                       hebb_shape_str(a->ndim, a->shape, b2, sizeof b2), d + 1);
  return HEBB_OK;
}

/* A given 'out' must not share memory with what is read: writing it would
   change indices (or mask bits) after they were checked. */
static int check_out(const hebb_tensor *out, const hebb_tensor *a,
                     const hebb_tensor *b, const char *who) {
  if (out && (hebb_same_storage(out, a) || hebb_same_storage(out, b)))
    return hebb_fail(HEBB_ERR_ARG, "%s: out shares memory with an input", who);
  return HEBB_OK;
}

/* --- reading through indices: index_select, gather ---------------------- */

/* out[i] = a'[i] moved along the indexed dim by index[i]; a' is a seen with
   stride 0 along that dim, so its pointer sits at the dim's first element.
   Elements are copied as bits of their size. */
#define TAKE(NAME, T)                                                         \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    const along *al = ud;                                                     \
    char *o = p[0];                                                           \
    const char *ix = p[1], *a = p[2];                                         \
    int64_t i;                                                                \
    if (s[1] == 0) {   /* one index for the whole row */                      \
      const char *src = a + (*(const int64_t *)ix - al->base) * al->stride;   \
      if (s[0] == sizeof(T) && s[2] == sizeof(T))                             \
        memcpy(o, src, (size_t)n * sizeof(T));                                \
      else                                                                    \
        for (i = 0; i < n; i++)                                               \
          *(T *)(o + i * s[0]) = *(const T *)(src + i * s[2]);                \
      return;                                                                 \
    }                                                                         \
    for (i = 0; i < n; i++) {                                                 \
      int64_t k = *(const int64_t *)(ix + i * s[1]) - al->base;               \
      *(T *)(o + i * s[0]) = *(const T *)(a + i * s[2] + k * al->stride);     \
    }                                                                         \
  }

/* a c128 element, copied as 16 bytes */
typedef struct bits16 { uint64_t w[2]; } bits16;

TAKE(take1, uint8_t)
TAKE(take4, uint32_t)
TAKE(take8, uint64_t)
TAKE(take16, bits16)

static hebb_inner_fn take_kernel(int64_t isz) {
  return isz == 1 ? take1 : isz == 4 ? take4 : isz == 8 ? take8 : take16;
}

/* Fills out (whose shape ix and src share) from src through ix. */
static int take(hebb_tensor *out, hebb_tensor *ix, hebb_tensor *src,
                int64_t stride, int64_t base) {
  int64_t isz = hebb_dtype_size(out->dtype);
  hebb_tensor *ops[3] = {out, ix, src};
  along al = {stride * isz, base};
  hebb_loop lp;
  hebb_loop_init(&lp, 3, ops, out->ndim, out->shape);
  return hebb_loop_run(&lp, take_kernel(isz), &al, 2);
}

/* Rows of a contiguous tensor picked along dim 1 (a mini-batch): one memcpy
   per row.  The indices were checked already. */
static int copy_rows(const hebb_tensor *a, const hebb_tensor *index,
                     int64_t base, hebb_tensor *out) {
  int64_t n = index->ndim ? index->shape[0] : 1, i;
  int64_t stride = index->ndim ? index->stride[0] : 0;
  size_t row = (size_t)(hebb_numel(a) / (a->shape[0] ? a->shape[0] : 1)) *
               (size_t)hebb_dtype_size(a->dtype);
  const int64_t *ix = (const int64_t *)hebb_first(index);
  const char *src = hebb_first(a);
  char *dst = hebb_first(out);
  if (row == 8)   /* a 1-d f64 or i64 tensor: one load and store per index */
    for (i = 0; i < n; i++)
      memcpy(dst + 8 * i, src + 8 * (ix[i * stride] - base), 8);
  else
    for (i = 0; i < n; i++)
      memcpy(dst + (size_t)i * row, src + (size_t)(ix[i * stride] - base) * row,
             row);
  hebb_bump_version(out);
  return HEBB_OK;
}

hebb_status hebb_index_select(const hebb_tensor *a, int dim,
                              const hebb_tensor *index, int64_t base,
                              hebb_tensor **out) {
  char b1[HEBB_SHAPEBUF];
  int64_t shape[HEBB_MAXDIM];
  hebb_tensor ix, src;
  int d;
  if (hebb_check_dtype_any(a->dtype, "index_select") ||
      hebb_check_dim(a, dim, "index_select"))
    return hebb_last_status();
  if (index->ndim > 1)
    return hebb_fail(HEBB_ERR_SHAPE, "index_select: indices must be "
                     "1-dimensional, got shape %s",
                     hebb_shape_str(index->ndim, index->shape, b1, sizeof b1));
  if (check_out(*out, a, index, "index_select") ||
      check_indices(index, a->shape[dim], dim, base, "index_select"))
    return hebb_last_status();
  memcpy(shape, a->shape, sizeof shape);
  shape[dim] = index->ndim ? index->shape[0] : 1;
  if (hebb_prepare_out(out, a->dtype, a->ndim, shape, "index_select"))
    return hebb_last_status();
  if (dim == 0 && hebb_is_contiguous(a) && hebb_is_contiguous(*out))
    return copy_rows(a, index, base, *out);
  /* the indices seen with the result's shape, varying only along dim */
  ix = *index;
  ix.ndim = a->ndim;
  for (d = 0; d < a->ndim; d++) {
    ix.shape[d] = shape[d];
    ix.stride[d] = 0;
  }
  ix.stride[dim] = index->ndim ? index->stride[0] : 0;
  src = *a;
  src.shape[dim] = shape[dim];
  src.stride[dim] = 0;
  return take(*out, &ix, &src, a->stride[dim], base);
}

hebb_status hebb_gather(const hebb_tensor *a, int dim, const hebb_tensor *index,
                        int64_t base, hebb_tensor **out) {
  hebb_tensor src;
  if (hebb_check_dtype_any(a->dtype, "gather") ||
      hebb_check_dim(a, dim, "gather") ||
      check_index_shape(a, dim, index, "gather") ||
      check_out(*out, a, index, "gather") ||
      check_indices(index, a->shape[dim], dim, base, "gather") ||
      hebb_prepare_out(out, a->dtype, index->ndim, index->shape, "gather"))
    return hebb_last_status();
  src = *a;
  memcpy(src.shape, index->shape, sizeof src.shape);
  src.stride[dim] = 0;
  return take(*out, hebb_unconst(index), &src, a->stride[dim], base);
}

/* --- writing through indices: scatter ---------------------------------- */

#define PUT(NAME, T, STORE)                                                   \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    const along *al = ud;                                                     \
    int64_t i;                                                                \
    for (i = 0; i < n; i++) {                                                 \
      int64_t k = *(const int64_t *)(p[1] + i * s[1]) - al->base;             \
      T *d = (T *)(p[0] + i * s[0] + k * al->stride);                         \
      T x = *(const T *)(p[2] + i * s[2]);                                    \
      STORE;                                                                  \
    }                                                                         \
  }

PUT(put1, uint8_t, *d = x)
PUT(put4, uint32_t, *d = x)
PUT(put8, uint64_t, *d = x)
PUT(put16, bits16, *d = x)
PUT(add_f64, double, *d += x)
PUT(add_f32, float, *d += x)
PUT(add_i64, uint64_t, *d += x)   /* unsigned: wraps around as Lua does */
PUT(add_bool, bool, *d = *d || x)
PUT(add_c128, double _Complex, *d += x)
PUT(add_c64, float _Complex, *d += x)

static hebb_inner_fn put_kernel(int dtype, bool accumulate) {
  if (!accumulate) {
    int isz = hebb_dtype_size(dtype);
    return isz == 1 ? put1 : isz == 4 ? put4 : isz == 8 ? put8 : put16;
  }
  switch (dtype) {
    case HEBB_C128: return add_c128;
    case HEBB_C64: return add_c64;
    case HEBB_F64: return add_f64;
    case HEBB_F32: return add_f32;
    case HEBB_I64: return add_i64;
    default: return add_bool;
  }
}

/* src seen with the index's shape: read at the index's positions when it is
   at least as large in every dim (as torch does), else broadcast to it. */
static int source_view(const hebb_tensor *src, const hebb_tensor *index,
                       hebb_tensor *v) {
  int covers = src->ndim == index->ndim, i;
  for (i = 0; covers && i < src->ndim; i++)
    covers = src->shape[i] >= index->shape[i];
  *v = *src;
  if (covers) {
    memcpy(v->shape, index->shape, sizeof v->shape);
    return 1;
  }
  return broadcasts_to(src, index->ndim, index->shape);
}

hebb_status hebb_scatter(hebb_tensor *a, int dim, const hebb_tensor *index,
                         int64_t base, const hebb_tensor *src,
                         bool accumulate) {
  const char *who = accumulate ? "scatter_add" : "scatter";
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  hebb_tensor sv, dst, *conv = NULL, *ixc = NULL, *ops[3];
  hebb_loop lp;
  along al;
  if (hebb_check_dtype_any(a->dtype, who) ||
      hebb_check_dtype_any(src->dtype, who) ||
      hebb_check_dim(a, dim, who) || hebb_check_writable(a, who) ||
      check_index_shape(a, dim, index, who))
    return hebb_last_status();
  if (!source_view(src, index, &sv))
    return hebb_fail(HEBB_ERR_SHAPE, "%s: source of shape %s neither covers "
                     "nor broadcasts to the index's shape %s", who,
                     hebb_shape_str(src->ndim, src->shape, b1, sizeof b1),
                     hebb_shape_str(index->ndim, index->shape, b2, sizeof b2));
  if (check_indices(index, a->shape[dim], dim, base, who))
    return hebb_last_status();
  /* src converted to a's dtype; src and index read from snapshots when
     they share a's memory, since the writes could change them mid-loop
     (an index changed after its check would write out of bounds) */
  if ((sv.dtype != a->dtype || hebb_same_storage(a, &sv)) &&
      !(conv = hebb_astype(&sv, a->dtype)))
    return hebb_last_status();
  if (hebb_same_storage(a, index) && !(ixc = hebb_clone(index))) {
    hebb_release(conv);
    return hebb_last_status();
  }
  /* the target seen with the index's shape, its pointer at the first
     element of the indexed dim */
  dst = *a;
  memcpy(dst.shape, index->shape, sizeof dst.shape);
  dst.stride[dim] = 0;
  ops[0] = &dst;
  ops[1] = ixc ? ixc : hebb_unconst(index);
  ops[2] = conv ? conv : &sv;
  al.stride = a->stride[dim] * hebb_dtype_size(a->dtype);
  al.base = base;
  hebb_loop_init(&lp, 3, ops, index->ndim, index->shape);
  loop_serial(&lp, put_kernel(a->dtype, accumulate), &al);
  hebb_release(conv);
  hebb_release(ixc);
  hebb_bump_version(a);
  return HEBB_OK;
}

/* --- masks ------------------------------------------------------------- */

/* a = mask ? v : a, written as a select so the contiguous loop vectorizes */
#define MASKFILL(NAME, T)                                                     \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    const T v = *(const T *)ud;                                               \
    int64_t i;                                                                \
    if (s[0] == sizeof(T) && s[1] == 1) {                                     \
      T *restrict a = (T *)p[0];                                              \
      const bool *restrict m = (const bool *)p[1];                            \
      for (i = 0; i < n; i++) a[i] = m[i] ? v : a[i];                         \
    } else                                                                    \
      for (i = 0; i < n; i++)                                                 \
        if (*(const bool *)(p[1] + i * s[1])) *(T *)(p[0] + i * s[0]) = v;    \
  }

MASKFILL(mfill_f64, double)
MASKFILL(mfill_f32, float)
MASKFILL(mfill_i64, int64_t)
MASKFILL(mfill_bool, bool)

static int check_mask(const hebb_tensor *mask, const char *who) {
  if (mask->dtype != HEBB_BOOL)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: the mask must be a bool tensor, got "
                     "%s", who, hebb_dtype_name(mask->dtype));
  return HEBB_OK;
}

hebb_status hebb_masked_fill(hebb_tensor *a, const hebb_tensor *mask,
                             double value) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  union { double f; float s; int64_t i; bool b; } v;
  hebb_tensor *ops[2] = {a, hebb_unconst(mask)};
  hebb_inner_fn fn;
  hebb_loop lp;
  int st;
  if (hebb_check_dtype(a->dtype, "masked_fill") ||
      check_mask(mask, "masked_fill"))
    return hebb_last_status();
  if (!broadcasts_to(mask, a->ndim, a->shape))
    return hebb_fail(HEBB_ERR_SHAPE, "masked_fill: mask of shape %s does not "
                     "broadcast to the tensor's shape %s",
                     hebb_shape_str(mask->ndim, mask->shape, b1, sizeof b1),
                     hebb_shape_str(a->ndim, a->shape, b2, sizeof b2));
  if (hebb_check_writable(a, "masked_fill")) return hebb_last_status();
  switch (a->dtype) {
    case HEBB_F64: v.f = value; fn = mfill_f64; break;
    case HEBB_F32: v.s = (float)value; fn = mfill_f32; break;
    case HEBB_I64:
      if (value != value || value >= 9223372036854775808.0 ||
          value < -9223372036854775808.0)
        return hebb_fail(HEBB_ERR_ARG, "masked_fill: %g does not fit in i64",
                         value);
      v.i = (int64_t)value;
      fn = mfill_i64;
      break;
    default: v.b = value != 0; fn = mfill_bool; break;
  }
  hebb_loop_init(&lp, 2, ops, a->ndim, a->shape);
  st = hebb_loop_run(&lp, fn, &v, 1);
  hebb_bump_version(a);
  return st;
}

static void count_true(int64_t n, char **p, const int64_t *s, void *ud) {
  int64_t k = 0, i;   /* a local sum: stores through ud could alias p */
  for (i = 0; i < n; i++) k += *(const bool *)(p[0] + i * s[0]);
  *(int64_t *)ud += k;
}

typedef struct cursor {
  char *at;       /* where the next selected element goes */
  int64_t step;   /* bytes between result elements */
} cursor;

#define PICK(NAME, T)                                                         \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ud) {         \
    cursor *c = ud;                                                           \
    char *at = c->at;                                                         \
    int64_t i;                                                                \
    for (i = 0; i < n; i++)                                                   \
      if (*(const bool *)(p[1] + i * s[1])) {                                 \
        *(T *)at = *(const T *)(p[0] + i * s[0]);                             \
        at += c->step;                                                        \
      }                                                                       \
    c->at = at;                                                               \
  }

PICK(pick1, uint8_t)
PICK(pick4, uint32_t)
PICK(pick8, uint64_t)
PICK(pick16, bits16)

hebb_status hebb_masked_select(const hebb_tensor *a, const hebb_tensor *mask,
                               hebb_tensor **out) {
  int64_t shape[HEBB_MAXDIM], count = 0, isz = hebb_dtype_size(a->dtype);
  hebb_tensor *ops[2] = {hebb_unconst(mask), NULL};
  hebb_loop lp;
  cursor c;
  int nd;
  if (hebb_check_dtype_any(a->dtype, "masked_select") ||
      check_mask(mask, "masked_select") ||
      check_out(*out, a, mask, "masked_select") ||
      hebb_broadcast_shape(a->ndim, a->shape, mask->ndim, mask->shape, &nd,
                           shape, "masked_select"))
    return hebb_last_status();
  hebb_loop_init(&lp, 1, ops, nd, shape);
  loop_serial(&lp, count_true, &count);
  if (hebb_prepare_out(out, a->dtype, 1, &count, "masked_select"))
    return hebb_last_status();
  ops[0] = hebb_unconst(a);
  ops[1] = hebb_unconst(mask);
  c.at = hebb_first(*out);
  c.step = (*out)->stride[0] * isz;
  hebb_loop_init(&lp, 2, ops, nd, shape);
  loop_serial(&lp, isz == 1 ? pick1 : isz == 4 ? pick4 :
                   isz == 8 ? pick8 : pick16, &c);
  return HEBB_OK;
}
