/*
** clock.c -- the monotonic wall clock behind hebb.clock().
*/
#include <time.h>

#include "core.h"

double hebb_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
