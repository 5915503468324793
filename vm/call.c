/*
** call.c -- protected calls for the executable: tracebacks, error
** reports, and Ctrl-C while Lua code (or a C kernel) runs.
**
** Follows lua.c, the stand-alone interpreter of Lua 5.4:
** Copyright (C) 1994-2022 Lua.org, PUC-Rio.  See LICENSE for the notice.
*/
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <signal.h>
#include <stdio.h>

#include "lua.h"
#include "lauxlib.h"

#include "hebb.h"
#include "vm.h"


void vm_message (const char *pname, const char *msg) {
  if (pname != NULL)
    fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}


int vm_report (lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) {  /* only a handler-less error can get here */
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, -1));
      lua_remove(L, -2);
    }
    vm_message(vm_progname, msg);
    lua_pop(L, 1);
  }
  return status;
}


/* message handler: a string error gets a traceback; other objects are
   shown through __tostring when they have one (and then without
   traceback, as lua5.4 does) */
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/*
** {======================================================
** Ctrl-C while running
** A signal handler may not touch the Lua state beyond lua_sethook (which
** is safe to call asynchronously), so SIGINT installs a hook that raises
** the error at the next instruction; C kernels are told through
** hebb_interrupt(), a flag they poll.
** =======================================================
*/

static lua_State *running;  /* the state whose call SIGINT stops */
static volatile sig_atomic_t interrupted;  /* SIGINT came during the call */


/* Raises "interrupted!" at the first chance -- unless that chance is the
   call of the message handler: then an error (a C kernel's own report of
   the interruption, most likely) is already on its way, and raising
   another one inside the handler would only garble it. */
static void stop_hook (lua_State *L, lua_Debug *ar) {
  int in_handler = 0;
  lua_sethook(L, NULL, 0, 0);
  if (ar->event == LUA_HOOKCALL && lua_getinfo(L, "f", ar)) {
    in_handler = (lua_tocfunction(L, -1) == msghandler);
    lua_pop(L, 1);
  }
  if (!in_handler)
    luaL_error(L, "interrupted!");
}


/* installed with SA_RESETHAND: a second Ctrl-C, while a kernel that never
   polls ignores the first, ends the process as with lua5.4 */
static void on_sigint (int sig) {
  (void)sig;
  interrupted = 1;
  hebb_interrupt();
  lua_sethook(running, stop_hook,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}


int vm_interrupted (void) {
  return interrupted;
}


int vm_docall (lua_State *L, int narg, int nres) {
  struct sigaction sa, old;
  int status;
  int base = lua_gettop(L) - narg;  /* function index */
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  hebb_clear_interrupt();  /* a Ctrl-C of an earlier call is spent */
  interrupted = 0;
  running = L;
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  if (lua_gethook(L) == stop_hook)  /* came too late to stop anything */
    lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);
  return status;
}

/* }====================================================== */
