/*
** error.c -- per-thread error status and message of the core.
** The core reports failures by returning a status; the message that names
** the problem and the values involved is kept here for the caller (the Lua
** binding turns it into a Lua error after releasing what it holds).
*/
#include <stdio.h>
#include <string.h>

#include "core.h"

static _Thread_local int last_status = HEBB_OK;
static _Thread_local char last_msg[512];

static void set_error(int status, const char *fmt, va_list ap) {
  last_status = status;
  vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
}

int hebb_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(status, fmt, ap);
  va_end(ap);
  return status;
}

void *hebb_fail_null(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(status, fmt, ap);
  va_end(ap);
  return NULL;
}

hebb_status hebb_last_status(void) { return last_status; }

const char *hebb_last_error(void) {
  return last_status == HEBB_OK ? "" : last_msg;
}

void hebb_clear_error(void) {
  last_status = HEBB_OK;
  last_msg[0] = '\0';
}

const char *hebb_version(void) { return HEBB_VERSION; }

/* Formats a shape as "{2,3}" for messages; truncates quietly. */
const char *hebb_shape_str(int ndim, const int64_t *shape, char *buf,
                           size_t size) {
  size_t n = 0;
  int i;
  n += (size_t)snprintf(buf, size, "{");
  for (i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld",
                          (long long)shape[i]);
  if (n < size) snprintf(buf + n, size - n, "}");
  return buf;
}
