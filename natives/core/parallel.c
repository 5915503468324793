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
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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
static double (*clock_fn)(void), (*waited_fn)(void);

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
  /* The OpenMP setting stays 1, because OpenMP OpenBLAS sizes its
     threading by omp_get_max_threads() (ignoring openblas_set_num_threads)
     and a threaded BLAS call sums in another order: eigh results came out
     4e-14 apart at 1 and 2 threads.  So BLAS/LAPACK always run
     single-threaded and products parallelize over hebb's tiles and
     batches.  (hebb's workers set it too: the setting is per thread.) */
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
   costs a quiet machine); each failed probe makes the pause 4 times
   longer, up to PAUSE_MAX: under lasting contention a probe can cost the
   caller a scheduler time slice or more (3-30 ms measured on a loaded
   machine) when a worker takes a chunk and then loses its CPU, so probes
   soon come only once a second (5 in the first).  Once the whole team has
   helped for as long as the pause, the pause halves.
   A probe is skipped (and counts as failed) when the caller itself waited
   for a CPU more than BUSY of the time since the team shrank: then no
   core is free, and waking a worker would only take the caller's. */
#define PAUSE_MIN 2e-3
#define PAUSE_MAX 1.0
#define BUSY 0.05

void hebb_team_init(hebb_team *t, int max) {
  t->max = t->team = max;
  t->pause = PAUSE_MIN;
  t->probe_at = t->whole_since = t->mark_time = 0;
  t->mark_waited = -1;
}

static void failed(hebb_team *t, double now, double waited) {
  t->probe_at = now + t->pause;
  t->pause = 4 * t->pause < PAUSE_MAX ? 4 * t->pause : PAUSE_MAX;
  t->mark_time = now;
  t->mark_waited = waited;
}

int hebb_team_pick(hebb_team *t, double now, double (*waited)(void)) {
  double w;
  if (t->team == t->max || now < t->probe_at) return t->team;
  w = waited();
  if (w >= 0 && t->mark_waited >= 0 &&
      w - t->mark_waited > BUSY * (now - t->mark_time)) {
    failed(t, now, w);
    return t->team;
  }
  return t->max;
}

void hebb_team_update(hebb_team *t, const hebb_job_seen *s, double now,
                      double (*waited)(void)) {
  /* a worker can miss a loop of fewer chunks without being late */
  if (s->fresh || s->chunks < 2 * s->team) return;
  if (s->helped < s->team - 1) {
    t->team = s->helped + 1;
    failed(t, now, waited());
  }
  else if (s->team < t->max) t->team = s->team;   /* a shrunk team holds */
  else {
    if (t->team < t->max) t->whole_since = now;   /* a probe succeeded */
    t->team = t->max;
    if (now - t->whole_since >= t->pause) {
      t->pause = t->pause / 2 > PAUSE_MIN ? t->pause / 2 : PAUSE_MIN;
      t->whole_since = now;
    }
  }
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds the calling thread has spent waiting on a run queue, from
   Linux's /proc/thread-self/schedstat (its second field, in ns); -1 where
   there is no such file. */
static double run_delay(void) {
  char buf[96];
  unsigned long long ns;
  int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  ssize_t k;
  if (fd < 0) return -1;
  k = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (k <= 0) return -1;
  buf[k] = '\0';
  return sscanf(buf, "%*s %llu", &ns) == 1 ? 1e-9 * (double)ns : -1;
}

hebb_team *hebb_parallel_team(void) {
  threads();
  return &team;
}

void hebb_parallel_set_clock(double (*now)(void), double (*waited)(void)) {
  clock_fn = now;
  waited_fn = waited;
}

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
  double (*waited)(void) = waited_fn ? waited_fn : run_delay;
  hebb_job job;
  hebb_job_seen seen;
  bool ran = false;
  if (!hebb_pool_acquire()) return false;   /* nested, or another thread's */
  job.team = hebb_team_pick(&team, clock(), waited);
  if (job.team > 1) {
    job.fn = fn;
    job.ud = ud;
    job.n = n;
    job.chunk = chunk_size(n, cost, slice, job.team);
    ran = hebb_pool_run(&job, &seen);
    if (ran) hebb_team_update(&team, &seen, clock(), waited);
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
