/* l_random.c -- placeholder while being written */
#include "lhebb.h"
void hebbL_open_random(lua_State *L, int module, int methods, int mt) {
  (void)L; (void)module; (void)methods; (void)mt;
}
