/*
** l_io.c -- the module `hebb._io`: the C half of hebb.io
** (stdlib/hebb/io.lua) over natives/core/io_*.c.  A checkpoint is written
** through a writer that io.lua feeds in prefix order, and read back here:
** the core validates the whole file first, then yields its values, which
** this file assembles into tables.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lhebb.h"
#include "io.h"

#define WRITER_MT "hebb.io.Writer"
#define READER_MT "hebb.io.Reader"

/* the max_bytes option at idx: nil (the default), a non-negative integer,
   or math.huge (no limit) */
static int64_t opt_max_bytes(lua_State *L, int idx) {
  lua_Number x;
  if (lua_isnoneornil(L, idx)) return -1;
  if (lua_isinteger(L, idx)) {
    lua_Integer n = lua_tointeger(L, idx);
    luaL_argcheck(L, n >= 0, idx, "max_bytes must be >= 0");
    return (int64_t)n;
  }
  x = luaL_checknumber(L, idx);
  luaL_argcheck(L, x == HUGE_VAL, idx, "max_bytes must be an integer or "
                "math.huge");
  return INT64_MAX;
}

/* --- the writer ----------------------------------------------------------- */

static hebb_ckpt **checkwriter(lua_State *L) {
  hebb_ckpt **w = luaL_checkudata(L, 1, WRITER_MT);
  if (!*w) luaL_error(L, "io: the writer was freed");
  return w;
}

static int w_new(lua_State *L) {
  hebb_ckpt **w = lua_newuserdatauv(L, sizeof *w, 0);
  *w = NULL;
  luaL_setmetatable(L, WRITER_MT);
  if (!(*w = hebb_ckpt_writer())) return hebbL_raise(L);
  return 1;
}

static int w_free(lua_State *L) {
  hebb_ckpt **w = luaL_checkudata(L, 1, WRITER_MT);
  hebb_ckpt_free(*w);
  *w = NULL;
  return 0;
}

/* w:put(v): nil, a boolean, a number, a string or a tensor */
static int w_put(lua_State *L) {
  hebb_ckpt *w = *checkwriter(L);
  size_t len;
  const char *s;
  int st;
  switch (lua_type(L, 2)) {
    case LUA_TNIL: case LUA_TNONE: st = hebb_ckpt_put(w, HEBB_CK_NIL, 0, 0); break;
    case LUA_TBOOLEAN:
      st = hebb_ckpt_put(w, lua_toboolean(L, 2) ? HEBB_CK_TRUE : HEBB_CK_FALSE,
                         0, 0);
      break;
    case LUA_TNUMBER:
      st = lua_isinteger(L, 2) ?
           hebb_ckpt_put(w, HEBB_CK_INT, (int64_t)lua_tointeger(L, 2), 0) :
           hebb_ckpt_put(w, HEBB_CK_FLOAT, 0, (double)lua_tonumber(L, 2));
      break;
    case LUA_TSTRING:
      s = lua_tolstring(L, 2, &len);
      st = hebb_ckpt_put_string(w, s, (int64_t)len);
      break;
    default: st = hebb_ckpt_put_tensor(w, hebbL_check(L, 2));
  }
  hebbL_check_status(L, st);
  return 0;
}

/* w:open(kind, n): a table of n pairs ("table") or a list of n ("list") */
static int w_open(lua_State *L) {
  static const char *const kinds[] = {"table", "list", NULL};
  hebb_ckpt *w = *checkwriter(L);
  int kind = luaL_checkoption(L, 2, NULL, kinds) ? HEBB_CK_LIST : HEBB_CK_TABLE;
  lua_Integer n = luaL_checkinteger(L, 3);
  hebbL_check_status(L, hebb_ckpt_put(w, kind, (int64_t)n, 0));
  return 0;
}

static int w_save(lua_State *L) {
  hebb_ckpt *w = *checkwriter(L);
  const char *path = luaL_checkstring(L, 2);
  hebbL_checkpath(L, path, "w");
  hebbL_check_status(L, hebb_ckpt_save(w, path));
  return 0;
}

static int w_encode(lua_State *L) {
  hebb_ckpt *w = *checkwriter(L);
  int64_t n = hebb_ckpt_encoded_size(w);
  luaL_Buffer b;
  char *p;
  if (n < 0) return hebbL_raise(L);
  p = luaL_buffinitsize(L, &b, (size_t)n);
  hebbL_check_status(L, hebb_ckpt_encode(w, p, n));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* --- the reader ----------------------------------------------------------- */

static int r_free(lua_State *L) {
  hebb_ckpt **r = luaL_checkudata(L, 1, READER_MT);
  hebb_ckpt_free(*r);
  *r = NULL;
  return 0;
}

/* The open tables and lists live in a Lua table ('frames', four slots a
   level: the container, the items it still expects, its next index (a
   list) or false (a table), and a table's pending key), so a value nested
   a million deep costs heap, not C stack or Lua stack. */
typedef struct builder {
  lua_State *L;
  hebb_ckpt *r;
  int frames, root;
  lua_Integer depth;
} builder;

enum { F_CONTAINER = 1, F_LEFT, F_INDEX, F_KEY, F_SLOTS = 4 };

static int frame_get(builder *b, int slot) {
  return lua_rawgeti(b->L, b->frames, F_SLOTS * (b->depth - 1) + slot);
}

static void frame_set(builder *b, int slot) {
  lua_rawseti(b->L, b->frames, F_SLOTS * (b->depth - 1) + slot);
}

static lua_Integer frame_int(builder *b, int slot) {
  lua_Integer v;
  frame_get(b, slot);
  v = lua_tointeger(b->L, -1);
  lua_pop(b->L, 1);
  return v;
}

static void frame_setint(builder *b, int slot, lua_Integer v) {
  lua_pushinteger(b->L, v);
  frame_set(b, slot);
}

/* [value key table] -> table[key] = value, unless key is there already */
static void set_field(builder *b) {
  lua_State *L = b->L;
  lua_pushvalue(L, -2);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_pop(L, 2);
    luaL_tolstring(L, -1, NULL);
    luaL_error(L, "%s, byte %I: the key %s appears twice",
               hebb_ckpt_name(b->r), (lua_Integer)hebb_ckpt_offset(b->r),
               lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -4);
  lua_rawset(L, -3);
  lua_pop(L, 3);
}

/* stores the value on top of the stack in the open container (or as the
   result), counting it; closes the containers that are full */
static void place(builder *b) {
  lua_State *L = b->L;
  lua_Integer next;
  if (b->depth == 0) {
    lua_replace(L, b->root);
    return;
  }
  if ((next = frame_int(b, F_INDEX)) > 0) {          /* a list */
    frame_get(b, F_CONTAINER);
    lua_insert(L, -2);
    lua_rawseti(L, -2, next);
    lua_pop(L, 1);
    frame_setint(b, F_INDEX, next + 1);
  } else if (frame_get(b, F_KEY) == LUA_TNIL) {      /* a table's key */
    lua_pop(L, 1);
    frame_set(b, F_KEY);
  } else {                                           /* its value */
    frame_get(b, F_CONTAINER);
    set_field(b);
    lua_pushnil(L);
    frame_set(b, F_KEY);
  }
  frame_setint(b, F_LEFT, frame_int(b, F_LEFT) - 1);
  while (b->depth > 0 && frame_int(b, F_LEFT) == 0) {
    lua_pushnil(L);
    frame_set(b, F_CONTAINER);
    b->depth--;
  }
}

/* a new container with n items: placed in its parent, then opened */
static void open_container(builder *b, int kind, int64_t n) {
  lua_State *L = b->L;
  bool list = kind == HEBB_CK_LIST;
  lua_createtable(L, list ? (int)(n < (1 << 24) ? n : 1 << 24) : 0,
                  list ? 0 : (int)(n < (1 << 24) ? n : 1 << 24));
  lua_pushvalue(L, -1);
  place(b);
  if (n == 0) {
    lua_pop(L, 1);
    return;
  }
  b->depth++;
  frame_set(b, F_CONTAINER);
  frame_setint(b, F_LEFT, list ? n : 2 * n);
  frame_setint(b, F_INDEX, list ? 1 : 0);
  lua_pushnil(L);
  frame_set(b, F_KEY);
}

static void push_item(builder *b, int kind, int64_t n, double f,
                      const char *s) {
  lua_State *L = b->L;
  switch (kind) {
    case HEBB_CK_NIL: lua_pushnil(L); break;
    case HEBB_CK_FALSE: case HEBB_CK_TRUE:
      lua_pushboolean(L, kind == HEBB_CK_TRUE);
      break;
    case HEBB_CK_INT: lua_pushinteger(L, (lua_Integer)n); break;
    case HEBB_CK_FLOAT: lua_pushnumber(L, (lua_Number)f); break;
    case HEBB_CK_STRING: lua_pushlstring(L, s, (size_t)n); break;
    default:
      hebbL_newbox(L);
      hebbL_fill_box(L, hebb_ckpt_tensor(b->r));
  }
}

/* reads every value of r into the result; leaves it on top */
static int build(lua_State *L, hebb_ckpt *r) {
  builder b = {L, r, 0, 0, 0};
  int kind;
  int64_t n;
  double f;
  const char *s;
  lua_newtable(L);
  b.frames = lua_gettop(L);
  lua_pushnil(L);
  b.root = lua_gettop(L);
  luaL_checkstack(L, 8, "io.load");
  for (;;) {
    hebbL_check_status(L, hebb_ckpt_next(r, &kind, &n, &f, &s));
    if (kind == HEBB_CK_END) break;
    if (kind == HEBB_CK_TABLE || kind == HEBB_CK_LIST) {
      open_container(&b, kind, n);
      continue;
    }
    push_item(&b, kind, n, f, s);
    place(&b);
  }
  return 1;
}

/* the reader in a to-be-closed userdata, so an error frees it at once */
static hebb_ckpt **new_reader(lua_State *L) {
  hebb_ckpt **r = lua_newuserdatauv(L, sizeof *r, 0);
  *r = NULL;
  luaL_setmetatable(L, READER_MT);
  lua_toclose(L, -1);
  return r;
}

static int l_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "r");
  int64_t max_bytes = opt_max_bytes(L, 2);
  hebb_ckpt **r = new_reader(L);
  if (!(*r = hebb_ckpt_load(path, max_bytes))) return hebbL_raise(L);
  return build(L, *r);
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int64_t max_bytes = opt_max_bytes(L, 2);
  hebb_ckpt **r = new_reader(L);
  if (!(*r = hebb_ckpt_decode(s, (int64_t)len, max_bytes)))
    return hebbL_raise(L);
  return build(L, *r);
}

/* --- numpy files ------------------------------------------------------------ */

#define NPZ_MT "hebb.io.Npz"

static int l_load_npy(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "r");
  bool map = lua_toboolean(L, 2);
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_npy_load(path, map));
  return 1;
}

static int l_save_npy(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "w");
  hebbL_check_status(L, hebb_npy_save(path, hebbL_check(L, 2)));
  return 0;
}

static int z_free(lua_State *L) {
  hebb_npz **z = luaL_checkudata(L, 1, NPZ_MT);
  hebb_npz_free(*z);
  *z = NULL;
  return 0;
}

static hebb_npz **new_npz(lua_State *L) {
  hebb_npz **z = lua_newuserdatauv(L, sizeof *z, 0);
  *z = NULL;
  luaL_setmetatable(L, NPZ_MT);
  lua_toclose(L, -1);
  return z;
}

/* every member, as a table name -> tensor (names without ".npy") */
static int l_load_npz(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "r");
  int64_t max_bytes = opt_max_bytes(L, 2), i;
  hebb_npz **z = new_npz(L);
  if (!(*z = hebb_npz_open(path, max_bytes))) return hebbL_raise(L);
  lua_createtable(L, 0, (int)hebb_npz_count(*z));
  for (i = 0; i < hebb_npz_count(*z); i++) {
    const char *name = hebb_npz_name(*z, i);
    lua_pushlstring(L, name, strlen(name) - 4);
    hebbL_newbox(L);
    hebbL_fill_box(L, hebb_npz_read(*z, i));
    lua_rawset(L, -3);
  }
  return 1;
}

/* _io.save_npz(path, names, tensors, compress): the lists side by side */
static int l_save_npz(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "w");
  bool compress = lua_toboolean(L, 4);
  lua_Integer i, n;
  hebb_npz **z;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  n = luaL_len(L, 2);
  for (i = 1; i <= n; i++) {   /* every argument checked before the file */
    lua_geti(L, 2, i);
    luaL_checkstring(L, -1);
    lua_geti(L, 3, i);
    hebbL_check(L, -1);
    lua_pop(L, 2);
  }
  z = new_npz(L);
  if (!(*z = hebb_npz_create(path, compress))) return hebbL_raise(L);
  for (i = 1; i <= n; i++) {
    lua_geti(L, 2, i);
    lua_geti(L, 3, i);
    hebbL_check_status(L, hebb_npz_add(*z, lua_tostring(L, -2),
                                       hebbL_check(L, -1)));
    lua_pop(L, 2);
  }
  hebbL_check_status(L, hebb_npz_finish(*z));
  return 0;
}

/* --- text tables ------------------------------------------------------------ */

/* a single character option at idx ("" or nil: def) */
static char opt_char(lua_State *L, int idx, char def, const char *what) {
  size_t len;
  const char *s = luaL_optlstring(L, idx, "", &len);
  if (len > 1) luaL_error(L, "io: %s must be one character, got \"%s\"", what, s);
  return len ? s[0] : def;
}

/* _io.loadtxt(path, delim, comment, dtype) -> tensor, names */
static int l_loadtxt(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "r");
  char delim = opt_char(L, 2, 0, "delimiter");
  char comment = opt_char(L, 3, '#', "comments");
  int dtype = hebb_dtype_from_name(luaL_optstring(L, 4, "f64"));
  char *names = lua_newuserdatauv(L, 1 << 16, 0);
  luaL_argcheck(L, dtype >= 0, 4, "unknown dtype");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_loadtxt(path, delim, comment, dtype, names, 1 << 16));
  lua_pushstring(L, names);
  return 2;
}

/* _io.savetxt(path, t, delim, header, comments) */
static int l_savetxt(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  hebbL_checkpath(L, path, "w");
  hebb_tensor *t = hebbL_check(L, 2);
  char delim = opt_char(L, 3, ' ', "delimiter");
  const char *header = luaL_optstring(L, 4, NULL);
  const char *comments = luaL_optstring(L, 5, "# ");
  hebbL_check_status(L, hebb_savetxt(path, t, delim, header, comments));
  return 0;
}

/* --- HDF5 ------------------------------------------------------------------- */

#define H5_MT "hebb.io.H5File"

static hebb_h5 *checkh5(lua_State *L) {
  hebb_h5 **f = luaL_checkudata(L, 1, H5_MT);
  if (!*f) luaL_error(L, "io: the HDF5 file is closed");
  return *f;
}

static int h_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *mode = luaL_optstring(L, 2, "r");
  hebb_h5 **f;
  hebbL_checkpath(L, path, strcmp(mode, "r") == 0 ? "r" : "w");
  f = lua_newuserdatauv(L, sizeof *f, 0);
  *f = NULL;
  luaL_setmetatable(L, H5_MT);
  if (!(*f = hebb_h5_open(path, mode))) return hebbL_raise(L);
  return 1;
}

static int h_free(lua_State *L) {
  hebb_h5 **f = luaL_checkudata(L, 1, H5_MT);
  hebb_h5_free(*f);
  *f = NULL;
  return 0;
}

static int h_close(lua_State *L) {
  hebb_h5 **f = luaL_checkudata(L, 1, H5_MT);
  int st = *f ? hebb_h5_close(*f) : HEBB_OK;
  hebb_h5_free(*f);
  *f = NULL;
  hebbL_check_status(L, st);
  return 0;
}

/* up to HEBB_MAXDIM integers from the list at idx (nil: none); returns how
   many */
static int int_list(lua_State *L, int idx, int64_t *v) {
  int n, i;
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  n = (int)luaL_len(L, idx);
  luaL_argcheck(L, n <= HEBB_MAXDIM, idx, "too many dimensions");
  for (i = 0; i < n; i++) {
    lua_geti(L, idx, i + 1);
    v[i] = (int64_t)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
  }
  return n;
}

/* the creation options at idx..idx+2: chunks (list), level, growable mask */
static void h5_opts(lua_State *L, int idx, const hebb_tensor *t,
                    hebb_h5_opts *o) {
  o->nchunk = int_list(L, idx, o->chunk);
  if (o->nchunk && o->nchunk != t->ndim)
    luaL_error(L, "io.h5write: %d chunk sizes for %d dimensions", o->nchunk,
               t->ndim);
  o->level = (int)luaL_optinteger(L, idx + 1, -1);
  o->growable = (int)luaL_optinteger(L, idx + 2, 0);
}

/* f:write(name, t, chunks, level, growable) */
static int h_write(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *name = luaL_checkstring(L, 2);
  hebb_tensor *t = hebbL_check(L, 3);
  hebb_h5_opts o;
  h5_opts(L, 4, t, &o);
  hebbL_check_status(L, hebb_h5_write(f, name, t, &o));
  return 0;
}

/* f:write_block(name, t, start) */
static int h_write_block(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *name = luaL_checkstring(L, 2);
  hebb_tensor *t = hebbL_check(L, 3);
  int64_t start[HEBB_MAXDIM];
  if (int_list(L, 4, start) != t->ndim)
    return luaL_error(L, "io.h5write: start needs %d numbers (one per "
                      "dimension of the block)", t->ndim);
  hebbL_check_status(L, hebb_h5_write_block(f, name, start, t));
  return 0;
}

/* f:append(name, t, dim, chunks, level) */
static int h_append(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *name = luaL_checkstring(L, 2);
  hebb_tensor *t = hebbL_check(L, 3);
  int dim = (int)luaL_checkinteger(L, 4);
  hebb_h5_opts o;
  h5_opts(L, 5, t, &o);
  hebbL_check_status(L, hebb_h5_append(f, name, dim, t, &o));
  return 0;
}

/* f:read(name, start, count, max_bytes) */
static int h_read(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *name = luaL_checkstring(L, 2);
  int64_t start[HEBB_MAXDIM], count[HEBB_MAXDIM];
  int ns = int_list(L, 3, start), nc = int_list(L, 4, count);
  int64_t max_bytes = opt_max_bytes(L, 5);
  if (ns != nc) return luaL_error(L, "io.h5read: start and count differ in length");
  hebbL_newbox(L);
  hebbL_fill_box(L, hebb_h5_read(f, name, ns ? start : NULL, count, max_bytes));
  return 1;
}

static void push_shape(lua_State *L, int n, const int64_t *v, const char *k) {
  int i;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    if (v[i] < 0) lua_pushnumber(L, HUGE_VAL);
    else lua_pushinteger(L, (lua_Integer)v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, k);
}

/* f:info(name) -> nil, or {kind, dtype | type, shape, maxshape, chunks} */
static int h_info(lua_State *L) {
  static const char *const kinds[] = {NULL, "group", "dataset", "other"};
  hebb_h5 *f = checkh5(L);
  hebb_h5_info_t in;
  hebbL_check_status(L, hebb_h5_info(f, luaL_checkstring(L, 2), &in));
  if (!in.kind) return 0;
  lua_createtable(L, 0, 5);
  lua_pushstring(L, kinds[in.kind]);
  lua_setfield(L, -2, "kind");
  if (in.kind != 2) return 1;
  lua_pushstring(L, in.dtype >= 0 ? hebb_dtype_name(in.dtype) : in.why);
  lua_setfield(L, -2, in.dtype >= 0 ? "dtype" : "type");
  push_shape(L, in.ndim, in.shape, "shape");
  push_shape(L, in.ndim, in.maxshape, "maxshape");
  if (in.chunked) push_shape(L, in.ndim, in.chunk, "chunks");
  return 1;
}

static int h_group(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  hebbL_check_status(L, hebb_h5_group(f, luaL_checkstring(L, 2)));
  return 0;
}

static int h_flush(lua_State *L) {
  hebbL_check_status(L, hebb_h5_flush(checkh5(L)));
  return 0;
}

/* names from a numbered query (members of a group, attributes) */
static int names(lua_State *L, int (*get)(hebb_h5 *, const char *, int64_t,
                                          char *, int64_t)) {
  hebb_h5 *f = checkh5(L);
  const char *obj = luaL_optstring(L, 2, "/");
  char buf[1024];
  int64_t i;
  int rc;
  lua_newtable(L);
  for (i = 0; (rc = get(f, obj, i, buf, sizeof buf)) == 1; i++) {
    lua_pushstring(L, buf);
    lua_rawseti(L, -2, i + 1);
  }
  if (rc < 0) return hebbL_raise(L);
  return 1;
}

static int h_list(lua_State *L) { return names(L, hebb_h5_member); }
static int h_attr_names(lua_State *L) { return names(L, hebb_h5_attr_name); }

/* f:set_attr(obj, attr, value): a tensor or a string */
static int h_set_attr(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *obj = luaL_checkstring(L, 2), *attr = luaL_checkstring(L, 3);
  int st = lua_type(L, 4) == LUA_TSTRING ?
           hebb_h5_set_attr_string(f, obj, attr, lua_tostring(L, 4)) :
           hebb_h5_set_attr(f, obj, attr, hebbL_check(L, 4));
  hebbL_check_status(L, st);
  return 0;
}

/* f:attr(obj, attr) -> a tensor, a string, or nothing */
static int h_attr(lua_State *L) {
  hebb_h5 *f = checkh5(L);
  const char *obj = luaL_checkstring(L, 2), *attr = luaL_checkstring(L, 3);
  hebb_tensor **box = hebbL_newbox(L);
  char *str = NULL;
  int st = hebb_h5_get_attr(f, obj, attr, box, &str);
  if (st != HEBB_OK) return hebbL_raise(L);
  if (*box) {
    hebbL_account(L, *box);
    return 1;
  }
  if (!str) return 0;
  lua_pushstring(L, str);
  free(str);
  return 1;
}

/* --- registration --------------------------------------------------------- */

static const luaL_Reg writer_methods[] = {
  {"put", w_put}, {"open", w_open}, {"save", w_save}, {"encode", w_encode},
  {"free", w_free}, {"__gc", w_free}, {"__close", w_free}, {NULL, NULL}
};

static const hebb_lreg io_funcs[] = {
  {"writer", w_new, HEBB_FN | HEBB_RAW,
   "_io.writer()\n\nA checkpoint writer: w:put(v) (nil, boolean, number, "
   "string, tensor), w:open(\"table\"|\"list\", n), then w:save(path) or "
   "w:encode().  Use io.save / io.encode."},
  {"load", l_load, HEBB_FN | HEBB_RAW,
   "_io.load(path [, max_bytes])\n\nThe value of the checkpoint at path.  "
   "Use io.load."},
  {"decode", l_decode, HEBB_FN | HEBB_RAW,
   "_io.decode(s [, max_bytes])\n\nThe value of the checkpoint held in the "
   "string s.  Use io.decode."},
  {"load_npy", l_load_npy, HEBB_FN | HEBB_RAW,
   "_io.load_npy(path [, mmap])\n\nThe array of a .npy file.  Use "
   "io.load_npy."},
  {"save_npy", l_save_npy, HEBB_FN | HEBB_RAW,
   "_io.save_npy(path, t)\n\nWrites t as a .npy file.  Use io.save_npy."},
  {"load_npz", l_load_npz, HEBB_FN | HEBB_RAW,
   "_io.load_npz(path [, max_bytes])\n\nThe arrays of a .npz file.  Use "
   "io.load_npz."},
  {"save_npz", l_save_npz, HEBB_FN | HEBB_RAW,
   "_io.save_npz(path, names, tensors, compress)\n\nWrites a .npz file.  "
   "Use io.save_npz."},
  {"loadtxt", l_loadtxt, HEBB_FN | HEBB_RAW,
   "_io.loadtxt(path, delim, comment, dtype)\n\nA text table and its "
   "header's names ('\\n' after each).  Use io.loadtxt."},
  {"savetxt", l_savetxt, HEBB_FN | HEBB_RAW,
   "_io.savetxt(path, t, delim, header, comments)\n\nWrites a text table.  "
   "Use io.savetxt."},
  {"h5open", h_open, HEBB_FN | HEBB_RAW,
   "_io.h5open(path [, mode])\n\nAn HDF5 file.  Use io.h5open."},
  {NULL, NULL, 0, NULL}
};

/* a metatable whose methods see the tensor metatable as upvalue 1 (the
   type check of hebbL_test and the boxes of hebbL_newbox need it) */
static void new_class(lua_State *L, const char *name, const luaL_Reg *l) {
  luaL_newmetatable(L, name);
  luaL_getmetatable(L, HEBB_TENSOR_MT);
  luaL_setfuncs(L, l, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

int luaopen_hebb__io(lua_State *L) {
  static const luaL_Reg reader_methods[] = {
    {"__gc", r_free}, {"__close", r_free}, {NULL, NULL}
  };
  static const luaL_Reg npz_methods[] = {
    {"__gc", z_free}, {"__close", z_free}, {NULL, NULL}
  };
  static const luaL_Reg h5_methods[] = {
    {"write", h_write}, {"write_block", h_write_block}, {"append", h_append},
    {"read", h_read}, {"info", h_info}, {"group", h_group}, {"list", h_list},
    {"set_attr", h_set_attr}, {"attr", h_attr}, {"attr_names", h_attr_names},
    {"flush", h_flush}, {"close", h_close}, {"__gc", h_free},
    {NULL, NULL}
  };
  hebbL_newmodule(L, io_funcs,
    "hebb._io\n\nC helpers of hebb.io: checkpoints (and, with them, numpy "
    "files, text tables and HDF5).");
  new_class(L, WRITER_MT, writer_methods);
  new_class(L, READER_MT, reader_methods);
  new_class(L, NPZ_MT, npz_methods);
  new_class(L, H5_MT, h5_methods);
  return 1;
}
