/*
** pool.c -- hebb's worker threads.
** A job is cut into chunks that the caller and the workers claim one at a
** time from a shared counter, so a worker that is late (its core busy with
** another process) takes no share and the others do its part: the caller
** never waits for a worker that has not started, only for a chunk that one
** has started.  (OpenMP's static split with a closing barrier made every
** loop wait for the slowest thread: two hebb processes on two cores ran
** 2.5x slower than at one thread.)  Which chunk a thread runs changes
** nothing in the result: every kernel's chunks write disjoint outputs, and
** reductions combine fixed blocks in a fixed order afterwards.
**
** Each run reports how many workers helped (parallel.c sizes the next
** team by it): a worker helped if it ran at least a quarter of its even
** share, on a CPU other than the caller's (taking turns on one core is no
** help), and did not keep the caller waiting asleep for a chunk it held.
**
** Waiting threads spin a short while, yielding the core to anyone else who
** wants it, then sleep on a condition variable.  The job's fields are
** published under a sequence lock, and the claim counter carries the job's
** generation, so a worker that wakes late can neither run a chunk of a
** finished job nor read a half-written one.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <omp.h>

#include "pool.h"

/* A worker spins this long for the next job before it sleeps: longer
   than the Lua code between two loops of a typical script (tens of us),
   short enough not to matter to another process when none comes. */
#define WORKER_SPIN 100e-6
/* The caller, out of chunks, spins this long (or 4 of its own chunks'
   time) for chunks still running elsewhere before it sleeps. */
#define CALLER_SPIN 20e-6
#define MAX_WORKERS 1023

typedef struct {
  /* written by the worker: the generation of the last job it ran a chunk
     of, how many chunks of it, on which CPU; 1 while in a chunk */
  _Alignas(64) atomic_uint came;
  atomic_long ran;
  atomic_int cpu, busy, asleep;
  /* written by the caller: the generation in which it slept on this
     worker's chunk */
  atomic_uint stalled;
  pthread_cond_t wake;
  int id;                          /* 1 .. */
  unsigned seen;                   /* the sequence when it was started */
} worker;

static struct {
  /* the job, written by the caller under `seq` (odd while it writes) */
  _Atomic(hebb_range_fn) fn;
  _Atomic(void *) ud;
  _Atomic int64_t n, chunk, nchunks;
  atomic_int team;
  atomic_uint seq;
  /* (generation << 32) | next chunk to claim */
  _Alignas(64) _Atomic uint64_t ticket;
  _Alignas(64) _Atomic int64_t done;
  atomic_int caller_asleep;
  atomic_flag busy;
  _Alignas(64) atomic_uint_fast64_t absent;
  pthread_mutex_t lock;
  pthread_cond_t finished;
  int nworkers;            /* started; only the caller changes it */
  worker *workers[MAX_WORKERS + 1];   /* 1-based */
} P = { .busy = ATOMIC_FLAG_INIT, .lock = PTHREAD_MUTEX_INITIALIZER,
        .finished = PTHREAD_COND_INITIALIZER };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One step of a spin; every 64th also checks the clock (true: spun
   past `until`) and yields the core to another thread that wants it. */
static bool spin_step(int i, double until) {
  if (i % 64 == 0) {
    sched_yield();
    return now() > until;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
  return false;
}

/* Runs chunk c of the job (fields as read by the runner); an interrupt
   skips the work but the chunk still counts as done. */
static void run_chunk(hebb_range_fn fn, void *ud, int64_t n, int64_t chunk,
                      int64_t c) {
  int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
  if (!hebb_interrupt_pending()) fn(lo, hi, ud);
}

static void finish_chunk(int64_t nchunks) {
  if (atomic_fetch_add(&P.done, 1) + 1 == nchunks &&
      atomic_load(&P.caller_asleep)) {
    pthread_mutex_lock(&P.lock);
    pthread_cond_signal(&P.finished);
    pthread_mutex_unlock(&P.lock);
  }
}

/* Claims chunks of generation gen until none is left; returns how many
   this thread ran.  w is the worker, or NULL for the caller. */
static int64_t claim(uint32_t gen, hebb_range_fn fn, void *ud, int64_t n,
                     int64_t chunk, int64_t nchunks, worker *w) {
  int64_t ran = 0;
  uint64_t t = atomic_load(&P.ticket);
  while ((uint32_t)(t >> 32) == gen && (int64_t)(t & 0xffffffffu) < nchunks) {
    if (!atomic_compare_exchange_weak(&P.ticket, &t, t + 1)) continue;
    if (w) {
      atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
      if (ran == 0) {
        atomic_store_explicit(&w->cpu, sched_getcpu(), memory_order_relaxed);
        atomic_store_explicit(&w->came, gen, memory_order_relaxed);
      }
      atomic_store_explicit(&w->ran, ran + 1, memory_order_relaxed);
    }
    run_chunk(fn, ud, n, chunk, (int64_t)(t & 0xffffffffu));
    if (w) atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
    finish_chunk(nchunks);
    ran++;
    t = atomic_load(&P.ticket);
  }
  return ran;
}

/* --- workers ------------------------------------------------------------ */

/* Waits until the sequence moves past `seen` and is even (a whole job
   published); returns it.  Spins first if `spin` (the worker took part in
   the last job, so the next may follow at once); a worker left out of a
   team sleeps at once, or a smaller team would keep the others spinning. */
static unsigned wait_job(worker *w, unsigned seen, bool spin) {
  double until = now() + WORKER_SPIN;
  unsigned s;
  int i;
  for (i = 1; spin; i++) {
    s = atomic_load_explicit(&P.seq, memory_order_acquire);
    if (s != seen && !(s & 1)) return s;
    if (spin_step(i, until)) break;
  }
  pthread_mutex_lock(&P.lock);
  atomic_store(&w->asleep, 1);
  while ((s = atomic_load(&P.seq)) == seen || (s & 1))
    pthread_cond_wait(&w->wake, &P.lock);
  atomic_store(&w->asleep, 0);
  pthread_mutex_unlock(&P.lock);
  return s;
}

/* Job s as worker w: a consistent copy of its fields (or none, when the
   caller has moved on to another), then claims.  False if w is not in
   the job's team (or told to stay away). */
static bool work(worker *w, unsigned s) {
  hebb_range_fn fn = atomic_load_explicit(&P.fn, memory_order_relaxed);
  void *ud = atomic_load_explicit(&P.ud, memory_order_relaxed);
  int64_t n = atomic_load_explicit(&P.n, memory_order_relaxed);
  int64_t chunk = atomic_load_explicit(&P.chunk, memory_order_relaxed);
  int64_t nchunks = atomic_load_explicit(&P.nchunks, memory_order_relaxed);
  int team = atomic_load_explicit(&P.team, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if (atomic_load_explicit(&P.seq, memory_order_relaxed) != s) return true;
  if (w->id >= team || (atomic_load_explicit(&P.absent, memory_order_relaxed) >>
                        w->id & 1)) return false;
  claim(s / 2, fn, ud, n, chunk, nchunks, w);
  return true;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  unsigned seen = w->seen;
  bool spin = false;
  /* OpenMP's OpenBLAS sizes its threading by this thread's own setting */
  omp_set_num_threads(1);
  for (;;) {
    seen = wait_job(w, seen, spin);
    spin = work(w, seen);
  }
  return NULL;
}

/* A child of fork() has none of the workers: it starts its own (the old
   ones' records stay allocated, a few hundred bytes). */
static void forget_workers(void) {
  P.nworkers = 0;
  atomic_store(&P.caller_asleep, 0);
  pthread_mutex_init(&P.lock, NULL);
  pthread_cond_init(&P.finished, NULL);
}

static void at_fork(void) { pthread_atfork(NULL, NULL, forget_workers); }

/* Starts workers up to team - 1; returns how many there are. */
static int start_workers(int team) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_attr_t attr;
  if (team - 1 > MAX_WORKERS) team = MAX_WORKERS + 1;
  if (P.nworkers >= team - 1) return P.nworkers;
  pthread_once(&once, at_fork);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  while (P.nworkers < team - 1) {
    worker *w = calloc(1, sizeof *w);
    pthread_t th;
    if (!w) break;
    pthread_cond_init(&w->wake, NULL);
    w->id = P.nworkers + 1;
    w->seen = atomic_load(&P.seq);
    P.workers[w->id] = w;
    if (pthread_create(&th, &attr, worker_main, w) != 0) {
      P.workers[P.nworkers + 1] = NULL;
      pthread_cond_destroy(&w->wake);
      free(w);
      break;
    }
    P.nworkers++;
  }
  pthread_attr_destroy(&attr);
  return P.nworkers;
}

/* --- the caller ---------------------------------------------------------- */

static void publish(const hebb_job *job, int64_t nchunks) {
  unsigned s = atomic_load_explicit(&P.seq, memory_order_relaxed);
  int i, sleeping = 0;
  atomic_store_explicit(&P.seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&P.fn, job->fn, memory_order_relaxed);
  atomic_store_explicit(&P.ud, job->ud, memory_order_relaxed);
  atomic_store_explicit(&P.n, job->n, memory_order_relaxed);
  atomic_store_explicit(&P.chunk, job->chunk, memory_order_relaxed);
  atomic_store_explicit(&P.nchunks, nchunks, memory_order_relaxed);
  atomic_store_explicit(&P.team, job->team, memory_order_relaxed);
  atomic_store_explicit(&P.done, 0, memory_order_relaxed);
  atomic_store_explicit(&P.ticket, (uint64_t)((s + 2) / 2) << 32,
                        memory_order_relaxed);
  atomic_store(&P.seq, s + 2);
  for (i = 1; i < job->team; i++) sleeping |= atomic_load(&P.workers[i]->asleep);
  if (!sleeping) return;
  pthread_mutex_lock(&P.lock);
  for (i = 1; i < job->team; i++)
    if (atomic_load(&P.workers[i]->asleep)) pthread_cond_signal(&P.workers[i]->wake);
  pthread_mutex_unlock(&P.lock);
}

/* Waits for the chunks other threads still run: spins, then marks the
   workers that hold one as stalled and sleeps. */
static void wait_done(uint32_t gen, int64_t nchunks, double spin, int team) {
  double until = now() + spin;
  int i;
  for (i = 1; atomic_load(&P.done) < nchunks; i++)
    if (spin_step(i, until)) break;
  if (atomic_load(&P.done) == nchunks) return;
  for (i = 1; i < team; i++)
    if (atomic_load(&P.workers[i]->busy))
      atomic_store_explicit(&P.workers[i]->stalled, gen, memory_order_relaxed);
  pthread_mutex_lock(&P.lock);
  atomic_store(&P.caller_asleep, 1);
  while (atomic_load(&P.done) < nchunks) pthread_cond_wait(&P.finished, &P.lock);
  atomic_store(&P.caller_asleep, 0);
  pthread_mutex_unlock(&P.lock);
}

/* Did worker w help with job gen of nchunks, run by team threads, the
   caller on CPU cpu?  (See the top of the file.) */
static bool helped(const worker *w, uint32_t gen, int64_t nchunks, int team,
                   int cpu) {
  return atomic_load_explicit(&w->came, memory_order_relaxed) == gen &&
         atomic_load_explicit(&w->stalled, memory_order_relaxed) != gen &&
         atomic_load_explicit(&w->cpu, memory_order_relaxed) != cpu &&
         4 * team * atomic_load_explicit(&w->ran, memory_order_relaxed) >=
           nchunks;
}

bool hebb_pool_acquire(void) { return !atomic_flag_test_and_set(&P.busy); }
void hebb_pool_release(void) { atomic_flag_clear(&P.busy); }

bool hebb_pool_run(const hebb_job *job, hebb_job_seen *seen) {
  hebb_job j = *job;
  int64_t nchunks = (j.n + j.chunk - 1) / j.chunk, mine;
  int had = P.nworkers, have = start_workers(j.team), i, cpu;
  double t0, spin;
  uint32_t gen;
  if (have + 1 < j.team) j.team = have + 1;
  if (j.team < 2) return false;
  seen->team = j.team;
  seen->fresh = have > had;
  publish(&j, nchunks);
  gen = atomic_load_explicit(&P.seq, memory_order_relaxed) / 2;
  t0 = now();
  mine = claim(gen, j.fn, j.ud, j.n, j.chunk, nchunks, NULL);
  spin = mine > 0 ? 4 * (now() - t0) / (double)mine : 0;
  seen->helped = 0;
  seen->chunks = nchunks;
  wait_done(gen, nchunks, spin > CALLER_SPIN ? spin : CALLER_SPIN, j.team);
  cpu = sched_getcpu();
  for (i = 1; i < j.team; i++)
    seen->helped += helped(P.workers[i], gen, nchunks, j.team, cpu);
  return true;
}

void hebb_pool_set_absent(uint64_t mask) { atomic_store(&P.absent, mask); }
