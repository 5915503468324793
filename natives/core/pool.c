/*
** pool.c -- hebb's worker threads.
** A job is cut into chunks, dealt out in one lane of consecutive chunks per
** thread; a thread claims its own lane's chunks one at a time, then what
** is left of the others'.  So a worker that is late (its core busy with
** another process) leaves its lane to the others: the caller never waits
** for a worker that has not started, only for a chunk that one has
** started.  (OpenMP's static split with a closing barrier made every
** loop wait for the slowest thread: two hebb processes on two cores ran
** 2.5x slower than at one thread.)  Which chunk a thread runs changes
** nothing in the result: every kernel's chunks write disjoint outputs, and
** reductions combine fixed blocks in a fixed order afterwards.
**
** Each run reports (parallel.c sizes the next teams by it) how many
** workers helped, that is ran a chunk on a CPU other than the caller's
** (taking turns on one core is no help) without stalling the caller,
** keeping it asleep waiting for a chunk they held because they lost their
** CPU mid-chunk; and how much the team's threads wait for a CPU when they
** want one, which each measures for itself over ~10 ms windows from
** Linux's schedstat (a thread that waits for a core shares it with
** someone: then two threads are no faster than one).
**
** Waiting threads spin a short while, then sleep on a condition variable.
** The job's fields are published under a sequence lock, and each lane's
** claim counter carries the job's generation, so a worker that wakes late
** can neither run a chunk of a finished job nor read a half-written one.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "pool.h"

/* A worker spins at least this long for the next job before it sleeps:
   longer than the Lua code between two loops of a typical script (tens of
   us), short enough not to matter to another process when none comes. */
#define WORKER_SPIN 100e-6
/* ... and up to SPIN_GAP times its longest recent wait for a job, at most
   SPIN_MAX: when a script's parallel loops come at a steady pace with gaps
   a little longer than WORKER_SPIN, the worker would otherwise sleep in
   every such gap and the next loop would pay its wake-up.  The MLP step of
   `make bench` has three loops (two products and the Adam update) 20-40,
   ~170 and 20-40 us apart.  Measured (2 threads, a 64 x 784 x 256 T.linear
   after 170 us of serial work, medians of 200, runs where the team stayed
   whole): 183-197 us with the fixed 100 us spin, 154-170 us spinning
   through the gap, 155-165 us with no gap.  A recent wait is forgotten by
   SPIN_DECAY per job; waits longer than SPIN_MAX do not count (spinning
   through them would only burn a core another process may want). */
#define SPIN_GAP 1.5
#define SPIN_MAX 500e-6
#define SPIN_DECAY 0.75
/* The caller, out of chunks, spins this long (or 4 of its own chunks'
   time) for chunks still running elsewhere before it sleeps. */
#define CALLER_SPIN 20e-6
#define MAX_WORKERS 1023
/* Each thread measures how long it waits for a CPU over windows of this
   length (a reading of /proc/thread-self/schedstat costs ~10 us here). */
#define WINDOW 10e-3

enum { AWAKE, ASLEEP, SIGNALLED };

/* A thread's measure of its waiting for a CPU: the window it is in (t = 0:
   none yet), and its last result, the share of the time it wanted a CPU
   that it waited, stamped with when it was taken (for the caller to see). */
typedef struct {
  double t, ran, waited;
  _Atomic double share, at;
} meter;

typedef struct {
  /* its lane of the job: (generation << 32) | next chunk to claim */
  _Alignas(64) _Atomic uint64_t lane;
  /* written by the worker: the generation of the last job it ran a chunk
     of, how many chunks of it, on which CPU; 1 while in a chunk */
  _Alignas(64) atomic_uint came;
  atomic_long ran;
  atomic_int cpu, busy;
  /* AWAKE, ASLEEP, or SIGNALLED: woken by the caller but not yet running
     (such a one is not woken again) */
  atomic_int asleep;
  /* written by the caller: the generation in which it slept on this
     worker's chunk */
  atomic_uint stalled;
  meter m;
  pthread_cond_t wake;
  int id;                          /* 1 .. */
  unsigned seen;                   /* the sequence when it was started */
  double wait_max;                 /* its recent longest wait for a job */
} worker;

static struct {
  /* the job, written by the caller under `seq` (odd while it writes) */
  _Atomic(hebb_range_fn) fn;
  _Atomic(void *) ud;
  _Atomic int64_t n, chunk, nchunks;
  atomic_int team;
  _Atomic(hebb_cpu_fn) cpu;
  _Atomic(double (*)(void)) clock;
  atomic_uint seq;
  /* the caller's lane, as a worker's */
  _Alignas(64) _Atomic uint64_t lane;
  _Alignas(64) _Atomic int64_t done;
  atomic_int caller_asleep;
  atomic_flag busy;
  _Alignas(64) atomic_uint_fast64_t absent;
  pthread_mutex_t lock;
  pthread_cond_t finished;
  meter m;                 /* the caller's */
  double last_run;         /* when the caller last ran a job */
  int nworkers;            /* started; only the caller changes it */
  worker *workers[MAX_WORKERS + 1];   /* 1-based */
} P = { .busy = ATOMIC_FLAG_INIT, .lock = PTHREAD_MUTEX_INITIALIZER,
        .finished = PTHREAD_COND_INITIALIZER };

/* A job as a thread sees it, with its generation. */
typedef struct {
  hebb_range_fn fn;
  void *ud;
  int64_t n, chunk, nchunks;
  int team;
  hebb_cpu_fn cpu;
  double (*clock)(void);
  uint32_t gen;
} job_view;

static _Atomic uint64_t *lane(int l) {
  return l == 0 ? &P.lane : &P.workers[l]->lane;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double hebb_cpu_wait_share(double ran0, double waited0, double ran,
                           double waited) {
  double want = (ran - ran0) + (waited - waited0);
  return want > 0 && waited >= waited0 ? (waited - waited0) / want : -1;
}

/* After a job: starts thread's window, or ends it when WINDOW is over. */
static void meter_tick(meter *m, const job_view *j, int thread) {
  double t = j->clock(), ran, waited;
  hebb_cpu_fn cpu = j->cpu;
  if (m->t > 0 && t - m->t < WINDOW) return;
  if (!cpu || !cpu(thread, &ran, &waited)) return;
  if (m->t > 0) {
    atomic_store_explicit(&m->share,
                          hebb_cpu_wait_share(m->ran, m->waited, ran, waited),
                          memory_order_relaxed);
    atomic_store_explicit(&m->at, t, memory_order_relaxed);
  }
  m->t = t;
  m->ran = ran;
  m->waited = waited;
}

static void meter_reset(meter *m) {
  m->t = 0;
  atomic_store_explicit(&m->at, 0, memory_order_relaxed);
}

/* The meter's last share if taken in the last two windows, else -1. */
static double recent_share(meter *m, double t) {
  double age = t - atomic_load_explicit(&m->at, memory_order_relaxed);
  return age >= 0 && age <= 2 * WINDOW
           ? atomic_load_explicit(&m->share, memory_order_relaxed) : -1;
}

/* One step of a spin; every 64th also checks the clock: true when the
   spin has gone past `until`.  (No sched_yield: with other tasks
   runnable, a yield handed the core to one of them for its whole slice.) */
static bool spin_step(int i, double until) {
  if (i % 64 == 0) return now() > until;
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

/* Claims the chunks of job j that thread `self` (0: the caller, else
   worker w) can get: its own lane first, then what is left of the others'
   (a late thread's).  Lane l holds the chunks from nchunks * l / team up
   to nchunks * (l + 1) / team, so while all come, each thread runs the
   same part of the data in every loop, as a static split does: the part
   stays in its core's cache from one loop to the next (the two cores
   taking chunks from one counter, a loop of `T.add(a, b, {out = o});
   o:sum()` on 3e5 elements ran no faster at 2 threads than at 1).
   Returns how many chunks this thread ran. */
static int64_t claim(const job_view *j, int self, worker *w) {
  int64_t ran = 0;
  int i;
  for (i = 0; i < j->team; i++) {
    int l = (self + i) % j->team;
    _Atomic uint64_t *lp = lane(l);
    int64_t end = j->nchunks * (l + 1) / j->team;
    uint64_t t = atomic_load(lp);
    while ((uint32_t)(t >> 32) == j->gen && (int64_t)(t & 0xffffffffu) < end) {
      if (!atomic_compare_exchange_weak(lp, &t, t + 1)) continue;
      if (w) {
        atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
        if (ran == 0) {
          atomic_store_explicit(&w->cpu, sched_getcpu(), memory_order_relaxed);
          atomic_store_explicit(&w->came, j->gen, memory_order_relaxed);
        }
        atomic_store_explicit(&w->ran, ran + 1, memory_order_relaxed);
      }
      run_chunk(j->fn, j->ud, j->n, j->chunk, (int64_t)(t & 0xffffffffu));
      if (w) atomic_store_explicit(&w->busy, 0, memory_order_relaxed);
      finish_chunk(j->nchunks);
      ran++;
      t = atomic_load(lp);
    }
  }
  return ran;
}

/* --- workers ------------------------------------------------------------ */

static bool absent(const worker *w) {
  return atomic_load_explicit(&P.absent, memory_order_relaxed) >> w->id & 1;
}

/* A wait of t seconds for a job, in the worker's recent longest wait. */
static void note_wait(worker *w, double t) {
  double m = SPIN_DECAY * w->wait_max;
  w->wait_max = t <= SPIN_MAX && t > m ? t : m;
}

/* Waits until the sequence moves past `seen` and is even (a whole job
   published); returns it.  Spins first if `spin` (the worker took part in
   the last job, so the next may follow at once); a worker left out of a
   team sleeps at once, or a smaller team would keep the others spinning. */
static unsigned wait_job(worker *w, unsigned seen, bool spin) {
  double t0 = now(), budget = SPIN_GAP * w->wait_max;
  double until = t0 + (budget < WORKER_SPIN ? WORKER_SPIN
                       : budget > SPIN_MAX ? SPIN_MAX : budget);
  unsigned s;
  int i;
  for (i = 1; spin; i++) {
    s = atomic_load_explicit(&P.seq, memory_order_acquire);
    if (s != seen && !(s & 1)) {
      note_wait(w, now() - t0);
      return s;
    }
    if (spin_step(i, until)) break;
  }
  meter_reset(&w->m);   /* a window that spans a sleep says little */
  pthread_mutex_lock(&P.lock);
  for (;;) {
    /* ASLEEP before reading seq (see publish); one told to stay away
       keeps its state, as one without a CPU would */
    if (!absent(w)) atomic_store(&w->asleep, ASLEEP);
    s = atomic_load(&P.seq);
    if (s != seen && !(s & 1) && !absent(w)) break;
    pthread_cond_wait(&w->wake, &P.lock);
  }
  atomic_store(&w->asleep, AWAKE);
  pthread_mutex_unlock(&P.lock);
  if (spin) note_wait(w, now() - t0);
  else w->wait_max = 0;   /* left out of a team: start afresh */
  return s;
}

/* Job s as worker w: a consistent copy of its fields (or none, when the
   caller has moved on to another), then claims.  False if w is not in
   the job's team (or told to stay away). */
static bool work(worker *w, unsigned s) {
  job_view j;
  j.fn = atomic_load_explicit(&P.fn, memory_order_relaxed);
  j.ud = atomic_load_explicit(&P.ud, memory_order_relaxed);
  j.n = atomic_load_explicit(&P.n, memory_order_relaxed);
  j.chunk = atomic_load_explicit(&P.chunk, memory_order_relaxed);
  j.nchunks = atomic_load_explicit(&P.nchunks, memory_order_relaxed);
  j.team = atomic_load_explicit(&P.team, memory_order_relaxed);
  j.cpu = atomic_load_explicit(&P.cpu, memory_order_relaxed);
  j.clock = atomic_load_explicit(&P.clock, memory_order_relaxed);
  j.gen = s / 2;
  atomic_thread_fence(memory_order_acquire);
  if (atomic_load_explicit(&P.seq, memory_order_relaxed) != s) return true;
  if (w->id >= j.team || absent(w)) return false;
  claim(&j, w->id, w);
  meter_tick(&w->m, &j, w->id);
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
    worker *w = aligned_alloc(64, (sizeof(worker) + 63) / 64 * 64);
    pthread_t th;
    if (!w) break;
    memset(w, 0, sizeof *w);
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
  uint32_t gen = (s + 2) / 2;
  int i, sleeping = 0;
  atomic_store_explicit(&P.seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&P.fn, job->fn, memory_order_relaxed);
  atomic_store_explicit(&P.ud, job->ud, memory_order_relaxed);
  atomic_store_explicit(&P.n, job->n, memory_order_relaxed);
  atomic_store_explicit(&P.chunk, job->chunk, memory_order_relaxed);
  atomic_store_explicit(&P.nchunks, nchunks, memory_order_relaxed);
  atomic_store_explicit(&P.team, job->team, memory_order_relaxed);
  atomic_store_explicit(&P.cpu, job->cpu, memory_order_relaxed);
  atomic_store_explicit(&P.clock, job->clock, memory_order_relaxed);
  atomic_store_explicit(&P.done, 0, memory_order_relaxed);
  for (i = 0; i < job->team; i++)
    atomic_store_explicit(lane(i), (uint64_t)gen << 32 |
                          (uint64_t)(nchunks * i / job->team),
                          memory_order_relaxed);
  atomic_store(&P.seq, s + 2);
  for (i = 1; i < job->team; i++)
    sleeping |= atomic_load(&P.workers[i]->asleep) == ASLEEP;
  if (!sleeping) return;
  pthread_mutex_lock(&P.lock);
  for (i = 1; i < job->team; i++)
    if (atomic_load(&P.workers[i]->asleep) == ASLEEP) {
      atomic_store(&P.workers[i]->asleep, SIGNALLED);
      pthread_cond_signal(&P.workers[i]->wake);
    }
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

/* Did worker w help with job gen: run a chunk of it on a CPU other than
   the caller's `cpu` (taking turns on one core is no help), without
   stalling the caller? */
static bool helped(const worker *w, uint32_t gen, int cpu) {
  return atomic_load_explicit(&w->stalled, memory_order_relaxed) != gen &&
         atomic_load_explicit(&w->came, memory_order_relaxed) == gen &&
         atomic_load_explicit(&w->cpu, memory_order_relaxed) != cpu;
}

bool hebb_pool_acquire(void) { return !atomic_flag_test_and_set(&P.busy); }
void hebb_pool_release(void) { atomic_flag_clear(&P.busy); }

bool hebb_pool_run(const hebb_job *job, hebb_job_seen *seen) {
  hebb_job j = *job;
  int64_t nchunks = (j.n + j.chunk - 1) / j.chunk, mine;
  int had = P.nworkers, have = start_workers(j.team), i, cpu;
  job_view v;
  double t0, per, share;
  if (have + 1 < j.team) j.team = have + 1;
  if (j.team < 2) return false;
  publish(&j, nchunks);
  v.fn = j.fn;
  v.ud = j.ud;
  v.n = j.n;
  v.chunk = j.chunk;
  v.nchunks = nchunks;
  v.team = j.team;
  v.cpu = j.cpu;
  v.clock = j.clock;
  v.gen = atomic_load_explicit(&P.seq, memory_order_relaxed) / 2;
  t0 = now();
  mine = claim(&v, 0, NULL);
  per = mine > 0 ? (now() - t0) / (double)mine : 0;   /* the caller's chunk */
  wait_done(v.gen, nchunks, 4 * per > CALLER_SPIN ? 4 * per : CALLER_SPIN,
            j.team);
  t0 = j.clock();
  /* a window that spans serial work or a smaller team says little */
  if (t0 - P.last_run > 2 * WINDOW || j.grown) meter_reset(&P.m);
  meter_tick(&P.m, &v, 0);
  P.last_run = t0;
  cpu = sched_getcpu();
  seen->team = j.team;
  seen->fresh = have > had;
  seen->helped = seen->stalled = 0;
  seen->busy = recent_share(&P.m, t0);
  for (i = 1; i < j.team; i++) {
    worker *w = P.workers[i];
    seen->helped += helped(w, v.gen, cpu);
    seen->stalled += atomic_load_explicit(&w->stalled, memory_order_relaxed) ==
                     v.gen;
    /* a grown team starts afresh: a worker's window may still hold the
       time before it rejoined (one that has not slept since keeps it) */
    share = j.grown ? -1 : recent_share(&w->m, t0);
    if (share > seen->busy) seen->busy = share;
  }
  return true;
}

void hebb_pool_set_absent(uint64_t mask) {
  int i;
  atomic_store(&P.absent, mask);
  pthread_mutex_lock(&P.lock);   /* the ones let back re-check */
  for (i = 1; i <= P.nworkers; i++) pthread_cond_signal(&P.workers[i]->wake);
  pthread_mutex_unlock(&P.lock);
}
