/*
** core.h -- internal declarations shared by the files of the tensor core.
** Not installed; the public API is include/hebb.h.
*/
#ifndef HEBB_CORE_H
#define HEBB_CORE_H

#include <stdarg.h>
#include <stdint.h>

#include "hebb.h"

#define HEBB_VERSION "0.1.0"

/* libhebb.so exports exactly the functions declared in hebb.h's FFI
   block (the build derives a linker version script from it), so the helpers
   declared here stay internal. */
#if defined(__GNUC__)
#define HEBB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HEBB_PRINTF(f, a)
#endif

/* Work below this many elements stays on the calling thread: a fork/join
   costs 3-30 us here, about what 10-100k simple element operations cost. */
#define HEBB_PAR_GRAIN 32768

/* Reductions add up blocks of this many elements and combine the block
   results in order, so the grouping (and the bits) never depend on threads. */
#define HEBB_RED_BLOCK 4096

/* --- error.c --- */
int hebb_fail(int status, const char *fmt, ...) HEBB_PRINTF(2, 3);
void *hebb_fail_null(int status, const char *fmt, ...) HEBB_PRINTF(2, 3);
const char *hebb_shape_str(int ndim, const int64_t *shape, char *buf,
                           size_t size);
#define HEBB_SHAPEBUF 256

/* --- alloc.c: caching allocator for element storage --- */
void *hebb_alloc_bytes(size_t nbytes);
void hebb_free_bytes(void *p, size_t nbytes);

/* --- tensor.c --- */
struct hebb_storage {
  int64_t refcount;
  int64_t nbytes;
  uint64_t version;   /* bumped by in-place writes; autograd checks it */
  int32_t device;     /* 0 = CPU through alloc.c; seam for other backends */
  char *data;
};
hebb_tensor *hebb_tensor_alloc_header(void);
hebb_tensor *hebb_view_of(hebb_tensor *base);   /* new header, same view */
void hebb_set_contiguous_strides(hebb_tensor *t);
int hebb_check_dtype(int dtype, const char *who);
int hebb_check_dim(const hebb_tensor *t, int dim, const char *who);
int64_t hebb_shape_numel(int ndim, const int64_t *shape);
hebb_tensor *hebb_new_like_shape(int dtype, const hebb_tensor *shape_src);
int hebb_prepare_out(hebb_tensor **out, int dtype, int ndim,
                     const int64_t *shape, const char *who);

static inline char *hebb_first(const hebb_tensor *t) {
  return t->data + t->offset * (int64_t)hebb_dtype_size(t->dtype);
}

/* float -> i64 without undefined behaviour: truncates toward zero,
   saturates at the ends of the range, and maps NaN to 0. */
static inline int64_t hebb_f2i(double x) {
  if (x != x) return 0;
  if (x >= 9223372036854775807.0) return INT64_MAX;
  if (x <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)x;
}

/* --- iter.c: broadcasting and strided loops --- */
int hebb_broadcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb,
                         int *nout, int64_t *sout, const char *who);
/* byte strides of t seen through a broadcast to ndim dimensions (t's shape
   aligned to the right; its size-1 and missing dims get stride 0) */
void hebb_broadcast_strides(const hebb_tensor *t, int ndim, int64_t *bstride);

#define HEBB_MAXOPS 4
/* A loop over up to HEBB_MAXOPS operands sharing one shape.  The innermost
   dimension is handed to 'inner' as a count and per-operand byte strides. */
typedef void (*hebb_inner_fn)(int64_t n, char **ptr, const int64_t *stride,
                              void *ud);
typedef struct hebb_loop {
  int nops;
  int ndim;
  int64_t shape[HEBB_MAXDIM];
  int64_t stride[HEBB_MAXOPS][HEBB_MAXDIM];   /* bytes */
  char *base[HEBB_MAXOPS];
} hebb_loop;
/* ops[0] is the output; shapes must already agree (after broadcasting). */
void hebb_loop_init(hebb_loop *lp, int nops, hebb_tensor *const *ops,
                    int ndim, const int64_t *shape);
int hebb_loop_run(const hebb_loop *lp, hebb_inner_fn fn, void *ud,
                  int64_t cost_per_elem);

/* --- parallel.c --- */
typedef void (*hebb_range_fn)(int64_t lo, int64_t hi, void *ud);
/* Runs fn over [0, n) in contiguous chunks, in parallel when n*cost is big
   enough.  Returns HEBB_ERR_INTERRUPTED if an interrupt arrived. */
int hebb_parallel_for(int64_t n, int64_t cost, hebb_range_fn fn, void *ud);
int hebb_check_interrupt(void);   /* status, with message */
int hebb_in_parallel(void);

/* --- copy.c --- */
int hebb_convert_into(hebb_tensor *dst, const hebb_tensor *src);

#endif
