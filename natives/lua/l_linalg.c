/* l_linalg.c -- placeholder while being written */
#include "lhebb.h"
void hebbL_open_linalg(lua_State *L, int module, int methods, int mt) {
  (void)L; (void)module; (void)methods; (void)mt;
}
