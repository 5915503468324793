/*
** zlib.c -- zlib, opened with dlopen on first use (like OpenBLAS in
** blas.c): zlib1g is a required package on every Debian system, so
** compressed files add neither a build dependency nor a library that every
** start-up would pay to load.  One loader serves the IDX reader (idx.c:
** gzip files through gz*) and the .npz files (io_npz.c: raw deflate
** streams through inflate/deflate).
*/
#include <pthread.h>
#include <string.h>

#include "core.h"
#include "io.h"

static hebb_dynlib zdl = {"libz.so.1", NULL, ""};
static hebb_zlib_api zapi;
static const hebb_zlib_api *zlib;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;

#define SYM(field, name) \
  *(void **)&zapi.field = hebb_dl_sym(&zdl, "", name)

static void zload(void) {
  if (!hebb_dl_open(&zdl)) return;
  SYM(gzopen, "gzopen");
  SYM(gzread, "gzread");
  SYM(gzclose, "gzclose");
  SYM(gzerror, "gzerror");
  SYM(gzbuffer, "gzbuffer");
  SYM(version, "zlibVersion");
  SYM(inflate_init, "inflateInit2_");
  SYM(inflate, "inflate");
  SYM(inflate_end, "inflateEnd");
  SYM(deflate_init, "deflateInit2_");
  SYM(deflate, "deflate");
  SYM(deflate_end, "deflateEnd");
  SYM(deflate_bound, "deflateBound");
  if (!zdl.error[0]) zlib = &zapi;
}

const hebb_zlib_api *hebb_zlib(const char *who, const char *what) {
  pthread_once(&zonce, zload);
  if (!zlib)
    return hebb_fail_null(HEBB_ERR_IO, "%s: %s needs zlib, which could not "
                          "be loaded (%s)", who, what, zdl.error);
  return zlib;
}

/* raw deflate streams (no zlib or gzip wrapper: zip holds them bare) */
int hebb_inflate_begin(const hebb_zlib_api *z, hebb_zstream *s) {
  memset(s, 0, sizeof *s);
  return z->inflate_init(s, -15, z->version(), (int)sizeof *s);
}

int hebb_deflate_begin(const hebb_zlib_api *z, hebb_zstream *s, int level) {
  memset(s, 0, sizeof *s);
  return z->deflate_init(s, level, 8, -15, 8, 0, z->version(), (int)sizeof *s);
}
