/*
** show.c -- how the REPL prints results: like `print` (through tostring,
** so a tensor's __tostring decides how it looks), except that a plain
** table, which tostring would only show as an address, gets a one-level
** summary of at most SHOW_MAXITEMS entries.
*/
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "vm.h"

#define SHOW_MAXITEMS  20    /* entries shown of a table */
#define SHOW_MAXSTRING 60    /* bytes shown of a string inside a table */
#define SHOW_BUFSIZE   4096  /* a summary never gets longer than this */


/* a bounded text buffer: the summary is built in C, away from the Lua
   stack, so that table traversal and text building cannot get in each
   other's way */
typedef struct Out {
  size_t n;
  char s[SHOW_BUFSIZE];
} Out;


static void add (Out *o, const char *s, size_t len) {
  size_t room = sizeof(o->s) - o->n;
  if (len > room)
    len = room;
  memcpy(o->s + o->n, s, len);
  o->n += len;
}


static void adds (Out *o, const char *s) {
  add(o, s, strlen(s));
}


/* a string as Lua source, cut after SHOW_MAXSTRING bytes */
static void add_quoted (Out *o, const char *s, size_t len) {
  size_t i, n = (len > SHOW_MAXSTRING) ? SHOW_MAXSTRING : len;
  adds(o, "\"");
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
      case '"': adds(o, "\\\""); break;
      case '\\': adds(o, "\\\\"); break;
      case '\n': adds(o, "\\n"); break;
      case '\r': adds(o, "\\r"); break;
      case '\t': adds(o, "\\t"); break;
      default:
        if (c < 32 || c == 127) {
          snprintf(esc, sizeof(esc), "\\%d", c);
          adds(o, esc);
        }
        else
          add(o, (const char *)&c, 1);
    }
  }
  adds(o, "\"");
  if (n < len)
    adds(o, "...");
}


/* a value inside a table, in a few words and without running any of its
   metamethods */
static void add_short (lua_State *L, Out *o, int idx) {
  char addr[64];
  int named;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: adds(o, "nil"); return;
    case LUA_TBOOLEAN: adds(o, lua_toboolean(L, idx) ? "true" : "false");
      return;
    case LUA_TNUMBER: {
      size_t len;
      const char *s;
      lua_pushvalue(L, idx);  /* converts the copy, not the table's value */
      s = lua_tolstring(L, -1, &len);
      add(o, s, len);
      lua_pop(L, 1);
      return;
    }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      add_quoted(o, s, len);
      return;
    }
    default:
      break;
  }
  /* "{...}" for a plain table; "type: address" for anything else, with
     the type's __name when it has one (as tostring would) */
  named = (luaL_getmetafield(L, idx, "__name") != LUA_TNIL);
  if (!named && lua_istable(L, idx))
    adds(o, "{...}");
  else {
    adds(o, (named && lua_type(L, -1) == LUA_TSTRING) ? lua_tostring(L, -1)
                                                       : luaL_typename(L, idx));
    snprintf(addr, sizeof(addr), ": %p", lua_topointer(L, idx));
    adds(o, addr);
  }
  if (named)
    lua_pop(L, 1);
}


static void add_key (lua_State *L, Out *o, int idx) {
  size_t len;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *k = lua_tolstring(L, idx, &len);
    if (vm_isname(k, len)) {
      add(o, k, len);
      return;
    }
  }
  adds(o, "[");
  add_short(L, o, idx);
  adds(o, "]");
}


/* pushes "{1, 2, x = 3, ...}" for the table at idx: its sequence first,
   then the other keys in traversal order */
static void push_summary (lua_State *L, int idx) {
  Out o;
  lua_Integer seq;
  int shown = 0, more = 0;
  o.n = 0;
  adds(&o, "{");
  for (seq = 1; lua_rawgeti(L, idx, seq) != LUA_TNIL; seq++) {
    if (shown == SHOW_MAXITEMS) {
      more = 1;
      break;
    }
    if (shown++ > 0)
      adds(&o, ", ");
    add_short(L, &o, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (!more) {
    seq--;  /* keys 1..seq are shown */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
          lua_tointeger(L, -2) <= seq) {
        lua_pop(L, 1);
        continue;
      }
      if (shown == SHOW_MAXITEMS) {
        more = 1;
        lua_pop(L, 2);
        break;
      }
      if (shown++ > 0)
        adds(&o, ", ");
      add_key(L, &o, -2);
      adds(&o, " = ");
      add_short(L, &o, -1);
      lua_pop(L, 1);
    }
  }
  if (more)
    adds(&o, ", ...");
  adds(&o, "}");
  lua_pushlstring(L, o.s, o.n);
}


/* a table that tostring would show only by address */
static int is_plain_table (lua_State *L, int idx) {
  if (!lua_istable(L, idx))
    return 0;
  if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}


/* the values -> one string, tab-separated; may raise (a __tostring) */
static int show_all (lua_State *L) {
  int i, n = lua_gettop(L);
  luaL_checkstack(L, n + LUA_MINSTACK, "too many results to print");
  for (i = 1; i <= n; i++) {
    if (i > 1)
      lua_pushliteral(L, "\t");
    if (is_plain_table(L, i))
      push_summary(L, i);
    else
      luaL_tolstring(L, i, NULL);
  }
  lua_pushliteral(L, "\n");
  lua_concat(L, lua_gettop(L) - n);
  return 1;
}


void vm_show (lua_State *L, int n) {
  int base = lua_gettop(L) - n;
  if (n <= 0)
    return;
  lua_pushcfunction(L, show_all);
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 1, 0) == LUA_OK) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    fwrite(s, 1, len, stdout);
    fflush(stdout);
  }
  else {
    const char *msg = lua_tostring(L, -1);
    lua_pushfstring(L, "error printing the result (%s)",
                    msg != NULL ? msg : luaL_typename(L, -1));
    vm_message(NULL, lua_tostring(L, -1));
  }
  lua_settop(L, base);
}
