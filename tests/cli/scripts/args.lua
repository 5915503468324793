-- prints the arg table and the script's varargs
local n = select("#", ...)
print("varargs", n, ...)
print("#arg", #arg)
local lo = 0
while arg[lo - 1] ~= nil do lo = lo - 1 end
for i = lo, #arg do print(i, arg[i]) end
