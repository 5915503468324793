/* test_parallel.c -- hebb's worker pool (pool.c) and the team policy that
   follows the load (parallel.c), without wall-clock assertions: the
   policy is driven by made-up observations, a made-up clock and made-up
   CPU times (how long each thread ran and waited for a CPU), and the pool
   by workers told to stay away (hebb_pool_set_absent), as workers that
   never get a CPU would.  Checks that every index runs exactly once
   whatever team the policy picks (nested loops included); that results
   are the same bits at 1, 2 and 4 threads and with absent workers; that
   the team shrinks when a thread of it waits for a CPU more than a fifth
   of the time, when a worker has not helped for 10 ms, or when a worker
   stalls the caller on a probe's trial, and not otherwise; that probes
   come after a pause that grows while probes fail and comes back down
   after a team that lasted; that no probe comes while the caller itself
   waits for a CPU; that the pool measures the waiting over 10 ms windows;
   and that a child of fork() starts workers of its own. */
#define SUITE "parallel"
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pool.h"

/* --- the policy, alone --------------------------------------------------- */

/* made-up CPU times per thread (0: the caller): each reading adds ran_step
   and wait_step to them; cpu_known = false makes them unknown */
static _Atomic double cpu_ran[8], cpu_waited[8], ran_step[8], wait_step[8];
static atomic_bool cpu_known = true;   /* workers read them too */
static bool fake_cpu(int thread, double *ran, double *waited) {
  if (!cpu_known || thread < 0 || thread >= 8) return false;
  /* each thread reads only its own entries: no read-modify-write race */
  *ran = cpu_ran[thread] = cpu_ran[thread] + ran_step[thread];
  *waited = cpu_waited[thread] = cpu_waited[thread] + wait_step[thread];
  return true;
}

static void cpu_steps(int thread, double ran, double waited) {
  ran_step[thread] = ran;
  wait_step[thread] = waited;
}

static hebb_job_seen seen(int team, int helped, int stalled, double busy) {
  hebb_job_seen s;
  s.team = team;
  s.helped = helped;
  s.stalled = stalled;
  s.busy = busy;
  s.fresh = false;
  return s;
}

static int update(hebb_team *t, hebb_job_seen s, double now) {
  hebb_team_update(t, &s, now, fake_cpu);
  return t->team;
}

static void test_policy_busy(void) {
  hebb_team t;
  double now = 100;
  int i, ok = 1;
  cpu_steps(0, 1e-3, 0);                /* the caller never waits */
  hebb_team_init(&t, 2);
  CHECK("starts_whole", hebb_team_pick(&t, now, fake_cpu) == 2);
  for (i = 0; i < 1000; i++) ok &= update(&t, seen(2, 1, 0, 0.19), now + 1e-4 * i) == 2;
  CHECK("calm_team_stays", ok);
  now += 0.1;
  CHECK("busy_thread_shrinks", update(&t, seen(2, 1, 0, 0.21), now) == 1 &&
                               hebb_team_pick(&t, now, fake_cpu) == 1);
  CHECK("no_probe_before_pause", hebb_team_pick(&t, now + 0.0019, fake_cpu) == 1);
  CHECK("probe_after_pause", hebb_team_pick(&t, now + 0.002, fake_cpu) == 2);
  /* probes whose teams end within 0.1 s make the pause 4 times longer,
     up to 1 s; one that lasts brings it back to 2 ms */
  ok = 1;
  for (i = 0; i < 8; i++) {
    double pause = t.pause;
    now = t.probe_at;
    ok &= hebb_team_pick(&t, now, fake_cpu) == 2;
    ok &= update(&t, seen(2, 1, 0, 0.5), now + 0.05) == 1;
    ok &= t.pause == (4 * pause < 1 ? 4 * pause : 1) &&
          t.probe_at == now + 0.05 + t.pause;
  }
  CHECK("short_teams_lengthen_pause", ok && t.pause == 1);
  now = t.probe_at;
  hebb_team_pick(&t, now, fake_cpu);
  update(&t, seen(2, 1, 0, 0.5), now + 0.11);
  CHECK("lasting_team_resets_pause", t.pause == 0.002 &&
                                     t.probe_at == now + 0.11 + 0.002);
}

static void test_policy_absent_and_stall(void) {
  hebb_team t;
  double now = 100;
  hebb_team_init(&t, 2);
  update(&t, seen(2, 1, 0, -1), now);
  /* a worker that does not help for 10 ms ends the team */
  CHECK("late_worker_kept", update(&t, seen(2, 0, 0, -1), now + 0.009) == 2);
  CHECK("absent_worker_shrinks", update(&t, seen(2, 0, 0, -1), now + 0.0101) == 1);
  /* in the 20 ms after a probe, a stall ends the team at once */
  now = t.probe_at;
  hebb_team_pick(&t, now, fake_cpu);
  CHECK("stall_on_trial_shrinks", update(&t, seen(2, 0, 1, -1), now + 0.001) == 1);
  now = t.probe_at;
  hebb_team_pick(&t, now, fake_cpu);
  update(&t, seen(2, 1, 0, -1), now + 0.025);
  CHECK("stall_after_trial_kept", update(&t, seen(2, 0, 1, -1), now + 0.026) == 2);
  /* of seven workers, the ones that helped stay */
  hebb_team_init(&t, 8);
  update(&t, seen(8, 7, 0, -1), now);
  CHECK("team_keeps_helpers", update(&t, seen(8, 3, 0, -1), now + 0.011) == 4);
  CHECK("partial_team_probes_whole", hebb_team_pick(&t, t.probe_at, fake_cpu) == 8);
  hebb_team_init(&t, 8);
  {
    hebb_job_seen s = seen(8, 0, 7, 0.9);
    s.fresh = true;                     /* workers just started */
    hebb_team_update(&t, &s, now, fake_cpu);
    CHECK("fresh_workers_say_nothing", t.team == 8);
  }
}

/* while the caller itself waits for a CPU, probes are skipped */
static void test_policy_busy_caller(void) {
  hebb_team t;
  hebb_team_init(&t, 2);
  cpu_steps(0, 0.4e-3, 0.6e-3);         /* the caller waits 60 % */
  update(&t, seen(2, 1, 0, 0.5), 100);  /* shrinks: probe in 2 ms */
  CHECK("busy_caller_skips_probe",
        hebb_team_pick(&t, 100.002, fake_cpu) == 1 &&
        t.probe_at == 100.002 + 0.008 && t.pause == 0.008);
  cpu_steps(0, 0.9e-3, 0.1e-3);         /* 10 % */
  CHECK("idle_enough_probes", hebb_team_pick(&t, 100.010, fake_cpu) == 2);
  update(&t, seen(2, 1, 0, 0.5), 100.011);
  cpu_known = false;                    /* unknown: always probe */
  CHECK("unknown_wait_probes", hebb_team_pick(&t, t.probe_at, fake_cpu) == 2);
  cpu_known = true;
  cpu_steps(0, 1e-3, 0);
}

/* --- the pool ------------------------------------------------------------ */

static _Atomic double fake_time;
static double fake_clock(void) { return fake_time; }

/* counts how often each index runs; inner loops nest (they run serially) */
typedef struct {
  atomic_int *hits;
  int64_t inner;
} count_job;

static void count_inner(int64_t lo, int64_t hi, void *ud) {
  atomic_int *hits = ud;
  int64_t i;
  for (i = lo; i < hi; i++) atomic_fetch_add(&hits[i], 1);
}

static void count_outer(int64_t lo, int64_t hi, void *ud) {
  count_job *j = ud;
  int64_t i;
  for (i = lo; i < hi; i++) {
    atomic_fetch_add(&j->hits[i], 1);
    if (j->inner)
      hebb_parallel_for(j->inner, 1 << 20, count_inner, j->hits + i * j->inner);
  }
}

static bool each_once(atomic_int *hits, int64_t n) {
  int64_t i;
  for (i = 0; i < n; i++)
    if (atomic_load(&hits[i]) != 1) return false;
  return true;
}

/* loops of many sizes and costs, each index exactly once, whatever the
   thread count and whichever workers stay away */
static void test_every_index_once(void) {
  static const int64_t ns[] = {1, 2, 3, 7, 64, 1000, 4097, 100000, 1 << 20};
  static const int64_t costs[] = {1, 3, 64, 1 << 12, 1 << 18};
  static const int threads[] = {1, 2, 3, 4};
  static const uint64_t masks[] = {0, 2, 6, 0x1e};
  static atomic_int hits[1 << 20];
  int ok = 1, a, b, c;
  for (a = 0; a < 4; a++)
    for (b = 0; b < 9; b++)
      for (c = 0; c < 5; c++) {
        count_job j = {hits, 0};
        hebb_set_num_threads(threads[a]);
        hebb_pool_set_absent(masks[(b + c) % 4]);
        memset(hits, 0, sizeof hits);
        hebb_parallel_for(ns[b], costs[c], count_outer, &j);
        ok &= each_once(hits, ns[b]);
      }
  hebb_pool_set_absent(0);
  CHECK("every_index_once", ok);
  {
    count_job j = {hits, 1000};         /* 1000 x 1000, the inner nested */
    hebb_set_num_threads(2);
    memset(hits, 0, sizeof hits);
    hebb_parallel_for(1000, 1 << 20, count_outer, &j);
    ok = 1;
    for (a = 0; a < 1000; a++) ok &= atomic_load(&hits[a]) == 2;
    CHECK("nested_loops_once", ok && each_once(hits + 1000, 1000 * 1000 - 1000));
  }
}

static hebb_tensor *ramp(int64_t n) {
  hebb_tensor *t = hebb_empty(HEBB_F64, 1, &n);
  double *d = hebb_data_ptr(t);
  int64_t i;
  for (i = 0; i < n; i++) d[i] = 1.0 / (double)(i + 1) - 0.3 * (double)(i % 7);
  return t;
}

/* a sum and an elementwise product: the same bits at any team */
static void test_same_bits(void) {
  int64_t n = 3000001;
  hebb_tensor *a = ramp(n), *b = ramp(n), *ref = NULL, *p = NULL;
  double sref, s;
  int ok = 1, k;
  static const int threads[] = {2, 4, 2, 4};
  static const uint64_t masks[] = {0, 0, 2, 0xa};
  hebb_set_num_threads(1);
  hebb_sum_all(a, &sref);
  hebb_binary(HEBB_MUL, a, b, &ref);
  for (k = 0; k < 4; k++) {
    hebb_set_num_threads(threads[k]);
    hebb_pool_set_absent(masks[k]);
    hebb_sum_all(a, &s);
    hebb_binary(HEBB_MUL, a, b, &p);
    ok &= memcmp(&s, &sref, sizeof s) == 0 &&
          memcmp(hebb_data_ptr(p), hebb_data_ptr(ref), (size_t)n * 8) == 0;
    hebb_release(p);
    p = NULL;
  }
  hebb_pool_set_absent(0);
  CHECK("same_bits_any_team", ok);
  hebb_release(a);
  hebb_release(b);
  hebb_release(ref);
}

static void noop(int64_t lo, int64_t hi, void *ud) { (void)lo; (void)hi; (void)ud; }

/* the policy as hebb_parallel_for drives it, with absent workers and the
   made-up clock: shrink, no parallel loop before the pause is over, a
   probe after it that fails again and lengthens the pause */
static void loops(int k) {
  while (k-- > 0) hebb_parallel_for(1 << 20, 8, noop, NULL);
}

static void test_pool_follows_absence(void) {
  hebb_team *t;
  double pause;
  hebb_set_num_threads(2);
  hebb_parallel_set_clock(fake_clock, fake_cpu);
  cpu_known = false;
  fake_time = 1000;
  loops(1);                                   /* starts the worker */
  t = hebb_parallel_team();
  hebb_pool_set_absent(2);
  loops(5);
  fake_time = 1000.009;
  loops(5);
  CHECK("absent_kept_10ms", t->team == 2);
  fake_time = 1000.0101;
  loops(1);
  CHECK("absent_shrinks_team", t->team == 1 &&
                               t->probe_at == 1000.0101 + 0.002);
  pause = t->pause;
  fake_time = 1000.011;
  loops(1);
  CHECK("serial_until_probe", t->team == 1 && t->pause == pause);
  fake_time = 1000.013;
  loops(1);
  CHECK("probe_runs_whole", t->team == 2);
  fake_time = 1000.0231;
  loops(1);
  CHECK("failed_probe_waits_longer", t->team == 1 && t->pause == 4 * pause &&
                                     t->probe_at == 1000.0231 + 4 * pause);
  hebb_parallel_for(100, 1, noop, NULL);      /* small: no region, no probe */
  CHECK("small_loops_stay_serial", t->probe_at == 1000.0231 + 4 * pause);
  hebb_pool_set_absent(0);
  hebb_parallel_set_clock(NULL, NULL);
  hebb_set_num_threads(2);
  CHECK("set_threads_resets_team", t->team == 2 && t->pause == 0.002);
  /* 4 threads, all three workers away */
  hebb_parallel_set_clock(fake_clock, fake_cpu);
  hebb_set_num_threads(4);
  loops(1);
  hebb_pool_set_absent(0xe);
  fake_time = 1000.0231 + 0.011;
  loops(1);
  CHECK("three_away_shrink", t->team == 1 && t->max == 4);
  hebb_pool_set_absent(0);
  hebb_parallel_set_clock(NULL, NULL);
  cpu_known = true;
}

/* the pool measures the caller's waiting over 10 ms windows of the job's
   clock, and reports the largest share of its team */
static void test_pool_measures(void) {
  hebb_job job = {noop, NULL, 1 << 20, 1 << 16, 2, true, fake_cpu, fake_clock};
  hebb_job_seen s;
  bool ok;
  hebb_set_num_threads(2);
  cpu_steps(0, 1e-3, 1e-3);             /* the caller waits half the time */
  cpu_steps(1, 1e-3, 1e-3);             /* and so would the worker */
  fake_time = 2000;
  ok = hebb_pool_acquire() && hebb_pool_run(&job, &s);  /* a window starts */
  CHECK("no_share_yet", ok && s.busy < 0);
  job.grown = false;
  fake_time = 2000.005;
  ok = hebb_pool_run(&job, &s);
  CHECK("window_not_over", ok && s.busy < 0);
  fake_time = 2000.011;
  ok = hebb_pool_run(&job, &s);
  CHECK("share_after_window", ok && fabs(s.busy - 0.5) < 1e-9);
  job.grown = true;                     /* a grown team starts afresh */
  fake_time = 2000.012;
  ok = hebb_pool_run(&job, &s);
  hebb_pool_release();
  CHECK("grown_team_forgets", ok && s.busy < 0 && s.team == 2);
  cpu_steps(0, 1e-3, 0);
  cpu_steps(1, 1e-3, 0);
  CHECK("share_formula", hebb_cpu_wait_share(1, 2, 4, 3) == 0.25 &&
                         hebb_cpu_wait_share(1, 2, 1, 2) < 0);
}

/* a child of fork() starts workers of its own (the parent's are not in
   it) and its loops still run every index once */
static void test_fork(void) {
  static atomic_int hits[1 << 16];
  count_job cj = {hits, 0};
  hebb_job job = {count_outer, &cj, 1 << 16, 1 << 10, 2, false, NULL,
                  fake_clock};
  hebb_job_seen s;
  int status = -1;
  pid_t pid;
  hebb_set_num_threads(2);
  hebb_parallel_for(1 << 20, 8, noop, NULL);   /* the parent has a worker */
  pid = fork();
  if (pid == 0) {
    bool ran, fresh;
    memset(hits, 0, sizeof hits);
    ran = hebb_pool_acquire() && hebb_pool_run(&job, &s);
    fresh = ran && s.fresh;
    hebb_pool_release();
    _exit(fresh && each_once(hits, 1 << 16) ? 0 : 1);
  }
  CHECK("fork_child_starts_workers",
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
}

int main(void) {
  cpu_steps(0, 1e-3, 0);
  test_policy_busy();
  test_policy_absent_and_stall();
  test_policy_busy_caller();
  test_every_index_once();
  test_same_bits();
  test_pool_follows_absence();
  test_pool_measures();
  test_fork();
  return check_done();
}
