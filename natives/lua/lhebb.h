/*
** lhebb.h -- shared helpers of hebb's Lua 5.4 bindings.
** A binding checks its arguments first (luaL_check* may longjmp), pushes the
** userdata box for its result before the core allocates anything, calls the
** core (which returns a status), and raises the core's message only after
** it has released what it holds.
*/
#ifndef LHEBB_H
#define LHEBB_H

#include "lua.h"
#include "lauxlib.h"

#include "hebb.h"

#define HEBB_TENSOR_MT "hebb.Tensor"

/* where a registered function goes */
enum { HEBB_FN = 1, HEBB_METHOD = 2, HEBB_BOTH = 3, HEBB_META = 4,
       HEBB_RAW = 8 /* bypasses autograd's hook (lifetime, the hook's own) */ };

/* A registration entry: every function gets the tensor metatable as its
   first upvalue (a cheaper type check than a registry lookup by name) and,
   unless HEBB_RAW, the interpreter's hebbL_state as its second; its
   docstring goes to the doc registry that the REPL's `?` reads. */
typedef struct hebb_lreg {
  const char *name;
  lua_CFunction func;
  int where;
  const char *doc;   /* "signature\n\ndescription" */
} hebb_lreg;

/* embedded Lua sources (generated from stdlib/ by tools/embed.c) */
typedef struct hebb_embedded {
  const char *modname;
  const char *chunkname;
  const char *src;
  size_t len;
} hebb_embedded;
extern const hebb_embedded hebb_embedded_sources[];

/* --- l_hebb.c: module plumbing --- */
void hebb_preload(lua_State *L);
int luaopen_hebb(lua_State *L);
int luaopen_hebb_tensor(lua_State *L);
int luaopen_hebb_linalg(lua_State *L);
int luaopen_hebb_sparse(lua_State *L);
int luaopen_hebb_fft(lua_State *L);
int luaopen_hebb__autograd(lua_State *L);
int luaopen_hebb__data(lua_State *L);
int luaopen_hebb__io(lua_State *L);
int luaopen_hebb__optim(lua_State *L);
int luaopen_hebb__notebook(lua_State *L);
/* before a binding opens a file: the notebook runner's file guard records
   the read, the sandbox refuses paths outside its folders (raises) */
void hebbL_checkpath(lua_State *L, const char *path, const char *mode);
int luaopen_hebb__ode(lua_State *L);
int luaopen_hebb__fields(lua_State *L);
int luaopen_hebb__numeric(lua_State *L);
int luaopen_hebb__lattice(lua_State *L);
int luaopen_hebb__stats(lua_State *L);
int luaopen_hebb__sqlite(lua_State *L);
int luaopen_hebb__jobs(lua_State *L);
int luaopen_hebb__mpi(lua_State *L);
int luaopen_hebb__rg(lua_State *L);
int luaopen_hebb__fuse(lua_State *L);
/* l_mpi.c: ends every MPI rank when this one fails (the executable calls
   it before closing the state after an uncaught error) */
void hebbL_mpi_failed(void);
/* registers l[] into the tables at stack indices 'module' and 'methods'
   (absolute); the tensor metatable must be at 'mt' */
void hebbL_register(lua_State *L, const hebb_lreg *l, int module, int methods,
                    int mt);
/* the same with the ops named prefix..name for autograd's rules */
void hebbL_register_as(lua_State *L, const hebb_lreg *l, const char *prefix,
                       int module, int methods, int mt);
void hebbL_setdoc(lua_State *L, int idx, const char *doc);
int hebbL_doc(lua_State *L);   /* hebb.doc(value [, text]) */
int hebbL_newmodule(lua_State *L, const hebb_lreg *l, const char *doc);
int hebbL_run_embedded(lua_State *L, const char *modname, int nargs);
void hebbL_require(lua_State *L, const char *modname);   /* an embedded module */

/* --- l_tensor.c: the tensor userdata --- */
hebb_tensor *hebbL_test(lua_State *L, int idx);    /* NULL if not a tensor */
hebb_tensor *hebbL_check(lua_State *L, int idx);   /* errors if not/freed */
/* Small tensors (l_tensor.c, "the box"): dtype, shape and elements inside
   the box, which has no finalizer.  hebbL_test and hebbL_check move such a
   tensor out first (a heap copy), since the core may keep what they
   return.  The peek forms do not: they give the box's header expanded into
   *scratch (a heap tensor's own header otherwise), for a binding that only
   reads or writes the elements during its call and hands the tensor to no
   core function that may retain it or share its memory. */
hebb_tensor *hebbL_peek(lua_State *L, int idx, hebb_tensor *scratch);
hebb_tensor *hebbL_checkpeek(lua_State *L, int idx, hebb_tensor *scratch);
/* pushes a small box for a contiguous tensor with nbytes of elements (at
   most HEBBL_SMALL_BYTES; the caller writes them through the header it
   returns, *scratch) */
hebb_tensor *hebbL_newsmall(lua_State *L, int dtype, int ndim,
                            const int64_t *shape, int64_t nbytes,
                            hebb_tensor *scratch);
/* pushes small boxes' metatable (upvalue 5 of registered functions) */
void hebbL_push_small_mt(lua_State *L);
#define HEBBL_SMALL_BYTES 256
hebb_tensor **hebbL_newbox(lua_State *L);          /* pushes an empty box */
/* Stores t (a new reference, or NULL after a failed core call) into the box
   on top of the stack; raises the core's error if t is NULL. */
void hebbL_fill_box(lua_State *L, hebb_tensor *t);
void hebbL_push(lua_State *L, hebb_tensor *t);     /* box + fill */
int hebbL_raise(lua_State *L);                     /* the core's last error */
void hebbL_check_status(lua_State *L, int status);
void hebbL_account(lua_State *L, const hebb_tensor *t);   /* tell the GC */

/* A tensor, or a Lua number wrapped as a 0-d "weak" tensor in *scratch
   (whose data lives in *num); raises an error naming 'arg' otherwise. */
typedef union hebb_num { double f; int64_t i; bool b; } hebb_num;
hebb_tensor *hebbL_operand(lua_State *L, int idx, hebb_tensor *scratch,
                           hebb_num *num);
/* 1-based (negative from the end) dimension number -> 0-based */
int hebbL_checkdim(lua_State *L, int idx, int ndim);
int hebbL_optdim(lua_State *L, int idx, int ndim, int def);
/* a dtype name at idx (string), or the 'dtype' field of an options table */
int hebbL_checkdtype(lua_State *L, int idx);
int hebbL_optdtype(lua_State *L, int idx, int def);   /* idx: options table */
/* hebbL_optdtype for a table that may hold dtype only */
int hebbL_dtypeopts(lua_State *L, int idx, int def);
/* the options table at idx (0 if absent or nil); errors on another type */
int hebbL_checkopts(lua_State *L, int idx);
/* raises "<function>: unknown option "x" (did you mean 'y'?)" (the form of
   hebb._error's checkopts) when the table at opts (0: none) has a key not
   in known, a NULL-terminated list */
void hebbL_checkkeys(lua_State *L, int opts, const char *const *known);
/* the options of most functions: {out = t} or {dtype = name} */
extern const char *const hebbL_out_keys[], *const hebbL_dtype_keys[];
/* refuses arguments after the first max (trailing nils aside): a stray
   {out = t} given to a function without one must not be ignored */
void hebbL_noextra(lua_State *L, int max);
/* hebbL_checkopts for a table that may hold out only */
int hebbL_outopts(lua_State *L, int idx);
/* luaL_error with the running function's name in front ("zeros: ...") */
int hebbL_error(lua_State *L, const char *fmt, ...);
/* a shape given as integers from idx on, or as one table at idx; returns
   ndim and sets *next to the index of the first argument after it */
int hebbL_checkshape(lua_State *L, int idx, int64_t *shape, int *next);
/* The result slot of a core call that computes into 'hebb_tensor **out':
   when the options table at 'opts' (0: none) has out = o, sets *res = o and
   pushes o; otherwise sets *res = NULL and pushes an empty box, returned so
   that hebbL_finish can fill it.  The result stays on top of the stack.
   hebbL_finish takes the address of res, so it may be called as
   hebbL_finish(L, box, &res, core(..., &res)) whatever the order in which
   C evaluates the arguments. */
hebb_tensor **hebbL_result_slot(lua_State *L, int opts, hebb_tensor **res);
void hebbL_finish(lua_State *L, hebb_tensor **box, hebb_tensor *const *res,
                  int status);
/* When o = out shares memory with a tensor argument, the slot is a fresh
   result that hebbL_finish copies into o (so the answer is the one without
   out); the ewise variant, for elementwise ops, lets o be the very same
   view as an input.  hebbL_inplace_slot is the slot of an elementwise
   in-place method writing into its receiver (argument 1). */
hebb_tensor **hebbL_ewise_slot(lua_State *L, int opts, hebb_tensor **res);
hebb_tensor **hebbL_inplace_slot(lua_State *L, hebb_tensor **res);
/* the name of the registered function running ("add", "linalg.solve"), or
   "?" outside one */
const char *hebbL_fname(lua_State *L);

/* --- l_random.c --- */
/* the generator (T.Generator) at idx, or the default one when idx holds
   nil or nothing; raises on another value */
hebb_rng *hebbL_togen(lua_State *L, int idx);

/* --- openers of the binding files, called by luaopen_hebb_tensor --- */
void hebbL_open_tensor(lua_State *L, int module, int methods, int mt);
void hebbL_open_create(lua_State *L, int module, int methods, int mt);
void hebbL_open_view(lua_State *L, int module, int methods, int mt);
void hebbL_open_arith(lua_State *L, int module, int methods, int mt);
void hebbL_open_reduce(lua_State *L, int module, int methods, int mt);
void hebbL_open_index(lua_State *L, int module, int methods, int mt);
void hebbL_open_matmul(lua_State *L, int module, int methods, int mt);
void hebbL_open_xent(lua_State *L, int module, int methods, int mt);
void hebbL_open_random(lua_State *L, int module, int methods, int mt);
void hebbL_open_complex(lua_State *L, int module, int methods, int mt);
void hebbL_open_contract(lua_State *L, int module, int methods, int mt);
void hebbL_open_sort(lua_State *L, int module, int methods, int mt);
void hebbL_open_roll(lua_State *L, int module, int methods, int mt);
void hebbL_open_special(lua_State *L, int module, int methods, int mt);

/* --- l_sparse.c: a new sparse matrix (NULL: the core's error) as a
   hebb.sparse matrix; hebb.sparse must be loaded --- */
void hebbL_push_sparse(lua_State *L, hebb_sparse *s);

/* --- l_autograd.c: autograd's recording hook --- */
/* What the bindings keep per lua_State (shared by its coroutines): two
   interpreters in one process have their own grad mode and GC debt. */
typedef struct hebbL_state {
  int grad_enabled;       /* autograd's grad mode */
  int recording;          /* grad mode on and a tracked tensor alive */
  int64_t tracked_live;   /* tensor headers with the tracked flag */
  int64_t gc_pending;     /* new tensor bytes not yet reported to the GC
                             (below 0: bytes freed early, l_free) */
} hebbL_state;
hebbL_state *hebbL_state_of(lua_State *L);   /* made on first use */
/* whether autograd records (hebbL_state_of reads upvalue 2 of a registered
   function: no other closure of the bindings may keep a light userdata
   there) */
#define hebbL_recording(L) (hebbL_state_of(L)->recording)
int hebbL_trampoline(lua_State *L);
/* calls raw (its upvalue 1: the tensor metatable) through the recorder when
   an argument is tracked */
int hebbL_record_call(lua_State *L, const char *name, lua_CFunction raw);
/* clears the tracked flag of a header that loses its last reference */
void hebbL_untrack_last(lua_State *L, hebb_tensor *t);

/* --- l_view.c: t[k] and t[k] = v (k an integer or an index table) --- */
int hebbL_index_get(lua_State *L, hebb_tensor *t, int key);
int hebbL_index_set(lua_State *L, hebb_tensor *t, int key, int val);
/* a 1-based position for a NEW dimension of a tensor that has ndim
   (1..ndim+1, negative from the end: -1 appends) -> 0-based */
int hebbL_checknewdim(lua_State *L, int idx, int ndim, const char *who);

#endif
