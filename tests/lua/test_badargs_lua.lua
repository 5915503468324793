-- test_badargs_lua.lua -- the public functions of hebb's Lua modules
-- (autograd, optim, nn, data, metrics, io, graph and tensor.lua's helpers)
-- called with wrong types, nil, negative/zero/huge/NaN sizes, unknown
-- options and wrong dtypes.  Each row pins the whole message: it names the
-- function, the argument and the value, and is positioned at the row's own
-- line (the user's line, not a library line).  The C-bound functions of
-- hebb.tensor/linalg/fft/sparse have their own suite.
local check = require "check"
local T = require "hebb.tensor"
local A = require "hebb.autograd"

local FILE = debug.getinfo(1, "S").short_src

-- each row {function() call end, message}, written on one line
local function rows(group, list)
  for i, r in ipairs(list) do
    local line = debug.getinfo(r[1], "S").linedefined
    local want = FILE .. ":" .. line .. ": " .. r[2]
    local ok, err = pcall(r[1])
    check.ok(group .. "_" .. i, not ok and err == want,
      ok and "no error, want: " .. want or "got:  " .. tostring(err) .. "\nwant: " .. want)
  end
end

local x = T.ones(2)
local xt = T.ones(2):requires_grad_()
local i64 = T.ones(2, { dtype = "i64" })
local f = function(z) return (z * z):sum() end
local nan = 0 / 0

rows("autograd", {
  { function() A.defrule("add", 5) end, "autograd.defrule: fn must be a function, got 5" },
  { function() A.defrule(5, f) end, "autograd.defrule: name must be a string, got 5" },
  { function() A.defrule("myop", f, { save = { 1 } }) end, "autograd.defrule: unknown option \"save\" (did you mean 'saves'?)" },
  { function() A.defrule("myop", f, { saves = { -1 } }) end, "autograd.defrule: opts.saves[1] must be an integer >= 0, got -1" },
  { function() A.defrule("myop", f, 3) end, "autograd.defrule: options must be a table, got 3" },
  { function() A.nondiff("a", 3) end, "autograd.nondiff: argument 2 must be a string, got 3" },
  { function() A.no_grad(3) end, "autograd.no_grad: fn must be a function, got 3" },
  { function() A.enable_grad() end, "autograd.enable_grad: fn must be a function, got nil" },
  { function() A.set_grad_enabled("yes") end, "autograd.set_grad_enabled: flag must be true or false, got \"yes\"" },
  { function() A.grad("x", {}) end, "autograd.grad: the first argument must be a function, a tensor or a non-empty list of tensors, got \"x\"" },
  { function() A.grad(f, {}) end, "autograd.grad: inputs must be a tensor or a non-empty list of tensors, got an empty table" },
  { function() A.grad(f, nil) end, "autograd.grad: inputs must be a tensor or a non-empty list of tensors, got nil" },
  { function() A.grad(f, x, { create_grpah = true }) end, "autograd.grad: unknown option \"create_grpah\" (did you mean 'create_graph'?)" },
  { function() A.grad(f, { x, 3 }) end, "autograd.grad: inputs[2] must be a tensor, got 3" },
  { function() A.grad(f, i64) end, "autograd.grad: input 1 has dtype i64; only floating-point tensors can be differentiated" },
  { function() A.grad(function() return "s" end, x) end, "autograd.grad: f must return a tensor or a number, got \"s\"" },
  { function() A.grad(xt:sum(), xt, { allow_unsed = true }) end, "autograd.grad: unknown option \"allow_unsed\" (did you mean 'allow_unused'?)" },
  { function() A.grad({}, xt) end, "autograd.grad: the first argument must be a function, a tensor or a non-empty list of tensors, got a table" },
  { function() A.grad(3, xt) end, "autograd.grad: the output is a Lua number, not a tensor that requires grad (a full reduction of tensors that do not require grad gives a number; call x:requires_grad_() on the inputs before computing it)" },
  { function() A.grad(xt:sum(), x) end, "autograd.grad: input 1 does not require grad" },
  { function() A.value_and_grad(3) end, "autograd.value_and_grad: f must be a function, got 3" },
  { function() A.Function(3) end, "autograd.Function: expected {forward = fn, backward = fn}, got 3" },
  { function() A.Function({ forward = f, backward = f, nmae = "x" }) end, "autograd.Function: unknown option \"nmae\" (did you mean 'name'?)" },
  { function() A.Function({ forward = f }) end, "autograd.Function: backward must be a function, got nil" },
  { function() A.unbroadcast(3, x) end, "autograd.unbroadcast: g must be a tensor, got 3" },
  { function() A.gradcheck(3, x) end, "autograd.gradcheck: f must be a function, got 3" },
  { function() A.gradcheck(f, {}) end, "autograd.gradcheck: inputs must be a tensor or a non-empty list of tensors, got an empty table" },
  { function() A.gradcheck(f, x, { esp = 1 }) end, "autograd.gradcheck: unknown option \"esp\" (did you mean 'eps'?)" },
  { function() A.gradcheck(f, x, { eps = 0 }) end, "autograd.gradcheck: eps must be a number > 0, got 0" },
  { function() A.gradcheck(f, x, { eps = nan }) end, "autograd.gradcheck: eps must be a number > 0, got nan" },
  { function() A.gradcheck(f, x, { atol = -1 }) end, "autograd.gradcheck: atol must be a number >= 0, got -1" },
  { function() A.gradcheck(f, x, { seed = 1.5 }) end, "autograd.gradcheck: seed must be an integer, got 1.5" },
  { function() A.gradcheck(f, T.ones(2, { dtype = "f32" })) end, "autograd.gradcheck: input 1 must be an f64 tensor (or c128: finite differences in lower precision are too coarse), got f32" },
  { function() A.gradcheck(function() return "s" end, x) end, "autograd.gradcheck: f must return a tensor or a number, got \"s\"" },
  { function() A.gradgradcheck(f, 5) end, "autograd.gradgradcheck: inputs must be a tensor or a non-empty list of tensors, got 5" },
  { function() A.gradgradcheck(f, x, { sed = 1 }) end, "autograd.gradgradcheck: unknown option \"sed\" (did you mean 'seed'?)" },
  { function() A.hvp(f, x, T.ones(3)) end, "autograd.hvp: v must be a tensor of 2 elements (shaped like x), got f64 tensor of shape {3}" },
  { function() A.hvp(f, 3, x) end, "autograd.hvp: x must be a tensor, got 3" },
  { function() A.hvp(nil, x, x) end, "autograd.hvp: f must be a function, got nil" },
  { function() A.hvp(f, i64, x) end, "autograd.hvp: x must be a floating-point tensor, got dtype i64" },
  { function() A.laplacian(f, x, { samples = 1, method = "hutchinson" }) end, "autograd.laplacian: samples must be an integer >= 2, got 1" },
  { function() A.laplacian(f, x, { sample = 10 }) end, "autograd.laplacian: unknown option \"sample\" (did you mean 'samples'?)" },
  { function() A.laplacian(f, x, { method = "hutchinson", samples = 1e300 }) end, "autograd.laplacian: samples must be an integer >= 2, got 1e+300" },
  { function() A.laplacian(f, x, { method = "hutchinson", seed = nan }) end, "autograd.laplacian: seed must be an integer, got nan" },
  { function() A.laplacian(f, x, { method = "bogus" }) end, "autograd.laplacian: method must be \"exact\" or \"hutchinson\", got \"bogus\"" },
  { function() A.jacobian(f, "x") end, "autograd.jacobian: x must be a tensor, got \"x\"" },
  { function() A.jacobian(function() return 3 end, x) end, "autograd.jacobian: f must return a tensor, got 3" },
  { function() x:requires_grad_("yes") end, "requires_grad_: flag must be true or false, got \"yes\"" },
  { function() i64:requires_grad_() end, "requires_grad_: only floating-point tensors can require grad (got i64)" },
  { function() xt:sum():backward({ retain_grpah = true }) end, "backward: unknown option \"retain_grpah\" (did you mean 'retain_graph'?)" },
  { function() xt:sum():backward(3) end, "backward: the gradient must be a tensor of shape {}, got 3" },
  { function() (x * 2):sum():backward() end, "backward: this is a Lua number, not a tensor: a full reduction of tensors that do not require grad gives a number.  Call x:requires_grad_() on the inputs before computing it, or use autograd.grad(f, x)" },
  { function() (x * 2):backward() end, "backward: the tensor does not require grad (nothing it was computed from requires grad)" },
  { function() (xt * 2):backward() end, "backward: a gradient is needed for a result of shape {2} (only one-element results get 1 by default)" },
  { function() x:retain_grad() end, "retain_grad: the tensor does not require grad" },
  { function() xt.grad = 3 end, "x.grad must be a tensor or nil, got 3" },
  { function() xt.grad = T.ones(3) end, "x.grad: gradient of shape {3} for a tensor of shape {2}" },
  { function() x.grad = T.ones(2) end, "x.grad: the tensor does not require grad (call x:requires_grad_())" },
  { function() local y = xt * 2; y:sum():backward(); y:sum():backward() end, "autograd: backward through 'mul' a second time: its saved values were freed (pass {retain_graph = true} to the first backward)" },
  { function() local y = T.ones(2):requires_grad_(); y:add_(1) end, "autograd: 'add_' would modify in place a leaf tensor that requires grad; do it inside autograd.no_grad" },
})

check.done()
