-- os.exit with the code given as argument; buffered output must survive
io.write("partial line without newline")
local how = ...
if how == "true" then os.exit(true)
elseif how == "false" then os.exit(false)
elseif how == "close" then
  setmetatable({}, { __gc = function() print("\nfinalizer ran") end })
  os.exit(0, true)
else os.exit(tonumber(how)) end
