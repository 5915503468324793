/*
** fuse.h -- fused elementwise programs (fuse.c), the kernel of T.fuse.
** Internal: declared outside hebb.h's FFI block, so libhebb.so does not
** export it.
**
** A program computes every result element by element from its inputs in
** one pass: instructions on registers of a few hundred elements (so that
** intermediates stay in the first-level cache) instead of one temporary
** tensor per operation.  All registers share one dtype (f32, f64, c64 or
** c128); the operations are the kernels of unary.c and binary.c, so the
** bits are those of the same operations done one by one.
*/
#ifndef HEBB_FUSE_H
#define HEBB_FUSE_H

#include "hebb.h"

/* instruction kinds: LOAD reads leaf a[0] into register dst; UNARY
   applies hebb_unop op to slot a[0]; BINARY applies hebb_binop op
   (arithmetic only: comparisons give bools) to slots a[0] and a[1].  A slot
   is a register (0 .. nregs-1) or a parameter (nregs + k: the k-th number
   of a run).  Real dtypes also have two chains in one instruction, with
   the roundings of the operations one by one: SUM, ((a0 +- a1) +- a2)
   [+- a3] of op+1 registers, bit k-1 of op set where term k is subtracted
   (op >> 4: the count of terms, 3 or 4); AXPY, a0 + a1*a2 (op 0),
   a0 - a1*a2 (op 1), a1*a2 - a0 (op 2) or a1*a2 + a0 (op 3), a2 a
   register or parameter; SUMAXPY, a SUM (op & 255, as SUM's op) then
   + x*y (op bit 8 clear) or - x*y (set), x and y the two operands after
   the terms, y a register or parameter. */
enum { HEBB_FUSE_LOAD = 0, HEBB_FUSE_UNARY = 1, HEBB_FUSE_BINARY = 2,
       HEBB_FUSE_SUM = 3, HEBB_FUSE_AXPY = 4, HEBB_FUSE_SUMAXPY = 5 };

#define HEBB_FUSE_MAXIN 6   /* operands of one instruction */
typedef struct hebb_fuse_ins {
  int32_t kind, op, dst, a[HEBB_FUSE_MAXIN];
} hebb_fuse_ins;

/* an input: argument arg (0-based) rolled by shift[k] along its own
   dimension k (T.roll's sense: element i reads i - shift), broadcast to the
   program's shape */
typedef struct hebb_fuse_leaf {
  int32_t arg;
  int64_t shift[HEBB_MAXDIM];
} hebb_fuse_leaf;

typedef struct hebb_fuse_spec {
  int dtype;
  int ndim;                      /* the shape of every result */
  const int64_t *shape;
  int nargs;                     /* the tensors of a run, their shapes */
  const int *argndim;
  const int64_t *argshape;       /* nargs rows of HEBB_MAXDIM */
  int nleaves;
  const hebb_fuse_leaf *leaves;
  int nins;
  const hebb_fuse_ins *ins;
  int nregs, nparams;
  int nouts;                     /* results: register outreg[i] goes to a */
  const int32_t *outreg;         /* new tensor (outarg[i] < 0) or into */
  const int32_t *outarg;         /* argument outarg[i] (in place) */
} hebb_fuse_spec;

typedef struct hebb_fuse hebb_fuse;

/* checks the spec (errors name the instruction and the values); NULL on
   failure */
hebb_fuse *hebb_fuse_new(const hebb_fuse_spec *spec);
void hebb_fuse_free(hebb_fuse *f);
/* the number of new tensors a run makes */
int hebb_fuse_nresults(const hebb_fuse *f);
/* errors naming the values when args (nargs tensors) do not have the
   program's dtype and shapes, or nparams is not its count of numbers */
hebb_status hebb_fuse_check_args(const hebb_fuse *f, int nargs,
                                 hebb_tensor *const *args);
hebb_status hebb_fuse_check_params(const hebb_fuse *f, int nparams);
/* whether an argument the program writes shares memory with another
   argument: the program assumes distinct arguments, so the caller must then
   evaluate the operations one by one */
bool hebb_fuse_aliased(const hebb_fuse *f, hebb_tensor *const *args);
/* Runs the program on args (nargs tensors of the spec's dtype and shapes)
   and params (nparams numbers, converted to the dtype as a Lua number
   meeting a tensor is); results[i] receives the i-th new tensor.  An
   argument written in place that is also read at other positions (rolled)
   is written through a temporary after the pass.  Nothing is written on
   failure before the checks pass. */
hebb_status hebb_fuse_run(const hebb_fuse *f, int nargs,
                          hebb_tensor *const *args, const double *params,
                          hebb_tensor **results);

#endif
