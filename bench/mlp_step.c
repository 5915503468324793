/*
** mlp_step.c -- the hand-written C reference for the MLP benchmark of
** `make bench`: one training step of an MLP 784-256-10 (ReLU hidden layer,
** softmax cross-entropy, batch 64, f32) with Adam, as a Lua module that
** bench/mlp_hebb.lua loads into the hebb process, so that hebb's step and
** this one run block by block in turn and see the same machine (see
** bench/cref.c for why the references live in hebb's process).
**
** The step is what a careful C programmer writes: all parameters, their
** gradients and Adam's two moments in one contiguous buffer each (so the
** update is one loop), the five matrix products as cblas_sgemm calls on the
** row-major buffers with the transposes given as flags (no copies), and the
** elementwise work fused into the loops that must touch the data anyway:
** bias + ReLU in one pass, bias + log-softmax + loss + its gradient + the
** bias gradient in one pass per row, the ReLU mask and the hidden bias
** gradient in one pass.  Adam follows torch.optim.Adam's arithmetic (f32
** moments, bias corrections in double, folded into a step size and the
** square-root divisor).  With t threads OpenBLAS runs at t threads and the
** update loop is split over t OpenMP threads.  bench/run.sh builds it with
** -O3 -march=native -fno-math-errno (hebb is built with -fno-math-errno
** too): with errno semantics GCC keeps sqrtf scalar, and the update loop
** took 9x the instructions of a vectorized one.
**
** The initial parameters and the fixed batch come from a counter-based
** generator that bench/mlp_torch.py and bench/mlp_hebb.lua implement too,
** so that the three implementations start from the same bits and their
** losses can be compared step by step:
**   u(s, i) = splitmix64's finalizer of (s * 2^32 + i) * 0x9E3779B97F4A7C15,
**             top 24 bits / 2^24, i = 0, 1, ... in row-major order;
**   W1 = (2 u(1, .) - 1) / sqrt(784),  b1 = (2 u(2, .) - 1) / sqrt(784),
**   W2 = (2 u(3, .) - 1) / sqrt(256),  b2 = (2 u(4, .) - 1) / sqrt(256),
**   x = u(5, .) (64 x 784),  label = floor(10 u(6, .)) (0..9),
** each computed in double and rounded to f32.
**
** mlp.now()            wall clock (CLOCK_MONOTONIC), seconds
** mlp.setup()          allocates the buffers, sets the initial parameters,
**                      zero moments and the fixed batch
** mlp.reset()          back to the initial parameters, zero moments, step 0
** mlp.steps(t, k)      k training steps on the fixed batch at t threads;
**                      returns the seconds they took and the loss of the
**                      last step (computed before its update)
** mlp.backward(t, k)   the seconds of k backward passes alone at t threads,
**                      each after a forward pass on the fixed batch (not
**                      timed), as in a training step and as hebb's side
**                      times its loss:backward(); then their CPU seconds
**                      (the process's, as os.clock)
** mlp.epoch_setup(n)   n random samples (u(7, .), labels from u(8, .))
** mlp.epoch(t)         one pass over them in order, batches of 64 (the last
**                      one smaller when 64 does not divide n); returns the
**                      seconds and the mean of the batch losses
** mlp.blas_core()      openblas_get_corename()
** mlp.pause(s)         sleeps s seconds (the rest between two timed blocks)
** mlp.flags            the compiler flags it was built with (BENCH_FLAGS)
**
** Built with -DMLP_CLOCK_ONLY it is the module mlp_clock with now() alone
** and no OpenBLAS: bench/mlp_hebb.lua's fresh-process run takes its clock
** from it, so that the process loads OpenBLAS when hebb does, as a user's.
*/
#include <errno.h>
#include <math.h>
#include <stdint.h>

#ifdef MLP_CLOCK_ONLY
#define BENCH_CLOCK_ONLY
#define BENCH_MODULE "mlp_clock"
#else
#define BENCH_MODULE "mlp_step"
#endif
#include "bench.h"

#ifdef MLP_CLOCK_ONLY

int luaopen_mlp_clock(lua_State *L);

int luaopen_mlp_clock(lua_State *L) {
  static const luaL_Reg funcs[] = { {"now", l_now}, {NULL, NULL} };
  luaL_newlib(L, funcs);
  return 1;
}

#else

#define D 784       /* inputs */
#define H 256       /* hidden units */
#define C 10        /* classes */
#define B 64        /* batch */

/* offsets of the four parameters in the one buffer, torch's order */
#define OFF_W1 0
#define OFF_B1 (OFF_W1 + H * D)
#define OFF_W2 (OFF_B1 + H)
#define OFF_B2 (OFF_W2 + C * H)
#define NPARAM (OFF_B2 + C)

static const double LR = 1e-3, BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;

static float *param, *grad, *m1, *m2;      /* NPARAM each */
static float *hid, *dhid, *logit, *dlogit; /* B x H, B x H, B x C, B x C */
static float *bx;                          /* the fixed batch, B x D */
static int32_t by[B];
static float *ex;                          /* the epoch's samples, n x D */
static int32_t *ey;
static int64_t en;
static int64_t nstep;                      /* Adam's step count */

/* --- the shared generator (see the header) ------------------------------- */

static double unif(uint64_t s, uint64_t i) {
  uint64_t x = ((s << 32) + i) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return (double)(x >> 40) * (1.0 / 16777216.0);
}

static void fill_sym(float *x, int64_t k, uint64_t s, double scale) {
  for (int64_t i = 0; i < k; i++) x[i] = (float)((2 * unif(s, (uint64_t)i) - 1) * scale);
}

static void init_params(void) {
  fill_sym(param + OFF_W1, H * D, 1, 1 / sqrt(D));
  fill_sym(param + OFF_B1, H, 2, 1 / sqrt(D));
  fill_sym(param + OFF_W2, C * H, 3, 1 / sqrt(H));
  fill_sym(param + OFF_B2, C, 4, 1 / sqrt(H));
  memset(m1, 0, NPARAM * sizeof *m1);
  memset(m2, 0, NPARAM * sizeof *m2);
  nstep = 0;
}

/* --- one step ------------------------------------------------------------ */

/* hid = relu(x W1^T + b1), the bias and the ReLU in one pass */
static void forward_hidden(const float *x, int n) {
  const float *b1 = param + OFF_B1;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, D, 1.0f, x, D,
              param + OFF_W1, D, 0.0f, hid, H);
  for (int i = 0; i < n; i++) {
    float *h = hid + (int64_t)i * H;
    for (int j = 0; j < H; j++) {
      float v = h[j] + b1[j];
      h[j] = v > 0 ? v : 0;
    }
  }
}

/* logits = hid W2^T + b2; per row the stable log-softmax, the loss and
   its gradient (softmax - onehot) / n, and the bias gradient; returns the
   mean loss */
static double forward_loss(const int32_t *y, int n) {
  const float *b2 = param + OFF_B2;
  float *gb2 = grad + OFF_B2;
  double loss = 0;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, C, H, 1.0f, hid, H,
              param + OFF_W2, H, 0.0f, logit, C);
  for (int k = 0; k < C; k++) gb2[k] = 0;
  for (int i = 0; i < n; i++) {
    float *z = logit + i * C, *dz = dlogit + i * C, mx, s = 0;
    for (int k = 0; k < C; k++) z[k] += b2[k];
    mx = z[0];
    for (int k = 1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
    for (int k = 0; k < C; k++) {
      dz[k] = expf(z[k] - mx);
      s += dz[k];
    }
    loss += (double)(logf(s) + mx - z[y[i]]);
    for (int k = 0; k < C; k++) {
      dz[k] = (dz[k] / s - (k == y[i])) / (float)n;
      gb2[k] += dz[k];
    }
  }
  return loss / n;
}

/* dW2 = dlogit^T hid; dhid = (dlogit W2) * (hid > 0) with the hidden bias
   gradient in the same pass; dW1 = dhid^T x */
static void backward(const float *x, int n) {
  float *gb1 = grad + OFF_B1;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, H, n, 1.0f, dlogit, C,
              hid, H, 0.0f, grad + OFF_W2, H);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, C, 1.0f, dlogit, C,
              param + OFF_W2, H, 0.0f, dhid, H);
  for (int j = 0; j < H; j++) gb1[j] = 0;
  for (int i = 0; i < n; i++) {
    float *dh = dhid + (int64_t)i * H;
    const float *h = hid + (int64_t)i * H;
    for (int j = 0; j < H; j++) {
      dh[j] = h[j] > 0 ? dh[j] : 0;
      gb1[j] += dh[j];
    }
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, D, n, 1.0f, dhid, H,
              x, D, 0.0f, grad + OFF_W1, D);
}

/* torch.optim.Adam (no weight decay, no amsgrad) over the one buffer */
static void adam(int t) {
  double bc1, bc2;
  float b1 = (float)BETA1, b2 = (float)BETA2, step, rs, eps = (float)EPS;
  nstep++;
  bc1 = 1 - pow(BETA1, (double)nstep);
  bc2 = 1 - pow(BETA2, (double)nstep);
  step = (float)(LR / bc1);
  rs = (float)(1 / sqrt(bc2));
  #pragma omp parallel for num_threads(t) schedule(static) if (t > 1)
  for (int64_t i = 0; i < NPARAM; i++) {
    float g = grad[i];
    float a = m1[i] * b1 + (1 - b1) * g;
    float v = m2[i] * b2 + (1 - b2) * g * g;
    m1[i] = a;
    m2[i] = v;
    param[i] -= step * a / (sqrtf(v) * rs + eps);
  }
}

static double step(const float *x, const int32_t *y, int n, int t) {
  double loss;
  forward_hidden(x, n);
  loss = forward_loss(y, n);
  backward(x, n);
  adam(t);
  return loss;
}

/* --- the bindings -------------------------------------------------------- */

static int checkthreads(lua_State *L) {
  lua_Integer t = luaL_checkinteger(L, 1);
  luaL_argcheck(L, t >= 1 && t <= MAXT, 1, "threads must be 1..64");
  if (!param) luaL_error(L, "mlp_step: call mlp.setup() first");
  return (int)t;
}

static int l_setup(lua_State *L) {
  if (param) return luaL_error(L, "mlp_step: setup called twice");
  param = big_alloc(L, NPARAM * sizeof *param);
  grad = big_alloc(L, NPARAM * sizeof *grad);
  m1 = big_alloc(L, NPARAM * sizeof *m1);
  m2 = big_alloc(L, NPARAM * sizeof *m2);
  hid = big_alloc(L, B * H * sizeof *hid);
  dhid = big_alloc(L, B * H * sizeof *dhid);
  logit = big_alloc(L, B * C * sizeof *logit);
  dlogit = big_alloc(L, B * C * sizeof *dlogit);
  bx = big_alloc(L, B * D * sizeof *bx);
  for (int64_t i = 0; i < B * D; i++) bx[i] = (float)unif(5, (uint64_t)i);
  for (int i = 0; i < B; i++) by[i] = (int32_t)floor(10 * unif(6, (uint64_t)i));
  init_params();
  return 0;
}

static int l_reset(lua_State *L) {
  if (!param) return luaL_error(L, "mlp_step: call mlp.setup() first");
  init_params();
  return 0;
}

static int l_steps(lua_State *L) {
  int t = checkthreads(L);
  lua_Integer k = luaL_checkinteger(L, 2);
  double loss = 0, t0;
  Threads prev;
  luaL_argcheck(L, k >= 1, 2, "step count must be positive");
  prev = threads_set(t);
  t0 = now();
  for (lua_Integer i = 0; i < k; i++) loss = step(bx, by, B, t);
  lua_pushnumber(L, now() - t0);
  threads_restore(prev);
  lua_pushnumber(L, loss);
  return 2;
}

/* the backward pass alone (dW2, dhid with the ReLU mask and the hidden
   bias gradient, dW1), k times after one forward pass on the fixed batch:
   what issue 16's backward goal compares hebb's backward with */
/* the process's CPU seconds: the clock os.clock() reads */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int l_backward(lua_State *L) {
  int t = checkthreads(L);
  lua_Integer k = luaL_checkinteger(L, 2);
  double t0, c0, total = 0, cpu = 0;
  Threads prev;
  luaL_argcheck(L, k >= 1, 2, "count must be positive");
  prev = threads_set(t);
  /* A forward before each backward leaves the caches as a training step
     does: W1 and the hidden layer read, the gradient buffers evicted.
     Backward passes run back to back kept dW1's 800 KB hot in the cache
     (~5% faster than after a forward) where hebb's side cannot be. */
  for (lua_Integer i = 0; i < k; i++) {
    forward_hidden(bx, B);
    forward_loss(by, B);
    t0 = now(), c0 = cpu_now();
    backward(bx, B);
    total += now() - t0, cpu += cpu_now() - c0;
  }
  lua_pushnumber(L, total);
  lua_pushnumber(L, cpu);
  threads_restore(prev);
  return 2;
}

static int l_epoch_setup(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 1000000, 1, "sample count must be 1..1e6");
  if (!param) return luaL_error(L, "mlp_step: call mlp.setup() first");
  if (ex) return luaL_error(L, "mlp_step: epoch_setup called twice");
  en = n;
  ex = big_alloc(L, (size_t)n * D * sizeof *ex);
  ey = big_alloc(L, (size_t)n * sizeof *ey);
  for (int64_t i = 0; i < n * D; i++) ex[i] = (float)unif(7, (uint64_t)i);
  for (int64_t i = 0; i < n; i++) ey[i] = (int32_t)floor(10 * unif(8, (uint64_t)i));
  return 0;
}

static int l_epoch(lua_State *L) {
  int t = checkthreads(L);
  double loss = 0, t0;
  int64_t nb = 0;
  Threads prev;
  if (!ex) return luaL_error(L, "mlp_step: call mlp.epoch_setup(n) first");
  prev = threads_set(t);
  t0 = now();
  for (int64_t i = 0; i < en; i += B, nb++) {
    int n = (int)(en - i < B ? en - i : B);
    loss += step(ex + i * D, ey + i, n, t);
  }
  lua_pushnumber(L, now() - t0);
  threads_restore(prev);
  lua_pushnumber(L, loss / (double)nb);
  return 2;
}

/* A sleep, not a busy wait: the rest leaves both cores free, so the
   threads that one side's block left spinning (OpenMP's after C's
   regions, hebb's workers after its loops) stop before the other side's
   block starts. */
static int l_pause(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  struct timespec ts;
  luaL_argcheck(L, s >= 0 && s <= 10, 1, "seconds must be 0..10");
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  return 0;
}

static int l_blas_core(lua_State *L) {
  lua_pushstring(L, openblas_get_corename());
  return 1;
}

int luaopen_mlp_step(lua_State *L);

int luaopen_mlp_step(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"now", l_now},
    {"setup", l_setup},
    {"reset", l_reset},
    {"steps", l_steps},
    {"backward", l_backward},
    {"epoch_setup", l_epoch_setup},
    {"epoch", l_epoch},
    {"blas_core", l_blas_core},
    {"pause", l_pause},
    {NULL, NULL}
  };
  luaL_newlib(L, funcs);
  lua_pushliteral(L, BENCH_FLAGS);
  lua_setfield(L, -2, "flags");
  return 1;
}

#endif
