/*
** l_fft.c -- the module `hebb.fft`: discrete Fourier transforms over FFTW3
** (natives/core/fft.c).  Dimensions are 1-based (negative from the end).
*/
#include "lhebb.h"

static int c2c(lua_State *L, bool inverse) {
  hebb_tensor *a = hebbL_check(L, 1), **box, *r = NULL;
  int dim = hebbL_optdim(L, 2, a->ndim, a->ndim - 1), st;
  hebbL_noextra(L, 2);
  box = hebbL_newbox(L);
  st = hebb_fft(a, dim, inverse, &r);
  hebbL_finish(L, box, &r, st);
  return 1;
}

static int l_fft(lua_State *L) { return c2c(L, false); }
static int l_ifft(lua_State *L) { return c2c(L, true); }

static int l_rfft(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box, *r = NULL;
  int dim = hebbL_optdim(L, 2, a->ndim, a->ndim - 1), st;
  hebbL_noextra(L, 2);
  box = hebbL_newbox(L);
  st = hebb_rfft(a, dim, &r);
  hebbL_finish(L, box, &r, st);
  return 1;
}

static int l_irfft(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box, *r = NULL;
  lua_Integer n = luaL_optinteger(L, 2, -1);
  int dim = hebbL_optdim(L, 3, a->ndim, a->ndim - 1), st;
  if (!lua_isnoneornil(L, 2) && n < 1)   /* the core reads n < 0 as absent */
    return luaL_error(L, "irfft: n = %I output points; n must be >= 1", n);
  hebbL_noextra(L, 3);
  box = hebbL_newbox(L);
  st = hebb_irfft(a, (int64_t)n, dim, &r);
  hebbL_finish(L, box, &r, st);
  return 1;
}

/* an optional list of dimensions at idx (a table of 1-based numbers, or
   one number) -> 0-based dims; returns their count (0: all) */
static int optdims(lua_State *L, int idx, int ndim, int *dims) {
  int i, n;
  if (lua_isnoneornil(L, idx)) return 0;
  if (!lua_istable(L, idx)) {
    dims[0] = hebbL_checkdim(L, idx, ndim);
    return 1;
  }
  n = (int)luaL_len(L, idx);
  luaL_argcheck(L, n >= 1 && n <= HEBB_MAXDIM, idx,
                "expected a non-empty list of dimensions");
  for (i = 0; i < n; i++) {
    lua_Integer d;
    lua_geti(L, idx, i + 1);
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, idx, "dimensions must be integers");
    d = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (d == 0 || d > ndim || d < -ndim)
      hebbL_error(L, "dimension %d out of range for a %d-dimensional tensor",
                 (int)d, ndim);
    dims[i] = (int)(d < 0 ? d + ndim : d - 1);
  }
  return n;
}

static int nd(lua_State *L, bool inverse) {
  hebb_tensor *a = hebbL_check(L, 1), **box, *r = NULL;
  int dims[HEBB_MAXDIM], n = optdims(L, 2, a->ndim, dims), st;
  hebbL_noextra(L, 2);
  box = hebbL_newbox(L);
  st = hebb_fftn(a, n, dims, inverse, &r);
  hebbL_finish(L, box, &r, st);
  return 1;
}

static int l_fftn(lua_State *L) { return nd(L, false); }
static int l_ifftn(lua_State *L) { return nd(L, true); }

static int shift(lua_State *L, bool inverse) {
  hebb_tensor *a = hebbL_check(L, 1), **box, *r = NULL;
  int dims[HEBB_MAXDIM], n = optdims(L, 2, a->ndim, dims), st;
  hebbL_noextra(L, 2);
  box = hebbL_newbox(L);
  st = hebb_fftshift(a, n, dims, inverse, &r);
  hebbL_finish(L, box, &r, st);
  return 1;
}

static int l_fftshift(lua_State *L) { return shift(L, false); }
static int l_ifftshift(lua_State *L) { return shift(L, true); }

static int freq(lua_State *L, bool half) {
  lua_Integer n = luaL_checkinteger(L, 1);
  double d = luaL_optnumber(L, 2, 1.0);
  hebbL_noextra(L, 2);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_fftfreq((int64_t)n, d, half));
  return 1;
}

static int l_fftfreq(lua_State *L) { return freq(L, false); }
static int l_rfftfreq(lua_State *L) { return freq(L, true); }

static const hebb_lreg fft_funcs[] = {
  {"fft", l_fft, HEBB_FN,
   "fft.fft(x [, dim])\n\nThe discrete Fourier transform of x along dim "
   "(default -1, the last): X[k] = sum_j x[j] e^{-2 pi i (j-1)(k-1)/n} for "
   "k = 1..n, unnormalized (numpy's convention).  A real x is taken as "
   "complex; the result is c128 (c64 for f32/c64 input).  Entry k holds "
   "the frequency fft.fftfreq(n)[k] (cycles per sample).  Other dimensions "
   "are a batch of independent transforms."},
  {"ifft", l_ifft, HEBB_FN,
   "fft.ifft(X [, dim])\n\nThe inverse of fft.fft along dim (default -1): "
   "x[j] = (1/n) sum_k X[k] e^{+2 pi i (j-1)(k-1)/n}, so ifft(fft(x)) = x "
   "up to rounding."},
  {"rfft", l_rfft, HEBB_FN,
   "fft.rfft(x [, dim])\n\nThe Fourier transform of a real signal along dim "
   "(default -1): the n//2 + 1 non-negative frequencies of fft.fft(x) (the "
   "rest follow from X[-k] = conj(X[k])), about twice as fast.  Complex "
   "input is an error: use fft.fft."},
  {"irfft", l_irfft, HEBB_FN,
   "fft.irfft(X [, n] [, dim])\n\nThe inverse of fft.rfft: n real samples "
   "(default 2*(m-1) for m entries of X along dim; give n for an odd "
   "length) from the non-negative frequencies X, normalized by 1/n.  X is "
   "cut or zero-padded to n//2 + 1 entries; the imaginary parts of the zero "
   "(and, for even n, the Nyquist) frequency are ignored.  irfft(rfft(x), "
   "n) = x for x of length n."},
  {"fftn", l_fftn, HEBB_FN,
   "fft.fftn(x [, dims])\n\nThe d-dimensional Fourier transform over dims "
   "(a list, or one number; default all): successive 1-d fft.fft along "
   "each.  For a field on a periodic lattice, entry {k1, k2, ...} is its "
   "amplitude at the wave vector 2 pi (fftfreq(L1)[k1], fftfreq(L2)[k2], "
   "...)."},
  {"ifftn", l_ifftn, HEBB_FN,
   "fft.ifftn(X [, dims])\n\nThe inverse of fft.fftn over dims (default "
   "all): successive fft.ifft, normalized by 1/prod(n)."},
  {"fftfreq", l_fftfreq, HEBB_FN,
   "fft.fftfreq(n [, d])\n\nThe sample frequencies of an n-point fft for "
   "spacing d (default 1), in the order fft returns them: 0, 1, ..., "
   "ceil(n/2)-1, then -floor(n/2), ..., -1, all divided by n*d (numpy's "
   "values).  Multiply by 2 pi for angular wave numbers on a lattice."},
  {"rfftfreq", l_rfftfreq, HEBB_FN,
   "fft.rfftfreq(n [, d])\n\nThe frequencies of fft.rfft's n//2 + 1 "
   "outputs: 0, 1, ..., n//2, divided by n*d."},
  {"fftshift", l_fftshift, HEBB_FN,
   "fft.fftshift(x [, dims])\n\nRolls x along dims (a list or one number; "
   "default all) so that the zero frequency sits in the middle: by n//2, "
   "giving increasing frequencies for fftfreq's order (a copy)."},
  {"ifftshift", l_ifftshift, HEBB_FN,
   "fft.ifftshift(x [, dims])\n\nThe inverse of fft.fftshift (they differ "
   "for odd lengths): the centred order back to fft's order."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb_fft(lua_State *L) {
  return hebbL_newmodule(L, fft_funcs,
    "hebb.fft\n\nDiscrete Fourier transforms over FFTW3: fft, ifft, "
    "rfft, irfft along any dimension, fftn, ifftn, fftfreq, rfftfreq, "
    "fftshift, ifftshift.  numpy's conventions (forward unnormalized, "
    "inverse divided by n); results are the same bits at any thread "
    "count.  See docs/fft.md.");
}
