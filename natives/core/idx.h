/*
** idx.h -- the IDX file reader (idx.c).  Internal: declared outside
** hebb.h's FFI block, so libhebb.so does not export it.
*/
#ifndef HEBB_IDX_H
#define HEBB_IDX_H

#include "hebb.h"

/* Reads the IDX file at path (gzip-compressed or not: told by its first
   two bytes) into a new contiguous tensor of dtype (f64, f32 or i64) with
   the file's shape.  NULL on failure (HEBB_ERR_IO for a file that cannot
   be read, is not IDX, or whose size does not match its header; the
   message names the file and the sizes). */
hebb_tensor *hebb_read_idx(const char *path, int dtype);

#endif
