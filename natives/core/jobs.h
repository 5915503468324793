/*
** jobs.h -- worker processes for hebb.sweep's `jobs` (natives/core/jobs.c):
** fork with a socket to the child, length-prefixed messages, waiting on
** several sockets.  Internal, like io.h: outside hebb.h's FFI block; the
** binding is natives/lua/l_jobs.c (module hebb._jobs).
*/
#ifndef HEBB_JOBS_H
#define HEBB_JOBS_H

#include <stdint.h>

#include "hebb.h"

/* Forks.  In the parent: *pid is the child's, *fd the parent's end of a
   socket to it.  In the child: *pid is 0, *fd the child's end; SIGINT and
   SIGPIPE are back to their defaults (Ctrl-C stops a worker at once, and a
   worker whose parent died dies at its next write). */
int hebb_job_fork(int *pid, int *fd);

/* one message: an 8-byte little-endian length, then the bytes */
int hebb_msg_send(int fd, const void *p, int64_t n);
/* the length of the next message, or -1 at the end of the stream */
int hebb_msg_len(int fd, int64_t *n);
int hebb_msg_body(int fd, void *p, int64_t n);

/* Waits up to timeout_ms (-1: forever) until one of fds[0..n) is readable
   or closed; sets ready[i] to 1 for those.  Returns HEBB_OK, also when the
   wait was cut short by a signal (the caller's loop then checks for it). */
int hebb_jobs_poll(const int *fds, int n, int timeout_ms, int *ready);

/* Reaps child pid (blocking unless nohang); *how is "exit" or "signal"
   and *code the exit status or signal number; *done is 0 if still
   running (nohang). */
int hebb_job_reap(int pid, int nohang, int *done, const char **how, int *code);

#endif
