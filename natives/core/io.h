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

/* CRC-32 as in zip, gzip and PNG (reflected polynomial 0xEDB88320):
   crc = hebb_crc32(0, p, n) starts, hebb_crc32(crc, q, m) continues. */
uint32_t hebb_crc32(uint32_t crc, const void *p, int64_t n);

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
