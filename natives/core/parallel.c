/*
** parallel.c -- the process's one thread policy, and interrupts.
** hebb's parallel loops run on its own worker threads (pool.c), and hebb
** loads the OpenMP build of OpenBLAS, single-threaded, and parallelizes
** products over tiles itself: one set of threads for everything (two
** pools on two cores oversubscribed them and made an MLP step 1.2-8x
** slower here), and the same bits at any thread count.  Small work never
** enters a parallel region.  How many threads a loop asks for follows the
** load (hebb_team below): when workers do not get a CPU, because other
** processes hold the cores, loops run on fewer.  Long loops are cut into
** slices, and the interrupt flag is polled between slices so Ctrl-C stops
** a kernel.
*/
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <omp.h>

#include "pool.h"

/* A slice is about this much work (in element-operations) between two
   polls of the interrupt flag: ~1 ms. */
#define SLICE_COST ((int64_t)1 << 21)

/* A parallel loop is cut into about this many chunks per thread, each of
   at least MIN_CHUNK element-operations (~10 us: a claim costs ~0.1 us),
   so a thread that is late leaves its share to the others in small
   pieces. */
#define CHUNKS_PER_THREAD 8
#define MIN_CHUNK ((int64_t)1 << 15)

static atomic_int interrupt_flag;
static int nthreads = 0;   /* 0: not decided yet */
static hebb_team team;
static double (*clock_fn)(void);

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
  hebb_team_init(&team, n);
  /* hebb's parallel regions name their thread count; the OpenMP setting
     itself stays 1, because OpenMP OpenBLAS sizes its threading by
     omp_get_max_threads() (ignoring openblas_set_num_threads) and a
     threaded BLAS call sums in another order: eigh results came out 4e-14
     apart at 1 and 2 threads.  So BLAS/LAPACK always run single-threaded
     and products parallelize over hebb's tiles and batches.  (hebb's
     workers set it too: the setting is per thread.) */
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

/* --- the team policy --------------------------------------------------- */

/* A shrunk team probes again after PAUSE_MIN (2 ms: what a false alarm
   costs a quiet machine); each failed probe doubles the pause up to
   PAUSE_MAX, so under lasting contention a probe, which may cost the
   caller a scheduler time slice (~3 ms) when a worker takes a chunk and
   then loses its CPU, comes at most every 0.2 s.  STREAK loops in a row
   in which every worker came halve the pause again. */
#define PAUSE_MIN 2e-3
#define PAUSE_MAX 0.2
#define STREAK 32

void hebb_team_init(hebb_team *t, int max) {
  t->max = t->team = max;
  t->streak = 0;
  t->pause = PAUSE_MIN;
  t->probe_at = 0;
}

int hebb_team_pick(const hebb_team *t, double now) {
  return t->team < t->max && now >= t->probe_at ? t->max : t->team;
}

void hebb_team_update(hebb_team *t, const hebb_job_seen *s, double now) {
  int came = s->present - s->stalled;
  /* a worker can miss a loop of fewer chunks without being late */
  if (s->fresh || s->chunks < 2 * s->team) return;
  if (came < s->team - 1) {
    t->team = came + 1;
    t->probe_at = now + t->pause;
    t->pause = 2 * t->pause < PAUSE_MAX ? 2 * t->pause : PAUSE_MAX;
    t->streak = 0;
  }
  else {
    t->team = s->team;
    if (++t->streak == STREAK) {
      t->streak = 0;
      t->pause = t->pause / 2 > PAUSE_MIN ? t->pause / 2 : PAUSE_MIN;
    }
  }
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

hebb_team *hebb_parallel_team(void) {
  threads();
  return &team;
}

void hebb_parallel_set_clock(double (*now)(void)) { clock_fn = now; }

/* --- loops ---------------------------------------------------------------- */

/* Chunks: CHUNKS_PER_THREAD per thread, at least MIN_CHUNK and at most a
   slice of work each, fewer than 2^31 of them (the claim counter's width). */
static int64_t chunk_size(int64_t n, int64_t cost, int64_t slice, int k) {
  int64_t c = n / ((int64_t)k * CHUNKS_PER_THREAD);
  int64_t least = (MIN_CHUNK + cost - 1) / cost;
  if (c < least) c = least;
  if (c > slice) c = slice;
  if (c < n >> 30) c = n >> 30;
  return c > 0 ? c : 1;
}

/* Runs the loop on the pool if the policy asks for more than one thread
   and the pool is free; false if it ran nothing. */
static bool run_parallel(int64_t n, int64_t cost, int64_t slice,
                         hebb_range_fn fn, void *ud) {
  double (*clock)(void) = clock_fn ? clock_fn : mono_now;
  hebb_job job;
  hebb_job_seen seen;
  bool ran = false;
  if (!hebb_pool_acquire()) return false;   /* nested, or another thread's */
  job.team = hebb_team_pick(&team, clock());
  if (job.team > 1) {
    job.fn = fn;
    job.ud = ud;
    job.n = n;
    job.chunk = chunk_size(n, cost, slice, job.team);
    ran = hebb_pool_run(&job, &seen);
    if (ran) hebb_team_update(&team, &seen, clock());
  }
  hebb_pool_release();
  return ran;
}

int hebb_parallel_for(int64_t n, int64_t cost, hebb_range_fn fn, void *ud) {
  int64_t slice;
  if (n <= 0) return HEBB_OK;
  if (cost < 1) cost = 1;
  slice = SLICE_COST / cost > 0 ? SLICE_COST / cost : 1;
  if (threads() == 1 || n * cost < HEBB_PAR_GRAIN ||
      !run_parallel(n, cost, slice, fn, ud)) {
    if (n <= slice) fn(0, n, ud);   /* the common small case: no polling */
    else run_slices(0, n, slice, fn, ud);
  }
  return hebb_check_interrupt();
}
