/*
** l_complex.c -- complex numbers in `hebb.tensor`: T.complex, the
** imaginary unit T.I, and real, imag, conj, angle (kernels in
** natives/core/complex.c; abs is the elementwise abs of l_arith.c).
*/
#include "core.h"
#include "lhebb.h"

static int l_complex(lua_State *L) {
  hebb_tensor sa, sb, *re, *im, *res, **box;
  hebb_num na, nb;
  re = hebbL_operand(L, 1, &sa, &na);
  im = hebbL_operand(L, 2, &sb, &nb);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 3), &res);
  hebbL_finish(L, box, &res, hebb_complex(re, im, &res));
  return 1;
}

static int part(lua_State *L, int which) {
  hebb_tensor sa, *a, *res, **box;
  hebb_num na;
  a = hebbL_operand(L, 1, &sa, &na);
  box = hebbL_ewise_slot(L, hebbL_outopts(L, 2), &res);
  hebbL_finish(L, box, &res, hebb_complex_part(which, a, &res));
  return 1;
}

static int l_real(lua_State *L) { return part(L, HEBB_REAL); }
static int l_imag(lua_State *L) { return part(L, HEBB_IMAG); }
static int l_conj(lua_State *L) { return part(L, HEBB_CONJ); }
static int l_angle(lua_State *L) { return part(L, HEBB_ANGLE); }

static const hebb_lreg complex_funcs[] = {
  {"complex", l_complex, HEBB_FN,
   "T.complex(re, im [, opts])\n\nThe complex tensor re + i*im from its "
   "real and imaginary parts (real tensors or numbers, broadcast).  Its "
   "dtype follows the promotion of the parts: c64 when re and im promote to "
   "f32 (f32 with f32, i64, bool or a number), c128 otherwise."},
  {"real", l_real, HEBB_BOTH,
   "t:real([opts])\n\nThe real parts, as a new f64 tensor (f32 for c64).  "
   "A copy, not a view.  For a real t, a copy of t in f64/f32."},
  {"imag", l_imag, HEBB_BOTH,
   "t:imag([opts])\n\nThe imaginary parts, as a new f64 tensor (f32 for "
   "c64); zeros for a real t."},
  {"conj", l_conj, HEBB_BOTH,
   "t:conj([opts])\n\nThe complex conjugate re - i*im (a real t becomes "
   "complex with imaginary part 0)."},
  {"angle", l_angle, HEBB_BOTH,
   "t:angle([opts])\n\nThe argument (phase) of each element in radians, in "
   "[-pi, pi], as f64 (f32 for c64): atan2(im, re).  |z| is t:abs()."},
  {NULL, NULL, 0, NULL}
};

/* T.I: the imaginary unit as a 0-d c128 tensor marked weak, so that it
   does not widen what it meets: x * T.I is c64 for an f32 x.  Built here
   by hand, since hebbL_newbox needs the metatable as an upvalue. */
static void push_unit(lua_State *L, int mt) {
  hebb_tensor **box = lua_newuserdatauv(L, sizeof(hebb_tensor *), 1);
  *box = NULL;
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  *box = hebb_zeros(HEBB_C128, 0, NULL);
  if (!*box) hebbL_raise(L);
  ((double *)(*box)->data)[1] = 1;
  (*box)->flags |= HEBB_TF_WEAK;
}

void hebbL_open_complex(lua_State *L, int module, int methods, int mt) {
  hebbL_register(L, complex_funcs, module, methods, mt);
  push_unit(L, mt);
  lua_setfield(L, module, "I");
}
