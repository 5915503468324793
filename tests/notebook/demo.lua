-- %% [meta]
-- title: A test notebook
-- seed: 7
-- requires: hebb.tensor, hebb.plot

-- %% [markdown]
-- A notebook with every kind of output.  The energy is $E = -J \sum_{\langle ij \rangle} s_i s_j$
-- and display math works too:
--
-- $$\langle m \rangle = \frac{1}{N} \sum_i s_i, \qquad \beta_c = \frac{\ln(1 + \sqrt{2})}{2}$$
--
-- - a list item with `code`
-- - and *emphasis*

-- %% Setup
local T = require "hebb.tensor"
local plot = require "hebb.plot"
local f = assert(io.open((arg[0]:match("^(.*)/") or ".") .. "/data.txt"))
local scale = f:read("n")
f:close()
print("scale from data.txt:", scale)

-- %% Big sums (parallel at 2 threads)
local x = T.randn(1000, 1000)
print(string.format("sum %.12f", x:sum()))
local a = T.randn(300, 300)
print(string.format("trace of a a^T %.10f", a:matmul(a:t()):diagonal():sum()))
warn("a warning from cell 2")

-- %% A figure
local t = T.linspace(0, 2 * math.pi, 60)
local fig = plot.figure { title = "waves", cols = 2, width = 760, height = 320 }
fig:panel(1):line(t, t:sin() * scale, { label = "$\\sin t$" }):set { xlabel = "$t$" }
fig:panel(2):heatmap(x:narrow(1, 1, 12):narrow(2, 1, 12), { label = "$x_{ij}$" })
plot.show(fig)

-- %% Expected failure [error=continue]
local y = nil
print(y.field)

-- %% Not run [eval=false]
print("this is not printed")

-- %% Last
io.write("done", "\n")
