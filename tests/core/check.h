/* check.h -- tiny harness for the core's C unit tests: each CHECK prints
   "PASS suite/name" or "FAIL suite/name: why"; check_done() is the exit code. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int check_failed;

#define CHECK(name, cond) do {                                              \
    if (cond) printf("PASS %s/%s\n", SUITE, name);                           \
    else { printf("FAIL %s/%s: %s (line %d)\n", SUITE, name, #cond, __LINE__); \
           check_failed++; }                                                \
  } while (0)

static int check_done(void) { return check_failed ? 1 : 0; }
#endif
