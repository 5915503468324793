/*
** hebb.c -- main of the hebb executable.
** vm/ is the executable around the embedded Lua VM: Lua 5.4 itself is
** linked in (liblua5.4.a), and vm/ adds only what a program around it
** needs -- the command line, the REPL, error reports -- while hebb's
** modules (natives/, stdlib/) are the same ones hebb.so gives stock lua5.4.
** The command line is that of lua5.4 (same options, arg table, LUA_INIT,
** exit codes and error messages) plus a few hebb options; hebb's modules
** are preloaded, so scripts `require "hebb"` without any search path.
**
** Follows lua.c, the stand-alone interpreter of Lua 5.4:
** Copyright (C) 1994-2022 Lua.org, PUC-Rio.  See LICENSE for the notice.
*/
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "hebb.h"
#include "lhebb.h"
#include "vm.h"

#define HEBB_PROGNAME   "hebb"
#define HEBB_MAXTHREADS 1024

/* environment variables read before anything runs */
#define INIT_VAR         "LUA_INIT"
#define INIT_VAR_VERSION INIT_VAR LUA_VERSUFFIX
#define THREADS_VAR      "HEBB_THREADS"
#define MAXMEM_VAR       "HEBB_MAX_MEMORY"

const char *vm_progname = HEBB_PROGNAME;

/* subcommands written in Lua: `hebb notebook ARGS...` calls
   require("hebb.notebook").main{ARGS...}, whose result is the exit status */
static const char *const commands[][2] = {
  {"notebook", "hebb.notebook"},
  {"runs", "hebb.runs"},
  {NULL, NULL}
};


/* what the options ask for */
enum {
  OPT_ERROR = 1,     /* a bad option: print the usage and fail */
  OPT_INTERACT = 2,  /* -i */
  OPT_VERSION = 4,   /* -v (and -i) */
  OPT_NOENV = 8,     /* -E */
  OPT_EXEC = 16,     /* -e */
  OPT_HELP = 32,     /* -h, --help */
  OPT_SANDBOX = 64   /* --sandbox */
};

typedef struct Options {
  int flags;
  int script;           /* argv index of the script; argc when none */
  int bad;              /* argv index of the bad option (OPT_ERROR) */
  const char *threads;  /* the value given to --threads, or NULL */
  const char *maxmem;   /* the value given to --max-memory, or NULL */
  const char *cpu, *mem;  /* --cpu and --mem (with --sandbox), or NULL */
} Options;

/* the exit status of a subcommand (-1: none ran) */
static int command_status = -1;


/*
** {======================================================
** Options
** =======================================================
*/

static void usage_text (FILE *f) {
  fprintf(f,
    "usage: %s [options] [script [args]]\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables\n"
    "  -W        turn warnings on\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "hebb options:\n"
    "  -h, --help         show this help\n"
    "  --threads N        run tensor kernels on N threads (1..%d; default:\n"
    "                     $" THREADS_VAR ", else the core's choice)\n"
    "  --max-memory SIZE  cap the tensor memory in use (512M, 2G; default:\n"
    "                     $" MAXMEM_VAR ", else no cap)\n"
    "  --sandbox          run a script someone else wrote: no processes, no\n"
    "                     C modules or bytecode, reads only below its folder,\n"
    "                     no writes (implies -E; no -e, -l, -i)\n"
    "  --cpu S, --mem MB  limits of CPU seconds and memory (with --sandbox)\n"
    "  notebook ...       `hebb notebook help`: run, check, export notebooks\n"
    "  runs ...           `hebb runs help`: the results store of hebb.sweep\n"
    "Environment: " INIT_VAR_VERSION " or " INIT_VAR ", LUA_PATH, LUA_CPATH, "
    THREADS_VAR ",\n  " MAXMEM_VAR " (ignored with -E); HEBB_HISTORY: the "
    "REPL's history\n  file (default ~/.hebb_history).\n"
    "Without a script, and with a terminal on stdin, hebb starts its REPL.\n",
    vm_progname, HEBB_MAXTHREADS);
}


/* the complaint about argv[bad], then the usage; like lua5.4 */
static void print_usage (const char *badoption) {
  fprintf(stderr, "%s: ", vm_progname);
  if (strcmp(badoption, "-e") == 0 || strcmp(badoption, "-l") == 0 ||
      strcmp(badoption, "--threads") == 0 ||
      strcmp(badoption, "--max-memory") == 0 ||
      strcmp(badoption, "--cpu") == 0 || strcmp(badoption, "--mem") == 0)
    fprintf(stderr, "'%s' needs argument\n", badoption);
  else
    fprintf(stderr, "unrecognized option '%s'\n", badoption);
  usage_text(stderr);
  fflush(stderr);
}


static void print_version (void) {
  printf("%s\nhebb %s\n", LUA_COPYRIGHT, hebb_version());
  fflush(stdout);
}


/* an option made of one letter must have nothing after it */
static int single (const char *opt) {
  return opt[2] == '\0';
}


/*
** Reads the options, which end at the first argument that is not one
** (the script), at "--" or at "-".  Like lua5.4, -e and -l take their
** argument glued or as the next word, which must not start with '-'.
** --threads and --max-memory take any next word (a bad one gets a clear
** message later).
*/
static void collect_options (int argc, char **argv, Options *o) {
  int i;
  o->flags = 0;
  o->bad = 0;
  o->threads = NULL;
  o->maxmem = NULL;
  o->cpu = o->mem = NULL;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    o->bad = i;
    if (a[0] != '-')  /* the script */
      break;
    switch (a[1]) {
      case '\0':  /* "-": the script is stdin */
        o->script = i;
        return;
      case '-':
        if (a[2] == '\0') {  /* "--": the script is the next word */
          o->script = i + 1;
          return;
        }
        if (strcmp(a, "--help") == 0)
          o->flags |= OPT_HELP;
        else if (strncmp(a, "--threads=", 10) == 0)
          o->threads = a + 10;
        else if (strcmp(a, "--threads") == 0 && i + 1 < argc)
          o->threads = argv[++i];
        else if (strncmp(a, "--max-memory=", 13) == 0)
          o->maxmem = a + 13;
        else if (strcmp(a, "--max-memory") == 0 && i + 1 < argc)
          o->maxmem = argv[++i];
        else if (strcmp(a, "--sandbox") == 0)
          o->flags |= OPT_SANDBOX;
        else if (strncmp(a, "--cpu=", 6) == 0)
          o->cpu = a + 6;
        else if (strcmp(a, "--cpu") == 0 && i + 1 < argc)
          o->cpu = argv[++i];
        else if (strncmp(a, "--mem=", 6) == 0)
          o->mem = a + 6;
        else if (strcmp(a, "--mem") == 0 && i + 1 < argc)
          o->mem = argv[++i];
        else
          goto error;
        break;
      case 'h':
        if (!single(a)) goto error;
        o->flags |= OPT_HELP;
        break;
      case 'E':
        if (!single(a)) goto error;
        o->flags |= OPT_NOENV;
        break;
      case 'W':
        if (!single(a)) goto error;
        break;
      case 'i':  /* -i implies -v */
        o->flags |= OPT_INTERACT;
        /* FALLTHROUGH */
      case 'v':
        if (!single(a)) goto error;
        o->flags |= OPT_VERSION;
        break;
      case 'e':
        o->flags |= OPT_EXEC;  /* -e and -l both take an argument */
        /* FALLTHROUGH */
      case 'l':
        if (single(a)) {
          i++;
          if (i >= argc || argv[i][0] == '-')
            goto error;
        }
        break;
      default:
        goto error;
    }
  }
  o->script = i;
  return;
error:
  o->flags = OPT_ERROR;
  o->script = argc;
}


/* a positive thread count, or 0 after complaining about it */
static int thread_count (const char *s, const char *what) {
  char *end;
  long n;
  errno = 0;
  n = strtol(s, &end, 10);
  if (s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0 &&
      n >= 1 && n <= HEBB_MAXTHREADS)
    return (int)n;
  fprintf(stderr, "%s: bad value for %s: '%s' (expected an integer from "
                  "1 to %d)\n", vm_progname, what, s, HEBB_MAXTHREADS);
  fflush(stderr);
  return 0;
}


/* --threads wins over HEBB_THREADS; -E hides the variable */
static int set_threads (const Options *o) {
  const char *env = (o->flags & OPT_NOENV) ? NULL : getenv(THREADS_VAR);
  int n;
  if (o->threads != NULL)
    n = thread_count(o->threads, "--threads");
  else if (env != NULL && env[0] != '\0')
    n = thread_count(env, THREADS_VAR);
  else
    return 1;  /* leave the core's default */
  if (n == 0)
    return 0;
  hebb_set_num_threads(n);
  return 1;
}

/* --max-memory wins over HEBB_MAX_MEMORY; -E hides the variable */
static int set_max_memory (const Options *o) {
  const char *env = (o->flags & OPT_NOENV) ? NULL : getenv(MAXMEM_VAR);
  const char *s = o->maxmem != NULL ? o->maxmem : env;
  const char *what = o->maxmem != NULL ? "--max-memory" : MAXMEM_VAR;
  int64_t n;
  if (s == NULL || s[0] == '\0')
    return 1;  /* no cap */
  n = hebb_parse_size(s);
  if (n < 0) {
    fprintf(stderr, "%s: bad value for %s: '%s' (expected a size like 512M "
                    "or 2G, or 0 for no cap)\n", vm_progname, what, s);
    fflush(stderr);
    return 0;
  }
  hebb_alloc_set_limit(n);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Running chunks
** =======================================================
*/

static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK)
    status = vm_docall(L, 0, 0);
  return vm_report(L, status);
}


static int dofile (lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}


static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}


/* -l mod, -l g=mod: global 'g' (or 'mod') = require("mod") */
static int dolibrary (lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *modname = (eq != NULL) ? eq + 1 : spec;
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = vm_docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq != NULL)
      lua_pushlstring(L, spec, (size_t)(eq - spec));
    else
      lua_pushstring(L, spec);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);  /* the name */
  }
  return vm_report(L, status);
}


/*
** arg[0] is the script, arg[1..] its arguments, arg[-1..] the interpreter
** and options; without a script everything counts from argv[0] = arg[0].
*/
static void create_arg_table (lua_State *L, char **argv, int argc,
                              int script) {
  int i;
  if (script == argc)
    script = 0;
  lua_createtable(L, argc - script - 1, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}


/* pushes arg[1..n] as the script's varargs; returns n */
static int push_args (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);  /* the table */
  return n;
}


/* "-" is stdin, unless it came after "--" (then it is a file name) */
static int run_script (lua_State *L, char **argv) {
  const char *fname = argv[0];
  int status;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = push_args(L);
    status = vm_docall(L, n, LUA_MULTRET);
  }
  return vm_report(L, status);
}


/* require(mod).fn, pushed; a status */
static int push_lua_function (lua_State *L, const char *mod, const char *fn) {
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = vm_docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
  }
  return status;
}


/* --sandbox: hebb.sandbox.prepare(script, cpu, mem) installs the sandbox
   and loads the script into it (text only); then it runs like any script */
static int run_sandboxed (lua_State *L, char **argv, const Options *o) {
  int status = push_lua_function(L, "hebb.sandbox", "prepare");
  if (status == LUA_OK) {
    lua_pushstring(L, argv[0]);
    lua_pushstring(L, o->cpu);   /* nil when not given */
    lua_pushstring(L, o->mem);
    status = vm_docall(L, 3, 1);
  }
  if (status == LUA_OK) {
    int n = push_args(L);
    status = vm_docall(L, n, LUA_MULTRET);
  }
  return vm_report(L, status);
}


/* the module of subcommand argv[i] (not after "--"), or NULL */
static const char *command_module (char **argv, int i) {
  int k;
  if (strcmp(argv[i - 1], "--") == 0)
    return NULL;
  for (k = 0; commands[k][0]; k++)
    if (strcmp(argv[i], commands[k][0]) == 0)
      return commands[k][1];
  return NULL;
}


/* `hebb CMD ARGS...`: require(mod).main{ARGS...} gives the exit status */
static int run_command (lua_State *L, const char *mod, char **argv, int n) {
  int i, status = push_lua_function(L, mod, "main");
  if (status == LUA_OK) {
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i + 1);
    }
    status = vm_docall(L, 1, 1);
  }
  command_status = status == LUA_OK ? (int)lua_tointeger(L, -1) : 1;
  return vm_report(L, status);
}


/* LUA_INIT_5_4, else LUA_INIT: a chunk, or @file */
static int run_init (lua_State *L) {
  const char *name = "=" INIT_VAR_VERSION;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL)
    return LUA_OK;
  if (init[0] == '@')
    return dofile(L, init + 1);
  return dostring(L, init, name);
}


/* -e, -l and -W, in the order given; 0 when one of them failed */
static int run_options (lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    const char *a = argv[i];
    int status = LUA_OK;
    switch (a[1]) {
      case 'e':
      case 'l': {
        const char *extra = (a[2] != '\0') ? a + 2 : argv[++i];
        status = (a[1] == 'e') ? dostring(L, extra, "=(command line)")
                               : dolibrary(L, extra);
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
      case '-':  /* --threads N, --max-memory SIZE, --cpu S, --mem MB */
        if (strcmp(a, "--threads") == 0 || strcmp(a, "--max-memory") == 0 ||
            strcmp(a, "--cpu") == 0 || strcmp(a, "--mem") == 0)
          i++;
        break;
    }
    if (status != LUA_OK)
      return 0;
  }
  return 1;
}

/* }====================================================== */


/* everything after the state exists runs protected, so that even a memory
   error while setting up is reported like any other */
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  Options o;
  luaL_checkversion(L);
  collect_options(argc, argv, &o);
  if (o.flags & OPT_ERROR) {
    print_usage(argv[o.bad]);
    return 0;
  }
  if (o.flags & OPT_HELP) {
    usage_text(stdout);
    fflush(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!set_threads(&o) || !set_max_memory(&o))
    return 0;
  if ((o.flags & OPT_SANDBOX) &&
      ((o.flags & (OPT_EXEC | OPT_INTERACT)) || o.script == argc ||
       strcmp(argv[o.script], "-") == 0)) {
    vm_message(vm_progname, "--sandbox runs one script file: -e, -l, -i and "
               "stdin are not allowed with it");
    return 0;
  }
  if ((o.cpu || o.mem) && !(o.flags & OPT_SANDBOX)) {
    vm_message(vm_progname, "--cpu and --mem go with --sandbox");
    return 0;
  }
  if (o.flags & OPT_SANDBOX)
    o.flags |= OPT_NOENV;
  if (o.flags & OPT_VERSION)
    print_version();
  if (o.flags & OPT_NOENV) {  /* tell the package library */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  hebb_preload(L);
  create_arg_table(L, argv, argc, o.script);
  /* lua5.4 runs scripts with a generational collector; so do we, so that
     collectgarbage() answers the same */
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(o.flags & OPT_NOENV) && run_init(L) != LUA_OK)
    return 0;
  if (!run_options(L, argv, o.script))
    return 0;
  if (o.script < argc && !(o.flags & OPT_SANDBOX) &&
      command_module(argv, o.script)) {
    run_command(L, command_module(argv, o.script), argv + o.script + 1,
                argc - o.script - 1);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (o.script < argc && (o.flags & OPT_SANDBOX)) {
    if (run_sandboxed(L, argv + o.script, &o) != LUA_OK)
      return 0;
  }
  else if (o.script < argc && run_script(L, argv + o.script) != LUA_OK)
    return 0;
  if (o.flags & OPT_INTERACT)
    vm_repl(L);
  else if (o.script == argc && !(o.flags & (OPT_EXEC | OPT_VERSION))) {
    if (isatty(0)) {
      print_version();
      vm_repl(L);
    }
    else  /* piped stdin is a script; lua5.4 exits with 0 even when it
             fails, and so must we */
      dofile(L, NULL);
  }
  lua_pushboolean(L, 1);
  return 1;
}


int main (int argc, char **argv) {
  lua_State *L;
  hebb_lua_cache *cache;
  int status, ok;
  if (argv[0] != NULL && argv[0][0] != '\0')
    vm_progname = argv[0];
  L = luaL_newstate();
  if (L == NULL) {
    vm_message(vm_progname, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  /* Lua's small blocks (a small tensor's box) kept for reuse by size;
     luaL_newstate's own allocator is realloc and free, as is this one's
     fallback, so the blocks it made so far go on through this one */
  cache = hebb_lua_cache_new();
  if (cache) lua_setallocf(L, hebb_lua_alloc, cache);
  lua_gc(L, LUA_GCSTOP);  /* no collections while building the state */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  ok = lua_toboolean(L, -1);
  vm_report(L, status);
  if (!ok || status != LUA_OK)
    hebbL_mpi_failed();   /* under mpirun: the other ranks stop too */
  lua_close(L);
  hebb_lua_cache_free(cache);
  if (command_status >= 0 && status == LUA_OK)
    return command_status;
  return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
