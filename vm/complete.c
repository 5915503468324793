/*
** complete.c -- TAB completion for the REPL.
** The word before the cursor is a path: `name`, `a.b.c` or `a.b:c`.  The
** part before the last separator is looked up from the globals, and the
** keys of what it names are offered.  Lookups are raw and follow only
** __index *tables*, so that completion never runs user code; a userdata
** (a tensor) whose __index is a function lists its metatable's __methods
** table and __properties array instead.  All of it runs under lua_pcall:
** a TAB must never raise.
*/
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <readline/readline.h>

#include "lua.h"
#include "lauxlib.h"

#include "vm.h"

#define MAXCHAIN 32   /* __index links followed; guards against cycles */

static lua_State *LS;  /* the REPL's state */

static const char *const keywords[] = {
  "and", "break", "do", "else", "elseif", "end", "false", "for",
  "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
  "return", "then", "true", "until", "while", NULL
};

static const char *const commands[] = {":help", ":quit", ":time", NULL};


static int is_keyword (const char *s, size_t len) {
  int i;
  for (i = 0; keywords[i] != NULL; i++)
    if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0)
      return 1;
  return 0;
}


static int is_alpha (int c) {  /* as Lua's lexer sees letters (C locale) */
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}


int vm_isname (const char *s, size_t len) {
  size_t i;
  if (len == 0 || !is_alpha((unsigned char)s[0]))
    return 0;
  for (i = 1; i < len; i++)
    if (!is_alpha((unsigned char)s[i]) && !(s[i] >= '0' && s[i] <= '9'))
      return 0;
  return !is_keyword(s, len);
}


/*
** {======================================================
** Collecting candidates (inside lua_pcall)
** =======================================================
*/

typedef struct Query {
  const char *head;     /* the word up to and with its last separator */
  size_t headlen;
  const char *part;     /* the rest: what the key must start with */
  size_t partlen;
  int methods;          /* after ':' only functions fit */
  int set;              /* stack index of the table of candidates */
} Query;


/* set[head .. key] = whether value is a function; value 0: no value */
static void offer (lua_State *L, Query *q, int key, int value) {
  size_t len;
  const char *k;
  int isfunc = (value != 0 && lua_type(L, value) == LUA_TFUNCTION);
  if (lua_type(L, key) != LUA_TSTRING)
    return;
  k = lua_tolstring(L, key, &len);
  if (len < q->partlen || memcmp(k, q->part, q->partlen) != 0 ||
      !vm_isname(k, len) || (q->methods && !isfunc))
    return;
  lua_pushlstring(L, q->head, q->headlen);
  lua_pushvalue(L, key);
  lua_concat(L, 2);
  lua_pushboolean(L, isfunc);
  lua_rawset(L, q->set);
}


static void offer_keys (lua_State *L, Query *q, int t) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    offer(L, q, lua_gettop(L) - 1, lua_gettop(L));
    lua_pop(L, 1);
  }
}


/* __properties: an array of names */
static void offer_names (lua_State *L, Query *q, int t) {
  lua_Integer i;
  for (i = 1; lua_rawgeti(L, t, i) != LUA_TNIL; i++) {
    offer(L, q, lua_gettop(L), 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}


/* pushes mt[field] (raw) and returns its type */
static int meta_field (lua_State *L, int mt, const char *field) {
  lua_pushstring(L, field);
  return lua_rawget(L, mt);
}


/* offers the fields of the value on top of the stack (popped) */
static void offer_fields (lua_State *L, Query *q) {
  int v = lua_gettop(L);
  int depth;
  for (depth = 0; depth < MAXCHAIN; depth++) {
    int mt;
    if (lua_istable(L, v))
      offer_keys(L, q, v);
    if (!lua_getmetatable(L, v))
      break;
    mt = lua_gettop(L);
    if (meta_field(L, mt, "__methods") == LUA_TTABLE)
      offer_keys(L, q, lua_gettop(L));
    lua_pop(L, 1);
    if (!q->methods) {
      if (meta_field(L, mt, "__properties") == LUA_TTABLE)
        offer_names(L, q, lua_gettop(L));
      lua_pop(L, 1);
    }
    if (meta_field(L, mt, "__index") != LUA_TTABLE)
      break;
    lua_replace(L, v);  /* go on with the __index table */
    lua_settop(L, v);
  }
  lua_settop(L, v - 1);
}


/* replaces the value on top by its field k, found as offer_fields would
   find it; returns 0 (and pops the value) when there is none */
static int lookup (lua_State *L, const char *k, size_t len) {
  int v = lua_gettop(L);
  int depth;
  lua_pushvalue(L, v);  /* where to look now */
  for (depth = 0; depth < MAXCHAIN; depth++) {
    int cur = v + 1, mt;
    if (lua_istable(L, cur)) {
      lua_pushlstring(L, k, len);
      if (lua_rawget(L, cur) != LUA_TNIL)
        goto found;
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, cur))
      break;
    mt = lua_gettop(L);
    if (meta_field(L, mt, "__methods") == LUA_TTABLE) {
      lua_pushlstring(L, k, len);
      if (lua_rawget(L, -2) != LUA_TNIL)
        goto found;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (meta_field(L, mt, "__index") != LUA_TTABLE)
      break;
    lua_replace(L, cur);
    lua_settop(L, cur);
  }
  lua_settop(L, v - 1);
  return 0;
found:
  lua_replace(L, v);
  lua_settop(L, v);
  return 1;
}


/* pushes the value named by the dotted path s[0..len), or returns 0 */
static int resolve (lua_State *L, const char *s, size_t len) {
  const char *end = s + len;
  if (len == 0 || s[len - 1] == '.')  /* ".x" (after "t[1]"), "a..x" */
    return 0;
  lua_pushglobaltable(L);
  while (s < end) {
    const char *dot = memchr(s, '.', (size_t)(end - s));
    size_t n = (dot != NULL ? dot : end) - s;
    if (!vm_isname(s, n)) {
      lua_pop(L, 1);
      return 0;
    }
    if (!lookup(L, s, n))  /* popped the value */
      return 0;
    s += n + (dot != NULL);
  }
  return 1;
}


/* light userdata 1: the word; returns the table of candidates */
static int collect (lua_State *L) {
  const char *text = (const char *)lua_touserdata(L, 1);
  const char *dot = strrchr(text, '.');
  const char *colon = strrchr(text, ':');
  const char *sep = dot;
  Query q;
  if (colon != NULL && (dot == NULL || colon > dot))
    sep = colon;
  lua_newtable(L);
  q.set = lua_gettop(L);
  q.head = text;
  q.headlen = (sep != NULL) ? (size_t)(sep - text) + 1 : 0;
  q.part = text + q.headlen;
  q.partlen = strlen(q.part);
  q.methods = (sep != NULL && *sep == ':');
  if (sep == NULL) {  /* a global or a keyword */
    int i;
    lua_pushglobaltable(L);
    offer_fields(L, &q);
    for (i = 0; keywords[i] != NULL; i++)
      if (strncmp(keywords[i], text, q.partlen) == 0) {
        lua_pushboolean(L, 0);
        lua_setfield(L, q.set, keywords[i]);
      }
  }
  else if (memchr(text, ':', q.headlen - 1) == NULL &&  /* a:b.c is no path */
           resolve(L, text, q.headlen - 1))
    offer_fields(L, &q);
  lua_settop(L, q.set);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** The readline side
** =======================================================
*/

static char **found;  /* the candidates of the current TAB, NULL-ended */
static size_t nextfound;


static void free_found (void) {
  size_t i;
  if (found == NULL)
    return;
  for (i = 0; found[i] != NULL; i++)
    free(found[i]);
  free(found);
  found = NULL;
}


/* the candidates for text into 'found'; returns how many, and in *isfunc
   whether the last one names a function */
static size_t gather (const char *text, int *isfunc) {
  lua_State *L = LS;
  int top = lua_gettop(L);
  size_t n = 0;
  union { const char *c; void *p; } arg;   /* a light userdata is not const */
  arg.c = text;
  *isfunc = 0;
  lua_pushcfunction(L, collect);
  lua_pushlightuserdata(L, arg.p);  /* no allocation out here */
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      count++;
      lua_pop(L, 1);
    }
    found = calloc(count + 1, sizeof(char *));
    lua_pushnil(L);
    while (found != NULL && lua_next(L, -2)) {
      char *s = strdup(lua_tostring(L, -2));
      if (s != NULL && n < count) {
        found[n++] = s;
        *isfunc = lua_toboolean(L, -1);
      }
      else
        free(s);
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  return n;
}


static size_t gather_commands (const char *text) {
  size_t i, n = 0, len = strlen(text);
  found = calloc(sizeof(commands) / sizeof(commands[0]), sizeof(char *));
  for (i = 0; found != NULL && commands[i] != NULL; i++)
    if (strncmp(commands[i], text, len) == 0)
      found[n++] = strdup(commands[i]);
  return n;
}


static char *generator (const char *text, int state) {
  (void)text;
  if (state == 0)
    nextfound = 0;
  if (found == NULL || found[nextfound] == NULL)
    return NULL;
  return strdup(found[nextfound++]);
}


static char **complete (const char *text, int start, int end) {
  char **matches;
  int isfunc = 0;
  size_t n;
  (void)end;
  rl_completion_append_character = '\0';
  if (rl_completion_quote_character != 0) {  /* in a string: file names */
    rl_attempted_completion_over = 0;
    return NULL;
  }
  rl_attempted_completion_over = 1;
  free_found();
  if (start == 0 && text[0] == ':')
    n = gather_commands(text);
  else
    n = gather(text, &isfunc);
  if (n == 1 && isfunc)  /* the only choice is a function: call it */
    rl_completion_append_character = '(';
  matches = (n > 0) ? rl_completion_matches(text, generator) : NULL;
  free_found();
  return matches;
}


void vm_complete_init (lua_State *L) {
  LS = L;
  rl_attempted_completion_function = complete;
  /* '.' and ':' are not among them: "hebb.ten" and "t:su" are one word */
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#?";
  rl_completer_word_break_characters = rl_basic_word_break_characters;
  rl_completer_quote_characters = "\"'";
}

/* }====================================================== */
