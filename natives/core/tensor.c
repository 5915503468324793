/*
** tensor.c -- tensor headers, storages, reference counting, dtypes.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* --- dtypes ------------------------------------------------------------ */

static const struct { const char *name; int size; } dtypes[] = {
  [HEBB_F64] = {"f64", 8}, [HEBB_F32] = {"f32", 4}, [HEBB_I64] = {"i64", 8},
  [HEBB_BOOL] = {"bool", 1}, [HEBB_C128] = {"c128", 16},
  [HEBB_C64] = {"c64", 8},
};
_Static_assert(sizeof dtypes / sizeof dtypes[0] == HEBB_NDTYPES,
               "tensor.c: one row of dtypes[] per hebb_dtype");

int hebb_dtype_size(int dtype) {
  return (dtype >= 0 && dtype < HEBB_NDTYPES) ? dtypes[dtype].size : 0;
}

const char *hebb_dtype_name(int dtype) {
  return (dtype >= 0 && dtype < HEBB_NDTYPES) ? dtypes[dtype].name : "?";
}

int hebb_dtype_from_name(const char *name) {
  int i;
  for (i = 0; i < HEBB_NDTYPES; i++)
    if (strcmp(name, dtypes[i].name) == 0) return i;
  return -1;
}

int hebb_check_dtype_any(int dtype, const char *who) {
  if (dtype < 0 || dtype >= HEBB_NDTYPES)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: invalid dtype %d", who, dtype);
  return HEBB_OK;
}

/* The check of operations written for real numbers only: complex tensors
   are refused by name, so an operation that has no complex kernel yet
   fails cleanly instead of misreading the elements. */
int hebb_check_dtype(int dtype, const char *who) {
  if (hebb_check_dtype_any(dtype, who)) return hebb_last_status();
  if (hebb_is_complex(dtype))
    return hebb_fail(HEBB_ERR_DTYPE, "%s: dtype %s is not supported yet",
                     who, dtypes[dtype].name);
  return HEBB_OK;
}

/* Promotion: bool < i64 < f32 < f64, and complex above all real dtypes.
   An integer meeting a float takes the float's type (as torch does: f32 +
   i64 is f32); a real meeting a complex dtype gives a complex dtype wide
   enough for both ("category, then width", as torch: f64 with c64 is c128,
   f32 or i64 with c64 is c64). */
int hebb_promote(int a, int b) {
  static const int rank[] = {
    [HEBB_BOOL] = 0, [HEBB_I64] = 1, [HEBB_F32] = 2, [HEBB_F64] = 3,
    [HEBB_C64] = 4, [HEBB_C128] = 5,
  };
  _Static_assert(sizeof rank / sizeof rank[0] == HEBB_NDTYPES,
                 "tensor.c: one rank per hebb_dtype");
  if (hebb_is_complex(a) || hebb_is_complex(b))
    return (a == HEBB_F64 || a == HEBB_C128 || b == HEBB_F64 ||
            b == HEBB_C128) ? HEBB_C128 : HEBB_C64;
  return rank[a] >= rank[b] ? a : b;
}

/* --- headers and storage ----------------------------------------------- */

/* Tensor headers and storage records are recycled through small per-thread
   free lists: a 1-element `a + b` is dominated by bookkeeping, and glibc's
   per-thread cache overflows when the Lua collector frees hundreds of
   tensors at once. */
#define RECYCLE 512

typedef struct recycler { void *item[RECYCLE]; int n; } recycler;
static _Thread_local recycler headers, storages;

static void *take(recycler *r, size_t size) {
  void *p = r->n > 0 ? r->item[--r->n] : malloc(size);
  if (p) HEBB_UNPOISON(p, size);
  return p;
}

/* under ASan a recycled record is poisoned until it is taken again */
static void give(recycler *r, void *p, size_t size) {
  if (!p) return;
  if (r->n < RECYCLE) {
    r->item[r->n++] = p;
    HEBB_POISON(p, size);
  } else {
    free(p);
  }
}

size_t hebb_sizeof_tensor(void) { return sizeof(hebb_tensor); }

static hebb_tensor *alloc_header(void) {
  hebb_tensor *t = take(&headers, sizeof(hebb_tensor));
  if (!t) return hebb_fail_null(HEBB_ERR_NOMEM, "out of memory (tensor header)");
  memset(t, 0, offsetof(hebb_tensor, shape));
  t->refcount = 1;
  return t;
}

/* --- checked size arithmetic ------------------------------------------ */

/* Every element count, byte size, stride and offset computed from sizes a
   user gave goes through these: an unchecked product wrapped around
   (expand(2^21, 2^21, 2^21) counted -2^63 elements and summed to -0.0;
   sparse.eye(2^62) allocated 0 bytes and wrote past them). */
hebb_status hebb_size_mul(int64_t a, int64_t b, int64_t *r, const char *who) {
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, r) ||
      *r > HEBB_MAX_ELEMS)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: too many elements (%lld x %lld > 2^56)",
                     who, (long long)a, (long long)b);
  return HEBB_OK;
}

hebb_status hebb_size_add(int64_t a, int64_t b, int64_t *r, const char *who) {
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, r) ||
      *r > HEBB_MAX_ELEMS)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: too many elements (%lld + %lld > 2^56)",
                     who, (long long)a, (long long)b);
  return HEBB_OK;
}

hebb_status hebb_check_shape(int ndim, const int64_t *shape, int64_t *numel,
                             const char *who) {
  char b[HEBB_SHAPEBUF];
  int64_t n = 1;
  int i;
  if (ndim < 0 || ndim > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: %d dimensions (at most %d)", who,
                     ndim, HEBB_MAXDIM);
  for (i = 0; i < ndim; i++)
    if (shape[i] < 0)
      return hebb_fail(HEBB_ERR_SHAPE, "%s: negative size %lld in dim %d",
                       who, (long long)shape[i], i + 1);
  /* size-0 dims count as 1 here, as in the strides of an empty tensor,
     which must not overflow either */
  for (i = 0; i < ndim; i++)
    if (__builtin_mul_overflow(n, shape[i] > 0 ? shape[i] : 1, &n) ||
        n > HEBB_MAX_ELEMS)
      return hebb_fail(HEBB_ERR_SHAPE, "%s: too many elements in shape %s "
                       "(at most 2^56)", who,
                       hebb_shape_str(ndim, shape, b, sizeof b));
  for (i = 0; i < ndim; i++)
    if (shape[i] == 0) n = 0;
  if (numel) *numel = n;
  return HEBB_OK;
}

/* Unchecked: for shapes that passed hebb_check_shape (every tensor's). */
int64_t hebb_shape_numel(int ndim, const int64_t *shape) {
  int64_t n = 1;
  int i;
  for (i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

/* Row-major strides; a size-0 dim counts as 1 (as torch's), so an empty
   tensor never gets the stride 0 that marks repeated elements. */
void hebb_set_contiguous_strides(hebb_tensor *t) {
  int64_t s = 1;
  int i;
  for (i = t->ndim - 1; i >= 0; i--) {
    t->stride[i] = s;
    s *= t->shape[i] > 0 ? t->shape[i] : 1;
  }
}

/* A storage record carries room for INLINE_BYTES of elements: a tensor of
   up to 4 doubles needs no block from the allocator (a 1-element `a + b`
   is dominated by such bookkeeping).  Bigger storage comes from alloc.c,
   64-byte aligned. */
#define INLINE_BYTES 32

typedef struct storage_block {
  hebb_storage s;
  double inline_data[INLINE_BYTES / sizeof(double)];
} storage_block;

static char *storage_data(hebb_storage *s) {
  storage_block *b = (storage_block *)s;
  return s->nbytes <= INLINE_BYTES ? (char *)b->inline_data :
         hebb_alloc_bytes((size_t)s->nbytes);
}

/* a header and a storage record for a contiguous tensor, without its
   elements (data NULL) */
static hebb_tensor *new_tensor(int dtype, int ndim, const int64_t *shape) {
  int64_t numel = 0;
  hebb_storage *s;
  hebb_tensor *t;
  if (hebb_check_dtype_any(dtype, "tensor") ||
      hebb_check_shape(ndim, shape, &numel, "tensor"))
    return NULL;
  s = take(&storages, sizeof(storage_block));
  t = alloc_header();
  if (!s || !t) {
    give(&storages, s, sizeof(storage_block));
    give(&headers, t, sizeof(hebb_tensor));
    return hebb_fail_null(HEBB_ERR_NOMEM, "out of memory (tensor header)");
  }
  s->refcount = 1;
  s->version = 0;
  s->allocator = NULL;
  s->nbytes = numel * hebb_dtype_size(dtype);
  s->data = NULL;
  t->dtype = dtype;
  t->ndim = ndim;
  t->storage = s;
  t->data = NULL;
  if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof(int64_t));
  hebb_set_contiguous_strides(t);
  return t;
}

hebb_tensor *hebb_empty(int dtype, int ndim, const int64_t *shape) {
  hebb_tensor *t = new_tensor(dtype, ndim, shape);
  if (!t) return NULL;
  t->data = t->storage->data = storage_data(t->storage);
  if (!t->data) {   /* alloc.c said how much was asked, and why it failed */
    give(&storages, t->storage, sizeof(storage_block));
    give(&headers, t, sizeof(hebb_tensor));
    return NULL;
  }
  return t;
}

hebb_tensor *hebb_tensor_over(int dtype, int ndim, const int64_t *shape,
                              char *data, const hebb_allocator *a, void *ctx) {
  hebb_tensor *t = new_tensor(dtype, ndim, shape);
  if (!t) return NULL;
  t->data = t->storage->data = data;
  t->storage->allocator = a;
  t->storage->allocator_ctx = ctx;
  return t;
}

hebb_tensor *hebb_zeros(int dtype, int ndim, const int64_t *shape) {
  hebb_tensor *t = hebb_empty(dtype, ndim, shape);
  if (t) memset(t->data, 0, (size_t)t->storage->nbytes);
  return t;
}

hebb_tensor *hebb_full(int dtype, int ndim, const int64_t *shape,
                       double value) {
  hebb_tensor *t = hebb_empty(dtype, ndim, shape);
  if (t && hebb_fill(t, value) != HEBB_OK) {
    hebb_release(t);
    return NULL;
  }
  return t;
}

/* The one door through which outside bytes become elements (T.frombytes,
   hebb.io.load).  A bool byte other than 0 or 1 is no valid _Bool: loads
   of it gave different sums per build (the compiler may test the low bit
   or the whole byte), so any nonzero byte becomes true here. */
hebb_tensor *hebb_from_buffer(int dtype, int ndim, const int64_t *shape,
                              const void *src) {
  hebb_tensor *t = hebb_empty(dtype, ndim, shape);
  int64_t i;
  if (!t || t->storage->nbytes == 0) return t;
  if (dtype != HEBB_BOOL) {
    memcpy(t->data, src, (size_t)t->storage->nbytes);
    return t;
  }
  for (i = 0; i < t->storage->nbytes; i++)
    ((unsigned char *)t->data)[i] = ((const unsigned char *)src)[i] != 0;
  return t;
}

void hebb_retain(hebb_tensor *t) {
  if (t) t->refcount++;
}

static void storage_release(hebb_storage *s) {
  if (s && --s->refcount == 0) {
    if (s->allocator)
      s->allocator->release(s->allocator_ctx, s->data, s->nbytes);
    else if (s->nbytes > INLINE_BYTES)
      hebb_free_bytes(s->data, (size_t)s->nbytes);
    give(&storages, s, sizeof(storage_block));
  }
}

void hebb_release(hebb_tensor *t) {
  /* a boxed header belongs to its Lua box: its memory is the box's */
  if (t && --t->refcount == 0 && !(t->flags & HEBB_TF_BOXED)) {
    storage_release(t->storage);
    give(&headers, t, sizeof(hebb_tensor));
  }
}

/* A new header showing the same elements as 'base' (shares its storage). */
hebb_tensor *hebb_view_of(hebb_tensor *base) {
  hebb_tensor *t = alloc_header();
  if (!t) return NULL;
  memcpy(t, base, sizeof(*t));
  t->refcount = 1;
  t->flags = 0;
  if (t->storage) t->storage->refcount++;
  return t;
}

/* --- inspection -------------------------------------------------------- */

int64_t hebb_numel(const hebb_tensor *t) {
  return hebb_shape_numel(t->ndim, t->shape);
}

bool hebb_is_contiguous(const hebb_tensor *t) {
  int64_t s = 1;
  int i;
  for (i = 0; i < t->ndim; i++)
    if (t->shape[i] == 0) return true;   /* nothing to lay out */
  for (i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->stride[i] != s) return false;
    s *= t->shape[i];
  }
  return true;
}

void *hebb_data_ptr(const hebb_tensor *t) { return hebb_first(t); }

uint64_t hebb_version_counter(const hebb_tensor *t) {
  return t->storage ? t->storage->version : 0;
}

void hebb_bump_version(hebb_tensor *t) {
  if (t->storage) t->storage->version++;
}

bool hebb_same_storage(const hebb_tensor *a, const hebb_tensor *b) {
  return a->storage && a->storage == b->storage;
}

int hebb_check_dim(const hebb_tensor *t, int dim, const char *who) {
  if (dim < 0 || dim >= t->ndim)
    return hebb_fail(HEBB_ERR_INDEX, "%s: dimension %d out of range for a "
                     "%d-dimensional tensor", who, dim + 1, t->ndim);
  return HEBB_OK;
}

static int locate(const hebb_tensor *t, const int64_t *index, char **p) {
  int64_t off = t->offset;
  int i;
  for (i = 0; i < t->ndim; i++) {
    if (index[i] < 0 || index[i] >= t->shape[i])
      return hebb_fail(HEBB_ERR_INDEX, "index %lld out of range for dim %d of "
                       "size %lld", (long long)index[i] + 1, i + 1,
                       (long long)t->shape[i]);
    off += index[i] * t->stride[i];
  }
  *p = t->data + off * hebb_dtype_size(t->dtype);
  return HEBB_OK;
}

hebb_status hebb_get(const hebb_tensor *t, const int64_t *index,
                     double *value) {
  char *p = NULL;
  if (locate(t, index, &p)) return hebb_last_status();
  switch (t->dtype) {
    case HEBB_F64: *value = *(double *)p; break;
    case HEBB_F32: *value = *(float *)p; break;
    case HEBB_I64: *value = (double)*(int64_t *)p; break;
    case HEBB_BOOL: *value = *(bool *)p; break;
    default: return hebb_check_dtype(t->dtype, "get");
  }
  return HEBB_OK;
}

hebb_status hebb_get_i64(const hebb_tensor *t, const int64_t *index,
                         int64_t *value) {
  double d;
  char *p = NULL;
  if (t->dtype != HEBB_I64) {
    int st = hebb_get(t, index, &d);
    *value = (int64_t)d;
    return st;
  }
  if (locate(t, index, &p)) return hebb_last_status();
  *value = *(int64_t *)p;
  return HEBB_OK;
}

hebb_status hebb_set(hebb_tensor *t, const int64_t *index, double value) {
  char *p = NULL;
  if (locate(t, index, &p)) return hebb_last_status();
  if (t->dtype < 0 || t->dtype >= HEBB_NDTYPES)
    return hebb_check_dtype(t->dtype, "set");
  hebb_put_f64(t->dtype, p, value);
  hebb_bump_version(t);
  return HEBB_OK;
}

hebb_status hebb_set_i64(hebb_tensor *t, const int64_t *index, int64_t value) {
  char *p = NULL;
  if (t->dtype != HEBB_I64) return hebb_set(t, index, (double)value);
  if (locate(t, index, &p)) return hebb_last_status();
  *(int64_t *)p = value;
  hebb_bump_version(t);
  return HEBB_OK;
}

/* Makes *out ready to receive a result of the given dtype and shape: a new
   tensor when *out is NULL, otherwise a check that it fits and that each of
   its elements owns its memory (hebb_check_writable). */
hebb_status hebb_prepare_out(hebb_tensor **out, int dtype, int ndim,
                             const int64_t *shape, const char *who) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  hebb_tensor *o = *out;
  if (!o) {
    *out = hebb_empty(dtype, ndim, shape);
    return *out ? HEBB_OK : hebb_last_status();
  }
  if (o->ndim != ndim || memcmp(o->shape, shape, (size_t)ndim * 8) != 0)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: out has shape %s, result has %s", who,
                     hebb_shape_str(o->ndim, o->shape, b1, sizeof b1),
                     hebb_shape_str(ndim, shape, b2, sizeof b2));
  if (o->dtype != dtype)
    return hebb_fail(HEBB_ERR_DTYPE, "%s: out has dtype %s, result is %s", who,
                     hebb_dtype_name(o->dtype), hebb_dtype_name(dtype));
  if (hebb_check_writable(o, who)) return hebb_last_status();
  hebb_bump_version(o);
  return HEBB_OK;
}

int64_t hebb_storage_nbytes(const hebb_tensor *t) {
  return t->storage ? t->storage->nbytes : 0;
}

int64_t hebb_storage_refs(const hebb_tensor *t) {
  return t->storage ? t->storage->refcount : 0;
}

hebb_status hebb_out_end(hebb_tensor **out, int made, int status) {
  if (status != HEBB_OK && made) {
    hebb_release(*out);
    *out = NULL;
  }
  return status;
}

hebb_status hebb_out_deliver(int n, hebb_tensor ***outs, hebb_tensor **res,
                             const char *who) {
  int i, st = HEBB_OK;
  for (i = 0; i < n && st == HEBB_OK; i++)   /* check every given out first */
    if (outs[i] && *outs[i])
      st = hebb_prepare_out(outs[i], res[i]->dtype, res[i]->ndim,
                            res[i]->shape, who);
  for (i = 0; i < n && st == HEBB_OK; i++) {
    if (!outs[i]) continue;
    if (*outs[i]) st = hebb_copy(*outs[i], res[i]);
    else {   /* moved: res[i] is NULL from here on */
      *outs[i] = res[i];
      res[i] = NULL;
    }
  }
  for (i = 0; i < n && st != HEBB_OK; i++)   /* take back what was moved */
    if (outs[i] && !res[i]) hebb_drop(0, 1, outs[i]);
  return hebb_drop(st, n, res);
}

hebb_status hebb_drop(int st, int n, hebb_tensor **ts) {
  int i;
  for (i = 0; i < n; i++) {
    hebb_release(ts[i]);
    ts[i] = NULL;
  }
  return st;
}
