-- a module for -l tests (found through LUA_PATH)
print("loading mymod", ...)
return { name = "mymod" }
