/*
** io_npz.c -- numpy's .npz: a zip archive whose members are .npy files
** ("x.npy" holds the array named x), stored or deflated (savez_compressed).
**
** The zip is read from its central directory (the record at the end of
** the file that lists every member, with zip64 records for files or
** members over 4 GiB, which numpy writes as well).  Before any member is
** read, every entry is checked against the file: offsets inside it, local
** headers that agree with the directory, members that do not overlap, and
** uncompressed sizes that add up to at most max_bytes, so a small archive
** cannot inflate into gigabytes (a deflate stream can grow ~1000x).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "io.h"

enum { EOCD = 22, EOCD64 = 56, LOCATOR = 20, CENTRAL = 46, LOCAL = 30,
       MAX_COMMENT = 65535 };
#define U32MAX 0xFFFFFFFFu

typedef struct zentry {
  char *name;                     /* as stored: "x.npy" */
  int64_t local, data, csize, usize;
  uint32_t crc;
  int method;                     /* 0 stored, 8 deflated */
} zentry;

struct hebb_npz {
  hebb_src src;
  zentry *e;
  int64_t n, cap;
  /* writer */
  hebb_sink sink;
  bool writing, compress;
};

static inline uint32_t le16(const unsigned char *p) { return p[0] | p[1] << 8; }
static inline uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline int64_t le64(const unsigned char *p) {
  return (int64_t)((uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32);
}

/* "io.load_npz: 'path', byte 57: <what>" */
#define zbad(z, at, ...) hebb_src_bad(&(z)->src, (at), __VA_ARGS__)

static hebb_npz *new_npz(void) {
  hebb_npz *z = calloc(1, sizeof *z);
  if (!z) return hebb_fail_null(HEBB_ERR_NOMEM, "io: out of memory");
  z->src.fd = -1;
  z->sink.fd = -1;
  return z;
}

static zentry *add_entry(hebb_npz *z) {
  if (z->n == z->cap) {
    int64_t cap = z->cap ? 2 * z->cap : 16;
    zentry *e = realloc(z->e, (size_t)cap * sizeof *e);
    if (!e) return hebb_fail_null(HEBB_ERR_NOMEM, "io: out of memory");
    z->e = e;
    z->cap = cap;
  }
  memset(&z->e[z->n], 0, sizeof *z->e);
  return &z->e[z->n++];
}

/* --- reading: the directory -------------------------------------------------- */

typedef struct zdir { int64_t count, offset, size, end; } zdir;

/* the end-of-central-directory record: the last 22 bytes of the file,
   or earlier by the length of a comment that reaches exactly to the end */
static int find_eocd(hebb_npz *z, unsigned char *rec, int64_t *at) {
  int64_t tail = z->src.size < EOCD + MAX_COMMENT ? z->src.size :
                 EOCD + MAX_COMMENT, i;
  unsigned char *buf = malloc((size_t)tail + 1);
  if (!buf) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", z->src.who);
  if (hebb_src_read(&z->src, z->src.size - tail, buf, tail, "the end")) {
    free(buf);
    return hebb_last_status();
  }
  for (i = tail - EOCD; i >= 0; i--)
    if (memcmp(buf + i, "PK\5\6", 4) == 0 &&
        i + EOCD + (int64_t)le16(buf + i + 20) == tail) {
      memcpy(rec, buf + i, EOCD);
      *at = z->src.size - tail + i;
      free(buf);
      return HEBB_OK;
    }
  free(buf);
  if (z->src.size >= 4) {
    unsigned char m[4];
    hebb_src_read(&z->src, 0, m, 4, "the magic");
    if (memcmp(m, "\x93NUM", 4) == 0)
      return hebb_fail(HEBB_ERR_IO, "%s: %s is a .npy file, not a .npz "
                       "(use io.load_npy)", z->src.who, z->src.label);
  }
  return hebb_fail(HEBB_ERR_IO, "%s: %s is not a zip archive (no end of "
                   "central directory record; a .npz is a zip of .npy files)",
                   z->src.who, z->src.label);
}

static int read_zip64(hebb_npz *z, int64_t eocd, zdir *d) {
  unsigned char loc[LOCATOR], rec[EOCD64];
  int64_t at;
  if (eocd < LOCATOR ||
      hebb_src_read(&z->src, eocd - LOCATOR, loc, LOCATOR, "the zip64 locator"))
    return zbad(z, eocd, "the directory needs zip64 records, which are "
                "missing");
  if (memcmp(loc, "PK\6\7", 4) != 0)
    return zbad(z, eocd - LOCATOR, "the zip64 locator has a wrong signature");
  at = le64(loc + 8);
  if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
    return zbad(z, eocd - LOCATOR, "the archive spans several disks");
  if (at < 0 || at > eocd - LOCATOR - EOCD64 ||
      hebb_src_read(&z->src, at, rec, EOCD64, "the zip64 directory record"))
    return zbad(z, eocd - LOCATOR + 8, "the zip64 record's offset %lld lies "
                "outside the file", (long long)at);
  if (memcmp(rec, "PK\6\6", 4) != 0)
    return zbad(z, at, "the zip64 record has a wrong signature");
  if (le32(rec + 16) != 0 || le32(rec + 20) != 0 ||
      le64(rec + 24) != le64(rec + 32))
    return zbad(z, at, "the archive spans several disks");
  d->count = le64(rec + 32);
  d->size = le64(rec + 40);
  d->offset = le64(rec + 48);
  d->end = at;
  return HEBB_OK;
}

static int read_dir(hebb_npz *z, zdir *d) {
  unsigned char r[EOCD] = {0};
  int64_t at = 0;
  if (find_eocd(z, r, &at) != HEBB_OK) return hebb_last_status();
  if (le16(r + 4) != 0 || le16(r + 6) != 0 || le16(r + 8) != le16(r + 10))
    return zbad(z, at, "the archive spans several disks");
  d->count = le16(r + 10);
  d->size = le32(r + 12);
  d->offset = le32(r + 16);
  d->end = at;
  if ((d->count == 0xFFFF || d->size == U32MAX || d->offset == U32MAX) &&
      read_zip64(z, at, d) != HEBB_OK)
    return hebb_last_status();
  if (d->offset < 0 || d->size < 0 || d->offset > d->end ||
      d->size > d->end - d->offset)
    return zbad(z, at, "the central directory (%lld bytes at %lld) lies "
                "outside the file", (long long)d->size, (long long)d->offset);
  if (d->count < 0 || d->count > d->size / CENTRAL)
    return zbad(z, at, "%lld members cannot fit in a directory of %lld "
                "bytes", (long long)d->count, (long long)d->size);
  return HEBB_OK;
}

/* the zip64 extra field of a central entry: the 8-byte values of the
   fields whose 32-bit slots hold 0xFFFFFFFF, in this order */
static int zip64_extra(hebb_npz *z, const unsigned char *x, int64_t n,
                       zentry *e, int64_t at) {
  int64_t *want[3] = {&e->usize, &e->csize, &e->local};
  int64_t i = 0, k;
  while (i + 4 <= n) {
    int64_t id = le16(x + i), len = le16(x + i + 2), p = i + 4;
    if (p + len > n) return zbad(z, at, "an extra field runs past its entry");
    for (k = 0; id == 1 && k < 3; k++)
      if (*want[k] == U32MAX) {
        if (p + 8 > i + 4 + len)
          return zbad(z, at, "the zip64 extra field is too short");
        *want[k] = le64(x + p);
        p += 8;
      }
    i += 4 + len;
  }
  return HEBB_OK;
}

static int name_ok(hebb_npz *z, const zentry *e, int64_t nlen, int64_t at) {
  if (nlen < 5 || strcmp(e->name + nlen - 4, ".npy") != 0 ||
      (int64_t)strlen(e->name) != nlen)
    return zbad(z, at, "member '%s' is not a .npy file (a .npz holds only "
                ".npy members)", e->name);
  return HEBB_OK;
}

/* one central directory entry at cd[i..]; *next: the entry after it */
static int read_entry(hebb_npz *z, const unsigned char *cd, int64_t size,
                      int64_t i, int64_t base, int64_t *next) {
  int64_t at = base + i, nlen, xlen, clen;
  zentry *e;
  if (i + CENTRAL > size || memcmp(cd + i, "PK\1\2", 4) != 0)
    return zbad(z, at, "a central directory entry is missing or damaged");
  nlen = le16(cd + i + 28);
  xlen = le16(cd + i + 30);
  clen = le16(cd + i + 32);
  if (i + CENTRAL + nlen + xlen + clen > size)
    return zbad(z, at, "a central directory entry runs past the directory");
  if (!(e = add_entry(z))) return hebb_last_status();
  if (!(e->name = malloc((size_t)nlen + 1)))
    return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", z->src.who);
  memcpy(e->name, cd + i + CENTRAL, (size_t)nlen);
  e->name[nlen] = '\0';
  e->method = (int)le16(cd + i + 10);
  e->crc = le32(cd + i + 16);
  e->csize = le32(cd + i + 20);
  e->usize = le32(cd + i + 24);
  e->local = le32(cd + i + 42);
  *next = i + CENTRAL + nlen + xlen + clen;
  if (le16(cd + i + 8) & 1)
    return zbad(z, at, "member '%s' is encrypted", e->name);
  if (e->method != 0 && e->method != 8)
    return zbad(z, at, "member '%s' uses compression method %d (hebb reads "
                "0, stored, and 8, deflated)", e->name, e->method);
  if (zip64_extra(z, cd + i + CENTRAL + nlen, xlen, e, at) != HEBB_OK)
    return hebb_last_status();
  return name_ok(z, e, nlen, at);
}

/* the local header before a member's data must name the same member */
static int read_local(hebb_npz *z, zentry *e, const zdir *d) {
  unsigned char h[LOCAL];
  char name[1024];
  int64_t nlen;
  if (e->local < 0 || e->local > d->offset - LOCAL ||
      hebb_src_read(&z->src, e->local, h, LOCAL, "a local header") ||
      memcmp(h, "PK\3\4", 4) != 0)
    return zbad(z, e->local, "member '%s' has no local header here",
                e->name);
  nlen = le16(h + 26);
  e->data = e->local + LOCAL + nlen + le16(h + 28);
  if (nlen != (int64_t)strlen(e->name) || nlen >= (int64_t)sizeof name ||
      hebb_src_read(&z->src, e->local + LOCAL, name, nlen, "a member name") ||
      memcmp(name, e->name, (size_t)nlen) != 0)
    return zbad(z, e->local, "the local header of member '%s' names another "
                "member", e->name);
  if (e->csize < 0 || e->usize < 0 || e->data > d->offset ||
      e->csize > d->offset - e->data)
    return zbad(z, e->local, "member '%s' (%lld bytes) runs past the start "
                "of the central directory", e->name, (long long)e->csize);
  if (e->method == 0 && e->csize != e->usize)
    return zbad(z, e->local, "stored member '%s' has %lld bytes but declares "
                "%lld", e->name, (long long)e->csize, (long long)e->usize);
  return HEBB_OK;
}

static int by_local(const void *a, const void *b) {
  const zentry *x = a, *y = b;
  return x->local < y->local ? -1 : x->local > y->local;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const zentry *)a)->name, ((const zentry *)b)->name);
}

/* members must not overlap (one byte range read as two members is how a
   small archive claims to hold much more), and names are unique */
static int check_members(hebb_npz *z, int64_t limit) {
  int64_t i, total = 0;
  if (z->n > 1) qsort(z->e, (size_t)z->n, sizeof *z->e, by_local);
  for (i = 0; i + 1 < z->n; i++)
    if (z->e[i].data + z->e[i].csize > z->e[i + 1].local)
      return zbad(z, z->e[i + 1].local, "member '%s' overlaps member '%s'",
                  z->e[i + 1].name, z->e[i].name);
  for (i = 0; i < z->n; i++) {
    if (z->e[i].usize > limit - total)
      return hebb_fail(HEBB_ERR_NOMEM, "%s: %s would take more than %lld "
                       "bytes of memory (its members hold %lld bytes "
                       "uncompressed up to '%s'; allow more with max_bytes)",
                       z->src.who, z->src.label, (long long)limit,
                       (long long)(total + z->e[i].usize), z->e[i].name);
    total += z->e[i].usize;
  }
  if (z->n > 1) qsort(z->e, (size_t)z->n, sizeof *z->e, by_name);
  for (i = 0; i + 1 < z->n; i++)
    if (strcmp(z->e[i].name, z->e[i + 1].name) == 0)
      return zbad(z, z->e[i + 1].local, "member '%s' appears twice",
                  z->e[i].name);
  return HEBB_OK;
}

static int read_central(hebb_npz *z, const zdir *d, int64_t limit) {
  unsigned char *cd = malloc((size_t)d->size + 1);
  int64_t i = 0, k;
  int rc = HEBB_OK;
  if (!cd) return hebb_fail(HEBB_ERR_NOMEM, "%s: out of memory", z->src.who);
  rc = hebb_src_read(&z->src, d->offset, cd, d->size, "the central directory");
  for (k = 0; rc == HEBB_OK && k < d->count; k++)
    rc = read_entry(z, cd, d->size, i, d->offset, &i);
  free(cd);
  for (k = 0; rc == HEBB_OK && k < z->n; k++) rc = read_local(z, &z->e[k], d);
  return rc == HEBB_OK ? check_members(z, limit) : rc;
}

static hebb_npz *open_npz(hebb_npz *z, int64_t max_bytes) {
  zdir d;
  if (read_dir(z, &d) != HEBB_OK ||
      read_central(z, &d, hebb_io_limit(max_bytes, z->src.size)) != HEBB_OK) {
    hebb_npz_free(z);
    return NULL;
  }
  return z;
}

hebb_npz *hebb_npz_open(const char *path, int64_t max_bytes) {
  hebb_npz *z = new_npz();
  if (!z) return NULL;
  if (hebb_src_open(&z->src, path, "io.load_npz") != HEBB_OK) {
    free(z);
    return NULL;
  }
  return open_npz(z, max_bytes);
}

hebb_npz *hebb_npz_decode(const void *data, int64_t size, int64_t max_bytes) {
  hebb_npz *z = new_npz();
  if (!z) return NULL;
  hebb_src_buffer(&z->src, data, size, "the string", "io.load_npz");
  return open_npz(z, max_bytes);
}

int64_t hebb_npz_count(const hebb_npz *z) { return z->n; }

const char *hebb_npz_name(const hebb_npz *z, int64_t i) {
  return i >= 0 && i < z->n ? z->e[i].name : NULL;
}

hebb_tensor *hebb_npz_read(hebb_npz *z, int64_t i) {
  const zentry *e = &z->e[i];
  hebb_stream st;
  hebb_tensor *t = NULL;
  char label[700];
  snprintf(label, sizeof label, "%s, member '%s'", z->src.label, e->name);
  if (e->method == 0) hebb_stream_stored(&st, &z->src, e->data, e->usize, label);
  if (e->method == 0 || hebb_stream_inflated(&st, &z->src, e->data, e->csize,
                                             e->usize, label) == HEBB_OK) {
    st.check = true;
    t = hebb_npy_read(&st, z->src.who);
  }
  if (t && st.crc != e->crc) {
    hebb_release(t);
    t = hebb_fail_null(HEBB_ERR_IO, "%s: %s fails its CRC-32 check (stored "
                       "0x%08x, computed 0x%08x): the file is damaged",
                       z->src.who, label, (unsigned)e->crc, (unsigned)st.crc);
  }
  hebb_stream_close(&st);
  return t;
}

/* --- writing ------------------------------------------------------------------ */

static inline void put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static inline void put32(unsigned char *p, uint32_t v) {
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
}
static inline void put64(unsigned char *p, int64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)((uint64_t)v >> 32));
}
static inline uint32_t clip32(int64_t v) {
  return v >= (int64_t)U32MAX ? U32MAX : (uint32_t)v;
}

hebb_npz *hebb_npz_create(const char *path, bool compress) {
  hebb_npz *z = new_npz();
  if (!z) return NULL;
  if (hebb_sink_open(&z->sink, path, "io.save_npz") != HEBB_OK) {
    free(z);
    return NULL;
  }
  z->writing = true;
  z->compress = compress;
  return z;
}

/* room for deflate's output: what is left of the buffer, 1 GiB at most
   (avail_out is 32-bit) */
static void out_room(hebb_zstream *s, int64_t cap) {
  int64_t left = cap - (int64_t)s->total_out;
  if (s->avail_out == 0) s->avail_out = (unsigned)(left < (1 << 30) ? left : (1 << 30));
}

/* the bytes of a member compressed: header then data, deflated at zlib's
   default level 6 */
static int deflate_member(const char *head, int64_t hlen, const char *data,
                          int64_t n, unsigned char **out, int64_t *csize) {
  const hebb_zlib_api *zl = hebb_zlib("io.save_npz", "compression");
  const char *part[2] = {head, data};
  int64_t len[2] = {hlen, n}, cap;
  hebb_zstream s;
  int rc = HEBB_Z_OK, k;
  if (!zl) return hebb_last_status();
  if (hebb_deflate_begin(zl, &s, 6) != HEBB_Z_OK)
    return hebb_fail(HEBB_ERR_NOMEM, "io.save_npz: zlib could not start");
  cap = (int64_t)zl->deflate_bound(&s, (unsigned long)(hlen + n)) + 64;
  if (!(*out = malloc((size_t)cap))) {
    zl->deflate_end(&s);
    return hebb_fail(HEBB_ERR_NOMEM, "io.save_npz: out of memory");
  }
  s.next_out = *out;
  for (k = 0; k < 2; k++)
    while (rc == HEBB_Z_OK && len[k] > 0) {
      int64_t c = len[k] < (1 << 30) ? len[k] : (1 << 30);
      s.next_in = (const unsigned char *)part[k];
      s.avail_in = (unsigned)c;
      part[k] += c;
      len[k] -= c;
      while (rc == HEBB_Z_OK && s.avail_in > 0) {
        out_room(&s, cap);
        rc = zl->deflate(&s, HEBB_Z_NO_FLUSH);
      }
    }
  while (rc == HEBB_Z_OK) {
    out_room(&s, cap);
    rc = zl->deflate(&s, HEBB_Z_FINISH);
  }
  *csize = (int64_t)s.total_out;
  zl->deflate_end(&s);
  if (rc != HEBB_Z_STREAM_END) {
    free(*out);
    *out = NULL;
    return hebb_fail(HEBB_ERR_IO, "io.save_npz: deflate failed (zlib %d)", rc);
  }
  return HEBB_OK;
}

/* the local header, with a zip64 extra field when a size needs it */
static int write_local(hebb_npz *z, const zentry *e) {
  unsigned char h[LOCAL + 20];
  int64_t nlen = (int64_t)strlen(e->name);
  bool big = e->usize >= (int64_t)U32MAX || e->csize >= (int64_t)U32MAX;
  memset(h, 0, sizeof h);
  memcpy(h, "PK\3\4", 4);
  put16(h + 4, big ? 45 : 20);
  put16(h + 8, (uint32_t)e->method);
  put16(h + 12, 0x21);                 /* 1980-01-01: the same bytes always */
  put32(h + 14, e->crc);
  put32(h + 18, big ? U32MAX : (uint32_t)e->csize);
  put32(h + 22, big ? U32MAX : (uint32_t)e->usize);
  put16(h + 26, (uint32_t)nlen);
  put16(h + 28, big ? 20 : 0);
  put16(h + LOCAL, 1);
  put16(h + LOCAL + 2, 16);
  put64(h + LOCAL + 4, e->usize);
  put64(h + LOCAL + 12, e->csize);
  if (hebb_sink_write(&z->sink, h, LOCAL) ||
      hebb_sink_write(&z->sink, e->name, nlen) ||
      (big && hebb_sink_write(&z->sink, h + LOCAL, 20)))
    return hebb_last_status();
  return HEBB_OK;
}

static int write_member(hebb_npz *z, zentry *e, const char *head,
                        int64_t hlen, hebb_tensor *data) {
  const char *p = hebb_data_ptr(data);
  int64_t n = hebb_numel(data) * hebb_dtype_size(data->dtype);
  unsigned char *packed = NULL;
  int rc;
  e->crc = hebb_crc32(hebb_crc32(0, head, hlen), p, n);
  e->usize = e->csize = hlen + n;
  e->method = z->compress ? 8 : 0;
  e->local = z->sink.pos;
  if (z->compress &&
      deflate_member(head, hlen, p, n, &packed, &e->csize) != HEBB_OK)
    return hebb_last_status();
  rc = write_local(z, e);
  if (rc == HEBB_OK && packed)
    rc = hebb_sink_write(&z->sink, packed, e->csize);
  else if (rc == HEBB_OK && (rc = hebb_sink_write(&z->sink, head, hlen)) == HEBB_OK)
    rc = hebb_sink_write(&z->sink, p, n);
  free(packed);
  return rc;
}

int hebb_npz_add(hebb_npz *z, const char *name, hebb_tensor *t) {
  char head[1024];
  hebb_tensor *data = NULL;
  int64_t hlen, len = (int64_t)strlen(name);
  zentry *e;
  int rc;
  if (!z->writing)
    return hebb_fail(HEBB_ERR_ARG, "io.save_npz: the archive is closed");
  if (len == 0 || len > 1000)
    return hebb_fail(HEBB_ERR_ARG, "io.save_npz: a member name must have 1 "
                     "to 1000 bytes, got %lld", (long long)len);
  if ((hlen = hebb_npy_header(t, head, sizeof head, &data)) < 0)
    return hebb_last_status();
  if (!(e = add_entry(z)) || !(e->name = malloc((size_t)len + 5))) {
    if (e) z->n--;
    hebb_release(data);
    return hebb_fail(HEBB_ERR_NOMEM, "io.save_npz: out of memory");
  }
  snprintf(e->name, (size_t)len + 5, "%s.npy", name);
  rc = write_member(z, e, head, hlen, data);
  hebb_release(data);
  return rc;
}

static int write_central(hebb_npz *z, const zentry *e) {
  unsigned char h[CENTRAL], x[28];
  int64_t nlen = (int64_t)strlen(e->name), xl = 4;
  memset(h, 0, sizeof h);
  memcpy(h, "PK\1\2", 4);
  put16(h + 4, 3 << 8 | 45);            /* made on Unix, zip 4.5 */
  put16(h + 6, (e->usize | e->csize | e->local) >= (int64_t)U32MAX ? 45 : 20);
  put16(h + 10, (uint32_t)e->method);
  put16(h + 14, 0x21);
  put32(h + 16, e->crc);
  put32(h + 20, clip32(e->csize));
  put32(h + 24, clip32(e->usize));
  put16(h + 28, (uint32_t)nlen);
  put32(h + 38, 0100644u << 16);        /* a regular file, rw-r--r-- */
  put32(h + 42, clip32(e->local));
  if (e->usize >= (int64_t)U32MAX) { put64(x + xl, e->usize); xl += 8; }
  if (e->csize >= (int64_t)U32MAX) { put64(x + xl, e->csize); xl += 8; }
  if (e->local >= (int64_t)U32MAX) { put64(x + xl, e->local); xl += 8; }
  put16(x, 1);
  put16(x + 2, (uint32_t)(xl - 4));
  put16(h + 30, xl > 4 ? (uint32_t)xl : 0);
  if (hebb_sink_write(&z->sink, h, CENTRAL) ||
      hebb_sink_write(&z->sink, e->name, nlen) ||
      (xl > 4 && hebb_sink_write(&z->sink, x, xl)))
    return hebb_last_status();
  return HEBB_OK;
}

/* the zip64 end record and its locator, for directories past 4 GiB or
   with 65535 members and more */
static int write_end64(hebb_npz *z, int64_t start, int64_t size) {
  unsigned char r[EOCD64 + LOCATOR];
  int64_t at = z->sink.pos;
  memset(r, 0, sizeof r);
  memcpy(r, "PK\6\6", 4);
  put64(r + 4, EOCD64 - 12);
  put16(r + 12, 3 << 8 | 45);
  put16(r + 14, 45);
  put64(r + 24, z->n);
  put64(r + 32, z->n);
  put64(r + 40, size);
  put64(r + 48, start);
  memcpy(r + EOCD64, "PK\6\7", 4);
  put64(r + EOCD64 + 8, at);
  put32(r + EOCD64 + 16, 1);
  return hebb_sink_write(&z->sink, r, sizeof r);
}

int hebb_npz_finish(hebb_npz *z) {
  unsigned char r[EOCD];
  int64_t start = z->sink.pos, i, size;
  if (!z->writing)
    return hebb_fail(HEBB_ERR_ARG, "io.save_npz: the archive is closed");
  for (i = 0; i < z->n; i++)
    if (write_central(z, &z->e[i]) != HEBB_OK) return hebb_last_status();
  size = z->sink.pos - start;
  if ((z->n >= 0xFFFF || start >= (int64_t)U32MAX || size >= (int64_t)U32MAX) &&
      write_end64(z, start, size) != HEBB_OK)
    return hebb_last_status();
  memset(r, 0, sizeof r);
  memcpy(r, "PK\5\6", 4);
  put16(r + 8, z->n >= 0xFFFF ? 0xFFFF : (uint32_t)z->n);
  put16(r + 10, z->n >= 0xFFFF ? 0xFFFF : (uint32_t)z->n);
  put32(r + 12, clip32(size));
  put32(r + 16, clip32(start));
  if (hebb_sink_write(&z->sink, r, EOCD) != HEBB_OK) return hebb_last_status();
  z->writing = false;
  return hebb_sink_commit(&z->sink);
}

void hebb_npz_free(hebb_npz *z) {
  int64_t i;
  if (!z) return;
  if (z->writing) hebb_sink_abort(&z->sink);
  for (i = 0; i < z->n; i++) free(z->e[i].name);
  free(z->e);
  hebb_src_close(&z->src);
  free(z);
}
