/*
** states.c -- two Lua interpreters in one process, each with hebb.so's
** modules: what the bindings keep (grad mode, the count of tracked tensors,
** the GC debt of new tensors) belongs to one lua_State, so switching grad
** mode off in one leaves the other recording.  Built and run by
** tests/module/run.sh (against build/hebb.so and the shared liblua5.4).
** Prints "PASS module/states_<name>" or "FAIL ...: why".
*/
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_hebb(lua_State *L);   /* build/hebb.so */

static int failed = 0;

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "hebb", luaopen_hebb, 0);
  lua_pop(L, 1);
  return L;
}

/* runs chunk in L; it returns a string (what the check found) */
static const char *run(lua_State *L, const char *chunk) {
  if (luaL_dostring(L, chunk) != LUA_OK) return lua_tostring(L, -1);
  return lua_tostring(L, -1);
}

static void expect(const char *name, lua_State *L, const char *chunk,
                   const char *want) {
  const char *got = run(L, chunk);
  if (got && strcmp(got, want) == 0) printf("PASS module/states_%s\n", name);
  else {
    printf("FAIL module/states_%s: got %s, want %s\n", name,
           got ? got : "(nothing)", want);
    failed = 1;
  }
  lua_settop(L, 0);
}

static const char *const SETUP =
  "A = require 'hebb.autograd'; T = require 'hebb.tensor'; "
  "C = require 'hebb._autograd'; return 'ok'";

/* x*x recorded or not: the gradient of sum(x^2) at x = 3 is 6 */
static const char *const GRAD =
  "local x = T.tensor({3.0}):requires_grad_(); local y = (x * x):sum(); "
  "if not (T.is_tensor(y) and y.requires_grad) then return 'not recorded' end; "
  "y:backward(); return tostring(x.grad[1])";

int main(void) {
  lua_State *L1 = new_state(), *L2 = new_state();
  expect("setup_1", L1, SETUP, "ok");
  expect("setup_2", L2, SETUP, "ok");
  /* a tracked tensor kept alive in L1 */
  expect("track_in_1", L1, "keep = T.ones(2):requires_grad_(); "
         "return tostring(C.live())", "1");
  expect("none_tracked_in_2", L2, "return tostring(C.live())", "0");
  expect("grad_off_in_1", L1, "A.set_grad_enabled(false); "
         "return tostring(A.is_grad_enabled())", "false");
  expect("grad_still_on_in_2", L2, "return tostring(A.is_grad_enabled())",
         "true");
  expect("records_in_2", L2, GRAD, "6.0");
  expect("not_recorded_in_1", L1, GRAD, "not recorded");
  expect("grad_on_again_in_1", L1, "A.set_grad_enabled(true); "
         "return tostring(A.is_grad_enabled())", "true");
  expect("records_in_1", L1, GRAD, "6.0");
  /* the tensors L2 tracked are gone; L1's kept one still counts */
  expect("live_counts_apart", L2, "collectgarbage(); "
         "return tostring(C.live())", "0");
  expect("live_counts_apart_1", L1, "collectgarbage(); "
         "return tostring(C.live())", "1");
  lua_close(L1);
  expect("second_outlives_first", L2, GRAD, "6.0");
  lua_close(L2);
  return failed;
}
