/*
** blas.c -- OpenBLAS, loaded on first use.
** Linking OpenBLAS made every start of hebb ~3 ms slower (a 30 MB library
** plus libgfortran, relocated and initialized: more than the whole Lua
** interpreter needs to start), and most scripts never multiply a matrix.
** So the library is opened with dlopen the first time a product needs it.
** hebb runs OpenBLAS single-threaded and parallelizes over tiles itself
** (matmul.c), so products give the same bits at any thread count.
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
static char load_error[400];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *sym(void *h, const char *name) {
  void *f = dlsym(h, name);
  if (!f && !load_error[0])
    snprintf(load_error, sizeof load_error, "symbol %s missing in %s", name,
             HEBB_BLAS_LIB);
  return f;
}

/* the s and d versions of the LAPACK routines linalg*.c calls */
static void load_lapack(void *h) {
  static const char prefix[2] = {'s', 'd'};
  char name[16];
  int p;
  for (p = 0; p < 2; p++) {
#define LAPACK(r) snprintf(name, sizeof name, "%c" #r "_", prefix[p]); \
    api.r[p] = (hebb_##r##_fn)sym(h, name)
    LAPACK(getrf); LAPACK(getri); LAPACK(getrs); LAPACK(potrf);
    LAPACK(geqrf); LAPACK(orgqr); LAPACK(syevd); LAPACK(gesdd);
    LAPACK(gelsd);
#undef LAPACK
  }
  api.heevd[0] = (hebb_heevd_fn)sym(h, "cheevd_");
  api.heevd[1] = (hebb_heevd_fn)sym(h, "zheevd_");
  api.geev[0] = (hebb_geev_fn)sym(h, "cgeev_");
  api.geev[1] = (hebb_geev_fn)sym(h, "zgeev_");
}

static void load(void) {
  void (*set_threads)(int);
  void *h = dlopen(HEBB_BLAS_LIB, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(load_error, sizeof load_error, "%s", dlerror());
    return;
  }
  api.dgemm = (hebb_dgemm_fn)sym(h, "cblas_dgemm");
  api.sgemm = (hebb_sgemm_fn)sym(h, "cblas_sgemm");
  api.ddot = (hebb_ddot_fn)sym(h, "cblas_ddot");
  api.sdot = (hebb_sdot_fn)sym(h, "cblas_sdot");
  api.zgemm = (hebb_zgemm_fn)sym(h, "cblas_zgemm");
  api.cgemm = (hebb_zgemm_fn)sym(h, "cblas_cgemm");
  api.zdotu = (hebb_zdotu_fn)sym(h, "cblas_zdotu_sub");
  api.cdotu = (hebb_zdotu_fn)sym(h, "cblas_cdotu_sub");
  load_lapack(h);
  set_threads = (void (*)(int))sym(h, "openblas_set_num_threads");
  if (load_error[0]) return;
  set_threads(1);
  loaded = &api;
}

const hebb_blas_api *hebb_blas(const char *who) {
  hebb_get_num_threads();   /* settles the OpenMP setting BLAS reads */
  pthread_once(&once, load);
  if (!loaded)
    return hebb_fail_null(HEBB_ERR_UNSUPPORTED, "%s: cannot load OpenBLAS "
                          "(%s); install libopenblas-openmp-dev", who,
                          load_error);
  return loaded;
}
