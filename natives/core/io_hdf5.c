/*
** io_hdf5.c -- HDF5 files through Debian's libhdf5, opened with dlopen the
** first time a file is opened (like OpenBLAS in blas.c): linking it would
** make every start of hebb load a 4 MB library most scripts never use.
**
** hebb's dtypes map onto the types h5py uses, so files go both ways: f64,
** f32, i64 as native floats and integers, complex as the compound {r, i}
** of two floats, bool as the enum {FALSE = 0, TRUE = 1} over int8.  Integer
** datasets of other widths (int8 .. int32, uint8 .. uint32) read exactly as
** i64; what does not fit hebb (uint64, float16, strings, other compounds)
** is refused by name.
**
** HDF5's predefined types (H5T_NATIVE_DOUBLE ...) are macros over global
** ids (H5T_NATIVE_DOUBLE_g) that exist only after H5open(); they are read
** through their addresses after it.  hebb parses nothing of the file
** itself: libhdf5 does, and its error stack becomes hebb's message.
*/
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core.h"
#include "io.h"

#ifndef HEBB_HDF5_LIB
#define HEBB_HDF5_LIB "libhdf5_serial.so.103"
#endif

typedef int64_t hid_t;
typedef int herr_t;
typedef int htri_t;
typedef unsigned long long hsize_t;

/* H5E_error2_t and H5G_info_t, as in the 1.10 headers */
typedef struct h5_err {
  hid_t cls_id, maj_num, min_num;
  unsigned line;
  const char *func_name, *file_name, *desc;
} h5_err;
typedef struct h5_ginfo {
  int storage_type;
  hsize_t nlinks;
  int64_t max_corder;
  bool mounted;
} h5_ginfo;
typedef int (*h5_walk_fn)(unsigned n, const h5_err *e, void *ud);

/* constants of the 1.10 headers (enums and macros) */
enum {
  ACC_RDONLY = 0, ACC_RDWR = 1, ACC_TRUNC = 2, ACC_EXCL = 4,
  T_INTEGER = 0, T_FLOAT = 1, T_STRING = 3, T_COMPOUND = 6, T_ENUM = 8,
  SGN_NONE = 0, S_SCALAR = 0, SELECT_SET = 0, D_CHUNKED = 2,
  I_GROUP = 2, I_DATASET = 5, WALK_UPWARD = 0, CSET_UTF8 = 1
};
#define P_DEFAULT ((hid_t)0)
#define S_ALL ((hid_t)0)
#define S_UNLIMITED ((hsize_t)-1)
#define T_VARIABLE ((size_t)-1)

/* The library's functions, each field named as its symbol without "H5". */
typedef struct h5_api {
  herr_t (*open)(void);
  hid_t (*Fcreate)(const char *, unsigned, hid_t, hid_t);
  hid_t (*Fopen)(const char *, unsigned, hid_t);
  herr_t (*Fclose)(hid_t);
  herr_t (*Fflush)(hid_t, int);
  hid_t (*Gcreate2)(hid_t, const char *, hid_t, hid_t, hid_t);
  herr_t (*Gclose)(hid_t);
  herr_t (*Gget_info)(hid_t, h5_ginfo *);
  htri_t (*Lexists)(hid_t, const char *, hid_t);
  ssize_t (*Lget_name_by_idx)(hid_t, const char *, int, int, hsize_t, char *,
                              size_t, hid_t);
  hid_t (*Oopen)(hid_t, const char *, hid_t);
  herr_t (*Oclose)(hid_t);
  int (*Iget_type)(hid_t);
  hid_t (*Dcreate2)(hid_t, const char *, hid_t, hid_t, hid_t, hid_t, hid_t);
  hid_t (*Dopen2)(hid_t, const char *, hid_t);
  herr_t (*Dclose)(hid_t);
  herr_t (*Dread)(hid_t, hid_t, hid_t, hid_t, hid_t, void *);
  herr_t (*Dwrite)(hid_t, hid_t, hid_t, hid_t, hid_t, const void *);
  hid_t (*Dget_space)(hid_t);
  hid_t (*Dget_type)(hid_t);
  herr_t (*Dset_extent)(hid_t, const hsize_t *);
  hid_t (*Dget_create_plist)(hid_t);
  hid_t (*Screate)(int);
  hid_t (*Screate_simple)(int, const hsize_t *, const hsize_t *);
  herr_t (*Sclose)(hid_t);
  herr_t (*Sselect_hyperslab)(hid_t, int, const hsize_t *, const hsize_t *,
                              const hsize_t *, const hsize_t *);
  int (*Sget_simple_extent_dims)(hid_t, hsize_t *, hsize_t *);
  hid_t (*Tcreate)(int, size_t);
  herr_t (*Tinsert)(hid_t, const char *, size_t, hid_t);
  herr_t (*Tclose)(hid_t);
  hid_t (*Tcopy)(hid_t);
  int (*Tget_class)(hid_t);
  size_t (*Tget_size)(hid_t);
  int (*Tget_sign)(hid_t);
  int (*Tget_nmembers)(hid_t);
  char *(*Tget_member_name)(hid_t, unsigned);
  hid_t (*Tget_member_type)(hid_t, unsigned);
  size_t (*Tget_member_offset)(hid_t, unsigned);
  herr_t (*Tget_member_value)(hid_t, unsigned, void *);
  hid_t (*Tenum_create)(hid_t);
  herr_t (*Tenum_insert)(hid_t, const char *, const void *);
  hid_t (*Tget_super)(hid_t);
  herr_t (*Tset_size)(hid_t, size_t);
  herr_t (*Tset_cset)(hid_t, int);
  htri_t (*Tis_variable_str)(hid_t);
  hid_t (*Pcreate)(hid_t);
  herr_t (*Pclose)(hid_t);
  herr_t (*Pset_chunk)(hid_t, int, const hsize_t *);
  herr_t (*Pset_deflate)(hid_t, unsigned);
  int (*Pget_chunk)(hid_t, int, hsize_t *);
  int (*Pget_layout)(hid_t);
  herr_t (*Pset_create_intermediate_group)(hid_t, unsigned);
  hid_t (*Acreate2)(hid_t, const char *, hid_t, hid_t, hid_t, hid_t);
  hid_t (*Aopen_by_name)(hid_t, const char *, const char *, hid_t, hid_t);
  htri_t (*Aexists_by_name)(hid_t, const char *, const char *, hid_t);
  herr_t (*Adelete_by_name)(hid_t, const char *, const char *, hid_t);
  herr_t (*Aread)(hid_t, hid_t, void *);
  herr_t (*Awrite)(hid_t, hid_t, const void *);
  hid_t (*Aget_space)(hid_t);
  hid_t (*Aget_type)(hid_t);
  herr_t (*Aclose)(hid_t);
  ssize_t (*Aget_name_by_idx)(hid_t, const char *, int, int, hsize_t, char *,
                              size_t, hid_t);
  herr_t (*Eset_auto2)(hid_t, void *, void *);
  herr_t (*Ewalk2)(hid_t, int, h5_walk_fn, void *);
  herr_t (*Eclear2)(hid_t);
  herr_t (*free_memory)(void *);
  hid_t *T_NATIVE_DOUBLE_g, *T_NATIVE_FLOAT_g, *T_NATIVE_INT64_g,
        *T_NATIVE_INT8_g, *T_C_S1_g, *P_CLS_DATASET_CREATE_ID_g,
        *P_CLS_LINK_CREATE_ID_g;
} h5_api;

#define SYM(f) {"H5" #f, offsetof(h5_api, f)}
static const struct { const char *name; size_t off; } syms[] = {
  SYM(open), SYM(Fcreate), SYM(Fopen), SYM(Fclose), SYM(Fflush),
  SYM(Gcreate2), SYM(Gclose), SYM(Gget_info), SYM(Lexists),
  SYM(Lget_name_by_idx), SYM(Oopen), SYM(Oclose), SYM(Iget_type),
  SYM(Dcreate2), SYM(Dopen2), SYM(Dclose), SYM(Dread), SYM(Dwrite),
  SYM(Dget_space), SYM(Dget_type), SYM(Dset_extent), SYM(Dget_create_plist),
  SYM(Screate), SYM(Screate_simple), SYM(Sclose), SYM(Sselect_hyperslab),
  SYM(Sget_simple_extent_dims), SYM(Tcreate), SYM(Tinsert), SYM(Tclose),
  SYM(Tcopy), SYM(Tget_class), SYM(Tget_size), SYM(Tget_sign),
  SYM(Tget_nmembers), SYM(Tget_member_name), SYM(Tget_member_type),
  SYM(Tget_member_offset), SYM(Tget_member_value), SYM(Tenum_create),
  SYM(Tenum_insert), SYM(Tget_super), SYM(Tset_size), SYM(Tset_cset),
  SYM(Tis_variable_str), SYM(Pcreate), SYM(Pclose), SYM(Pset_chunk),
  SYM(Pset_deflate), SYM(Pget_chunk), SYM(Pget_layout),
  SYM(Pset_create_intermediate_group), SYM(Acreate2), SYM(Aopen_by_name),
  SYM(Aexists_by_name), SYM(Adelete_by_name), SYM(Aread), SYM(Awrite),
  SYM(Aget_space), SYM(Aget_type), SYM(Aclose), SYM(Aget_name_by_idx),
  SYM(Eset_auto2), SYM(Ewalk2), SYM(Eclear2), SYM(free_memory),
  SYM(T_NATIVE_DOUBLE_g), SYM(T_NATIVE_FLOAT_g), SYM(T_NATIVE_INT64_g),
  SYM(T_NATIVE_INT8_g), SYM(T_C_S1_g), SYM(P_CLS_DATASET_CREATE_ID_g),
  SYM(P_CLS_LINK_CREATE_ID_g), {NULL, 0}
};

static h5_api api;
static const h5_api *h5;
static hebb_dynlib lib = {HEBB_HDF5_LIB, NULL, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
  int i;
  if (!hebb_dl_open(&lib)) return;
  for (i = 0; syms[i].name; i++)
    *(void **)((char *)&api + syms[i].off) = hebb_dl_sym(&lib, "", syms[i].name);
  if (lib.error[0] || api.open() < 0) return;
  api.Eset_auto2(0, NULL, NULL);   /* errors come back here, not on stderr */
  h5 = &api;
}

static const h5_api *hdf5(const char *who) {
  pthread_once(&once, load);
  if (!h5)
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "%s: cannot load HDF5 (%s); "
                          "install libhdf5-103-1", who, lib.error);
  return h5;
}

struct hebb_h5 {
  hid_t file;
  bool writable;
  int64_t size;     /* the file's size when opened: the default read limit */
  char label[600];  /* "'path'" */
};

/* --- errors: libhdf5's error stack in one line ------------------------------- */

typedef struct errs { char top[200], deep[200]; } errs;

static int walk(unsigned n, const h5_err *e, void *ud) {
  errs *x = ud;
  if (n == 0) snprintf(x->deep, sizeof x->deep, "%s", e->desc ? e->desc : "");
  snprintf(x->top, sizeof x->top, "%s", e->desc ? e->desc : "");
  return 0;
}

/* "who: 'path': what (HDF5: top-level message: innermost message)" */
static int h5fail(const hebb_h5 *f, const char *who, const char *fmt, ...)
    HEBB_PRINTF(3, 4);

static int h5fail(const hebb_h5 *f, const char *who, const char *fmt, ...) {
  errs x = {"", ""};
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  h5->Ewalk2(0, WALK_UPWARD, walk, &x);
  h5->Eclear2(0);
  if (!x.top[0])
    return hebb_fail(HEBB_ERR_IO, "%s: %s: %s", who, f->label, what);
  return hebb_fail(HEBB_ERR_IO, "%s: %s: %s (HDF5: %s%s%s)", who, f->label,
                   what, x.top, strcmp(x.top, x.deep) ? ": " : "",
                   strcmp(x.top, x.deep) ? x.deep : "");
}

/* --- files ---------------------------------------------------------------------- */

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static hid_t open_file(hebb_h5 *f, const char *path, const char *mode) {
  bool rdonly = strcmp(mode, "r") == 0;
  f->writable = !rdonly;
  if (rdonly || strcmp(mode, "r+") == 0 || (strcmp(mode, "a") == 0 && exists(path)))
    return h5->Fopen(path, rdonly ? ACC_RDONLY : ACC_RDWR, P_DEFAULT);
  return h5->Fcreate(path, strcmp(mode, "x") == 0 || strcmp(mode, "a") == 0
                     ? ACC_EXCL : ACC_TRUNC, P_DEFAULT, P_DEFAULT);
}

hebb_h5 *hebb_h5_open(const char *path, const char *mode) {
  static const char *const modes[] = {"r", "r+", "w", "x", "a", NULL};
  struct stat st;
  hebb_h5 *f;
  int i;
  for (i = 0; modes[i] && strcmp(modes[i], mode) != 0; i++) {}
  if (!modes[i])
    return hebb_fail_null(HEBB_ERR_ARG, "io.h5open: mode must be \"r\", "
                          "\"r+\", \"w\", \"x\" or \"a\", got \"%s\"", mode);
  if (!hdf5("io.h5open")) return NULL;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return hebb_fail_null(HEBB_ERR_IO, "io.h5open: '%s' is a directory", path);
  if (!(f = calloc(1, sizeof *f)))
    return hebb_fail_null(HEBB_ERR_NOMEM, "io.h5open: out of memory");
  snprintf(f->label, sizeof f->label, "'%s'", path);
  f->file = open_file(f, path, mode);
  if (f->file < 0) {
    bool opening = mode[0] == 'r' || (mode[0] == 'a' && exists(path));
    h5fail(f, "io.h5open", !opening ? "cannot create it" : exists(path) ?
           "cannot open it" : "cannot open it: No such file or directory");
    free(f);
    return NULL;
  }
  f->size = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
  return f;
}

int hebb_h5_close(hebb_h5 *f) {
  int rc = HEBB_OK;
  if (f->file >= 0 && h5->Fclose(f->file) < 0)
    rc = h5fail(f, "io.h5close", "closing failed");
  f->file = -1;
  return rc;
}

void hebb_h5_free(hebb_h5 *f) {
  if (!f) return;
  if (f->file >= 0) {
    h5->Fclose(f->file);
    h5->Eclear2(0);
  }
  free(f);
}

int hebb_h5_flush(hebb_h5 *f) {
  if (h5->Fflush(f->file, 0) < 0) return h5fail(f, "io.h5flush", "flush failed");
  return HEBB_OK;
}

static int check_open(const hebb_h5 *f, const char *who, bool write) {
  if (f->file < 0) return hebb_fail(HEBB_ERR_ARG, "%s: the file is closed", who);
  if (write && !f->writable)
    return hebb_fail(HEBB_ERR_IO, "%s: %s is open read-only (mode \"r\")",
                     who, f->label);
  return HEBB_OK;
}

/* --- element types ---------------------------------------------------------------- */

/* the type hebb reads and writes dtype with (h5py's choices) */
static hid_t mem_type(int dtype, const char *re, const char *im) {
  hid_t t, part;
  signed char no = 0, yes = 1;
  switch (dtype) {
    case HEBB_F64: return h5->Tcopy(*h5->T_NATIVE_DOUBLE_g);
    case HEBB_F32: return h5->Tcopy(*h5->T_NATIVE_FLOAT_g);
    case HEBB_I64: return h5->Tcopy(*h5->T_NATIVE_INT64_g);
    case HEBB_BOOL:
      t = h5->Tenum_create(*h5->T_NATIVE_INT8_g);
      if (t >= 0) {
        h5->Tenum_insert(t, "FALSE", &no);
        h5->Tenum_insert(t, "TRUE", &yes);
      }
      return t;
    default:
      part = dtype == HEBB_C128 ? *h5->T_NATIVE_DOUBLE_g : *h5->T_NATIVE_FLOAT_g;
      t = h5->Tcreate(T_COMPOUND, (size_t)hebb_dtype_size(dtype));
      if (t >= 0) {
        h5->Tinsert(t, re, 0, part);
        h5->Tinsert(t, im, (size_t)hebb_dtype_size(dtype) / 2, part);
      }
      return t;
  }
}

/* a compound of two floats of one width at offsets 0 and w: complex */
static int complex_type(hid_t ft, char *re, char *im, size_t cap) {
  hid_t a, b;
  char *na, *nb;
  int dt = -1;
  size_t w;
  if (h5->Tget_nmembers(ft) != 2) return -1;
  a = h5->Tget_member_type(ft, 0);
  b = h5->Tget_member_type(ft, 1);
  w = h5->Tget_size(a);
  if (h5->Tget_class(a) == T_FLOAT && h5->Tget_class(b) == T_FLOAT &&
      h5->Tget_size(b) == w && (w == 4 || w == 8) &&
      h5->Tget_member_offset(ft, 0) == 0 && h5->Tget_member_offset(ft, 1) == w &&
      (na = h5->Tget_member_name(ft, 0)) != NULL) {
    if ((nb = h5->Tget_member_name(ft, 1)) != NULL) {
      snprintf(re, cap, "%s", na);
      snprintf(im, cap, "%s", nb);
      dt = w == 8 ? HEBB_C128 : HEBB_C64;
      h5->free_memory(nb);
    }
    h5->free_memory(na);
  }
  h5->Tclose(a);
  h5->Tclose(b);
  return dt;
}

/* an enum over a 1-byte integer with exactly FALSE = 0 and TRUE = 1 */
static bool bool_type(hid_t ft) {
  hid_t base = h5->Tget_super(ft);
  bool ok = base >= 0 && h5->Tget_size(base) == 1 && h5->Tget_nmembers(ft) == 2;
  unsigned i;
  for (i = 0; ok && i < 2; i++) {
    signed char v = -1;
    char *name = h5->Tget_member_name(ft, i);
    ok = name && h5->Tget_member_value(ft, i, &v) >= 0 &&
         strcmp(name, v ? "TRUE" : "FALSE") == 0 && (v == 0 || v == 1);
    if (name) h5->free_memory(name);
  }
  if (base >= 0) h5->Tclose(base);
  return ok;
}

/* the hebb dtype of a file type and the memory type to read it with; -1
   and a description in why when hebb has no such dtype */
static int classify(hid_t ft, hid_t *mt, char *why, size_t cap) {
  char re[64] = "r", im[64] = "i";
  size_t size = h5->Tget_size(ft);
  int cls = h5->Tget_class(ft), dt = -1;
  if (cls == T_FLOAT && (size == 8 || size == 4)) dt = size == 8 ? HEBB_F64 : HEBB_F32;
  else if (cls == T_INTEGER && (size < 8 || h5->Tget_sign(ft) != SGN_NONE) &&
           size <= 8)
    dt = HEBB_I64;
  else if (cls == T_ENUM && bool_type(ft)) dt = HEBB_BOOL;
  else if (cls == T_COMPOUND) dt = complex_type(ft, re, im, sizeof re);
  if (dt < 0) {
    static const char *const names[] = {"integer", "float", "time", "string",
      "bitfield", "opaque", "compound", "reference", "enum", "vlen", "array"};
    const char *what = cls >= 0 && cls <= 10 ? names[cls] : "unknown";
    if (cls == T_INTEGER) what = "unsigned 64-bit integer";
    snprintf(why, cap, "%s elements of %zu bytes", what, size);
    return -1;
  }
  *mt = mem_type(dt, re, im);
  return dt;
}

/* --- datasets ----------------------------------------------------------------- */

/* the chunk shape when none is given: whole along fixed dims, and along a
   growable dim as long as 64 KiB of elements allow (a series appended row
   by row must not cost a chunk per row); then the largest dims halved
   until a chunk holds at most 1 MiB (h5py aims at 16 KiB .. 1 MiB: small
   chunks cost index overhead, large ones read more than a block needs) */
static void guess_chunks(int ndim, const int64_t *shape, int size, int grow,
                         hsize_t *chunk) {
  int64_t bytes = size, slice = size;
  int i;
  for (i = 0; i < ndim; i++)
    if (!(grow >> i & 1)) slice *= shape[i] > 0 ? shape[i] : 1;
  for (i = 0; i < ndim; i++) {
    int64_t n = shape[i] > 0 ? shape[i] : 1;
    if (grow >> i & 1 && n < (1 << 16) / slice) n = (1 << 16) / slice;
    chunk[i] = (hsize_t)n;
    bytes *= n;
  }
  while (bytes > (1 << 20)) {
    int big = 0;
    for (i = 1; i < ndim; i++)
      if (chunk[i] > chunk[big]) big = i;
    if (chunk[big] == 1) break;
    bytes = bytes / (int64_t)chunk[big] * (int64_t)((chunk[big] + 1) / 2);
    chunk[big] = (chunk[big] + 1) / 2;
  }
}

/* the dataset creation properties: chunked (with deflate) when asked or
   when a dimension may grow */
static hid_t creation_plist(const hebb_tensor *t, const hebb_h5_opts *o) {
  hsize_t chunk[HEBB_MAXDIM];
  bool chunked = o && (o->nchunk > 0 || o->level >= 0 || o->growable);
  hid_t p = h5->Pcreate(*h5->P_CLS_DATASET_CREATE_ID_g);
  int i;
  if (p < 0 || !chunked || t->ndim == 0) return p;
  if (o->nchunk > 0)
    for (i = 0; i < t->ndim; i++) chunk[i] = (hsize_t)o->chunk[i];
  else
    guess_chunks(t->ndim, t->shape, hebb_dtype_size(t->dtype), o->growable,
                 chunk);
  if (h5->Pset_chunk(p, t->ndim, chunk) < 0 ||
      (o->level >= 0 && h5->Pset_deflate(p, (unsigned)o->level) < 0)) {
    h5->Pclose(p);
    return -1;
  }
  return p;
}

static hid_t make_space(const hebb_tensor *t, const hebb_h5_opts *o) {
  hsize_t dims[HEBB_MAXDIM], maxd[HEBB_MAXDIM];
  int i;
  if (t->ndim == 0) return h5->Screate(S_SCALAR);
  for (i = 0; i < t->ndim; i++) {
    dims[i] = (hsize_t)t->shape[i];
    maxd[i] = o && (o->growable >> i & 1) ? S_UNLIMITED : dims[i];
  }
  return h5->Screate_simple(t->ndim, dims, maxd);
}

/* writes t's elements (contiguous) with mem type mt into dataset d through
   the file selection fs (S_ALL: everything) */
static herr_t write_elems(hid_t d, hid_t mt, hid_t fs, const hebb_tensor *t) {
  hsize_t dims[HEBB_MAXDIM];
  hebb_tensor *c = hebb_contiguous((hebb_tensor *)t);
  hid_t ms = S_ALL;
  herr_t rc;
  int i;
  if (!c) return -2;
  for (i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
  if (fs != S_ALL) ms = t->ndim ? h5->Screate_simple(t->ndim, dims, NULL) :
                                  h5->Screate(S_SCALAR);
  rc = hebb_numel(c) == 0 ? 0 : h5->Dwrite(d, mt, ms, fs, P_DEFAULT,
                                           hebb_data_ptr(c));
  if (ms != S_ALL) h5->Sclose(ms);
  hebb_release(c);
  return rc;
}

static int finish(const hebb_h5 *f, const char *who, const char *name,
                  herr_t rc, const char *what) {
  if (rc == -2) return hebb_last_status();   /* hebb's own failure */
  if (rc < 0) return h5fail(f, who, "%s '%s' failed", what, name);
  return HEBB_OK;
}

int hebb_h5_write(hebb_h5 *f, const char *name, const hebb_tensor *t,
                  const hebb_h5_opts *o) {
  hid_t mt, sp, dcpl, lcpl, d = -1;
  herr_t rc = -1;
  if (check_open(f, "io.h5write", true)) return hebb_last_status();
  if (h5->Lexists(f->file, name, P_DEFAULT) > 0)
    return hebb_fail(HEBB_ERR_ARG, "io.h5write: %s already has '%s' (write "
                     "into it with {start = ...}, or append)", f->label, name);
  h5->Eclear2(0);
  mt = mem_type(t->dtype, "r", "i");
  sp = make_space(t, o);
  dcpl = creation_plist(t, o);
  lcpl = h5->Pcreate(*h5->P_CLS_LINK_CREATE_ID_g);
  if (mt >= 0 && sp >= 0 && dcpl >= 0 && lcpl >= 0 &&
      h5->Pset_create_intermediate_group(lcpl, 1) >= 0 &&
      (d = h5->Dcreate2(f->file, name, mt, sp, lcpl, dcpl, P_DEFAULT)) >= 0)
    rc = write_elems(d, mt, S_ALL, t);
  if (d >= 0) h5->Dclose(d);
  if (lcpl >= 0) h5->Pclose(lcpl);
  if (dcpl >= 0) h5->Pclose(dcpl);
  if (sp >= 0) h5->Sclose(sp);
  if (mt >= 0) h5->Tclose(mt);
  return finish(f, "io.h5write", name, rc, d < 0 ? "creating" : "writing");
}

/* --- reading ------------------------------------------------------------------------ */

/* an open dataset with its type and shape, or an error naming it */
typedef struct dset {
  hid_t d, ft, mt, fs;
  int dtype, ndim;
  int64_t shape[HEBB_MAXDIM], maxshape[HEBB_MAXDIM];
  char why[80];
} dset;

static void dset_close(dset *s) {
  if (s->mt >= 0) h5->Tclose(s->mt);
  if (s->ft >= 0) h5->Tclose(s->ft);
  if (s->fs >= 0) h5->Sclose(s->fs);
  if (s->d >= 0) h5->Dclose(s->d);
  s->d = s->ft = s->mt = s->fs = -1;
}

static int dset_open(const hebb_h5 *f, const char *who, const char *name,
                     dset *s) {
  hsize_t dims[HEBB_MAXDIM], maxd[HEBB_MAXDIM];
  int i;
  s->d = s->ft = s->mt = s->fs = -1;
  s->why[0] = '\0';
  if (h5->Lexists(f->file, name, P_DEFAULT) <= 0) {
    h5->Eclear2(0);
    return hebb_fail(HEBB_ERR_ARG, "%s: %s has no '%s'", who, f->label, name);
  }
  if ((s->d = h5->Dopen2(f->file, name, P_DEFAULT)) < 0)
    return h5fail(f, who, "'%s' is not a dataset", name);
  s->ft = h5->Dget_type(s->d);
  s->fs = h5->Dget_space(s->d);
  s->ndim = s->fs >= 0 ? h5->Sget_simple_extent_dims(s->fs, dims, maxd) : -1;
  if (s->ft < 0 || s->ndim < 0 || s->ndim > HEBB_MAXDIM) {
    int n = s->ndim;
    dset_close(s);
    return n > HEBB_MAXDIM ? hebb_fail(HEBB_ERR_IO, "%s: %s: '%s' has %d "
                                       "dimensions (at most %d)", who, f->label,
                                       name, n, (int)HEBB_MAXDIM)
                           : h5fail(f, who, "cannot read '%s'", name);
  }
  for (i = 0; i < s->ndim; i++) {
    s->shape[i] = (int64_t)dims[i];
    s->maxshape[i] = maxd[i] == S_UNLIMITED ? -1 : (int64_t)maxd[i];
  }
  s->dtype = classify(s->ft, &s->mt, s->why, sizeof s->why);
  return HEBB_OK;
}

static int need_dtype(const hebb_h5 *f, const char *who, const char *name,
                      dset *s) {
  if (s->dtype >= 0 && s->mt >= 0) return HEBB_OK;
  dset_close(s);
  return hebb_fail(HEBB_ERR_DTYPE, "%s: %s: '%s' holds %s, which hebb lacks",
                   who, f->label, name, s->why);
}

/* selects the block start..start+count-1 of the file space */
static int select_block(const hebb_h5 *f, const char *who, const char *name,
                        dset *s, const int64_t *start, const int64_t *count) {
  hsize_t st[HEBB_MAXDIM], ct[HEBB_MAXDIM];
  int i;
  for (i = 0; i < s->ndim; i++) {
    if (start[i] < 0 || count[i] < 0 || start[i] > s->shape[i] - count[i])
      return hebb_fail(HEBB_ERR_INDEX, "%s: %s: a block of %lld from %lld "
                       "in dim %d is outside '%s' (size %lld)", who, f->label,
                       (long long)count[i], (long long)start[i] + 1, i + 1,
                       name, (long long)s->shape[i]);
    st[i] = (hsize_t)start[i];
    ct[i] = (hsize_t)count[i];
  }
  if (s->ndim && h5->Sselect_hyperslab(s->fs, SELECT_SET, st, NULL, ct, NULL) < 0)
    return h5fail(f, who, "cannot select a block of '%s'", name);
  return HEBB_OK;
}

static hebb_tensor *read_block(const hebb_h5 *f, const char *name, dset *s,
                               const int64_t *count, int64_t max_bytes) {
  int64_t limit = hebb_io_limit(max_bytes, f->size), n = 1;
  hsize_t ct[HEBB_MAXDIM];
  hebb_tensor *t;
  hid_t ms;
  int i;
  for (i = 0; i < s->ndim; i++) {
    ct[i] = (hsize_t)count[i];
    if (count[i] && n > limit / count[i]) n = limit + 1;
    else n *= count[i];
  }
  if (n > limit / hebb_dtype_size(s->dtype))
    return hebb_fail_null(HEBB_ERR_NOMEM, "io.h5read: %s: '%s' would take "
                          "more than %lld bytes of memory (allow more with "
                          "max_bytes, or read a block)", f->label, name,
                          (long long)limit);
  if (!(t = hebb_empty(s->dtype, s->ndim, count))) return NULL;
  ms = s->ndim ? h5->Screate_simple(s->ndim, ct, NULL) : h5->Screate(S_SCALAR);
  if (n > 0 && (ms < 0 || h5->Dread(s->d, s->mt, ms, s->fs, P_DEFAULT,
                                    hebb_data_ptr(t)) < 0)) {
    hebb_release(t);
    t = NULL;
    h5fail(f, "io.h5read", "reading '%s' failed", name);
  }
  if (ms >= 0) h5->Sclose(ms);
  return t;
}

hebb_tensor *hebb_h5_read(hebb_h5 *f, const char *name, const int64_t *start,
                          const int64_t *count, int64_t max_bytes) {
  dset s;
  hebb_tensor *t = NULL;
  if (check_open(f, "io.h5read", false) ||
      dset_open(f, "io.h5read", name, &s) ||
      need_dtype(f, "io.h5read", name, &s))
    return NULL;
  if (!start || select_block(f, "io.h5read", name, &s, start, count) == HEBB_OK)
    t = read_block(f, name, &s, start ? count : s.shape, max_bytes);
  dset_close(&s);
  return t;
}

/* a block must have the dataset's dtype and rank */
static int same_kind(const hebb_h5 *f, const char *who, const char *name,
                     const dset *s, const hebb_tensor *t) {
  char b[HEBB_SHAPEBUF];
  if (s->ndim == t->ndim && s->dtype == t->dtype) return HEBB_OK;
  return hebb_fail(HEBB_ERR_SHAPE, "%s: %s: '%s' is %d-dimensional %s %s; "
                   "the block is %d-dimensional %s", who, f->label, name,
                   s->ndim, hebb_dtype_name(s->dtype),
                   hebb_shape_str(s->ndim, s->shape, b, sizeof b), t->ndim,
                   hebb_dtype_name(t->dtype));
}

/* t into the block of the open dataset that begins at start */
static int write_at(const hebb_h5 *f, const char *who, const char *name,
                    dset *s, const int64_t *start, const hebb_tensor *t) {
  int rc = select_block(f, who, name, s, start, t->shape);
  if (rc == HEBB_OK)
    rc = finish(f, who, name, write_elems(s->d, s->mt, s->fs, t), "writing to");
  return rc;
}

int hebb_h5_write_block(hebb_h5 *f, const char *name, const int64_t *start,
                        const hebb_tensor *t) {
  dset s;
  int rc;
  if (check_open(f, "io.h5write", true) ||
      dset_open(f, "io.h5write", name, &s) ||
      need_dtype(f, "io.h5write", name, &s))
    return hebb_last_status();
  rc = same_kind(f, "io.h5write", name, &s, t);
  if (rc == HEBB_OK) rc = write_at(f, "io.h5write", name, &s, start, t);
  dset_close(&s);
  return rc;
}

/* grows dataset name along dim by t's size there and writes t at the end;
   makes the dataset (growable along dim) when it does not exist */
int hebb_h5_append(hebb_h5 *f, const char *name, int dim, const hebb_tensor *t,
                   const hebb_h5_opts *o) {
  hsize_t grown[HEBB_MAXDIM];
  int64_t start[HEBB_MAXDIM] = {0};
  hebb_h5_opts mine = {.level = -1};
  dset s;
  int i, rc;
  if (check_open(f, "io.h5append", true)) return hebb_last_status();
  if (dim < 0 || dim >= t->ndim)
    return hebb_fail(HEBB_ERR_INDEX, "io.h5append: dim %d is out of range "
                     "for a %d-dimensional block", dim + 1, t->ndim);
  if (h5->Lexists(f->file, name, P_DEFAULT) <= 0) {
    h5->Eclear2(0);
    if (o) mine = *o;
    mine.growable |= 1 << dim;
    return hebb_h5_write(f, name, t, &mine);
  }
  if (dset_open(f, "io.h5append", name, &s) ||
      need_dtype(f, "io.h5append", name, &s))
    return hebb_last_status();
  rc = same_kind(f, "io.h5append", name, &s, t);
  for (i = 0; rc == HEBB_OK && i < s.ndim; i++) {
    grown[i] = (hsize_t)(s.shape[i] + (i == dim ? t->shape[i] : 0));
    start[i] = i == dim ? s.shape[i] : 0;
    if (i != dim && s.shape[i] != t->shape[i])
      rc = hebb_fail(HEBB_ERR_SHAPE, "io.h5append: %s: '%s' has size %lld in "
                     "dim %d, the block %lld", f->label, name,
                     (long long)s.shape[i], i + 1, (long long)t->shape[i]);
    else if (i == dim && s.maxshape[i] >= 0 && (int64_t)grown[i] > s.maxshape[i])
      rc = hebb_fail(HEBB_ERR_SHAPE, "io.h5append: %s: '%s' cannot grow along "
                     "dim %d beyond %lld (it was not made growable there)",
                     f->label, name, i + 1, (long long)s.maxshape[i]);
  }
  if (rc == HEBB_OK && h5->Dset_extent(s.d, grown) < 0)
    rc = h5fail(f, "io.h5append", "cannot grow '%s'", name);
  if (rc == HEBB_OK) {   /* the file space changed: fetch it again */
    h5->Sclose(s.fs);
    s.fs = h5->Dget_space(s.d);
    s.shape[dim] = (int64_t)grown[dim];
    rc = write_at(f, "io.h5append", name, &s, start, t);
  }
  dset_close(&s);
  return rc;
}

/* --- what is in a file --------------------------------------------------------- */

int hebb_h5_info(hebb_h5 *f, const char *name, hebb_h5_info_t *info) {
  dset s;
  hid_t o, plist;
  int type, i;
  memset(info, 0, sizeof *info);
  info->dtype = -1;
  if (check_open(f, "io.h5info", false)) return hebb_last_status();
  if (strcmp(name, "/") != 0 && h5->Lexists(f->file, name, P_DEFAULT) <= 0) {
    h5->Eclear2(0);
    return HEBB_OK;   /* kind 0: nothing there */
  }
  if ((o = h5->Oopen(f->file, name, P_DEFAULT)) < 0)
    return h5fail(f, "io.h5info", "cannot open '%s'", name);
  type = h5->Iget_type(o);
  h5->Oclose(o);
  info->kind = type == I_GROUP ? 1 : type == I_DATASET ? 2 : 3;
  if (info->kind != 2) return HEBB_OK;
  if (dset_open(f, "io.h5info", name, &s)) return hebb_last_status();
  info->dtype = s.dtype;
  snprintf(info->why, sizeof info->why, "%s", s.why);
  info->ndim = s.ndim;
  for (i = 0; i < s.ndim; i++) {
    info->shape[i] = s.shape[i];
    info->maxshape[i] = s.maxshape[i];
  }
  plist = h5->Dget_create_plist(s.d);
  if (plist >= 0 && h5->Pget_layout(plist) == D_CHUNKED) {
    hsize_t c[HEBB_MAXDIM];
    info->chunked = h5->Pget_chunk(plist, HEBB_MAXDIM, c) == s.ndim;
    for (i = 0; info->chunked && i < s.ndim; i++) info->chunk[i] = (int64_t)c[i];
  }
  if (plist >= 0) h5->Pclose(plist);
  dset_close(&s);
  return HEBB_OK;
}

int hebb_h5_group(hebb_h5 *f, const char *name) {
  hid_t lcpl, g = -1;
  if (check_open(f, "io.h5group", true)) return hebb_last_status();
  if (h5->Lexists(f->file, name, P_DEFAULT) > 0) return HEBB_OK;
  h5->Eclear2(0);
  lcpl = h5->Pcreate(*h5->P_CLS_LINK_CREATE_ID_g);
  if (lcpl >= 0 && h5->Pset_create_intermediate_group(lcpl, 1) >= 0)
    g = h5->Gcreate2(f->file, name, lcpl, P_DEFAULT, P_DEFAULT);
  if (lcpl >= 0) h5->Pclose(lcpl);
  if (g < 0) return h5fail(f, "io.h5group", "cannot create group '%s'", name);
  h5->Gclose(g);
  return HEBB_OK;
}

/* the name of member i of group (sorted by name) into buf; 0 past the
   last one, 1 when found, -1 on error */
int hebb_h5_member(hebb_h5 *f, const char *group, int64_t i, char *buf,
                   int64_t cap) {
  ssize_t n;
  if (check_open(f, "io.h5list", false)) return -1;
  n = h5->Lget_name_by_idx(f->file, group, 0, 0, (hsize_t)i, buf, (size_t)cap,
                           P_DEFAULT);
  if (n >= 0) return n < cap ? 1 : (hebb_fail(HEBB_ERR_IO, "io.h5list: a "
                                             "name is too long"), -1);
  if (h5->Lexists(f->file, group, P_DEFAULT) <= 0 && strcmp(group, "/") != 0) {
    h5->Eclear2(0);
    hebb_fail(HEBB_ERR_ARG, "io.h5list: %s has no group '%s'", f->label, group);
    return -1;
  }
  h5->Eclear2(0);
  return 0;
}

/* --- attributes ------------------------------------------------------------------- */

static int replace_attr(hebb_h5 *f, const char *obj, const char *attr) {
  if (check_open(f, "io.h5attr", true)) return hebb_last_status();
  if (strcmp(obj, "/") != 0 && h5->Lexists(f->file, obj, P_DEFAULT) <= 0) {
    h5->Eclear2(0);
    return hebb_fail(HEBB_ERR_ARG, "io.h5attr: %s has no '%s'", f->label, obj);
  }
  if (h5->Aexists_by_name(f->file, obj, attr, P_DEFAULT) > 0 &&
      h5->Adelete_by_name(f->file, obj, attr, P_DEFAULT) < 0)
    return h5fail(f, "io.h5attr", "cannot replace attribute '%s' of '%s'",
                  attr, obj);
  h5->Eclear2(0);
  return HEBB_OK;
}

static int write_attr(hebb_h5 *f, const char *obj, const char *attr, hid_t mt,
                      hid_t sp, const void *data) {
  hid_t o = -1, a = -1;
  herr_t rc = -1;
  if (mt >= 0 && sp >= 0 && (o = h5->Oopen(f->file, obj, P_DEFAULT)) >= 0 &&
      (a = h5->Acreate2(o, attr, mt, sp, P_DEFAULT, P_DEFAULT)) >= 0)
    rc = h5->Awrite(a, mt, data);
  if (a >= 0) h5->Aclose(a);
  if (o >= 0) h5->Oclose(o);
  if (sp >= 0) h5->Sclose(sp);
  if (mt >= 0) h5->Tclose(mt);
  if (rc < 0) return h5fail(f, "io.h5attr", "cannot write attribute '%s' of "
                            "'%s'", attr, obj);
  return HEBB_OK;
}

int hebb_h5_set_attr(hebb_h5 *f, const char *obj, const char *attr,
                     const hebb_tensor *t) {
  hebb_tensor *c;
  int rc;
  if (replace_attr(f, obj, attr)) return hebb_last_status();
  if (!(c = hebb_contiguous((hebb_tensor *)t))) return hebb_last_status();
  rc = write_attr(f, obj, attr, mem_type(t->dtype, "r", "i"), make_space(t, NULL),
                  hebb_data_ptr(c));
  hebb_release(c);
  return rc;
}

/* a string attribute: variable-length UTF-8, as h5py writes str */
int hebb_h5_set_attr_string(hebb_h5 *f, const char *obj, const char *attr,
                            const char *s) {
  hid_t mt;
  if (replace_attr(f, obj, attr)) return hebb_last_status();
  mt = h5->Tcopy(*h5->T_C_S1_g);
  if (mt >= 0 && (h5->Tset_size(mt, T_VARIABLE) < 0 ||
                  h5->Tset_cset(mt, CSET_UTF8) < 0)) {
    h5->Tclose(mt);
    mt = -1;
  }
  return write_attr(f, obj, attr, mt, h5->Screate(S_SCALAR), &s);
}

/* a scalar string attribute: variable or fixed length */
static int read_string_attr(const hebb_h5 *f, hid_t a, hid_t ft, char **out) {
  hid_t mt = h5->Tcopy(ft);
  size_t n = h5->Tget_size(ft);
  char *p = NULL;
  int rc = -1;
  if (h5->Tis_variable_str(ft) > 0) {
    if (h5->Aread(a, mt, &p) >= 0 && p) {
      *out = strdup(p);
      h5->free_memory(p);
      rc = *out ? 0 : -2;
    }
  } else if ((*out = calloc(n + 1, 1)) != NULL) {
    rc = h5->Aread(a, mt, *out) >= 0 ? 0 : -1;
  }
  h5->Tclose(mt);
  if (rc == -2) return hebb_fail(HEBB_ERR_NOMEM, "io.h5attr: out of memory");
  if (rc < 0) return h5fail(f, "io.h5attr", "cannot read a string attribute");
  return HEBB_OK;
}

int hebb_h5_get_attr(hebb_h5 *f, const char *obj, const char *attr,
                     hebb_tensor **t, char **str) {
  hsize_t dims[HEBB_MAXDIM];
  int64_t shape[HEBB_MAXDIM];
  hid_t a, ft = -1, sp = -1, mt = -1;
  char why[80];
  int ndim = -1, dt, i, rc = HEBB_OK;
  *t = NULL;
  *str = NULL;
  if (check_open(f, "io.h5attr", false)) return hebb_last_status();
  if (h5->Aexists_by_name(f->file, obj, attr, P_DEFAULT) <= 0) {
    h5->Eclear2(0);
    return HEBB_OK;   /* no such attribute: both NULL */
  }
  if ((a = h5->Aopen_by_name(f->file, obj, attr, P_DEFAULT, P_DEFAULT)) < 0)
    return h5fail(f, "io.h5attr", "cannot open attribute '%s' of '%s'", attr, obj);
  ft = h5->Aget_type(a);
  sp = h5->Aget_space(a);
  if (sp >= 0) ndim = h5->Sget_simple_extent_dims(sp, dims, NULL);
  if (ft < 0 || ndim < 0 || ndim > HEBB_MAXDIM) {
    rc = h5fail(f, "io.h5attr", "cannot read attribute '%s' of '%s'", attr, obj);
  } else if (h5->Tget_class(ft) == T_STRING && ndim == 0) {
    rc = read_string_attr(f, a, ft, str);
  } else if ((dt = classify(ft, &mt, why, sizeof why)) < 0) {
    rc = hebb_fail(HEBB_ERR_DTYPE, "io.h5attr: %s: attribute '%s' of '%s' "
                   "holds %s, which hebb lacks", f->label, attr, obj, why);
  } else {
    for (i = 0; i < ndim; i++) shape[i] = (int64_t)dims[i];
    if (!(*t = hebb_empty(dt, ndim, shape))) rc = hebb_last_status();
    else if (hebb_numel(*t) > 0 && h5->Aread(a, mt, hebb_data_ptr(*t)) < 0) {
      hebb_release(*t);
      *t = NULL;
      rc = h5fail(f, "io.h5attr", "cannot read attribute '%s' of '%s'", attr, obj);
    }
  }
  if (mt >= 0) h5->Tclose(mt);
  if (ft >= 0) h5->Tclose(ft);
  if (sp >= 0) h5->Sclose(sp);
  h5->Aclose(a);
  return rc;
}

int hebb_h5_attr_name(hebb_h5 *f, const char *obj, int64_t i, char *buf,
                      int64_t cap) {
  ssize_t n;
  if (check_open(f, "io.h5attrs", false)) return -1;
  n = h5->Aget_name_by_idx(f->file, obj, 0, 0, (hsize_t)i, buf, (size_t)cap,
                           P_DEFAULT);
  h5->Eclear2(0);
  if (n < 0) return 0;
  return n < cap ? 1 : 0;
}
