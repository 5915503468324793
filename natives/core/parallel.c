/*
** parallel.c -- the process's one thread policy, and interrupts.
** hebb's parallel loops use OpenMP, and hebb loads the OpenMP build of
** OpenBLAS, single-threaded, and parallelizes products over tiles itself:
** one pool of worker threads for everything (two pools on two cores
** oversubscribed them and made an MLP step 1.2-8x slower here), and the
** same bits at any thread count.  Small work never enters a parallel
** region.  Long loops are cut into slices, and
** the interrupt flag is polled between slices so Ctrl-C stops a kernel.
*/
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <omp.h>

#include "core.h"

/* A slice is about this much work (in element-operations) between two
   polls of the interrupt flag: ~1 ms. */
#define SLICE_COST ((int64_t)1 << 21)

static atomic_int interrupt_flag;
static int nthreads = 0;   /* 0: not decided yet */

static int threads(void) {
  if (nthreads == 0) {
    const char *s = getenv("HEBB_THREADS");
    int n = s ? atoi(s) : 0;
    hebb_set_num_threads(n > 0 ? n : omp_get_num_procs());
  }
  return nthreads;
}

void hebb_set_num_threads(int n) {
  if (n < 1) n = 1;
  nthreads = n;
  /* hebb's parallel regions name their thread count; the OpenMP setting
     itself stays 1, because OpenMP OpenBLAS sizes its threading by
     omp_get_max_threads() (ignoring openblas_set_num_threads) and a
     threaded BLAS call sums in another order: eigh results came out 4e-14
     apart at 1 and 2 threads.  So BLAS/LAPACK always run single-threaded
     and products parallelize over hebb's tiles and batches. */
  omp_set_num_threads(1);
}

int hebb_get_num_threads(void) { return threads(); }

void hebb_interrupt(void) { atomic_store(&interrupt_flag, 1); }
void hebb_clear_interrupt(void) { atomic_store(&interrupt_flag, 0); }
bool hebb_interrupt_pending(void) { return atomic_load(&interrupt_flag) != 0; }

int hebb_check_interrupt(void) {
  if (hebb_interrupt_pending())
    return hebb_fail(HEBB_ERR_INTERRUPTED, "interrupted");
  return HEBB_OK;
}

/* Runs [lo, hi) in slices, stopping early on an interrupt. */
static void run_slices(int64_t lo, int64_t hi, int64_t slice, hebb_range_fn fn,
                       void *ud) {
  while (lo < hi && !hebb_interrupt_pending()) {
    int64_t e = hi - lo > slice ? lo + slice : hi;
    fn(lo, e, ud);
    lo = e;
  }
}

int hebb_parallel_for(int64_t n, int64_t cost, hebb_range_fn fn, void *ud) {
  int64_t slice;
  int nt;
  if (n <= 0) return HEBB_OK;
  if (cost < 1) cost = 1;
  slice = SLICE_COST / cost > 0 ? SLICE_COST / cost : 1;
  nt = threads();
  if (nt == 1 || n * cost < HEBB_PAR_GRAIN || omp_in_parallel()) {
    if (n <= slice) fn(0, n, ud);   /* the common small case: no polling */
    else run_slices(0, n, slice, fn, ud);
  }
  else {
    #pragma omp parallel num_threads(nt)
    {
      int id = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t lo = n * id / k, hi = n * (id + 1) / k;
      run_slices(lo, hi, slice, fn, ud);
    }
  }
  return hebb_check_interrupt();
}
