-- hebb._parts: how a module made of several files is put together
-- (docs/design.md, "Modules made of several files").
--
-- The module's main file lists its parts; each part is a plain module
-- (stdlib/hebb/_x_part.lua is hebb._x_part) that returns a table.  install
-- copies every public name (a string key without a leading underscore) of
-- each part into the module table.  Two parts exporting one name is a
-- mistake in the library, reported when the module loads.
local M = {}

function M.install(mod, parts, modname)
  local from = {}
  for _, part in ipairs(parts) do
    for k, v in pairs(require(part)) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" then
        if from[k] then
          error(string.format("%s: %s and %s both export '%s'", modname, from[k], part, k), 0)
        end
        from[k], mod[k] = part, v
      end
    end
  end
  return mod
end

return M
