/*
** mpi.c -- MPI through Debian's OpenMPI (libmpi.so.40), opened with dlopen
** only in a process that a launcher started: most runs of hebb are one
** process, and loading libmpi costs ~40 ms and starts OpenMPI's helper
** threads.  A process nobody launched is a world of one rank without the
** library (an MPI "singleton" init took 1.6 s here: it starts a daemon).
**
** OpenMPI's handles are pointers, and its predefined ones (MPI_COMM_WORLD,
** MPI_DOUBLE, MPI_SUM, MPI_ERRORS_RETURN ...) are macros for the addresses
** of global objects (ompi_mpi_comm_world ...), which dlsym gives directly.
** libmpi is opened RTLD_GLOBAL: its plugins (mca_*.so) resolve symbols of
** libmpi and open-pal against the global namespace.
**
** Every communicator returns errors instead of aborting (MPI_ERRORS_RETURN),
** so a failed call becomes a Lua error naming it.  Counts in MPI are int:
** broadcasts and reductions go in pieces of at most 2^30 elements; the
** gathers and point-to-point messages are limited to 2 GiB per rank.
*/
#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "mpi.h"

#ifndef HEBB_MPI_LIB
#define HEBB_MPI_LIB "libmpi.so.40"
#endif

typedef void *handle;   /* MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler */
typedef struct mpi_status {   /* OpenMPI's MPI_Status */
  int source, tag, error, cancelled;
  size_t ucount;
} mpi_status;

enum { THREAD_FUNNELED = 1, UNDEFINED = -32766, MAX_ERROR_STRING = 256 };
#define PIECE ((int64_t)1 << 30)

typedef struct mpi_api {
  int (*Initialized)(int *);
  int (*Finalized)(int *);
  int (*Init_thread)(int *, char ***, int, int *);
  int (*Finalize)(void);
  int (*Abort)(handle, int);
  int (*Comm_rank)(handle, int *);
  int (*Comm_size)(handle, int *);
  int (*Comm_set_errhandler)(handle, handle);
  int (*Error_string)(int, char *, int *);
  int (*Barrier)(handle);
  int (*Bcast)(void *, int, handle, int, handle);
  int (*Reduce)(const void *, void *, int, handle, handle, int, handle);
  int (*Allreduce)(const void *, void *, int, handle, handle, handle);
  int (*Allgatherv)(const void *, int, handle, void *, const int *,
                    const int *, handle, handle);
  int (*Gatherv)(const void *, int, handle, void *, const int *, const int *,
                 handle, int, handle);
  int (*Scatterv)(const void *, const int *, const int *, handle, void *, int,
                  handle, int, handle);
  int (*Send)(const void *, int, handle, int, int, handle);
  int (*Recv)(void *, int, handle, int, int, handle, mpi_status *);
  int (*Probe)(int, int, handle, mpi_status *);
  int (*Iprobe)(int, int, handle, int *, mpi_status *);
  int (*Get_count)(const mpi_status *, handle, int *);
  int (*Comm_split)(handle, int, int, handle *);
  int (*Comm_dup)(handle, handle *);
  int (*Comm_free)(handle *);
  double (*Wtime)(void);
  /* the predefined objects */
  char *comm_world, *byte, *dbl, *flt, *i64, *cbool, *cdbl, *cflt;
  char *op_sum, *op_prod, *op_max, *op_min, *op_land, *op_lor, *errors_return;
} mpi_api;

#define FN(f) {"MPI_" #f, offsetof(mpi_api, f)}
#define OBJ(f, s) {s, offsetof(mpi_api, f)}
static const struct { const char *name; size_t off; } syms[] = {
  FN(Initialized), FN(Finalized), FN(Init_thread), FN(Finalize), FN(Abort),
  FN(Comm_rank), FN(Comm_size), FN(Comm_set_errhandler), FN(Error_string),
  FN(Barrier), FN(Bcast), FN(Reduce), FN(Allreduce), FN(Allgatherv),
  FN(Gatherv), FN(Scatterv), FN(Send), FN(Recv), FN(Probe), FN(Iprobe),
  FN(Get_count), FN(Comm_split), FN(Comm_dup), FN(Comm_free), FN(Wtime),
  OBJ(comm_world, "ompi_mpi_comm_world"), OBJ(byte, "ompi_mpi_byte"),
  OBJ(dbl, "ompi_mpi_double"), OBJ(flt, "ompi_mpi_float"),
  OBJ(i64, "ompi_mpi_int64_t"), OBJ(cbool, "ompi_mpi_c_bool"),
  OBJ(cdbl, "ompi_mpi_c_double_complex"), OBJ(cflt, "ompi_mpi_c_float_complex"),
  OBJ(op_sum, "ompi_mpi_op_sum"), OBJ(op_prod, "ompi_mpi_op_prod"),
  OBJ(op_max, "ompi_mpi_op_max"), OBJ(op_min, "ompi_mpi_op_min"),
  OBJ(op_land, "ompi_mpi_op_land"), OBJ(op_lor, "ompi_mpi_op_lor"),
  OBJ(errors_return, "ompi_mpi_errors_return"), {NULL, 0}
};
#undef FN
#undef OBJ

static mpi_api api;
static const mpi_api *M;   /* set while libmpi is initialized */
static bool finalized;

struct hebb_comm {
  handle h;        /* NULL in a world of one rank without libmpi */
  int rank, size;
};
static hebb_comm world;
static bool ready;

/* --- errors ---------------------------------------------------------------- */

static int fail(const char *fn, int rc) {
  char msg[MAX_ERROR_STRING + 1] = "";
  int len = 0;
  if (M->Error_string(rc, msg, &len) != 0) snprintf(msg, sizeof msg, "error %d", rc);
  return hebb_fail(HEBB_ERR_IO, "MPI_%s: %s", fn, msg);
}
#define CALL(fn, args) do { int rc_ = M->fn args; \
  if (rc_ != 0) return fail(#fn, rc_); } while (0)

/* --- start and end -------------------------------------------------------- */

bool hebb_mpi_launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                     "PMI_RANK", "HEBB_MPI", NULL};
  int i;
  for (i = 0; vars[i]; i++)
    if (getenv(vars[i]) && *getenv(vars[i])) return true;
  return false;
}

static int load(void) {
  void *lib = dlopen(HEBB_MPI_LIB, RTLD_NOW | RTLD_GLOBAL);
  int i;
  if (!lib)
    return hebb_fail(HEBB_ERR_UNSUPPORTED, "started by an MPI launcher, but "
                     "cannot load %s (%s); install libopenmpi3", HEBB_MPI_LIB,
                     dlerror());
  for (i = 0; syms[i].name; i++) {
    void *s = dlsym(lib, syms[i].name);
    if (!s)
      return hebb_fail(HEBB_ERR_UNSUPPORTED, "%s has no symbol %s (hebb "
                       "needs OpenMPI)", HEBB_MPI_LIB, syms[i].name);
    *(void **)((char *)&api + syms[i].off) = s;
  }
  return HEBB_OK;
}

static int start_mpi(void) {
  int flag = 0, provided = 0, st = load();
  if (st) return st;
  M = &api;
  CALL(Initialized, (&flag));
  if (!flag) CALL(Init_thread, (NULL, NULL, THREAD_FUNNELED, &provided));
  world.h = M->comm_world;
  CALL(Comm_set_errhandler, (world.h, M->errors_return));
  CALL(Comm_rank, (world.h, &world.rank));
  CALL(Comm_size, (world.h, &world.size));
  return HEBB_OK;
}

int hebb_mpi_init(void) {
  int st;
  if (ready) return HEBB_OK;
  if (finalized)
    return hebb_fail(HEBB_ERR_ARG, "MPI was finalized; it cannot start again");
  world.h = NULL;
  world.rank = 0;
  world.size = 1;
  if (hebb_mpi_launched() && (st = start_mpi()) != HEBB_OK) {
    M = NULL;
    return st;
  }
  ready = true;
  return HEBB_OK;
}

bool hebb_mpi_active(void) { return M != NULL && !finalized; }
hebb_comm *hebb_mpi_world(void) { return ready ? &world : NULL; }

int hebb_mpi_finalize(void) {
  int flag = 0;
  if (!hebb_mpi_active()) return HEBB_OK;
  finalized = true;
  ready = false;
  CALL(Finalized, (&flag));
  if (!flag) CALL(Finalize, ());
  return HEBB_OK;
}

void hebb_mpi_abort(int code) {
  if (hebb_mpi_active()) M->Abort(world.h, code);
}

double hebb_mpi_wtime(void) {
  struct timespec ts;
  if (hebb_mpi_active()) return M->Wtime();
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --- communicators ----------------------------------------------------- */

int hebb_comm_rank(const hebb_comm *c) { return c->rank; }
int hebb_comm_size(const hebb_comm *c) { return c->size; }

static int wrap(handle h, hebb_comm **out) {
  hebb_comm *c = calloc(1, sizeof *c);
  if (!c) return hebb_fail(HEBB_ERR_NOMEM, "out of memory");
  c->h = h;
  c->size = 1;
  if (h) {
    CALL(Comm_set_errhandler, (h, M->errors_return));
    CALL(Comm_rank, (h, &c->rank));
    CALL(Comm_size, (h, &c->size));
  }
  *out = c;
  return HEBB_OK;
}

int hebb_comm_split(hebb_comm *c, int color, int key, hebb_comm **out) {
  handle h = NULL;
  *out = NULL;
  if (!c->h) return color < 0 ? HEBB_OK : wrap(NULL, out);
  CALL(Comm_split, (c->h, color < 0 ? UNDEFINED : color, key, &h));
  return color < 0 ? HEBB_OK : wrap(h, out);
}

int hebb_comm_dup(hebb_comm *c, hebb_comm **out) {
  handle h = NULL;
  if (c->h) CALL(Comm_dup, (c->h, &h));
  return wrap(h, out);
}

void hebb_comm_free(hebb_comm *c) {
  if (!c || c == &world) return;
  if (c->h && hebb_mpi_active()) M->Comm_free(&c->h);
  free(c);
}

/* --- collectives --------------------------------------------------------- */

int hebb_comm_barrier(hebb_comm *c) {
  if (c->h) CALL(Barrier, (c->h));
  return HEBB_OK;
}

int hebb_comm_bcast(hebb_comm *c, void *p, int64_t nbytes, int root) {
  int64_t at;
  if (!c->h) return HEBB_OK;
  for (at = 0; at < nbytes; at += PIECE) {
    int64_t n = nbytes - at < PIECE ? nbytes - at : PIECE;
    CALL(Bcast, ((char *)p + at, (int)n, M->byte, root, c->h));
  }
  return HEBB_OK;
}

static handle dtype_of(int dtype) {
  switch (dtype) {
    case HEBB_F64: return M->dbl;
    case HEBB_F32: return M->flt;
    case HEBB_I64: return M->i64;
    case HEBB_BOOL: return M->cbool;
    case HEBB_C128: return M->cdbl;
    default: return M->cflt;
  }
}

static handle op_of(int op) {
  handle ops[HEBB_MPI_NOPS];
  ops[HEBB_MPI_SUM] = M->op_sum;
  ops[HEBB_MPI_PROD] = M->op_prod;
  ops[HEBB_MPI_MAX] = M->op_max;
  ops[HEBB_MPI_MIN] = M->op_min;
  ops[HEBB_MPI_LAND] = M->op_land;
  ops[HEBB_MPI_LOR] = M->op_lor;
  return ops[op];
}

/* MPI_IN_PLACE is (void *)1 in OpenMPI */
#define IN_PLACE ((void *)1)

int hebb_comm_reduce(hebb_comm *c, void *p, int64_t n, int dtype, int op,
                     int root) {
  int64_t at, es = hebb_dtype_size(dtype);
  if (!c->h) return HEBB_OK;
  for (at = 0; at < n; at += PIECE) {
    char *q = (char *)p + at * es;
    int k = (int)(n - at < PIECE ? n - at : PIECE);
    if (root < 0)
      CALL(Allreduce, (IN_PLACE, q, k, dtype_of(dtype), op_of(op), c->h));
    else if (root == c->rank)
      CALL(Reduce, (IN_PLACE, q, k, dtype_of(dtype), op_of(op), root, c->h));
    else
      CALL(Reduce, (q, NULL, k, dtype_of(dtype), op_of(op), root, c->h));
  }
  return HEBB_OK;
}

/* int counts and displacements for the v-collectives; fails above 2 GiB */
static int int_counts(const hebb_comm *c, const int64_t *counts, int **cnt,
                      int **disp, const char *who) {
  int64_t total = 0;
  int r;
  *cnt = malloc(2 * (size_t)c->size * sizeof **cnt);
  if (!*cnt) return hebb_fail(HEBB_ERR_NOMEM, "out of memory");
  *disp = *cnt + c->size;
  for (r = 0; r < c->size; r++) {
    if (counts[r] < 0 || counts[r] > INT_MAX || total > INT_MAX) {
      free(*cnt);
      return hebb_fail(HEBB_ERR_ARG, "%s: more than 2 GiB in one message is "
                       "not supported", who);
    }
    (*cnt)[r] = (int)counts[r];
    (*disp)[r] = (int)total;
    total += counts[r];
  }
  return HEBB_OK;
}

/* in a world of one rank, the gathers and the scatter are one copy */
static void self_copy(void *dst, const void *src, int64_t n) {
  if (n > 0 && dst != src) memmove(dst, src, (size_t)n);
}

int hebb_comm_allgatherv(hebb_comm *c, const void *send, int64_t nbytes,
                         void *recv, const int64_t *counts) {
  int *cnt, *disp, rc;
  if (!c->h) {
    self_copy(recv, send, nbytes);
    return HEBB_OK;
  }
  if ((rc = int_counts(c, counts, &cnt, &disp, "allgather")) != HEBB_OK)
    return rc;
  rc = M->Allgatherv(send, (int)nbytes, M->byte, recv, cnt, disp, M->byte, c->h);
  free(cnt);
  return rc ? fail("Allgatherv", rc) : HEBB_OK;
}

/* the int counts of a gather or scatter on root (*cnt NULL elsewhere), and
   this rank's own message size checked */
static int v_counts(const hebb_comm *c, const int64_t *counts, int64_t nbytes,
                    int root, int **cnt, int **disp, const char *who) {
  int rc;
  *cnt = *disp = NULL;
  if (c->rank == root && (rc = int_counts(c, counts, cnt, disp, who)) != HEBB_OK)
    return rc;
  if (nbytes <= INT_MAX) return HEBB_OK;
  free(*cnt);
  return hebb_fail(HEBB_ERR_ARG, "%s: more than 2 GiB in one message is not "
                   "supported", who);
}

int hebb_comm_gatherv(hebb_comm *c, const void *send, int64_t nbytes,
                      void *recv, const int64_t *counts, int root) {
  int *cnt, *disp, rc;
  if (!c->h) {
    self_copy(recv, send, nbytes);
    return HEBB_OK;
  }
  if ((rc = v_counts(c, counts, nbytes, root, &cnt, &disp, "gather")) != HEBB_OK)
    return rc;
  rc = M->Gatherv(send, (int)nbytes, M->byte, recv, cnt, disp, M->byte, root,
                  c->h);
  free(cnt);
  return rc ? fail("Gatherv", rc) : HEBB_OK;
}

int hebb_comm_scatterv(hebb_comm *c, const void *send, const int64_t *counts,
                       void *recv, int64_t nbytes, int root) {
  int *cnt, *disp, rc;
  if (!c->h) {
    self_copy(recv, send, nbytes);
    return HEBB_OK;
  }
  if ((rc = v_counts(c, counts, nbytes, root, &cnt, &disp, "scatter")) != HEBB_OK)
    return rc;
  rc = M->Scatterv(send, cnt, disp, M->byte, recv, (int)nbytes, M->byte, root,
                   c->h);
  free(cnt);
  return rc ? fail("Scatterv", rc) : HEBB_OK;
}

/* --- point to point --------------------------------------------------------- */

static int no_peer(const char *who) {
  return hebb_fail(HEBB_ERR_ARG, "%s: this is a world of one rank (run under "
                   "mpirun for more)", who);
}

int hebb_comm_send(hebb_comm *c, const void *p, int64_t nbytes, int dest,
                   int tag) {
  if (!c->h) return no_peer("send");
  if (nbytes > INT_MAX)
    return hebb_fail(HEBB_ERR_ARG, "send: more than 2 GiB in one message is "
                     "not supported");
  CALL(Send, (p, (int)nbytes, M->byte, dest, tag, c->h));
  return HEBB_OK;
}

int hebb_comm_probe(hebb_comm *c, int src, int tag, bool wait, bool *found,
                    int *src_out, int *tag_out, int64_t *nbytes) {
  mpi_status s;
  int flag = 1, n = 0;
  if (!c->h) {
    if (wait) return no_peer("recv");
    *found = false;
    return HEBB_OK;
  }
  if (wait) CALL(Probe, (src, tag, c->h, &s));
  else CALL(Iprobe, (src, tag, c->h, &flag, &s));
  *found = flag != 0;
  if (!*found) return HEBB_OK;
  CALL(Get_count, (&s, M->byte, &n));
  *src_out = s.source;
  *tag_out = s.tag;
  *nbytes = n;
  return HEBB_OK;
}

int hebb_comm_recv(hebb_comm *c, void *p, int64_t nbytes, int src, int tag) {
  if (!c->h) return no_peer("recv");
  CALL(Recv, (p, (int)nbytes, M->byte, src, tag, c->h, NULL));
  return HEBB_OK;
}
