/* xerbla.c -- LAPACK's complaints never reach stdout.  OpenBLAS's own
   xerbla_ prints "** On entry to DGETRF parameter number 1 had an illegal
   value"; hebb's silent one (natives/core/blas.c) must win.  libhebb.so is
   opened the way LuaJIT's ffi.load opens it (RTLD_LOCAL), a call that
   loads OpenBLAS puts it into the global scope, and a bad dgetrf_ call
   then writes nothing to fd 1.  Prints the bytes written and the info. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hebb.h"

typedef void (*getrf_fn)(const int *, const int *, double *, const int *,
                         int *, int *);

int main(int argc, char **argv) {
  char path[] = "/tmp/hebb_xerbla_XXXXXX";
  int m = -1, n = 2, lda = 2, ipiv[2], info = 0, fd, saved;
  int64_t one[2] = {1, 1};
  double a[4] = {0, 0, 0, 0}, v = 2;
  void *lib, *blas;
  hebb_tensor *(*from)(int, int, const int64_t *, const void *);
  int (*det)(const hebb_tensor *, hebb_tensor **);
  hebb_tensor *t, *d = NULL;
  getrf_fn getrf;
  if (argc < 3 || !(lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL))) return 2;
  from = (hebb_tensor *(*)(int, int, const int64_t *, const void *))
         dlsym(lib, "hebb_from_buffer");
  det = (int (*)(const hebb_tensor *, hebb_tensor **))
        dlsym(lib, "hebb_linalg_det");
  if (!from || !det || !(t = from(HEBB_F64, 2, one, &v))) return 2;
  if (det(t, &d) != HEBB_OK) return 2;   /* loads OpenBLAS */
  if (!(blas = dlopen(argv[2], RTLD_NOW | RTLD_NOLOAD))) return 2;
  if (!(getrf = (getrf_fn)dlsym(blas, "dgetrf_"))) return 2;
  if ((fd = mkstemp(path)) < 0 || (saved = dup(1)) < 0) return 2;
  fflush(stdout);
  dup2(fd, 1);
  getrf(&m, &n, a, &lda, ipiv, &info);
  fflush(stdout);
  dup2(saved, 1);
  printf("%ld %d\n", (long)lseek(fd, 0, SEEK_END), info);
  close(fd);
  unlink(path);
  return 0;
}
