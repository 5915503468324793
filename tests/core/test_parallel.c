/* test_parallel.c -- hebb's worker pool (pool.c) and the team policy that
   follows the load (parallel.c), without wall-clock assertions: the
   policy is driven by made-up observations and made-up clocks, and the
   pool by workers told to stay away (hebb_pool_set_absent), as workers
   that never get a CPU would.  Checks that every index runs exactly once
   whatever team the policy picks (nested loops included), that results
   are the same bits at 1, 2 and 4 threads and with absent workers, that
   the team shrinks when workers do not help and probes again after a
   pause that grows with each failed probe, that the pause comes back down
   once the whole team has helped for as long, and that no probe comes
   while the caller itself keeps waiting for a CPU (a made-up wait), and
   that a child of fork() starts workers of its own. */
#define SUITE "parallel"
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pool.h"

/* --- the policy, alone --------------------------------------------------- */

/* seconds the caller has waited for a CPU, as the policy reads it */
static double fake_wait;
static double fake_waited(void) { return fake_wait; }

static hebb_job_seen seen(int team, int helped, int64_t chunks) {
  hebb_job_seen s;
  s.team = team;
  s.helped = helped;
  s.chunks = chunks;
  s.fresh = false;
  return s;
}

static void test_policy_shrink_and_probe(void) {
  hebb_team t;
  hebb_job_seen s;
  double now = 100, pause;
  int i, ok = 1;
  fake_wait = 0;
  hebb_team_init(&t, 2);
  CHECK("starts_whole", hebb_team_pick(&t, now, fake_waited) == 2);
  s = seen(2, 1, 16);
  hebb_team_update(&t, &s, now, fake_waited);
  CHECK("whole_team_stays", t.team == 2 &&
                            hebb_team_pick(&t, now, fake_waited) == 2);
  s = seen(2, 0, 16);                   /* the worker did not help */
  hebb_team_update(&t, &s, now, fake_waited);
  CHECK("absent_worker_shrinks", t.team == 1 &&
                                 hebb_team_pick(&t, now, fake_waited) == 1);
  CHECK("no_probe_before_pause",
        hebb_team_pick(&t, now + 0.0019, fake_waited) == 1);
  CHECK("probe_after_pause", hebb_team_pick(&t, now + 0.002, fake_waited) == 2);
  /* every failed probe makes the pause 4 times longer, up to 1 s */
  pause = t.pause;
  for (i = 0; i < 8; i++) {
    now = t.probe_at;
    s = seen(2, 0, 16);
    hebb_team_update(&t, &s, now, fake_waited);
    ok &= t.probe_at == now + (pause < 1 ? pause : 1);
    pause = 4 * pause;
  }
  CHECK("failed_probes_lengthen_pause", ok && t.pause == 1);
  /* a probe the worker helps with restores the team; the pause halves
     only once the team has stayed whole for as long as the pause */
  now = t.probe_at;
  s = seen(2, 1, 16);
  hebb_team_update(&t, &s, now, fake_waited);
  CHECK("good_probe_restores", t.team == 2 && t.pause == 1);
  for (i = 1; i < 1000; i++)
    hebb_team_update(&t, &s, now + 0.001 * i, fake_waited);
  CHECK("short_whole_spell_keeps_pause", t.pause == 1);
  hebb_team_update(&t, &s, now + 1, fake_waited);
  CHECK("whole_for_pause_halves_it", t.pause == 0.5);
  for (i = 1; i <= 200; i++)
    hebb_team_update(&t, &s, now + 1 + 0.01 * i, fake_waited);
  CHECK("pause_floor", t.pause == 0.002);
}

/* while the caller itself waits for a CPU, probes are skipped */
static void test_policy_busy_caller(void) {
  hebb_team t;
  hebb_job_seen s = seen(2, 0, 16);
  hebb_team_init(&t, 2);
  fake_wait = 1.0;
  hebb_team_update(&t, &s, 100, fake_waited);         /* shrinks, 2 ms */
  fake_wait = 1.0 + 0.0002;             /* waited 10 % of the 2 ms */
  CHECK("busy_caller_skips_probe",
        hebb_team_pick(&t, 100.002, fake_waited) == 1 &&
        t.probe_at == 100.002 + 0.008 && t.pause == 0.032);
  fake_wait += 0.0001;                  /* 1.25 % of the next 8 ms */
  CHECK("idle_enough_probes", hebb_team_pick(&t, 100.010, fake_waited) == 2);
  fake_wait = -1;                       /* unknown: always probe */
  hebb_team_update(&t, &s, 100.010, fake_waited);
  fake_wait = 5;
  CHECK("unknown_wait_probes",
        hebb_team_pick(&t, 100.010 + 0.032, fake_waited) == 2);
}

static void test_policy_what_counts(void) {
  hebb_team t;
  hebb_job_seen s;
  hebb_team_init(&t, 8);
  s = seen(8, 5, 64);                   /* two of seven did not help */
  hebb_team_update(&t, &s, 0, fake_waited);
  CHECK("team_shrinks_to_helpers", t.team == 6);
  CHECK("partial_team_probes_whole", hebb_team_pick(&t, 1, fake_waited) == 8);
  s = seen(6, 5, 48);
  hebb_team_update(&t, &s, 0.0001, fake_waited);
  CHECK("partial_team_kept", t.team == 6 && hebb_team_pick(&t, 0.0001, fake_waited) == 6);
  s = seen(6, 0, 11);                   /* fewer than 2 chunks a thread */
  hebb_team_update(&t, &s, 0.0002, fake_waited);
  CHECK("few_chunks_say_nothing", t.team == 6);
  s = seen(6, 0, 48);
  s.fresh = true;                       /* workers just started */
  hebb_team_update(&t, &s, 0.0003, fake_waited);
  CHECK("fresh_workers_say_nothing", t.team == 6);
  s = seen(8, 7, 64);
  hebb_team_update(&t, &s, 1, fake_waited);
  CHECK("good_probe_restores_all", t.team == 8);
}

/* --- the pool ------------------------------------------------------------ */

static double fake_time;
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
static void test_pool_follows_absence(void) {
  hebb_team *t;
  double pause, probe_at;
  hebb_set_num_threads(2);
  hebb_parallel_set_clock(fake_clock, fake_waited);
  fake_time = 1000;
  fake_wait = 0;
  hebb_parallel_for(1 << 20, 8, noop, NULL);   /* starts the worker */
  t = hebb_parallel_team();
  hebb_pool_set_absent(2);
  hebb_parallel_for(1 << 20, 8, noop, NULL);
  CHECK("absent_shrinks_team", t->team == 1 && t->probe_at == 1000 + 0.002);
  pause = t->pause;
  probe_at = t->probe_at;
  fake_time = 1000.001;
  hebb_parallel_for(1 << 20, 8, noop, NULL);
  CHECK("serial_until_probe", t->team == 1 && t->pause == pause &&
                              t->probe_at == probe_at);
  fake_time = 1000.003;
  hebb_parallel_for(1 << 20, 8, noop, NULL);
  CHECK("failed_probe_waits_longer", t->team == 1 && t->pause == 4 * pause &&
                                     t->probe_at == 1000.003 + pause);
  hebb_parallel_for(100, 1, noop, NULL);      /* small: no region, no probe */
  CHECK("small_loops_stay_serial", t->probe_at == 1000.003 + pause);
  hebb_pool_set_absent(0);
  hebb_parallel_set_clock(NULL, NULL);
  hebb_set_num_threads(2);
  CHECK("set_threads_resets_team", t->team == 2 && t->pause == 0.002);
  hebb_parallel_set_clock(fake_clock, fake_waited);
  /* 4 threads, one worker away: at most 3 stay */
  hebb_set_num_threads(4);
  hebb_parallel_for(1 << 20, 8, noop, NULL);
  hebb_pool_set_absent(4);
  hebb_parallel_for(1 << 20, 8, noop, NULL);
  CHECK("one_of_three_away", t->team <= 3 && t->max == 4);
  hebb_pool_set_absent(0);
  hebb_parallel_set_clock(NULL, NULL);
}

/* a child of fork() starts workers of its own (the parent's are not in
   it) and its loops still run every index once */
static void test_fork(void) {
  static atomic_int hits[1 << 16];
  count_job cj = {hits, 0};
  hebb_job job = {count_outer, &cj, 1 << 16, 1 << 10, 2};
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
  test_policy_shrink_and_probe();
  test_policy_what_counts();
  test_policy_busy_caller();
  test_every_index_once();
  test_same_bits();
  test_pool_follows_absence();
  test_fork();
  return check_done();
}
