/*
** pool.h -- hebb's worker threads (pool.c) and the team policy that
** follows the machine's load (parallel.c).  Internal to the core; the
** declarations are here for natives/core and tests/core.
*/
#ifndef HEBB_POOL_H
#define HEBB_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* A thread's CPU time so far: the seconds it ran and the seconds it waited
   runnable for a CPU; false where unknown.  `thread` is 0 for the caller
   of a parallel loop, i for worker i (the default, Linux's
   /proc/thread-self/schedstat, reads the calling thread's and ignores it;
   tests pass made-up ones). */
typedef bool (*hebb_cpu_fn)(int thread, double *ran, double *waited);

/* One parallel loop: fn over [0, n) in chunks of `chunk` indices, run by
   the caller and workers 1 .. team-1; `grown`: the team is larger than
   the last one (the caller's CPU measure starts afresh). */
typedef struct {
  hebb_range_fn fn;
  void *ud;
  int64_t n, chunk;
  int team;
  bool grown;
  hebb_cpu_fn cpu;         /* how threads measure their waiting */
  double (*clock)(void);   /* and the time */
} hebb_job;

/* What a run saw: the team it ran with (fewer than asked if workers could
   not be started); how many of its workers helped (ran a chunk on a CPU
   other than the caller's without stalling it) and how many stalled it
   (kept it asleep waiting for a chunk they held: they lost their CPU
   mid-chunk); `busy`, the largest share of the time they wanted a CPU
   that a thread of the team (the caller included) spent waiting for one,
   over its last measured ~10 ms (negative: not known); `fresh`: workers
   were started for this run, so it says nothing about the load. */
typedef struct {
  int team, helped, stalled;
  double busy;
  bool fresh;
} hebb_job_seen;

/* The pool serves one job at a time: hebb_pool_acquire() is false while
   another thread's job (or the job the caller is a worker of) runs; run
   serially then.  Between acquire and release the caller may run jobs. */
bool hebb_pool_acquire(void);
void hebb_pool_release(void);
/* Runs the job; false (nothing run) when no worker could be started. */
bool hebb_pool_run(const hebb_job *job, hebb_job_seen *seen);
/* The share of the time it wanted a CPU that a thread waited for one,
   between two readings of cpu(thread, ...) (ran0, waited0 the first);
   negative if not known. */
double hebb_cpu_wait_share(double ran0, double waited0, double ran,
                           double waited);
/* Test hook: the workers whose bit (1 << worker) is set ignore every job,
   as a worker that never gets a CPU would.  0 restores them. */
void hebb_pool_set_absent(uint64_t mask);

/* The team policy: how many threads the next parallel loop asks for.  It
   starts at max.  The team shrinks to the caller alone when a thread of
   it waits for a CPU more than a fifth of the time it wants one, and to
   the workers that helped when a worker has not helped for 10 ms or, in
   the first 20 ms after a probe, stalls the caller.  While shrunk, a loop
   now and then asks for max again (a probe), after a pause: 2 ms after a
   team that lasted, else 4 times the last pause, up to 1 s.  A probe is
   skipped, as a shrink, while the caller itself waits for a CPU as much. */
typedef struct {
  int max, team;
  double pause, probe_at, restored_at, came_at;   /* seconds */
  double mark_ran, mark_waited;     /* the caller's CPU times at the shrink */
} hebb_team;

void hebb_team_init(hebb_team *t, int max);
int hebb_team_pick(hebb_team *t, double now, hebb_cpu_fn cpu);
void hebb_team_update(hebb_team *t, const hebb_job_seen *seen, double now,
                      hebb_cpu_fn cpu);
/* Test hooks: the policy of hebb_parallel_for, and its clocks (NULL: the
   monotonic clock, and Linux's schedstat). */
hebb_team *hebb_parallel_team(void);
void hebb_parallel_set_clock(double (*now)(void), hebb_cpu_fn cpu);

#endif
