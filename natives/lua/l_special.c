/*
** l_special.c -- special functions of `hebb.tensor` (natives/core/special.c):
** gamma, lgamma, digamma, trigamma, erf, erfc, bessel_j0, bessel_j1,
** bessel_i0, bessel_i1, ellipk, ellipe, zeta, and the internal
** _tetragamma and _zeta_prime (the derivatives of trigamma and zeta, for
** autograd's rules).  A Lua number argument gives
** a 0-d tensor, as the other elementwise functions do.
*/
#include "lhebb.h"

static int special(lua_State *L, int op) {
  hebb_tensor sa, *a, *res, **box;
  hebb_num na;
  a = hebbL_operand(L, 1, &sa, &na);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 2), &res);
  hebbL_finish(L, box, &res, hebb_special(op, a, &res));
  return 1;
}

#define SPECIAL_FN(name, op) \
  static int s_##name(lua_State *L) { return special(L, op); }

SPECIAL_FN(gamma, HEBB_GAMMA)
SPECIAL_FN(lgamma, HEBB_LGAMMA)
SPECIAL_FN(digamma, HEBB_DIGAMMA)
SPECIAL_FN(trigamma, HEBB_TRIGAMMA)
SPECIAL_FN(erf, HEBB_ERF)
SPECIAL_FN(erfc, HEBB_ERFC)
SPECIAL_FN(bessel_j0, HEBB_BESSEL_J0)
SPECIAL_FN(bessel_j1, HEBB_BESSEL_J1)
SPECIAL_FN(bessel_i0, HEBB_BESSEL_I0)
SPECIAL_FN(bessel_i1, HEBB_BESSEL_I1)
SPECIAL_FN(ellipk, HEBB_ELLIPK)
SPECIAL_FN(ellipe, HEBB_ELLIPE)
SPECIAL_FN(zeta, HEBB_ZETA)
SPECIAL_FN(tetragamma, HEBB_TETRAGAMMA)
SPECIAL_FN(zeta_prime, HEBB_ZETA_PRIME)

#define OUT "  Elementwise, f32 stays f32, integers give f64; {out=} accepted."

static const hebb_lreg special_funcs[] = {
  {"gamma", s_gamma, HEBB_BOTH,
   "T.gamma(x [, {out=}])\n\nEuler's Gamma function, Gamma(n) = (n-1)!; "
   "infinite at 0, NaN at the negative integers (poles)." OUT},
  {"lgamma", s_lgamma, HEBB_BOTH,
   "T.lgamma(x [, {out=}])\n\nln |Gamma(x)|, finite where Gamma overflows "
   "(x > 171)." OUT},
  {"digamma", s_digamma, HEBB_BOTH,
   "T.digamma(x [, {out=}])\n\npsi(x) = Gamma'(x)/Gamma(x), the derivative "
   "of lgamma; NaN at 0 and the negative integers." OUT},
  {"trigamma", s_trigamma, HEBB_BOTH,
   "T.trigamma(x [, {out=}])\n\npsi'(x), the derivative of digamma (sum of "
   "1/(x+k)^2 over k >= 0 for x > 0)." OUT},
  {"erf", s_erf, HEBB_BOTH,
   "T.erf(x [, {out=}])\n\nThe error function (2/sqrt(pi)) int_0^x "
   "e^{-t^2} dt." OUT},
  {"erfc", s_erfc, HEBB_BOTH,
   "T.erfc(x [, {out=}])\n\n1 - erf(x), accurate where erf(x) is close to 1 "
   "(erfc(10) = 2.1e-45)." OUT},
  {"bessel_j0", s_bessel_j0, HEBB_BOTH,
   "T.bessel_j0(x [, {out=}])\n\nThe Bessel function of the first kind "
   "J0." OUT},
  {"bessel_j1", s_bessel_j1, HEBB_BOTH,
   "T.bessel_j1(x [, {out=}])\n\nThe Bessel function of the first kind "
   "J1." OUT},
  {"bessel_i0", s_bessel_i0, HEBB_BOTH,
   "T.bessel_i0(x [, {out=}])\n\nThe modified Bessel function I0(x) = "
   "(1/pi) int_0^pi e^{x cos t} dt (the partition function of a classical "
   "XY spin in a field x)." OUT},
  {"bessel_i1", s_bessel_i1, HEBB_BOTH,
   "T.bessel_i1(x [, {out=}])\n\nThe modified Bessel function I1 = I0'." OUT},
  {"ellipk", s_ellipk, HEBB_BOTH,
   "T.ellipk(m [, {out=}])\n\nThe complete elliptic integral of the first "
   "kind K(m) = int_0^{pi/2} (1 - m sin^2 t)^{-1/2} dt, with the PARAMETER "
   "m = k^2 (scipy's and Abramowitz-Stegun's convention; for the modulus k "
   "pass k^2).  Defined for m <= 1 (K(1) = inf), NaN above." OUT},
  {"ellipe", s_ellipe, HEBB_BOTH,
   "T.ellipe(m [, {out=}])\n\nThe complete elliptic integral of the second "
   "kind E(m) = int_0^{pi/2} (1 - m sin^2 t)^{1/2} dt, parameter m = k^2; "
   "E(1) = 1, NaN for m > 1." OUT},
  {"zeta", s_zeta, HEBB_BOTH,
   "T.zeta(s [, {out=}])\n\nRiemann's zeta function of a real s (analytic "
   "continuation for s < 1): zeta(2) = pi^2/6, zeta(0) = -1/2, infinite at "
   "s = 1; differentiable (zeta' is T._zeta_prime)." OUT},
  {"_tetragamma", s_tetragamma, HEBB_FN,
   "T._tetragamma(x [, {out=}])\n\nInternal (autograd's rule of "
   "T.trigamma): psi''(x) = -2 sum_k 1/(x+k)^3, psi''(1) = -2 zeta(3)." OUT},
  {"_zeta_prime", s_zeta_prime, HEBB_FN,
   "T._zeta_prime(s [, {out=}])\n\nInternal (autograd's rule of T.zeta): "
   "zeta'(s); zeta'(0) = -ln(2 pi)/2, -inf at s = 1." OUT},
  {NULL, NULL, 0, NULL}
};

void hebbL_open_special(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, special_funcs, module, methods, mt);
}
