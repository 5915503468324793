/* l_index.c -- placeholder while being written */
#include "lhebb.h"
void hebbL_open_index(lua_State *L, int module, int methods, int mt) {
  (void)L; (void)module; (void)methods; (void)mt;
}
