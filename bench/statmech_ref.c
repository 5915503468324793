/*
** statmech_ref.c -- the plain C references of the statistical-mechanics
** rows of `make bench`, as a Lua module that bench/statmech.lua loads into
** hebb's process (so that both sides run rep by rep under the same load,
** as bench/cref.c does for the tensor rows).
**
** What a careful C programmer writes for a 2D Ising study: int8 spins on an
** L x L torus, the acceptance probabilities in a table, and the same random
** numbers hebb draws -- Philox-4x32-10 (Salmon et al., SC'11), written out
** here, keyed the same way: in sweep t the site i of colour c reads the
** 64-bit word at position counter + c N/2 + i/2 of the stream (seed, 0),
** word p being half p & 1 of block p >> 1.  One block (two words) per two
** sites, made where they are used; no vector tricks.
**
** sr.setup(L, beta, seed)     a random L x L configuration (L even)
** sr.metropolis(threads)      one checkerboard Metropolis sweep; returns
**                             the seconds it took
** sr.magnetization()          the sum of the spins (to check the state)
** sr.wolff(ncl)               ncl Wolff clusters on the same lattice (one
**                             thread, words read in sequence); returns
**                             seconds and the number of flipped spins
** sr.series(n, a, seed)       an AR(1) series of n samples (stored here)
** sr.use(bytes)               or the f64 series in a string (t:tobytes())
** sr.binning(minbins)         standard errors of the mean per binning level
**                             (plain loops); returns seconds, level count
** sr.autocorr(c)              tau_int with Sokal's window: C(t) lag by lag,
**                             one plain loop each; returns seconds, tau, W
** sr.flags                    the compiler flags
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#define BENCH_MODULE "statmech_ref"
#define BENCH_CLOCK_ONLY
#include "bench.h"

/* --- Philox-4x32-10 ------------------------------------------------------- */

static void philox(uint64_t block, uint64_t seed, uint64_t stream,
                   uint64_t *w0, uint64_t *w1) {
  uint32_t x0 = (uint32_t)block, x1 = (uint32_t)(block >> 32);
  uint32_t x2 = (uint32_t)stream, x3 = (uint32_t)(stream >> 32);
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  int r;
  for (r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * x0, p1 = (uint64_t)0xCD9E8D57u * x2;
    x0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0;
    x1 = (uint32_t)p1;
    x2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1;
    x3 = (uint32_t)p0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  *w0 = x0 | (uint64_t)x1 << 32;
  *w1 = x2 | (uint64_t)x3 << 32;
}

static uint64_t word_at(uint64_t pos, uint64_t seed) {
  uint64_t a, b;
  philox(pos >> 1, seed, 0, &a, &b);
  return pos & 1 ? b : a;
}

static inline double unif(uint64_t w) {
  return (double)(w >> 11) * (1.0 / 9007199254740992.0);
}

/* --- the lattice ------------------------------------------------------------ */

static int8_t *spin;
static int64_t L, N;
static double beta, prob[2][9];   /* [s > 0][s * neighbour sum + 4]... by sum */
static uint64_t seed, counter;

static int l_setup(lua_State *Ls) {
  int64_t i;
  int k, s;
  L = luaL_checkinteger(Ls, 1);
  beta = luaL_checknumber(Ls, 2);
  seed = (uint64_t)luaL_checkinteger(Ls, 3);
  luaL_argcheck(Ls, L >= 2 && L % 2 == 0, 1, "L must be even");
  N = L * L;
  free(spin);
  spin = malloc((size_t)N);
  if (!spin) return luaL_error(Ls, "out of memory");
  for (i = 0; i < N; i++) spin[i] = word_at((uint64_t)i, seed ^ 0x5eed) >> 63 ? 1 : -1;
  /* dE = 2 s (sum): accept with min(1, e^{-beta dE}); index [s > 0][sum + 4] */
  for (s = 0; s < 2; s++)
    for (k = -4; k <= 4; k++) {
      double de = 2.0 * (s ? 1 : -1) * k;
      prob[s][k + 4] = de <= 0 ? 1 : exp(-beta * de);
    }
  counter = 0;
  return 0;
}

/* the sites of colour c in row y, two per Philox block */
static void metropolis_row(int64_t y, int c) {
  int8_t *row = spin + y * L;
  const int8_t *up = spin + ((y + L - 1) % L) * L, *dn = spin + ((y + 1) % L) * L;
  int64_t x = (y + c) & 1;
  uint64_t pos = counter + (uint64_t)(c * (N / 2) + y * L / 2);
  for (; x < L; x += 2, pos++) {
    int sum = row[x == 0 ? L - 1 : x - 1] + row[x == L - 1 ? 0 : x + 1] + up[x] + dn[x];
    int s = row[x];
    uint64_t w = word_at(pos, seed);
    if (unif(w) < prob[s > 0][sum + 4]) row[x] = (int8_t)-s;
  }
}

static int l_metropolis(lua_State *Ls) {
  int threads = (int)luaL_optinteger(Ls, 1, 1), c;
  double t0 = now();
  for (c = 0; c < 2; c++) {
    int64_t y;
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (y = 0; y < L; y++) metropolis_row(y, c);
  }
  counter += (uint64_t)N;
  lua_pushnumber(Ls, now() - t0);
  return 1;
}

static int l_magnetization(lua_State *Ls) {
  int64_t i, m = 0;
  for (i = 0; i < N; i++) m += spin[i];
  lua_pushinteger(Ls, m);
  return 1;
}

/* --- Wolff ---------------------------------------------------------------- */

static uint64_t wbuf[2], wpos;
static int wleft;

static uint64_t next_word(void) {
  if (wleft == 0) {
    philox(wpos >> 1, seed, 1, &wbuf[0], &wbuf[1]);
    wpos += 2;
    wleft = 2;
  }
  return wbuf[2 - wleft--];
}

static int l_wolff(lua_State *Ls) {
  int64_t ncl = luaL_checkinteger(Ls, 1), c, flipped = 0;
  int32_t *stack = malloc((size_t)N * sizeof(int32_t));
  double p = 1 - exp(-2 * beta), t0;
  if (!stack) return luaL_error(Ls, "out of memory");
  t0 = now();
  for (c = 0; c < ncl; c++) {
    int64_t top = 0, i0 = (int64_t)(((unsigned __int128)next_word() * (uint64_t)N) >> 64);
    int8_t s0 = spin[i0];
    spin[i0] = (int8_t)-s0;
    stack[top++] = (int32_t)i0;
    flipped++;
    while (top > 0) {
      int64_t i = stack[--top], x = i % L, y = i / L, k;
      int64_t nb[4] = { y * L + (x + 1) % L, y * L + (x + L - 1) % L,
                        ((y + 1) % L) * L + x, ((y + L - 1) % L) * L + x };
      for (k = 0; k < 4; k++) {
        int64_t j = nb[k];
        if (spin[j] == s0 && unif(next_word()) < p) {
          spin[j] = (int8_t)-s0;
          stack[top++] = (int32_t)j;
          flipped++;
        }
      }
    }
  }
  lua_pushnumber(Ls, now() - t0);
  lua_pushinteger(Ls, flipped);
  free(stack);
  return 2;
}

/* --- series: binning and tau_int -------------------------------------------------- */

static double *ser, *work;
static int64_t ns;

static int l_series(lua_State *Ls) {
  int64_t i;
  double a, s;
  uint64_t sd;
  ns = luaL_checkinteger(Ls, 1);
  a = luaL_checknumber(Ls, 2);
  sd = (uint64_t)luaL_checkinteger(Ls, 3);
  free(ser);
  free(work);
  ser = malloc((size_t)ns * sizeof(double));
  work = malloc((size_t)ns * sizeof(double));
  if (!ser || !work) return luaL_error(Ls, "out of memory");
  s = sqrt(1 - a * a);
  for (i = 0; i < ns; i++) {   /* Box-Muller normals, then the recursion */
    uint64_t w0, w1;
    double z;
    philox((uint64_t)i, sd, 7, &w0, &w1);
    z = sqrt(-2 * log(1 - unif(w0))) * cos(2 * M_PI * unif(w1));
    ser[i] = i == 0 ? z : a * ser[i - 1] + s * z;
  }
  return 0;
}

/* the series from the bytes of hebb's f64 tensor (t:tobytes()): both sides
   analyse the same numbers */
static int l_use(lua_State *Ls) {
  size_t len;
  const char *src = luaL_checklstring(Ls, 1, &len);
  ns = (int64_t)(len / sizeof(double));
  free(ser);
  free(work);
  ser = malloc(len);
  work = malloc(len);
  if (!ser || !work) return luaL_error(Ls, "out of memory");
  memcpy(ser, src, len);
  return 0;
}

static int l_binning(lua_State *Ls) {
  int64_t minbins = luaL_optinteger(Ls, 1, 32), nb, i;
  int levels = 0;
  double t0 = now(), last = 0;
  memcpy(work, ser, (size_t)ns * sizeof(double));
  for (nb = ns; nb >= minbins; nb /= 2) {
    double m = 0, v = 0;
    for (i = 0; i < nb; i++) m += work[i];
    m /= (double)nb;
    for (i = 0; i < nb; i++) v += (work[i] - m) * (work[i] - m);
    last = sqrt(v / (double)(nb - 1) / (double)nb);
    levels++;
    for (i = 0; i < nb / 2; i++) work[i] = (work[2 * i] + work[2 * i + 1]) / 2;
  }
  lua_pushnumber(Ls, now() - t0);
  lua_pushinteger(Ls, levels);
  lua_pushnumber(Ls, last);
  return 3;
}

static int l_autocorr(lua_State *Ls) {
  double c = luaL_optnumber(Ls, 1, 6), t0 = now(), m = 0, c0 = 0, tau = 0.5;
  int64_t i, t, W = 0;
  for (i = 0; i < ns; i++) m += ser[i];
  m /= (double)ns;
  for (i = 0; i < ns; i++) work[i] = ser[i] - m;
  for (i = 0; i < ns; i++) c0 += work[i] * work[i];
  c0 /= (double)ns;
  for (t = 1; t < ns / 2; t++) {
    double s = 0;
    for (i = 0; i + t < ns; i++) s += work[i] * work[i + t];
    tau += s / (double)(ns - t) / c0;
    if ((double)t >= c * tau) { W = t; break; }
  }
  lua_pushnumber(Ls, now() - t0);
  lua_pushnumber(Ls, tau);
  lua_pushinteger(Ls, W);
  return 3;
}

static const luaL_Reg funcs[] = {
  {"setup", l_setup}, {"metropolis", l_metropolis},
  {"magnetization", l_magnetization}, {"wolff", l_wolff},
  {"series", l_series}, {"use", l_use}, {"binning", l_binning},
  {"autocorr", l_autocorr}, {"now", l_now}, {NULL, NULL}
};

int luaopen_statmech_ref(lua_State *Ls) {
  luaL_newlib(Ls, funcs);
  lua_pushstring(Ls, BENCH_FLAGS);
  lua_setfield(Ls, -2, "flags");
  return 1;
}
