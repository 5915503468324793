-- error objects that are not strings
local kind = ...
if kind == "table" then error({ code = 1 })
elseif kind == "tostring" then
  error(setmetatable({}, { __tostring = function() return "custom message" end }))
elseif kind == "nil" then error(nil)
elseif kind == "number" then error(42)
elseif kind == "level0" then error("no position", 0)
end
