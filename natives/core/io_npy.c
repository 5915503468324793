/*
** io_npy.c -- numpy's .npy files: the magic "\x93NUMPY", a version, the
** length of a header that is a Python dict literal
** {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }, spaces up
** to a multiple of 64 bytes, then the elements.
**
** The header is parsed here by a small reader of exactly that literal,
** never evaluated.  numpy learned with allow_pickle=False that loading
** data must not run code: object arrays (dtype 'O', which only pickle
** can read) are refused by name, as are dtypes hebb lacks.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"
#include "io.h"

#define NPY_MAGIC "\x93NUMPY"
enum { MAX_HEADER = 1 << 20 };   /* numpy's own loader stops at 10000 */

typedef struct npy_info {
  int dtype, ndim;
  bool fortran, swap;
  int64_t shape[HEBB_MAXDIM], numel, nbytes, header_size;
} npy_info;

/* --- dtypes ---------------------------------------------------------------- */

static const struct { const char *code; int dtype; } known[] = {
  {"f8", HEBB_F64}, {"f4", HEBB_F32}, {"i8", HEBB_I64}, {"b1", HEBB_BOOL},
  {"c16", HEBB_C128}, {"c8", HEBB_C64}, {NULL, 0}
};

static const struct { const char *code, *name; } lacking[] = {
  {"i1", "int8"}, {"i2", "int16"}, {"i4", "int32"}, {"u1", "uint8"},
  {"u2", "uint16"}, {"u4", "uint32"}, {"u8", "uint64"}, {"f2", "float16"},
  {"f16", "longdouble"}, {"c32", "clongdouble"}, {NULL, NULL}
};

static const char *npy_code(int dtype) {
  int i;
  for (i = 0; known[i].code; i++)
    if (known[i].dtype == dtype) return known[i].code;
  return "?";
}

/* what numpy calls a dtype hebb lacks, for the message */
static const char *lacking_name(const char *code) {
  int i;
  for (i = 0; lacking[i].code; i++)
    if (strcmp(code, lacking[i].code) == 0) return lacking[i].name;
  switch (code[0]) {
    case 'U': return "unicode strings";
    case 'S': case 'a': return "byte strings";
    case 'V': return "raw or structured records";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    default: return "unknown";
  }
}

/* --- the header: a reader of one Python dict literal ---------------------- */

typedef struct cursor {
  const hebb_stream *st;
  const char *who;
  const char *p;
  int64_t n, i, base;   /* base: the file offset of p[0] */
} cursor;

static int hbad(cursor *c, const char *fmt, ...) HEBB_PRINTF(2, 3);

static int hbad(cursor *c, const char *fmt, ...) {
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return hebb_fail(HEBB_ERR_IO, "%s: %s, byte %lld: the header %s", c->who,
                   c->st->label, (long long)(c->base + c->i), what);
}

static void skip_ws(cursor *c) {
  while (c->i < c->n && strchr(" \t\r\n", c->p[c->i]) && c->p[c->i]) c->i++;
}

static bool accept(cursor *c, char ch) {
  skip_ws(c);
  if (c->i < c->n && c->p[c->i] == ch) {
    c->i++;
    return true;
  }
  return false;
}

static int expect(cursor *c, char ch, const char *where) {
  if (accept(c, ch)) return HEBB_OK;
  return hbad(c, "has no '%c' %s", ch, where);
}

/* a quoted string without escapes (the keys and dtype codes numpy writes) */
static int pstring(cursor *c, char *out, size_t cap) {
  char q;
  size_t k = 0;
  skip_ws(c);
  if (c->i >= c->n || (c->p[c->i] != '\'' && c->p[c->i] != '"'))
    return hbad(c, "has no quoted string where one must be");
  q = c->p[c->i++];
  while (c->i < c->n && c->p[c->i] != q) {
    if (c->p[c->i] == '\\' || k + 1 >= cap)
      return hbad(c, "has a string that is too long or escaped");
    out[k++] = c->p[c->i++];
  }
  if (c->i >= c->n) return hbad(c, "has an unterminated string");
  c->i++;
  out[k] = '\0';
  return HEBB_OK;
}

static int pbool(cursor *c, bool *b) {
  skip_ws(c);
  if (c->n - c->i >= 4 && memcmp(c->p + c->i, "True", 4) == 0) {
    c->i += 4;
    *b = true;
  } else if (c->n - c->i >= 5 && memcmp(c->p + c->i, "False", 5) == 0) {
    c->i += 5;
    *b = false;
  } else {
    return hbad(c, "has no True or False for 'fortran_order'");
  }
  return HEBB_OK;
}

static int pint(cursor *c, int64_t *v) {
  int64_t x = 0;
  int64_t start;
  skip_ws(c);
  start = c->i;
  while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9') {
    int d = c->p[c->i++] - '0';
    if (x > (INT64_MAX - d) / 10) return hbad(c, "has a size beyond 2^63");
    x = 10 * x + d;
  }
  if (c->i == start) return hbad(c, "has no size where one must be");
  if (c->i < c->n && c->p[c->i] == 'L') c->i++;   /* Python 2's long */
  *v = x;
  return HEBB_OK;
}

/* (), (n,), (n, m), (n, m,) ... */
static int pshape(cursor *c, npy_info *inf) {
  inf->ndim = 0;
  if (expect(c, '(', "to open 'shape'")) return hebb_last_status();
  while (!accept(c, ')')) {
    if (inf->ndim == HEBB_MAXDIM)
      return hbad(c, "has a shape of more than %d dimensions",
                  (int)HEBB_MAXDIM);
    if (pint(c, &inf->shape[inf->ndim++])) return hebb_last_status();
    if (!accept(c, ',') && (skip_ws(c), c->i >= c->n || c->p[c->i] != ')'))
      return hbad(c, "has no ',' or ')' in 'shape'");
  }
  return HEBB_OK;
}

static int pdescr(cursor *c, npy_info *inf) {
  char d[32];
  const char *code;
  int i;
  int64_t start;
  skip_ws(c);
  start = c->i;
  if (c->i < c->n && c->p[c->i] == '[')
    return hbad(c, "describes a structured dtype (a list of fields), which "
                "hebb lacks");
  if (pstring(c, d, sizeof d)) return hebb_last_status();
  c->i = start;   /* errors point at the value */
  code = strchr("<>|=", d[0]) && d[0] ? d + 1 : d;
  if (strcmp(code, "O") == 0)
    return hbad(c, "describes an object array (dtype 'O': Python objects, "
                "which only pickle can read); hebb never runs code from a "
                "file, so it refuses it");
  for (i = 0; known[i].code; i++)
    if (strcmp(code, known[i].code) == 0) break;
  if (!known[i].code)
    return hbad(c, "describes dtype '%s' (%s), which hebb lacks (it reads "
                "f8, f4, i8, b1, c16 and c8: convert with numpy's astype)",
                d, lacking_name(code));
  inf->dtype = known[i].dtype;
  inf->swap = d[0] == '>' && hebb_dtype_size(inf->dtype) > 1;
  return pstring(c, d, sizeof d);
}

/* {'descr': ..., 'fortran_order': ..., 'shape': ..., } and nothing else */
static int parse_dict(cursor *c, npy_info *inf) {
  char key[32];
  int seen = 0, bit;
  if (expect(c, '{', "to begin it")) return hebb_last_status();
  while (!accept(c, '}')) {
    if (pstring(c, key, sizeof key) || expect(c, ':', "after a key"))
      return hebb_last_status();
    bit = strcmp(key, "descr") == 0 ? 1 : strcmp(key, "fortran_order") == 0
          ? 2 : strcmp(key, "shape") == 0 ? 4 : 0;
    if (!bit || (seen & bit))
      return hbad(c, "has %s key '%s'", bit ? "a second" : "an unknown", key);
    seen |= bit;
    if ((bit == 1 ? pdescr(c, inf) : bit == 2 ? pbool(c, &inf->fortran) :
         pshape(c, inf)) != HEBB_OK)
      return hebb_last_status();
    if (!accept(c, ',') && (skip_ws(c), c->i >= c->n || c->p[c->i] != '}'))
      return hbad(c, "has no ',' or '}' after a value");
  }
  skip_ws(c);
  if (c->i < c->n) return hbad(c, "goes on after its closing '}'");
  if (seen != 7)
    return hbad(c, "lacks the key '%s'", !(seen & 1) ? "descr" :
                !(seen & 2) ? "fortran_order" : "shape");
  return HEBB_OK;
}

static int check_sizes(cursor *c, npy_info *inf) {
  int i, size = hebb_dtype_size(inf->dtype);
  int64_t span = 1;   /* the product of the nonzero sizes */
  inf->numel = 1;
  for (i = 0; i < inf->ndim; i++) {
    if (inf->shape[i] > 0 && span > INT64_MAX / 16 / inf->shape[i])
      return hbad(c, "has a shape whose product overflows (more than 2^59 "
                  "elements)");
    span *= inf->shape[i] > 0 ? inf->shape[i] : 1;
    inf->numel *= inf->shape[i];
  }
  inf->nbytes = inf->numel * size;
  return HEBB_OK;
}

/* magic, version, header; leaves the stream at the first element */
static int read_header(hebb_stream *st, const char *who, npy_info *inf) {
  unsigned char pre[12];
  int64_t hlen, plen;
  char *text;
  cursor c;
  int rc;
  if (hebb_stream_read(st, pre, 8, "the magic and version")) {
    if (st->size == 0)
      return hebb_fail(HEBB_ERR_IO, "%s: %s is empty (0 bytes)", who,
                       st->label);
    return hebb_last_status();
  }
  if (memcmp(pre, NPY_MAGIC, 6) != 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is not a .npy file (it does not "
                     "begin with \\x93NUMPY)", who, st->label);
  if (pre[6] < 1 || pre[6] > 3)
    return hebb_fail(HEBB_ERR_IO, "%s: %s, byte 6: format version %d.%d "
                     "(hebb reads 1.0, 2.0 and 3.0)", who, st->label, pre[6],
                     pre[7]);
  plen = pre[6] == 1 ? 10 : 12;
  if (hebb_stream_read(st, pre + 8, plen - 8, "the header length"))
    return hebb_last_status();
  hlen = pre[8] | pre[9] << 8;
  if (plen == 12) hlen |= (int64_t)pre[10] << 16 | (int64_t)pre[11] << 24;
  if (hlen > MAX_HEADER)
    return hebb_fail(HEBB_ERR_IO, "%s: %s, byte 8: a header of %lld bytes "
                     "(more than 1 MiB)", who, st->label, (long long)hlen);
  if (hlen > st->size - plen)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is truncated: the header (%lld "
                     "bytes at byte %lld) runs past its end (%lld bytes)", who,
                     st->label, (long long)hlen, (long long)plen,
                     (long long)st->size);
  if (!(text = malloc((size_t)hlen + 1)))
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", who);
  c = (cursor){st, who, text, hlen, 0, plen};
  rc = hebb_stream_read(st, text, hlen, "the header");
  if (rc == HEBB_OK) rc = parse_dict(&c, inf);
  if (rc == HEBB_OK) rc = check_sizes(&c, inf);
  free(text);
  inf->header_size = plen + hlen;
  if (rc == HEBB_OK && inf->nbytes != st->size - inf->header_size)
    return hebb_fail(HEBB_ERR_IO, "%s: %s %s: its header describes %lld "
                     "bytes of %s elements after byte %lld, the %s has %lld",
                     who, st->label, inf->nbytes > st->size - inf->header_size
                     ? "is truncated" : "is too long", (long long)inf->nbytes,
                     npy_code(inf->dtype), (long long)inf->header_size,
                     st->size != st->src->size || st->z ? "member" :
                     st->src->fd < 0 ? "string" : "file",
                     (long long)(st->size - inf->header_size));
  return rc;
}

/* --- the elements ----------------------------------------------------------- */

/* n words of w bytes each, reversed in place (a complex number is two
   words: its parts) */
static void byteswap(char *p, int64_t n, int w) {
  int64_t i;
  int k;
  for (i = 0; i < n * w; i += w)
    for (k = 0; k < w / 2; k++) {
      char t = p[i + k];
      p[i + k] = p[i + w - 1 - k];
      p[i + w - 1 - k] = t;
    }
}

static int check_bools(const hebb_stream *st, const char *who,
                       const unsigned char *p, int64_t n, int64_t at) {
  int64_t i;
  for (i = 0; i < n; i++)
    if (p[i] > 1)
      return hebb_fail(HEBB_ERR_IO, "%s: %s, byte %lld: a bool element is "
                       "0x%02x (must be 0 or 1)", who, st->label,
                       (long long)(at + i), p[i]);
  return HEBB_OK;
}

/* the array's shape over its flat elements, in C or Fortran order */
static hebb_tensor *shaped(hebb_tensor *flat, const npy_info *inf) {
  int64_t stride[HEBB_MAXDIM], s = 1;
  int i;
  hebb_tensor *t;
  for (i = 0; i < inf->ndim; i++) {
    int k = inf->fortran ? i : inf->ndim - 1 - i;
    stride[k] = s;
    s *= inf->shape[k];
  }
  t = hebb_as_strided(flat, inf->ndim, inf->shape, stride, 0);
  hebb_release(flat);
  return t;
}

static hebb_tensor *read_array(hebb_stream *st, const char *who) {
  npy_info inf;
  hebb_tensor *flat;
  char *p;
  memset(&inf, 0, sizeof inf);
  if (read_header(st, who, &inf) != HEBB_OK) return NULL;
  if (!(flat = hebb_empty(inf.dtype, 1, &inf.numel))) return NULL;
  p = hebb_data_ptr(flat);
  if (hebb_stream_read(st, p, inf.nbytes, "the elements") != HEBB_OK ||
      (inf.dtype == HEBB_BOOL &&
       check_bools(st, who, (unsigned char *)p, inf.nbytes, inf.header_size))) {
    hebb_release(flat);
    return NULL;
  }
  if (inf.swap) byteswap(p, inf.numel * (hebb_is_complex(inf.dtype) ? 2 : 1),
                         hebb_dtype_size(inf.dtype) /
                         (hebb_is_complex(inf.dtype) ? 2 : 1));
  return shaped(flat, &inf);
}

hebb_tensor *hebb_npy_read(hebb_stream *st, const char *who) {
  hebb_tensor *t = read_array(st, who);
  if (t && hebb_stream_end(st) != HEBB_OK) {
    hebb_release(t);
    return NULL;
  }
  return t;
}

/* --- memory-mapped arrays ----------------------------------------------------- */

typedef struct mapping { void *base; size_t len; } mapping;

static void unmap(void *ctx, char *data, int64_t nbytes) {
  mapping *m = ctx;
  (void)data;
  (void)nbytes;
  munmap(m->base, m->len);
  free(m);
}

static const hebb_allocator map_owner = {"mmap", unmap};

/* Private, writable pages: writes to the tensor (in-place operations) copy
   the page and never reach the file, and a write cannot fault as it would
   on a read-only mapping. */
static hebb_tensor *map_array(hebb_src *src, const npy_info *inf,
                              const hebb_stream *st) {
  mapping *m = malloc(sizeof *m);
  hebb_tensor *flat;
  char *base;
  if (!m) return hebb_fail_null(HEBB_ERR_NOMEM, "io.load_npy: out of memory");
  base = mmap(NULL, (size_t)src->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
              src->fd, 0);
  if (base == MAP_FAILED) {
    free(m);
    return hebb_fail_null(HEBB_ERR_IO, "io.load_npy: cannot map %s: %s",
                          src->label, strerror(errno));
  }
  *m = (mapping){base, (size_t)src->size};
  if (inf->dtype == HEBB_BOOL &&
      check_bools(st, "io.load_npy", (unsigned char *)base + inf->header_size,
                  inf->nbytes, inf->header_size) != HEBB_OK) {
    unmap(m, NULL, 0);
    return NULL;
  }
  flat = hebb_tensor_over(inf->dtype, 1, &inf->numel, base + inf->header_size,
                          &map_owner, m);
  if (!flat) {
    unmap(m, NULL, 0);
    return NULL;
  }
  return shaped(flat, inf);
}

static hebb_tensor *load_file(hebb_src *src, bool map) {
  hebb_stream st;
  npy_info inf;
  hebb_stream_stored(&st, src, 0, src->size, src->label);
  if (!map || src->fd < 0) return hebb_npy_read(&st, src->who);
  memset(&inf, 0, sizeof inf);
  if (read_header(&st, src->who, &inf) != HEBB_OK) return NULL;
  if (inf.swap)
    return hebb_fail_null(HEBB_ERR_IO, "io.load_npy: %s holds big-endian "
                          "'>%s' elements, which cannot be mapped (load it "
                          "without mmap to convert them)", src->label,
                          npy_code(inf.dtype));
  if (inf.nbytes == 0) {
    hebb_stream_stored(&st, src, 0, src->size, src->label);
    return hebb_npy_read(&st, src->who);
  }
  return map_array(src, &inf, &st);
}

hebb_tensor *hebb_npy_load(const char *path, bool map) {
  hebb_src src;
  hebb_tensor *t;
  if (hebb_src_open(&src, path, "io.load_npy") != HEBB_OK) return NULL;
  t = load_file(&src, map);
  hebb_src_close(&src);
  return t;
}

hebb_tensor *hebb_npy_decode(const void *data, int64_t size) {
  hebb_src src;
  hebb_src_buffer(&src, data, size, "the string", "io.load_npy");
  return load_file(&src, false);
}

/* --- writing ----------------------------------------------------------------- */

/* whether the elements lie in column-major order (and not row-major: a
   1-d or single-element array is written as C order, as numpy does) */
static bool fortran_layout(const hebb_tensor *t) {
  int64_t s = 1;
  int i;
  if (hebb_is_contiguous(t)) return false;
  for (i = 0; i < t->ndim; i++) {
    if (t->shape[i] != 1 && t->stride[i] != s) return false;
    s *= t->shape[i];
  }
  return true;
}

int64_t hebb_npy_header(hebb_tensor *t, char *buf, int64_t cap,
                        hebb_tensor **data) {
  bool fortran = fortran_layout(t);
  int64_t n, len, pad;
  int i;
  char shape[HEBB_MAXDIM * 22 + 4];
  n = snprintf(shape, sizeof shape, "(");
  for (i = 0; i < t->ndim; i++)
    n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%lld%s",
                  i ? " " : "", (long long)t->shape[i],
                  (i < t->ndim - 1 || t->ndim == 1) ? "," : "");
  snprintf(shape + n, sizeof shape - (size_t)n, ")");
  len = snprintf(buf + 10, (size_t)(cap - 10), "{'descr': '%s%s', "
                 "'fortran_order': %s, 'shape': %s, }",
                 t->dtype == HEBB_BOOL ? "|" : "<", npy_code(t->dtype),
                 fortran ? "True" : "False", shape);
  pad = 63 - (10 + len) % 64;   /* spaces, then '\n' at a multiple of 64 */
  if (10 + len + pad + 1 > cap)
    return hebb_fail(HEBB_ERR_ARG, "io.save_npy: header too long"), -1;
  memset(buf + 10 + len, ' ', (size_t)pad);
  buf[10 + len + pad] = '\n';
  len += pad + 1;
  memcpy(buf, NPY_MAGIC "\x01\x00", 8);
  buf[8] = (char)(len & 0xff);
  buf[9] = (char)(len >> 8);
  *data = fortran ? (hebb_retain(t), t) : hebb_contiguous(t);
  return *data ? 10 + len : -1;
}

int hebb_npy_save(const char *path, hebb_tensor *t) {
  char head[1024];
  hebb_tensor *data = NULL;
  hebb_sink s;
  int64_t n = hebb_npy_header(t, head, sizeof head, &data);
  int rc;
  if (n < 0) return hebb_last_status();
  rc = hebb_sink_open(&s, path, "io.save_npy");
  if (rc == HEBB_OK) rc = hebb_sink_write(&s, head, n);
  if (rc == HEBB_OK)
    rc = hebb_sink_write(&s, hebb_data_ptr(data),
                         hebb_numel(data) * hebb_dtype_size(data->dtype));
  if (rc == HEBB_OK) rc = hebb_sink_commit(&s);
  else hebb_sink_abort(&s);
  hebb_release(data);
  return rc;
}
