/*
** blas.c -- OpenBLAS, loaded on first use.
** Linking OpenBLAS made every start of hebb ~3 ms slower (a 30 MB library
** plus libgfortran, relocated and initialized: more than the whole Lua
** interpreter needs to start), and most scripts never multiply a matrix.
** So the library is opened with dlopen the first time a product needs it.
** hebb runs OpenBLAS single-threaded and parallelizes over tiles itself
** (matmul.c), so products give the same bits at any thread count.
** hebb_dl_open/hebb_dl_sym, the loading itself, serve fft.c too.
*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "core.h"

#ifndef HEBB_BLAS_LIB
#define HEBB_BLAS_LIB "libopenblas.so.0"
#endif

static hebb_blas_api api;
static const hebb_blas_api *loaded;
static hebb_dynlib lib = {HEBB_BLAS_LIB, NULL, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

bool hebb_dl_open(hebb_dynlib *d) {
  d->handle = dlopen(d->name, RTLD_NOW | RTLD_LOCAL);
  if (!d->handle) snprintf(d->error, sizeof d->error, "%s", dlerror());
  return d->handle != NULL;
}

void *hebb_dl_sym(hebb_dynlib *d, const char *prefix, const char *name) {
  char full[64];
  void *f;
  snprintf(full, sizeof full, "%s%s", prefix, name);
  f = dlsym(d->handle, full);
  if (!f && !d->error[0])
    snprintf(d->error, sizeof d->error, "symbol %s missing in %s", full,
             d->name);
  return f;
}

static void *sym(const char *name) { return hebb_dl_sym(&lib, "", name); }

/* LAPACK reports a bad argument through xerbla_, and OpenBLAS's prints it
   to stdout ("** On entry to ZGEBAL parameter number 3 had an illegal
   value", for a NaN matrix) -- the core never prints.  This one is silent:
   the routine still returns info < 0, which its caller turns into an error
   (linalg.c refuses the non-finite input that caused every such print seen
   so far, so this is the safety net).  OpenBLAS calls xerbla_ through its
   PLT, so the first definition in the global scope wins: the executable's
   (exported with -E); a library build (hebb.so, libhebb.so) is put into
   the global scope by publish_xerbla before OpenBLAS is opened. */
void xerbla_(const char *name, const int *info, size_t len) {
  (void)name;
  (void)info;
  (void)len;
}

static void publish_xerbla(void) {
  Dl_info self;
  if (dladdr((void *)xerbla_, &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

/* the LAPACK routines linalg*.c calls: s and d, and c and z for those
   whose complex version takes the same arguments */
static void load_lapack(void) {
  static const char *const prefix[4] = {"s", "d", "c", "z"};
  int p;
  for (p = 0; p < 4; p++) {
#define LAPACK(r, name) \
    api.r[p] = (hebb_##r##_fn)hebb_dl_sym(&lib, prefix[p], name)
    LAPACK(getrf, "getrf_"); LAPACK(getri, "getri_"); LAPACK(getrs, "getrs_");
    LAPACK(potrf, "potrf_"); LAPACK(geqrf, "geqrf_");
    LAPACK(orgqr, p < 2 ? "orgqr_" : "ungqr_");
    if (p < 2) {
      LAPACK(syevd, "syevd_"); LAPACK(gesdd, "gesdd_");
      LAPACK(gelsd, "gelsd_");
    }
#undef LAPACK
  }
  api.heevd[0] = (hebb_heevd_fn)sym("cheevd_");
  api.heevd[1] = (hebb_heevd_fn)sym("zheevd_");
  api.geev[0] = (hebb_geev_fn)sym("cgeev_");
  api.geev[1] = (hebb_geev_fn)sym("zgeev_");
  api.zgesdd[0] = (hebb_zgesdd_fn)sym("cgesdd_");
  api.zgesdd[1] = (hebb_zgesdd_fn)sym("zgesdd_");
  api.zgelsd[0] = (hebb_zgelsd_fn)sym("cgelsd_");
  api.zgelsd[1] = (hebb_zgelsd_fn)sym("zgelsd_");
}

static void load(void) {
  void (*set_threads)(int);
  publish_xerbla();
  if (!hebb_dl_open(&lib)) return;
  api.dgemm = (hebb_dgemm_fn)sym("cblas_dgemm");
  api.sgemm = (hebb_sgemm_fn)sym("cblas_sgemm");
  api.ddot = (hebb_ddot_fn)sym("cblas_ddot");
  api.sdot = (hebb_sdot_fn)sym("cblas_sdot");
  api.zgemm = (hebb_zgemm_fn)sym("cblas_zgemm");
  api.cgemm = (hebb_zgemm_fn)sym("cblas_cgemm");
  api.zdotu = (hebb_zdotu_fn)sym("cblas_zdotu_sub");
  api.cdotu = (hebb_zdotu_fn)sym("cblas_cdotu_sub");
  load_lapack();
  set_threads = (void (*)(int))sym("openblas_set_num_threads");
  if (lib.error[0]) return;
  set_threads(1);
  loaded = &api;
}

const hebb_blas_api *hebb_blas(const char *who) {
  hebb_get_num_threads();   /* settles the OpenMP setting BLAS reads */
  pthread_once(&once, load);
  if (!loaded)
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "%s: cannot load OpenBLAS "
                          "(%s); install libopenblas-openmp-dev", who,
                          lib.error);
  return loaded;
}

/* what a notebook manifest records about the library: its build
   configuration and the kernel core it picked for this CPU (the core
   decides how products round, so the bits of results) */
static char info[320];

static void load_info(void) {
  const char *(*config)(void) =
    (const char *(*)(void))dlsym(lib.handle, "openblas_get_config");
  const char *(*core)(void) =
    (const char *(*)(void))dlsym(lib.handle, "openblas_get_corename");
  snprintf(info, sizeof info, "%s (core %s)",
           config ? config() : "?", core ? core() : "?");
}

const char *hebb_blas_info(void) {
  static pthread_once_t info_once = PTHREAD_ONCE_INIT;
  if (!hebb_blas("blas_info")) return "unavailable";
  pthread_once(&info_once, load_info);
  return info;
}
