/*
** jobs.c -- worker processes for hebb.sweep: fork, a socket per worker,
** length-prefixed messages.
**
** A worker is a fork of the process running the sweep, so the function of
** a point (a Lua closure with its upvalues) is simply there; only points
** (their index) go to a worker and encoded results come back.  Workers run
** at one thread: libgomp's pool of threads does not survive fork (the
** child would wait forever for threads that do not exist in it), and
** hebb's loops at one thread never enter an OpenMP region.
**
** Sockets rather than pipes: send(MSG_NOSIGNAL) lets the parent see a dead
** worker as an error instead of being killed by SIGPIPE.
*/
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "jobs.h"

int hebb_job_fork(int *pid, int *fd) {
  int sv[2];
  pid_t p;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return hebb_fail(HEBB_ERR_IO, "cannot make a socket for a worker: %s",
                     strerror(errno));
  fflush(NULL);   /* else the child writes the parent's buffered output too */
  p = fork();
  if (p < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return hebb_fail(HEBB_ERR_IO, "cannot start a worker: %s", strerror(e));
  }
  if (p == 0) {
    close(sv[0]);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    hebb_set_num_threads(1);
    *fd = sv[1];
  }
  else {
    close(sv[1]);
    *fd = sv[0];
  }
  *pid = (int)p;
  return HEBB_OK;
}

static int send_all(int fd, const char *p, int64_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return hebb_fail(HEBB_ERR_IO, "cannot write to a worker's socket: %s",
                       strerror(errno));
    p += w;
    n -= w;
  }
  return HEBB_OK;
}

/* exactly n bytes; *got is how many came before the end of the stream */
static int recv_all(int fd, char *p, int64_t n, int64_t *got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = read(fd, p + *got, (size_t)(n - *got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return hebb_fail(HEBB_ERR_IO, "cannot read a worker's socket: %s",
                       strerror(errno));
    if (r == 0) break;
    *got += r;
  }
  return HEBB_OK;
}

int hebb_msg_send(int fd, const void *p, int64_t n) {
  unsigned char h[8];
  int i, st;
  for (i = 0; i < 8; i++) h[i] = (unsigned char)((uint64_t)n >> (8 * i));
  st = send_all(fd, (const char *)h, 8);
  return st ? st : send_all(fd, p, n);
}

int hebb_msg_len(int fd, int64_t *n) {
  unsigned char h[8];
  uint64_t v = 0;
  int64_t got;
  int i, st = recv_all(fd, (char *)h, 8, &got);
  if (st) return st;
  if (got == 0) {
    *n = -1;
    return HEBB_OK;
  }
  if (got < 8)
    return hebb_fail(HEBB_ERR_IO, "a worker's message was cut after %lld "
                     "bytes", (long long)got);
  for (i = 0; i < 8; i++) v |= (uint64_t)h[i] << (8 * i);
  if (v > ((uint64_t)1 << 40))
    return hebb_fail(HEBB_ERR_IO, "a worker's message claims %llu bytes",
                     (unsigned long long)v);
  *n = (int64_t)v;
  return HEBB_OK;
}

int hebb_msg_body(int fd, void *p, int64_t n) {
  int64_t got;
  int st = recv_all(fd, p, n, &got);
  if (st) return st;
  if (got < n)
    return hebb_fail(HEBB_ERR_IO, "a worker's message was cut after %lld of "
                     "%lld bytes", (long long)got, (long long)n);
  return HEBB_OK;
}

int hebb_jobs_poll(const int *fds, int n, int timeout_ms, int *ready) {
  struct pollfd p[256];
  int i, r;
  if (n > 256)
    return hebb_fail(HEBB_ERR_ARG, "cannot wait on %d workers (at most 256)", n);
  for (i = 0; i < n; i++) {
    p[i].fd = fds[i];
    p[i].events = POLLIN;
    p[i].revents = 0;
    ready[i] = 0;
  }
  r = poll(p, (nfds_t)n, timeout_ms);
  if (r < 0 && errno != EINTR)
    return hebb_fail(HEBB_ERR_IO, "cannot wait for workers: %s",
                     strerror(errno));
  for (i = 0; r > 0 && i < n; i++)
    ready[i] = (p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  return HEBB_OK;
}

int hebb_job_reap(int pid, int nohang, int *done, const char **how, int *code) {
  int status = 0;
  pid_t r;
  do r = waitpid((pid_t)pid, &status, nohang ? WNOHANG : 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return hebb_fail(HEBB_ERR_IO, "cannot wait for worker %d: %s", pid,
                     strerror(errno));
  *done = r != 0;
  *how = WIFSIGNALED(status) ? "signal" : "exit";
  *code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
  return HEBB_OK;
}
