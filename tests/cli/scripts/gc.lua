-- finalizers and to-be-closed variables run when the state closes
setmetatable({}, { __gc = function() print("finalizer at exit") end })
print(collectgarbage("incremental"))
print("body done")
