-- hebb._display: where figures and progress go.  While a notebook runs,
-- the runner sets M.sink, a function that takes {kind = "figure", svg =,
-- title =}; hebb.plot's show() sends figures to it, and progress bars stay
-- silent.  Outside a notebook sink is nil: figures get a text preview on a
-- terminal, progress bars draw on a terminal.
local M = {}

M.sink = nil

-- whether displays go to a notebook rather than to the terminal
function M.notebook() return M.sink ~= nil end

return M
