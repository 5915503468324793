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

/* One parallel loop: fn over [0, n) in chunks of `chunk` indices, run by
   the caller and workers 1 .. team-1, each claiming the next chunk as it
   becomes free. */
typedef struct {
  hebb_range_fn fn;
  void *ud;
  int64_t n, chunk;
  int team;
} hebb_job;

/* What a run saw: the team it ran with (fewer than asked if workers could
   not be started), its chunks, and how many of its workers helped (pool.c
   says what counts).  `fresh`: workers were started for this run, so a
   late one says nothing about the load. */
typedef struct {
  int team, helped;
  int64_t chunks;
  bool fresh;
} hebb_job_seen;

/* The pool serves one job at a time: hebb_pool_acquire() is false while
   another thread's job (or the job the caller is a worker of) runs; run
   serially then.  Between acquire and release the caller may run jobs. */
bool hebb_pool_acquire(void);
void hebb_pool_release(void);
/* Runs the job; false (nothing run) when no worker could be started. */
bool hebb_pool_run(const hebb_job *job, hebb_job_seen *seen);
/* Test hook: the workers whose bit (1 << worker) is set ignore every job,
   as a worker that never gets a CPU would.  0 restores them. */
void hebb_pool_set_absent(uint64_t mask);

/* The team policy: how many threads the next parallel loop asks for.  It
   starts at max; a loop in which workers did not help shrinks the team to
   the ones that did; while shrunk, a loop now and then asks for max again
   (a probe), after a pause that grows 4-fold with each probe that fails
   and halves each time the team has stayed whole for as long as the
   pause.  A probe is skipped, as failed, while the calling thread itself
   keeps waiting for a CPU.  `waited` gives the seconds the calling thread
   has spent waiting for a CPU so far (negative: unknown); the policy
   calls it only when a probe is due or the team shrinks. */
typedef struct {
  int max, team;
  double pause, probe_at, whole_since;   /* seconds */
  double mark_time, mark_waited;         /* at the last failure */
} hebb_team;

void hebb_team_init(hebb_team *t, int max);
int hebb_team_pick(hebb_team *t, double now, double (*waited)(void));
void hebb_team_update(hebb_team *t, const hebb_job_seen *seen, double now,
                      double (*waited)(void));
/* Test hooks: the policy of hebb_parallel_for, and its clocks (NULL: the
   monotonic clock, and the thread's run-queue delay from Linux's
   /proc/thread-self/schedstat). */
hebb_team *hebb_parallel_team(void);
void hebb_parallel_set_clock(double (*now)(void), double (*waited)(void));

#endif
