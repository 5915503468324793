/*
** io.h -- the data files of hebb.io (natives/core/io_*.c): hebb's own
** checkpoint format, numpy's .npy/.npz, text tables, HDF5, and what they
** share (files read with every size checked, files saved atomically,
** CRC-32, zlib).  Internal, like idx.h: declared outside hebb.h's FFI
** block, so libhebb.so does not export it; the binding is
** natives/lua/l_io.c.  docs/io.md describes the formats byte by byte.
**
** Every function fails with HEBB_ERR_IO (a file that cannot be read or
** written, or bytes that break the format; the message names the file and,
** for format errors, the byte offset), HEBB_ERR_NOMEM (a load that would
** need more than its max_bytes) or HEBB_ERR_DTYPE/ARG for bad arguments.
*/
#ifndef HEBB_IO_H
#define HEBB_IO_H

#include <stdint.h>

#include "hebb.h"

/* --- io_file.c: shared plumbing ------------------------------------------ */

/* The most a load may allocate when the caller does not say: 64 MiB plus
   16 times the size of the file (max_bytes < 0 asks for this default). */
int64_t hebb_io_limit(int64_t max_bytes, int64_t file_size);

/* CRC-32 as in zip, gzip and PNG (reflected polynomial 0xEDB88320), and
   CRC-32C (Castagnoli, 0x82F63B78; in hardware where SSE4.2 is, else in
   software, as hebb_crc32c_soft always): crc = hebb_crc32(0, p, n) starts,
   hebb_crc32(crc, q, m) continues. */
uint32_t hebb_crc32(uint32_t crc, const void *p, int64_t n);
uint32_t hebb_crc32c(uint32_t crc, const void *p, int64_t n);
uint32_t hebb_crc32c_soft(uint32_t crc, const void *p, int64_t n);

/* A source of bytes: a regular file (read with pread, its size known) or
   a buffer in memory; name is what messages call it. */
typedef struct hebb_src {
  const char *who;    /* "io.load" ... : the start of every message */
  char label[600];    /* "'path'" (quoted), or what the buffer is */
  int fd;             /* -1 for a buffer */
  const unsigned char *mem;
  int64_t size;
} hebb_src;
int hebb_src_open(hebb_src *s, const char *path, const char *who);
void hebb_src_buffer(hebb_src *s, const void *p, int64_t n, const char *name,
                     const char *who);
/* exactly n bytes from offset at; a short file is an error saying what
   was being read ('what') and where */
int hebb_src_read(const hebb_src *s, int64_t at, void *buf, int64_t n,
                  const char *what);
void hebb_src_close(hebb_src *s);
/* fails with "who: 'path', byte at: <message>" (HEBB_ERR_IO) */
int hebb_src_bad(const hebb_src *s, int64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A destination: a file written atomically (a temporary file in the same
   folder, fsync, rename over the target, fsync of the folder), a device or
   other non-regular file written in place, or a buffer in memory.  Every
   write and close is checked; abort removes the temporary file. */
typedef struct hebb_sink {
  const char *who;
  const char *path;
  char target[4096];   /* path, symbolic links resolved */
  char tmp[4200];      /* the temporary file ("" when writing in place) */
  int fd;              /* -1 for a buffer */
  char *mem;
  int64_t cap, pos;
} hebb_sink;
int hebb_sink_open(hebb_sink *s, const char *path, const char *who);
void hebb_sink_buffer(hebb_sink *s, void *p, int64_t cap, const char *who);
int hebb_sink_write(hebb_sink *s, const void *p, int64_t n);
int hebb_sink_zeros(hebb_sink *s, int64_t n);
int hebb_sink_commit(hebb_sink *s);
void hebb_sink_abort(hebb_sink *s);

/* --- zlib.c: zlib, opened on first use (shared with idx.c) -------------- */

/* zlib's z_stream (zlib.h 1.2.x; the layout is part of zlib's ABI) */
typedef struct hebb_zstream {
  const unsigned char *next_in;
  unsigned avail_in;
  unsigned long total_in;
  unsigned char *next_out;
  unsigned avail_out;
  unsigned long total_out;
  const char *msg;
  void *state;
  void *zalloc, *zfree, *opaque;
  int data_type;
  unsigned long adler, reserved;
} hebb_zstream;
typedef void *hebb_gzfile;
typedef struct hebb_zlib_api {
  hebb_gzfile (*gzopen)(const char *path, const char *mode);
  int (*gzread)(hebb_gzfile f, void *buf, unsigned len);
  int (*gzclose)(hebb_gzfile f);
  const char *(*gzerror)(hebb_gzfile f, int *errnum);
  int (*gzbuffer)(hebb_gzfile f, unsigned size);
  const char *(*version)(void);
  int (*inflate_init)(hebb_zstream *s, int bits, const char *v, int size);
  int (*inflate)(hebb_zstream *s, int flush);
  int (*inflate_end)(hebb_zstream *s);
  int (*deflate_init)(hebb_zstream *s, int level, int method, int bits,
                      int memlevel, int strategy, const char *v, int size);
  int (*deflate)(hebb_zstream *s, int flush);
  int (*deflate_end)(hebb_zstream *s);
  unsigned long (*deflate_bound)(hebb_zstream *s, unsigned long n);
} hebb_zlib_api;
enum { HEBB_Z_OK = 0, HEBB_Z_STREAM_END = 1, HEBB_Z_NEED_DICT = 2,
       HEBB_Z_BUF_ERROR = -5, HEBB_Z_NO_FLUSH = 0, HEBB_Z_FINISH = 4 };
/* the library, or NULL with an error "who: what needs zlib ..." */
const hebb_zlib_api *hebb_zlib(const char *who, const char *what);
/* raw deflate streams, as zip holds them (Z_OK on success) */
int hebb_inflate_begin(const hebb_zlib_api *z, hebb_zstream *s);
int hebb_deflate_begin(const hebb_zlib_api *z, hebb_zstream *s, int level);

/* A byte stream over part of a source: stored bytes, or a raw deflate
   stream inflated on the way (a zip member).  Reads deliver exactly what
   is asked or fail; label is what messages call it ("'x.npy'", "'x.npz',
   member 'a.npy'"). */
typedef struct hebb_stream {
  const hebb_src *src;
  char label[700];
  int64_t at, end;       /* the stored bytes: [at, end) of src */
  int64_t out, size;     /* bytes delivered, bytes the stream holds */
  bool check;            /* keep the CRC-32 of what is read (zip members) */
  uint32_t crc;          /* of the bytes delivered, when check */
  const hebb_zlib_api *z;   /* inflating; NULL: stored */
  hebb_zstream zs;
  unsigned char *in;
  bool zinit;
} hebb_stream;
void hebb_stream_stored(hebb_stream *st, const hebb_src *src, int64_t at,
                        int64_t size, const char *label);
int hebb_stream_inflated(hebb_stream *st, const hebb_src *src, int64_t at,
                         int64_t csize, int64_t size, const char *label);
int hebb_stream_read(hebb_stream *st, void *buf, int64_t n, const char *what);
/* the stream holds nothing beyond what was read */
int hebb_stream_end(hebb_stream *st);
void hebb_stream_close(hebb_stream *st);

/* --- io_npy.c: numpy's .npy ------------------------------------------------ */

/* The array of a .npy file (format 1.0, 2.0 or 3.0; any hebb dtype in
   either byte order, C or Fortran order; object arrays and dtypes hebb
   lacks are refused).  With map, a large file of native byte order is
   mapped (private copy-on-write pages: the file is never written) instead
   of read. */
hebb_tensor *hebb_npy_load(const char *path, bool map);
hebb_tensor *hebb_npy_decode(const void *data, int64_t size);
/* the .npy at the start of a stream (a zip member) */
hebb_tensor *hebb_npy_read(hebb_stream *st, const char *who);
int hebb_npy_save(const char *path, hebb_tensor *t);
/* the header a .npy of t begins with (a multiple of 64 bytes, into buf of
   cap bytes), and the tensor whose memory follows it (t itself when it is
   C- or Fortran-contiguous, else a contiguous copy; one reference) */
int64_t hebb_npy_header(hebb_tensor *t, char *buf, int64_t cap,
                        hebb_tensor **data);

/* --- io_npz.c: numpy's .npz (a zip of .npy members) ----------------------- */

typedef struct hebb_npz hebb_npz;
/* Reading: the directory is checked against the file, and the members'
   uncompressed sizes against max_bytes (< 0: hebb_io_limit's default),
   before any member is read.  Names are as stored ("x.npy"). */
hebb_npz *hebb_npz_open(const char *path, int64_t max_bytes);
hebb_npz *hebb_npz_decode(const void *data, int64_t size, int64_t max_bytes);
int64_t hebb_npz_count(const hebb_npz *z);
const char *hebb_npz_name(const hebb_npz *z, int64_t i);
hebb_tensor *hebb_npz_read(hebb_npz *z, int64_t i);
/* Writing (atomic like every save): members "name.npy", stored or
   deflated; finish writes the directory and renames the file into place,
   free without finish leaves the old file untouched. */
hebb_npz *hebb_npz_create(const char *path, bool compress);
int hebb_npz_add(hebb_npz *z, const char *name, hebb_tensor *t);
int hebb_npz_finish(hebb_npz *z);
void hebb_npz_free(hebb_npz *z);

/* --- io_text.c: columns of numbers as text ------------------------------- */

/* A 2-d tensor (rows x columns) of dtype f64, f32 or i64 from a text table
   (fields split by delim, or by runs of whitespace when delim is 0; comment
   to the end of a line); the header's names, each followed by '\n', go to
   names (cap bytes; "" when there is no header). */
hebb_tensor *hebb_loadtxt(const char *path, char delim, char comment,
                          int dtype, char *names, int64_t cap);
hebb_tensor *hebb_loadtxt_decode(const void *text, int64_t n, char delim,
                                 char comment, int dtype, char *names,
                                 int64_t cap);
/* t (1-d: one column; 2-d: rows) with the shortest exact decimal floats;
   header (NULL: none) is written after the comments prefix */
int hebb_savetxt(const char *path, const hebb_tensor *t, char delim,
                 const char *header, const char *comments);

/* --- io_hdf5.c: HDF5 through libhdf5 (opened on first use) ------------------ */

typedef struct hebb_h5 hebb_h5;
/* how a dataset is made */
typedef struct hebb_h5_opts {
  int nchunk;                   /* chunk rank given (0: chosen if needed) */
  int64_t chunk[HEBB_MAXDIM];
  int level;                    /* gzip level 0..9, -1: not compressed */
  int growable;                 /* bit i set: dim i may grow without bound */
} hebb_h5_opts;
/* what a name holds */
typedef struct hebb_h5_info_t {
  int kind;                     /* 0 nothing, 1 group, 2 dataset, 3 other */
  int dtype;                    /* -1: a type hebb lacks, described in why */
  int ndim;
  bool chunked;
  int64_t shape[HEBB_MAXDIM], maxshape[HEBB_MAXDIM];   /* -1: unlimited */
  int64_t chunk[HEBB_MAXDIM];
  char why[80];
} hebb_h5_info_t;
/* mode "r" (read), "r+" (read and write), "w" (create or truncate), "x"
   (create, the file must not exist), "a" (read and write, created if
   missing).  Names are paths from the root ("run/E"); start and count
   are 0-based, one per dimension. */
hebb_h5 *hebb_h5_open(const char *path, const char *mode);
int hebb_h5_close(hebb_h5 *f);
void hebb_h5_free(hebb_h5 *f);
int hebb_h5_flush(hebb_h5 *f);
int hebb_h5_write(hebb_h5 *f, const char *name, const hebb_tensor *t,
                  const hebb_h5_opts *o);
int hebb_h5_write_block(hebb_h5 *f, const char *name, const int64_t *start,
                        const hebb_tensor *t);
int hebb_h5_append(hebb_h5 *f, const char *name, int dim, const hebb_tensor *t,
                   const hebb_h5_opts *o);
hebb_tensor *hebb_h5_read(hebb_h5 *f, const char *name, const int64_t *start,
                          const int64_t *count, int64_t max_bytes);
int hebb_h5_info(hebb_h5 *f, const char *name, hebb_h5_info_t *info);
int hebb_h5_group(hebb_h5 *f, const char *name);
int hebb_h5_member(hebb_h5 *f, const char *group, int64_t i, char *buf,
                   int64_t cap);
int hebb_h5_set_attr(hebb_h5 *f, const char *obj, const char *attr,
                     const hebb_tensor *t);
int hebb_h5_set_attr_string(hebb_h5 *f, const char *obj, const char *attr,
                            const char *s);
/* *t (numbers) or *str (a string, to free()); both NULL: no such attribute */
int hebb_h5_get_attr(hebb_h5 *f, const char *obj, const char *attr,
                     hebb_tensor **t, char **str);
int hebb_h5_attr_name(hebb_h5 *f, const char *obj, int64_t i, char *buf,
                      int64_t cap);

/* --- io_ckpt.c: hebb's checkpoint format ---------------------------------- */

/* the kinds of values (and the tags of the format) */
enum {
  HEBB_CK_NIL = 0, HEBB_CK_FALSE = 1, HEBB_CK_TRUE = 2, HEBB_CK_INT = 3,
  HEBB_CK_FLOAT = 4, HEBB_CK_STRING = 5, HEBB_CK_TABLE = 6, HEBB_CK_LIST = 7,
  HEBB_CK_TENSOR = 8,
  HEBB_CK_END = -1   /* hebb_ckpt_next: no more values */
};

typedef struct hebb_ckpt hebb_ckpt;

/* Writing: put the value in prefix order (a table: its pair count, then
   key, value, key, value ...; a list: its length, then the values), then
   encode or save.  Tensors are referenced, not copied, until the writer is
   freed; a tensor whose elements are not one dense block (a slice with
   gaps, an expanded or flipped view) is copied when it is put. */
hebb_ckpt *hebb_ckpt_writer(void);
int hebb_ckpt_put(hebb_ckpt *w, int kind, int64_t n, double f);
int hebb_ckpt_put_string(hebb_ckpt *w, const char *s, int64_t len);
int hebb_ckpt_put_tensor(hebb_ckpt *w, hebb_tensor *t);
int64_t hebb_ckpt_encoded_size(hebb_ckpt *w);   /* -1 (with error) if the
                                                   value is incomplete */
int hebb_ckpt_encode(hebb_ckpt *w, void *dst, int64_t size);
int hebb_ckpt_save(hebb_ckpt *w, const char *path);

/* Reading: load/decode check the whole header (every size, offset, shape,
   nesting and the header's checksum) and the memory the value will take
   (at most max_bytes; < 0: hebb_io_limit's default) before returning.
   hebb_ckpt_next then yields the values in the same prefix order: *n is
   the integer, the string length or the table/list count, *f the float,
   *s the string's bytes (valid until the reader is freed); for a tensor
   call hebb_ckpt_tensor, which reads its data.  The data checksum is
   verified when next reaches the end. */
hebb_ckpt *hebb_ckpt_load(const char *path, int64_t max_bytes);
hebb_ckpt *hebb_ckpt_decode(const void *data, int64_t size,
                            int64_t max_bytes);
int hebb_ckpt_next(hebb_ckpt *r, int *kind, int64_t *n, double *f,
                   const char **s);
hebb_tensor *hebb_ckpt_tensor(hebb_ckpt *r);
/* the file offset of the value next returned last, and the reader's
   message prefix ("io.load: 'path'"), for errors the caller finds */
int64_t hebb_ckpt_offset(const hebb_ckpt *r);
const char *hebb_ckpt_name(const hebb_ckpt *r);
void hebb_ckpt_free(hebb_ckpt *c);

#endif
