/*
** optim.c -- the fused update loops of hebb.optim: SGD (momentum,
** Nesterov, weight decay), Adam/AdamW (AMSGrad), RMSProp, Adagrad,
** covariant gradient descent with the identity or diagonal metric, a
** Langevin step and a plain p <- alpha p + beta g.  One pass over memory:
** each element of the parameter, gradient and state is read and written
** once, so an Adam step costs what copying its four tensors costs.
**
** The formulas follow torch.optim's (single-tensor) implementations, in the
** parameter's own precision (f32 arithmetic for f32, as torch does), so the
** loops vectorize at the full width of the type.  Elements are independent:
** the bits do not depend on the thread count.
*/
#include <math.h>
#include <string.h>

#include "core.h"
#include "optim.h"

typedef struct job {
  int rule, f32;
  const hebb_optim_hp *hp;
  char *p;
  const char *g;
  char *s[3];
} job;

/* --- the loops, written once for double and once for float ----------- */

/* The build targets baseline x86-64 (SSE2: 4 floats per vector); each
   loop also gets AVX2 and AVX-512 versions picked at load time
   (HEBB_CLONES): the Adam step over 784 x 256 f32 went from ~200 (SSE2) to
   ~135 us (AVX2) on one thread on Zen 3; on Zen 4 the MLP's Adam over its
   four parameters (203 530 f32) takes 51-53 us with AVX-512 against 68-76
   with AVX2 (one thread, best of 30 x 100 updates).  No clone contracts
   into FMAs (the build is C11, where GCC does not contract; avx512f does
   not enable fma either), so every clone computes the same bits. */
#define CLONES HEBB_CLONES

/* torch's lerp: a + w (b - a), computed from the nearer end */
#define LERP(T, a, b, w) ((w) < (T)0.5 ? (a) + (w) * ((b) - (a)) \
                                       : (b) - ((b) - (a)) * ((T)1 - (w)))

#define DEFINE_LOOPS(T, SQRT, POW, SUF)                                      \
CLONES                                                                       \
static void sgd_##SUF(int64_t lo, int64_t hi, const job *j) {                \
  const hebb_optim_hp *hp = j->hp;                                           \
  T *restrict p = (T *)j->p, *restrict b = (T *)j->s[0];                     \
  const T *restrict g = (const T *)j->g;                                     \
  const T lr = (T)hp->lr, wd = (T)hp->weight_decay, mu = (T)hp->momentum;    \
  const T damp = (T)1 - (T)hp->dampening;                                    \
  const int nest = hp->flags & HEBB_OPTF_NESTEROV;                           \
  const int first = hp->flags & HEBB_OPTF_FIRST;                             \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T d = g[i];                                                              \
    if (wd != 0) d += wd * p[i];                                             \
    if (b) {                                                                 \
      T m = first ? d : mu * b[i] + damp * d;                                \
      b[i] = m;                                                              \
      d = nest ? d + mu * m : m;                                             \
    }                                                                        \
    p[i] += -lr * d;                                                         \
  }                                                                          \
}                                                                            \
                                                                             \
CLONES                                                                       \
static void adam_##SUF(int64_t lo, int64_t hi, const job *j) {               \
  const hebb_optim_hp *hp = j->hp;                                           \
  T *restrict p = (T *)j->p, *restrict m = (T *)j->s[0];                     \
  T *restrict v = (T *)j->s[1], *restrict vmax = (T *)j->s[2];               \
  const T *restrict g = (const T *)j->g;                                     \
  const int decoupled = hp->flags & HEBB_OPTF_DECOUPLED;                     \
  const T wd = decoupled ? 0 : (T)hp->weight_decay;                          \
  const T shrink = (T)(1 - hp->lr * (decoupled ? hp->weight_decay : 0));     \
  const T w1 = (T)(1 - hp->beta1), b2 = (T)hp->beta2, w2 = (T)(1 - hp->beta2);\
  const T step = (T)(-hp->lr / hp->bc1), rbc2 = (T)(1 / sqrt(hp->bc2));     \
  const T eps = (T)hp->eps;                                                  \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T d = g[i], q = p[i], mi, vi, den;                                       \
    if (decoupled) q *= shrink;                                              \
    else if (wd != 0) d += wd * q;                                           \
    mi = LERP(T, m[i], d, w1);                                               \
    vi = b2 * v[i] + w2 * d * d;                                             \
    m[i] = mi;                                                               \
    v[i] = vi;                                                               \
    if (vmax) {                                                              \
      vi = vmax[i] > vi ? vmax[i] : vi;                                      \
      vmax[i] = vi;                                                          \
    }                                                                        \
    den = SQRT(vi) * rbc2 + eps;                                             \
    p[i] = q + step * mi / den;                                              \
  }                                                                          \
}                                                                            \
                                                                             \
CLONES                                                                       \
static void rmsprop_##SUF(int64_t lo, int64_t hi, const job *j) {            \
  const hebb_optim_hp *hp = j->hp;                                           \
  const int hasbuf = hp->flags & HEBB_OPTF_MOMENTUM;                         \
  T *restrict p = (T *)j->p, *restrict sq = (T *)j->s[0];                    \
  T *restrict buf = hasbuf ? (T *)j->s[1] : NULL;                            \
  T *restrict ga = (hp->flags & HEBB_OPTF_CENTERED)                          \
                   ? (T *)j->s[hasbuf ? 2 : 1] : NULL;                       \
  const T *restrict g = (const T *)j->g;                                     \
  const T lr = (T)hp->lr, wd = (T)hp->weight_decay, mu = (T)hp->momentum;    \
  const T a = (T)hp->beta2, w = (T)(1 - hp->beta2), eps = (T)hp->eps;        \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T d = g[i], s, avg;                                                      \
    if (wd != 0) d += wd * p[i];                                             \
    s = a * sq[i] + w * d * d;                                               \
    sq[i] = s;                                                               \
    if (ga) {                                                                \
      T c = LERP(T, ga[i], d, w);                                            \
      ga[i] = c;                                                             \
      s = s - c * c;                                                         \
    }                                                                        \
    avg = SQRT(s) + eps;                                                     \
    if (buf) {                                                               \
      T bb = mu * buf[i] + d / avg;                                          \
      buf[i] = bb;                                                           \
      p[i] += -lr * bb;                                                      \
    }                                                                        \
    else p[i] += -lr * d / avg;                                              \
  }                                                                          \
}                                                                            \
                                                                             \
CLONES                                                                       \
static void adagrad_##SUF(int64_t lo, int64_t hi, const job *j) {            \
  const hebb_optim_hp *hp = j->hp;                                           \
  T *restrict p = (T *)j->p, *restrict sum = (T *)j->s[0];                   \
  const T *restrict g = (const T *)j->g;                                     \
  const T lr = (T)hp->lr, wd = (T)hp->weight_decay, eps = (T)hp->eps;        \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T d = g[i], s;                                                           \
    if (wd != 0) d += wd * p[i];                                             \
    s = sum[i] + d * d;                                                      \
    sum[i] = s;                                                              \
    p[i] += -lr * d / (SQRT(s) + eps);                                       \
  }                                                                          \
}                                                                            \
                                                                             \
/* <f>_t = f/(1+tau) + tau/(1+tau) <f>_{t-1}; F = M1/(1-beta1^t); the      \
   metric is 1 or (M2/(1-beta2^t))^power + eps */                           \
CLONES                                                                       \
static void cgd_##SUF(int64_t lo, int64_t hi, const job *j) {                \
  const hebb_optim_hp *hp = j->hp;                                           \
  T *restrict p = (T *)j->p, *restrict m1 = (T *)j->s[0];                    \
  T *restrict m2 = (T *)j->s[1];                                             \
  const T *restrict g = (const T *)j->g;                                     \
  const T n1 = (T)hp->new1, o1 = (T)hp->beta1;                               \
  const T n2 = (T)hp->new2, o2 = (T)hp->beta2;                               \
  const T bc1 = (T)hp->bc1, bc2 = (T)hp->bc2, lr = (T)hp->lr;                \
  const T eps = (T)hp->eps, a = (T)hp->power;                                \
  const int diag = hp->flags & HEBB_OPTF_DIAG;                               \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) {                                                \
    T d = g[i], f, metric = 1;                                               \
    m1[i] = n1 * d + o1 * m1[i];                                             \
    f = m1[i] / bc1;                                                         \
    if (m2) {                                                                \
      T s = n2 * (d * d) + o2 * m2[i];                                       \
      m2[i] = s;                                                             \
      if (diag) {                                                            \
        s = s / bc2;                                                         \
        metric = (a == (T)0.5 ? SQRT(s) : a == 1 ? s : POW(s, a)) + eps;     \
      }                                                                      \
    }                                                                        \
    p[i] -= lr * f / metric;                                                 \
  }                                                                          \
}                                                                            \
                                                                             \
CLONES                                                                       \
static void langevin_##SUF(int64_t lo, int64_t hi, const job *j) {           \
  T *restrict p = (T *)j->p;                                                 \
  const T *restrict g = (const T *)j->g, *restrict xi = (const T *)j->s[0];  \
  const T lr = (T)j->hp->lr, s = (T)j->hp->beta;                             \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) p[i] = p[i] - lr * g[i] + s * xi[i];             \
}                                                                            \
                                                                             \
CLONES                                                                       \
static void axpby_##SUF(int64_t lo, int64_t hi, const job *j) {              \
  T *restrict p = (T *)j->p;                                                 \
  const T *restrict g = (const T *)j->g;                                     \
  const T a = (T)j->hp->alpha, b = (T)j->hp->beta;                           \
  int64_t i;                                                                 \
  for (i = lo; i < hi; i++) p[i] = a * p[i] + b * g[i];                      \
}

DEFINE_LOOPS(double, sqrt, pow, f64)
DEFINE_LOOPS(float, sqrtf, powf, f32)

typedef void (*loop_fn)(int64_t lo, int64_t hi, const job *j);
/* cost per element for hebb_parallel_for, in additions: measured single
   threaded on 784 x 256 f32, an Adam step (with AVX2) takes ~0.5 ns per
   element, about two passes of an addition; the loops are bound by memory
   traffic more than by their sqrt and division.  CGD with a general power
   pays for pow (raised in hebb_optim_step). */
typedef struct rule_info {
  int64_t cost;
  loop_fn loop[2];   /* f64, f32 */
} rule_info;
#define BOTH(R) {R##_f64, R##_f32}
static const rule_info rules[] = {
  [HEBB_OPT_SGD] = {1, BOTH(sgd)},
  [HEBB_OPT_ADAM] = {2, BOTH(adam)},
  [HEBB_OPT_RMSPROP] = {2, BOTH(rmsprop)},
  [HEBB_OPT_ADAGRAD] = {2, BOTH(adagrad)},
  [HEBB_OPT_CGD] = {2, BOTH(cgd)},
  [HEBB_OPT_LANGEVIN] = {1, BOTH(langevin)},
  [HEBB_OPT_AXPBY] = {1, BOTH(axpby)},
};
#undef BOTH
_Static_assert(sizeof rules / sizeof rules[0] == HEBB_OPT_NRULES,
               "optim.c: one row of rules[] per update rule");

static void run_range(int64_t lo, int64_t hi, void *ud) {
  const job *j = (const job *)ud;
  rules[j->rule].loop[j->f32](lo, hi, j);
}

/* the number of state tensors 'rule' takes with these flags */
static int state_count(int rule, int flags, int given) {
  switch (rule) {
    case HEBB_OPT_SGD: return given <= 1 ? given : 1;   /* 0 or 1 */
    case HEBB_OPT_ADAM: return flags & HEBB_OPTF_AMSGRAD ? 3 : 2;
    case HEBB_OPT_RMSPROP:
      return 1 + !!(flags & HEBB_OPTF_MOMENTUM) +
             !!(flags & HEBB_OPTF_CENTERED);
    case HEBB_OPT_ADAGRAD: return 1;
    case HEBB_OPT_CGD:
      return flags & HEBB_OPTF_DIAG ? 2 : (given == 2 ? 2 : 1);
    case HEBB_OPT_LANGEVIN: return 1;
    default: return 0;
  }
}

/* t must be a contiguous tensor of p's shape and dtype */
static int check_like(const hebb_tensor *p, const hebb_tensor *t,
                      const char *who, const char *what) {
  char b1[HEBB_SHAPEBUF], b2[HEBB_SHAPEBUF];
  if (!t)
    return hebb_fail(HEBB_ERR_ARG, "%s: the %s is missing", who, what);
  if (t->ndim != p->ndim ||
      memcmp(t->shape, p->shape, sizeof(int64_t) * (size_t)p->ndim) != 0)
    return hebb_fail(HEBB_ERR_SHAPE,
                     "%s: %s shape %s does not match parameter shape %s", who,
                     what, hebb_shape_str(t->ndim, t->shape, b1, sizeof b1),
                     hebb_shape_str(p->ndim, p->shape, b2, sizeof b2));
  if (t->dtype != p->dtype)
    return hebb_fail(HEBB_ERR_DTYPE,
                     "%s: %s dtype %s does not match parameter dtype %s", who,
                     what, hebb_dtype_name(t->dtype),
                     hebb_dtype_name(p->dtype));
  if (!hebb_is_contiguous(t))
    return hebb_fail(HEBB_ERR_ARG, "%s: the %s (shape %s) is not contiguous",
                     who, what,
                     hebb_shape_str(t->ndim, t->shape, b1, sizeof b1));
  return HEBB_OK;
}

/* The loops take their pointers as restrict: no two operands may overlap
   (a state tensor that views the parameter, say).  The operands are
   contiguous and of one shape and dtype (check_like), so each spans the
   same number of bytes from its first element. */
static int check_disjoint(const hebb_tensor *const *ops, int n,
                          const char *const *names, const char *who) {
  const char *first[5];
  int64_t bytes = hebb_numel(ops[0]) * hebb_dtype_size(ops[0]->dtype);
  int a, b;
  if (bytes <= 0) return HEBB_OK;
  for (a = 0; a < n; a++) first[a] = hebb_first(ops[a]);
  for (a = 0; a < n; a++)
    for (b = a + 1; b < n; b++)
      if (first[a] < first[b] + bytes && first[b] < first[a] + bytes)
        return hebb_fail(HEBB_ERR_ARG, "%s: the %s and the %s share memory",
                         who, names[a], names[b]);
  return HEBB_OK;
}

int hebb_optim_step(int rule, hebb_tensor *p, const hebb_tensor *g,
                    int nstate, hebb_tensor *const *state,
                    const hebb_optim_hp *hp, const char *who) {
  static const char *const op_names[5] = {
    "parameter", "gradient", "state tensor 1", "state tensor 2",
    "state tensor 3"
  };
  const char *const *state_names = op_names + 2;
  const hebb_tensor *ops[5];
  job j;
  int64_t cost;
  int k, want, st;
  if (rule < 0 || rule >= HEBB_OPT_NRULES)
    return hebb_fail(HEBB_ERR_ARG, "%s: unknown update rule %d", who, rule);
  if (!p) return hebb_fail(HEBB_ERR_ARG, "%s: the parameter is missing", who);
  if (p->dtype != HEBB_F64 && p->dtype != HEBB_F32)
    return hebb_fail(HEBB_ERR_DTYPE,
                     "%s: parameter dtype %s is not supported (f64 or f32)",
                     who, hebb_dtype_name(p->dtype));
  if ((st = check_like(p, p, who, "parameter")) != HEBB_OK) return st;
  if ((st = check_like(p, g, who, "gradient")) != HEBB_OK) return st;
  want = state_count(rule, hp->flags, nstate);
  if (nstate != want)
    return hebb_fail(HEBB_ERR_ARG, "%s: %d state tensors given, %d expected",
                     who, nstate, want);
  for (k = 0; k < nstate; k++)
    if ((st = check_like(p, state[k], who, state_names[k])) != HEBB_OK)
      return st;
  ops[0] = p;
  ops[1] = g;
  for (k = 0; k < nstate; k++) ops[k + 2] = state[k];
  if ((st = check_disjoint(ops, nstate + 2, op_names, who)) != HEBB_OK)
    return st;
  memset(&j, 0, sizeof j);
  j.rule = rule;
  j.f32 = p->dtype == HEBB_F32;
  j.hp = hp;
  j.p = hebb_first(p);
  j.g = hebb_first(g);
  for (k = 0; k < nstate; k++) j.s[k] = hebb_first(state[k]);
  cost = rules[rule].cost;
  if (rule == HEBB_OPT_CGD && (hp->flags & HEBB_OPTF_DIAG) &&
      hp->power != 0.5 && hp->power != 1)
    cost = 16;
  st = hebb_parallel_for(hebb_numel(p), cost, run_range, &j);
  hebb_bump_version(p);
  for (k = 0; k < nstate; k++)
    if (rule != HEBB_OPT_LANGEVIN) hebb_bump_version(state[k]);
  return st;
}
