-- a runtime error a few calls deep
local function inner(x)
  return x.field.missing
end
local function outer()
  return inner({})
end
outer()
