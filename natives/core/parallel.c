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
static double (*clock_fn)(void);
static hebb_cpu_fn cpu_fn;

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

/* A team shrinks to the caller alone when one of its threads waits for a
   CPU more than BUSY of the time it wants one: then it shares its core
   with someone (a process beside hebb, or a thread of ours), and two
   threads are no faster than one.  The share is measured over ~10 ms
   windows (pool.c), so one late worker does not end a team that helps
   otherwise: a background task that takes a core for a slice now and then
   costs a few percent there (with other sessions' tasks always runnable at
   a low weight, threads waited 1-2 % of the time here, against 50-65 %
   when the cores were shared).  A worker that has not helped for ABSENT
   ends the team too (it gets no CPU at all, so it measures nothing): the
   team keeps the workers that helped in that loop.  In the TRIAL after a
   probe, a stall ends the team at once: it costs the caller a scheduler
   time slice (3-30 ms measured under load), and a probe needs no more
   than one to fail.
   A shrunk team probes again after a pause: PAUSE_MIN (2 ms: what a false
   alarm costs a quiet machine) if the team it ends had lasted LASTED, else
   4 times the last pause, up to PAUSE_MAX, so under lasting contention,
   where a probe's team lasts 10-30 ms, probes soon come only once a
   second (5 in the first).  A probe is skipped (as a shrink) while the
   caller itself has waited for a CPU more than BUSY of the time it wanted
   one since the last shrink: then no core is free, and waking a worker
   would only take the caller's. */
#define BUSY 0.2
#define ABSENT 10e-3
#define TRIAL 20e-3
#define LASTED 0.1
#define PAUSE_MIN 2e-3
#define PAUSE_MAX 1.0

void hebb_team_init(hebb_team *t, int max) {
  t->max = t->team = max;
  t->pause = PAUSE_MIN;
  t->probe_at = t->restored_at = 0;
  t->came_at = -1;   /* from the first loop on */
  t->mark_ran = t->mark_waited = -1;
}

static void shrink(hebb_team *t, int team, double now, hebb_cpu_fn cpu) {
  if (now - t->restored_at >= LASTED) t->pause = PAUSE_MIN;
  else t->pause = 4 * t->pause < PAUSE_MAX ? 4 * t->pause : PAUSE_MAX;
  t->team = team;
  t->probe_at = now + t->pause;
  if (!cpu(0, &t->mark_ran, &t->mark_waited)) t->mark_ran = -1;
}

int hebb_team_pick(hebb_team *t, double now, hebb_cpu_fn cpu) {
  double ran, waited;
  if (t->team == t->max || now < t->probe_at) return t->team;
  if (t->mark_ran >= 0 && cpu(0, &ran, &waited) &&
      hebb_cpu_wait_share(t->mark_ran, t->mark_waited, ran, waited) > BUSY) {
    t->restored_at = now;   /* counts as a probe that failed at once */
    shrink(t, t->team, now, cpu);
    return t->team;
  }
  t->team = t->max;
  t->restored_at = t->came_at = now;
  return t->team;
}

void hebb_team_update(hebb_team *t, const hebb_job_seen *s, double now,
                      hebb_cpu_fn cpu) {
  if (s->fresh || s->helped == s->team - 1 || t->came_at < 0) t->came_at = now;
  if (s->fresh) return;
  if (s->busy > BUSY) shrink(t, 1, now, cpu);
  else if (now - t->came_at > ABSENT ||
           (s->stalled > 0 && now - t->restored_at < TRIAL))
    shrink(t, 1 + s->helped, now, cpu);
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The calling thread's CPU times from Linux's
   /proc/thread-self/schedstat: seconds run, seconds waited on a run queue
   (its first two fields, in ns). */
static bool schedstat(int thread, double *ran, double *waited) {
  char buf[96];
  unsigned long long r, w;
  int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  ssize_t k;
  (void)thread;
  if (fd < 0) return false;
  k = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (k <= 0) return false;
  buf[k] = '\0';
  if (sscanf(buf, "%llu %llu", &r, &w) != 2) return false;
  *ran = 1e-9 * (double)r;
  *waited = 1e-9 * (double)w;
  return true;
}

hebb_team *hebb_parallel_team(void) {
  threads();
  return &team;
}

void hebb_parallel_set_clock(double (*now)(void), hebb_cpu_fn cpu) {
  clock_fn = now;
  cpu_fn = cpu;
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
  hebb_cpu_fn cpu = cpu_fn ? cpu_fn : schedstat;
  hebb_job job;
  hebb_job_seen seen;
  bool ran = false;
  int before;
  if (!hebb_pool_acquire()) return false;   /* nested, or another thread's */
  before = team.team;
  job.team = hebb_team_pick(&team, clock(), cpu);
  job.grown = job.team > before;
  if (job.team > 1) {
    job.fn = fn;
    job.ud = ud;
    job.n = n;
    job.chunk = chunk_size(n, cost, slice, job.team);
    job.cpu = cpu;
    job.clock = clock;
    ran = hebb_pool_run(&job, &seen);
    if (ran) hebb_team_update(&team, &seen, clock(), cpu);
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
