-- hebb._numeric: the checks of numeric arguments that hebb.ode and
-- hebb.fields share, raising at the caller's line (hebb._error).
local E = require "hebb._error"

local N = {}

-- a Lua number that is neither NaN nor infinite
function N.finite(x)
  return type(x) == "number" and x == x and x > -math.huge and x < math.huge
end

-- v (def when v is nil) as a finite number >= lo, or > lo when strict;
-- otherwise "who: what must be a finite number >= lo, got v"
function N.number(who, v, def, what, lo, strict)
  if v == nil then v = def end
  if not N.finite(v) or v < lo or (strict and v == lo) then
    E.raise("%s: %s must be a finite number %s %g, got %s", who, what, strict and ">" or ">=",
            lo, E.show(v))
  end
  return v
end

-- the same for v > 0
function N.positive(who, v, def, what) return N.number(who, v, def, what, 0, true) end

return N
