/*
** l_jobs.c -- the module `hebb._jobs`: what hebb.sweep needs of the
** operating system to run points in worker processes (fork, sockets,
** waiting, reaping) and to write a run's manifest (wall-clock time, host
** name, process id).  natives/core/jobs.c does the work.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lhebb.h"
#include "jobs.h"

static int checkfd(lua_State *L, int idx) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  luaL_argcheck(L, fd >= 0 && fd < 1 << 20, idx, "not a file descriptor");
  return (int)fd;
}

static int l_fork(lua_State *L) {
  int pid, fd;
  hebbL_check_status(L, hebb_job_fork(&pid, &fd));
  lua_pushinteger(L, pid);
  lua_pushinteger(L, fd);
  return 2;
}

static int l_send(lua_State *L) {
  int fd = checkfd(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  hebbL_check_status(L, hebb_msg_send(fd, s, (int64_t)n));
  return 0;
}

/* the next message, or nil at the end of the stream */
static int l_recv(lua_State *L) {
  int fd = checkfd(L, 1);
  int64_t n;
  luaL_Buffer b;
  hebbL_check_status(L, hebb_msg_len(fd, &n));
  if (n < 0) {
    lua_pushnil(L);
    return 1;
  }
  luaL_buffinitsize(L, &b, (size_t)n);
  hebbL_check_status(L, hebb_msg_body(fd, luaL_prepbuffsize(&b, (size_t)n), n));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* poll({fd...}, timeout_s): a list of booleans, true where readable */
static int l_poll(lua_State *L) {
  int fds[256], ready[256], n, i;
  double t = luaL_optnumber(L, 2, -1);
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)luaL_len(L, 1);
  luaL_argcheck(L, n <= 256, 1, "at most 256 descriptors");
  for (i = 0; i < n; i++) {
    lua_geti(L, 1, i + 1);
    fds[i] = checkfd(L, -1);
    lua_pop(L, 1);
  }
  hebbL_check_status(L, hebb_jobs_poll(fds, n, t < 0 ? -1 : (int)(t * 1000),
                                       ready));
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushboolean(L, ready[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_reap(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  int done, code;
  const char *how;
  luaL_argcheck(L, pid > 0, 1, "not a process id");
  hebbL_check_status(L, hebb_job_reap((int)pid, lua_toboolean(L, 2), &done,
                                      &how, &code));
  lua_pushboolean(L, done);
  lua_pushstring(L, how);
  lua_pushinteger(L, code);
  return 3;
}

static int l_kill(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  static const char *const names[] = {"TERM", "KILL", NULL};
  static const int sigs[] = {SIGTERM, SIGKILL};
  int s = luaL_checkoption(L, 2, "TERM", names);
  luaL_argcheck(L, pid > 0, 1, "not a process id");
  lua_pushboolean(L, kill((pid_t)pid, sigs[s]) == 0);
  return 1;
}

static int l_close(lua_State *L) {
  close(checkfd(L, 1));
  return 0;
}

/* ends a worker at once: no Lua state to close (it is the parent's copy),
   no atexit handlers of the parent's libraries */
static int l_exit(lua_State *L) {
  int code = (int)luaL_optinteger(L, 1, 0);
  fflush(NULL);
  _exit(code);
  return 0;
}

static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
  return 1;
}

static int l_hostname(lua_State *L) {
  char buf[256];
  if (gethostname(buf, sizeof buf) != 0) buf[0] = '\0';
  buf[sizeof buf - 1] = '\0';
  lua_pushstring(L, buf);
  return 1;
}

static int l_pid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static const hebb_lreg jobs_funcs[] = {
  {"fork", l_fork, HEBB_FN | HEBB_RAW,
   "_jobs.fork()\n\nA worker process: returns pid, fd (the socket to it) in "
   "the parent and 0, fd in the child, which runs at one thread."},
  {"send", l_send, HEBB_FN | HEBB_RAW,
   "_jobs.send(fd, s)\n\nSends the string s as one message."},
  {"recv", l_recv, HEBB_FN | HEBB_RAW,
   "_jobs.recv(fd)\n\nThe next message, or nil when the other end closed."},
  {"poll", l_poll, HEBB_FN | HEBB_RAW,
   "_jobs.poll(fds [, timeout_s])\n\nWaits until one of the sockets fds is "
   "readable or closed (or timeout_s, or a signal); a list of booleans."},
  {"reap", l_reap, HEBB_FN | HEBB_RAW,
   "_jobs.reap(pid [, nohang])\n\nWaits for worker pid to end: done, "
   "\"exit\" or \"signal\", the status or signal number."},
  {"kill", l_kill, HEBB_FN | HEBB_RAW,
   "_jobs.kill(pid [, \"TERM\" | \"KILL\"])\n\nSends a signal to a worker."},
  {"close", l_close, HEBB_FN | HEBB_RAW,
   "_jobs.close(fd)\n\nCloses a socket."},
  {"exit", l_exit, HEBB_FN | HEBB_RAW,
   "_jobs.exit([code])\n\nEnds a worker process at once (_exit)."},
  {"now", l_now, HEBB_FN | HEBB_RAW,
   "_jobs.now()\n\nSeconds since 1970 (wall clock, for timestamps)."},
  {"hostname", l_hostname, HEBB_FN | HEBB_RAW,
   "_jobs.hostname()\n\nThe machine's host name."},
  {"pid", l_pid, HEBB_FN | HEBB_RAW,
   "_jobs.pid()\n\nThe id of this process."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb__jobs(lua_State *L) {
  return hebbL_newmodule(L, jobs_funcs,
    "hebb._jobs\n\nC helpers of hebb.sweep: worker processes, messages, "
    "timestamps, host name.");
}
