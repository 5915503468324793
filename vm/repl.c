/*
** repl.c -- hebb's read-eval-print loop.
** A line is first tried as an expression ("return <line>;") whose values
** are printed, then as statements; a chunk that ends too early (a syntax
** error at <eof>) asks for more lines.  Lines starting with '?' ask for
** documentation and lines starting with ':' are REPL commands.
**
** Follows lua.c, the stand-alone interpreter of Lua 5.4:
** Copyright (C) 1994-2022 Lua.org, PUC-Rio.  See LICENSE for the notice.
*/
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"

#include "vm.h"

#define PROMPT1 "> "
#define PROMPT2 ">> "
#define CHUNKNAME "=stdin"
#define EOFMARK "<eof>"  /* how a syntax error at the end of input ends */

/* what read_chunk produced */
enum {
  CHUNK_RUN,    /* a function to call is on the stack */
  CHUNK_ERROR,  /* a syntax error message is on the stack */
  CHUNK_NONE,   /* nothing to run (empty line, command, Ctrl-C) */
  CHUNK_QUIT    /* Ctrl-D, :quit, or Ctrl-C twice */
};

static int timing;      /* :time on */
static int want_exit;   /* the last thing typed was Ctrl-C on an empty line */

static const char help_text[] =
  "hebb REPL -- Lua 5.4 with hebb's modules (hebb, and T = hebb.tensor)\n"
  "  1+1             an expression: its values are printed\n"
  "  x = f();        a statement; a trailing ';' keeps any value quiet\n"
  "  ?name           documentation: ?T.zeros  ?hebb.tensor  ?t:sum\n"
  "  :time on|off    print the wall time of each statement\n"
  "  :help, ?        this help\n"
  "  :quit           leave (so do Ctrl-D and Ctrl-C twice on an empty line)\n"
  "  TAB             complete names, fields and methods: hebb.ten<TAB>, "
  "t:su<TAB>\n"
  "  Ctrl-C          interrupt running code; at the prompt, clear the line\n"
  "  Up/Down         history, kept in $HEBB_HISTORY or ~/.hebb_history\n";


/*
** {======================================================
** Reading chunks
** =======================================================
*/

/* _PROMPT / _PROMPT2 through tostring, as lua5.4 does (protected: the
   globals table may have metamethods) */
static int get_prompt (lua_State *L) {
  int first = lua_toboolean(L, 1);
  if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
    lua_pushstring(L, first ? PROMPT1 : PROMPT2);
  else
    luaL_tolstring(L, -1, NULL);
  return 1;
}


/* a line from the user, with the right prompt */
static int read_line (lua_State *L, int first, char **line) {
  int r;
  lua_pushcfunction(L, get_prompt);
  lua_pushboolean(L, first);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, first ? PROMPT1 : PROMPT2);
  }
  r = vm_line_read(lua_tostring(L, -1), line);
  lua_pop(L, 1);
  return r;
}


/* a syntax error at the very end: the chunk may just be unfinished */
static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    size_t marklen = sizeof(EOFMARK) - 1;
    return (len >= marklen && strcmp(msg + len - marklen, EOFMARK) == 0);
  }
  return 0;
}


/* length of s without trailing blanks */
static size_t trimmed_len (const char *s, size_t len) {
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
                     s[len - 1] == '\r' || s[len - 1] == '\n'))
    len--;
  return len;
}


/*
** Tries the chunk on top of the stack as an expression list; on success
** pushes the compiled function.  A trailing ';' is cut first: it would
** not compile after 'return', and it only asks for quiet.
*/
static int try_expression (lua_State *L, int quiet) {
  size_t len;
  const char *chunk = lua_tolstring(L, -1, &len);
  len = trimmed_len(chunk, len);
  if (quiet)
    len--;  /* the ';' */
  lua_pushliteral(L, "return ");
  lua_pushlstring(L, chunk, len);
  lua_pushliteral(L, ";");
  lua_concat(L, 3);
  chunk = lua_tolstring(L, -1, &len);
  if (luaL_loadbuffer(L, chunk, len, CHUNKNAME) == LUA_OK) {
    lua_remove(L, -2);  /* the modified chunk */
    return 1;
  }
  lua_pop(L, 2);  /* the error and the modified chunk */
  return 0;
}


static int ends_quiet (lua_State *L) {
  size_t len;
  const char *chunk = lua_tolstring(L, -1, &len);
  len = trimmed_len(chunk, len);
  return len > 0 && chunk[len - 1] == ';';
}


/* Ctrl-C at a prompt: an empty line twice in a row means "leave" */
static int interrupted (char *text, int first) {
  int empty = first && text != NULL && text[0] == '\0';
  free(text);
  if (!empty) {
    want_exit = 0;
    return CHUNK_NONE;
  }
  if (want_exit)
    return CHUNK_QUIT;
  want_exit = 1;
  printf("(press Ctrl-C again or Ctrl-D to exit)\n");
  fflush(stdout);
  return CHUNK_NONE;
}


/*
** Reads more lines while the chunk on top of the stack (the typed text)
** is unfinished.  Leaves the chunk's function or its syntax error above
** the text and returns CHUNK_RUN or CHUNK_ERROR; or pops everything and
** returns CHUNK_NONE (Ctrl-C).
*/
static int read_more (lua_State *L, int *quiet) {
  for (;;) {
    size_t len;
    const char *chunk;
    char *line;
    int status, r;
    *quiet = ends_quiet(L);
    if (try_expression(L, *quiet))
      return CHUNK_RUN;
    chunk = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
    if (!incomplete(L, status))
      return (status == LUA_OK) ? CHUNK_RUN : CHUNK_ERROR;
    r = read_line(L, 0, &line);
    if (r == VM_LINE_EOF)  /* lua5.4 shows the <eof> error then */
      return CHUNK_ERROR;
    lua_pop(L, 1);  /* the syntax error */
    if (r == VM_LINE_INTERRUPT) {
      lua_pop(L, 1);
      return interrupted(line, 0);
    }
    lua_pushliteral(L, "\n");
    lua_pushstring(L, line);
    free(line);
    lua_concat(L, 3);
  }
}

/* }====================================================== */


/*
** {======================================================
** ?name: documentation through require("hebb").doc
** =======================================================
*/

/* pushes the value of an expression, evaluated in the global scope */
static void eval (lua_State *L, const char *expr, size_t len) {
  lua_pushliteral(L, "return ");
  lua_pushlstring(L, expr, len);
  lua_concat(L, 2);
  if (luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=?") !=
      LUA_OK)
    lua_error(L);
  lua_remove(L, -2);
  lua_call(L, 0, 1);
}


/* replaces the value on top by its method m: the metatable's __methods
   entry first, as tensors keep their methods there, else value[m] */
static void method_of (lua_State *L, const char *m) {
  int v = lua_gettop(L);
  if (lua_getmetatable(L, v) &&
      lua_getfield(L, -1, "__methods") == LUA_TTABLE &&
      lua_getfield(L, -1, m) != LUA_TNIL)
    lua_replace(L, v);
  else {
    lua_settop(L, v);
    lua_getfield(L, v, m);  /* may run __index: the user asked for it */
    lua_replace(L, v);
  }
  lua_settop(L, v);
}


/* string 1: the name; returns the docstring or nil; raises when the name
   does not evaluate */
static int find_doc (lua_State *L) {
  size_t len;
  const char *name = lua_tolstring(L, 1, &len);
  const char *colon = strrchr(name, ':');
  if (colon != NULL && vm_isname(colon + 1, strlen(colon + 1))) {
    eval(L, name, (size_t)(colon - name));
    if (lua_isnil(L, -1))
      return 1;
    method_of(L, colon + 1);
  }
  else
    eval(L, name, len);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "hebb");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
    return 0;  /* no hebb, no docs */
  if (lua_getfield(L, -1, "doc") != LUA_TFUNCTION)
    return 0;
  lua_pushvalue(L, 2);  /* the value */
  lua_call(L, 1, 1);
  return 1;
}


static void show_doc (lua_State *L, const char *arg) {
  size_t len = trimmed_len(arg, strlen(arg));
  while (len > 0 && (*arg == ' ' || *arg == '\t')) {
    arg++;
    len--;
  }
  if (len == 0) {
    fputs(help_text, stdout);
    fflush(stdout);
    return;
  }
  lua_pushcfunction(L, find_doc);
  lua_pushlstring(L, arg, len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    vm_message(NULL, msg != NULL ? msg : "(error object is not a string)");
  }
  else if (lua_type(L, -1) == LUA_TSTRING) {
    size_t dlen;
    const char *doc = lua_tolstring(L, -1, &dlen);
    fwrite(doc, 1, dlen, stdout);
    if (dlen == 0 || doc[dlen - 1] != '\n')
      fputc('\n', stdout);
  }
  else
    printf("no documentation for %.*s\n", (int)len, arg);
  fflush(stdout);
  lua_pop(L, 1);
}

/* }====================================================== */


/*
** {======================================================
** :commands
** =======================================================
*/

/* whether word (of length len) abbreviates the command name */
static int is_command (const char *word, size_t len, const char *name) {
  return len > 0 && len <= strlen(name) && strncmp(word, name, len) == 0;
}


/* returns CHUNK_QUIT or CHUNK_NONE */
static int command (const char *cmd) {
  size_t len = strcspn(cmd, " \t");
  const char *arg = cmd + len + strspn(cmd + len, " \t");
  size_t arglen = trimmed_len(arg, strlen(arg));
  if (is_command(cmd, len, "quit"))
    return CHUNK_QUIT;
  if (is_command(cmd, len, "help"))
    fputs(help_text, stdout);
  else if (is_command(cmd, len, "time")) {
    if (arglen == 2 && strncmp(arg, "on", 2) == 0)
      timing = 1;
    else if (arglen == 3 && strncmp(arg, "off", 3) == 0)
      timing = 0;
    else if (arglen != 0)
      printf("usage: :time on|off\n");
    printf("timing is %s\n", timing ? "on" : "off");
  }
  else
    printf("unknown command ':%.*s' (try :help)\n", (int)len, cmd);
  fflush(stdout);
  return CHUNK_NONE;
}

/* }====================================================== */


/*
** Reads a chunk.  For CHUNK_RUN and CHUNK_ERROR the stack holds the text
** (for the history) and above it the function or the error.
*/
static int read_chunk (lua_State *L, int *quiet) {
  char *line;
  const char *s;
  int r = read_line(L, 1, &line);
  if (r == VM_LINE_EOF) {
    putchar('\n');  /* leave the terminal on a fresh line */
    fflush(stdout);
    return CHUNK_QUIT;
  }
  if (r == VM_LINE_INTERRUPT)
    return interrupted(line, 1);
  want_exit = 0;
  s = line + strspn(line, " \t");
  if (*s == '\0' || *s == '?' ||
      (s[0] == ':' && s[1] != ':')) {  /* "::label::" is Lua */
    int what = CHUNK_NONE;
    if (*s != '\0')
      vm_line_remember(line);
    if (*s == '?')
      show_doc(L, s + 1);
    else if (*s == ':')
      what = command(s + 1);
    free(line);
    return what;
  }
  if (line[0] == '=')  /* "=x" means "return x", as in older Luas */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return read_more(L, quiet);
}


static double now (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


static void print_time (double seconds) {
  if (seconds < 1.0)
    printf("time: %.3f ms\n", seconds * 1e3);
  else
    printf("time: %.3f s\n", seconds);
  fflush(stdout);
}


/* the function on top runs; its values are printed unless quiet */
static void run (lua_State *L, int quiet) {
  int base = lua_gettop(L) - 1;
  double start = now();
  int status = vm_docall(L, 0, LUA_MULTRET);
  double elapsed = now() - start;
  if (status == LUA_OK && !quiet)
    vm_show(L, lua_gettop(L) - base);
  else if (status != LUA_OK) {
    if (vm_interrupted())  /* the terminal echoed ^C: end that line */
      putchar('\n');
    fflush(stdout);
    vm_report(L, status);
  }
  lua_settop(L, base);
  if (timing)
    print_time(elapsed);
}


/* globals hebb and T, unless taken or not loadable; string 1: global,
   string 2: module */
static int bind_module (lua_State *L) {
  if (lua_getglobal(L, lua_tostring(L, 1)) != LUA_TNIL)
    return 0;
  lua_getglobal(L, "require");
  lua_pushvalue(L, 2);
  lua_call(L, 1, 1);
  lua_setglobal(L, lua_tostring(L, 1));
  return 0;
}


static void bind (lua_State *L, const char *global, const char *module) {
  lua_pushcfunction(L, bind_module);
  lua_pushstring(L, global);
  lua_pushstring(L, module);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    lua_pop(L, 1);  /* silently without it */
}


void vm_repl (lua_State *L) {
  const char *progname = vm_progname;
  int tty = isatty(0);
  vm_progname = NULL;  /* REPL errors carry no program name */
  lua_settop(L, 0);
  bind(L, "hebb", "hebb");
  bind(L, "T", "hebb.tensor");
  vm_line_open(tty);
  vm_complete_init(L);
  if (tty) {
    printf("Type ? for help, Ctrl-D to exit.\n");
    fflush(stdout);
  }
  want_exit = 0;
  for (;;) {
    int quiet = 0;
    int what = read_chunk(L, &quiet);
    if (what == CHUNK_QUIT)
      break;
    if (what != CHUNK_NONE) {  /* the text is at 1, and above it... */
      vm_line_remember(lua_tostring(L, 1));
      if (what == CHUNK_RUN)
        run(L, quiet);  /* ...the function */
      else
        vm_report(L, LUA_ERRSYNTAX);  /* ...the syntax error */
    }
    lua_settop(L, 0);
  }
  vm_line_close();
  vm_progname = progname;
}
