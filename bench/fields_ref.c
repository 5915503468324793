/*
** fields_ref.c -- the hand-written C references of the fields rows of
** `make bench`, a Lua module that bench/fields_hebb.lua loads into hebb's
** process and times rep by rep in turn with hebb (see bench/cref.c for
** why).  One thread each: the loops a C programmer writes.
**
** fields_ref.kg_setup(L)       a 2-d f32 field phi, pi = 0 on L x L
** fields_ref.kg_steps(n, m2, dt)   n leapfrog steps (kick-drift-kick,
**                              the half kicks of neighbouring steps merged),
**                              five-point periodic Laplacian; the seconds
** fields_ref.kg_phi()          phi as raw bytes (T.frombytes reads them)
** fields_ref.ss_setup(n, dx, dt)   split-step Fourier on n points: psi, the
**                              phase grids of V = x^2/2 and of k^2/2 (m =
**                              hbar = 1), out-of-place FFTW_ESTIMATE plans as
**                              hebb makes them (1/n folded into the kinetic
**                              phase)
** fields_ref.ss_steps(k)       k Strang steps; the seconds
** fields_ref.ss_psi()          psi as raw bytes (c128)
** fields_ref.rk_setup(n)       y' = A y, A the n-site ring's antisymmetric
**                              hopping (+-1/2) in CSR, y(0) from an LCG
** fields_ref.rk_solve(t1, rtol, atol, h0)   Dormand-Prince 5(4) with the
**                              step control of hebb.ode (same tableau, error
**                              norm and step law); seconds, accepted and
**                              rejected steps
** fields_ref.rk_y()            y as raw bytes: y(0) before a solve, then
**                              the last solve's final y
** fields_ref.cpu()             process CPU time (what every time here is)
** fields_ref.now()             wall clock
*/
#include <complex.h>
#include <math.h>
#include <stdint.h>

#include <fftw3.h>

#define BENCH_MODULE "fields_ref"
#define BENCH_CLOCK_ONLY
#include "bench.h"

/* Process CPU time: these rows run one thread on each side, so it is the
   work done; wall time, with the VM's load average at 12-16, moved the
   paired ratios by up to 0.4 between runs, CPU time by 0.03. */
static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int l_cpu(lua_State *L) {
  lua_pushnumber(L, cpu());
  return 1;
}

static uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 11;
}

static double unit(uint64_t *s) { return (double)lcg(s) * (1.0 / 9007199254740992.0) - 0.5; }

/* --- Klein-Gordon leapfrog ----------------------------------------------- */

static int kL;
static float *kphi, *kpi;

static void kick(float k, float c0) {
  int i, j, L = kL;
  for (i = 0; i < L; i++) {
    const float *row = kphi + (size_t)i * L;
    const float *up = kphi + (size_t)((i + 1) % L) * L;
    const float *dn = kphi + (size_t)((i + L - 1) % L) * L;
    float *p = kpi + (size_t)i * L;
    p[0] += k * (row[L - 1] + row[1] + up[0] + dn[0] + c0 * row[0]);
    for (j = 1; j < L - 1; j++)
      p[j] += k * (row[j - 1] + row[j + 1] + up[j] + dn[j] + c0 * row[j]);
    p[L - 1] += k * (row[L - 2] + row[0] + up[L - 1] + dn[L - 1] + c0 * row[L - 1]);
  }
}

static void drift(float dt) {
  size_t i, n = (size_t)kL * kL;
  for (i = 0; i < n; i++) kphi[i] += dt * kpi[i];
}

static int l_kg_setup(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  uint64_t s = 7;
  size_t i;
  luaL_argcheck(L, n >= 3 && n <= 8192, 1, "L must be 3..8192");
  if (kphi) return luaL_error(L, "fields_ref: kg_setup called twice");
  kL = (int)n;
  kphi = big_alloc(L, (size_t)n * n * sizeof(float));
  kpi = big_alloc(L, (size_t)n * n * sizeof(float));
  for (i = 0; i < (size_t)n * n; i++) kphi[i] = (float)unit(&s);
  return 0;
}

static int l_kg_steps(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), k;
  float m2 = (float)luaL_checknumber(L, 2), dt = (float)luaL_checknumber(L, 3);
  float c0 = -4.0f - m2;
  double t0 = cpu();
  if (!kphi) return luaL_error(L, "fields_ref: call kg_setup first");
  kick(dt / 2, c0);
  for (k = 1; k <= n; k++) {
    drift(dt);
    kick(k == n ? dt / 2 : dt, c0);
  }
  lua_pushnumber(L, cpu() - t0);
  return 1;
}

static int l_kg_phi(lua_State *L) {
  lua_pushlstring(L, (const char *)kphi, (size_t)kL * kL * sizeof(float));
  return 1;
}

/* --- split-step Fourier ------------------------------------------------------ */

static int sn;
static fftw_complex *sa, *sb, *spv, *spv2, *spk;
static fftw_plan sfwd, sbwd;

static int l_ss_setup(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  double dx = luaL_checknumber(L, 2), dt = luaL_checknumber(L, 3);
  int i, len;
  if (sa) return luaL_error(L, "fields_ref: ss_setup called twice");
  luaL_argcheck(L, n >= 2 && n <= (1 << 26), 1, "n must be 2..2^26");
  sn = len = (int)n;
  sa = fftw_malloc((size_t)n * sizeof *sa);
  sb = fftw_malloc((size_t)n * sizeof *sb);
  spv = fftw_malloc((size_t)n * sizeof *spv);
  spv2 = fftw_malloc((size_t)n * sizeof *spv2);
  spk = fftw_malloc((size_t)n * sizeof *spk);
  /* plans before the data: planning may scribble on the arrays */
  sfwd = fftw_plan_many_dft(1, &len, 1, sa, NULL, 1, len, sb, NULL, 1, len,
                            FFTW_FORWARD, FFTW_ESTIMATE);
  sbwd = fftw_plan_many_dft(1, &len, 1, sb, NULL, 1, len, sa, NULL, 1, len,
                            FFTW_BACKWARD, FFTW_ESTIMATE);
  for (i = 0; i < len; i++) {
    double x = (i - len / 2) * dx, k = 2 * M_PI * (i < (len - 1) / 2 + 1 ? i : i - len) / (len * dx);
    double v = 0.5 * x * x;
    spv[i] = cexp(-I * v * dt / 2);
    spv2[i] = spv[i] * spv[i];
    spk[i] = cexp(-I * k * k * dt / 2) / len;
    sa[i] = exp(-(x - 1) * (x - 1) / 2);
  }
  return 0;
}

static int l_ss_steps(lua_State *L) {
  lua_Integer k = luaL_checkinteger(L, 1), s;
  int i;
  double t0 = cpu();
  if (!sa) return luaL_error(L, "fields_ref: call ss_setup first");
  for (i = 0; i < sn; i++) sa[i] *= spv[i];
  for (s = 1; s <= k; s++) {
    fftw_execute(sfwd);
    for (i = 0; i < sn; i++) sb[i] *= spk[i];
    fftw_execute(sbwd);
    if (s < k) for (i = 0; i < sn; i++) sa[i] *= spv2[i];
    else for (i = 0; i < sn; i++) sa[i] *= spv[i];
  }
  lua_pushnumber(L, cpu() - t0);
  return 1;
}

static int l_ss_psi(lua_State *L) {
  lua_pushlstring(L, (const char *)sa, (size_t)sn * sizeof *sa);
  return 1;
}

/* --- Dormand-Prince 5(4) ------------------------------------------------------- */

static int64_t rn, *rptr, *rcol;
static double *rval, *ry, *ry0, *rk[7], *ry1, *rtmp;

static void spmv(const double *x, double *y) {
  int64_t i, p;
  for (i = 0; i < rn; i++) {
    double s = 0;
    for (p = rptr[i]; p < rptr[i + 1]; p++) s += rval[p] * x[rcol[p]];
    y[i] = s;
  }
}

static int l_rk_setup(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  int64_t i;
  int s;
  uint64_t seed = 11;
  if (ry) return luaL_error(L, "fields_ref: rk_setup called twice");
  luaL_argcheck(L, n >= 3, 1, "n must be >= 3");
  rn = n;
  rptr = big_alloc(L, (size_t)(n + 1) * sizeof *rptr);
  rcol = big_alloc(L, (size_t)(2 * n) * sizeof *rcol);
  rval = big_alloc(L, (size_t)(2 * n) * sizeof *rval);
  for (i = 0; i < n; i++) {   /* row i: -1/2 at i-1, +1/2 at i+1, sorted */
    int64_t a = (i + n - 1) % n, b = (i + 1) % n;
    rptr[i] = 2 * i;
    rcol[2 * i] = a < b ? a : b;
    rcol[2 * i + 1] = a < b ? b : a;
    rval[2 * i] = a < b ? -0.5 : 0.5;
    rval[2 * i + 1] = a < b ? 0.5 : -0.5;
  }
  rptr[n] = 2 * n;
  ry = big_alloc(L, (size_t)n * sizeof *ry);
  ry0 = big_alloc(L, (size_t)n * sizeof *ry0);
  ry1 = big_alloc(L, (size_t)n * sizeof *ry1);
  rtmp = big_alloc(L, (size_t)n * sizeof *rtmp);
  for (s = 0; s < 7; s++) rk[s] = big_alloc(L, (size_t)n * sizeof(double));
  for (i = 0; i < n; i++) ry[i] = ry0[i] = unit(&seed);
  return 0;
}

static const double dpa[7][6] = {
  {0},
  {1.0 / 5},
  {3.0 / 40, 9.0 / 40},
  {44.0 / 45, -56.0 / 15, 32.0 / 9},
  {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
  {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
  {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
};
static const double dpe[7] = {71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920,
                              -17253.0 / 339200, 22.0 / 525, -1.0 / 40};

/* the stages k2..k7 from k1 = rk[0] and y; y1 the fifth-order result */
static void stages(double h) {
  int64_t i;
  int s, j;
  for (s = 1; s < 7; s++) {
    double *dst = s == 6 ? ry1 : rtmp;
    for (i = 0; i < rn; i++) dst[i] = ry[i];
    for (j = 0; j < s; j++) {
      double c = h * dpa[s][j];
      if (c != 0) for (i = 0; i < rn; i++) dst[i] += c * rk[j][i];
    }
    spmv(dst, rk[s]);
  }
}

static double errnorm(double h, double atol, double rtol) {
  double sum = 0;
  int64_t i;
  int s;
  for (i = 0; i < rn; i++) {
    double e = 0, sc;
    for (s = 0; s < 7; s++) e += h * dpe[s] * rk[s][i];
    sc = atol + rtol * fmax(fabs(ry[i]), fabs(ry1[i]));
    sum += (e / sc) * (e / sc);
  }
  return sqrt(sum / (double)rn);
}

static int l_rk_solve(lua_State *L) {
  double t1 = luaL_checknumber(L, 1), rtol = luaL_checknumber(L, 2);
  double atol = luaL_checknumber(L, 3), h = luaL_checknumber(L, 4);
  double t = 0, t0;
  int rejected = 0;
  lua_Integer acc = 0, rej = 0;
  if (!ry) return luaL_error(L, "fields_ref: call rk_setup first");
  memcpy(ry, ry0, (size_t)rn * sizeof *ry);   /* every solve from y(0) */
  t0 = cpu();
  spmv(ry, rk[0]);
  while (t < t1) {
    double tn, hs, err, fac;
    h = fmin(h, t1 - t);
    tn = t1 - t <= h * 1.01 ? t1 : t + h;
    hs = tn - t;
    stages(hs);
    err = errnorm(hs, atol, rtol);
    if (err <= 1) {
      double *k1 = rk[0];
      int64_t i;
      acc++;
      for (i = 0; i < rn; i++) ry[i] = ry1[i];
      rk[0] = rk[6];   /* FSAL */
      rk[6] = k1;
      t = tn;
    }
    else rej++;
    fac = err == 0 ? 10 : 0.9 * pow(err, -0.2);
    fac = fmax(0.2, fmin(rejected ? 1 : 10, fac));
    rejected = !(err <= 1);
    h *= fac;
  }
  lua_pushnumber(L, cpu() - t0);
  lua_pushinteger(L, acc);
  lua_pushinteger(L, rej);
  return 3;
}

static int l_rk_y(lua_State *L) {
  lua_pushlstring(L, (const char *)ry, (size_t)rn * sizeof *ry);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"now", l_now}, {"cpu", l_cpu},
  {"kg_setup", l_kg_setup}, {"kg_steps", l_kg_steps}, {"kg_phi", l_kg_phi},
  {"ss_setup", l_ss_setup}, {"ss_steps", l_ss_steps}, {"ss_psi", l_ss_psi},
  {"rk_setup", l_rk_setup}, {"rk_solve", l_rk_solve}, {"rk_y", l_rk_y},
  {NULL, NULL}
};

int luaopen_fields_ref(lua_State *L) {
  luaL_newlib(L, funcs);
  lua_pushstring(L, BENCH_FLAGS);
  lua_setfield(L, -2, "flags");
  return 1;
}
