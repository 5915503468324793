/*
** l_mpi.c -- the module `hebb._mpi`: the C half of hebb.mpi
** (stdlib/hebb/mpi.lua).  Communicators are userdata; their methods move
** bytes (Lua strings, made by io.encode in the Lua layer) and tensors
** (raw elements, in place where MPI works in place).  Arguments are checked
** in mpi.lua, which names the user's call in its messages; here ranks and
** sizes are checked again only so that nothing reaches MPI out of range.
** Scratch buffers are userdata, so an error cannot leak them.
*/
#include <stdio.h>
#include <string.h>

#include "lhebb.h"
#include "mpi.h"

#define COMM_MT "hebb.mpi.Comm"
#define FINAL_KEY "hebb.mpi.finalizer"

typedef struct lcomm {
  hebb_comm *c;
  int owned;   /* 0 for the world */
} lcomm;

static hebb_comm *checkcomm(lua_State *L) {
  lcomm *u = luaL_checkudata(L, 1, COMM_MT);
  if (!u->c) luaL_error(L, "mpi: the communicator was freed");
  return u->c;
}

static void push_comm(lua_State *L, hebb_comm *c, int owned) {
  lcomm *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->c = c;
  u->owned = owned;
  luaL_setmetatable(L, COMM_MT);
}

static int check_rank(lua_State *L, hebb_comm *c, int idx, int any) {
  lua_Integer r = luaL_checkinteger(L, idx);
  if ((any && r == HEBB_MPI_ANY) || (r >= 0 && r < hebb_comm_size(c)))
    return (int)r;
  return luaL_error(L, "mpi: rank %d is outside 0..%d", (int)r,
                    hebb_comm_size(c) - 1);
}

/* a scratch buffer that the collector frees */
static char *scratch(lua_State *L, int64_t n) {
  return lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1), 0);
}

/* --- the process ---------------------------------------------------------- */

static int l_init(lua_State *L) {
  hebbL_check_status(L, hebb_mpi_init());
  push_comm(L, hebb_mpi_world(), 0);
  return 1;
}

static int l_launched(lua_State *L) {
  lua_pushboolean(L, hebb_mpi_launched());
  return 1;
}

static int l_active(lua_State *L) {
  lua_pushboolean(L, hebb_mpi_active());
  return 1;
}

static int l_finalize(lua_State *L) {
  hebbL_check_status(L, hebb_mpi_finalize());
  return 0;
}

static int l_abort(lua_State *L) {
  int code = (int)luaL_optinteger(L, 1, 1);
  fflush(NULL);
  hebb_mpi_abort(code);
  return 0;
}

static int l_wtime(lua_State *L) {
  lua_pushnumber(L, hebb_mpi_wtime());
  return 1;
}

void hebbL_mpi_failed(void) {
  hebb_comm *w = hebb_mpi_world();
  if (hebb_mpi_active() && w && hebb_comm_size(w) > 1) {
    fflush(NULL);
    hebb_mpi_abort(1);
  }
}

/* --- communicators --------------------------------------------------------- */

static int c_rank(lua_State *L) {
  lua_pushinteger(L, hebb_comm_rank(checkcomm(L)));
  return 1;
}

static int c_size(lua_State *L) {
  lua_pushinteger(L, hebb_comm_size(checkcomm(L)));
  return 1;
}

static int c_free(lua_State *L) {
  lcomm *u = luaL_checkudata(L, 1, COMM_MT);
  if (u->owned) hebb_comm_free(u->c);
  u->c = NULL;
  return 0;
}

static int c_barrier(lua_State *L) {
  hebbL_check_status(L, hebb_comm_barrier(checkcomm(L)));
  return 0;
}

static int c_split(lua_State *L) {
  hebb_comm *c = checkcomm(L), *out = NULL;
  lua_Integer color = luaL_checkinteger(L, 2), key = luaL_checkinteger(L, 3);
  luaL_argcheck(L, color < 1 << 30 && key < 1 << 30 && key > -(1 << 30), 2,
                "color and key must fit in int");
  hebbL_check_status(L, hebb_comm_split(c, color < 0 ? -1 : (int)color,
                                        (int)key, &out));
  if (!out) lua_pushnil(L);
  else push_comm(L, out, 1);
  return 1;
}

static int c_dup(lua_State *L) {
  hebb_comm *c = checkcomm(L), *out = NULL;
  hebbL_check_status(L, hebb_comm_dup(c, &out));
  push_comm(L, out, 1);
  return 1;
}

/* --- tensors in place ------------------------------------------------------------- */

/* runs op on a contiguous copy of t when t is not contiguous, and copies
   the result back */
static hebb_tensor *dense(lua_State *L, hebb_tensor *t) {
  hebb_tensor *d = hebb_contiguous(t);
  if (!d) hebbL_raise(L);
  hebbL_push(L, d);   /* the collector releases it */
  return d;
}

static void write_back(lua_State *L, hebb_tensor *t, hebb_tensor *d) {
  if (d != t) hebbL_check_status(L, hebb_copy(t, d));
  hebb_bump_version(t);
}

/* comm:bcast_t(t, root) */
static int c_bcast_t(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  hebb_tensor *t = hebbL_check(L, 2), *d;
  int root = check_rank(L, c, 3, 0);
  d = dense(L, t);
  hebbL_check_status(L, hebb_comm_bcast(c, hebb_data_ptr(d), hebb_numel(d) *
                                        hebb_dtype_size(d->dtype), root));
  write_back(L, t, d);
  lua_settop(L, 2);
  return 1;
}

/* comm:reduce_t(t, op, root): root -1 for every rank */
static int c_reduce_t(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  hebb_tensor *t = hebbL_check(L, 2), *d;
  lua_Integer op = luaL_checkinteger(L, 3);
  int root = lua_tointeger(L, 4) < 0 ? -1 : check_rank(L, c, 4, 0);
  luaL_argcheck(L, op >= 0 && op < HEBB_MPI_NOPS, 3, "unknown reduction");
  d = dense(L, t);
  hebbL_check_status(L, hebb_comm_reduce(c, hebb_data_ptr(d), hebb_numel(d),
                                         d->dtype, (int)op, root));
  write_back(L, t, d);
  lua_settop(L, 2);
  return 1;
}

/* every rank's int64 n, gathered */
static int64_t *all_counts(lua_State *L, hebb_comm *c, int64_t n) {
  int size = hebb_comm_size(c), r;
  int64_t *counts = (int64_t *)(void *)scratch(L, 16 * (int64_t)size);
  int64_t *eight = counts + size;
  for (r = 0; r < size; r++) eight[r] = 8;
  hebbL_check_status(L, hebb_comm_allgatherv(c, &n, 8, counts, eight));
  return counts;
}

/* comm:allgather_t(t [, root]): the ranks' tensors concatenated along the
   first dimension (a 0-d tensor counts as one row), on every rank or on
   root (nil elsewhere).  The trailing shapes and dtypes must agree (mpi.lua
   checks). */
static int c_gather_t(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  hebb_tensor *t = hebbL_check(L, 2), *d, *out = NULL;
  int root = lua_isnoneornil(L, 3) ? -1 : check_rank(L, c, 3, 0);
  int64_t es = hebb_dtype_size(t->dtype), nbytes;
  int64_t rowbytes = es, rows = 0, shape[HEBB_MAXDIM];
  int64_t *counts;
  int k, r, ndim;
  lua_settop(L, 2);   /* root read: the stack now holds scratch values */
  d = dense(L, t);
  nbytes = hebb_numel(d) * es;
  counts = all_counts(L, c, nbytes);
  ndim = d->ndim == 0 ? 1 : d->ndim;
  for (k = 1; k < d->ndim; k++) rowbytes *= d->shape[k];
  for (r = 0; r < hebb_comm_size(c); r++) rows += rowbytes ? counts[r] / rowbytes : 0;
  shape[0] = rows;
  for (k = 1; k < ndim; k++) shape[k] = d->shape[k];
  if (root < 0 || root == hebb_comm_rank(c)) {
    hebbL_newbox(L);
    hebbL_fill_box(L, out = hebb_empty(d->dtype, ndim, shape));
  }
  else lua_pushnil(L);
  hebbL_check_status(L, root < 0 ?
    hebb_comm_allgatherv(c, hebb_data_ptr(d), nbytes, hebb_data_ptr(out), counts) :
    hebb_comm_gatherv(c, hebb_data_ptr(d), nbytes, out ? hebb_data_ptr(out) : NULL,
                      counts, root));
  return 1;
}

/* --- strings ------------------------------------------------------------------------ */

/* comm:bcast_s(s, root): root's string on every rank */
static int c_bcast_s(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  int root = check_rank(L, c, 3, 0);
  size_t len = 0;
  const char *s = hebb_comm_rank(c) == root ? luaL_checklstring(L, 2, &len) : NULL;
  int64_t n = (int64_t)len;
  char *buf;
  hebbL_check_status(L, hebb_comm_bcast(c, &n, 8, root));
  buf = scratch(L, n);
  if (s) memcpy(buf, s, len);
  hebbL_check_status(L, hebb_comm_bcast(c, buf, n, root));
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

static void push_pieces(lua_State *L, const char *buf, const int64_t *counts,
                        int size) {
  int64_t at = 0;
  int r;
  lua_createtable(L, size, 0);
  for (r = 0; r < size; r++) {
    lua_pushlstring(L, buf + at, (size_t)counts[r]);
    lua_rawseti(L, -2, r + 1);
    at += counts[r];
  }
}

/* comm:gather_s(s [, root]): the list of every rank's string, on every
   rank (no root) or on root (nil elsewhere) */
static int c_gather_s(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  int root = lua_isnoneornil(L, 3) ? -1 : check_rank(L, c, 3, 0);
  int size = hebb_comm_size(c), r;
  int64_t *counts = all_counts(L, c, (int64_t)len), total = 0;
  char *buf;
  for (r = 0; r < size; r++) total += counts[r];
  buf = scratch(L, total);
  hebbL_check_status(L, root < 0 ?
    hebb_comm_allgatherv(c, s, (int64_t)len, buf, counts) :
    hebb_comm_gatherv(c, s, (int64_t)len, buf, counts, root));
  if (root >= 0 && root != hebb_comm_rank(c)) lua_pushnil(L);
  else push_pieces(L, buf, counts, size);
  return 1;
}

/* comm:scatter_s(list, root): string r+1 of root's list on rank r */
static int c_scatter_s(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  int root = check_rank(L, c, 3, 0), size = hebb_comm_size(c), r;
  int me = hebb_comm_rank(c) == root;
  int64_t *counts = (int64_t *)(void *)scratch(L, 16 * (int64_t)size);
  int64_t *eight = counts + size, n = 0, total = 0;
  char *send = NULL, *buf;
  for (r = 0; r < size; r++) eight[r] = 8;
  if (me) {
    luaL_checktype(L, 2, LUA_TTABLE);
    for (r = 0; r < size; r++) {
      size_t len;
      lua_rawgeti(L, 2, r + 1);
      luaL_checklstring(L, -1, &len);
      lua_pop(L, 1);
      counts[r] = (int64_t)len;
      total += counts[r];
    }
  }
  hebbL_check_status(L, hebb_comm_scatterv(c, counts, eight, &n, 8, root));
  if (me) {
    int64_t at = 0;
    send = scratch(L, total);
    for (r = 0; r < size; r++) {
      lua_rawgeti(L, 2, r + 1);
      memcpy(send + at, lua_tostring(L, -1), (size_t)counts[r]);
      lua_pop(L, 1);
      at += counts[r];
    }
  }
  buf = scratch(L, n);
  hebbL_check_status(L, hebb_comm_scatterv(c, send, counts, buf, n, root));
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* --- point to point ------------------------------------------------------------- */

static int c_send_s(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  int dest = check_rank(L, c, 3, 0);
  lua_Integer tag = luaL_checkinteger(L, 4);
  luaL_argcheck(L, tag >= 0 && tag < 32768, 4, "tag must be in 0..32767");
  hebbL_check_status(L, hebb_comm_send(c, s, (int64_t)len, dest, (int)tag));
  return 0;
}

/* probes for the message that args 2 (source) and 3 (tag) select */
static bool probe(lua_State *L, hebb_comm *c, bool wait, int *src, int *tag,
                  int64_t *n) {
  int s = check_rank(L, c, 2, 1), t = (int)luaL_checkinteger(L, 3);
  bool found;
  hebbL_check_status(L, hebb_comm_probe(c, s, t, wait, &found, src, tag, n));
  return found;
}

/* comm:probe(src, tag, wait): found, src, tag, bytes */
static int c_probe(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  int so = 0, to = 0;
  int64_t n = 0;
  bool found = probe(L, c, lua_toboolean(L, 4), &so, &to, &n);
  lua_pushboolean(L, found);
  if (!found) return 1;
  lua_pushinteger(L, so);
  lua_pushinteger(L, to);
  lua_pushinteger(L, n);
  return 4;
}

/* comm:recv_s(src, tag): the string, its source and tag */
static int c_recv_s(lua_State *L) {
  hebb_comm *c = checkcomm(L);
  int so = 0, to = 0;
  int64_t n = 0;
  char *buf;
  probe(L, c, true, &so, &to, &n);
  buf = scratch(L, n);
  hebbL_check_status(L, hebb_comm_recv(c, buf, n, so, to));
  lua_pushlstring(L, buf, (size_t)n);
  lua_pushinteger(L, so);
  lua_pushinteger(L, to);
  return 3;
}

static int final_gc(lua_State *L) {
  (void)L;
  hebb_mpi_finalize();
  return 0;
}

static const hebb_lreg mpi_funcs[] = {
  {"init", l_init, HEBB_FN | HEBB_RAW,
   "_mpi.init()\n\nStarts MPI (libmpi when a launcher started the process, "
   "else a world of one rank) and returns the world communicator."},
  {"launched", l_launched, HEBB_FN | HEBB_RAW,
   "_mpi.launched()\n\nWhether mpirun or srun started this process."},
  {"active", l_active, HEBB_FN | HEBB_RAW,
   "_mpi.active()\n\nWhether libmpi is initialized and not finalized."},
  {"finalize", l_finalize, HEBB_FN | HEBB_RAW,
   "_mpi.finalize()\n\nEnds MPI (MPI_Finalize)."},
  {"abort", l_abort, HEBB_FN | HEBB_RAW,
   "_mpi.abort([code])\n\nEnds every rank (MPI_Abort)."},
  {"wtime", l_wtime, HEBB_FN | HEBB_RAW,
   "_mpi.wtime()\n\nSeconds on MPI's wall clock."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__mpi(lua_State *L) {
  static const luaL_Reg comm_methods[] = {
    {"rank", c_rank}, {"size", c_size}, {"free", c_free}, {"barrier", c_barrier},
    {"split", c_split}, {"dup", c_dup}, {"bcast_t", c_bcast_t},
    {"reduce_t", c_reduce_t}, {"gather_t", c_gather_t}, {"bcast_s", c_bcast_s},
    {"gather_s", c_gather_s}, {"scatter_s", c_scatter_s}, {"send_s", c_send_s},
    {"probe", c_probe}, {"recv_s", c_recv_s}, {"__gc", c_free}, {NULL, NULL}
  };
  hebbL_newmodule(L, mpi_funcs,
    "hebb._mpi\n\nC helpers of hebb.mpi: MPI through Debian's OpenMPI, "
    "opened when a launcher started the process.");
  luaL_newmetatable(L, COMM_MT);
  luaL_getmetatable(L, HEBB_TENSOR_MT);   /* upvalue: hebbL_check's type test */
  luaL_setfuncs(L, comm_methods, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  /* MPI_Finalize when the state closes (a normal end; an error ends every
     rank through hebbL_mpi_failed first) */
  if (lua_getfield(L, LUA_REGISTRYINDEX, FINAL_KEY) == LUA_TNIL) {
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, final_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, FINAL_KEY);
  }
  lua_pop(L, 1);
  return 1;
}
