/* l_view.c -- placeholder while being written */
#include "lhebb.h"
void hebbL_open_view(lua_State *L, int module, int methods, int mt) {
  (void)L; (void)module; (void)methods; (void)mt;
}
int hebbL_index_get(lua_State *L, hebb_tensor *t, int key) {
  (void)t; (void)key; return luaL_error(L, "indexing not yet");
}
int hebbL_index_set(lua_State *L, hebb_tensor *t, int key, int val) {
  (void)t; (void)key; (void)val; return luaL_error(L, "indexing not yet");
}
