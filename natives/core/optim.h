/*
** optim.h -- fused update kernels of hebb.optim (natives/core/optim.c).
** Each kernel reads and writes every element of the parameter, its gradient
** and its state tensors once.  All operands are contiguous tensors of one
** shape and one dtype (f64 or f32); the kernels check that before writing
** anything and fail with a message naming the shapes and dtypes.
*/
#ifndef HEBB_OPTIM_H
#define HEBB_OPTIM_H

#include "hebb.h"

/* the update rules; the state tensors each one takes, in order */
typedef enum hebb_optim_rule {
  HEBB_OPT_SGD = 0,    /* [momentum buffer]              */
  HEBB_OPT_ADAM,       /* m, v [, vmax (amsgrad)]        */
  HEBB_OPT_RMSPROP,    /* square_avg [, buf] [, grad_avg]: see flags */
  HEBB_OPT_ADAGRAD,    /* sum                            */
  HEBB_OPT_CGD,        /* m1 [, m2 (metric diag)]        */
  HEBB_OPT_LANGEVIN,   /* noise (standard normal)        */
  HEBB_OPT_AXPBY,      /* none: p <- alpha p + beta g    */
  HEBB_OPT_NRULES
} hebb_optim_rule;

enum {
  HEBB_OPTF_NESTEROV = 1,    /* SGD */
  HEBB_OPTF_FIRST = 2,       /* SGD/RMSProp: the momentum buffer starts now */
  HEBB_OPTF_DECOUPLED = 4,   /* Adam: AdamW's decay p *= 1 - lr wd */
  HEBB_OPTF_AMSGRAD = 8,     /* Adam */
  HEBB_OPTF_CENTERED = 16,   /* RMSProp */
  HEBB_OPTF_MOMENTUM = 32,   /* RMSProp: a momentum buffer is given */
  HEBB_OPTF_DIAG = 64        /* CGD: diagonal metric (else identity) */
};

/* The hyper-parameters of one step; each rule reads the fields it needs. */
typedef struct hebb_optim_hp {
  double lr;
  double weight_decay;
  double momentum, dampening;   /* SGD; RMSProp's momentum */
  double beta1, beta2;          /* Adam: averaging weights; RMSProp: alpha
                                   in beta2; CGD: tau/(1+tau) of M1, M2 */
  double new1, new2;            /* CGD: 1/(1+tau), the newest value's weight */
  double eps;
  double bc1, bc2;              /* bias corrections 1 - beta^t */
  double power;                 /* CGD: the metric is M2hat^power + eps */
  double alpha, beta;           /* AXPBY; LANGEVIN: noise scale in beta */
  int flags;                    /* HEBB_OPTF_* */
} hebb_optim_hp;

/* One update of p from its gradient g with the nstate state tensors of
   'rule'.  'who' names the optimizer in
   messages.  Bumps the version counters of the tensors it writes. */
int hebb_optim_step(int rule, hebb_tensor *p, const hebb_tensor *g,
                    int nstate, hebb_tensor *const *state,
                    const hebb_optim_hp *hp, const char *who);

#endif
