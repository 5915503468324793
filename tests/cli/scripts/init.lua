-- run through LUA_INIT=@file
print("init file ran")
INIT_GLOBAL = 42
