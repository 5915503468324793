/*
** io_ckpt.c -- hebb's checkpoint format: a value made of tables, lists,
** numbers, strings, booleans and tensors, as data only.  docs/io.md has
** it byte by byte; in short, a 48-byte header, the value section (one
** tagged value in prefix order), zero padding to a multiple of 64, and the
** data section (each tensor's elements as they lie in memory,
** little-endian, each block 64-byte aligned).  Two CRC-32Cs cover the
** header with the value section, and the data section.
**
** The format replaced a Lua expression that was evaluated at load time:
** a 60-byte file could make that load allocate 6.3 GB, hang it, or read
** header bytes as tensor data through a negative offset, and a table
** nested 200 deep could be saved but not loaded.  Here nothing is ever
** evaluated; a load checks every size and offset against the file, and
** adds up what the value will cost in memory, before it allocates
** anything; nesting is tracked on the heap, never on the C stack.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "io_ckpt.c writes tensor data as it lies in memory: little-endian only"
#endif

#define MAGIC "\x89HEBB\r\n\x1a"
#define VERSION 1
enum { HEADER = 48, ALIGN = 64, TENSOR_FIXED = 8 };

/* What a value costs once built, counted generously (Lua 5.4, x86-64: a
   table is 56 bytes, a hash node 32, an array slot 16, a string 25 plus
   its length; a tensor's box, header and storage record about 430). */
enum { COST_ITEM = 32, COST_TABLE = 64, COST_STRING = 32, COST_TENSOR = 512 };

/* one open table or list: items still to come (a table's count is twice
   its pairs: keys and values alternate) */
typedef struct frame {
  int64_t left;
  bool table;
} frame;

/* a tensor of the value: its descriptor as the header holds it */
typedef struct tdesc {
  int dtype, ndim;
  int64_t shape[HEBB_MAXDIM], stride[HEBB_MAXDIM];
  int64_t offset, nbytes, numel;
} tdesc;

/* a tensor a writer will write: the tensor (or its dense copy) and where
   its bytes go in the data section */
typedef struct wtensor {
  hebb_tensor *t;
  int64_t offset, nbytes;
} wtensor;

struct hebb_ckpt {
  frame *stack;
  int64_t depth, cap_stack;
  bool done;                 /* the value is complete */
  /* writer */
  unsigned char *buf;        /* the value section */
  int64_t len, cap;
  wtensor *ts;
  int64_t nts, cap_ts, data_end;
  /* reader */
  hebb_src src;
  unsigned char *owned;      /* the value section read from a file */
  const unsigned char *val;  /* the value section */
  int64_t vsize, pos, at;    /* its size, the next byte, the last item's */
  int64_t data_start, data_size, data_pos, next_data;
  uint32_t value_crc, data_crc, crc;
  bool checked, ended;
  char prefix[700];          /* "io.load: 'path'", for the binding */
  tdesc td;                  /* the last tensor next returned */
  bool tensor_pending;
};

static inline uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static inline uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static inline void put64(unsigned char *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++, v >>= 8) p[i] = (unsigned char)v;
}

static inline void put32(unsigned char *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++, v >>= 8) p[i] = (unsigned char)v;
}

static inline int64_t align_up(int64_t n) {
  return (n + ALIGN - 1) / ALIGN * ALIGN;
}

/* --- nesting (shared by writer and reader) ----------------------------- */

/* 0: the value itself, 1: a table key, 2: a table value, 3: a list item */
static int role(const hebb_ckpt *c) {
  const frame *f;
  if (c->depth == 0) return 0;
  f = &c->stack[c->depth - 1];
  if (!f->table) return 3;
  return f->left % 2 == 0 ? 1 : 2;
}

static bool push_frame(hebb_ckpt *c, int64_t items, bool table) {
  if (c->depth == c->cap_stack) {
    int64_t cap = c->cap_stack ? 2 * c->cap_stack : 16;
    frame *s = realloc(c->stack, (size_t)cap * sizeof *s);
    if (!s) return false;
    c->stack = s;
    c->cap_stack = cap;
  }
  c->stack[c->depth].left = items;
  c->stack[c->depth].table = table;
  c->depth++;
  return true;
}

/* an item is complete: count it, and close the containers it completes */
static void complete(hebb_ckpt *c) {
  while (c->depth > 0) {
    if (--c->stack[c->depth - 1].left > 0) return;
    c->depth--;
  }
  c->done = true;
}

/* after an item of kind with count n: opens it or completes it */
static bool settle(hebb_ckpt *c, int kind, int64_t n) {
  if ((kind == HEBB_CK_TABLE || kind == HEBB_CK_LIST) && n > 0)
    return push_frame(c, kind == HEBB_CK_TABLE ? 2 * n : n,
                      kind == HEBB_CK_TABLE);
  complete(c);
  return true;
}

/* why an item of this kind cannot come here (NULL: it can) */
static const char *misplaced(const hebb_ckpt *c, int kind, double f) {
  int r = role(c);
  if (c->done) return "a value after the end of the value";
  if (r == 1 && kind != HEBB_CK_FALSE && kind != HEBB_CK_TRUE &&
      kind != HEBB_CK_INT && kind != HEBB_CK_FLOAT && kind != HEBB_CK_STRING)
    return "a table key that is not a boolean, number or string";
  if (r == 1 && kind == HEBB_CK_FLOAT && f != f) return "a table key that is NaN";
  if (r >= 2 && kind == HEBB_CK_NIL) return "nil inside a table";
  return NULL;
}

/* --- tensors: which layouts are one dense block ------------------------- */

/* Whether the elements fill exactly numel consecutive places (the dims of
   size > 1, sorted by stride, have strides 1, n1, n1*n2, ...): such a
   tensor is written as it lies, with its strides, and such strides are the
   only ones a file may give. */
static bool dense_strides(int ndim, const int64_t *shape,
                          const int64_t *stride) {
  int idx[HEBB_MAXDIM], n = 0, i, j;
  int64_t expect = 1;
  for (i = 0; i < ndim; i++) {
    if (shape[i] == 0) return true;
    if (shape[i] > 1) idx[n++] = i;
  }
  for (i = 1; i < n; i++)   /* insertion sort of at most 16 dims */
    for (j = i; j > 0 && stride[idx[j]] < stride[idx[j - 1]]; j--) {
      int k = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = k;
    }
  for (i = 0; i < n; i++) {
    if (stride[idx[i]] != expect) return false;
    expect *= shape[idx[i]];
  }
  return true;
}

/* --- writer -------------------------------------------------------------- */

hebb_ckpt *hebb_ckpt_writer(void) {
  hebb_ckpt *w = calloc(1, sizeof *w);
  if (!w) return hebb_fail_null(HEBB_ERR_NOMEM, "io.save: out of memory");
  w->src.fd = -1;
  return w;
}

static int grow(hebb_ckpt *w, int64_t n) {
  if (n > w->cap - w->len) {
    int64_t cap = w->cap ? w->cap : 256;
    unsigned char *b;
    while (cap - w->len < n) cap *= 2;
    b = realloc(w->buf, (size_t)cap);
    if (!b) return hebb_fail(HEBB_ERR_NOMEM, "io.save: out of memory");
    w->buf = b;
    w->cap = cap;
  }
  return HEBB_OK;
}

static int begin(hebb_ckpt *w, int kind, double f, int64_t payload) {
  const char *why = misplaced(w, kind, f);
  if (why) return hebb_fail(HEBB_ERR_ARG, "io.save: %s", why);
  if (grow(w, 1 + payload) != HEBB_OK) return hebb_last_status();
  w->buf[w->len++] = (unsigned char)kind;
  return HEBB_OK;
}

static int wrote(hebb_ckpt *w, int kind, int64_t n) {
  if (!settle(w, kind, n))
    return hebb_fail(HEBB_ERR_NOMEM, "io.save: out of memory");
  return HEBB_OK;
}

int hebb_ckpt_put(hebb_ckpt *w, int kind, int64_t n, double f) {
  uint64_t bits;
  int64_t payload = kind >= HEBB_CK_INT ? 8 : 0;
  if (kind < HEBB_CK_NIL || kind > HEBB_CK_LIST || kind == HEBB_CK_STRING ||
      ((kind == HEBB_CK_TABLE || kind == HEBB_CK_LIST) && n < 0))
    return hebb_fail(HEBB_ERR_ARG, "io.save: bad item (kind %d, n %lld)",
                     kind, (long long)n);
  if (begin(w, kind, f, payload) != HEBB_OK) return hebb_last_status();
  memcpy(&bits, &f, 8);
  if (payload) put64(w->buf + w->len, kind == HEBB_CK_FLOAT ? bits : (uint64_t)n);
  w->len += payload;
  return wrote(w, kind, n);
}

int hebb_ckpt_put_string(hebb_ckpt *w, const char *s, int64_t len) {
  if (begin(w, HEBB_CK_STRING, 0, 8 + len) != HEBB_OK) return hebb_last_status();
  put64(w->buf + w->len, (uint64_t)len);
  if (len > 0) memcpy(w->buf + w->len + 8, s, (size_t)len);
  w->len += 8 + len;
  return wrote(w, HEBB_CK_STRING, 0);
}

/* the tensor to write for t: t itself when dense, else a contiguous copy */
static hebb_tensor *writable_form(hebb_tensor *t) {
  if (dense_strides(t->ndim, t->shape, t->stride)) {
    hebb_retain(t);
    return t;
  }
  return hebb_contiguous(t);
}

static int add_tensor(hebb_ckpt *w, hebb_tensor *t, int64_t nbytes) {
  if (w->nts == w->cap_ts) {
    int64_t cap = w->cap_ts ? 2 * w->cap_ts : 16;
    wtensor *ts = realloc(w->ts, (size_t)cap * sizeof *ts);
    if (!ts) return hebb_fail(HEBB_ERR_NOMEM, "io.save: out of memory");
    w->ts = ts;
    w->cap_ts = cap;
  }
  w->ts[w->nts].t = t;
  w->ts[w->nts].offset = align_up(w->data_end);
  w->ts[w->nts].nbytes = nbytes;
  w->data_end = align_up(w->data_end) + nbytes;
  w->nts++;
  return HEBB_OK;
}

int hebb_ckpt_put_tensor(hebb_ckpt *w, hebb_tensor *t) {
  int64_t n = 2 * 8 * (int64_t)t->ndim + 16, nbytes, i, s;
  unsigned char *p;
  hebb_tensor *c;
  if (begin(w, HEBB_CK_TENSOR, 0, TENSOR_FIXED - 1 + n) != HEBB_OK)
    return hebb_last_status();
  w->len--;   /* the tag goes back in with the rest, once all went well */
  if (!(c = writable_form(t))) return hebb_last_status();
  nbytes = hebb_numel(c) * hebb_dtype_size(c->dtype);
  if (add_tensor(w, c, nbytes) != HEBB_OK) {
    hebb_release(c);
    return hebb_last_status();
  }
  p = w->buf + w->len;
  memset(p, 0, TENSOR_FIXED);
  p[0] = HEBB_CK_TENSOR;
  p[1] = (unsigned char)c->dtype;
  p[2] = (unsigned char)c->ndim;
  p += TENSOR_FIXED;
  /* the strides as the elements lie; a dim of size 1 (whose stride is
     never used) and every dim of an empty tensor get row-major ones */
  for (i = c->ndim - 1, s = 1; i >= 0; s *= c->shape[i], i--) {
    put64(p + 8 * i, (uint64_t)c->shape[i]);
    put64(p + 8 * (c->ndim + i), (uint64_t)(c->shape[i] > 1 && nbytes > 0 ?
                                            c->stride[i] : s));
  }
  p += 16 * (int64_t)c->ndim;
  put64(p, (uint64_t)w->ts[w->nts - 1].offset);
  put64(p + 8, (uint64_t)nbytes);
  w->len += TENSOR_FIXED + n;
  return wrote(w, HEBB_CK_TENSOR, 0);
}

int64_t hebb_ckpt_encoded_size(hebb_ckpt *w) {
  if (!w->done) {
    hebb_fail(HEBB_ERR_ARG, "io.save: the value is incomplete (%lld "
              "containers still open)", (long long)w->depth);
    return -1;
  }
  return align_up(HEADER + w->len) + w->data_end;
}

static void header_bytes(hebb_ckpt *w, unsigned char *h) {
  uint32_t crc = 0;
  int64_t i, end = 0;
  static const unsigned char zero[ALIGN];
  memset(h, 0, HEADER);
  memcpy(h, MAGIC, 8);
  put32(h + 8, VERSION);
  put64(h + 16, (uint64_t)w->len);
  put64(h + 24, (uint64_t)w->data_end);
  for (i = 0; i < w->nts; i++) {
    crc = hebb_crc32c(crc, zero, w->ts[i].offset - end);
    crc = hebb_crc32c(crc, hebb_data_ptr(w->ts[i].t), w->ts[i].nbytes);
    end = w->ts[i].offset + w->ts[i].nbytes;
  }
  put32(h + 36, crc);
  crc = hebb_crc32c(0, h, 32);
  put32(h + 32, hebb_crc32c(crc, w->buf, w->len));
}

static int emit(hebb_ckpt *w, hebb_sink *s) {
  unsigned char h[HEADER];
  int64_t i, end = 0;
  header_bytes(w, h);
  if (hebb_sink_write(s, h, HEADER) || hebb_sink_write(s, w->buf, w->len) ||
      hebb_sink_zeros(s, align_up(HEADER + w->len) - HEADER - w->len))
    return hebb_last_status();
  for (i = 0; i < w->nts; i++) {
    if (hebb_sink_zeros(s, w->ts[i].offset - end) ||
        hebb_sink_write(s, hebb_data_ptr(w->ts[i].t), w->ts[i].nbytes))
      return hebb_last_status();
    end = w->ts[i].offset + w->ts[i].nbytes;
  }
  return HEBB_OK;
}

int hebb_ckpt_encode(hebb_ckpt *w, void *dst, int64_t size) {
  hebb_sink s;
  if (hebb_ckpt_encoded_size(w) < 0) return hebb_last_status();
  hebb_sink_buffer(&s, dst, size, "io.encode");
  return emit(w, &s);
}

int hebb_ckpt_save(hebb_ckpt *w, const char *path) {
  hebb_sink s;
  if (hebb_ckpt_encoded_size(w) < 0) return hebb_last_status();
  if (hebb_sink_open(&s, path, "io.save") != HEBB_OK) return hebb_last_status();
  if (emit(w, &s) != HEBB_OK) {
    hebb_sink_abort(&s);
    return hebb_last_status();
  }
  return hebb_sink_commit(&s);
}

/* --- reader: errors ------------------------------------------------------- */

/* "io.load: 'path', byte 57: <what>" */
#define bad(r, at, ...) hebb_src_bad(&(r)->src, (at), __VA_ARGS__)

/* --- reader: the fixed header -------------------------------------------- */

static int check_magic(hebb_ckpt *r, const unsigned char *h, int64_t n) {
  if (n == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is empty (0 bytes)", r->src.who,
                     r->src.label);
  if (n >= 8 && memcmp(h, MAGIC, 8) == 0) return HEBB_OK;
  if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is a numpy .npy file, not a hebb "
                     "checkpoint (use io.load_npy)", r->src.who, r->src.label);
  if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is a zip file (.npz?), not a hebb "
                     "checkpoint (use io.load_npz)", r->src.who, r->src.label);
  if (n >= 8 && memcmp(h, "\x89HDF\r\n\x1a\n", 8) == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is an HDF5 file, not a hebb "
                     "checkpoint (use io.h5open)", r->src.who, r->src.label);
  if (n >= 8 && memcmp(h, "hebb-io ", 8) == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is in hebb's old expression "
                     "format, which is no longer read (it ran code)",
                     r->src.who, r->src.label);
  return hebb_fail(HEBB_ERR_IO, "%s: %s is not a hebb checkpoint (its first "
                   "bytes are not \\x89HEBB\\r\\n\\x1a)", r->src.who,
                   r->src.label);
}

static int read_header(hebb_ckpt *r) {
  unsigned char h[HEADER];
  int64_t n = r->src.size < HEADER ? r->src.size : HEADER;
  uint64_t vs, ds;
  if (hebb_src_read(&r->src, 0, h, n, "the header") != HEBB_OK ||
      check_magic(r, h, n) != HEBB_OK)
    return hebb_last_status();
  if (n < HEADER)
    return hebb_src_read(&r->src, 0, h, HEADER, "the 48-byte header");
  if (get32(h + 8) != VERSION)
    return bad(r, 8, "format version %u, but this hebb reads version %d",
               (unsigned)get32(h + 8), VERSION);
  if (get32(h + 12) != 0 || get64(h + 40) != 0)
    return bad(r, get32(h + 12) ? 12 : 40, "reserved header bytes are not "
               "zero");
  vs = get64(h + 16);
  ds = get64(h + 24);
  if (vs > (uint64_t)r->src.size || ds > (uint64_t)r->src.size ||
      align_up(HEADER + (int64_t)vs) + (int64_t)ds != r->src.size) {
    int64_t want = vs > (uint64_t)r->src.size || ds > (uint64_t)r->src.size
                   ? -1 : align_up(HEADER + (int64_t)vs) + (int64_t)ds;
    if (want >= 0 && want > r->src.size)
      return hebb_fail(HEBB_ERR_IO, "%s: %s is truncated: its header "
                       "announces %lld bytes, the file has %lld", r->src.who,
                       r->src.label, (long long)want, (long long)r->src.size);
    if (want >= 0)
      return hebb_fail(HEBB_ERR_IO, "%s: %s has %lld bytes after the end "
                       "its header announces (%lld bytes)", r->src.who,
                       r->src.label, (long long)(r->src.size - want),
                       (long long)want);
    return bad(r, vs > (uint64_t)r->src.size ? 16 : 24, "a section size of "
               "%llu bytes, larger than the whole file (%lld bytes)",
               (unsigned long long)(vs > (uint64_t)r->src.size ? vs : ds),
               (long long)r->src.size);
  }
  r->vsize = (int64_t)vs;
  r->data_size = (int64_t)ds;
  r->data_start = align_up(HEADER + r->vsize);
  r->value_crc = get32(h + 32);
  r->data_crc = get32(h + 36);
  r->crc = hebb_crc32c(0, h, 32);
  return HEBB_OK;
}

static int read_values(hebb_ckpt *r) {
  if (r->src.fd < 0) {
    r->val = r->src.mem + HEADER;
  } else {
    if (!(r->owned = malloc((size_t)r->vsize + 1)))
      return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", r->src.who);
    if (hebb_src_read(&r->src, HEADER, r->owned, r->vsize, "the value "
                      "section") != HEBB_OK)
      return hebb_last_status();
    r->val = r->owned;
  }
  r->crc = hebb_crc32c(r->crc, r->val, r->vsize);
  if (r->crc != r->value_crc)
    return bad(r, 32, "the header's checksum does not match (stored 0x%08x, "
               "computed 0x%08x): the file is damaged",
               (unsigned)r->value_crc, (unsigned)r->crc);
  return HEBB_OK;
}

/* --- reader: one item ----------------------------------------------------- */

/* n bytes of the value section from r->pos, or an error saying what */
static const unsigned char *take(hebb_ckpt *r, int64_t n, const char *what) {
  const unsigned char *p;
  if (n > r->vsize - r->pos) {
    bad(r, r->at, "%s needs %lld bytes, the value section has %lld "
        "left", what, (long long)n, (long long)(r->vsize - r->pos));
    return NULL;
  }
  p = r->val + r->pos;
  r->pos += n;
  return p;
}

static int tensor_shape(hebb_ckpt *r, tdesc *d, const unsigned char *p) {
  int i, size = hebb_dtype_size(d->dtype);
  int64_t expect, span = 1;   /* span: the product of the nonzero sizes */
  d->numel = 1;
  for (i = 0; i < d->ndim; i++) {
    uint64_t n = get64(p + 8 * i);
    if (n > (uint64_t)INT64_MAX)
      return bad(r, r->at, "tensor size %lld in dim %d is negative",
                 (long long)n, i + 1);
    d->shape[i] = (int64_t)n;
    if (n > 0 && span > INT64_MAX / 16 / (int64_t)n)
      return bad(r, r->at, "tensor shape overflows (the product of its "
                 "sizes exceeds 2^59 elements)");
    span *= n > 0 ? (int64_t)n : 1;
    d->numel *= (int64_t)n;
  }
  for (i = d->ndim - 1, expect = 1; i >= 0; expect *= d->shape[i], i--) {
    uint64_t s = get64(p + 8 * (d->ndim + i));
    if (d->numel == 0 ? s != (uint64_t)expect : s > (uint64_t)d->numel)
      return bad(r, r->at, "tensor stride %lld in dim %d is %s",
                 (long long)s, i + 1, d->numel == 0 ? "not the row-major "
                 "one (the tensor is empty)" : "negative or beyond its "
                 "elements");
    d->stride[i] = (int64_t)s;
  }
  if (!dense_strides(d->ndim, d->shape, d->stride))
    return bad(r, r->at, "tensor strides leave gaps or overlap (they must "
               "place the elements in one dense block)");
  if (get64(p + 16 * d->ndim + 8) != (uint64_t)(d->numel * size))
    return bad(r, r->at, "tensor of %lld %s elements claims %llu bytes "
               "(%lld expected)", (long long)d->numel,
               hebb_dtype_name(d->dtype),
               (unsigned long long)get64(p + 16 * d->ndim + 8),
               (long long)(d->numel * size));
  d->nbytes = d->numel * size;
  return HEBB_OK;
}

/* where its data lies: the next 64-byte boundary after the previous
   tensor's data, within the data section */
static int tensor_place(hebb_ckpt *r, tdesc *d, const unsigned char *p) {
  int64_t off = (int64_t)get64(p + 16 * d->ndim);
  int64_t want = align_up(r->next_data);
  if (off != want)
    return bad(r, r->at, "tensor data offset %lld %s (this tensor's data "
               "must begin at offset %lld of the data section)",
               (long long)off, off < 0 ? "is negative" : off < r->next_data ?
               "overlaps the data before it" : "is not where it must be",
               (long long)want);
  if (d->nbytes > r->data_size - want)
    return bad(r, r->at, "tensor data (%lld bytes at offset %lld) runs past "
               "the data section (%lld bytes)", (long long)d->nbytes,
               (long long)want, (long long)r->data_size);
  d->offset = want;
  r->next_data = want + d->nbytes;
  return HEBB_OK;
}

static int read_tensor_desc(hebb_ckpt *r, tdesc *d) {
  const unsigned char *p = take(r, TENSOR_FIXED - 1, "a tensor's header");
  int i;
  if (!p) return hebb_last_status();
  d->dtype = p[0];
  d->ndim = p[1];
  if (d->dtype >= HEBB_NDTYPES)
    return bad(r, r->at, "tensor dtype code %d is unknown (hebb has 0 f64, "
               "1 f32, 2 i64, 3 bool, 4 c128, 5 c64)", d->dtype);
  if (d->ndim > HEBB_MAXDIM)
    return bad(r, r->at, "tensor has %d dimensions (at most %d)", d->ndim,
               (int)HEBB_MAXDIM);
  for (i = 2; i < TENSOR_FIXED - 1; i++)
    if (p[i]) return bad(r, r->at, "reserved tensor header bytes are not zero");
  if (!(p = take(r, 16 * (int64_t)d->ndim + 16, "a tensor's shape")))
    return hebb_last_status();
  if (tensor_shape(r, d, p) != HEBB_OK || tensor_place(r, d, p) != HEBB_OK)
    return hebb_last_status();
  return HEBB_OK;
}

/* a count of items that each take at least 'least' bytes must fit in what
   is left of the value section (a table's pairs take 2, a list's items 1) */
static int check_count(hebb_ckpt *r, int64_t n, int least, const char *what) {
  if (n < 0 || n > (r->vsize - r->pos) / least)
    return bad(r, r->at, "%s of %lld items cannot fit in the %lld bytes left",
               what, (long long)n, (long long)(r->vsize - r->pos));
  return HEBB_OK;
}

static int payload(hebb_ckpt *r, int kind, int64_t *n, double *f,
                   const char **s) {
  const unsigned char *p;
  if (kind < HEBB_CK_INT) return HEBB_OK;
  if (kind == HEBB_CK_TENSOR) return read_tensor_desc(r, &r->td);
  if (!(p = take(r, 8, "a number or length"))) return hebb_last_status();
  *n = (int64_t)get64(p);
  if (kind == HEBB_CK_FLOAT) memcpy(f, p, 8);
  if (kind == HEBB_CK_TABLE) return check_count(r, *n, 2, "a table");
  if (kind == HEBB_CK_LIST) return check_count(r, *n, 1, "a list");
  if (kind == HEBB_CK_STRING) {
    if (*n < 0 || *n > r->vsize - r->pos)
      return bad(r, r->at, "a string of %llu bytes runs past the value "
                 "section (%lld bytes left)", (unsigned long long)*n,
                 (long long)(r->vsize - r->pos));
    *s = (const char *)r->val + r->pos;
    r->pos += *n;
  }
  return HEBB_OK;
}

static int64_t item_cost(int kind, int64_t n, const tdesc *d) {
  switch (kind) {
    case HEBB_CK_STRING: return COST_ITEM + COST_STRING + n;
    case HEBB_CK_TABLE: case HEBB_CK_LIST: return COST_ITEM + COST_TABLE;
    case HEBB_CK_TENSOR: return COST_ITEM + COST_TENSOR + d->nbytes;
    default: return COST_ITEM;
  }
}

/* decodes the next item (validating it) and advances the nesting */
static int step(hebb_ckpt *r, int *kind, int64_t *n, double *f,
                const char **s) {
  const char *why;
  *n = 0;
  *f = 0;
  *s = NULL;
  r->at = HEADER + r->pos;
  if (r->pos >= r->vsize)
    return bad(r, r->at, "the value section ends inside a %s",
               r->depth ? "table or list" : "value");
  *kind = r->val[r->pos++];
  if (*kind > HEBB_CK_TENSOR)
    return bad(r, r->at, "unknown value tag 0x%02x", *kind);
  if (payload(r, *kind, n, f, s) != HEBB_OK) return hebb_last_status();
  if ((why = misplaced(r, *kind, *f))) return bad(r, r->at, "%s", why);
  if (!settle(r, *kind, *n))
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", r->src.who);
  return HEBB_OK;
}

/* the whole value section, once, before anything is built: structure,
   every tensor's place, and the memory it will all take */
static int check_values(hebb_ckpt *r, int64_t limit) {
  int kind = HEBB_CK_NIL;
  int64_t n, cost = 0;
  double f;
  const char *s;
  while (!r->done) {
    if (step(r, &kind, &n, &f, &s) != HEBB_OK) return hebb_last_status();
    cost += item_cost(kind, n, &r->td);
    if (cost > limit)
      return hebb_fail(HEBB_ERR_NOMEM, "%s: %s would take more than %lld "
                       "bytes of memory (at byte %lld; allow more with "
                       "max_bytes)", r->src.who, r->src.label,
                       (long long)limit, (long long)r->at);
  }
  if (r->pos != r->vsize)
    return bad(r, HEADER + r->pos, "%lld bytes after the end of the value",
               (long long)(r->vsize - r->pos));
  if (r->next_data != r->data_size)
    return bad(r, 24, "the data section has %lld bytes, its tensors end at "
               "%lld", (long long)r->data_size, (long long)r->next_data);
  r->pos = 0;
  r->depth = 0;
  r->done = false;
  r->next_data = 0;
  r->checked = true;
  return HEBB_OK;
}

static hebb_ckpt *open_reader(hebb_ckpt *r, int64_t max_bytes) {
  snprintf(r->prefix, sizeof r->prefix, "%s: %s", r->src.who, r->src.label);
  if (read_header(r) != HEBB_OK || read_values(r) != HEBB_OK ||
      check_values(r, hebb_io_limit(max_bytes, r->src.size)) != HEBB_OK) {
    hebb_ckpt_free(r);
    return NULL;
  }
  r->crc = 0;
  return r;
}

hebb_ckpt *hebb_ckpt_load(const char *path, int64_t max_bytes) {
  hebb_ckpt *r = calloc(1, sizeof *r);
  if (!r) return hebb_fail_null(HEBB_ERR_NOMEM, "io.load: out of memory");
  if (hebb_src_open(&r->src, path, "io.load") != HEBB_OK) {
    free(r);
    return NULL;
  }
  return open_reader(r, max_bytes);
}

hebb_ckpt *hebb_ckpt_decode(const void *data, int64_t size,
                            int64_t max_bytes) {
  hebb_ckpt *r = calloc(1, sizeof *r);
  if (!r) return hebb_fail_null(HEBB_ERR_NOMEM, "io.decode: out of memory");
  hebb_src_buffer(&r->src, data, size, "the string", "io.decode");
  return open_reader(r, max_bytes);
}

/* --- reader: the data section ---------------------------------------------- */

/* reads the data section up to 'until' into the checksum; the padding
   before a tensor must be zero */
static int consume(hebb_ckpt *r, int64_t until, bool zero) {
  unsigned char buf[4096];
  while (r->data_pos < until) {
    int64_t k = until - r->data_pos, i;
    if (k > (int64_t)sizeof buf) k = sizeof buf;
    if (hebb_src_read(&r->src, r->data_start + r->data_pos, buf, k,
                      "the data section") != HEBB_OK)
      return hebb_last_status();
    for (i = 0; zero && i < k; i++)
      if (buf[i]) return bad(r, r->data_start + r->data_pos + i,
                             "padding byte 0x%02x is not zero", buf[i]);
    r->crc = hebb_crc32c(r->crc, buf, k);
    r->data_pos += k;
  }
  return HEBB_OK;
}

static int check_bools(hebb_ckpt *r, const unsigned char *p, int64_t n,
                       int64_t at) {
  int64_t i;
  for (i = 0; i < n; i++)
    if (p[i] > 1)
      return bad(r, at + i, "a bool element is 0x%02x (must be 0 or 1)",
                 p[i]);
  return HEBB_OK;
}

hebb_tensor *hebb_ckpt_tensor(hebb_ckpt *r) {
  const tdesc *d = &r->td;
  hebb_tensor *flat, *t;
  unsigned char *p;
  int64_t at = r->data_start + d->offset;
  if (!r->tensor_pending)
    return hebb_fail_null(HEBB_ERR_ARG, "%s: no tensor to read", r->src.who);
  r->tensor_pending = false;
  if (consume(r, d->offset, true) != HEBB_OK) return NULL;
  if (!(flat = hebb_empty(d->dtype, 1, &d->numel))) return NULL;
  p = hebb_data_ptr(flat);
  if (hebb_src_read(&r->src, at, p, d->nbytes, "a tensor's data") != HEBB_OK ||
      (d->dtype == HEBB_BOOL && check_bools(r, p, d->nbytes, at) != HEBB_OK)) {
    hebb_release(flat);
    return NULL;
  }
  r->crc = hebb_crc32c(r->crc, p, d->nbytes);
  r->data_pos += d->nbytes;
  t = hebb_as_strided(flat, d->ndim, d->shape, d->stride, 0);
  hebb_release(flat);
  return t;
}

static int finish(hebb_ckpt *r) {
  if (consume(r, r->data_size, true) != HEBB_OK) return hebb_last_status();
  if (r->crc != r->data_crc)
    return bad(r, 36, "the data checksum does not match (stored 0x%08x, "
               "computed 0x%08x): the file is damaged",
               (unsigned)r->data_crc, (unsigned)r->crc);
  r->ended = true;
  return HEBB_OK;
}

int hebb_ckpt_next(hebb_ckpt *r, int *kind, int64_t *n, double *f,
                   const char **s) {
  if (!r->checked)
    return hebb_fail(HEBB_ERR_ARG, "%s: not a reader", r->src.who);
  if (r->tensor_pending) {   /* a tensor the caller skipped: still checked */
    r->tensor_pending = false;
    if (consume(r, r->td.offset, true) != HEBB_OK ||
        consume(r, r->td.offset + r->td.nbytes, false) != HEBB_OK)
      return hebb_last_status();
  }
  if (r->done) {
    *kind = HEBB_CK_END;
    return r->ended ? HEBB_OK : finish(r);
  }
  if (step(r, kind, n, f, s) != HEBB_OK) return hebb_last_status();
  r->tensor_pending = *kind == HEBB_CK_TENSOR;
  return HEBB_OK;
}

int64_t hebb_ckpt_offset(const hebb_ckpt *r) { return r->at; }

const char *hebb_ckpt_name(const hebb_ckpt *r) { return r->prefix; }

void hebb_ckpt_free(hebb_ckpt *c) {
  int64_t i;
  if (!c) return;
  for (i = 0; i < c->nts; i++) hebb_release(c->ts[i].t);
  free(c->ts);
  free(c->buf);
  free(c->stack);
  free(c->owned);
  hebb_src_close(&c->src);
  free(c);
}
