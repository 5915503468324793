/* l_reduce.c -- placeholder while being written */
#include "lhebb.h"
void hebbL_open_reduce(lua_State *L, int module, int methods, int mt) {
  (void)L; (void)module; (void)methods; (void)mt;
}
