/*
** idx.c -- reader of the IDX format (the files of MNIST and Fashion-MNIST):
** two zero bytes, an element type code, the number of dimensions, then one
** big-endian 32-bit size per dimension and the elements in row-major
** order, big-endian.
** Compressed files (Debian ships the datasets as .gz) go through zlib,
** opened on first use (zlib.c).  Whether a file is compressed is told by
** its first two bytes, not by its name.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "idx.h"
#include "io.h"

/* --- the element types ------------------------------------------------- */

typedef struct idx_type {
  int code;
  int size;
  const char *name;
} idx_type;

static const idx_type types[] = {
  {0x08, 1, "ubyte"}, {0x09, 1, "sbyte"}, {0x0B, 2, "short"},
  {0x0C, 4, "int"}, {0x0D, 4, "float"}, {0x0E, 8, "double"}, {0, 0, NULL}
};

static const idx_type *find_type(int code) {
  const idx_type *e;
  for (e = types; e->name; e++)
    if (e->code == code) return e;
  return NULL;
}

static inline uint16_t be16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}

static inline float getf32(const uint8_t *p) {
  uint32_t u = be32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static inline double getf64(const uint8_t *p) {
  uint64_t u = ((uint64_t)be32(p) << 32) | be32(p + 4);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* n elements read by GET(p + k*w) stored as dtype; integer sources go to
   i64 exactly, float sources through hebb_f2i (truncation) */
#define STORE(GET, w, TOI) do { \
    int64_t k; \
    if (dtype == HEBB_F64) \
      for (k = 0; k < n; k++) ((double *)dst)[k] = (double)GET(p + k * (w)); \
    else if (dtype == HEBB_F32) \
      for (k = 0; k < n; k++) ((float *)dst)[k] = (float)GET(p + k * (w)); \
    else \
      for (k = 0; k < n; k++) ((int64_t *)dst)[k] = TOI(GET(p + k * (w))); \
  } while (0)

#define U8(q) (*(q))
#define S8(q) ((int8_t)*(q))
#define S16(q) ((int16_t)be16(q))
#define S32(q) ((int32_t)be32(q))
#define ASIS(x) ((int64_t)(x))

static void decode(int code, const uint8_t *p, int64_t n, int dtype,
                   char *dst) {
  switch (code) {
    case 0x08: STORE(U8, 1, ASIS); break;
    case 0x09: STORE(S8, 1, ASIS); break;
    case 0x0B: STORE(S16, 2, ASIS); break;
    case 0x0C: STORE(S32, 4, ASIS); break;
    case 0x0D: STORE(getf32, 4, hebb_f2i); break;
    default: STORE(getf64, 8, hebb_f2i); break;
  }
}

/* --- the input: a plain or a gzip-compressed file ---------------------- */

typedef struct src {
  const char *path;
  FILE *f;
  const hebb_zlib_api *z;
  hebb_gzfile gz;
  int64_t got;   /* bytes delivered so far (after decompression) */
} src;

/* up to n bytes (fewer only at the end of the data); -1 on an error */
static int64_t src_read(src *s, void *buf, int64_t n) {
  int64_t k;
  if (s->gz) {
    int e, r = s->z->gzread(s->gz, buf, (unsigned)n);
    if (r < 0) {
      hebb_fail(HEBB_ERR_IO, "read_idx: '%s' holds corrupt gzip data after "
                "%lld bytes (zlib: %s)", s->path, (long long)s->got,
                s->z->gzerror(s->gz, &e));
      return -1;
    }
    k = r;
  } else {
    k = (int64_t)fread(buf, 1, (size_t)n, s->f);
    if (k < n && ferror(s->f)) {
      hebb_fail(HEBB_ERR_IO, "read_idx: cannot read '%s': %s", s->path,
                strerror(errno));
      return -1;
    }
  }
  s->got += k;
  return k;
}

static int src_open(src *s, const char *path) {
  uint8_t magic[2];
  size_t k;
  s->path = path;
  s->f = fopen(path, "rb");
  if (!s->f)
    return hebb_fail(HEBB_ERR_IO, "read_idx: cannot open '%s': %s", path,
                     strerror(errno));
  k = fread(magic, 1, 2, s->f);
  if (k < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {   /* not gzip */
    rewind(s->f);
    return HEBB_OK;
  }
  fclose(s->f);
  s->f = NULL;
  if (!(s->z = hebb_zlib("read_idx", "a gzip-compressed file")))
    return hebb_last_status();
  s->gz = s->z->gzopen(path, "rb");
  if (!s->gz)
    return hebb_fail(HEBB_ERR_IO, "read_idx: cannot open '%s': %s", path,
                     strerror(errno));
  s->z->gzbuffer(s->gz, 1 << 17);   /* fewer, larger reads than the 8 KiB */
  return HEBB_OK;
}

static void src_close(src *s) {
  if (s->f) fclose(s->f);
  if (s->gz) s->z->gzclose(s->gz);
}

/* --- the reader ---------------------------------------------------------- */

enum { CHUNK = 1 << 15 };   /* a multiple of every element size */

/* the header: type and shape; *hbytes = its size */
static int read_header(src *s, const idx_type **ty, int *ndim,
                       int64_t *shape, int64_t *hbytes) {
  uint8_t h[4 * HEBB_MAXDIM];
  int64_t got = src_read(s, h, 4);
  int i;
  if (got < 0) return hebb_last_status();
  if (got < 4)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is truncated: an IDX "
                     "header needs at least 4 bytes, found %lld", s->path,
                     (long long)got);
  if (h[0] != 0 || h[1] != 0)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is not an IDX file (it "
                     "starts with bytes 0x%02x 0x%02x, expected 0x00 0x00)",
                     s->path, h[0], h[1]);
  *ty = find_type(h[2]);
  if (!*ty)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' has unknown element type "
                     "code 0x%02x (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or "
                     "0x0E)", s->path, h[2]);
  *ndim = h[3];
  if (*ndim > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' has %d dimensions (at most "
                     "%d)", s->path, *ndim, (int)HEBB_MAXDIM);
  *hbytes = 4 + 4 * (int64_t)*ndim;
  got = src_read(s, h, 4 * (int64_t)*ndim);
  if (got < 0) return hebb_last_status();
  if (got < 4 * *ndim)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is truncated: the header "
                     "of %d dimensions needs %lld bytes, found %lld", s->path,
                     *ndim, (long long)*hbytes, (long long)(4 + got));
  for (i = 0; i < *ndim; i++) shape[i] = be32(h + 4 * i);
  return HEBB_OK;
}

/* the bytes the header announces (header included), or -1 on overflow */
static int64_t total_bytes(int ndim, const int64_t *shape, int esize,
                           int64_t hbytes) {
  int64_t n = esize;
  int i;
  for (i = 0; i < ndim; i++) {
    if (shape[i] && n > (INT64_MAX - hbytes) / shape[i]) return -1;
    n *= shape[i];
  }
  return n + hbytes;
}

/* "ubyte {60000,28,28}": what a size error refers to */
static const char *describe(const idx_type *ty, int ndim,
                            const int64_t *shape, char *buf, size_t size) {
  char sh[HEBB_SHAPEBUF];
  snprintf(buf, size, "%s %s", ty->name,
           hebb_shape_str(ndim, shape, sh, sizeof sh));
  return buf;
}

/* a plain file's size must be what the header announces, checked before
   anything is allocated (a damaged header could ask for gigabytes) */
static int check_file_size(src *s, int64_t want, const char *what) {
  struct stat st;
  if (fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode)) return HEBB_OK;
  if ((int64_t)st.st_size < want)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is truncated: its header "
                     "(%s) needs %lld bytes, found %lld", s->path, what,
                     (long long)want, (long long)st.st_size);
  if ((int64_t)st.st_size > want)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is malformed: its header "
                     "(%s) needs %lld bytes, found %lld (data after the "
                     "end)", s->path, what, (long long)want,
                     (long long)st.st_size);
  return HEBB_OK;
}

/* A compressed file's size says little of what it holds (gzip expands up
   to ~1000x), so before the tensor is allocated what the IDX header
   announces must agree with the gzip trailer's size (its last 4 bytes:
   the data's length mod 2^32) and stay within hebb.io's limit for loads
   (64 MiB plus 16 times the file's size). */
static int check_gz_size(src *s, int64_t want, const char *what) {
  unsigned char tail[4];
  struct stat st;
  int64_t limit;
  uint32_t isize;
  FILE *f;
  if (stat(s->path, &st) != 0 || st.st_size < 18 || !(f = fopen(s->path, "rb")))
    return HEBB_OK;   /* gzip itself will find the damage */
  isize = fseek(f, -4, SEEK_END) == 0 && fread(tail, 1, 4, f) == 4 ?
          (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
          (uint32_t)tail[3] << 24 : (uint32_t)want;
  fclose(f);
  limit = hebb_io_limit(-1, (int64_t)st.st_size);
  if (want > limit)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is malformed: its header "
                     "(%s) announces %lld bytes, more than a gzip file of %lld "
                     "bytes may hold here (%lld)", s->path, what,
                     (long long)want, (long long)st.st_size, (long long)limit);
  if (isize == (uint32_t)want) return HEBB_OK;
  if (want > UINT32_MAX)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is malformed: its header "
                     "(%s) announces %lld bytes, its gzip trailer %lu (mod "
                     "2^32)", s->path, what, (long long)want,
                     (unsigned long)isize);
  return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is %s: its header (%s) needs "
                   "%lld bytes (decompressed), found %lu%s", s->path,
                   isize < want ? "truncated" : "malformed", what,
                   (long long)want, (unsigned long)isize,
                   isize < want ? "" : " (data after the end)");
}

static int read_data(src *s, const idx_type *ty, hebb_tensor *t,
                     int64_t want, const char *what) {
  uint8_t buf[CHUNK];
  const char *unz = s->gz ? " (decompressed)" : "";
  int64_t left = want - s->got, got;
  int dsize = hebb_dtype_size(t->dtype);
  char *dst = hebb_data_ptr(t);
  while (left > 0) {
    int64_t n = left < CHUNK ? left : CHUNK;
    if ((got = src_read(s, buf, n)) < 0) return hebb_last_status();
    if (got < n)
      return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is truncated: its "
                       "header (%s) needs %lld bytes%s, found %lld", s->path,
                       what, (long long)want, unz, (long long)s->got);
    decode(ty->code, buf, n / ty->size, t->dtype, dst);
    dst += n / ty->size * dsize;
    left -= n;
    if (hebb_interrupt_pending()) return hebb_check_interrupt();
  }
  /* nothing may follow (for plain files check_file_size saw to it) */
  while ((got = src_read(s, buf, CHUNK)) > 0) {}
  if (got < 0) return hebb_last_status();
  if (s->got > want)
    return hebb_fail(HEBB_ERR_IO, "read_idx: '%s' is malformed: its header "
                     "(%s) needs %lld bytes%s, found %lld (data after the "
                     "end)", s->path, what, (long long)want, unz,
                     (long long)s->got);
  return HEBB_OK;
}

static hebb_tensor *read_idx(src *s, int dtype) {
  const idx_type *ty = NULL;
  int ndim = 0;
  int64_t shape[HEBB_MAXDIM], hbytes = 0, want;
  char what[HEBB_SHAPEBUF + 16];
  hebb_tensor *t;
  if (read_header(s, &ty, &ndim, shape, &hbytes) != HEBB_OK) return NULL;
  describe(ty, ndim, shape, what, sizeof what);
  want = total_bytes(ndim, shape, ty->size, hbytes);
  if (want < 0)
    return hebb_fail_null(HEBB_ERR_IO, "read_idx: '%s' is malformed: its "
                          "header (%s) describes more than 2^63 bytes",
                          s->path, what);
  if (s->f && check_file_size(s, want, what) != HEBB_OK) return NULL;
  if (s->gz && check_gz_size(s, want, what) != HEBB_OK) return NULL;
  t = hebb_empty(dtype, ndim, shape);
  if (!t) return NULL;
  if (read_data(s, ty, t, want, what) != HEBB_OK) {
    hebb_release(t);
    return NULL;
  }
  return t;
}

hebb_tensor *hebb_read_idx(const char *path, int dtype) {
  src s = {NULL, NULL, NULL, NULL, 0};
  hebb_tensor *t;
  if (dtype != HEBB_F64 && dtype != HEBB_F32 && dtype != HEBB_I64)
    return hebb_fail_null(HEBB_ERR_DTYPE, "read_idx: dtype %s is not "
                          "supported (f64, f32 or i64)",
                          hebb_dtype_name(dtype));
  if (src_open(&s, path) != HEBB_OK) {
    src_close(&s);
    return NULL;
  }
  t = read_idx(&s, dtype);
  src_close(&s);
  return t;
}
